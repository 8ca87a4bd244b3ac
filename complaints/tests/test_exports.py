"""CSV and XLSX exports: content, Chinese text, formula injection, access, audit."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from complaints import workflow
from complaints.models import Customer, ExportRecord, RootCauseCategory

from . import flows
from .factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db

EXPORT = reverse("complaints:export_root_causes")
INJECTIONS = ["=1+1", "@SUM(A1)", "-2+3", "+cmd"]


@pytest.fixture
def data(agent):
    """Four closed-ish cases whose customers and SKUs try formula injection."""
    cases = []
    for payload in INJECTIONS:
        customer = CustomerFactory(buyer_id=f"{payload}买家")
        case = flows.root_cause(agent, OrderFactory(customer=customer), amount=Decimal("12"))
        cases.append(
            workflow.case_record_root_cause(
                case=case, actor=agent,
                root_cause=RootCauseCategory.objects.get(code="colour_difference"),
                sku=payload, courier="中通快递",
            )
        )  # fmt: skip
    return cases


def period():
    today = timezone.localdate().isoformat()
    return {"start": today, "end": today}


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def read_csv(response):
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())  # Excel reads UTF-8 with a BOM
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_case_rows_as_csv(admin_client, admin_user, data):
    response = admin_client.get(EXPORT, {**period(), "format": "csv", "cases": "1"})
    assert response.status_code == 200 and response.streaming
    rows = read_csv(response)
    assert rows[0][:3] == ["case", "opened", "closed"]
    assert len(rows) == 1 + 4
    customers = {row[6] for row in rows[1:]}
    assert customers == {f"'{payload}买家" for payload in INJECTIONS}  # text, not formulas
    assert {row[9] for row in rows[1:]} == {"voucher"} and {row[10] for row in rows[1:]} == {
        "12.00"
    }
    record = ExportRecord.objects.get()
    assert (record.user, record.kind, record.file_format, record.row_count) == (
        admin_user,
        "cases",
        "csv",
        4,
    )
    assert record.filters["start"] == period()["start"]


def test_statistics_grouped_by_sku_neutralise_injection(admin_client, data):
    rows = read_csv(admin_client.get(EXPORT, {**period(), "format": "csv", "group_by": "sku"}))
    assert rows[0] == ["key", "name", "cases", "share", "cumulative_share", "compensation"]
    assert sorted(row[0] for row in rows[1:]) == sorted(f"'{p}" for p in INJECTIONS)
    by_courier = read_csv(
        admin_client.get(EXPORT, {**period(), "format": "csv", "group_by": "courier"})
    )
    assert by_courier[1][:3] == ["中通快递", "中通快递", "4"]  # Chinese intact


def test_xlsx_cells_are_strings_never_formulas(admin_client, data):
    response = admin_client.get(EXPORT, {**period(), "format": "xlsx", "cases": "1"})
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook.active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "case" and len(rows) == 5
    customers = [row[6] for row in rows[1:]]
    assert sorted(customers) == sorted(f"'{payload}买家" for payload in INJECTIONS)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type in ("s", "n"), (cell.coordinate, cell.data_type)
            assert not str(cell.value or "").startswith("=")


def test_agents_and_supervisors_cannot_export(client, agent, supervisor, data):
    for user in (agent, supervisor):
        client.force_login(user)
        assert client.get(EXPORT, {**period(), "format": "csv"}).status_code == 403
    assert not ExportRecord.objects.exists()


def test_bad_export_parameters_are_a_400(admin_client):
    assert admin_client.get(EXPORT, {"format": "csv"}).status_code == 400
    assert admin_client.get(EXPORT, {**period(), "format": "pdf"}).status_code == 400
    assert admin_client.get(EXPORT, {**period(), "group_by": "colour"}).status_code == 400


def test_the_command_line_export(data, tmp_path, capsys):
    today = period()["start"]
    call_command("export_rootcauses", "--from", today, "--to", today, "--group-by", "leaf")
    out = capsys.readouterr().out
    assert out.startswith("\ufeffkey,name,cases")
    assert "colour_difference,Colour difference,4,1.0000,1.0000,48.00" in out
    target = tmp_path / "cases.xlsx"
    call_command(
        "export_rootcauses",
        "--from",
        today,
        "--to",
        today,
        "--cases",
        "--format",
        "xlsx",
        "--output",
        str(target),
    )
    assert "4 rows written" in capsys.readouterr().err
    sheet = load_workbook(target).active
    assert sheet.max_row == 5
    assert ExportRecord.objects.filter(user=None).count() == 2
    assert Customer.objects.count() == 4


def test_case_csv_cells_exactly(admin_client, agent, tmp_path):
    """The case CSV byte for byte: quoting, formula cells, empty cells, the
    shop's wall-clock time. PostgreSQL writes it with COPY, SQLite in Python;
    both must give these bytes."""
    from datetime import UTC, datetime

    from complaints.models import Case

    buyers = ['a,b "c"', "line\nbreak", "\ttab", "+86 138", "普通买家"]
    cases = []
    for number, buyer in enumerate(buyers):
        order = OrderFactory(number=f"=HYPERLINK({number})" if number == 0 else f"TB-{number}",
                             customer=CustomerFactory(buyer_id=buyer))  # fmt: skip
        case = flows.root_cause(agent, order, amount=Decimal("12.5"))
        cases.append(
            workflow.case_record_root_cause(
                case=case, actor=agent,
                root_cause=RootCauseCategory.objects.get(code="colour_difference"),
            )
        )  # fmt: skip
    # 16:30:15.9 UTC is 00:30:15 the next day in Asia/Shanghai (seconds cut, not rounded).
    opened = datetime(2026, 3, 1, 16, 30, 15, 900000, tzinfo=UTC)
    Case.objects.filter(pk__in=[c.pk for c in cases]).update(created_at=opened)
    Case.objects.filter(pk=cases[0].pk).update(closed_at=opened, customer_satisfied=False)
    Case.objects.filter(pk=cases[1].pk).update(customer_satisfied=None, satisfaction_score=None)
    response = admin_client.get(
        EXPORT, {"start": "2026-03-01", "end": "2026-03-03", "format": "csv", "cases": "1"}
    )
    body = b"".join(response.streaming_content).decode()

    lines = [
        "\ufeffcase,opened,closed,state,source,order,customer,category,root_cause,"
        "remedy,compensation,satisfaction,satisfied"
    ]
    expected_cells = {
        0: ("2026-03-02 00:30:15", "'=HYPERLINK(0)", '"a,b ""c"""', "5", "no"),
        1: ("", "TB-1", '"line\nbreak"', "", ""),
        2: ("", "TB-2", "'\ttab", "5", "yes"),
        3: ("", "TB-3", "'+86 138", "5", "yes"),
        4: ("", "TB-4", "普通买家", "5", "yes"),
    }
    for index, case in enumerate(sorted(cases, key=lambda c: c.pk)):
        closed, order, customer, score, satisfied = expected_cells[index]
        lines.append(
            f"{case.number},2026-03-02 00:30:15,{closed},{case.state},{case.source},{order},"
            f"{customer},{case.category.code},colour_difference,voucher,12.50,{score},{satisfied}"
        )
    assert body == "\n".join(lines) + "\n"

    # The command line writes the same bytes, and its progress bar counts the rows.
    target = tmp_path / "cases.csv"
    args = ["--from", "2026-03-01", "--to", "2026-03-03", "--cases", "--output", str(target)]
    call_command("export_rootcauses", *args, "--no-progress")
    assert target.read_text(encoding="utf-8") == body


def test_the_progress_bar_counts_csv_lines():
    from io import StringIO

    from tqdm import tqdm

    from complaints.management.commands.export_rootcauses import _counted_lines

    bar = tqdm(total=3, file=StringIO())
    chunks = ["\ufeffcase,opened\n", "CS-1,x\nCS-", "2,y\n", "CS-3,z\n"]
    assert list(_counted_lines(iter(chunks), bar)) == chunks
    assert bar.n == 3

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

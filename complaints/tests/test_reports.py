"""The root-cause report: numbers against hand counts, drill-down, access."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from complaints import workflow
from complaints.models import RootCauseCategory

from . import flows
from .factories import OrderFactory

pytestmark = pytest.mark.django_db

REPORT = reverse("complaints:root_causes")


def with_cause(agent, code, *, sku="S1", courier="中通", supplier="甲厂", amount="10"):
    case = flows.root_cause(agent, OrderFactory(), amount=Decimal(amount))
    return workflow.case_record_root_cause(
        case=case,
        actor=agent,
        root_cause=RootCauseCategory.objects.get(code=code),
        sku=sku,
        courier=courier,
        supplier=supplier,
    )


@pytest.fixture
def ten_cases(agent):
    """5 colour, 3 defect (product: 8), 2 lost parcel (logistics: 2)."""
    cases = [with_cause(agent, "colour_difference", sku="DRESS") for _ in range(5)]
    cases += [with_cause(agent, "defect", sku="TEE", amount="20") for _ in range(3)]
    cases += [with_cause(agent, "lost_parcel", courier="圆通", supplier="") for _ in range(2)]
    return cases


def section(response, chart_id):
    return next(s for s in response.context["sections"] if s["id"] == chart_id)


def test_pareto_matches_the_hand_counts(client, supervisor, ten_cases):
    client.force_login(supervisor)
    response = client.get(REPORT)
    assert response.context["total"] == 10
    leaves = [row for row, _url in section(response, "pareto-leaf")["rows"]]
    assert [(r.key, r.count) for r in leaves] == [
        ("colour_difference", 5),
        ("defect", 3),
        ("lost_parcel", 2),
    ]
    assert [round(r.share, 2) for r in leaves] == [0.5, 0.3, 0.2]
    assert [round(r.cumulative, 2) for r in leaves] == [0.5, 0.8, 1.0]
    assert [r.cost for r in leaves] == [Decimal("50"), Decimal("60"), Decimal("20")]
    groups = [row for row, _url in section(response, "pareto-group")["rows"]]
    assert [(r.key, r.count) for r in groups] == [("product", 8), ("logistics", 2)]
    skus = [(row.key, row.count) for row, _url in section(response, "top-sku")["rows"]]
    assert skus == [("DRESS", 5), ("TEE", 3), ("S1", 2)]
    couriers = [(row.key, row.count) for row, _ in section(response, "top-courier")["rows"]]
    assert couriers == [("中通", 8), ("圆通", 2)]
    suppliers = [(row.key, row.count) for row, _ in section(response, "top-supplier")["rows"]]
    assert suppliers == [("甲厂", 8)]  # blank suppliers are not a supplier
    trend = response.context["trend"]
    this_month = timezone.localdate().strftime("%Y-%m")
    assert trend["labels"][-1] == this_month
    by_group = {d["label"]: d["data"][-1] for d in trend["datasets"]}
    assert by_group == {"Product": 8, "Promotion and fees": 0, "Logistics": 2, "Service": 0}
    html = response.content.decode()
    assert 'id="pareto-leaf"' in html and 'id="trend-data"' in html  # the charts' data
    assert "50%" in html and "80%" in html


def test_filters_narrow_the_report(client, supervisor, ten_cases):
    client.force_login(supervisor)
    logistics = RootCauseCategory.objects.get(code="logistics")
    response = client.get(REPORT, {"category": logistics.pk})
    assert response.context["total"] == 2
    assert client.get(REPORT, {"sku": "tee"}).context["total"] == 3
    assert client.get(REPORT, {"courier": "圆通"}).context["total"] == 2


def test_a_bar_drills_down_to_its_cases(client, supervisor, ten_cases):
    client.force_login(supervisor)
    response = client.get(REPORT)
    rows = section(response, "pareto-leaf")["rows"]
    _row, url = next((row, url) for row, url in rows if row.key == "defect")
    listed = client.get(url)
    assert listed.status_code == 200
    numbers = {row["number"] for row in listed.context["page"]}
    assert numbers == {c.number for c in ten_cases if c.root_cause.code == "defect"}
    assert section(response, "pareto-leaf")["data"][1]["url"] == url  # the chart's click


def test_an_empty_period_shows_an_empty_state(client, supervisor, ten_cases):
    client.force_login(supervisor)
    long_ago = timezone.localdate() - timedelta(days=400)
    response = client.get(
        REPORT, {"start": long_ago.isoformat(), "end": (long_ago + timedelta(days=10)).isoformat()}
    )
    assert response.status_code == 200
    assert 'id="empty-report"' in response.content.decode()


def test_a_bad_period_is_a_form_error(client, supervisor):
    client.force_login(supervisor)
    response = client.get(REPORT, {"start": "2026-05-01", "end": "2026-04-01"})
    assert response.status_code == 400
    assert "The period ends before it starts." in response.content.decode()


@pytest.mark.parametrize("start", ["0001-01-01", "9999-12-31"])
def test_a_date_out_of_range_is_a_form_error_not_a_crash(client, supervisor, start):
    # Found by the API's schemathesis run: year 1 overflowed the time zone
    # conversion of the period's start (a 500 on this page too).
    client.force_login(supervisor)
    response = client.get(REPORT, {"start": start, "end": "2026-04-01"})
    assert response.status_code == 400
    assert "Choose a date between 2000 and 2999." in response.content.decode()
    export = client.get(REPORT + "export/", {"start": start, "end": "2026-04-01"})
    assert export.status_code in (400, 403)


def test_agents_cannot_read_reports(client, agent):
    client.force_login(agent)
    assert client.get(REPORT).status_code == 403


def test_report_query_count_does_not_grow_with_the_cases(client, supervisor, agent):
    client.force_login(supervisor)
    with_cause(agent, "defect")
    with CaptureQueriesContext(connection) as few:
        client.get(REPORT)
    for code in ("colour_difference", "lost_parcel", "material", "defect", "slow_delivery"):
        with_cause(agent, code, sku=code.upper(), courier=code, supplier=code)
    with CaptureQueriesContext(connection) as many:
        client.get(REPORT)
    assert len(many) == len(few), (len(few), len(many))
    assert len(many) <= 18, len(many)  # the navigation counts reviews per rating


def test_open_corrective_actions_are_listed_until_done(client, supervisor, agent):
    case = flows.root_cause(agent, OrderFactory())
    case = workflow.case_record_root_cause(
        case=case,
        actor=agent,
        root_cause=RootCauseCategory.objects.get(code="defect"),
        corrective_action="和供应商一起加强质检",
    )
    client.force_login(supervisor)
    html = client.get(REPORT).content.decode()
    assert 'id="corrective-table"' in html and "和供应商一起加强质检" in html
    done = reverse("complaints:corrective_done", args=[case.number])
    client.force_login(agent)
    assert client.post(done).status_code == 403  # agents may not
    case.refresh_from_db()
    assert case.corrective_action_done_at is None
    client.force_login(supervisor)
    assert client.post(done).status_code == 302
    case.refresh_from_db()
    assert case.corrective_action_done_at is not None
    assert "和供应商一起加强质检" not in client.get(REPORT).content.decode()
    assert case.events.filter(kind="corrective_done", actor=supervisor).count() == 1


def test_a_corrective_action_is_done_once(client, supervisor, agent):
    case = workflow.case_record_root_cause(
        case=flows.root_cause(agent, OrderFactory()),
        actor=agent,
        root_cause=RootCauseCategory.objects.get(code="defect"),
        corrective_action="换供应商",
    )
    done = reverse("complaints:corrective_done", args=[case.number])
    client.force_login(supervisor)
    client.post(done)
    again = client.post(done, follow=True)
    assert "already done" in again.content.decode()
    assert case.events.filter(kind="corrective_done").count() == 1
    assert client.get(done).status_code == 405


@pytest.mark.usefixtures("reference_data")
def test_the_groups_add_up_from_the_leaves_as_sql_counts_them(client, supervisor):
    """The groups' Pareto is added up from the leaves' rows, not read in a
    second pass over the period's cases (at 1M cases, 90 days: 250 ms of
    1.36 s): the same rows, shares and costs as SQL's own grouping."""
    from django.core.management import call_command

    from complaints.queries.reports import pareto, pareto_groups, report_cases

    call_command("generate_data", cases=300, agents=3, closed=0.9, no_progress=True)
    today = timezone.localdate()
    cases = report_cases(start=today - timedelta(days=800), end=today)
    by_sql = pareto(cases, level="group")
    assert len(by_sql) > 2 and sum(row.count for row in by_sql) > 100
    assert pareto_groups(pareto(cases, level="leaf")) == by_sql
    client.force_login(supervisor)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(REPORT, {"start": (today - timedelta(days=800)).isoformat()})
    shown = [row for row, _url in section(response, "pareto-group")["rows"]]
    assert shown == by_sql
    assert not [q for q in captured if '"root_cause__parent__id"' in q["sql"]]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("reference_data")
def test_open_corrective_actions_are_read_from_their_own_index(agent):
    """The few corrective actions written down and not yet done have a
    partial index (migration 0031), so the report does not read every case
    of its period to find them (at 1M cases, 90 days: 135 ms). PostgreSQL's
    plan is checked with sequential scans ruled out; SQLite, the answer."""
    from complaints.models import Case
    from complaints.queries.reports import open_corrective_actions, report_cases

    from .plans import explain_without_seqscan

    cases = [with_cause(agent, "defect") for _ in range(3)]
    Case.objects.filter(pk=cases[0].pk).update(corrective_action="换供应商")
    Case.objects.filter(pk=cases[1].pk).update(
        corrective_action="改包装", corrective_action_done_at=timezone.now()
    )
    today = timezone.localdate()
    period = report_cases(start=today - timedelta(days=89), end=today)
    with CaptureQueriesContext(connection) as captured:
        assert [c.pk for c in open_corrective_actions(period)] == [cases[0].pk]
    if connection.vendor != "postgresql":
        return
    (sql,) = [q["sql"] for q in captured]
    plan = explain_without_seqscan(sql, (), "enable_bitmapscan = off")
    assert "case_corrective_open" in plan, plan


def test_the_reports_counts_of_a_period_are_read_from_one_index(client, agent, supervisor):
    """The report's counts and costs of its period (per cause, the top
    SKUs, couriers and suppliers, per month) read only the cases whose cause
    is recorded, from case_root_cause_report alone: every column they name
    is in it (at 1M cases, 90 days: 930 -> 240 ms for the page). PostgreSQL's
    plan is checked with that index the only one it may use (plans.py)."""
    from .plans import plan_with_only

    with_cause(agent, "defect")
    with_cause(agent, "colour_difference", sku="S2", courier="顺丰", supplier="乙厂")
    client.force_login(supervisor)
    with CaptureQueriesContext(connection) as captured:
        page = client.get(REPORT)
    assert page.status_code == 200
    period = [
        q["sql"]
        for q in captured
        if 'FROM "complaints_case"' in q["sql"]
        and '"complaints_case"."root_cause_id" IS NOT NULL' in q["sql"]
        and "GROUP BY" in q["sql"]
    ]
    assert len(period) == 5, period  # causes, SKUs, couriers, suppliers, months
    if connection.vendor != "postgresql":
        return
    for sql in period:
        plan = plan_with_only("case_root_cause_report", "complaints_case", sql)
        assert "Index Only Scan using case_root_cause_report" in plan, plan


def test_a_group_in_the_report_is_its_own_and_its_leaves_keys(supervisor, ten_cases):
    """The report's category filter means what the queues' does: a group
    stands for its leaves, asked as a list of keys
    (RootCauseCategory.keys_covered), not as a join on the categories."""
    from complaints.queries.reports import report_cases

    logistics = RootCauseCategory.objects.get(code="logistics")
    today = timezone.localdate()
    cases = report_cases(start=today - timedelta(days=89), end=today, category=logistics)
    assert cases.count() == 2
    assert "complaints_rootcausecategory" not in str(cases.query)
    assert set(cases.values_list("root_cause__parent", flat=True)) == {logistics.pk}

"""The supervisors' deadline board, the clocks on the case page, and each
user's e-mail setting for notifications."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from complaints import workflow
from complaints.models import Notification, NotificationSettings, SlaPolicy

from . import flows
from .factories import OrderFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
OPENED = datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)
BOARD = reverse("complaints:deadlines")


@pytest.fixture
def board(agent, agent2, db):
    """At OPENED + 55 min: one case breached, one at risk, one waiting, one fine."""
    SlaPolicy.objects.filter(active=True).update(active=False)
    SlaPolicy.objects.create(
        name="Hourly", first_response_time=timedelta(hours=1), resolution_time=timedelta(hours=10)
    )
    with time_machine.travel(OPENED - timedelta(minutes=10), tick=False):
        breached = flows.opened(agent, OrderFactory(), summary="breached")
    with time_machine.travel(OPENED, tick=False):
        at_risk = flows.opened(agent2, OrderFactory(), summary="at risk")
        waiting = flows.opened(agent, OrderFactory(), summary="waiting")
        workflow.case_record_contact(
            case=waiting, actor=agent, channel="phone", outcome="waiting_on_customer"
        )
    with time_machine.travel(OPENED + timedelta(minutes=30), tick=False):
        fine = flows.opened(agent, OrderFactory(), summary="fine")
    return {"breached": breached, "at_risk": at_risk, "waiting": waiting, "fine": fine}


def numbers(response):
    return [case.number for case in response.context["page"]]


@time_machine.travel(OPENED + timedelta(minutes=55), tick=False)
def test_the_board_lists_breached_then_at_risk(client, supervisor, board):
    client.force_login(supervisor)
    response = client.get(BOARD)
    assert response.status_code == 200
    assert numbers(response) == [board["breached"].number, board["at_risk"].number]
    summary = response.context["summary"]
    assert (summary.breached, summary.at_risk, summary.waiting) == (1, 1, 1)
    html = response.content.decode()
    assert 'data-clock-state="breached"' in html and 'data-clock-state="at_risk"' in html


@time_machine.travel(OPENED + timedelta(minutes=55), tick=False)
@pytest.mark.parametrize(
    ("status", "expected"),
    [("breached", ["breached"]), ("at_risk", ["at_risk"]), ("waiting", ["waiting"])],
)
def test_the_board_filters_by_status(client, supervisor, board, status, expected):
    client.force_login(supervisor)
    response = client.get(BOARD, {"status": status})
    assert numbers(response) == [board[name].number for name in expected]
    assert response.context["page"].paginator.count == len(expected)


@time_machine.travel(OPENED + timedelta(minutes=55), tick=False)
@pytest.mark.parametrize("status", ["", "breached", "at_risk", "waiting"])
def test_the_board_counts_its_cases_once(client, supervisor, agent, board, status):
    """The pager's count is the summary's, not a second pass over the open
    cases (at 1M cases: 99 ms of the board's 239). A case breached on one
    clock and at risk on the other counts once, as breached."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from complaints.models import Case

    # The "at risk" case's first response now breached, its resolution at risk:
    Case.objects.filter(pk=board["at_risk"].pk).update(
        first_response_due=OPENED + timedelta(minutes=50),
        resolution_warn_at=OPENED + timedelta(minutes=54),
        resolution_due=OPENED + timedelta(minutes=70),
    )
    expected = {"": 2, "breached": 2, "at_risk": 0, "waiting": 1}[status]

    client.force_login(supervisor)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(BOARD, {"status": status})
    page = response.context["page"]
    assert page.paginator.count == len(page.object_list) == expected
    counts = [
        q["sql"] for q in captured if 'FROM "complaints_case"' in q["sql"] and "COUNT(" in q["sql"]
    ]
    with pytest.raises(ValueError):
        response.context["summary"].count("<script>")  # as deadline_cases refuses it
    assert len(counts) == 1, counts


def test_the_board_refuses_an_unknown_status(client, supervisor):
    client.force_login(supervisor)
    response = client.get(BOARD, {"status": "<script>"})
    assert response.status_code == 400
    assert "Unknown status." in response.content.decode()
    assert "<script>" not in response.content.decode()


def test_the_board_is_for_supervisors(client, agent):
    assert client.get(BOARD).status_code == 302  # to the login page
    client.force_login(agent)
    assert client.get(BOARD).status_code == 403


@time_machine.travel(OPENED + timedelta(minutes=55), tick=False)
def test_the_board_runs_the_same_queries_for_more_rows(
    client, supervisor, agent, board, django_assert_max_num_queries
):
    client.force_login(supervisor)
    client.get(BOARD)
    with django_assert_max_num_queries(12) as few:
        client.get(BOARD)
    with time_machine.travel(OPENED - timedelta(minutes=30), tick=False):
        for _ in range(5):
            flows.opened(agent, OrderFactory())
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(BOARD)
    assert len(response.context["page"]) == 7


@time_machine.travel(OPENED + timedelta(minutes=55), tick=False)
def test_the_case_page_shows_the_clocks(client, agent, board):
    client.force_login(agent)
    html = client.get(board["waiting"].get_absolute_url()).content.decode()
    assert "waiting on the customer since 2026-11-24 10:00" in html
    assert "Hourly" in html  # the policy in force
    html = client.get(board["breached"].get_absolute_url()).content.decode()
    assert "overdue by" in html


def test_turning_e_mail_off_and_on(client, agent):
    client.force_login(agent)
    url = reverse("complaints:notification_settings")
    page = client.get(reverse("complaints:notifications")).content.decode()
    assert "Stop e-mails" in page
    response = client.post(url, {"email": "off"}, follow=True)
    assert "no longer come by e-mail" in response.content.decode()
    assert NotificationSettings.wants_email(agent) is False
    client.post(url, {"email": "on"})
    assert NotificationSettings.wants_email(agent) is True
    assert NotificationSettings.objects.filter(user=agent).count() == 1


def test_the_e_mail_setting_refuses_nonsense_and_strangers(client, agent):
    url = reverse("complaints:notification_settings")
    assert client.post(url, {"email": "off"}).status_code == 302  # login first
    assert not NotificationSettings.objects.exists()
    client.force_login(agent)
    assert client.post(url, {"email": "maybe"}).status_code == 400
    assert client.get(url).status_code == 405
    assert not NotificationSettings.objects.exists()


def test_marking_a_notification_read_refuses_a_bad_id(client, agent):
    note = Notification.objects.create(recipient=agent, kind="deadline", message="x")
    client.force_login(agent)
    url = reverse("complaints:notifications_read")
    assert client.post(url, {"id": "abc"}).status_code == 400
    note.refresh_from_db()
    assert note.read_at is None
    response = client.post(url, {"id": str(note.pk), "next": "https://elsewhere.example/"})
    assert response["Location"] == reverse("complaints:notifications")  # not off-site
    note.refresh_from_db()
    assert note.read_at is not None


def test_the_clock_index_holds_every_clock():
    """case_open_clocks must hold every column the board's summary reads: a
    clock added to sla.CLOCK_FIELDS without it would send the board back to
    reading every open case."""
    from complaints import sla
    from complaints.models import Case

    (index,) = [i for i in Case._meta.indexes if i.name == "case_open_clocks"]
    columns = {column for fields in sla.CLOCK_FIELDS.values() for column in fields}
    assert columns <= set(index.fields), columns - set(index.fields)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("reference_data")
def test_the_board_summary_is_read_from_the_clock_index():
    """The summary counts breached, at-risk and waiting cases over all open
    cases; from case_open_clocks alone (at 100k cases 22 -> 4 ms), checked
    on PostgreSQL with that index the only one it may use."""
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from complaints.queries.deadlines import deadline_summary

    from .plans import plan_with_only

    call_command("generate_data", cases=300, agents=2, closed=0.5, no_progress=True)
    with CaptureQueriesContext(connection) as captured:
        summary = deadline_summary()
    assert summary.breached + summary.at_risk + summary.waiting > 0
    if connection.vendor != "postgresql":
        return
    (sql,) = [q["sql"] for q in captured]
    plan = plan_with_only("case_open_clocks", "complaints_case", sql)
    assert "Index Only Scan using case_open_clocks" in plan, plan

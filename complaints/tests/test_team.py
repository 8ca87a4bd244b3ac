"""The team dashboard, bulk actions on the queue and notifications."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from complaints import workflow
from complaints.models import OPEN_STATES, Case, CaseEvent, Notification
from complaints.queries import team_overview

from . import flows
from .factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

TEAM = reverse("complaints:team")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_dashboard_counts_open_cases_per_state_and_agent(client, agent, agent2, supervisor):
    flows.opened(agent, OrderFactory())
    flows.analyzing(agent, OrderFactory())
    late = flows.analyzing(agent2, OrderFactory())
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Case.objects.filter(pk=late.pk).update(resolution_due=an_hour_ago, due_at=an_hour_ago)
    waiting = flows.analyzing(agent2, OrderFactory())
    workflow.offer_propose(case=waiting, actor=agent2, kind="voucher", amount="90")
    workflow.case_assign(case=flows.opened(agent, OrderFactory()), assignee=None, actor=supervisor)
    flows.closed(agent, OrderFactory())
    client.force_login(supervisor)
    response = client.get(TEAM)
    team = response.context["team"]
    states = {state: count for state, _label, count in team.states}
    assert states["confirming"] == 2 and states["analyzing"] == 3
    loads = {load.agent.username: load for load in team.agents}
    assert loads["agent_a"].open_total == 2 and loads["agent_b"].open_total == 2
    assert loads["agent_b"].overdue == 1
    assert loads["agent_b"].waiting_approval == 1
    assert loads["agent_a"].closed_recently == 1
    assert team.unassigned == 1
    html = response.content.decode()
    assert 'data-agent="agent_a"' in html and "1 waiting for approval" in html


def test_the_best_agent_with_the_fewest_cases_is_flagged(client, agent, agent2, supervisor):
    star = UserFactory(username="star", role="agent", first_name="星", last_name="李")
    flows.closed(star, OrderFactory())  # satisfied customer, now only one open case
    flows.opened(star, OrderFactory())
    for _ in range(3):
        flows.opened(agent, OrderFactory())
        flows.opened(agent2, OrderFactory())
    overview = team_overview()
    assert overview.imbalance.agent == star
    client.force_login(supervisor)
    html = client.get(TEAM).content.decode()
    assert 'id="imbalance"' in html and "李星 has the most satisfied customers" in html


def test_each_agents_row_shows_their_load_and_results(client, agent, agent2, supervisor):
    """The rows (built by casetags.team_rows): per agent a link to their open
    cases and to reassign them, a meter against the heaviest load, the open
    cases per state, overdue, waiting, closed and satisfied; the flagged
    agent's row stands out; names are escaped."""
    star = UserFactory(username="star", role="agent", first_name="<b>星", last_name="李")
    flows.closed(star, OrderFactory())
    flows.opened(star, OrderFactory())
    for _ in range(2):
        flows.opened(agent, OrderFactory())
    flows.analyzing(agent, OrderFactory())
    for _ in range(3):
        flows.opened(agent2, OrderFactory())
    client.force_login(supervisor)
    html = client.get(TEAM).content.decode()
    queue = reverse("complaints:queue", args=["open"])
    rows = dict(re.findall(r'<tr data-agent="([^"]+)"(.*?)</tr>', html, re.S))
    star_row, agent_row = rows["star"], rows["agent_a"]
    assert star_row.startswith(' class="table-warning">')  # the imbalance
    assert "李&lt;b&gt;星" in star_row and "<b>星" not in star_row
    assert f'href="{queue}?assignee={star.pk}">Reassign…</a>' in star_row
    assert '<meter class="w-100" min="0" max="3" value="1" aria-label="1 open cases">' in star_row
    assert "<td>100% <span" in star_row and "(1/1)</span></td>" in star_row
    cells = re.findall(r'<td class="small">(\d*)</td>', agent_row)
    assert cells == ["2", "1"] + [""] * (len(OPEN_STATES) - 2)  # confirming, analyzing
    assert f'<a href="{queue}?assignee={agent.pk}" data-open="3">3</a>' in agent_row
    assert agent_row.endswith("<td>0</td><td>0</td><td>0</td><td>—</td>")
    assert ' class="table-warning"' not in agent_row


def test_no_flag_when_the_best_agent_carries_enough(agent, agent2):
    flows.closed(agent, OrderFactory())
    for _ in range(3):
        flows.opened(agent, OrderFactory())
    flows.opened(agent2, OrderFactory())
    assert team_overview().imbalance is None


def test_only_supervisors_see_the_dashboard(client, agent):
    client.force_login(agent)
    assert client.get(TEAM).status_code == 403


def test_dashboard_query_count_does_not_grow(client, agent, supervisor):
    client.force_login(supervisor)
    flows.opened(agent, OrderFactory())
    with CaptureQueriesContext(connection) as few:
        client.get(TEAM)
    for n in range(6):
        flows.analyzing(UserFactory(username=f"extra{n}", role="agent"), OrderFactory())
    with CaptureQueriesContext(connection) as many:
        client.get(TEAM)
    assert len(many) == len(few), (len(few), len(many))


def test_the_open_cases_are_read_once(agent, agent2):
    """The counts per state add up from the per-agent rows: one pass over
    the open cases, not two (at 1M cases, 23 ms of the team page)."""
    from collections import Counter

    from complaints.models import OPEN_STATES, Case
    from complaints.queries import team_overview

    flows.opened(agent, OrderFactory())
    flows.analyzing(agent, OrderFactory())
    flows.analyzing(agent2, OrderFactory())
    flows.closed(agent2, OrderFactory())
    with CaptureQueriesContext(connection) as captured:
        overview = team_overview()
    open_reads = [
        q["sql"]
        for q in captured
        if q["sql"].split(" FROM ", 1)[-1].startswith('"complaints_case"')
        and '"complaints_case"."state" IN' in q["sql"]
    ]
    assert len(open_reads) == 1, open_reads
    expected = Counter(Case.objects.filter(state__in=OPEN_STATES).values_list("state", flat=True))
    assert {state: n for state, _label, n in overview.states if n} == dict(expected)
    assert expected["analyzing"] == 2


# Bulk actions --------------------------------------------------------------


def bulk(client, action, cases, **extra):
    return client.post(
        reverse("complaints:bulk"),
        {"action": action, "cases": [c.number for c in cases], "next": "/queue/open/", **extra},
        follow=True,
    )


def test_bulk_assign_writes_one_event_per_case(client, agent, agent2, supervisor):
    cases = [flows.opened(agent, OrderFactory()) for _ in range(3)]
    done = flows.closed(agent, OrderFactory())
    client.force_login(supervisor)
    response = bulk(client, "assign", [*cases, done], assignee=agent2.pk)
    html = response.content.decode()
    assert "3 cases changed." in html
    assert f"{done.number}:" in html  # the closed one is reported, not changed
    for case in cases:
        assert Case.objects.get(pk=case.pk).assignee == agent2
        assert CaseEvent.objects.filter(case=case, kind="assignment").count() == 1
    assert Notification.objects.filter(recipient=agent2, kind="assigned").count() == 3


@time_machine.travel(datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI), tick=False)
def test_bulk_raise_priority_one_level_each(client, agent, supervisor):
    low = flows.opened(agent, OrderFactory(), priority=1)
    urgent = flows.opened(agent, OrderFactory(), priority=4)
    client.force_login(supervisor)
    html = bulk(client, "raise", [low, urgent]).content.decode()
    assert "1 cases changed." in html and "Already urgent." in html
    low.refresh_from_db()
    assert low.priority == 2
    assert CaseEvent.objects.filter(case=low, kind="details").count() == 1
    # The clocks follow the policy for normal-priority chats.
    assert low.first_response_due - low.created_at == timedelta(minutes=10)
    assert low.resolution_due - low.created_at == timedelta(days=4)  # 48 h of 12-hour days


def test_bulk_needs_a_supervisor_and_a_selection(client, agent, supervisor):
    case = flows.opened(agent, OrderFactory())
    client.force_login(agent)
    response = client.post(reverse("complaints:bulk"), {"action": "raise", "cases": [case.number]})
    assert response.status_code == 403
    client.force_login(supervisor)
    assert "Select at least one case." in bulk(client, "raise", []).content.decode()


def test_the_queue_offers_bulk_actions_to_supervisors_only(client, agent, supervisor):
    flows.opened(agent, OrderFactory())
    client.force_login(agent)
    assert 'id="bulk-form"' not in client.get("/queue/mine/").content.decode()
    client.force_login(supervisor)
    assert 'id="bulk-form"' in client.get("/queue/open/").content.decode()


# Notifications --------------------------------------------------------------


def test_notifications_list_unread_count_and_mark_read(client, agent, supervisor):
    offer = workflow.offer_propose(
        case=flows.analyzing(agent, OrderFactory()), actor=agent, kind="voucher", amount="60"
    )
    workflow.offer_reject(offer=offer, actor=supervisor, note="太多了")
    client.force_login(agent)
    html = client.get("/queue/mine/").content.decode()
    assert '<span class="badge text-bg-danger" id="unread-count">1</span>' in html
    page = client.get(reverse("complaints:notifications")).content.decode()
    assert "was rejected by" in page and "太多了" in page
    note = Notification.objects.get(recipient=agent)
    client.post(reverse("complaints:notifications_read"), {"id": note.pk})
    assert Notification.objects.get(pk=note.pk).read_at is not None
    assert 'id="unread-count"' not in client.get("/queue/mine/").content.decode()


def test_nobody_reads_someone_elses_notifications(client, agent, agent2, supervisor):
    offer = workflow.offer_propose(
        case=flows.analyzing(agent, OrderFactory()), actor=agent, kind="voucher", amount="60"
    )
    workflow.offer_approve(offer=offer, actor=supervisor)
    note = Notification.objects.get(recipient=agent)
    client.force_login(agent2)
    assert "was approved" not in client.get(reverse("complaints:notifications")).content.decode()
    client.post(reverse("complaints:notifications_read"), {"id": note.pk})
    assert Notification.objects.get(pk=note.pk).read_at is None


def test_a_rolled_back_decision_notifies_nobody(
    agent, supervisor, mailoutbox, django_capture_on_commit_callbacks
):
    from django.db import transaction

    offer = workflow.offer_propose(
        case=flows.analyzing(agent, OrderFactory()), actor=agent, kind="voucher", amount="60"
    )
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                workflow.offer_approve(offer=offer, actor=supervisor)
                raise RuntimeError("the request failed afterwards")
        except RuntimeError:
            pass
    assert not Notification.objects.exists()
    assert mailoutbox == []


def test_notifications_need_a_login_and_list_in_fixed_queries(client, agent, supervisor):
    url = reverse("complaints:notifications")
    assert client.get(url).status_code == 302
    client.force_login(agent)

    def decide_one():
        offer = workflow.offer_propose(
            case=flows.analyzing(agent, OrderFactory()),
            actor=agent,
            kind="voucher",
            amount="60",
        )
        workflow.offer_approve(offer=offer, actor=supervisor)

    decide_one()
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(5):
        decide_one()
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(many) == len(few), (len(few), len(many))
    assert response.content.decode().count('data-unread="true"') == 6


def _notes(user, count, *, days_ago=0, read=False):
    """``count`` notifications for ``user``, a minute apart, the newest
    ``days_ago`` days old; answers them newest first."""
    newest = timezone.now() - timedelta(days=days_ago)
    notes = Notification.objects.bulk_create(
        Notification(
            recipient=user,
            kind="deadline",
            message=f"note {days_ago}-{n}",
            read_at=newest if read else None,
        )
        for n in range(count)
    )
    for n, note in enumerate(notes):  # auto_now_add: set afterwards
        Notification.objects.filter(pk=note.pk).update(created_at=newest - timedelta(minutes=n))
    return [f"note {days_ago}-{n}" for n in range(count)]


def _listed(html: str) -> list[str]:
    return re.findall(r"(note \d+-\d+)\s*</div>", html)


def test_the_notifications_page_by_page_newest_first_from_a_cursor(client, agent, agent2):
    mine = _notes(agent, 120)
    _notes(agent2, 5)
    client.force_login(agent)
    url = reverse("complaints:notifications")
    first = client.get(url)
    assert _listed(first.content.decode()) == mine[:50]
    after = first.context["page"].next_cursor
    assert first.context["page"].previous_cursor is None
    with CaptureQueriesContext(connection) as on_first:
        client.get(url)
    with CaptureQueriesContext(connection) as on_second:
        second = client.get(f"{url}?after={after}")
    assert len(on_second) == len(on_first)  # no count, no offset
    assert _listed(second.content.decode()) == mine[50:100]
    assert f"after={second.context['page'].next_cursor}" in second.content.decode()
    third = client.get(f"{url}?after={second.context['page'].next_cursor}")
    assert _listed(third.content.decode()) == mine[100:]
    assert third.context["page"].next_cursor is None
    back = client.get(f"{url}?before={third.context['page'].previous_cursor}")
    assert _listed(back.content.decode()) == mine[50:100]
    # A cursor no page made is the first page, not an error.
    for bad in ("garbage", "W10", "%00"):
        assert _listed(client.get(f"{url}?after={bad}").content.decode()) == mine[:50]


def test_notifications_read_long_ago_are_pruned_and_unread_ones_stay(agent, supervisor, settings):
    from io import StringIO

    from django.core.management import CommandError, call_command

    def prune(*args):
        out = StringIO()
        call_command("prune_notifications", *args, stdout=out)
        return out.getvalue()

    old_read = _notes(supervisor, 7, days_ago=181, read=True)
    old_unread = _notes(agent, 2, days_ago=400)
    recent_read = _notes(agent, 3, days_ago=100, read=True)
    assert "7 read notifications older than 180 days pruned" in prune("--batch", "3")
    left = set(Notification.objects.values_list("message", flat=True))
    assert left == set(old_unread + recent_read)
    assert not left & set(old_read)
    assert "0 read notifications" in prune()
    settings.CASETRACKER = {"NOTIFICATION_DAYS": 90}
    assert "3 read notifications older than 90 days pruned" in prune()
    assert set(Notification.objects.values_list("message", flat=True)) == set(old_unread)
    for bad in (["--days", "0"], ["--batch", "0"]):
        with pytest.raises(CommandError):
            prune(*bad)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("reference_data")
def test_a_users_notifications_are_read_along_their_index(agent):
    """The list, first page and later, reads the user's newest rows from
    notification_recipient_latest and sorts nothing (128 -> 9 ms for a
    supervisor's 200k notifications on PostgreSQL)."""
    from django.test import Client

    from .plans import plan_with_only

    _notes(agent, 60)
    client = Client()
    client.force_login(agent)
    url = reverse("complaints:notifications")
    next_page = client.get(url).context["page"].next_cursor
    for page in (url, f"{url}?after={next_page}"):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(page).status_code == 200
        (sql,) = [
            q["sql"]
            for q in captured
            if q["sql"].startswith('SELECT "complaints_notification"."id"')
        ]
        if connection.vendor == "postgresql":
            plan = plan_with_only("notification_recipient_latest", "complaints_notification", sql)
            assert "Index Scan using notification_recipient_latest" in plan, plan
            assert "Sort" not in plan, plan
        else:
            assert "LIMIT 51" in sql


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("reference_data")
def test_the_team_pages_recent_results_are_read_from_indexes_alone():
    """Each agent's open cases by state, and the cases each agent closed and
    verified in the last 30 days: counted from indexes holding every column
    the counts name, not from every case (the team page at 1M: 0.47 -> 0.25
    s, then 0.21 -> 0.10 s with the open load's). PostgreSQL's plan is
    checked with the named index the only one it may use (plans.py); SQLite
    plans on its own terms."""
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from complaints.queries import team_overview

    from .plans import plan_with_only

    call_command("generate_data", cases=300, agents=2, closed=0.8, no_progress=True)
    with CaptureQueriesContext(connection) as captured:
        team_overview()
    windows = {
        index: sql
        for sql in (q["sql"] for q in captured)
        for column, index in (("closed_at", "case_closed_at"), ("verified_at", "case_verified_at"))
        if f'"complaints_case"."{column}" >=' in sql
    }
    assert set(windows) == {"case_closed_at", "case_verified_at"}
    # The open cases per agent and state, with the overdue (0.15 -> 0.03 s).
    (windows["case_open_load"],) = [
        sql for sql in (q["sql"] for q in captured) if 'AS "overdue" FROM "complaints_case"' in sql
    ]
    if connection.vendor != "postgresql":
        return
    for index, sql in windows.items():
        plan = plan_with_only(index, "complaints_case", sql)
        assert f"Index Only Scan using {index}" in plan, plan

"""The approvals inbox and the four-eyes rule on every path: the inbox
(plain and htmx), the case page, the admin and its bulk action."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.cache import caches
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from complaints import workflow
from complaints.models import ApprovalStatus, CaseEvent, Notification, Offer

from . import flows
from .factories import CustomerFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

INBOX = reverse("complaints:approvals")


def decide_url(offer, decision):
    return reverse("complaints:decide", args=[offer.pk, decision])


def pending(agent, *, amount="80", kind="voucher", customer=None):
    order = OrderFactory(customer=customer) if customer else OrderFactory()
    case = flows.analyzing(agent, order)
    return workflow.offer_propose(
        case=case, actor=agent, kind=kind, amount=amount, reasoning="客户是老顾客"
    )


def rows(response):
    return [offer.pk for offer in response.context["page"]]


def test_the_inbox_lists_waiting_offers_oldest_first_with_what_to_decide_on(
    client, agent, supervisor
):
    first = pending(agent, amount="80")
    second = pending(agent, kind="full_refund", amount="199")
    Offer.objects.filter(pk=second.pk).update(proposed_at=timezone.now() + timedelta(minutes=1))
    inside = workflow.offer_propose(
        case=flows.analyzing(agent, OrderFactory()), actor=agent, kind="voucher", amount="10"
    )
    client.force_login(supervisor)
    response = client.get(INBOX)
    assert rows(response) == [first.pk, second.pk]
    assert inside.pk not in rows(response)
    html = response.content.decode()
    assert "Voucher ¥80.00; policy allows ¥20.00" in html
    assert "Full refund ¥199.00: no policy rule covers this remedy" in html
    assert "客户是老顾客" in html  # the agent's reasoning
    assert "¥199.00" in html  # the order value
    assert first.case.number in html


def test_the_inbox_shows_compensation_history_and_the_serial_flag(client, agent, supervisor):
    customer = CustomerFactory()
    for _ in range(3):
        flows.verifying(agent, OrderFactory(customer=customer), amount=Decimal("15"))
    offer = pending(agent, amount="10", customer=customer)
    assert offer.serial_complainant
    client.force_login(supervisor)
    html = client.get(INBOX).content.decode()
    assert "3 compensated cases, ¥45.00 in 90 days" in html
    assert "Serial complainant" in html
    assert "inside policy, but the customer is a serial complainant" in html


@pytest.mark.parametrize(
    "params,expected",
    [
        ({"kind": "gift"}, {"gift"}),
        ({"amount_min": "50"}, {"voucher80", "refund"}),
        ({"amount_max": "60"}, {"gift"}),
        ({"older_than": "2"}, {"voucher80"}),
    ],
)
def test_inbox_filters(client, agent, agent2, supervisor, params, expected):
    offers = {
        "voucher80": pending(agent, amount="80"),
        "refund": pending(agent2, kind="full_refund", amount="199"),
        "gift": pending(agent2, kind="gift", amount="40"),
    }
    Offer.objects.filter(pk=offers["voucher80"].pk).update(
        proposed_at=timezone.now() - timedelta(hours=3)
    )
    client.force_login(supervisor)
    response = client.get(INBOX, params)
    assert set(rows(response)) == {offers[name].pk for name in expected}


def test_inbox_filter_by_proposer(client, agent, agent2, supervisor):
    mine = pending(agent)
    pending(agent2)
    client.force_login(supervisor)
    assert rows(client.get(INBOX, {"proposer": agent.pk})) == [mine.pk]


def test_only_supervisors_see_the_inbox(client, agent, outsider):
    client.force_login(agent)
    assert client.get(INBOX).status_code == 403
    client.force_login(outsider)
    assert client.get(INBOX).status_code == 403


def test_approve_from_the_list_then_the_agent_accepts(
    client, agent, supervisor, mailoutbox, django_capture_on_commit_callbacks
):
    offer = pending(agent)
    client.force_login(supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(decide_url(offer, "approve"), {"note": "老客户，同意"})
    assert response.status_code == 302
    offer.refresh_from_db()
    assert (offer.approval_status, offer.decided_by, offer.decision_note) == (
        ApprovalStatus.APPROVED,
        supervisor,
        "老客户，同意",
    )
    event = CaseEvent.objects.get(case=offer.case, kind="offer_approved")
    assert event.actor == supervisor
    note = Notification.objects.get(recipient=agent)
    assert note.kind == "offer_approved" and offer.case.number in note.message
    assert [m.to for m in mailoutbox] == [[agent.email]]
    case = workflow.case_propose(case=offer.case, actor=agent)
    assert workflow.case_accept_offer(case=case, offer=offer, actor=agent).state == "executing"


def test_reject_from_the_list_with_htmx_and_the_offer_cannot_be_accepted(client, agent, supervisor):
    offer = pending(agent)
    client.force_login(supervisor)
    headers = {"HX-Request": "true"}
    no_note = client.post(decide_url(offer, "reject"), {"note": ""}, headers=headers)
    assert no_note.status_code == 400
    assert "Say why the offer is rejected." in no_note.content.decode()
    response = client.post(decide_url(offer, "reject"), {"note": "超出政策太多"}, headers=headers)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<tr id="offer-{offer.pk}"')
    assert "Rejected" in html and 'id="pending-approvals"' in html  # counter swapped too
    assert Offer.objects.get(pk=offer.pk).approval_status == ApprovalStatus.REJECTED
    workflow.offer_propose(case=offer.case, actor=agent, kind="voucher", amount="20")
    case = workflow.case_propose(case=offer.case, actor=agent)
    with pytest.raises(workflow.StepNotAllowed):
        workflow.case_accept_offer(case=case, offer=offer, actor=agent)


def test_four_eyes_in_the_inbox_no_buttons_and_403(client, supervisor, supervisor2):
    offer = pending(supervisor)
    client.force_login(supervisor)
    html = client.get(INBOX).content.decode()
    assert "Your own offer: another supervisor decides." in html
    assert decide_url(offer, "approve") not in html
    for headers in ({}, {"HX-Request": "true"}):
        response = client.post(decide_url(offer, "approve"), {"note": ""}, headers=headers)
        if headers:
            assert response.status_code == 403
            assert "Four-eyes rule" in response.content.decode()
        else:
            assert response.status_code == 302  # the message says why
    assert Offer.objects.get(pk=offer.pk).approval_status == ApprovalStatus.PENDING
    client.force_login(supervisor2)
    assert client.post(decide_url(offer, "approve")).status_code == 302
    assert Offer.objects.get(pk=offer.pk).approval_status == ApprovalStatus.APPROVED


def test_the_offers_to_decide_follow_the_four_eyes_rule(agent, supervisor, supervisor2):
    """The queryset (badge, decision form) and the per-offer check agree."""
    from complaints.models.case_rules import may_decide_offer, offers_to_decide

    own, theirs, by_agent = pending(supervisor), pending(supervisor2), pending(agent)
    workflow.offer_approve(offer=pending(agent), actor=supervisor2)  # decided: not listed
    waiting = Offer.objects.filter(approval_status="pending")

    def listed(user):
        return set(offers_to_decide(user).values_list("pk", flat=True))

    for user in (supervisor, supervisor2):
        assert listed(user) == {o.pk for o in waiting if may_decide_offer(o, user)}
    assert listed(supervisor) == {theirs.pk, by_agent.pk}
    assert own.pk in listed(supervisor2)


def test_agents_cannot_decide(client, agent, agent2):
    offer = pending(agent)
    client.force_login(agent2)
    assert client.post(decide_url(offer, "approve")).status_code == 403
    assert Offer.objects.get(pk=offer.pk).approval_status == ApprovalStatus.PENDING


def test_deciding_an_offer_already_decided_is_a_conflict(client, agent, supervisor, supervisor2):
    offer = pending(agent)
    workflow.offer_approve(offer=offer, actor=supervisor2)
    client.force_login(supervisor)
    response = client.post(
        decide_url(offer, "reject"), {"note": "不行"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 409
    assert "not waiting for approval" in response.content.decode()


def test_four_eyes_in_the_admin_bulk_action(client, supervisor, supervisor2, agent):
    own = pending(supervisor)
    other = pending(agent)
    supervisor.is_staff = True
    supervisor.save()
    client.force_login(supervisor)
    response = client.post(
        reverse("admin:complaints_offer_changelist"),
        {"action": "approve_selected", "_selected_action": [own.pk, other.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Four-eyes rule" in response.content.decode()
    assert Offer.objects.get(pk=own.pk).approval_status == ApprovalStatus.PENDING
    assert Offer.objects.get(pk=other.pk).approval_status == ApprovalStatus.APPROVED


def test_the_navigation_counts_what_the_supervisor_may_decide(client, agent, supervisor):
    pending(agent)
    pending(agent)
    pending(supervisor)  # their own: not counted
    client.force_login(supervisor)
    html = client.get(reverse("complaints:queue", args=["open"])).content.decode()
    assert '<span class="badge text-bg-warning" id="pending-approvals"' in html
    assert 'aria-label="2 waiting">2</span>' in html
    client.force_login(agent)
    assert "pending-approvals" not in client.get("/queue/mine/").content.decode()


def test_inbox_query_count_does_not_grow_with_the_rows(client, agent, supervisor):
    client.force_login(supervisor)
    for _ in range(2):
        pending(agent, customer=CustomerFactory())
    with CaptureQueriesContext(connection) as few:
        client.get(INBOX)
    for _ in range(12):
        pending(UserFactory(role="agent"), customer=CustomerFactory())
    caches["template_fragments"].clear()  # the filter form
    with CaptureQueriesContext(connection) as many:
        client.get(INBOX)
    assert len(many) == len(few), (len(few), len(many))
    assert len(many) <= 14, len(many)  # the navigation counts reviews per rating
    # The filter form is a cached fragment: the next view skips its list of
    # the team's people, and still offers them.
    with CaptureQueriesContext(connection) as again:
        html = client.get(INBOX).content.decode()
    assert len(again) == len(many) - 1
    assert f'<option value="{agent.pk}">' in html


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("reference_data")
def test_the_approvals_badge_is_planned_for_the_rare_pending_status(supervisor):
    """A kept connection prepares the badge's statement; PostgreSQL then plans
    it once for any parameter, guessing that a status matches as many offers
    as an average one, and read every offer on each supervisor's page (117 ms
    at 1M instead of 0.04). The status is in the SQL itself (Literal), so the
    plan reads the status index. SQLite has no such plan: there the SQL is
    checked to name the status."""
    import re

    from django.core.management import call_command

    from complaints.models import Offer
    from complaints.models.case_rules import offers_to_decide

    call_command("generate_data", cases=1500, agents=2, closed=0.9, no_progress=True)
    Offer.objects.filter(pk=Offer.objects.order_by("pk").first().pk).update(
        approval_status="pending"
    )
    query = offers_to_decide(supervisor).values("pk")[:100].query
    sql, params = query.sql_with_params()
    assert "= 'pending'" in sql and "pending" not in [str(p) for p in params]
    assert offers_to_decide(supervisor).count() == 1
    if connection.vendor != "postgresql":
        return
    numbered = iter(range(1, len(params) + 1))
    prepared = re.sub(r"%s", lambda _match: f"${next(numbered)}", sql)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE complaints_offer")
        cursor.execute(f"PREPARE badge AS {prepared}")
        try:
            cursor.execute("SET plan_cache_mode = force_generic_plan")
            values = ", ".join(str(int(p)) for p in params)
            cursor.execute(f"EXPLAIN EXECUTE badge({values})")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("DEALLOCATE badge")
            cursor.execute("RESET plan_cache_mode")
    # Planned for 'pending' itself: about one offer expected (the average
    # status would be a third of them) and read through the status index.
    (scan,) = [line for line in plan.splitlines() if "on complaints_offer" in line]
    assert "Index" in scan and int(re.search(r"rows=(\d+)", scan).group(1)) <= 5, plan


def test_a_literal_in_sql_takes_only_a_status_name_a_number_or_an_aware_datetime():
    from complaints.models import Case, Offer
    from complaints.sql import Literal

    assert "= 'pending'" in str(Offer.objects.filter(approval_status=Literal("pending")).query)
    assert "= -1" in str(Case.objects.filter(priority=Literal(-1)).query)
    far = datetime(9000, 1, 1, tzinfo=UTC)
    due = Case.objects.filter(due_at=Literal(far, output_field=models.DateTimeField()))
    assert "'9000-01-01 00:00:00" in str(due.query)
    for unsafe in (
        "x' OR '1'='1",
        "Pending",
        "pend ing",
        True,
        1.5,
        Decimal("1"),
        far.replace(tzinfo=None),
    ):
        with pytest.raises(ValueError):
            str(Offer.objects.filter(approval_status=Literal(unsafe)).query)

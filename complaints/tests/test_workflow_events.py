"""Every workflow operation writes exactly one CaseEvent, with its actor,
and announces it only once the transaction commits."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from complaints import workflow
from complaints.models import Case, CaseEvent, RootCauseCategory
from complaints.signals import case_event_committed

from . import flows
from .factories import ReviewFactory
from .test_evidence import png_bytes

pytestmark = pytest.mark.django_db


def leaf(code="colour_difference"):
    return RootCauseCategory.objects.get(code=code)


def review_case(agent, order):
    review = ReviewFactory(order=order, customer=order.customer, rating=2)
    case = flows.opened(agent, order, source="review", review=review)
    case = workflow.case_confirm(case=case, actor=agent)
    offer = workflow.offer_propose(case=case, actor=agent, kind="apology")
    case = workflow.case_propose(case=case, actor=agent)
    case = workflow.case_accept_offer(case=case, offer=offer, actor=agent)
    return workflow.case_mark_executed(case=case, actor=agent)


# name: (prepare(agent, supervisor, order) -> context, run(context, actor) , kind, who acts)
OPERATIONS = {
    "update_details": (
        lambda a, s, o: flows.opened(a, o),
        lambda c, actor: workflow.case_update_details(case=c, actor=actor, priority=3),
        "details",
        "agent",
    ),
    "assign": (
        lambda a, s, o: flows.opened(a, o),
        lambda c, actor: workflow.case_assign(case=c, assignee=actor, actor=actor),
        "assignment",
        "supervisor",
    ),
    "add_note": (
        lambda a, s, o: flows.opened(a, o),
        lambda c, actor: workflow.case_add_note(case=c, actor=actor, text="客户很着急"),
        "note",
        "agent",
    ),
    "record_contact": (
        lambda a, s, o: flows.opened(a, o),
        lambda c, actor: workflow.case_record_contact(
            case=c, actor=actor, channel="phone", outcome="reached"
        ),
        "contact",
        "agent",
    ),
    "add_evidence": (
        lambda a, s, o: flows.opened(a, o),
        lambda c, actor: workflow.case_add_evidence(
            case=c, actor=actor, file=SimpleUploadedFile("色差.png", png_bytes(), "image/png")
        ),
        "evidence",
        "agent",
    ),
    "confirm": (
        lambda a, s, o: flows.opened(a, o),
        lambda c, actor: workflow.case_confirm(case=c, actor=actor),
        "transition",
        "agent",
    ),
    "analyze": (
        lambda a, s, o: workflow.case_confirm(case=flows.opened(a, o), actor=a),
        lambda c, actor: workflow.case_analyze(case=c, actor=actor, category=leaf(), severity=2),
        "analysis",
        "agent",
    ),
    "propose_offer": (
        lambda a, s, o: flows.analyzing(a, o),
        lambda c, actor: workflow.offer_propose(case=c, actor=actor, kind="gift", amount="10"),
        "offer_proposed",
        "agent",
    ),
    "change_offer": (
        lambda a, s, o: workflow.offer_propose(
            case=flows.analyzing(a, o), actor=a, kind="gift", amount="10"
        ),
        lambda offer, actor: workflow.offer_change(offer=offer, actor=actor, amount="12"),
        "offer_changed",
        "agent",
    ),
    "approve_offer": (
        lambda a, s, o: workflow.offer_propose(
            case=flows.analyzing(a, o), actor=a, kind="gift", amount="90"
        ),
        lambda offer, actor: workflow.offer_approve(offer=offer, actor=actor),
        "offer_approved",
        "supervisor",
    ),
    "reject_offer": (
        lambda a, s, o: workflow.offer_propose(
            case=flows.analyzing(a, o), actor=a, kind="gift", amount="90"
        ),
        lambda offer, actor: workflow.offer_reject(offer=offer, actor=actor, note="超标"),
        "offer_rejected",
        "supervisor",
    ),
    "propose": (
        lambda a, s, o: (
            workflow.offer_propose(
                case=flows.analyzing(a, o), actor=a, kind="gift", amount="10"
            ).case
        ),
        lambda c, actor: workflow.case_propose(case=c, actor=actor),
        "transition",
        "agent",
    ),
    "accept_offer": (
        lambda a, s, o: flows.proposing(a, o),
        lambda pair, actor: workflow.case_accept_offer(case=pair[0], offer=pair[1], actor=actor),
        "transition",
        "agent",
    ),
    "issue_voucher": (
        lambda a, s, o: flows.executing(a, o)[0],
        lambda c, actor: workflow.voucher_issue(case=c, actor=actor),
        "voucher_issued",
        "agent",
    ),
    "record_execution": (
        lambda a, s, o: flows.executing(a, o, kind="gift", amount=Decimal("10"))[0],
        lambda c, actor: workflow.offer_record_execution(case=c, actor=actor, reference="SF1"),
        "execution_step",
        "agent",
    ),
    "mark_executed": (
        lambda a, s, o: (lambda c: (workflow.voucher_issue(case=c, actor=a), c)[1])(
            flows.executing(a, o)[0]
        ),
        lambda c, actor: workflow.case_mark_executed(case=c, actor=actor),
        "transition",
        "agent",
    ),
    "record_satisfaction": (
        lambda a, s, o: flows.followed_up(a, flows.verifying(a, o)[0]),
        lambda c, actor: workflow.case_record_satisfaction(
            case=c, actor=actor, satisfied=True, score=4
        ),
        "transition",
        "agent",
    ),
    "request_review_revision": (
        lambda a, s, o: review_case(a, o),
        lambda c, actor: workflow.case_request_review_revision(
            case=c, actor=actor, channel="phone"
        ),
        "revision_requested",
        "agent",
    ),
    "record_revision_outcome": (
        lambda a, s, o: workflow.case_request_review_revision(
            case=review_case(a, o), actor=a, channel="phone"
        ),
        lambda c, actor: workflow.case_record_revision_outcome(
            case=c, actor=actor, outcome="revised", revised_rating=5
        ),
        "revision_outcome",
        "agent",
    ),
    "record_root_cause": (
        lambda a, s, o: flows.root_cause(a, o),
        lambda c, actor: workflow.case_record_root_cause(case=c, actor=actor, root_cause=leaf()),
        "root_cause",
        "agent",
    ),
    "close": (
        lambda a, s, o: workflow.case_record_root_cause(
            case=flows.root_cause(a, o), actor=a, root_cause=leaf()
        ),
        lambda c, actor: workflow.case_close(case=c, actor=actor),
        "transition",
        "agent",
    ),
    "reopen": (
        lambda a, s, o: flows.closed(a, o),
        lambda c, actor: workflow.case_reopen(case=c, actor=actor, reason="券不能用"),
        "transition",
        "agent",
    ),
    "cancel": (
        lambda a, s, o: flows.opened(a, o),
        lambda c, actor: workflow.case_cancel(case=c, actor=actor, reason="重复"),
        "transition",
        "agent",
    ),
}


def case_of(context):
    if isinstance(context, tuple):
        context = context[0]
    return context if isinstance(context, Case) else context.case


@pytest.mark.parametrize("name", OPERATIONS)
def test_operation_writes_exactly_one_event_with_its_actor(
    name, agent, supervisor, order, django_capture_on_commit_callbacks
):
    prepare, run, kind, who = OPERATIONS[name]
    context = prepare(agent, supervisor, order)
    if name == "assign":
        workflow.case_assign(case=context, assignee=None, actor=supervisor)
        context = Case.objects.get(pk=context.pk)
    actor = {"agent": agent, "supervisor": supervisor}[who]
    case = case_of(context)
    before = set(CaseEvent.objects.filter(case=case).values_list("pk", flat=True))
    received = []

    def listener(sender, event, **kwargs):
        received.append(event)

    case_event_committed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            run(context, actor)
    finally:
        case_event_committed.disconnect(listener)

    new = CaseEvent.objects.filter(case=case).exclude(pk__in=before)
    assert new.count() == 1
    event = new.get()
    assert event.actor == actor
    assert event.kind == kind
    assert [e.pk for e in received] == [event.pk]


def test_opening_a_case_writes_one_opened_event(agent, order):
    case = flows.opened(agent, order)
    assert list(CaseEvent.objects.filter(case=case).values_list("kind", "actor")) == [
        ("opened", agent.pk)
    ]


def test_nothing_is_announced_when_the_transaction_rolls_back(
    agent, order, django_capture_on_commit_callbacks
):
    case = flows.opened(agent, order)
    received = []

    def listener(sender, event, **kwargs):
        received.append(event)

    case_event_committed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            try:
                with transaction.atomic():
                    workflow.case_add_note(case=case, actor=agent, text="稍后回电")
                    raise RuntimeError("the request failed after the note")
            except RuntimeError:
                pass
    finally:
        case_event_committed.disconnect(listener)
    assert callbacks == []
    assert received == []
    assert not CaseEvent.objects.filter(case=case, kind="note").exists()


def test_voucher_is_issued_exactly_once_when_asked_twice(agent, order):
    case, offer = flows.executing(agent, order)
    first = workflow.voucher_issue(case=case, actor=agent)
    second = workflow.voucher_issue(case=case, actor=agent)
    assert first.pk == second.pk
    assert first.code == second.code
    assert offer.voucher == first
    assert CaseEvent.objects.filter(case=case, kind="voucher_issued").count() == 1
    # Still once after the case moved on.
    case = workflow.case_mark_executed(case=case, actor=agent)
    assert workflow.voucher_issue(case=case, actor=agent).pk == first.pk


def test_assignment_emails_the_new_assignee_after_commit(
    agent, agent2, supervisor, order, mailoutbox, django_capture_on_commit_callbacks
):
    case = flows.opened(agent, order)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.case_assign(case=case, assignee=agent2, actor=supervisor)
    assert [m.to for m in mailoutbox] == [[agent2.email]]
    assert case.number in mailoutbox[0].subject

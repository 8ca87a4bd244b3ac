"""The case state machine: illegal transitions, guards and stale copies."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from complaints import workflow
from complaints.models import Case, CaseEvent, CaseState, ContactOutcome

from . import flows

pytestmark = pytest.mark.django_db

ALLOWED = {
    "confirming": {"confirm", "cancel"},
    "analyzing": {"propose", "cancel"},
    "proposing": {"accept", "cancel"},
    "executing": {"mark_executed", "cancel"},
    "verifying": {"satisfied", "unsatisfied", "cancel"},
    "root_cause": {"close", "cancel"},
    "closed": {"reopen"},
    "cancelled": set(),
}
TRANSITIONS = [
    "confirm",
    "propose",
    "accept",
    "mark_executed",
    "satisfied",
    "unsatisfied",
    "close",
    "reopen",
    "cancel",
]
ARGS = {"satisfied": {"score": 5}, "unsatisfied": {"score": 2}, "cancel": {"reason": "x"}}


def build(state, agent, order):
    return {
        "confirming": lambda: flows.opened(agent, order),
        "analyzing": lambda: flows.analyzing(agent, order),
        "proposing": lambda: flows.proposing(agent, order)[0],
        "executing": lambda: flows.executing(agent, order)[0],
        "verifying": lambda: flows.verifying(agent, order)[0],
        "root_cause": lambda: flows.root_cause(agent, order),
        "closed": lambda: flows.closed(agent, order),
        "cancelled": lambda: workflow.case_cancel(
            case=flows.opened(agent, order), actor=agent, reason="重复"
        ),
    }[state]()


def test_the_declared_transitions_are_exactly_the_routine():
    declared = {}
    for spec in Case._meta.get_field("state").get_all_transitions(Case):
        declared.setdefault(spec.source, set()).add(spec.name)
    assert dict(declared.items()) == {state: names for state, names in ALLOWED.items() if names}


@pytest.mark.parametrize(
    "state,name",
    [(state, name) for state in ALLOWED for name in TRANSITIONS if name not in ALLOWED[state]],
)
def test_illegal_transition_raises_and_changes_nothing(agent, order, state, name):
    case = build(state, agent, order)
    fresh = Case.objects.get(pk=case.pk)
    events_before = CaseEvent.objects.filter(case=case).count()

    with pytest.raises(TransitionNotAllowed):
        getattr(fresh, name)(**ARGS.get(name, {}))
    assert fresh.state == state

    with pytest.raises(TransitionNotAllowed), transaction.atomic():
        workflow._base.run_transition(
            workflow._base.lock_case(fresh), agent, name, **ARGS.get(name, {})
        )
    assert Case.objects.get(pk=case.pk).state == state
    assert CaseEvent.objects.filter(case=case).count() == events_before


def test_confirm_needs_the_demand(agent, order):
    case = flows.opened(agent, order, demand="")
    with pytest.raises(workflow.StepNotAllowed, match="asks for"):
        workflow.case_confirm(case=case, actor=agent)
    assert Case.objects.get(pk=case.pk).state == CaseState.CONFIRMING
    case = workflow.case_confirm(case=case, actor=agent, demand="退款 30 元")
    assert case.state == CaseState.ANALYZING


def test_propose_needs_an_offer_that_is_not_rejected(agent, supervisor, order):
    case = flows.analyzing(agent, order)
    with pytest.raises(workflow.StepNotAllowed, match="at least one offer"):
        workflow.case_propose(case=case, actor=agent)
    offer = workflow.offer_propose(case=case, actor=agent, kind="voucher", amount="80")
    workflow.offer_reject(offer=offer, actor=supervisor, note="太多了")
    with pytest.raises(workflow.StepNotAllowed):
        workflow.case_propose(case=case, actor=agent)
    workflow.offer_propose(case=case, actor=agent, kind="voucher", amount="20")
    assert workflow.case_propose(case=case, actor=agent).state == CaseState.PROPOSING


def test_accept_needs_the_offer_inside_policy_or_approved(agent, supervisor, order):
    case = flows.analyzing(agent, order)
    offer = workflow.offer_propose(case=case, actor=agent, kind="voucher", amount="80")
    assert offer.approval_status == "pending"
    case = workflow.case_propose(case=case, actor=agent)
    with pytest.raises(workflow.StepNotAllowed, match="inside policy or approved"):
        workflow.case_accept_offer(case=case, offer=offer, actor=agent)
    assert Case.objects.get(pk=case.pk).accepted_offer is None
    workflow.offer_approve(offer=offer, actor=supervisor, note="老客户")
    case = workflow.case_accept_offer(case=case, offer=offer, actor=agent)
    assert case.state == CaseState.EXECUTING


def test_mark_executed_needs_the_voucher_issued(agent, order):
    case, _ = flows.executing(agent, order)
    with pytest.raises(workflow.StepNotAllowed, match="execution step"):
        workflow.case_mark_executed(case=case, actor=agent)
    workflow.voucher_issue(case=case, actor=agent)
    assert workflow.case_mark_executed(case=case, actor=agent).state == CaseState.VERIFYING


def test_satisfaction_needs_a_contact_that_reached_the_customer_after_execution(agent, order):
    case = flows.analyzing(agent, order)
    # A contact before execution does not count as the follow-up.
    workflow.case_record_contact(case=case, actor=agent, channel="chat", outcome="reached")
    offer = workflow.offer_propose(case=case, actor=agent, kind="apology")
    case = workflow.case_propose(case=case, actor=agent)
    case = workflow.case_accept_offer(case=case, offer=offer, actor=agent)
    case = workflow.case_mark_executed(case=case, actor=agent)
    with pytest.raises(workflow.StepNotAllowed, match="follow-up contact"):
        workflow.case_record_satisfaction(case=case, actor=agent, satisfied=True, score=5)
    workflow.case_record_contact(
        case=case, actor=agent, channel="phone", outcome=ContactOutcome.NO_ANSWER
    )
    with pytest.raises(workflow.StepNotAllowed):
        workflow.case_record_satisfaction(case=case, actor=agent, satisfied=True, score=5)
    flows.followed_up(agent, case)
    case = workflow.case_record_satisfaction(case=case, actor=agent, satisfied=True, score=5)
    assert case.state == CaseState.ROOT_CAUSE


def test_close_needs_a_root_cause_leaf(agent, order):
    case = flows.root_cause(agent, order)
    with pytest.raises(workflow.StepNotAllowed, match="root cause"):
        workflow.case_close(case=case, actor=agent)
    assert Case.objects.get(pk=case.pk).state == CaseState.ROOT_CAUSE


def test_reopen_after_the_window_is_refused(agent, order, settings):
    settings.CASETRACKER = {**settings.CASETRACKER, "REOPEN_WINDOW_DAYS": 15}
    case = flows.closed(agent, order)
    Case.objects.filter(pk=case.pk).update(closed_at=timezone.now() - timedelta(days=16))
    case = Case.objects.get(pk=case.pk)
    with pytest.raises(workflow.StepNotAllowed, match="reopen window"):
        workflow.case_reopen(case=case, actor=agent, reason="客户又来了")
    assert Case.objects.get(pk=case.pk).state == CaseState.CLOSED
    Case.objects.filter(pk=case.pk).update(closed_at=timezone.now() - timedelta(days=14))
    case = Case.objects.get(pk=case.pk)
    assert workflow.case_reopen(case=case, actor=agent).state == CaseState.ANALYZING


def test_cancel_without_reason_is_refused(agent, order):
    case = flows.opened(agent, order)
    for reason in ("", "   "):
        with pytest.raises(ValidationError, match="why the case is cancelled"):
            workflow.case_cancel(case=case, actor=agent, reason=reason)
    fresh = Case.objects.get(pk=case.pk)
    with pytest.raises(ValidationError, match="why the case is cancelled"):
        fresh.cancel(reason="")
    assert Case.objects.get(pk=case.pk).state == CaseState.CONFIRMING


def test_stale_case_object_raises_on_save_and_writes_nothing(agent, order):
    case = flows.opened(agent, order)
    first = Case.objects.get(pk=case.pk)
    second = Case.objects.get(pk=case.pk)
    first.confirm()
    first.save()
    second.cancel(reason="重复")
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        second.save()
    stored = Case.objects.get(pk=case.pk)
    assert stored.state == CaseState.ANALYZING
    assert stored.cancel_reason == ""


def test_workflow_refuses_a_stale_copy_with_a_reload_message(agent, order):
    case = flows.opened(agent, order)
    stale = Case.objects.get(pk=case.pk)
    workflow.case_confirm(case=case, actor=agent)
    events = CaseEvent.objects.filter(case=case).count()
    with pytest.raises(ConcurrentTransition, match="reload"):
        workflow.case_cancel(case=stale, actor=agent, reason="客户撤诉")
    with pytest.raises(ConcurrentTransition):
        workflow.case_confirm(case=stale, actor=agent)
    assert Case.objects.get(pk=case.pk).state == CaseState.ANALYZING
    assert CaseEvent.objects.filter(case=case).count() == events


def test_state_cannot_be_assigned_directly(agent, order):
    case = flows.opened(agent, order)
    with pytest.raises(AttributeError):
        case.state = CaseState.CLOSED


def test_accepting_declines_the_other_open_offers(agent, order):
    case = flows.analyzing(agent, order)
    voucher = workflow.offer_propose(case=case, actor=agent, kind="voucher", amount="15")
    refund = workflow.offer_propose(
        case=case, actor=agent, kind="partial_refund", amount=Decimal("30")
    )
    case = workflow.case_propose(case=case, actor=agent)
    workflow.case_accept_offer(case=case, offer=refund, actor=agent)
    voucher.refresh_from_db()
    refund.refresh_from_db()
    assert (voucher.outcome, refund.outcome) == ("declined", "accepted")

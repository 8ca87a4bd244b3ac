"""Every legal path through the state machine, end to end."""

from decimal import Decimal

import pytest

from complaints import workflow
from complaints.models import (
    ApprovalStatus,
    CaseEvent,
    CaseState,
    OfferOutcome,
    RootCauseCategory,
    Voucher,
    VoucherStatus,
)

from . import flows

pytestmark = pytest.mark.django_db


def test_voucher_case_from_open_to_closed(agent, order):
    case = flows.opened(agent, order)
    assert case.state == CaseState.CONFIRMING
    assert case.number.startswith("C-")
    assert case.assignee == agent

    case = workflow.case_confirm(case=case, actor=agent, demand="想要补偿一张券")
    assert case.state == CaseState.ANALYZING
    case = workflow.case_analyze(
        case=case,
        actor=agent,
        category=RootCauseCategory.objects.get(code="colour_difference"),
        severity=2,
        responsible_party="supplier",
    )
    offer = workflow.offer_propose(
        case=case, actor=agent, kind="voucher", amount="20", min_spend="100"
    )
    assert offer.approval_status == ApprovalStatus.NOT_NEEDED
    assert offer.policy_rule.name == "Voucher up to ¥20"
    case = workflow.case_propose(case=case, actor=agent)
    assert case.state == CaseState.PROPOSING
    case = workflow.case_accept_offer(case=case, offer=offer, actor=agent)
    assert case.state == CaseState.EXECUTING
    voucher = workflow.voucher_issue(case=case, actor=agent)
    assert (voucher.value, voucher.min_spend, voucher.status) == (
        Decimal("20.00"),
        Decimal("100.00"),
        VoucherStatus.ISSUED,
    )
    case = workflow.case_mark_executed(case=case, actor=agent)
    assert case.state == CaseState.VERIFYING
    flows.followed_up(agent, case)
    case = workflow.case_record_satisfaction(case=case, actor=agent, satisfied=True, score=5)
    assert case.state == CaseState.ROOT_CAUSE
    case = workflow.case_record_root_cause(
        case=case,
        actor=agent,
        root_cause=RootCauseCategory.objects.get(code="colour_difference"),
        sku="DRESS-RED-M",
        supplier="杭州织造",
        party="supplier",
        corrective_action="重拍主图",
    )
    case = workflow.case_close(case=case, actor=agent)

    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    assert case.closed_at is not None
    assert case.customer_satisfied is True
    offer.refresh_from_db()
    assert offer.outcome == OfferOutcome.ACCEPTED
    assert offer.executed_at == case.executed_at
    transitions = list(
        CaseEvent.objects.filter(case=case, kind="transition")
        .order_by("created_at", "id")
        .values_list("transition", "from_state", "to_state")
    )
    assert transitions == [
        ("confirm", "confirming", "analyzing"),
        ("propose", "analyzing", "proposing"),
        ("accept", "proposing", "executing"),
        ("mark_executed", "executing", "verifying"),
        ("satisfied", "verifying", "root_cause"),
        ("close", "root_cause", "closed"),
    ]


def test_unsatisfied_customer_goes_back_to_analysis_and_a_second_remedy(agent, order):
    case, first = flows.verifying(agent, order, kind="voucher", amount=Decimal("10"))
    flows.followed_up(agent, case)
    case = workflow.case_record_satisfaction(
        case=case, actor=agent, satisfied=False, score=2, comment="还是不满意"
    )
    assert case.state == CaseState.ANALYZING
    assert case.customer_satisfied is False

    second = workflow.offer_propose(case=case, actor=agent, kind="partial_refund", amount="40")
    case = workflow.case_propose(case=case, actor=agent)
    case = workflow.case_accept_offer(case=case, offer=second, actor=agent)
    workflow.offer_record_execution(case=case, actor=agent, reference="ALIPAY-REFUND-778")
    case = workflow.case_mark_executed(case=case, actor=agent)
    flows.followed_up(agent, case)
    case = workflow.case_record_satisfaction(case=case, actor=agent, satisfied=True, score=4)
    assert case.state == CaseState.ROOT_CAUSE
    assert Voucher.objects.filter(offer=first).count() == 1


def test_reopen_within_window_returns_to_analysis(agent, order):
    case = flows.closed(agent, order)
    case = workflow.case_reopen(case=case, actor=agent, reason="客户反馈券无法使用")
    assert case.state == CaseState.ANALYZING
    assert case.reopen_count == 1
    assert case.closed_at is None


@pytest.mark.parametrize(
    "step", ["confirming", "analyzing", "proposing", "executing", "verifying", "root_cause"]
)
def test_cancel_from_every_open_state(agent, order, step):
    builders = {
        "confirming": lambda: flows.opened(agent, order),
        "analyzing": lambda: flows.analyzing(agent, order),
        "proposing": lambda: flows.proposing(agent, order)[0],
        "executing": lambda: flows.executing(agent, order)[0],
        "verifying": lambda: flows.verifying(agent, order)[0],
        "root_cause": lambda: flows.root_cause(agent, order),
    }
    case = builders[step]()
    assert case.state == step
    case = workflow.case_cancel(case=case, actor=agent, reason="重复的工单")
    case.refresh_from_db()
    assert case.state == CaseState.CANCELLED
    assert case.cancel_reason == "重复的工单"


@pytest.mark.parametrize(
    "kind,amount,reference",
    [
        ("apology", None, None),
        ("gift", "15", "SF1234567"),
        ("partial_refund", "50", "REFUND-1"),
        ("reship", "45", "YT99887766"),
        ("return_shipping", "12", "REFUND-2"),
    ],
)
def test_each_remedy_kind_executes_once_its_step_is_recorded(
    agent, order, leaf, kind, amount, reference
):
    case = flows.analyzing(agent, order, category="missing_parts")
    offer = workflow.offer_propose(case=case, actor=agent, kind=kind, amount=amount)
    assert offer.approval_status == ApprovalStatus.NOT_NEEDED, offer.policy_note
    case = workflow.case_propose(case=case, actor=agent)
    case = workflow.case_accept_offer(case=case, offer=offer, actor=agent)
    if reference is not None:
        with pytest.raises(workflow.StepNotAllowed):
            workflow.case_mark_executed(case=case, actor=agent)
        workflow.offer_record_execution(case=case, actor=agent, reference=reference)
    case = workflow.case_mark_executed(case=case, actor=agent)
    assert case.state == CaseState.VERIFYING


def test_a_case_cannot_mix_one_customers_order_with_another_customer(agent, order):
    from django.core.exceptions import ValidationError

    from .factories import CustomerFactory, ReviewFactory

    with pytest.raises(ValidationError) as info:
        workflow.case_open(
            actor=agent, customer=CustomerFactory(), order=order, source="chat", summary="x"
        )
    assert info.value.error_dict["order"][0].code == "customer_mismatch"
    review = ReviewFactory()
    with pytest.raises(ValidationError) as info:
        workflow.case_open(
            actor=agent, customer=order.customer, review=review, source="review", summary="x"
        )
    assert info.value.error_dict["review"][0].code == "customer_mismatch"

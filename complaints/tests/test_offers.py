"""Offers: amounts, the policy judgement, re-approval, serial complainants."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from complaints import workflow
from complaints.models import ApprovalStatus, CaseEvent, Offer

from . import flows
from .factories import OrderFactory

pytestmark = pytest.mark.django_db


def error_code(info, field):
    return info.value.error_dict[field][0].code


@pytest.mark.parametrize(
    "kind,amount,field,code",
    [
        ("voucher", "0", "amount", "amount_not_positive"),
        ("voucher", "-5", "amount", "amount_not_positive"),
        ("gift", None, "amount", "amount_not_positive"),
        ("partial_refund", "0.001", "amount", "amount_precision"),
        ("partial_refund", "199.01", "amount", "refund_above_order_total"),
        ("full_refund", "250", "amount", "refund_above_order_total"),
        ("apology", "10", "amount", "amount_not_allowed"),
        ("gift", "10", "kind", None),
    ],
)
def test_invalid_amounts_are_refused_with_a_clear_error(agent, order, kind, amount, field, code):
    case = flows.analyzing(agent, order)
    events = CaseEvent.objects.filter(case=case).count()
    if code is None:  # the control: a valid offer goes through
        assert workflow.offer_propose(case=case, actor=agent, kind=kind, amount=amount).pk
        return
    with pytest.raises(ValidationError) as info:
        workflow.offer_propose(case=case, actor=agent, kind=kind, amount=amount)
    assert error_code(info, field) == code
    assert str(info.value.error_dict[field][0].message)
    assert not Offer.objects.filter(case=case).exists()
    assert CaseEvent.objects.filter(case=case).count() == events


def test_refunds_on_one_order_cannot_add_up_beyond_what_was_paid(agent, order):
    _case, _ = flows.executing(agent, order, kind="partial_refund", amount=Decimal("50"))
    other = flows.analyzing(agent, order)
    workflow.offer_propose(case=other, actor=agent, kind="partial_refund", amount="149")
    with pytest.raises(ValidationError, match=r"149\.00"):
        workflow.offer_propose(case=other, actor=agent, kind="partial_refund", amount="149.01")


def test_a_refund_needs_an_order(agent, customer):
    case = workflow.case_open(
        actor=agent, customer=customer, source="phone", summary="电话投诉", demand="退款"
    )
    case = workflow.case_confirm(case=case, actor=agent)
    with pytest.raises(ValidationError) as info:
        workflow.offer_propose(case=case, actor=agent, kind="full_refund", amount="10")
    assert error_code(info, "kind") == "refund_without_order"


def test_only_vouchers_carry_a_minimum_spend(agent, order):
    case = flows.analyzing(agent, order)
    with pytest.raises(ValidationError) as info:
        workflow.offer_propose(case=case, actor=agent, kind="gift", amount="10", min_spend="100")
    assert error_code(info, "min_spend") == "min_spend_not_allowed"


def test_offer_inside_policy_needs_no_approval_and_names_its_rule(agent, order):
    case = flows.analyzing(agent, order)
    offer = workflow.offer_propose(case=case, actor=agent, kind="partial_refund", amount="59.70")
    assert offer.approval_status == ApprovalStatus.NOT_NEEDED
    assert offer.policy_rule.name == "Partial refund up to 30% of the order"
    assert offer.policy_allowance == Decimal("59.70")  # 30% of ¥199


def test_offer_outside_policy_waits_and_says_by_how_much(agent, order):
    case = flows.analyzing(agent, order)
    offer = workflow.offer_propose(case=case, actor=agent, kind="voucher", amount="80")
    assert offer.approval_status == ApprovalStatus.PENDING
    assert offer.policy_allowance == Decimal("20")
    assert "¥80.00" in offer.policy_note and "¥20.00" in offer.policy_note


def test_an_approved_offer_that_is_changed_needs_approval_again(agent, supervisor, order):
    case = flows.analyzing(agent, order)
    offer = workflow.offer_propose(case=case, actor=agent, kind="voucher", amount="50")
    offer = workflow.offer_approve(offer=offer, actor=supervisor, note="VIP")
    assert offer.approval_status == ApprovalStatus.APPROVED
    offer = workflow.offer_change(offer=offer, actor=agent, amount="60")
    assert offer.approval_status == ApprovalStatus.PENDING
    assert offer.decided_by is None and offer.decision_note == ""
    # Lowered back inside policy, it needs nothing.
    offer = workflow.offer_change(offer=offer, actor=agent, amount="20")
    assert offer.approval_status == ApprovalStatus.NOT_NEEDED


def test_a_decided_offer_cannot_be_decided_again(agent, supervisor, supervisor2, order):
    offer = workflow.offer_propose(
        case=flows.analyzing(agent, order), actor=agent, kind="voucher", amount="50"
    )
    workflow.offer_reject(offer=offer, actor=supervisor, note="超出政策")
    with pytest.raises(workflow.StepNotAllowed, match="not waiting for approval"):
        workflow.offer_approve(offer=offer, actor=supervisor2)


def test_rejecting_needs_a_note(agent, supervisor, order):
    offer = workflow.offer_propose(
        case=flows.analyzing(agent, order), actor=agent, kind="voucher", amount="50"
    )
    with pytest.raises(ValidationError) as info:
        workflow.offer_reject(offer=offer, actor=supervisor, note=" ")
    assert error_code(info, "note") == "required"


def test_an_offer_inside_policy_cannot_be_approved(agent, supervisor, order):
    offer = workflow.offer_propose(
        case=flows.analyzing(agent, order), actor=agent, kind="voucher", amount="10"
    )
    with pytest.raises(workflow.StepNotAllowed):
        workflow.offer_approve(offer=offer, actor=supervisor)


def test_serial_complainant_needs_approval_for_every_offer(agent, customer, settings):
    settings.CASETRACKER = {
        **settings.CASETRACKER,
        "SERIAL_COMPLAINANT_CASES": 3,
        "SERIAL_COMPLAINANT_DAYS": 90,
    }
    for _ in range(2):
        flows.verifying(agent, OrderFactory(customer=customer), amount=Decimal("10"))
    case = flows.analyzing(agent, OrderFactory(customer=customer))
    offer = workflow.offer_propose(case=case, actor=agent, kind="voucher", amount="10")
    assert offer.approval_status == ApprovalStatus.NOT_NEEDED  # two compensated cases

    flows.verifying(agent, OrderFactory(customer=customer), amount=Decimal("10"))
    offer = workflow.offer_propose(case=case, actor=agent, kind="voucher", amount="10")
    assert offer.approval_status == ApprovalStatus.PENDING
    assert "Serial complainant: 3 compensated cases" in offer.policy_note


def test_compensation_older_than_the_window_does_not_make_a_serial_complainant(
    agent, customer, settings
):
    for _ in range(3):
        _case, offer = flows.verifying(agent, OrderFactory(customer=customer))
        Offer.objects.filter(pk=offer.pk).update(executed_at=timezone.now() - timedelta(days=91))
    case = flows.analyzing(agent, OrderFactory(customer=customer))
    offer = workflow.offer_propose(case=case, actor=agent, kind="voucher", amount="10")
    assert offer.approval_status == ApprovalStatus.NOT_NEEDED


def test_offers_can_only_be_made_while_analyzing_or_proposing(agent, order):
    case = flows.opened(agent, order)
    with pytest.raises(workflow.StepNotAllowed):
        workflow.offer_propose(case=case, actor=agent, kind="voucher", amount="10")

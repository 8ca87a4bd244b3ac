"""Operations on offers: propose, change, approve or reject, let the
customer choose, and execute the chosen remedy."""

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import policy
from ..conf import setting
from ..models import (
    REFUND_KINDS,
    ApprovalStatus,
    CaseState,
    EventKind,
    NotificationKind,
    Offer,
    OfferOutcome,
    PolicyRule,
    RemedyKind,
    Voucher,
)
from ..models.case_rules import may_decide_offer
from ..notifications import notify
from ..people import display_name
from ..queries import compensated_case_count, compensation_cost, refunds_committed
from ._base import (
    StepNotAllowed,
    field_error,
    lock_case,
    record_event,
    require_may_work,
    require_perm,
    require_state,
    run_transition,
)

PROPOSAL_STATES = (CaseState.ANALYZING, CaseState.PROPOSING)
REFERENCE_KINDS = (
    RemedyKind.GIFT,
    RemedyKind.PARTIAL_REFUND,
    RemedyKind.FULL_REFUND,
    RemedyKind.RESHIP,
    RemedyKind.RETURN_SHIPPING,
)


def _clean_amounts(*, case, kind, amount, min_spend, offer=None):
    """Return (amount, min_spend) checked for ``kind``, or raise ValidationError."""
    if kind not in RemedyKind.values:
        raise field_error("kind", _("Unknown remedy."), "invalid_choice")
    try:
        amount = None if amount in (None, "") else Decimal(str(amount))
        min_spend = Decimal("0") if min_spend in (None, "") else Decimal(str(min_spend))
    except InvalidOperation as exc:
        raise ValidationError(_("Amounts must be numbers."), code="invalid") from exc
    if kind == RemedyKind.APOLOGY:
        if amount:
            raise field_error("amount", _("An apology carries no amount."), "amount_not_allowed")
        return None, Decimal("0")
    if amount is None or amount <= 0:
        raise field_error(
            "amount", _("The amount must be greater than zero."), "amount_not_positive"
        )
    if amount.as_tuple().exponent < -2:
        raise field_error("amount", _("Amounts have at most two decimals."), "amount_precision")
    if min_spend < 0:
        raise field_error(
            "min_spend", _("The minimum spend cannot be negative."), "min_spend_negative"
        )
    if kind != RemedyKind.VOUCHER and min_spend:
        raise field_error(
            "min_spend", _("Only vouchers have a minimum spend."), "min_spend_not_allowed"
        )
    if kind in REFUND_KINDS:
        if case.order_id is None:
            raise field_error("kind", _("A refund needs the case's order."), "refund_without_order")
        remaining = case.order.paid_total - refunds_committed(case.order, exclude_offer=offer)
        if amount > remaining:
            raise field_error(
                "amount",
                _("A refund cannot exceed what is left of the order's paid total (¥%(remaining)s).")
                % {"remaining": remaining},
                "refund_above_order_total",
            )
    return amount, min_spend


def _judge(case, *, kind, amount) -> policy.PolicyDecision:
    now = timezone.now()
    since = now - timedelta(days=setting("SERIAL_COMPLAINANT_DAYS"))
    order = case.order
    return policy.evaluate_offer(
        kind=kind,
        amount=amount,
        category=case.category,
        order_total=order.paid_total if order else None,
        delivered_at=order.delivered_at if order else None,
        rules=PolicyRule.objects.active_at(now).filter(kind=kind).select_related("category"),
        now=now,
        compensated_cases=compensated_case_count(case.customer, since=since, exclude_case=case),
        serial_threshold=setting("SERIAL_COMPLAINANT_CASES"),
    )


def offer_allowances(case) -> list[policy.Allowance]:
    """Return what each remedy allows on ``case`` now ("what may I offer")."""
    now = timezone.now()
    since = now - timedelta(days=setting("SERIAL_COMPLAINANT_DAYS"))
    order = case.order
    return policy.what_may_i_offer(
        rules=PolicyRule.objects.active_at(now).select_related("category"),
        category=case.category,
        order_total=order.paid_total if order else None,
        delivered_at=order.delivered_at if order else None,
        now=now,
        compensated_cases=compensated_case_count(case.customer, since=since, exclude_case=case),
        serial_threshold=setting("SERIAL_COMPLAINANT_CASES"),
    )


def offer_preview(*, case, kind: str, amount) -> policy.PolicyDecision:
    """Return how an offer would be judged now, writing nothing."""
    return _judge(case, kind=kind, amount=amount)


def _apply_decision(offer, decision) -> None:
    offer.policy_rule = decision.rule
    offer.policy_allowance = decision.allowance
    offer.policy_note = decision.reason[:255]
    offer.serial_complainant = decision.serial
    offer.approval_status = (
        ApprovalStatus.PENDING if decision.needs_approval else ApprovalStatus.NOT_NEEDED
    )
    offer.decided_by = None
    offer.decided_at = None
    offer.decision_note = ""


def _offer_payload(offer, **extra):
    return {
        "offer": offer.pk,
        "kind": offer.kind,
        "amount": offer.amount,
        "approval": offer.approval_status,
        "policy": offer.policy_note,
        **extra,
    }


def offer_propose(
    *,
    case,
    actor,
    kind: str,
    amount=None,
    min_spend=None,
    description: str = "",
    reasoning: str = "",
) -> Offer:
    """Propose a remedy; it is judged against policy at once.

    Inside policy it may go to the customer; outside it waits for a
    supervisor.
    """
    with transaction.atomic():
        case = lock_case(case)
        require_may_work(case, actor)
        require_state(case, PROPOSAL_STATES, _("Propose an offer"))
        amount, min_spend = _clean_amounts(case=case, kind=kind, amount=amount, min_spend=min_spend)
        offer = Offer(
            case=case,
            kind=kind,
            amount=amount,
            min_spend=min_spend,
            description=description.strip(),
            reasoning=reasoning.strip(),
            proposed_by=actor,
        )
        _apply_decision(offer, _judge(case, kind=kind, amount=amount))
        offer.save()
        record_event(case, actor, EventKind.OFFER_PROPOSED, payload=_offer_payload(offer))
    return offer


def offer_change(
    *, offer, actor, amount=None, min_spend=None, description=None, reasoning=None
) -> Offer:
    """Change an open offer; it is judged again, so an approved offer that
    is changed needs approval again."""
    with transaction.atomic():
        case = lock_case(offer.case, check_state=False)
        require_may_work(case, actor)
        require_state(case, PROPOSAL_STATES, _("Change an offer"))
        offer = Offer.objects.select_for_update().get(pk=offer.pk)
        if offer.outcome != OfferOutcome.OPEN:
            raise StepNotAllowed(_("Only an offer the customer has not chosen can change."))
        before = {
            "amount": offer.amount,
            "min_spend": offer.min_spend,
            "approval": offer.approval_status,
        }
        offer.amount, offer.min_spend = _clean_amounts(
            case=case,
            kind=offer.kind,
            amount=offer.amount if amount is None else amount,
            min_spend=offer.min_spend if min_spend is None else min_spend,
            offer=offer,
        )
        if description is not None:
            offer.description = description.strip()
        if reasoning is not None:
            offer.reasoning = reasoning.strip()
        offer.case = case
        _apply_decision(offer, _judge(case, kind=offer.kind, amount=offer.amount))
        offer.save()
        record_event(
            case, actor, EventKind.OFFER_CHANGED, payload=_offer_payload(offer, before=before)
        )
    return offer


def _decide(*, offer, actor, approve: bool, note: str) -> Offer:
    require_perm(
        actor, "complaints.approve_offer", _("Only a supervisor may approve or reject offers.")
    )
    note = (note or "").strip()
    if not approve and not note:
        raise field_error("note", _("Say why the offer is rejected."), "required")
    with transaction.atomic():
        case = lock_case(offer.case, check_state=False)
        offer = Offer.objects.select_for_update().get(pk=offer.pk)
        if not may_decide_offer(offer, actor):  # the permission was checked above
            raise PermissionDenied(_("Four-eyes rule: nobody decides on their own offer."))
        if offer.approval_status != ApprovalStatus.PENDING:
            raise StepNotAllowed(
                _("This offer is not waiting for approval (it is “%(status)s”).")
                % {"status": offer.get_approval_status_display()},
                code="offer_not_pending",
            )
        require_state(case, PROPOSAL_STATES, _("Decide on an offer"))
        offer.approval_status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
        offer.decided_by = actor
        offer.decided_at = timezone.now()
        offer.decision_note = note
        offer.save()
        _notify_proposer(offer, approve=approve)
        record_event(
            case,
            actor,
            EventKind.OFFER_APPROVED if approve else EventKind.OFFER_REJECTED,
            payload=_offer_payload(offer, note=note, proposer=offer.proposed_by.get_username()),
        )
    return offer


def _notify_proposer(offer, *, approve: bool) -> None:
    values = {
        "number": offer.case.number,
        "offer": str(offer),
        "who": display_name(offer.decided_by),
        "note": offer.decision_note,
    }
    if approve:
        message = _("%(number)s: your offer %(offer)s was approved by %(who)s. %(note)s")
    else:
        message = _("%(number)s: your offer %(offer)s was rejected by %(who)s. %(note)s")
    notify(
        recipient=offer.proposed_by,
        kind=NotificationKind.OFFER_APPROVED if approve else NotificationKind.OFFER_REJECTED,
        message=(message % values).strip(),
        case=offer.case,
    )


def offer_approve(*, offer, actor, note: str = "") -> Offer:
    """A supervisor (not the proposer) clears an offer outside policy."""
    return _decide(offer=offer, actor=actor, approve=True, note=note)


def offer_reject(*, offer, actor, note: str) -> Offer:
    """A supervisor (not the proposer) refuses an offer outside policy, saying why."""
    return _decide(offer=offer, actor=actor, approve=False, note=note)


def case_propose(*, case, actor):
    """Step 3: the options (inside policy or approved) are put to the customer."""
    with transaction.atomic():
        case = lock_case(case)
        run_transition(case, actor, "propose")
    return case


def case_accept_offer(*, case, offer, actor):
    """The customer chose ``offer``; the other open offers are declined."""
    if offer.case_id != case.pk:
        raise field_error("offer", _("That offer belongs to another case."), "wrong_case")
    with transaction.atomic():
        case = lock_case(case)
        offer = Offer.objects.select_for_update().get(pk=offer.pk)
        case.accepted_offer = offer
        run_transition(case, actor, "accept", payload=_offer_payload(offer))
        now = timezone.now()
        Offer.objects.filter(case=case, outcome=OfferOutcome.OPEN).exclude(pk=offer.pk).update(
            outcome=OfferOutcome.DECLINED, updated_at=now
        )
        offer.outcome = OfferOutcome.ACCEPTED
        offer.accepted_at = now
        offer.save()
    return case


def voucher_issue(*, case, actor, valid_days: int | None = None) -> Voucher:
    """Issue the voucher of the chosen voucher offer, once.

    Asking again returns the voucher already issued and writes nothing.
    """
    valid_days = valid_days or setting("VOUCHER_VALIDITY_DAYS")
    if valid_days <= 0:
        raise field_error("valid_days", _("Validity must be at least one day."), "invalid")
    with transaction.atomic():
        case = lock_case(case)
        require_may_work(case, actor)
        offer = case.accepted_offer
        existing = Voucher.objects.filter(offer=offer).first() if offer else None
        if existing is not None:
            return existing
        require_state(case, (CaseState.EXECUTING,), _("Issue a voucher"))
        if offer is None or offer.kind != RemedyKind.VOUCHER:
            raise StepNotAllowed(_("The customer did not choose a voucher."))
        now = timezone.now()
        try:
            with transaction.atomic():
                voucher = Voucher.objects.create(
                    offer=offer,
                    customer=case.customer,
                    value=offer.amount,
                    min_spend=offer.min_spend,
                    valid_from=now,
                    valid_until=now + timedelta(days=valid_days),
                )
        except IntegrityError:
            # Issued by a concurrent request between our check and insert.
            return Voucher.objects.get(offer=offer)
        record_event(
            case,
            actor,
            EventKind.VOUCHER_ISSUED,
            payload={
                "voucher": voucher.code,
                "value": voucher.value,
                "min_spend": voucher.min_spend,
                "valid_until": voucher.valid_until,
            },
        )
    return voucher


def offer_record_execution(*, case, actor, reference: str) -> Offer:
    """Record the refund reference or the tracking number of the chosen remedy."""
    reference = (reference or "").strip()
    if not reference:
        raise field_error(
            "reference", _("Enter the refund reference or tracking number."), "required"
        )
    with transaction.atomic():
        case = lock_case(case)
        require_may_work(case, actor)
        require_state(case, (CaseState.EXECUTING,), _("Record an execution step"))
        offer = case.accepted_offer
        if offer is None or offer.kind not in REFERENCE_KINDS:
            raise StepNotAllowed(_("The chosen remedy has no reference to record."))
        offer.execution_reference = reference[:100]
        offer.save()
        record_event(
            case,
            actor,
            EventKind.EXECUTION_STEP,
            payload={"offer": offer.pk, "kind": offer.kind, "reference": offer.execution_reference},
        )
    return offer


def case_mark_executed(*, case, actor):
    """Step 4 done: every execution step of the chosen remedy is complete."""
    with transaction.atomic():
        case = lock_case(case)
        run_transition(case, actor, "mark_executed", payload={"offer": case.accepted_offer_id})
        offer = case.accepted_offer
        offer.executed_at = case.executed_at
        offer.save()
        case.compensation_cost = compensation_cost(case)
        case.save(update_fields=["compensation_cost", "updated_at"])
    return case

"""The conditions of the case transitions, each with the message a user sees
while it does not hold, and who may work a case."""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..conf import setting
from ..sql import Literal
from .contacts import Contact
from .offers import ApprovalStatus, Offer, OfferOutcome


def guard(message):
    """Attach the message shown when this transition condition is not met."""

    def decorate(condition):
        condition.message = message
        return condition

    return decorate


@guard(_("Write down what the customer asks for first."))
def demand_recorded(case) -> bool:
    return bool(case.demand.strip())


@guard(_("Propose at least one offer first."))
def has_open_offer(case) -> bool:
    return (
        case.offers.filter(outcome=OfferOutcome.OPEN)
        .exclude(approval_status=ApprovalStatus.REJECTED)
        .exists()
    )


@guard(_("The customer's choice must be an open offer inside policy or approved."))
def accepted_offer_cleared(case) -> bool:
    offer = case.accepted_offer
    return (
        offer is not None
        and offer.case_id == case.pk
        and offer.outcome == OfferOutcome.OPEN
        and offer.is_cleared
    )


@guard(_("Finish every execution step of the chosen remedy first."))
def execution_complete(case) -> bool:
    offer = case.accepted_offer
    return offer is not None and offer.execution_complete


@guard(_("Record a follow-up contact with the customer after execution first."))
def followed_up_after_execution(case) -> bool:
    return (
        case.executed_at is not None
        and case.contacts.filter(
            outcome__in=Contact.REACHED_OUTCOMES, contacted_at__gte=case.executed_at
        ).exists()
    )


@guard(_("Record the root cause (a leaf of the taxonomy) first."))
def root_cause_recorded(case) -> bool:
    return case.root_cause_id is not None and case.root_cause.parent_id is not None


@guard(_("The reopen window has passed."))
def within_reopen_window(case) -> bool:
    window = timedelta(days=setting("REOPEN_WINDOW_DAYS"))
    return case.closed_at is not None and timezone.now() - case.closed_at <= window


def may_work_case(case, user) -> bool:
    """Return whether ``user`` may act on ``case``.

    Agents work unassigned cases and their own; supervisors (who may
    reassign) work any case.
    """
    if user is None or not user.is_active or not user.has_perm("complaints.work_case"):
        return False
    return case.assignee_id in (None, user.pk) or user.has_perm("complaints.reassign_case")


def may_claim_case(case, user) -> bool:
    """Return whether ``user`` may take the (unassigned) case for themselves."""
    return (
        case.assignee_id is None
        and user is not None
        and user.is_active
        and user.has_perm("complaints.work_case")
    )


def may_assign_case(case, user, assignee) -> bool:
    """Return whether ``user`` may give the case to ``assignee``: supervisors
    assign anyone; anyone who works cases may take an unassigned case."""
    if user is not None and user.is_active and user.has_perm("complaints.reassign_case"):
        return True
    return assignee is not None and assignee == user and may_claim_case(case, user)


def may_decide_offer(offer, user) -> bool:
    """Return whether ``user`` may approve or reject ``offer``: a supervisor,
    and never the one who proposed it (four-eyes)."""
    return (
        user is not None
        and user.is_active
        and user.has_perm("complaints.approve_offer")
        and offer.proposed_by_id != user.pk
    )


def offers_to_decide(user):
    """The pending offers ``user`` may decide, as a queryset: the same
    four-eyes rule as ``may_decide_offer`` (never one's own proposal)."""
    pending = Literal(ApprovalStatus.PENDING)  # rare among all offers: planned for itself
    return Offer.objects.filter(approval_status=pending).exclude(proposed_by=user)


def may_list_queue(name: str, user) -> bool:
    """Return whether ``user`` may list queue ``name``: anyone who works
    cases sees their own, the unassigned and the due ones; the whole team's
    open and closed cases are for supervisors."""
    if user is None or not user.is_active or not user.has_perm("complaints.work_case"):
        return False
    return name not in ("open", "all") or user.has_perm("complaints.view_team")

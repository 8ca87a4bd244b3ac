"""The end of the routine: the customer's satisfaction, the review revision,
the root cause."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import (
    Case,
    CaseState,
    ContactChannel,
    EventKind,
    MarketplaceSettings,
    ResponsibleParty,
    Review,
    RevisionOutcome,
    RootCauseCategory,
)
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


def case_record_satisfaction(
    *, case, actor, satisfied: bool, score: int, comment: str = ""
) -> Case:
    """Step 5: the follow-up asked the customer; satisfied moves on, not
    satisfied goes back to analysis."""
    if score not in range(1, 6):
        raise field_error("score", _("Satisfaction is a score from 1 to 5."), "invalid_score")
    with transaction.atomic():
        case = lock_case(case)
        run_transition(
            case,
            actor,
            "satisfied" if satisfied else "unsatisfied",
            payload={"score": score, "comment": comment},
            score=score,
            comment=comment,
        )
    return case


REVISION_STATES = (CaseState.VERIFYING, CaseState.ROOT_CAUSE, CaseState.CLOSED)


def case_request_review_revision(*, case, actor, channel: str, note: str = "") -> Case:
    """Politely ask the reviewer whether they would revise their review."""
    if channel not in ContactChannel.values:
        raise field_error("channel", _("Unknown channel."), "invalid_choice")
    with transaction.atomic():
        case = lock_case(case)
        require_may_work(case, actor)
        if case.review_id is None:
            raise StepNotAllowed(_("This case has no review to revise."))
        require_state(case, REVISION_STATES, _("Ask for a review revision"))
        review = Review.objects.select_for_update().get(pk=case.review_id)
        if not MarketplaceSettings.for_marketplace(review.marketplace).revision_requests_allowed:
            raise StepNotAllowed(
                _("%(marketplace)s does not allow asking reviewers to revise.")
                % {"marketplace": review.get_marketplace_display()}
            )
        if review.revision_requested_at is not None:
            raise StepNotAllowed(_("A revision was already requested for this review."))
        review.revision_requested_at = timezone.now()
        review.revision_requested_by = actor
        review.revision_request_channel = channel
        review.save(
            update_fields=[
                "revision_requested_at", "revision_requested_by", "revision_request_channel",
            ]
        )  # fmt: skip
        record_event(
            case,
            actor,
            EventKind.REVISION_REQUESTED,
            payload={"review": review.external_id, "channel": channel, "note": note.strip()},
        )
    return case


def case_record_revision_outcome(*, case, actor, outcome: str, revised_rating=None) -> Case:
    """Record what the reviewer did after being asked."""
    if outcome not in RevisionOutcome.values or outcome == RevisionOutcome.PENDING:
        raise field_error("outcome", _("Choose an outcome."), "invalid_choice")
    if outcome == RevisionOutcome.REVISED and revised_rating not in range(1, 6):
        raise field_error("revised_rating", _("Give the new rating (1–5)."), "required")
    with transaction.atomic():
        case = lock_case(case)
        require_may_work(case, actor)
        if case.review_id is None:
            raise StepNotAllowed(_("This case has no review to revise."))
        review = Review.objects.select_for_update().get(pk=case.review_id)
        if review.revision_requested_at is None:
            raise StepNotAllowed(_("No revision was requested for this review."))
        review.revision_outcome = outcome
        review.revised_rating = revised_rating if outcome == RevisionOutcome.REVISED else None
        review.revised_at = timezone.now() if outcome == RevisionOutcome.REVISED else None
        review.save(update_fields=["revision_outcome", "revised_rating", "revised_at"])
        record_event(
            case,
            actor,
            EventKind.REVISION_OUTCOME,
            payload={
                "review": review.external_id,
                "outcome": outcome,
                "revised_rating": revised_rating,
            },
        )
    return case


def case_record_root_cause(
    *,
    case,
    actor,
    root_cause,
    sku: str = "",
    courier: str = "",
    supplier: str = "",
    party: str = "",
    corrective_action: str = "",
) -> Case:
    """Step 6: why it happened, so the shop can fix it."""
    if not isinstance(root_cause, RootCauseCategory) or not root_cause.is_leaf:
        raise field_error(
            "root_cause", _("Choose a specific cause (a leaf of the taxonomy)."), "leaf_required"
        )
    if party and party not in ResponsibleParty.values:
        raise field_error("party", _("Unknown party."), "invalid_choice")
    with transaction.atomic():
        case = lock_case(case)
        require_may_work(case, actor)
        require_state(case, (CaseState.ROOT_CAUSE,), _("Record the root cause"))
        case.root_cause = root_cause
        case.root_cause_sku = sku.strip()
        case.root_cause_courier = courier.strip()
        case.root_cause_supplier = supplier.strip()
        case.root_cause_party = party
        case.corrective_action = corrective_action.strip()
        case.save()
        record_event(
            case,
            actor,
            EventKind.ROOT_CAUSE,
            payload={
                "root_cause": root_cause.code,
                "sku": case.root_cause_sku,
                "courier": case.root_cause_courier,
                "supplier": case.root_cause_supplier,
                "party": party,
                "corrective_action": case.corrective_action,
            },
        )
    return case


def case_complete_corrective_action(*, case, actor, note: str = "") -> Case:
    """Mark the root cause's corrective action done (supervisors and admins):
    the report of open corrective actions then no longer lists it."""
    require_perm(
        actor, "complaints.view_team", _("Only a supervisor may close a corrective action.")
    )
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if not case.corrective_action:
            raise StepNotAllowed(_("This case has no corrective action."))
        if case.corrective_action_done_at is not None:
            raise StepNotAllowed(_("This corrective action is already done."))
        case.corrective_action_done_at = timezone.now()
        case.save(update_fields=["corrective_action_done_at", "updated_at"])
        record_event(
            case,
            actor,
            EventKind.CORRECTIVE_DONE,
            payload={"corrective_action": case.corrective_action, "note": note.strip()},
        )
    return case

"""Operations on a case as a whole: opening, details, assignment, and the
routine's steps that are not about offers or the follow-up."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import sla
from ..models import (
    OPEN_STATES,
    Case,
    CaseSource,
    CaseState,
    EventKind,
    NotificationKind,
    Priority,
    ResponsibleParty,
    Review,
    RootCauseCategory,
    Severity,
)
from ..models.case_rules import may_assign_case
from ..models.cases import allocate_case_number
from ..notifications import notify
from ._base import (
    field_error,
    lock_case,
    record_event,
    require_may_work,
    require_perm,
    require_state,
    run_transition,
)


def _can_work_cases(user) -> bool:
    return user is not None and user.is_active and user.has_perm("complaints.work_case")


def case_open(
    *,
    actor,
    customer,
    source: str,
    summary: str,
    demand: str = "",
    description: str = "",
    order=None,
    review=None,
    priority: int = Priority.NORMAL,
    assignee=None,
    marketplace_due=None,
) -> Case:
    """Open a case for ``customer`` (from an order, a review, or by hand).

    ``actor`` None means the system (an import). An agent opening a case
    without naming an assignee takes it. ``marketplace_due`` is the
    platform's deadline (a dispute's); a review case takes the end of the
    review's reply window.
    """
    if actor is not None:
        require_perm(actor, "complaints.work_case", _("You may not open cases."))
    summary = (summary or "").strip()
    errors = {}
    if not summary:
        errors["summary"] = ValidationError(_("Write a one-line summary."), code="required")
    if source not in CaseSource.values:
        errors["source"] = ValidationError(_("Unknown source."), code="invalid_choice")
    if priority not in Priority.values:
        errors["priority"] = ValidationError(_("Unknown priority."), code="invalid_choice")
    if review is not None:
        if review.customer_id != customer.pk:
            errors["review"] = ValidationError(
                _("The review was written by another customer."), code="customer_mismatch"
            )
        if order is None:
            order = review.order
        elif review.order_id and review.order_id != order.pk:
            errors["review"] = ValidationError(
                _("The review belongs to another order."), code="order_mismatch"
            )
    if order is not None and order.customer_id != customer.pk:
        errors["order"] = ValidationError(
            _("The order belongs to another customer."), code="customer_mismatch"
        )
    if review is not None and marketplace_due is not None:
        errors["marketplace_due"] = _review_deadline_refused()
    if assignee is None and _can_work_cases(actor):
        assignee = actor
    if assignee is not None and not _can_work_cases(assignee):
        errors["assignee"] = ValidationError(
            _("%(user)s cannot work cases.") % {"user": assignee}, code="not_an_agent"
        )
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        if review is not None:
            # Serialise openings per review so it gets one open case, not two.
            Review.objects.select_for_update().get(pk=review.pk)
            if Case.objects.open().filter(review=review).exists():
                raise ValidationError(
                    _("This review already has an open case."), code="duplicate_review_case"
                )
        opened_at = timezone.now()
        case = Case(
            number=allocate_case_number(opened_at),
            created_at=opened_at,
            source=source,
            customer=customer,
            order=order,
            review=review,
            summary=summary,
            demand=demand.strip(),
            description=description,
            priority=priority,
            assignee=assignee,
            opened_by=actor,
        )
        sla.schedule(case)
        if review is not None:
            _start_reply_window_clock(case, review)
        elif marketplace_due is not None:
            sla.set_marketplace_deadline(case, due=marketplace_due, started=opened_at)
        case.save(force_insert=True)
        if assignee is not None and assignee != actor:
            _notify_assignee(case, assignee)
        record_event(
            case,
            actor,
            EventKind.OPENED,
            to_state=case.state,
            payload={
                "source": source,
                "summary": summary,
                "assignee": assignee.get_username() if assignee else None,
            },
        )
    return case


def _review_deadline_refused() -> ValidationError:
    return ValidationError(
        _("A review case follows the review's reply window."), code="review_deadline"
    )


def _start_reply_window_clock(case, review) -> None:
    reply = getattr(review, "reply", None) if review.pk else None
    sla.set_marketplace_deadline(
        case, due=sla.review_reply_deadline(review), started=review.posted_at
    )
    if reply is not None and reply.published_at is not None:
        case.marketplace_met_at = reply.published_at
        sla.refresh_due(case)


def case_open_from_review(*, review, actor=None) -> Case:
    """Open a review case for a medium or negative review."""
    stars = "★" * review.rating
    text = " ".join(review.text.split())
    summary = (
        f"{stars} {text}"[:200] if text else _("%(stars)s review without text") % {"stars": stars}
    )
    return case_open(
        actor=actor,
        customer=review.customer,
        source=CaseSource.REVIEW,
        summary=summary,
        description=review.text,
        review=review,
        priority=Priority.HIGH if review.rating == 1 else Priority.NORMAL,
    )


UNCHANGED = object()


def case_update_details(
    *,
    case,
    actor,
    summary=None,
    demand=None,
    description=None,
    priority=None,
    marketplace_due=UNCHANGED,
) -> Case:
    """Change the case's summary, demand, account, priority or platform deadline
    (None clears it). A new priority recomputes the SLA clocks."""
    with transaction.atomic():
        case = lock_case(case)
        require_may_work(case, actor)
        require_state(case, OPEN_STATES, _("Edit"))
        changes = {}
        for field, value in (
            ("summary", summary),
            ("demand", demand),
            ("description", description),
            ("priority", priority),
        ):
            if value is None:
                continue
            if isinstance(value, str):
                value = value.strip()
            if field == "summary" and not value:
                raise field_error("summary", _("Write a one-line summary."), "required")
            if field == "priority" and value not in Priority.values:
                raise field_error("priority", _("Unknown priority."), "invalid_choice")
            if getattr(case, field) != value:
                changes[field] = {"from": getattr(case, field), "to": value}
                setattr(case, field, value)
        if marketplace_due is not UNCHANGED and marketplace_due != case.marketplace_due:
            if case.review_id:
                raise ValidationError({"marketplace_due": _review_deadline_refused()})
            changes["marketplace_due"] = {"from": case.marketplace_due, "to": marketplace_due}
            sla.set_marketplace_deadline(case, due=marketplace_due, started=timezone.now())
        if not changes:
            return case
        if "priority" in changes:
            sla.schedule(case)
            changes["resolution_due"] = case.resolution_due
            if case.first_response_at is None:
                changes["first_response_due"] = case.first_response_due
        case.save()
        record_event(case, actor, EventKind.DETAILS, payload=changes)
    return case


def case_assign(*, case, assignee, actor) -> Case:
    """Give the case to ``assignee`` (None: back to the unassigned queue).

    Anyone who works cases may take an unassigned case; only a supervisor
    may assign to someone else or take a case from a colleague.
    """
    with transaction.atomic():
        case = lock_case(case)
        if not may_assign_case(case, actor, assignee):
            raise PermissionDenied(_("Only a supervisor may assign cases to others."))
        require_state(case, OPEN_STATES, _("Assign"))
        if assignee is not None and not _can_work_cases(assignee):
            raise field_error(
                "assignee", _("%(user)s cannot work cases.") % {"user": assignee}, "not_an_agent"
            )
        previous = case.assignee
        if previous == assignee:
            return case
        case.assignee = assignee
        case.save()
        record_event(
            case,
            actor,
            EventKind.ASSIGNMENT,
            payload={
                "from": previous.get_username() if previous else None,
                "to": assignee.get_username() if assignee else None,
            },
        )
        if assignee is not None and assignee != actor:
            _notify_assignee(case, assignee)
    return case


def _notify_assignee(case, assignee) -> None:
    notify(
        recipient=assignee,
        kind=NotificationKind.ASSIGNED,
        case=case,
        message=_("Case %(number)s is now yours: %(summary)s")
        % {"number": case.number, "summary": case.summary},
    )


def case_confirm(*, case, actor, demand=None, description=None) -> Case:
    """Step 1: the issue and the customer's demand are written down."""
    with transaction.atomic():
        case = lock_case(case)
        require_may_work(case, actor)
        if demand is not None:
            case.demand = demand.strip()
        if description is not None:
            case.description = description.strip()
        run_transition(case, actor, "confirm", payload={"demand": case.demand})
    return case


def case_analyze(*, case, actor, category, severity: int, responsible_party: str = "") -> Case:
    """Step 2: how serious it is, what kind of problem, who is responsible."""
    errors = {}
    if category is None or not isinstance(category, RootCauseCategory):
        errors["category"] = ValidationError(_("Choose a category."), code="required")
    if severity not in Severity.values:
        errors["severity"] = ValidationError(_("Choose a severity."), code="required")
    if responsible_party and responsible_party not in ResponsibleParty.values:
        errors["responsible_party"] = ValidationError(_("Unknown party."), code="invalid_choice")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        case = lock_case(case)
        require_may_work(case, actor)
        require_state(case, (CaseState.ANALYZING, CaseState.PROPOSING), _("Analyze"))
        case.category = category
        case.severity = severity
        case.responsible_party = responsible_party
        case.save()
        record_event(
            case,
            actor,
            EventKind.ANALYSIS,
            payload={
                "category": category.code,
                "severity": severity,
                "responsible_party": responsible_party,
            },
        )
    return case


def case_close(*, case, actor) -> Case:
    with transaction.atomic():
        case = lock_case(case)
        run_transition(case, actor, "close")
    return case


def case_reopen(*, case, actor, reason: str = "") -> Case:
    """Reopen a closed case within the reopen window."""
    with transaction.atomic():
        case = lock_case(case)
        run_transition(case, actor, "reopen", payload={"reason": reason.strip()})
    return case


def case_cancel(*, case, actor, reason: str) -> Case:
    """Cancel an open case (duplicate, withdrawn, spam); the reason is required."""
    if not reason or not reason.strip():
        raise field_error("reason", _("Say why the case is cancelled."), "reason_required")
    with transaction.atomic():
        case = lock_case(case)
        run_transition(case, actor, "cancel", payload={"reason": reason.strip()}, reason=reason)
    return case

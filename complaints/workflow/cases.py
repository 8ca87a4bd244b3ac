"""Operations on a case as a whole: opening, assigning, notes, contacts,
evidence, and the routine's steps that are not about offers."""

import logging
import secrets
from datetime import timedelta
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..conf import setting
from ..models import (
    OPEN_STATES,
    Case,
    CaseSource,
    CaseState,
    Contact,
    ContactChannel,
    ContactOutcome,
    EventKind,
    Evidence,
    Priority,
    ResponsibleParty,
    Review,
    RevisionOutcome,
    RootCauseCategory,
    Severity,
)
from ..models.cases import EVIDENCE_EXTENSIONS, allocate_case_number
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

logger = logging.getLogger("complaints.workflow")

# A contact time this far ahead of the server clock is a typing mistake.
CLOCK_SKEW = timedelta(minutes=5)


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
) -> Case:
    """Open a case for ``customer`` (from an order, a review, or by hand).

    ``actor`` None means the system (an import). An agent opening a case
    without naming an assignee takes it.
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
        case = Case.objects.create(
            number=allocate_case_number(),
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
    if assignee is not None and assignee != actor:
        _notify_assignee_on_commit(case, assignee)
    return case


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


def case_update_details(
    *, case, actor, summary=None, demand=None, description=None, priority=None
) -> Case:
    """Change the case's summary, demand, account or priority."""
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
        if not changes:
            return case
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
        claiming = assignee is not None and assignee == actor and case.assignee_id is None
        if claiming:
            require_perm(actor, "complaints.work_case", _("You may not work cases."))
        else:
            require_perm(
                actor,
                "complaints.reassign_case",
                _("Only a supervisor may assign cases to others."),
            )
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
        _notify_assignee_on_commit(case, assignee)
    return case


def _notify_assignee_on_commit(case, assignee) -> None:
    if not assignee.email:
        return

    def send():
        try:
            send_mail(
                subject=_("Case %(number)s is now yours") % {"number": case.number},
                message=_("%(number)s: %(summary)s")
                % {"number": case.number, "summary": case.summary},
                from_email=None,
                recipient_list=[assignee.email],
            )
        except OSError:
            logger.exception("Could not e-mail %s about case %s", assignee, case.number)

    transaction.on_commit(send)


def case_add_note(*, case, actor, text: str):
    """Add an internal note to the case's timeline."""
    text = (text or "").strip()
    if not text:
        raise field_error("text", _("The note is empty."), "required")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        require_perm(actor, "complaints.work_case", _("You may not work cases."))
        return record_event(case, actor, EventKind.NOTE, payload={"text": text})


def case_record_contact(
    *,
    case,
    actor,
    channel: str,
    outcome: str,
    notes: str = "",
    inbound: bool = False,
    contacted_at=None,
) -> Contact:
    """Record a call, chat or message with the customer.

    The first contact is the case's first response.
    """
    now = timezone.now()
    contacted_at = contacted_at or now
    errors = {}
    if channel not in ContactChannel.values:
        errors["channel"] = ValidationError(_("Unknown channel."), code="invalid_choice")
    if outcome not in ContactOutcome.values:
        errors["outcome"] = ValidationError(_("Unknown outcome."), code="invalid_choice")
    if contacted_at > now + CLOCK_SKEW:
        errors["contacted_at"] = ValidationError(
            _("The contact time is in the future."), code="future"
        )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        case = lock_case(case)
        require_may_work(case, actor)
        require_state(case, OPEN_STATES, _("Record a contact"))
        if contacted_at < case.created_at:
            raise field_error(
                "contacted_at", _("The contact time is before the case was opened."), "before_case"
            )
        contact = Contact.objects.create(
            case=case,
            agent=actor,
            channel=channel,
            outcome=outcome,
            notes=notes.strip(),
            inbound=inbound,
            contacted_at=contacted_at,
        )
        if case.first_response_at is None:
            case.first_response_at = contacted_at
            case.save(update_fields=["first_response_at", "updated_at"])
        record_event(
            case,
            actor,
            EventKind.CONTACT,
            payload={
                "contact": contact.pk,
                "channel": channel,
                "outcome": outcome,
                "inbound": inbound,
                "notes": contact.notes,
                "contacted_at": contacted_at,
            },
        )
    return contact


def validate_evidence_file(upload) -> str:
    """Return the evidence kind of ``upload`` or raise ValidationError."""
    name = upload.name or ""
    suffix = PurePath(name).suffix.lower()
    kind = EVIDENCE_EXTENSIONS.get(suffix)
    if kind is None:
        raise field_error(
            "file", _("Upload a photo (JPEG, PNG, WebP, GIF), a PDF or an MP4 video."), "file_type"
        )
    limit = setting("EVIDENCE_MAX_BYTES")
    if upload.size > limit:
        raise field_error(
            "file", _("The file is larger than %(mb)s MB.") % {"mb": limit // 2**20}, "file_size"
        )
    if upload.size == 0:
        raise field_error("file", _("The file is empty."), "file_empty")
    if kind == "image":
        from PIL import Image, UnidentifiedImageError

        try:
            upload.seek(0)
            with Image.open(upload) as image:
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise field_error(
                "file", _("The file is not a readable image."), "file_corrupt"
            ) from exc
        finally:
            upload.seek(0)
    return kind


def case_add_evidence(*, case, actor, file, description: str = "") -> Evidence:
    """Attach a photo or document the customer sent."""
    kind = validate_evidence_file(file)
    with transaction.atomic():
        case = lock_case(case)
        require_may_work(case, actor)
        require_state(case, OPEN_STATES, _("Add evidence"))
        evidence = Evidence(
            case=case,
            kind=kind,
            original_name=PurePath(file.name).name[:200],
            size=file.size,
            description=description.strip(),
            uploaded_by=actor,
            token=secrets.token_hex(8),
        )
        evidence.file.save(file.name, file, save=False)
        evidence.save()
        record_event(
            case,
            actor,
            EventKind.EVIDENCE,
            payload={"evidence": evidence.pk, "name": evidence.original_name, "kind": kind},
        )
    return evidence


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
        if review.revision_requested_at is not None:
            raise StepNotAllowed(_("A revision was already requested for this review."))
        review.revision_requested_at = timezone.now()
        review.revision_requested_by = actor
        review.revision_request_channel = channel
        review.save()
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
        review.save()
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


__all__ = [
    "case_add_evidence",
    "case_add_note",
    "case_analyze",
    "case_assign",
    "case_cancel",
    "case_close",
    "case_confirm",
    "case_open",
    "case_open_from_review",
    "case_record_contact",
    "case_record_revision_outcome",
    "case_record_root_cause",
    "case_record_satisfaction",
    "case_reopen",
    "case_request_review_revision",
    "case_update_details",
]

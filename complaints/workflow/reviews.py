"""The shop's public reply to a review: drafted, published, and every change
to a published reply kept (buyers saw the old text)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import sla
from ..models import (
    REPLY_MAX_LENGTH,
    Case,
    EventKind,
    ReplyEdit,
    ReplyStatus,
    Review,
    ReviewReply,
)
from ._base import StepNotAllowed, field_error, record_event, require_perm


def reply_version(reply) -> str:
    """Return a token that changes whenever the reply is saved (for stale forms)."""
    return reply.updated_at.isoformat() if reply is not None and reply.updated_at else ""


def review_reply_save(
    *, review, actor, text: str, publish: bool = False, expected_version: str | None = None
) -> ReviewReply:
    """Save the shop's reply to ``review`` as a draft, or publish it.

    Editing a published reply keeps the text buyers saw in a ReplyEdit; when
    the review has a case, its timeline records the reply.
    """
    require_perm(actor, "complaints.work_case", _("You may not reply to reviews."))
    text = (text or "").strip()
    if not text:
        raise field_error("text", _("The reply is empty."), "required")
    if len(text) > REPLY_MAX_LENGTH:
        raise field_error(
            "text",
            _("A reply has at most %(max)s characters (this one has %(count)s).")
            % {"max": REPLY_MAX_LENGTH, "count": len(text)},
            "too_long",
        )
    now = timezone.now()
    with transaction.atomic():
        review = Review.objects.select_for_update().get(pk=review.pk)
        reply = ReviewReply.objects.filter(review=review).first()
        if expected_version is not None and expected_version != reply_version(reply):
            raise StepNotAllowed(
                _("Someone changed this reply meanwhile: check theirs; your text is kept.")
            )
        if reply is None:
            reply = ReviewReply(review=review, text=text, author=actor)
        elif reply.status == ReplyStatus.PUBLISHED and reply.text != text:
            ReplyEdit.objects.create(reply=reply, previous_text=reply.text, edited_by=actor)
        reply.text = text
        if publish or reply.status == ReplyStatus.PUBLISHED:
            if reply.status != ReplyStatus.PUBLISHED:
                reply.published_at = now
                reply.author = actor
            reply.status = ReplyStatus.PUBLISHED
        else:
            reply.author = actor
        reply.save()
        case = (
            Case.objects.select_for_update().filter(review=review).order_by("-created_at").first()
        )
        if case is not None and reply.published_at is not None:
            _reply_meets_clocks(case, reply.published_at)
        if case is not None:
            record_event(
                case,
                actor,
                EventKind.REVIEW_REPLIED,
                payload={"review": review.external_id, "status": reply.status, "text": text},
            )
    return reply


def _reply_meets_clocks(case, published_at) -> None:
    """A published reply is the case's first response and meets the reply window."""
    changed = False
    if case.first_response_at is None:
        case.first_response_at = published_at
        changed = True
    if case.marketplace_due is not None and case.marketplace_met_at is None:
        case.marketplace_met_at = published_at
        changed = True
    if changed:
        sla.refresh_due(case)
        case.save()

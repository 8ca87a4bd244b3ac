"""What agents add to a case as they work it: notes, contacts with the
customer, evidence."""

import secrets
from datetime import timedelta
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import sla
from ..models import (
    OPEN_STATES,
    Case,
    Contact,
    ContactChannel,
    ContactOutcome,
    EventKind,
    Evidence,
)
from ..uploads import clean_evidence
from ._base import (
    field_error,
    lock_case,
    record_event,
    require_may_work,
    require_perm,
    require_state,
)

# A contact time this far ahead of the server clock is a typing mistake.
CLOCK_SKEW = timedelta(minutes=5)


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
        clock = _move_clocks(case, outcome=outcome, inbound=inbound, at=contacted_at)
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
                **clock,
            },
        )
    return contact


def _move_clocks(case, *, outcome: str, inbound: bool, at) -> dict:
    """Apply a contact to the case's clocks and save them.

    The first contact is the first response. "Waiting on the customer" stops
    the resolution clock; the customer's next contact (theirs, or one that
    reached them) restarts it. Return what changed, for the contact's event.
    """
    change = {}
    if case.first_response_at is None:
        case.first_response_at = at
    if outcome == ContactOutcome.WAITING:
        if case.waiting_since is None:
            sla.pause(case, at=at)
            change = {"clock": "paused"}
    elif case.waiting_since is not None and (inbound or outcome == ContactOutcome.REACHED):
        waited = sla.resume(case, at=at)
        change = {
            "clock": "resumed",
            "waited_seconds": int(waited.total_seconds()),
            "resolution_due": case.resolution_due,
        }
    sla.refresh_due(case)
    case.save()
    return change


def case_add_evidence(*, case, actor, file, description: str = "") -> Evidence:
    """Attach a photo or document the customer sent.

    The file is checked by its content; photos are stored re-encoded without
    their metadata, with a thumbnail (see complaints.uploads).
    """
    clean = clean_evidence(file)
    with transaction.atomic():
        case = lock_case(case)
        require_may_work(case, actor)
        require_state(case, OPEN_STATES, _("Add evidence"))
        evidence = Evidence(
            case=case,
            kind=clean.kind,
            content_type=clean.content_type,
            original_name=PurePath(file.name or clean.name).name[:200],
            size=clean.content.size,
            description=description.strip(),
            uploaded_by=actor,
            token=secrets.token_hex(8),
        )
        evidence.file.save(clean.name, clean.content, save=False)
        if clean.thumbnail is not None:
            evidence.thumbnail.save(f"thumb-{clean.name}.jpg", clean.thumbnail, save=False)
        evidence.save()
        record_event(
            case,
            actor,
            EventKind.EVIDENCE,
            payload={
                "evidence": evidence.pk,
                "name": evidence.original_name,
                "kind": clean.kind,
            },
        )
    return evidence

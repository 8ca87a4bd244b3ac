"""The SLA sweep: warn when a clock is nearly used up, escalate when it runs out.

Each warning and breach is raised once per clock and due time: an SlaAlert
row, unique in the database, proves it was raised, so repeated or
concurrent sweeps never notify or escalate twice.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import sla
from ..models import (
    Case,
    EventKind,
    NotificationKind,
    Priority,
    SlaAlert,
    SlaAlertLevel,
    SlaClock,
    open_q,
)
from ..notifications import notify
from ..people import supervisors
from ._base import record_event

logger = logging.getLogger("complaints.sla")


@dataclass
class SweepResult:
    warnings: int = 0
    breaches: int = 0
    failed: int = 0


def _raised(clock: str, level: str, due_field: str) -> Exists:
    return Exists(
        SlaAlert.objects.filter(
            case=OuterRef("pk"), clock=clock, level=level, due_at=OuterRef(due_field)
        )
    )


def cases_needing_alerts(now: datetime):
    """Return the open cases with a warning or a breach not raised yet."""
    wanted = Q()
    for clock, (due, warn, stop) in sla.CLOCK_FIELDS.items():
        needs_warning = Q(**{f"{warn}__lte": now, f"{due}__gt": now}) & ~Q(
            _raised(clock, SlaAlertLevel.WARNING, due)
        )
        needs_breach = Q(**{f"{due}__lte": now}) & ~Q(_raised(clock, SlaAlertLevel.BREACH, due))
        wanted |= sla.running_q(stop) & (needs_warning | needs_breach)
    return Case.objects.filter(open_q()).filter(wanted)


def sla_sweep(*, now: datetime | None = None) -> SweepResult:
    """Raise every warning and breach now due; return how many.

    Each case is its own transaction under its row lock: a case changed
    meanwhile is judged as it is now, and one failure does not stop the rest.
    """
    now = now or timezone.now()
    result = SweepResult()
    for pk in list(cases_needing_alerts(now).values_list("pk", flat=True)):
        try:
            with transaction.atomic():
                warnings, breaches = _sweep_case(pk, now)
        except Exception:
            logger.exception("SLA sweep failed on case %s", pk)
            result.failed += 1
            continue
        result.warnings += warnings
        result.breaches += breaches
    return result


def _sweep_case(pk: int, now: datetime) -> tuple[int, int]:
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("assignee", "sla_policy")
        .get(pk=pk)
    )
    warnings = breaches = 0
    for clock, (due, warn_at) in sla.running_clocks(case).items():
        if due <= now:
            if _raise_once(case, clock, SlaAlertLevel.BREACH, due):
                _escalate(case, clock, due)
                breaches += 1
        elif (
            warn_at is not None
            and warn_at <= now
            and _raise_once(case, clock, SlaAlertLevel.WARNING, due)
        ):
            _warn(case, clock, due)
            warnings += 1
    return warnings, breaches


def _raise_once(case, clock: str, level: str, due: datetime) -> bool:
    _alert, created = SlaAlert.objects.get_or_create(
        case=case, clock=clock, level=level, due_at=due
    )
    return created


def _clock_name(clock: str) -> str:
    return str(SlaClock(clock).label)


def _warn(case, clock: str, due: datetime) -> None:
    message = _("%(number)s: %(clock)s is due %(due)s and at risk. %(summary)s") % {
        "number": case.number,
        "clock": _clock_name(clock),
        "due": timezone.localtime(due).strftime("%Y-%m-%d %H:%M"),
        "summary": case.summary,
    }
    recipients = [case.assignee] if case.assignee_id else list(supervisors())
    for recipient in recipients:
        notify(recipient=recipient, kind=NotificationKind.DEADLINE, message=message, case=case)
    record_event(case, None, EventKind.SLA_WARNING, payload={"clock": clock, "due": due})


def _escalate(case, clock: str, due: datetime) -> None:
    """Raise the priority one level, log it, tell the assignee and the supervisors.

    The due times stay: the deadline has passed, and moving it would hide that.
    """
    before = case.priority
    if case.priority < Priority.URGENT:
        case.priority += 1
        Case.objects.filter(pk=case.pk).update(priority=case.priority, updated_at=timezone.now())
    message = _(
        "%(number)s: %(clock)s was due %(due)s and is overdue; priority %(priority)s. %(summary)s"
    ) % {
        "number": case.number,
        "clock": _clock_name(clock),
        "due": timezone.localtime(due).strftime("%Y-%m-%d %H:%M"),
        "priority": case.get_priority_display(),
        "summary": case.summary,
    }
    recipients = {user.pk: user for user in supervisors()}
    if case.assignee_id:
        recipients[case.assignee_id] = case.assignee
    for recipient in recipients.values():
        notify(recipient=recipient, kind=NotificationKind.ESCALATION, message=message, case=case)
    record_event(
        case,
        None,
        EventKind.ESCALATED,
        payload={
            "clock": clock,
            "due": due,
            "priority": {"from": before, "to": case.priority},
            "notified": sorted(user.get_username() for user in recipients.values()),
        },
    )

"""The supervisors' deadline board: open cases whose clocks ran out or soon will."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from .. import sla
from ..models import Case, open_q

BOARD_STATUSES = ("breached", "at_risk", "waiting")


@dataclass(frozen=True)
class DeadlineSummary:
    breached: int
    at_risk: int
    waiting: int

    def count(self, status: str = "") -> int:
        """How many cases ``deadline_cases(status)`` lists, from these counts
        (the board's pager needs no second pass over the open cases)."""
        if status == "":
            return self.breached + self.at_risk  # at risk excludes breached
        if status not in BOARD_STATUSES:
            raise ValueError(status)
        return getattr(self, status)


def deadline_summary(*, now: datetime | None = None) -> DeadlineSummary:
    """Count open cases breached, at risk and waiting on the customer (one query)."""
    now = now or timezone.now()
    counts = Case.objects.filter(open_q()).aggregate(
        breached=Count("pk", filter=sla.breached_q(now)),
        at_risk=Count("pk", filter=sla.at_risk_q(now) & ~sla.breached_q(now)),
        waiting=Count("pk", filter=Q(waiting_since__isnull=False)),
    )
    return DeadlineSummary(**counts)


def deadline_cases(status: str = "", *, now: datetime | None = None) -> QuerySet:
    """Return the open cases on the board, the earliest deadline first.

    ``status``: "breached", "at_risk", "waiting", or "" for breached and at risk.
    """
    now = now or timezone.now()
    cases = Case.objects.filter(open_q()).select_related("customer", "assignee", "sla_policy")
    if status == "breached":
        cases = cases.filter(sla.breached_q(now))
    elif status == "at_risk":
        cases = cases.filter(sla.at_risk_q(now)).exclude(sla.breached_q(now))
    elif status == "waiting":
        cases = cases.filter(waiting_since__isnull=False)
    elif status == "":
        cases = cases.filter(sla.breached_q(now) | sla.at_risk_q(now))
    else:
        raise ValueError(status)
    # Waiting cases have no running deadline: last, on every database.
    return cases.order_by(F("due_at").asc(nulls_last=True), "-priority", "pk")


def attach_clock_states(cases, *, now: datetime | None = None) -> list:
    """Set ``clock_states`` on each case: [(clock label, due, "breached"/"at_risk")]
    for its running clocks past their warning time (no queries)."""
    now = now or timezone.now()
    cases = list(cases)
    for case in cases:
        states = []
        for clock, (due, warn_at) in sla.running_clocks(case).items():
            if due <= now:
                states.append((sla.SlaClock(clock).label, due, "breached"))
            elif warn_at is not None and warn_at <= now:
                states.append((sla.SlaClock(clock).label, due, "at_risk"))
        case.clock_states = states
    return cases

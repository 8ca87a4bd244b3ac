"""Deadline arithmetic: working time, the SLA policy of a case, and its clocks.

A case runs up to three clocks: the first response and the resolution (from
its SLA policy, in the policy's working hours or around the clock) and the
marketplace's own deadline (wall-clock time, e.g. the review reply window).
The resolution clock stops while the case waits on the customer. ``due_at``
is the earliest running clock; the sweep in ``complaints.workflow.sla``
warns and escalates from the stored warn and due times.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from .conf import setting
from .models import OPEN_STATES, MarketplaceSettings, SlaClock, SlaPolicy

logger = logging.getLogger("complaints.sla")

# A calendar with no working time in this many days is broken: stop looking.
MAX_DAYS = 3 * 366
MIDNIGHT = time(0, 0)


def _span_end(day: date, closes: time, tz) -> datetime:
    if closes == MIDNIGHT:
        return datetime.combine(day + timedelta(days=1), MIDNIGHT, tzinfo=tz)
    return datetime.combine(day, closes, tzinfo=tz)


class NoWorkingTime(ValueError):
    """The calendar has no working time left to count."""


class AroundTheClock:
    """Every second counts."""

    def add(self, start: datetime, duration: timedelta) -> datetime:
        return start + duration

    def between(self, start: datetime, end: datetime) -> timedelta:
        return max(end - start, timedelta(0))


@dataclass(frozen=True)
class WorkingTime:
    """A weekly timetable in a time zone, with dates that differ from it."""

    tz: ZoneInfo
    weekly: dict[int, list[tuple[time, time]]]
    special: dict[date, list[tuple[time, time]]] = field(default_factory=dict)

    def spans(self, day: date) -> list[tuple[datetime, datetime]]:
        """Return the working spans of ``day`` as aware datetimes, in order."""
        times = self.special.get(day)
        if times is None:
            times = self.weekly.get(day.weekday(), [])
        return sorted(
            (datetime.combine(day, opens, tzinfo=self.tz), _span_end(day, closes, self.tz))
            for opens, closes in times
        )

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """Return the moment ``duration`` of working time after ``start``."""
        if duration <= timedelta(0):
            return start
        remaining = duration
        day = start.astimezone(self.tz).date()
        for _ in range(MAX_DAYS):
            for opens, closes in self.spans(day):
                opens = max(opens, start)
                if closes <= opens:
                    continue
                available = closes - opens
                if remaining <= available:
                    return opens + remaining
                remaining -= available
            day += timedelta(days=1)
        raise NoWorkingTime("The calendar has no working time in the next three years.")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Return the working time from ``start`` to ``end``."""
        total = timedelta(0)
        if end <= start:
            return total
        day = start.astimezone(self.tz).date()
        last = end.astimezone(self.tz).date()
        while day <= last:
            for opens, closes in self.spans(day):
                overlap = min(closes, end) - max(opens, start)
                if overlap > timedelta(0):
                    total += overlap
            day += timedelta(days=1)
        return total


AROUND_THE_CLOCK = AroundTheClock()


def working_time(calendar) -> WorkingTime | AroundTheClock:
    """Load ``calendar`` (None: around the clock) for the arithmetic."""
    if calendar is None:
        return AROUND_THE_CLOCK
    weekly: dict[int, list[tuple[time, time]]] = {}
    for weekday, opens, closes in calendar.hours.values_list("weekday", "opens", "closes"):
        weekly.setdefault(weekday, []).append((opens, closes))
    special: dict[date, list[tuple[time, time]]] = {}
    for day, opens, closes in calendar.special_days.values_list("date", "opens", "closes"):
        special[day] = [] if opens is None else [(opens, closes)]
    return WorkingTime(tz=ZoneInfo(calendar.time_zone), weekly=weekly, special=special)


def policy_for(source: str, priority: int) -> SlaPolicy | None:
    """Return the most specific active policy for a case, or None."""
    candidates = (
        SlaPolicy.objects.active()
        .filter(Q(source=source) | Q(source=""), Q(priority=priority) | Q(priority__isnull=True))
        .select_related("calendar")
    )
    return max(candidates, key=lambda policy: policy.specificity, default=None)


@dataclass(frozen=True)
class Targets:
    first_response: timedelta
    resolution: timedelta
    warn_percent: int
    clock: WorkingTime | AroundTheClock


def targets(policy: SlaPolicy | None, priority: int) -> Targets:
    """Return the times a case must meet under ``policy`` (None: the
    deployment's round-the-clock hours by priority)."""
    if policy is None:
        return Targets(
            first_response=timedelta(hours=setting("FIRST_RESPONSE_HOURS")[priority]),
            resolution=timedelta(hours=setting("RESOLUTION_HOURS")[priority]),
            warn_percent=setting("SLA_WARN_PERCENT"),
            clock=AROUND_THE_CLOCK,
        )
    return Targets(
        first_response=policy.first_response_time,
        resolution=policy.resolution_time,
        warn_percent=policy.warn_percent,
        clock=working_time(policy.calendar),
    )


def _checked_add(clock, start: datetime, duration: timedelta) -> datetime:
    try:
        return clock.add(start, duration)
    except NoWorkingTime:
        logger.error("Calendar without working time; counting around the clock instead.")
        return AROUND_THE_CLOCK.add(start, duration)


def _share(duration: timedelta, percent: int) -> timedelta:
    return duration * percent / 100


def schedule(case, *, policy_lookup: bool = True) -> None:
    """Set the case's first-response and resolution clocks (not saved).

    Called when the case opens and when its priority changes
    (``policy_lookup``: pick the policy again), and when a pause ends (keep
    the case's policy). The first-response clock is left alone once met.
    """
    if policy_lookup:
        case.sla_policy = policy_for(case.source, case.priority)
    goal = targets(case.sla_policy, case.priority)
    opened = case.created_at
    if case.first_response_at is None:
        case.first_response_due = _checked_add(goal.clock, opened, goal.first_response)
        case.first_response_warn_at = _checked_add(
            goal.clock, opened, _share(goal.first_response, goal.warn_percent)
        )
    started = case.clock_started_at or opened
    paused = timedelta(seconds=case.paused_seconds)
    case.resolution_due = _checked_add(goal.clock, started, goal.resolution + paused)
    case.resolution_warn_at = _checked_add(
        goal.clock, started, _share(goal.resolution, goal.warn_percent) + paused
    )
    refresh_due(case)


def warn_percent(case) -> int:
    if case.sla_policy_id is not None:
        return case.sla_policy.warn_percent
    return setting("SLA_WARN_PERCENT")


def set_marketplace_deadline(case, *, due: datetime | None, started: datetime) -> None:
    """Run the marketplace's clock from ``started`` to ``due`` (None: no such
    deadline); it warns at the same share of its time as the SLA policy."""
    case.marketplace_due = due
    if due is None:
        case.marketplace_warn_at = None
    else:
        span = max(due - started, timedelta(0))
        case.marketplace_warn_at = started + _share(span, warn_percent(case))
    refresh_due(case)


def review_reply_deadline(review) -> datetime:
    """Return when the marketplace stops accepting the shop's reply."""
    days = MarketplaceSettings.for_marketplace(review.marketplace).reply_window_days
    return review.posted_at + timedelta(days=days)


# clock: (due field, warn field, the field whose value stops the clock).
# The one statement of when each clock runs: in SQL (the Q functions) and in
# Python (running_clocks) alike.
CLOCK_FIELDS = {
    SlaClock.FIRST_RESPONSE: ("first_response_due", "first_response_warn_at", "first_response_at"),
    SlaClock.RESOLUTION: ("resolution_due", "resolution_warn_at", "waiting_since"),
    SlaClock.MARKETPLACE: ("marketplace_due", "marketplace_warn_at", "marketplace_met_at"),
}


def running_q(stop_field: str) -> Q:
    """Q for cases whose clock stopped by ``stop_field`` still runs."""
    return Q(**{f"{stop_field}__isnull": True})


def breached_q(now: datetime) -> Q:
    """Q for cases with a running clock past its due time (filter open cases)."""
    wanted = Q()
    for due, _warn, stop in CLOCK_FIELDS.values():
        wanted |= running_q(stop) & Q(**{f"{due}__lte": now})
    return wanted


def at_risk_q(now: datetime) -> Q:
    """Q for cases with a running clock past its warning time, not yet due."""
    wanted = Q()
    for due, warn, stop in CLOCK_FIELDS.values():
        wanted |= running_q(stop) & Q(**{f"{warn}__lte": now, f"{due}__gt": now})
    return wanted


def running_clocks(case) -> dict[str, tuple[datetime, datetime | None]]:
    """Return {clock: (due, warn at)} for the clocks of ``case`` now running."""
    if case.state not in OPEN_STATES:
        return {}
    return {
        clock: (getattr(case, due), getattr(case, warn))
        for clock, (due, warn, stop) in CLOCK_FIELDS.items()
        if getattr(case, stop) is None and getattr(case, due) is not None
    }


def refresh_due(case) -> None:
    """Set ``due_at`` to the earliest running clock (None when none runs)."""
    dues = [due for due, _warn in running_clocks(case).values()]
    case.due_at = min(dues, default=None)


def pause(case, *, at: datetime) -> None:
    """Stop the resolution clock: the case waits on the customer."""
    if case.waiting_since is None:
        case.waiting_since = at
        refresh_due(case)


def resume(case, *, at: datetime) -> timedelta:
    """Restart the resolution clock; its due time moves by the working time
    spent waiting. Return that time."""
    if case.waiting_since is None:
        return timedelta(0)
    goal = targets(case.sla_policy, case.priority)
    waited = goal.clock.between(case.waiting_since, max(at, case.waiting_since))
    case.paused_seconds += int(waited.total_seconds())
    case.waiting_since = None
    schedule(case, policy_lookup=False)
    return waited


def after_transition(case, name: str) -> None:
    """Keep the clocks in step with a state change (not saved)."""
    if name == "reopen":
        restart_resolution(case, at=timezone.now())
    else:
        refresh_due(case)


def restart_resolution(case, *, at: datetime) -> None:
    """A reopened case gets a fresh resolution clock from ``at``."""
    case.clock_started_at = at
    case.paused_seconds = 0
    case.waiting_since = None
    schedule(case, policy_lookup=False)

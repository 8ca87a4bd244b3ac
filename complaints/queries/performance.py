"""Team performance: the numbers after-sales managers watch, per agent and
for the team, all computed in SQL. Percentiles are by nearest rank: on
PostgreSQL an ordered-set aggregate in the same grouped query as the counts,
on SQLite (which has none) window functions; both give the same answer."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import connections
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    Sum,
    Window,
)
from django.db.models.functions import RowNumber

from ..models import (
    REVISED_WHEN_ASKED,
    REVISION_ASKED,
    ApprovalStatus,
    Case,
    CaseState,
    Offer,
    Review,
)
from ..people import display_name
from .reports import day_range

TEAM = "__team__"


# name: (the clock's end, the share), measured from the case's creation
PERCENTILES = {
    "first_response_median": ("first_response_at", 0.5),
    "first_response_p90": ("first_response_at", 0.9),
    "resolution_median": ("closed_at", 0.5),
}


class NearestRank(Aggregate):
    """PostgreSQL's PERCENTILE_DISC: the value at rank ceil(share × n) of
    the group's non-null values in order, the nearest rank."""

    function = "PERCENTILE_DISC"
    template = "%(function)s(%(share)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, share: float, **extra):
        super().__init__(expression, share=share, **extra)


class Seconds(Func):
    """An interval's length in seconds, as a float (PostgreSQL). A
    percentile sorts a year's cases: floats sort in about half the time
    intervals take (the team's three over 1M cases: 2.5 -> 1.2 s)."""

    function = "date_part"
    template = "%(function)s('epoch', %(expressions)s)"
    output_field = FloatField()


def _as_durations(values: dict) -> dict:
    """``values`` with the percentiles, counted in seconds, as timedeltas."""
    for name in PERCENTILES:
        if values.get(name) is not None:
            values[name] = timedelta(seconds=values[name])
    return values


def _took(end_field: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(end_field) - F("created_at"), output_field=DurationField())


def _durations(cases: QuerySet, end_field: str) -> QuerySet:
    return cases.filter(**{f"{end_field}__isnull": False}).annotate(took=_took(end_field))


def percentile(cases: QuerySet, end_field: str, share: float, *, by_agent: bool) -> dict:
    """Return {assignee id (or TEAM): the nearest-rank ``share`` percentile of
    ``end_field - created_at``}."""
    partition = [F("assignee")] if by_agent else []
    ranked = _durations(cases, end_field).annotate(
        rank=Window(RowNumber(), partition_by=partition or None, order_by=F("took").asc()),
        total=Window(Count("id"), partition_by=partition or None),
    )
    # nearest rank: the ceil(share * n)-th value, as integer arithmetic in SQL
    tenths = round(share * 100)
    picked = ranked.filter(rank=(F("total") * tenths + 99) / 100)
    result = {}
    for assignee, took in picked.values_list("assignee", "took"):
        result[assignee if by_agent else TEAM] = took
    return result


@dataclass(frozen=True)
class Performance:
    key: object  # assignee id, or TEAM
    name: str
    handled: int
    closed: int
    first_response_median: timedelta | None
    first_response_p90: timedelta | None
    resolution_median: timedelta | None
    satisfaction_rate: float | None
    satisfaction_mean: float | None
    revision_rate: float | None
    reopen_rate: float | None
    compensation_per_case: Decimal | None
    approval_rate: float | None


def _rate(part, whole):
    return part / whole if whole else None


def team_performance(*, start: date, end: date) -> list[Performance]:
    """Return the team's row first, then one row per agent with cases
    opened in [start, end]."""
    from django.contrib.auth import get_user_model

    cases = Case.objects.filter(**day_range("created_at", start, end))
    counts = {
        "handled": Count("id"),
        "closed": Count("id", filter=Q(state=CaseState.CLOSED)),
        "verified": Count("id", filter=Q(customer_satisfied__isnull=False)),
        "satisfied": Count("id", filter=Q(customer_satisfied=True)),
        "scored": Count("satisfaction_score"),
        "score_total": Sum("satisfaction_score"),
        # The reviews asked and revised are looked up from their own index
        # (review_revision_asked), once, and each case's review checked
        # against them; no join to the reviews (see below).
        "asked": Count(
            "id", filter=Q(review__in=Review.objects.filter(REVISION_ASKED).values("pk"))
        ),
        "revised": Count(
            "id", filter=Q(review__in=Review.objects.filter(REVISED_WHEN_ASKED).values("pk"))
        ),
        "reopened": Count("id", filter=Q(reopen_count__gt=0)),
        "compensation": Sum("compensation_cost"),
    }
    in_sql = connections[cases.db].vendor == "postgresql"
    percentiles = (
        {
            name: NearestRank(Seconds(_took(field)), share)
            for name, (field, share) in PERCENTILES.items()
        }
        if in_sql
        else {}
    )
    # Joined to the cases, the reviews were either hashed whole (1.25M at 1M
    # cases) for the few cases of a month that have one (30 days: 450 ms),
    # or looked up by key, which made a year's query walk its cases in the
    # agents' order (3.1 s). The asked ones, from their index, are 100k.
    per_agent = {
        row["assignee"]: _as_durations(row)
        for row in cases.values("assignee").annotate(**counts, **percentiles).order_by()
    }
    # The team's counts add up from the agents' rows; its percentiles do not.
    team = {name: sum(row[name] or 0 for row in per_agent.values()) for name in counts}
    if in_sql:
        team |= _as_durations(cases.aggregate(**percentiles))
    else:
        for name, (field, share) in PERCENTILES.items():
            by_agent = percentile(cases, field, share, by_agent=True)
            for key, values in per_agent.items():
                values[name] = by_agent.get(key)
            team[name] = percentile(cases, field, share, by_agent=False).get(TEAM)
    decided = Offer.objects.filter(
        case__in=cases,
        approval_status__in=[ApprovalStatus.APPROVED, ApprovalStatus.REJECTED],
    )
    approvals = {
        row["proposed_by"]: row
        for row in decided.values("proposed_by")
        .annotate(n=Count("id"), ok=Count("id", filter=Q(approval_status="approved")))
        .order_by()
    }
    team_approvals = {
        "n": sum(row["n"] for row in approvals.values()),
        "ok": sum(row["ok"] for row in approvals.values()),
    }
    users = get_user_model().objects.in_bulk([pk for pk in per_agent if pk is not None])

    def row(key, name, values, approved):
        return Performance(
            key=key,
            name=name,
            handled=values["handled"],
            closed=values["closed"],
            first_response_median=values["first_response_median"],
            first_response_p90=values["first_response_p90"],
            resolution_median=values["resolution_median"],
            satisfaction_rate=_rate(values["satisfied"], values["verified"]),
            satisfaction_mean=_rate(values["score_total"], values["scored"]),
            revision_rate=_rate(values["revised"], values["asked"]),
            reopen_rate=_rate(values["reopened"], values["handled"]),
            compensation_per_case=(
                (values["compensation"] or Decimal("0")) / values["handled"]
                if values["handled"]
                else None
            ),
            approval_rate=_rate(approved.get("ok", 0), approved.get("n", 0)),
        )

    rows = [row(TEAM, "", team, team_approvals)]
    for pk, values in per_agent.items():
        if pk is not None:
            rows.append(row(pk, display_name(users.get(pk)), values, approvals.get(pk, {})))
    return rows

"""Root-cause reports: every number is aggregated in the database."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Sum

from ..models import Case


def report_cases(
    *, start, end, category=None, sku="", courier="", supplier="", source=""
) -> QuerySet:
    """Return the cases with a recorded root cause opened in [start, end]."""
    cases = Case.objects.filter(root_cause__isnull=False, **day_range("created_at", start, end))
    if category is not None:
        cases = cases.filter(root_cause__in=category.keys_covered())  # a group: its leaves too
    if sku:
        cases = cases.filter(root_cause_sku__iexact=sku)
    if courier:
        cases = cases.filter(root_cause_courier__iexact=courier)
    if supplier:
        cases = cases.filter(root_cause_supplier__iexact=supplier)
    if source:
        cases = cases.filter(source=source)
    return cases


@dataclass(frozen=True)
class ParetoRow:
    """One bar of a Pareto chart."""

    key: str  # the category code, or the SKU / courier / supplier
    pk: int | None
    label: str
    label_zh: str
    count: int
    share: float
    cumulative: float
    cost: Decimal

    @property
    def display(self) -> str:
        from django.utils.translation import get_language

        return self.label_zh if (get_language() or "").startswith("zh") else self.label


def pareto(cases: QuerySet, *, level: str = "leaf") -> list[ParetoRow]:
    """Return root causes by number of cases, largest first, with each one's
    share, the cumulative share and the compensation paid for them."""
    prefix = "root_cause" if level == "leaf" else "root_cause__parent"
    rows = list(
        cases.values(f"{prefix}__id", f"{prefix}__code", f"{prefix}__name", f"{prefix}__name_zh")
        .annotate(n=Count("id"), total_cost=Sum("compensation_cost"))
        .order_by("-n", f"{prefix}__code")
    )
    return _with_shares(
        [
            (
                row[f"{prefix}__code"],
                row[f"{prefix}__id"],
                row[f"{prefix}__name"],
                row[f"{prefix}__name_zh"],
                row["n"],
                row["total_cost"] or Decimal("0"),
            )
            for row in rows
        ]
    )


def pareto_groups(leaves: list[ParetoRow]) -> list[ParetoRow]:
    """Return the groups' Pareto added up from the leaves' rows: each leaf
    belongs to one group, so a second pass over the period's cases is not
    needed (at 1M cases, 90 days: 250 ms)."""
    from ..models import RootCauseCategory

    leaf_ids = [row.pk for row in leaves if row.pk is not None]
    parents = {
        leaf.pk: leaf.parent
        for leaf in RootCauseCategory.objects.filter(pk__in=leaf_ids).select_related("parent")
    }
    groups: dict = {}
    for row in leaves:
        group = parents.get(row.pk)
        entry = groups.setdefault(group.pk if group else None, [group, 0, Decimal("0")])
        entry[1] += row.count
        entry[2] += row.cost
    rows = [
        (group.code, group.pk, group.name, group.name_zh, count, cost)
        if group
        else (None, None, None, None, count, cost)
        for group, count, cost in groups.values()
    ]
    rows.sort(key=lambda row: (-row[4], row[0] is None, row[0] or ""))
    return _with_shares(rows)


def top(cases: QuerySet, field: str, *, limit: int | None = 10) -> list[ParetoRow]:
    """Return the SKUs, couriers or suppliers behind the most cases."""
    grouped = (
        cases.exclude(**{field: ""})
        .values(field)
        .annotate(n=Count("id"), total_cost=Sum("compensation_cost"))
        .order_by("-n", field)
    )
    rows = list(grouped[:limit] if limit is not None else grouped)
    return _with_shares(
        [
            (row[field], None, row[field], row[field], row["n"], row["total_cost"] or Decimal("0"))
            for row in rows
        ]
    )


def _with_shares(rows) -> list[ParetoRow]:
    total = sum(row[4] for row in rows)
    running = 0
    result = []
    for key, pk, label, label_zh, count, cost in rows:
        running += count
        result.append(
            ParetoRow(
                key=key,
                pk=pk,
                label=label,
                label_zh=label_zh or label,
                count=count,
                share=count / total if total else 0.0,
                cumulative=running / total if total else 0.0,
                cost=cost,
            )
        )
    return result


def month_starts(start, end) -> list:
    """Return the first day of every month touching [start, end]."""
    months, day = [], start.replace(day=1)
    while day <= end:
        months.append(day)
        day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return months


def monthly_trend(cases: QuerySet, *, start, end) -> list[dict]:
    """Return cases per month of opening and root-cause group.

    One conditional count per month, grouped by group: plain comparisons on
    created_at, where truncating every row's date would run a function per row.
    """
    months = month_starts(start, end)
    counts = {
        f"m{index}": Count(
            "id",
            filter=Q(**day_range("created_at", month, _month_end(month))),
        )
        for index, month in enumerate(months)
    }
    rows = cases.values(group=F("root_cause__parent__code")).annotate(**counts).order_by("group")
    return [
        {"month": month, "group": row["group"], "n": row[f"m{index}"]}
        for row in rows
        for index, month in enumerate(months)
        if row[f"m{index}"]
    ]


def _month_end(month):
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def open_corrective_actions(cases: QuerySet, *, limit: int = 50) -> list:
    """Return the cases whose corrective action is written down but not done."""
    return list(
        cases.exclude(corrective_action="")
        .filter(corrective_action_done_at__isnull=True)
        .select_related("root_cause__parent")
        .order_by("created_at")[:limit]
    )


def start_of_day(day):
    """The first moment of the local ``day`` (the current time zone's)."""
    from datetime import datetime, time

    from django.utils import timezone

    return timezone.make_aware(datetime.combine(day, time.min))


def day_range(field: str, start, end) -> dict:
    """Return filters for ``field`` within the local days [start, end], as a
    datetime range the database can use an index for (``__date`` would run a
    function on every row)."""
    return {
        f"{field}__gte": start_of_day(start),
        f"{field}__lt": start_of_day(end + timedelta(days=1)),
    }

"""The lists' search box: a term looked for in several columns at once."""

from django.db.models import Q, QuerySet

from ..paging import COUNT_CAP

TRIGRAM = 3  # pg_trgm indexes terms of three characters or more


def contains_any(queryset, value: str, paths: list[str]):
    """The rows of ``queryset`` where any of ``paths`` (a column, or one in a
    related table: "customer__buyer_id") contains ``value``, whatever its
    case; all of them when ``value`` is blank (``search`` says more)."""
    return search(queryset, value, paths)[0]


def search(queryset, value: str, paths: list[str]) -> tuple[QuerySet, bool]:
    """``contains_any``'s rows, and whether more than COUNT_CAP of them are
    known to match: a list that searched its other filters first need not
    count them again.

    One condition ORing columns of several tables can use no index: it
    joins every row to the other tables and tests them all, which is quick
    when many rows match (the list's first page fills at once) and slow when
    few do (at 1M cases, a case number among all cases took 12 s, a buyer
    among the open ones 1.8 s). So a term of at least three characters is
    first looked up path by path, each through its trigram index
    (PostgreSQL, migration 0035), at most COUNT_CAP + 1 rows in all: when
    that finds no more than COUNT_CAP rows, the list is those rows (by key:
    25-60 ms at 1M); when it finds more, the one condition is quick. A row
    found through two paths is found twice: only a lookup that stopped short
    of its limit has found every row. A shorter term has no trigram to look
    up and keeps the one condition."""
    value = value.strip()
    if not value:
        return queryset, False
    anywhere = Q()
    for path in paths:
        anywhere |= Q(**{f"{path}__icontains": value})
    if len(value) < TRIGRAM:
        return queryset.filter(anywhere), False
    rows = queryset.order_by().values_list("pk", flat=True)
    first, *others = [rows.filter(**{f"{path}__icontains": value}) for path in paths]
    found = list(first.union(*others, all=True).order_by()[: COUNT_CAP + 1])
    if len(found) > COUNT_CAP:
        return queryset.filter(anywhere), len(set(found)) > COUNT_CAP
    return queryset.filter(pk__in=sorted(set(found))), False

"""The lists' search box: a term looked for in several columns at once."""

from django.db.models import Q

from ..paging import COUNT_CAP

TRIGRAM = 3  # pg_trgm indexes terms of three characters or more


def contains_any(queryset, value: str, paths: list[str]):
    """The rows of ``queryset`` where any of ``paths`` (a column, or one in a
    related table: "customer__buyer_id") contains ``value``, whatever its
    case; all of them when ``value`` is blank.

    One condition ORing columns of several tables can use no index: it
    joins every row to the other tables and tests them all, which is quick
    when many rows match (the list's first page fills at once) and slow when
    few do (at 1M cases, a case number among all cases took 12 s, a buyer
    among the open ones 1.8 s). So a term of at least three characters is
    first looked up path by path, each through its trigram index
    (PostgreSQL, migration 0035), at most COUNT_CAP + 1 rows in all: when
    that finds no more than COUNT_CAP rows, the list is those rows (by key:
    25-60 ms at 1M); when it finds more, the one condition is quick. A
    shorter term has no trigram to look up and keeps the one condition."""
    value = value.strip()
    if not value:
        return queryset
    anywhere = Q()
    for path in paths:
        anywhere |= Q(**{f"{path}__icontains": value})
    if len(value) < TRIGRAM:
        return queryset.filter(anywhere)
    rows = queryset.order_by().values_list("pk", flat=True)
    first, *others = [rows.filter(**{f"{path}__icontains": value}) for path in paths]
    found = set(first.union(*others, all=True).order_by()[: COUNT_CAP + 1])
    if len(found) > COUNT_CAP:
        return queryset.filter(anywhere)
    return queryset.filter(pk__in=sorted(found))

"""The lists' search box: a term looked for in several columns at once."""

from django.db.models import Q, QuerySet

from casetracker.database import set_locally

from ..paging import COUNT_CAP, capped_count

TRIGRAM = 3  # pg_trgm indexes terms of three characters or more
# A list this long or shorter is searched for a short term row by row, the
# way it is listed: a rare two-letter term among an agent's 14k open cases
# at 1M takes 190 ms so, 370 ms by a lookup that reads the customers' and
# orders' tables whole.
SCAN_ROWS = 50_000


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
    few do: PostgreSQL walks the list's order hoping to fill a page soon
    (at 1M cases, a case number among all cases took 12 s, a buyer among
    the open ones 1.8 s). So the rows are first looked up, at most
    COUNT_CAP + 1 of them: when that finds no more than COUNT_CAP, the list
    is those rows (by key); when it finds more, the one condition is quick.
    A term of at least three characters is looked up path by path, each
    through its trigram index (PostgreSQL, migration 0035: 25-60 ms at 1M).
    A shorter one has no trigram. In a list of up to SCAN_ROWS rows it is
    tested row by row; in a longer one it is looked up table by table, the
    list's own columns together first, so that a common word in the
    summaries stops the lookup within the first table and a rare one costs a
    scan of each table rather than a walk through the list's order (a rare
    two-letter term among all cases at 1M: 6.7 -> 1.5 s). A row found
    through two lookups is found twice: only a lookup that stopped short of
    its limit has found every row."""
    value = value.strip()
    if not value:
        return queryset, False
    anywhere = Q()
    for path in paths:
        anywhere |= Q(**{f"{path}__icontains": value})
    rows = queryset.order_by().values_list("pk", flat=True)
    if len(value) < TRIGRAM:
        if not capped_count(queryset, cap=SCAN_ROWS)[1]:  # a list short enough to test
            return queryset.filter(anywhere), False
        # One query per table, in turn: in one UNION PostgreSQL reads the
        # tables in parallel, and the other tables' whole scans run even
        # when the first table alone already found more than the cap.
        tables: dict[str, Q] = {}
        for path in sorted(paths, key=lambda path: "__" in path):  # own columns first
            table = path.rpartition("__")[0]
            tables[table] = tables.get(table, Q()) | Q(**{f"{path}__icontains": value})
        lookups = [rows.filter(condition) for condition in tables.values()]
    else:
        first, *others = [rows.filter(**{f"{path}__icontains": value}) for path in paths]
        lookups = [first.union(*others, all=True).order_by()]
    # Planned for this term: a plan kept for any term (a statement a kept
    # connection prepared) cannot know how many rows match it, and after a
    # few rare terms PostgreSQL kept one that read the whole table for a
    # common one too (a common two-letter word among all cases at 1M:
    # 33 -> 283 ms).
    found = []
    with set_locally(queryset.db, "plan_cache_mode", "force_custom_plan"):
        for lookup in lookups:
            found += lookup[: COUNT_CAP + 1 - len(found)]
            if len(found) > COUNT_CAP:
                break
    if len(found) > COUNT_CAP:
        return queryset.filter(anywhere), len(set(found)) > COUNT_CAP
    return queryset.filter(pk__in=sorted(set(found))), False

"""The lists' search box: a term looked for in several columns at once."""

from django.contrib.postgres.fields import ArrayField
from django.db import connections
from django.db.models import Func, Q, QuerySet, TextField, Value
from django.db.models.functions import Upper

from casetracker.database import set_locally

from ..paging import COUNT_CAP

TRIGRAM = 3  # pg_trgm indexes terms of three characters or more


class SearchGrams(Func):
    """The pieces of one and two characters of a text, in upper case: the
    expression migration 0038 indexes for shorter terms."""

    function = "search_grams"
    output_field = ArrayField(TextField())


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
    the open ones 1.8 s). So the rows are first looked up path by path, at
    most COUNT_CAP + 1 of them: when that finds no more than COUNT_CAP, the
    list is those rows (by key); when it finds more, the one condition is
    quick. On PostgreSQL a term of three characters or more is read from the
    column's trigram index (0035), a shorter one from its index of one- and
    two-character pieces (0038): a term of one or two characters is in a
    text exactly when it is one of its pieces. SQLite has neither index and
    no large lists: it asks a short term the one condition at once. A row
    found through two paths is found twice: only a lookup that stopped
    short of its limit has found every row."""
    value = value.strip()
    if not value:
        return queryset, False
    anywhere = Q()
    for path in paths:
        anywhere |= Q(**{f"{path}__icontains": value})
    short = len(value) < TRIGRAM
    if short and connections[queryset.db].vendor != "postgresql":
        return queryset.filter(anywhere), False
    rows = queryset.order_by().values_list("pk", flat=True)
    lookups = []
    for n, path in enumerate(paths):
        if short:  # a piece of the column: what icontains matches, through the index
            piece = {f"grams_{n}": SearchGrams(path)}
            lookup = rows.alias(**piece).filter(**{f"grams_{n}__contains": [Upper(Value(value))]})
        else:
            lookup = rows.filter(**{f"{path}__icontains": value})
        lookups.append(lookup)
    # Planned for this term: a plan kept for any term (a statement a kept
    # connection prepared) cannot know how many rows match it, and after a
    # few rare terms PostgreSQL kept one that read the whole table for a
    # common one too (a common two-letter word among all cases at 1M:
    # 33 -> 283 ms). And one column after another, each in a query of its
    # own with what is left of the limit, stopping once more than the cap
    # is found. Parallel workers read every column's index at once, even
    # when the first one already found more than the cap ("9" in an agent's
    # queue at 1M: 131 -> 45 ms). As one UNION ALL, the columns were planned
    # without the limit: for a term in every buyer's name, PostgreSQL hashed
    # all 800k customers to find the first 1,001 cases ("be" among all
    # cases: 4.1 s; alone with its limit, 38 ms).
    found: list = []
    with set_locally(
        queryset.db, plan_cache_mode="force_custom_plan", max_parallel_workers_per_gather="0"
    ):
        for lookup in lookups:
            found += lookup[: COUNT_CAP + 1 - len(found)]
            if len(found) > COUNT_CAP:
                break
    if len(found) > COUNT_CAP:
        return queryset.filter(anywhere), len(set(found)) > COUNT_CAP
    return queryset.filter(pk__in=sorted(set(found))), False


def customers_with_buyer_id(buyer_id: str) -> list[int]:
    """The keys of the customers called ``buyer_id`` in any marketplace. The
    buyer id has no index of its own (the unique one starts with the
    marketplace): its trigram index (0035) answers equality of the upper
    case, and the exact id is checked on the few it finds. Read whole,
    customers were 800k rows at 1M cases (44 ms for every lookup)."""
    from ..models import Customer

    return list(
        Customer.objects.alias(upper=Upper("buyer_id"))
        .filter(upper=Upper(Value(buyer_id)), buyer_id=buyer_id)
        .values_list("pk", flat=True)
    )

"""Keyset pagination and bounded counts for long lists.

A page is "the next 25 rows after this one" (a cursor holding the last row's
sort key), not "rows 250,000 to 250,025": the database seeks in an index
instead of counting past every earlier row, so the thousandth page costs
what the first does. Each sort is a tuple of columns that all run the same
way (a descending number is negated, a missing due time sorts as the far
future), compared in one row-value condition that SQLite and PostgreSQL
answer from the matching index (see Case.Meta.indexes).

Counts shown beside a list stop at COUNT_CAP: "1000+ cases" is as useful as
"1,203,554 cases" and does not read the whole table.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.paginator import Page, Paginator
from django.db import connections, models
from django.db.models import F, Func, Value
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce

from casetracker.database import planned_each_time

from .sql import Literal

COUNT_CAP = 1000
FAR_FUTURE = datetime(9000, 1, 1, tzinfo=UTC)  # where cases without a due time sort


# The sort keys' constants are literals in the SQL (sql.Literal):
# a kept connection's prepared queue query then still matches the queue's
# indexes (Case.Meta.indexes) and reads 25 rows instead of sorting them all.
def far_future_key():
    """Where a case without a deadline sorts in the due order, as a literal."""
    return Literal(FAR_FUTURE, output_field=models.DateTimeField())


def due_key():
    return Coalesce("due_at", far_future_key())


def priority_key():
    return CombinedExpression(F("priority"), "*", Literal(-1))


@dataclass(frozen=True)
class Sort:
    """A list order: annotation name -> expression, all ascending or all descending."""

    keys: tuple[tuple[str, object, models.Field], ...]
    descending: bool = False

    def apply(self, queryset, *, reverse=False):
        queryset = queryset.annotate(**{name: expr for name, expr, _field in self.keys if expr})
        backwards = self.descending != reverse
        return queryset.order_by(*(f"-{name}" if backwards else name for name, *_ in self.keys))

    def values_of(self, row) -> list:
        """The sort key of ``row``: a model instance or a dict from values()."""
        if isinstance(row, dict):
            return [row[name] for name, *_ in self.keys]
        return [getattr(row, name) for name, *_ in self.keys]


CASE_SORTS = {
    "due": Sort(
        (
            ("due_key", due_key(), models.DateTimeField()),
            ("priority_key", priority_key(), models.IntegerField()),
            ("created_at", None, models.DateTimeField()),
            ("id", None, models.BigIntegerField()),
        )
    ),
    "priority": Sort(
        (
            ("priority_key", priority_key(), models.IntegerField()),
            ("due_key", due_key(), models.DateTimeField()),
            ("created_at", None, models.DateTimeField()),
            ("id", None, models.BigIntegerField()),
        )
    ),
    "created": Sort(
        (
            ("created_at", None, models.DateTimeField()),
            ("id", None, models.BigIntegerField()),
        ),
        descending=True,
    ),
    "oldest": Sort(
        (
            ("created_at", None, models.DateTimeField()),
            ("id", None, models.BigIntegerField()),
        )
    ),
}


def index_keys(sort: Sort) -> list:
    """The expressions of an index that reads in ``sort``'s order
    (Case.Meta.indexes): each key's expression, or its column."""
    return [expr if expr is not None else F(name) for name, expr, _field in sort.keys]


class RowCompare(Func):
    """``(a, b, c) > (x, y, z)`` (or ``<``): one comparison of whole rows."""

    output_field = models.BooleanField()

    def __init__(self, columns, values, fields, operator):
        self.width = len(columns)
        self.operator = operator
        super().__init__(
            *(F(column) for column in columns),
            *(Value(v, output_field=field) for v, field in zip(values, fields, strict=True)),
        )

    def as_sql(self, compiler, connection, **extra_context):
        compiled = [compiler.compile(expr) for expr in self.get_source_expressions()]
        sql = [part for part, _params in compiled]
        params = [param for _part, part_params in compiled for param in part_params]
        left, right = ", ".join(sql[: self.width]), ", ".join(sql[self.width :])
        return f"(({left}) {self.operator} ({right}))", params


def encode_cursor(values) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: Sort) -> list | None:
    """The sort key in ``cursor``, or None when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        plain = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(plain, list) or len(plain) != len(sort.keys):
        return None
    values = []
    for value, (_name, _expr, field) in zip(plain, sort.keys, strict=True):
        try:
            if isinstance(field, models.DateTimeField):
                value = datetime.fromisoformat(value)
                if value.tzinfo is None:
                    return None
            elif not isinstance(value, int) or isinstance(value, bool):
                return None
        except (TypeError, ValueError):
            return None
        values.append(value)
    return values


@dataclass
class KeysetPage:
    items: list
    next_cursor: str | None
    previous_cursor: str | None

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)

    @property
    def has_other_pages(self):
        return bool(self.next_cursor or self.previous_cursor)


def keyset_page(queryset, sort: Sort, *, after=None, before=None, size=25) -> KeysetPage:
    """The ``size`` rows of ``queryset`` in ``sort`` order after (or before)
    a cursor; without one, the first page. A cursor that does not parse
    counts as none."""
    names = [name for name, *_ in sort.keys]
    fields = [field for *_, field in sort.keys]
    key = decode_cursor(before, sort) if before else decode_cursor(after, sort) if after else None
    backwards = bool(before) and key is not None
    rows = sort.apply(queryset, reverse=backwards)
    if key is not None:
        later = ">" if not sort.descending else "<"
        earlier = "<" if later == ">" else ">"
        rows = rows.filter(RowCompare(names, key, fields, earlier if backwards else later))
    with planned_each_time(rows.db):  # planned for its filters' values
        items = list(rows[: size + 1])
    more = len(items) > size
    items = items[:size]
    if backwards:
        items.reverse()
    first, last = (items[0], items[-1]) if items else (None, None)
    if backwards:
        next_cursor = encode_cursor(sort.values_of(last)) if last else None
        previous_cursor = encode_cursor(sort.values_of(first)) if more else None
    else:
        next_cursor = encode_cursor(sort.values_of(last)) if more else None
        previous_cursor = (
            encode_cursor(sort.values_of(first)) if key is not None and first else None
        )
    return KeysetPage(items, next_cursor, previous_cursor)


def requested_page(request, queryset, sort: Sort, *, size: int) -> KeysetPage:
    """The page of a list the request asks for (``?after=`` or ``?before=``
    a cursor of its pager's links; the first page without)."""
    return keyset_page(
        queryset, sort, after=request.GET.get("after"), before=request.GET.get("before"), size=size
    )


def capped_count(queryset, cap=None, *, known_beyond=False) -> tuple[int, bool]:
    """(count, capped): at most ``cap`` (COUNT_CAP) rows are counted; none
    when the caller already knows there are more (``known_beyond``: a search
    that found more than the cap, CaseFilter.searched_beyond_cap)."""
    cap = cap or COUNT_CAP
    if known_beyond:
        return cap, True
    with planned_each_time(queryset.db):  # planned for its filters' values
        count = queryset.order_by()[: cap + 1].count()
    return min(count, cap), count > cap


def capped_counts(querysets: dict, cap: int) -> dict:
    """Count several querysets at once, each up to ``cap`` + 1 rows: one
    round trip of scalar subqueries instead of one query per counter (the
    navigation's badges). Returns {name: count}; above ``cap`` means "more"."""
    if not querysets:
        return {}
    parts, params = [], []
    for queryset in querysets.values():
        sql, part_params = queryset.order_by().values("pk")[: cap + 1].query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) counted)")
        params.extend(part_params)
    alias = next(iter(querysets.values())).db
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return dict(zip(querysets, row, strict=True))


def counted_page(queryset, number, *, per_page: int, count: int) -> Page:
    """Django's page ``number`` of ``queryset`` when the list's length is
    already known (counted with the page's totals or summary): the paginator
    does not count the rows a second time."""
    paginator = Paginator(queryset, per_page)
    paginator.count = count
    return paginator.get_page(number)


PAGE_PARAMETERS = ("page", "after", "before")


def list_query(params) -> str:
    """A list's filters as a query string without where its page starts
    (a page number or a keyset cursor): what the pager's and the sorts'
    links carry over."""
    query = params.copy()
    for key in PAGE_PARAMETERS:
        query.pop(key, None)
    return query.urlencode()

"""The lists' search box (queries.search.contains_any): what it finds, whichever way
it asks, and that PostgreSQL answers each column from its trigram index."""

import pytest
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Q

from complaints.models import Case, Customer, Order, Review, Voucher
from complaints.queries import search
from complaints.queries.search import contains_any

from . import flows
from .factories import CustomerFactory, OrderFactory, ReviewFactory

pytestmark = pytest.mark.django_db

CASE_PATHS = ["number", "summary", "customer__buyer_id", "order__number"]


@pytest.fixture
def cases(agent):
    made = []
    for n in range(6):
        buyer = CustomerFactory(buyer_id=f"nick_{n}_{'李明' if n % 2 else 'wang'}")
        order = OrderFactory(customer=buyer, number=f"TB-{n:03d}-{'BIG' if n < 4 else 'SMALL'}")
        summary = "包裹破损严重" if n % 3 == 0 else "尺码偏小"
        made.append(flows.opened(agent, order, summary=summary))
    return made


def _either_way(queryset, term, paths):
    """The rows contains_any finds, and whether it listed them by key."""
    found = contains_any(queryset, term, paths)
    try:
        by_key = "LIKE" not in str(found.query).upper()
    except EmptyResultSet:  # by key, and no key found
        by_key = True
    return set(found.values_list("pk", flat=True)), by_key


@pytest.mark.parametrize(
    "term",
    [
        "TB-00",
        "tb-005-small",
        "nick_3",
        "李明",
        "破损",
        "包裹破损严重",
        "尺码偏小",
        "BIG",
        "no-such",
    ],
)
def test_a_search_finds_what_one_condition_over_every_column_finds(cases, term, monkeypatch):
    """Whichever way it asks (by key after looking each column up, or one
    condition over them all when the lookups find more than COUNT_CAP rows,
    or when the term is too short for a trigram), the rows are the same."""
    everything = Q()
    for path in CASE_PATHS:
        everything |= Q(**{f"{path}__icontains": term})
    expected = set(Case.objects.filter(everything).values_list("pk", flat=True))
    ways = set()
    for cap in (1000, 2):  # 2: a common term takes the one condition
        monkeypatch.setattr(search, "COUNT_CAP", cap)
        found, by_key = _either_way(Case.objects.all(), term, CASE_PATHS)
        assert found == expected, (term, cap)
        ways.add(by_key)
    if len(term) < search.TRIGRAM:
        assert ways == {False}  # no trigram to look up
    elif len(expected) > 2:
        assert ways == {True, False}
    else:
        assert ways == {True}


def test_a_row_found_through_two_columns_does_not_hide_another(agent, monkeypatch):
    """Two cases match in their summary and their order's number, a third in
    its order's number only: the lookup's first COUNT_CAP + 1 rows may be
    the first two twice. Having stopped at its limit, it has not seen every
    row, so the list takes the one condition and shows all three."""
    monkeypatch.setattr(search, "COUNT_CAP", 3)
    both = [
        flows.opened(agent, OrderFactory(number=f"TWICE-{n}"), summary="twice broken")
        for n in range(2)
    ]
    once = flows.opened(agent, OrderFactory(number="TWICE-2"), summary="broken")
    found, beyond = search.search(Case.objects.all(), "twice", CASE_PATHS)
    assert set(found) == {*both, once}
    assert beyond is False  # three rows: not more than the cap


def test_a_search_keeps_to_the_list_it_searches(cases, agent2):
    """The lookups search the list's own rows: a case elsewhere matching
    the term neither shows nor counts against the cap."""
    mine = Case.objects.filter(assignee=cases[0].assignee)
    other = flows.opened(agent2, OrderFactory(number="TB-999-BIG"))
    found = contains_any(mine, "TB-9", CASE_PATHS)
    assert other.pk not in set(found.values_list("pk", flat=True))
    assert set(contains_any(Case.objects.all(), "TB-9", CASE_PATHS)) == {other}


def test_a_blank_search_is_no_filter(cases):
    assert contains_any(Case.objects.all(), "   ", CASE_PATHS).count() == len(cases)


@pytest.mark.parametrize(
    "model,column,index",
    [
        (Case, "number", "case_number_trgm"),
        (Case, "summary", "case_summary_trgm"),
        (Customer, "buyer_id", "customer_buyer_trgm"),
        (Order, "number", "order_number_trgm"),
        (Voucher, "code", "voucher_code_trgm"),
        (Review, "sku", "review_sku_trgm"),  # the review inbox's SKU filter (0037)
    ],
)
def test_each_searched_column_is_read_from_its_trigram_index(cases, model, column, index):
    """Migration 0035 indexes the expression Django writes for icontains:
    PostgreSQL reads the index for a search as the ORM sends it. SQLite,
    without such indexes, still finds the row by reading them all."""
    if model is Voucher:
        flows.verifying(cases[0].assignee, OrderFactory(number="TB-V-1"))
    if model is Review:
        ReviewFactory(sku="SKU-7731")
    row = model.objects.order_by("pk").first()
    term = getattr(row, column)[-4:].lower()
    matching = model.objects.filter(**{f"{column}__icontains": term})
    assert row in matching
    if connection.vendor != "postgresql":
        return
    sql, params = matching.order_by().query.sql_with_params()  # the plain search
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(connection.ops.compose_sql(f"EXPLAIN {sql}", params))
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert f"Bitmap Index Scan on {index}" in plan, plan

"""The lists' search box (queries.search.contains_any): what it finds, whichever way
it asks, and that PostgreSQL answers each column from its trigram index or, for a
term of one or two characters, its index of pieces."""

import importlib
import re

import pytest
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Q, Value
from django.db.models.functions import Upper

from complaints.models import Case, Customer, Order, OrderItem, Review, Voucher
from complaints.queries import search
from complaints.queries.search import contains_any

from . import flows
from .factories import CustomerFactory, OrderFactory, ReviewFactory
from .plans import plan_without_seqscan

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
        "小",
        "zq",
        "_3",
        "tb",
        "g",
        "破",
        "%",
        "_",
    ],
)
def test_a_search_finds_what_one_condition_over_every_column_finds(cases, term, monkeypatch):
    """Whichever way it asks (by key, after looking the rows up column by
    column through their trigrams or, for a shorter term, their pieces; or
    one condition over them all when the lookup finds more than COUNT_CAP
    rows), the rows are the same."""
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
    if len(term) < search.TRIGRAM and connection.vendor != "postgresql":
        assert ways == {False}  # no index for it: the one condition
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


def test_a_short_term_is_read_from_each_columns_pieces_on_postgresql(cases):
    """Too short for a trigram, a term is looked up in each column's index of
    one- and two-character pieces (0038), which answers it exactly; SQLite,
    which has no such index, asks the one condition at once."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        found, beyond = search.search(Case.objects.all(), "破损", CASE_PATHS)
    sent = [q["sql"] for q in captured]
    assert set(found) == {c for c in cases if "破损" in c.summary} and beyond is False
    if connection.vendor != "postgresql":
        assert not [sql for sql in sent if "LIKE" in sql] and "LIKE" in str(found.query)
        return
    lookups = [sql for sql in sent if "search_grams(" in sql]
    assert len(lookups) == len(CASE_PATHS)  # one column each, none found a cap's worth
    assert all(sql.count("search_grams(") == 1 and "LIKE" not in sql for sql in lookups)
    assert "LIKE" not in str(found.query)  # the list is the rows found, by key


def test_the_pieces_are_every_character_and_pair_in_upper_case(db):
    """search_grams() holds every piece an icontains of one or two
    characters can match, and no other."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT search_grams(%s), search_grams(''), search_grams('x'), search_grams(NULL)",
            ["破损ab破损"],
        )
        pieces, empty, one, null = cursor.fetchone()
    assert set(pieces) == {"破", "损", "A", "B", "破损", "损A", "AB", "B破"}
    assert (empty, one, null) == ([], ["X"], None)


def test_each_column_is_looked_up_alone_with_what_is_left_of_the_limit(cases, monkeypatch):
    """Each column is looked up in a query of its own, limited to what is
    left of COUNT_CAP + 1, and the lookups stop once more than the cap is
    found. As one UNION ALL, PostgreSQL planned the columns without the
    limit over them: for a term in every buyer's name it hashed all 800k
    customers to find the first 1,001 cases ("be" among all cases at 1M:
    4.1 s; each column alone with its limit, 38 ms)."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        search.search(Case.objects.all(), "包裹破损", CASE_PATHS)
    lookups = [q["sql"] for q in captured if "LIKE" in q["sql"]]
    assert len(lookups) == len(CASE_PATHS)
    assert all(sql.count("LIKE") == 1 and "UNION" not in sql for sql in lookups), lookups
    limits = [int(re.search(r"LIMIT (\d+)\s*$", sql).group(1)) for sql in lookups]
    found_in_summaries = sum("包裹破损" in case.summary for case in cases)  # the 2nd column
    left = search.COUNT_CAP + 1
    assert limits == [left, left, left - found_in_summaries, left - found_in_summaries], limits
    # A term every case number holds: the first column fills the cap, and
    # the others are not looked up.
    monkeypatch.setattr(search, "COUNT_CAP", 2)
    prefix = cases[0].number[:4]
    assert all(case.number.startswith(prefix) for case in cases) and len(cases) > 2
    with CaptureQueriesContext(connection) as captured:
        found, beyond = search.search(Case.objects.all(), prefix, CASE_PATHS)
    lookups = [q["sql"] for q in captured if "LIKE" in q["sql"]]
    assert len(lookups) == 1 and lookups[0].rstrip().endswith("LIMIT 3"), lookups
    assert beyond is True and set(found) == set(Case.objects.all())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("reference_data")
def test_the_lookup_is_planned_for_its_term_and_the_settings_end_with_it(agent, monkeypatch):
    """A statement a kept connection prepared may run a plan made for any
    term; the lookup's selectivity is all about its term (after a few rare
    terms, PostgreSQL kept a plan that read every case for a common one too:
    33 -> 283 ms at 1M). The lookups run with plan_cache_mode =
    force_custom_plan, and without parallel workers (which read every
    column's index at once: "9" in an agent's queue 131 -> 45 ms), set for
    their own transaction only."""

    flows.opened(agent, OrderFactory(number="TB-PLAN-1"), summary="包裹破损")
    flows.opened(agent, OrderFactory(number="TB-PLAN-2"), summary="尺码偏小")
    postgresql = connection.vendor == "postgresql"
    seen = []
    SETTINGS = (
        "SELECT current_setting('plan_cache_mode'), "
        "current_setting('max_parallel_workers_per_gather')"
    )

    def spy(execute, sql, params, many, context):
        lookup = "LIKE" in sql or "search_grams(" in sql
        if lookup and postgresql:  # the lookup's own setting, as it runs
            with connection.cursor() as cursor:
                cursor.execute(SETTINGS)
                seen.append(cursor.fetchone())
        elif "set_config" in sql and not postgresql:
            seen.append("set on " + connection.vendor)
        return execute(sql, params, many, context)

    if postgresql:
        with connection.cursor() as cursor:
            cursor.execute("SHOW max_parallel_workers_per_gather")
            before = cursor.fetchone()[0]
        assert before != "0"
    for term in ("包裹破损", "破损"):
        with connection.execute_wrapper(spy):
            found, _beyond = search.search(Case.objects.all(), term, CASE_PATHS)
        assert len(set(found)) == 1
    if postgresql:
        assert len(seen) >= 2 and set(seen) == {("force_custom_plan", "0")}, seen
        with connection.cursor() as cursor:
            cursor.execute(SETTINGS)  # only for the lookups' transaction
            assert cursor.fetchone() == ("auto", before)
    else:
        assert seen == []  # nothing to set


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
    plan = plan_without_seqscan(matching.order_by())  # the plain search
    assert f"Bitmap Index Scan on {index}" in plan, plan


GRAMS = importlib.import_module("complaints.migrations.0038_search_short_term_indexes")
MODELS = {
    model._meta.db_table: model for model in (Case, Customer, Order, OrderItem, Review, Voucher)
}


@pytest.mark.parametrize("index", list(GRAMS.INDEXES))
def test_a_short_term_is_read_from_each_columns_index_of_pieces(cases, index):
    """Migration 0038 indexes search_grams(column), each index of its list
    read here: a lookup of a term of two characters, as the search sends
    it, reads that index."""
    table, column = GRAMS.INDEXES[index]
    model = MODELS[table]
    if connection.vendor != "postgresql":
        return
    if model is Voucher:
        flows.verifying(cases[0].assignee, OrderFactory(number="TB-V-1"))
    row = model.objects.order_by("pk").first()
    term = getattr(row, column)[-2:].lower()
    assert_read_from(index, row, column, term, pieces_holding(model, column, term))


def pieces_holding(model, column, term):
    """The rows whose ``column`` holds ``term`` among its pieces, asked as
    queries.search asks a term of one or two characters."""
    return model.objects.alias(grams=search.SearchGrams(column)).filter(
        grams__contains=[Upper(Value(term))]
    )


def assert_read_from(index, row, column, term, matching):
    """``matching`` finds ``row`` and what icontains finds, reading ``index``."""
    assert row in matching
    assert set(matching) == set(type(row).objects.filter(**{f"{column}__icontains": term}))
    plan = plan_without_seqscan(matching.order_by())
    assert f"Bitmap Index Scan on {index}" in plan, plan


PEOPLE = importlib.import_module("complaints.migrations.0040_customer_order_search_indexes")


@pytest.mark.parametrize("index", list(PEOPLE.INDEXES))
def test_the_customers_name_and_phone_and_the_tracking_number_are_indexed(db, index):
    """Migration 0040 gives the customer's name and phone and the order's
    tracking number a trigram index and an index of pieces each, which the
    admin's searches (customers, orders) read: a term of three characters
    or more as the ORM asks it, a shorter one through its pieces."""
    if connection.vendor != "postgresql":
        return
    OrderFactory(
        customer=CustomerFactory(display_name="王小明", phone="13912345678"),
        tracking_number="SF1400012345678",
    )
    assert_search_index_read(index, PEOPLE.COLUMNS)


def assert_search_index_read(index, columns):
    """The search index ``index`` ({prefix}_trgm or _grams of ``columns``)
    answers a search of its column's first row: the last three characters
    as the ORM asks them, or the last two through their pieces."""
    prefix, kind = index.rsplit("_", 1)
    table, column = columns[prefix]
    model = MODELS[table]
    row = model.objects.order_by("pk").first()
    value = getattr(row, column)
    if kind == "trgm":
        term = value[-3:].lower()
        matching = model.objects.filter(**{f"{column}__icontains": term})
    else:
        term = value[-2:].lower()
        matching = pieces_holding(model, column, term)
    assert_read_from(index, row, column, term, matching)


ITEMS = importlib.import_module("complaints.migrations.0045_review_and_item_search_indexes")


@pytest.mark.parametrize("index", list(ITEMS.INDEXES))
def test_the_reviews_and_order_items_searched_columns_are_indexed(db, index):
    """Migration 0045 gives the columns the review and order item admins
    search a trigram index and an index of pieces each (the review SKU's
    trigram index is 0037's): a term of three characters or more as the
    ORM asks it, a shorter one through its pieces."""
    if connection.vendor != "postgresql":
        return
    order = OrderFactory()
    order.items.create(sku="DRESS-RED-M", title="连衣裙 红色 M", quantity=1, unit_price=199)
    ReviewFactory(order=order, external_id="TB-R-7781234", text="颜色和图片差太多了")
    assert_search_index_read(index, ITEMS.COLUMNS)


# The admins of the tables that grow with the cases and are never pruned
# (the webhook deliveries and the API's idempotency keys are).
GROWING = [Case, Customer, Order, OrderItem, Review, Voucher, "CaseEvent", "Offer", "SlaAlert"]


@pytest.mark.parametrize("model", GROWING, ids=str)
def test_every_admin_of_a_growing_table_searches_through_indexes(db, model):
    """The admin's search of a table that grows with the cases looks each
    column up through its indexes (admin.IndexedSearchMixin), and on
    PostgreSQL every column it searches has a trigram index and an index of
    pieces: the review admin's search read all 1.25M reviews at 1M cases
    (1.9 s), the order item admin's all 1M items (1.2 s)."""
    from django.apps import apps
    from django.contrib import admin

    from complaints.admin import IndexedSearchMixin, LargeTableMixin

    if isinstance(model, str):
        model = apps.get_model("complaints", model)
    model_admin = admin.site._registry[model]
    assert isinstance(model_admin, LargeTableMixin) and model_admin.search_fields
    assert isinstance(model_admin, IndexedSearchMixin), type(model_admin).__name__
    if connection.vendor != "postgresql":
        return
    for path in model_admin.search_fields:
        *relations, name = path.split("__")
        target = model
        for relation in relations:
            target = target._meta.get_field(relation).related_model
        column = target._meta.get_field(name).column
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE tablename = %s", [target._meta.db_table]
            )
            defs = [d for (d,) in cursor.fetchall() if re.search(rf"\({column}\)", d)]
        assert any("gin_trgm_ops" in d for d in defs), (path, defs)
        assert any("search_grams" in d for d in defs), (path, defs)


@pytest.mark.django_db(transaction=True)
def test_the_migration_builds_again_an_index_a_failed_build_left_invalid():
    """0038 builds its indexes CONCURRENTLY (agents keep saving cases during
    the two minutes it takes at 1M), and such a build that fails leaves an
    invalid index behind, which IF NOT EXISTS would keep: running the
    migration again drops it and builds it anew."""
    if connection.vendor != "postgresql":
        return

    def valid(name):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [name]
            )
            return cursor.fetchone()[0]

    with connection.cursor() as cursor:  # what a failed concurrent build leaves
        cursor.execute(
            "UPDATE pg_index SET indisvalid = false WHERE indexrelid = %s::regclass",
            ["case_summary_grams"],
        )
    assert valid("case_summary_grams") is False
    with connection.schema_editor(atomic=False) as editor:
        GRAMS.create(None, editor)
    assert valid("case_summary_grams") is True
    assert all(valid(name) for name in GRAMS.INDEXES)

"""The queues: who sees which, the filters, sorting, paging, and a query
count that does not grow with the rows."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import caches
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from complaints import workflow
from complaints.models import Case, RootCauseCategory
from complaints.people import display_name

from . import flows
from .factories import CaseFactory, CustomerFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def queue_url(name, **params):
    from urllib.parse import urlencode

    url = reverse("complaints:queue", args=[name])
    return f"{url}?{urlencode(params, doseq=True)}" if params else url


def numbers(response):
    return [row["number"] for row in response.context["page"]]


def test_anonymous_users_are_sent_to_log_in(client):
    response = client.get(queue_url("mine"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert client.get(response.url).status_code == 200


def test_users_without_a_role_get_403(client, outsider):
    client.force_login(outsider)
    assert client.get(queue_url("mine")).status_code == 403
    assert client.get("/").status_code == 403


def test_home_is_the_agents_own_queue_and_the_supervisors_team_queue(client, agent, supervisor):
    client.force_login(agent)
    assert client.get("/").url == queue_url("mine")
    client.force_login(supervisor)
    assert client.get("/").url == queue_url("open")


def test_each_queue_lists_its_cases(client, agent, agent2, supervisor, order):
    mine = flows.opened(agent, order)
    theirs = flows.opened(agent2, order)
    free = workflow.case_assign(case=flows.opened(agent, order), assignee=None, actor=supervisor)
    done = flows.closed(agent, order)
    client.force_login(agent)
    assert set(numbers(client.get(queue_url("mine")))) == {mine.number}
    assert numbers(client.get(queue_url("unassigned"))) == [free.number]
    assert client.get(queue_url("open")).status_code == 403  # supervisors only
    assert client.get(queue_url("nonsense")).status_code == 404
    client.force_login(supervisor)
    listed = set(numbers(client.get(queue_url("open"))))
    assert listed == {mine.number, theirs.number, free.number}
    assert done.number not in listed


@time_machine.travel(datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI), tick=False)
def _row(html, number):
    start = html.index(f'<tr data-case="{number}">')
    return html[start : html.index("</tr>", start)]


# Inside business hours: the first response is due in minutes (outside them,
# the SLA clock waits for the next working morning).
@time_machine.travel(datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI))
def test_the_rows_show_each_case_for_each_role(client, agent, supervisor, order):
    hostile = '<script>alert(1)</script> "quoted" & ' + "长" * 70
    mine = flows.opened(agent, order, summary=hostile)
    free = workflow.case_assign(case=flows.opened(agent, order), assignee=None, actor=supervisor)
    created = timezone.localtime(mine.created_at).strftime("%Y-%m-%d %H:%M")

    client.force_login(agent)
    row = _row(client.get(queue_url("mine")).content.decode(), mine.number)
    assert f'<a href="/cases/{mine.number}/" class="fw-semibold text-nowrap">' in row
    assert (
        "<script>" not in row and "&lt;script&gt;alert(1)&lt;/script&gt; &quot;quoted&quot;" in row
    )
    assert "长" * 22 + "…<div" in row and "长" * 23 not in row  # cut to 60 characters
    assert f'<div class="small text-body-secondary">{order.number}</div>' in row
    assert 'data-state="confirming"' in row and ">Normal</span>" in row
    assert f'<td class="text-nowrap">{display_name(agent)}</td>' in row
    due = timezone.localtime(mine.due_at).strftime("%Y-%m-%d %H:%M")
    assert re.search(f'<span class="due" title="{due}">in \\d+\xa0minutes</span>', row)
    assert f'<td class="text-nowrap small">{created}</td>' in row
    assert 'type="checkbox"' not in row and "Reassign" not in row  # agents: no bulk, no reassign

    url = queue_url("unassigned", sort="due")
    html = client.get(url).content.decode()
    row = _row(html, free.number)
    take = f"/cases/{free.number}/take/"
    assert f'<form method="post" action="{take}" hx-post="{take}">' in row
    assert 'name="csrfmiddlewaretoken" value="' in row
    assert f'name="next" value="{url.replace("&", "&amp;")}"' in row and "Assign to me" in row

    client.force_login(supervisor)
    row = _row(client.get(queue_url("open")).content.decode(), mine.number)
    assert (
        f'<input class="form-check-input" type="checkbox" name="cases" value="{mine.number}"'
        f' form="bulk-form" aria-label="Select {mine.number}">'
    ) in row
    assert f'<a class="small ms-1" href="/cases/{mine.number}/step/assign/">Reassign</a>' in row

    client.force_login(agent)
    empty = client.get(queue_url("mine", q="nothing-matches")).content.decode()
    assert (
        '<td colspan="8" class="text-center text-body-secondary py-4">No cases here.</td>' in empty
    )


# Within working hours: in the evening the priority case's first response
# falls due the next morning, not within the hour.
@time_machine.travel(datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI))
def test_due_queue_holds_what_is_due_soon_or_overdue(client, agent, order, settings):
    soon = flows.opened(agent, order, priority=4, source="email")  # first response in 30 min
    later = flows.opened(agent, order, priority=1, source="email")  # in 8 working hours
    late = flows.opened(agent, order)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Case.objects.filter(pk=late.pk).update(first_response_due=an_hour_ago, due_at=an_hour_ago)
    client.force_login(agent)
    response = client.get(queue_url("due"))
    assert numbers(response) == [late.number, soon.number]  # earliest due first
    assert later.number not in numbers(response)
    assert "overdue by" in response.content.decode()


def test_a_first_response_stops_the_first_response_clock(client, agent, order):
    case = flows.opened(agent, order, priority=4)
    workflow.case_record_contact(case=case, actor=agent, channel="chat", outcome="reached")
    client.force_login(agent)
    assert numbers(client.get(queue_url("due"))) == []  # now due at resolution (24 h)


@pytest.fixture
def spread(agent, agent2, supervisor):
    """Cases that differ in every filtered field."""
    alice = CustomerFactory(buyer_id="alice_buys")
    bob = CustomerFactory(buyer_id="bob_shops")
    colour = flows.analyzing(agent, OrderFactory(customer=alice, number="TB-COLOUR-1"))
    parcel = flows.analyzing(
        agent, OrderFactory(customer=bob, number="JD-LOST-2"), category="lost_parcel"
    )
    phone = flows.opened(
        agent, OrderFactory(customer=bob), source="phone", summary="电话：尺码问题", priority=4
    )
    Case.objects.filter(pk=parcel.pk).update(created_at=timezone.now() - timedelta(days=10))
    return {"colour": colour, "parcel": parcel, "phone": phone}


@pytest.mark.parametrize(
    "params,expected",
    [
        ({"q": "COLOUR"}, {"colour"}),  # order number
        ({"q": "bob_"}, {"parcel", "phone"}),  # customer nickname
        ({"q": "尺码"}, {"phone"}),  # summary
        ({"state": ["confirming"]}, {"phone"}),
        ({"state": ["analyzing", "confirming"]}, {"colour", "parcel", "phone"}),
        ({"priority": ["4"]}, {"phone"}),
        ({"source": "phone"}, {"phone"}),
        ({"customer": "alice"}, {"colour"}),
        ({"order": "jd-lost"}, {"parcel"}),
        # dates as today + a timedelta, taken when the test runs, not when collected
        ({"created_to": timedelta(days=-5)}, {"parcel"}),
        ({"created_from": timedelta(0)}, {"colour", "phone"}),
    ],
)
def test_filters(client, agent, spread, params, expected):
    params = {
        name: (timezone.localdate() + value).isoformat() if isinstance(value, timedelta) else value
        for name, value in params.items()
    }
    client.force_login(agent)
    response = client.get(queue_url("mine", **params))
    assert response.status_code == 200
    assert set(numbers(response)) == {spread[key].number for key in expected}


@pytest.mark.parametrize(
    "params,expected",
    [
        ({"customer": "ALICE_b", "state": ["analyzing"]}, {"colour"}),
        ({"order": "jd-lost-2"}, {"parcel"}),
        ({"customer": "bob", "q": "尺码"}, {"phone"}),  # both searches, the box last
        ({"customer": "bob", "order": "JD"}, {"parcel"}),
        ({"customer": "ce"}, {"colour"}),  # a term too short for a trigram
        ({"order": "nobody"}, set()),
    ],
)
def test_the_customer_and_order_filters_are_searches(agent, spread, params, expected):
    """The Customer and Order number filters look their term up through the
    column's index like the search box (queries.search), after the other
    filters, so the list is the cases found, by key; as a plain icontains
    across the join they walked every case (3.1-3.4 s among all cases at
    1M). SQLite, with no index for a short term, asks it the one condition."""
    from complaints.filters import CaseFilter

    found = CaseFilter(params, queryset=Case.objects.all()).qs
    assert {case.number for case in found} == {spread[key].number for key in expected}
    short = any(len(value) < 3 for value in params.values() if isinstance(value, str))
    by_key = connection.vendor == "postgresql" or not short
    try:
        sql = str(found.query).upper()
    except EmptyResultSet:  # by key, and no key found
        sql = ""
    assert ("LIKE" not in sql) is by_key


def test_a_day_is_a_range_of_moments_an_index_can_read(client, supervisor, customer):
    """A list's "from" and "until" dates are local days, sent as a range of
    moments on the column (``>=`` the day's first, ``<`` the next day's),
    never a function of every row, which no index answers. Every date
    filter of every list is such a day."""
    late = timezone.make_aware(datetime(2026, 3, 9, 23, 59, 59))  # local time
    midnight = timezone.make_aware(datetime(2026, 3, 10))
    cases = {}
    for name, moment in (("late", late), ("midnight", midnight)):
        case = CaseFactory(customer=customer, summary=name)
        Case.objects.filter(pk=case.pk).update(created_at=moment)
        cases[name] = case
    client.force_login(supervisor)

    def listed(**params):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(queue_url("all", **params))
        rows = [q["sql"] for q in captured if q["sql"].startswith('SELECT "complaints_case"')]
        casts = ("AT TIME ZONE", "django_datetime_cast_date")  # PostgreSQL's, SQLite's
        assert rows and not [sql for sql in rows if any(cast in sql for cast in casts)], rows
        names = {case.number: name for name, case in cases.items()}
        return {names[row["number"]] for row in response.context["page"]}

    assert listed(created_to="2026-03-09") == {"late"}
    assert listed(created_from="2026-03-10") == {"midnight"}
    assert listed(created_from="2026-03-09", created_to="2026-03-10") == {"late", "midnight"}
    assert listed(created_from="2026-03-11") == set()
    from django_filters import DateFilter

    from complaints.filters import CaseFilter, DayFilter, ReviewFilter, VoucherFilter

    for filterset in (CaseFilter, ReviewFilter, VoucherFilter):
        for name, field in filterset.base_filters.items():
            if isinstance(field, DateFilter):
                assert isinstance(field, DayFilter), f"{filterset.__name__}.{name}"


def test_filter_by_category_group_includes_its_leaves(client, agent, spread):
    client.force_login(agent)
    group = RootCauseCategory.objects.get(code="logistics")
    assert numbers(client.get(queue_url("mine", category=group.pk))) == [spread["parcel"].number]
    product = RootCauseCategory.objects.get(code="product")
    assert numbers(client.get(queue_url("mine", category=product.pk))) == [spread["colour"].number]


def test_filter_by_assignee_and_overdue(client, supervisor, agent, spread):
    Case.objects.filter(pk=spread["colour"].pk).update(
        resolution_due=timezone.now() - timedelta(hours=1),
        first_response_at=timezone.now() - timedelta(hours=2),
        due_at=timezone.now() - timedelta(hours=1),
    )
    client.force_login(supervisor)
    response = client.get(queue_url("open", assignee=agent.pk, overdue="on"))
    assert numbers(response) == [spread["colour"].number]


def test_sorting(client, agent, spread):
    client.force_login(agent)
    by_priority = numbers(client.get(queue_url("mine", sort="priority")))
    assert by_priority[0] == spread["phone"].number
    by_age = numbers(client.get(queue_url("mine", sort="oldest")))
    assert by_age[0] == spread["parcel"].number
    newest = numbers(client.get(queue_url("mine", sort="created")))
    assert newest[-1] == spread["parcel"].number


def test_a_bad_filter_value_is_a_form_error(client, agent, spread):
    client.force_login(agent)
    response = client.get(queue_url("mine", created_from="31/02/2026"))
    assert response.status_code == 400
    assert "Enter a valid date" in response.content.decode()


def _numbers(response):
    return [row["number"] for row in response.context["page"]]


@pytest.mark.parametrize("sort", ["due", "priority", "created", "oldest"])
def test_pages_follow_each_other_by_cursor_in_every_sort(client, agent, customer, sort):
    """Keyset pages: next and previous walk the exact order of the whole
    list (ties, and cases without a due time, included), with no offset."""
    from complaints.paging import CASE_SORTS

    order = OrderFactory(customer=customer)
    cases = [flows.opened(agent, order) for _ in range(57)]
    now = timezone.now()
    for n, case in enumerate(cases):  # ties in due time and priority; some with none
        due = None if n % 7 == 0 else now + timedelta(hours=n % 5)
        Case.objects.filter(pk=case.pk).update(due_at=due, priority=1 + n % 3)
    client.force_login(agent)
    ordered = CASE_SORTS[sort].apply(Case.objects.filter(assignee=agent))
    expected = [case.number for case in ordered]
    assert len(set(expected)) == 57

    pages, response = [], client.get(queue_url("mine", sort=sort))
    while True:
        pages.append(_numbers(response))
        cursor = response.context["page"].next_cursor
        if not cursor:
            break
        response = client.get(queue_url("mine", sort=sort, after=cursor))
    assert [len(p) for p in pages] == [25, 25, 7]
    assert [number for page in pages for number in page] == expected
    html = response.content.decode()
    assert 'rel="prev"' in html and 'rel="next"' not in html

    back = client.get(queue_url("mine", sort=sort, before=response.context["page"].previous_cursor))
    assert _numbers(back) == pages[1]
    assert response.context["count"] == 57 and not response.context["count_capped"]


def test_a_broken_cursor_shows_the_first_page(client, agent, customer):
    order = OrderFactory(customer=customer)
    for _ in range(3):
        flows.opened(agent, order)
    client.force_login(agent)
    first = _numbers(client.get(queue_url("mine")))
    for cursor in ("garbage", "W10", "WyJ4Il0", "bnVsbA"):
        response = client.get(queue_url("mine", after=cursor))
        assert response.status_code == 200 and _numbers(response) == first


def test_the_count_stops_at_the_cap(client, agent, customer, monkeypatch):
    from complaints import paging

    monkeypatch.setattr(paging, "COUNT_CAP", 5)
    order = OrderFactory(customer=customer)
    for _ in range(7):
        flows.opened(agent, order)
    client.force_login(agent)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(queue_url("mine"))
    assert response.context["count"] == 5 and response.context["count_capped"]
    assert "More than 5 cases" in response.content.decode()
    counts = [q["sql"] for q in captured if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT 6" in sql.upper() for sql in counts if "complaints_case" in sql)


@pytest.mark.django_db(transaction=True)  # VACUUM runs outside a transaction
@pytest.mark.usefixtures("reference_data")
def test_a_queue_count_reads_an_index_only():
    """The count beside a queue, filtered by state and priority, is answered
    from an index holding every column it names: 1,001 index entries, not
    1,001 table rows (2.5 ms -> 0.4 ms at 1M cases, docs/PERFORMANCE.md).
    Checked on the planner's own choice over realistic statistics: 2,000
    cases, half of them open, on one agent."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from complaints.paging import capped_count
    from complaints.queries import case_queue

    call_command("generate_data", cases=2000, agents=1, closed=0.5, no_progress=True)
    agent = get_user_model().objects.get(username="bench_agent0")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    for queue, index in (
        ("mine", "case_assignee_state_prio"),
        ("open", "case_state_priority_id"),
    ):
        cases = case_queue(queue, user=agent).filter(priority__in=[2, 3, 4])
        with CaptureQueriesContext(connection) as captured:
            count, _capped = capped_count(cases)
        assert count >= 100
        (sql,) = [q["sql"] for q in captured]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"EXPLAIN {sql}")
                plan = "\n".join(row[0] for row in cursor.fetchall())
                assert f"Index Only Scan using {index}" in plan, (queue, plan)
            else:
                cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
                plan = "\n".join(row[-1] for row in cursor.fetchall())
                assert f"USING COVERING INDEX {index}" in plan, (queue, plan)


def test_a_search_that_found_more_than_the_cap_is_not_counted_again(
    client, supervisor, agent, monkeypatch
):
    """The search looks the list's rows up after every other filter, up to
    COUNT_CAP + 1 of them: when it found more, the queue says "more than"
    without counting. That count narrowed through no index and scanned the
    cases in storage order, where a search's matches may all lie at the end
    (a prefix of recent case numbers among all cases at 1M: 2.7 s)."""
    from complaints import paging
    from complaints.queries import search

    for n in range(5):
        start = flows.analyzing if n < 3 else flows.opened
        start(agent, OrderFactory(number=f"TB-SEARCH-{n}"))
    for module in (paging, search):
        monkeypatch.setattr(module, "COUNT_CAP", 3)
    client.force_login(supervisor)

    def view(**params):
        with CaptureQueriesContext(connection) as captured:
            page = client.get(queue_url("open", **params))
        counted = [q for q in captured if q["sql"].startswith("SELECT COUNT(*)")]
        return (
            (page.context["count"], page.context["count_capped"]),
            len(page.context["page"]),
            counted,
        )

    assert view(q="tb-search") == ((3, True), 5, [])  # found 4 > 3: not counted again
    shown, rows, counted = view(q="tb-search", state=["analyzing"])  # the state first
    assert (shown, rows, len(counted)) == ((3, False), 3, 1)
    shown, rows, counted = view(q="TB-SEARCH-4")
    assert (shown, rows, len(counted)) == ((1, False), 1, 1)
    # Too short for a trigram: PostgreSQL looks it up in its index of pieces
    # and need not count; SQLite, without one, asks the one condition and counts.
    shown, rows, counted = view(q="TB")
    looked_up = connection.vendor == "postgresql"
    assert (shown, rows, len(counted)) == ((3, True), 5, 0 if looked_up else 1)
    api = APIClient()  # the API's case list counts the same way
    api.force_authenticate(supervisor)
    with CaptureQueriesContext(connection) as captured:
        body = api.get("/api/cases/", {"q": "tb-search"}).json()
    assert (body["count"], body["count_capped"], len(body["results"])) == (3, True, 5)
    assert not [q for q in captured if q["sql"].startswith("SELECT COUNT(*)")]
    body = api.get("/api/cases/", {"q": "tb-search", "state": "analyzing"}).json()
    assert (body["count"], body["count_capped"]) == (3, False)


def test_several_capped_counts_take_one_query(agent, customer, django_assert_num_queries):
    from complaints.paging import capped_counts

    order = OrderFactory(customer=customer)
    for _ in range(4):
        flows.opened(agent, order)
    flows.analyzing(agent, order)
    cases = Case.objects.all()
    with django_assert_num_queries(1):
        counts = capped_counts(
            {
                "opened": cases.filter(state="confirming"),
                "analyzing": cases.filter(state="analyzing"),
                "closed": cases.filter(state="closed"),
            },
            cap=2,
        )
    assert counts == {"opened": 3, "analyzing": 1, "closed": 0}  # 3: "more than 2"
    assert capped_counts({}, cap=2) == {}


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_query_count_does_not_grow_with_the_rows(client, agent, supervisor, customer):
    client.force_login(supervisor)
    for _ in range(3):
        flows.analyzing(agent, OrderFactory(customer=customer))
    few = _queries(client, queue_url("open"))
    for _ in range(20):
        flows.analyzing(agent, OrderFactory(customer=CustomerFactory()))
    caches["template_fragments"].clear()  # the filter and bulk forms
    many = _queries(client, queue_url("open"))
    assert few == many
    # session, user, permissions (one query, complaints/auth.py); the
    # navigation's badges, all counted in one query; the agents in two selects
    # (filter, bulk form) and the categories in two; count and page.
    assert many == 10, many
    # The filter form and the bulk form's fields are cached fragments: the
    # next page view skips their four choice lists (the agents twice,
    # categories, root causes), and still lists the team in both.
    with CaptureQueriesContext(connection) as captured:
        page = client.get(queue_url("open")).content.decode()
    assert len(captured) == many - 4
    bulk = page[page.index('id="bulk-form"') : page.index("</form>", page.index('id="bulk-form"'))]
    assert f'<option value="{agent.pk}">' in bulk and 'name="action"' in bulk


def test_the_cached_filter_form_follows_the_filters_and_the_language(client, agent, spread):
    def selected(response):
        values = re.findall(r'<option value="([^"]*)" selected>', response.content.decode())
        return sorted(set(values) - {"", "en", "zh-hans"})  # the filters', not the language's

    client.force_login(agent)
    high = queue_url("mine", priority=4, sort="oldest")
    assert selected(client.get(high)) == ["4", "oldest"]
    assert selected(client.get(queue_url("mine", priority=2))) == ["2", "due"]
    assert selected(client.get(high)) == ["4", "oldest"]  # served from the cache
    client.post(reverse("set_language"), {"language": "zh-hans"})
    html = client.get(high).content.decode()
    assert "最先到期" in html and "Due first" not in html
    # The key holds the queue: the team's queue has the assignee filter, "mine" has not.
    client.post(reverse("set_language"), {"language": "en"})
    unassigned_choice = '<option value="null"'  # the assignee filter's "(unassigned)"
    assert unassigned_choice not in client.get(high).content.decode()
    client.force_login(UserFactory(username="lead", role="supervisor"))
    team = client.get(queue_url("open", priority=4, sort="oldest")).content.decode()
    assert unassigned_choice in team


def _indexes(plan):
    scans = r"Index (?:Only )?Scan(?: Backward)? using (\w+) on complaints_case"
    return set(re.findall(scans, plan))


def _plan(sql):
    """PostgreSQL's plan for ``sql`` when it may not sort rows itself: a Sort
    node left in it means no index gives that order."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("reference_data")
def test_every_sort_of_every_queue_reads_an_index_in_order():
    """Each queue's first page, in each sort it offers, and the API's list of
    every case: an index gives the order, so no page reads and sorts all the
    open cases (at 1M: priority-first 423 -> 34 ms, the API's list 1.85 s ->
    11 ms, docs/PERFORMANCE.md). So does the plan PostgreSQL keeps once a
    kept connection has prepared the statement ("generic", one for any
    parameters): the sort keys' constants and the open states are written
    into the SQL (sql.Literal), or that plan could not use the partial
    indexes of open cases and sorted every open case of the queue (at 100k
    cases: 4.8 ms against 0.2). SQLite plans on its own terms: there the
    pages are checked to answer, not how."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import transaction

    from complaints.paging import CASE_SORTS, keyset_page
    from complaints.queries import case_queue, queue_listing

    from .plans import generic_plan

    call_command("generate_data", cases=600, agents=5, closed=0.5, no_progress=True)
    # The lightest of five agents: their queue is a small part of the open
    # cases, as in a real team. With two, "mine" held most of them, and
    # which index answered it best turned on the few rows' statistics.
    agent = get_user_model().objects.get(username="bench_agent4")
    checked, sent = 0, []

    def record(execute, *call):
        sent.append(call)
        return execute(*call)

    for queue in ("mine", "unassigned", "open", "all"):
        for name, sort in CASE_SORTS.items():
            rows = case_queue(queue, user=agent)
            if queue != "all":
                rows = queue_listing(rows)
            sent.clear()
            with connection.execute_wrapper(record):
                keyset_page(rows, sort, size=25)
            ((sql, params, _many, _context),) = sent
            if connection.vendor != "postgresql":
                continue
            with transaction.atomic():
                custom = _plan(connection.ops.compose_sql(sql, params))
            generic = generic_plan(sql, params, "enable_sort = off")
            for plan in (custom, generic):
                nodes = [line.strip().removeprefix("->").strip() for line in plan.splitlines()]
                # An Incremental Sort only orders ties of an order an index gave.
                assert not any(node.startswith("Sort  (") for node in nodes), (queue, name, plan)
            # ... and the same index: not one of every case, filtered.
            assert _indexes(generic) == _indexes(custom), (queue, name, custom, generic)
            checked += 1
    assert checked == (16 if connection.vendor == "postgresql" else 0)


def test_the_pagers_carry_the_filters_not_where_a_page_starts():
    """paging.list_query, behind every list's pager and sort links: a
    filter chosen twice stays twice; a page number or cursor goes."""
    from django.http import QueryDict

    from complaints.paging import list_query

    params = QueryDict("priority=2&priority=3&q=%E7%A0%B4&page=4&after=abc&before=def&sort=due")
    assert QueryDict(list_query(params)) == QueryDict("priority=2&priority=3&q=%E7%A0%B4&sort=due")
    assert list_query(QueryDict("page=2")) == ""
    assert params.getlist("priority") == ["2", "3"] and params["page"] == "4"  # not changed


def test_a_lists_page_and_count_are_planned_for_their_filters_each_time(client, supervisor, order):
    """A kept PostgreSQL connection prepares a statement it sent five times,
    and PostgreSQL may then keep one plan for any parameters: made for the
    filters' average value, it walked every case for a state few are in
    (cancelled among all cases at 1M: 12 ms planned for it, 1.3 s with the
    kept plan). A list's page and count are never prepared; the page's
    other statements are. SQLite prepares nothing: there the filters are
    checked to answer."""
    from complaints.models import CaseState

    cancelled = flows.opened(supervisor, order)
    workflow.case_cancel(case=cancelled, actor=supervisor, reason="重复工单")
    opened = flows.opened(supervisor, order)
    client.force_login(supervisor)
    for _ in range(3):
        for state in CaseState.values:
            response = client.get(queue_url("all", state=[state]))
            assert response.status_code == 200
            expected = {"cancelled": [cancelled.number], "confirming": [opened.number]}
            assert numbers(response) == expected.get(state, []), state
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [sql for (sql,) in cursor.fetchall()]
    assert any("django_session" in sql for sql in prepared), prepared  # the others are
    listing = [sql for sql in prepared if '"complaints_case"."summary"' in sql]
    counts = [sql for sql in prepared if 'COUNT(*) FROM (SELECT "complaints_case"' in sql]
    assert listing == counts == [], listing + counts


def test_an_open_queue_offers_the_open_states_alone(client, supervisor, order):
    """A queue of open cases offers no closed state to filter by: there it
    matched nothing, after walking every open case to find so. Asked for
    anyway (an old link), it is a form error; the queue of all cases offers
    and lists every state."""
    from complaints.filters import CaseFilter

    # The filter's field as the API's schema builds it, shared with every
    # FilterSet copied from it since: the open queues' choices are their own.
    assert "closed" in dict(CaseFilter.base_filters["state"].field.choices)
    closed = flows.closed(supervisor, order)
    client.force_login(supervisor)
    for queue in ("mine", "unassigned", "open", "due"):
        response = client.get(queue_url(queue, state=["closed"]))
        assert response.status_code == 400, queue
        assert "Select a valid choice" in response.content.decode()
        offered = dict(response.context["filter"].form.fields["state"].choices)
        assert "closed" not in offered and "cancelled" not in offered and "verifying" in offered
    everything = client.get(queue_url("all", state=["closed"]))
    assert numbers(everything) == [closed.number]
    assert "cancelled" in dict(everything.context["filter"].form.fields["state"].choices)
    assert "closed" in dict(CaseFilter.base_filters["state"].field.choices)  # untouched


def test_a_case_that_is_not_open_has_no_deadline(supervisor, order):
    """The rule the state filter relies on, kept by the database too."""
    from django.db import IntegrityError, transaction

    case = flows.closed(supervisor, order)
    assert case.due_at is None
    opened = flows.opened(supervisor, order)
    assert opened.due_at is not None
    workflow.case_cancel(case=opened, actor=supervisor, reason="重复工单")
    opened.refresh_from_db()
    assert opened.due_at is None
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(due_at=timezone.now())


@pytest.fixture
def many_cases():
    """2,000 generated cases, 80% closed, on five agents, with statistics."""
    from django.core.management import call_command

    call_command("generate_data", cases=2000, agents=5, closed=0.8, no_progress=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


# Each filter, in a queue and a sort, and the plan that reads its cases.
FILTER_READS = [
    # Closed cases have no deadline: the due order's first key is fixed,
    # so they are read from where they start in it.
    ("all", {"state": ["closed"]}, "due", "Index Cond: (COALESCE(due_at"),
    ("all", {"state": ["closed", "cancelled"]}, "due", "Index Cond: (COALESCE(due_at"),
    # One priority: the priority key is fixed, and sought.
    ("all", {"priority": ["1"]}, "priority", "Index Cond: ((priority * '-1'::integer) ="),
    ("open", {"priority": ["1"]}, "priority", "Index Cond: ((priority * '-1'::integer) ="),
    ("all", {"priority": ["1"]}, "due", "Index Cond: ((priority * '-1'::integer) ="),
    # A root cause among all cases: along the root-caused cases' own order.
    ("all", {"root_cause": "logistics"}, "due", "Index Scan using case_root_caused_due"),
    # The unassigned queue, in each sort, along its own indexes.
    ("unassigned", {"category": "logistics"}, "due", "using case_unassigned_due"),
    ("unassigned", {"source": "email"}, "priority", "using case_unassigned_prio"),
    ("unassigned", {}, "created", "using case_unassigned_created"),
]


def _filter_data(params):
    """The filter form's data for ``params``, categories given by code."""
    from django.http import QueryDict

    data = QueryDict(mutable=True)
    for name, value in params.items():
        if name in ("root_cause", "category"):
            value = str(RootCauseCategory.objects.get(code=value).pk)
        data.setlist(name, value if isinstance(value, list) else [value])
    return data


# The 2,000 cases these two tests read are generated once for each (about
# 10 s a time): every filter is a subtest of its own, reported as such.
@pytest.mark.django_db(transaction=True)  # VACUUM runs outside a transaction
@pytest.mark.usefixtures("reference_data", "many_cases")
def test_a_filter_reads_the_queues_index_from_where_its_cases_are(subtests):
    """A filter whose cases lie far down the queue's order made PostgreSQL
    walk the order's index testing every case (at 1M cases: closed ones
    among all in due order 256 ms, low priority by priority 977 ms, a root
    cause among all 230 ms, a category among the unassigned 280 ms; now
    12-60 ms). The page's plan with sorting ruled out, so an index gives
    the order, shows where it reads from. SQLite: the page is checked."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from complaints.filters import CaseFilter
    from complaints.paging import CASE_SORTS, keyset_page
    from complaints.queries import case_queue, queue_listing

    user = get_user_model().objects.get(username="bench_supervisor0")
    for queue, params, sort, reads in FILTER_READS:
        with subtests.test(queue=queue, params=params, sort=sort):
            filterset = CaseFilter(
                _filter_data(params),
                queryset=case_queue(queue, user=user),
                open_only=queue != "all",
            )
            assert filterset.is_valid(), filterset.errors
            cases = filterset.qs
            with CaptureQueriesContext(connection) as captured:
                page = keyset_page(queue_listing(cases), CASE_SORTS[sort], size=25)
            expected = CASE_SORTS[sort].apply(cases).values_list("id", flat=True)
            assert [row["id"] for row in page] == list(expected[:25])
            assert len(page) == min(25, cases.count())
            if connection.vendor == "postgresql":
                (sql,) = [q["sql"] for q in captured]
                with transaction.atomic():
                    plan = _plan(sql)
                assert reads in plan, plan
                assert not any(line.strip().startswith("Sort  (") for line in plan.splitlines()), (
                    plan
                )


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("reference_data", "many_cases")
def test_a_filters_cases_among_the_open_ones_are_counted_from_an_index(subtests):
    """Source, category and root cause each have an index with the state, so
    the count beside an open queue reads the filter's cases from it: the
    count read the table from its oldest, closed, cases (a category's count
    at 1M: 50 ms), and a root cause among the open cases read every open
    case (560 ms). A group is a list of keys (its own and its leaves'), which
    the index can answer; as a join on the categories it could not."""
    from django.contrib.auth import get_user_model

    from complaints.filters import CaseFilter
    from complaints.paging import capped_count
    from complaints.queries import case_queue

    from .plans import explain_without_seqscan

    user = get_user_model().objects.get(username="bench_supervisor0")
    for params, index in (
        ({"root_cause": "logistics"}, "case_root_cause_state"),
        ({"category": "defect"}, "case_category_state"),
        ({"source": "email"}, "case_source_state"),
    ):
        with subtests.test(params=params):
            cases = CaseFilter(
                _filter_data(params), queryset=case_queue("open", user=user), open_only=True
            ).qs
            with CaptureQueriesContext(connection) as captured:
                count, _capped = capped_count(cases)
            assert count == len(list(cases))
            (sql,) = [q["sql"] for q in captured]
            assert "complaints_rootcausecategory" not in sql, sql
            if connection.vendor == "postgresql":
                plan = explain_without_seqscan(sql)
                assert index in plan, plan


@pytest.mark.django_db(transaction=True)  # migrates back and forth
@pytest.mark.usefixtures("reference_data")
def test_the_upgrade_clears_a_closed_cases_deadline_before_forbidding_it(
    supervisor, order, migrate_to
):
    """Migration 0044 adds the rule that a case not open has no deadline;
    a row written before it that broke the rule is cleared first, so the
    upgrade does not stop on it."""
    case = flows.closed(supervisor, order)
    migrate_to(("complaints", "0043_review_case_state_index"))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE complaints_case SET due_at = %s WHERE id = %s", [timezone.now(), case.pk]
        )
    migrate_to(("complaints", "0044_queue_filters"))
    case.refresh_from_db()
    assert case.state == "closed" and case.due_at is None

"""The review inbox, the shop's replies, revision rules and the recovery funnel."""

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from complaints import workflow
from complaints.models import (
    CaseEvent,
    MarketplaceSettings,
    ReplyEdit,
    ReviewReply,
)
from complaints.queries import recovery_funnel
from complaints.queries.shared import SHARED_SECONDS

from . import flows
from .factories import OrderFactory, ReviewFactory

pytestmark = pytest.mark.django_db

INBOX = reverse("complaints:reviews")
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def review_url(review):
    return reverse("complaints:review", args=[review.pk])


def listed(response):
    return [review.external_id for review in response.context["page"]]


def test_unreplied_negative_reviews_come_first(client, agent):
    now = timezone.now()
    happy = ReviewFactory(rating=5, posted_at=now)
    angry_old = ReviewFactory(rating=1, posted_at=now - timedelta(days=3))
    angry_new = ReviewFactory(rating=2, posted_at=now - timedelta(days=1))
    answered = ReviewFactory(rating=1, posted_at=now - timedelta(hours=1))
    workflow.review_reply_save(review=answered, actor=agent, text="已处理", publish=True)
    client.force_login(agent)
    assert listed(client.get(INBOX)) == [
        angry_new.external_id,
        angry_old.external_id,
        happy.external_id,
        answered.external_id,
    ]


@pytest.mark.parametrize(
    "params,expected",
    [
        ({"rating": ["1"]}, {"a1", "a1case"}),
        ({"replied": "yes"}, {"p5"}),
        ({"replied": "no", "rating": ["1", "2"]}, {"a1", "a1case"}),
        ({"has_case": "yes"}, {"a1case"}),
        ({"has_case": "no", "rating": ["1"]}, {"a1"}),
        ({"case_state": "confirming"}, {"a1case"}),
        ({"sku": "coat"}, {"p5"}),
        ({"posted_to": timedelta(days=-5)}, {"p5"}),  # a date: today + this, when it runs
    ],
)
def test_inbox_filters(client, agent, params, expected):
    now = timezone.now()
    params = {
        name: (timezone.localdate() + value).isoformat() if isinstance(value, timedelta) else value
        for name, value in params.items()
    }
    reviews = {
        "a1": ReviewFactory(external_id="a1", rating=1, posted_at=now),
        "a1case": ReviewFactory(external_id="a1case", rating=1, posted_at=now),
        "p5": ReviewFactory(
            external_id="p5", rating=5, sku="COAT-1", posted_at=now - timedelta(days=9)
        ),
    }
    workflow.case_open_from_review(review=reviews["a1case"], actor=None)
    workflow.review_reply_save(review=reviews["p5"], actor=agent, text="谢谢", publish=True)
    client.force_login(agent)
    assert set(listed(client.get(INBOX, params))) == expected


def test_the_case_filters_look_their_reviews_up_first_when_few_match(
    client, agent, supervisor, monkeypatch
):
    """The inbox's filters on the reviews' cases ("has a case", "case
    state") first look up, in no order, the reviews they keep, at most
    COUNT_CAP + 1, as joins on the cases (case_review_state for a state);
    when no more than COUNT_CAP match, the inbox is those reviews by key,
    else it walks its order. Either way a state lists the reviews whose
    latest case is in it."""
    from .factories import CaseFactory

    monkeypatch.setattr("complaints.filters.COUNT_CAP", 2)
    now = timezone.now()
    reviews = {name: ReviewFactory(external_id=name, rating=1, posted_at=now) for name in "abcde"}
    reviews["f"] = ReviewFactory(external_id="f", rating=5, posted_at=now)
    for name in "abcd":
        workflow.case_open_from_review(review=reviews[name], actor=None)
    for name in "de":  # e: cancelled, then opened again
        case = reviews[name].cases.first() or workflow.case_open_from_review(
            review=reviews[name], actor=None
        )
        workflow.case_cancel(case=case, actor=supervisor, reason="重复")
    CaseFactory(review=reviews["e"], order=None, customer=reviews["e"].customer)
    client.force_login(agent)

    def inbox(**params):
        with CaptureQueriesContext(connection) as captured:
            found = set(listed(client.get(INBOX, params)))
        sent = [q["sql"] for q in captured if q["sql"].startswith('SELECT "complaints_review"')]
        return found, sent

    common, (probe, walked) = inbox(case_state="confirming")  # a, b, c, e: more than 2
    assert common == {"a", "b", "c", "e"}
    assert "EXISTS" in probe and "LIMIT 3" in probe and "ORDER BY" not in probe
    assert "= 'confirming'" in walked and '"complaints_review"."id" IN (' not in walked
    rare, (probe, by_key) = inbox(case_state="cancelled")  # d, and e's older case
    assert rare == {"d"}
    keys = sorted([reviews["d"].pk, reviews["e"].pk])
    assert f'"complaints_review"."id" IN ({keys[0]}, {keys[1]})' in by_key, by_key
    assert inbox(has_case="no") == ({"f"}, inbox(has_case="no")[1])
    assert inbox(has_case="yes", rating=["5"])[0] == set()  # none found: no page to ask
    assert inbox(rating=["5"])[0] == {"f"} and len(inbox(rating=["5"])[1]) == 1  # no probe
    if connection.vendor == "postgresql":
        from .plans import plan_with_only

        plan = plan_with_only("case_review_state", "complaints_case", probe)
        assert "case_review_state" in plan, plan


def test_has_a_case_is_asked_of_the_cases_not_of_each_reviews_latest_case(client, agent):
    """ "Has a case" is a semi- or anti-join on the cases' review column, not
    a test of the inbox's "latest case number" subquery for every review,
    which PostgreSQL ran review by review (at 1M cases, negative reviews
    without a case: 354 -> 155 ms)."""
    reviews = [ReviewFactory(rating=1) for _ in range(3)]
    workflow.case_open_from_review(review=reviews[0], actor=None)
    client.force_login(agent)
    for answer, expected in (("yes", reviews[:1]), ("no", reviews[1:])):
        with CaptureQueriesContext(connection) as captured:
            found = listed(client.get(INBOX, {"has_case": answer}))
        assert set(found) == {review.external_id for review in expected}
        sent = [q["sql"] for q in captured if q["sql"].startswith('SELECT "complaints_review"')]
        assert len(sent) == 2  # the reviews looked up, then their page
        for sql in sent:
            where = sql[sql.index(" WHERE ") :]
            assert ("NOT EXISTS" in where) == (answer == "no") and "EXISTS" in where, where
            assert "IS NULL" not in where.replace('"replied_at" IS NULL', ""), where


def test_the_reply_window_clock_and_the_end_soon_flag(client, agent):
    MarketplaceSettings.objects.create(marketplace="taobao", reply_window_days=10)
    soon = ReviewFactory(rating=2, posted_at=timezone.now() - timedelta(days=8))
    fresh = ReviewFactory(rating=2, posted_at=timezone.now())
    client.force_login(agent)
    page = {r.external_id: r for r in client.get(INBOX).context["page"]}
    assert page[soon.external_id].reply_due_soon
    assert not page[fresh.external_id].reply_due_soon
    assert page[fresh.external_id].reply_due == fresh.posted_at + timedelta(days=10)
    assert "ends soon" in client.get(INBOX).content.decode()


def test_the_navigation_counts_unreplied_reviews_by_rating(client, agent):
    ReviewFactory(rating=1)
    ReviewFactory(rating=1)
    ReviewFactory(rating=3)
    ReviewFactory(rating=5)
    client.force_login(agent)
    html = client.get(INBOX).content.decode()
    assert 'data-unreplied="1"' in html and "1★ 2" in html and "3★ 1" in html
    assert 'data-unreplied="5"' not in html


def test_reply_draft_then_publish_then_edit_is_recorded(client, agent, agent2):
    review = ReviewFactory(rating=2)
    case = workflow.case_open_from_review(review=review, actor=None)
    client.force_login(agent)
    assert client.post(review_url(review), {"text": "草稿", "draft": "1"}).status_code == 302
    reply = ReviewReply.objects.get(review=review)
    assert (reply.status, reply.published_at) == ("draft", None)
    client.post(review_url(review), {"text": "非常抱歉，已为您补发", "publish": "1"})
    reply.refresh_from_db()
    assert reply.status == "published" and reply.published_at and reply.author == agent
    assert not ReplyEdit.objects.exists()  # a draft's changes are not history
    client.force_login(agent2)
    client.post(review_url(review), {"text": "非常抱歉，已为您补发并退款 10 元", "publish": "1"})
    edit = ReplyEdit.objects.get(reply=reply)
    assert (edit.previous_text, edit.edited_by) == ("非常抱歉，已为您补发", agent2)
    assert CaseEvent.objects.filter(case=case, kind="review_replied").count() == 3
    html = client.get(review_url(review)).content.decode()
    assert 'id="reply-edits"' in html and "非常抱歉，已为您补发</q>" in html


def test_replies_to_positive_reviews_too_with_a_quick_reply_and_a_preview(client, agent):
    from complaints.models import ReplyTemplate

    review = ReviewFactory(rating=5)
    client.force_login(agent)
    template = ReplyTemplate.objects.get(title="好评回复")
    inserted = client.post(
        review_url(review), {"text": "", "quick_reply": template.pk, "_insert_reply": "1"}
    )
    assert "感谢亲的好评" in inserted.content.decode()
    preview = client.post(review_url(review), {"text": "感谢亲的好评！", "_preview": "1"})
    assert 'id="reply-preview"' in preview.content.decode()
    assert not ReviewReply.objects.exists()  # previewing saves nothing


def test_the_reply_length_limit(client, agent):
    review = ReviewFactory()
    client.force_login(agent)
    response = client.post(review_url(review), {"text": "字" * 501, "publish": "1"})
    assert response.status_code == 400
    assert "at most 500 characters" in response.content.decode()
    assert 'maxlength="500"' in response.content.decode()
    assert not ReviewReply.objects.exists()
    with pytest.raises(ValidationError, match="at most 500 characters"):
        workflow.review_reply_save(review=review, actor=agent, text="x" * 501)
    assert client.post(review_url(review), {"text": "字" * 500, "publish": "1"}).status_code == 302


def test_review_text_and_replies_are_rendered_escaped(client, agent):
    review = ReviewFactory(rating=1, text=XSS)
    workflow.review_reply_save(review=review, actor=agent, text=XSS, publish=True)
    case = workflow.case_open_from_review(review=review, actor=None)
    client.force_login(agent)
    for url in (INBOX, review_url(review), case.get_absolute_url()):
        html = client.get(url).content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html, url
        assert "&lt;script&gt;alert" in html, url


def test_a_marketplace_that_forbids_revision_requests(client, agent, order):
    MarketplaceSettings.objects.create(marketplace="taobao", revision_requests_allowed=False)
    review = ReviewFactory(order=order, customer=order.customer, marketplace="taobao")
    case = flows.opened(agent, order, source="review", review=review)
    case = workflow.case_confirm(case=case, actor=agent)
    offer = workflow.offer_propose(case=case, actor=agent, kind="apology")
    case = workflow.case_propose(case=case, actor=agent)
    case = workflow.case_accept_offer(case=case, offer=offer, actor=agent)
    case = workflow.case_mark_executed(case=case, actor=agent)
    client.force_login(agent)
    assert (
        'data-step="request_revision"' not in client.get(case.get_absolute_url()).content.decode()
    )
    response = client.post(
        reverse("complaints:step", args=[case.number, "request_revision"]),
        {"expected_state": case.state, "channel": "phone"},
    )
    assert response.status_code == 409
    with pytest.raises(workflow.StepNotAllowed, match="does not allow asking"):
        workflow.case_request_review_revision(case=case, actor=agent, channel="phone")
    review.refresh_from_db()
    assert review.revision_requested_at is None


def test_the_funnel_matches_hand_counted_reviews(agent):
    today = timezone.localdate()
    now = timezone.now()
    make = [ReviewFactory(rating=r, posted_at=now) for r in (1, 1, 2, 3, 5)]
    old = ReviewFactory(rating=1, posted_at=now - timedelta(days=40))  # outside the period
    # replied: 3 of the 4 negative; contacted: 2; resolved: 1; revised: 1
    for review in [*make[:3], make[4]]:
        workflow.review_reply_save(review=review, actor=agent, text="抱歉", publish=True)
    first = flows.opened(agent, make[0].order, source="review", review=make[0])
    second = flows.opened(agent, make[1].order, source="review", review=make[1])
    for case in (first, second, first):  # the first case twice: still one review
        workflow.case_record_contact(case=case, actor=agent, channel="phone", outcome="reached")
    done = flows.root_cause(agent, OrderFactory())  # a case reaching the root cause...
    from complaints.models import Case, Review

    Case.objects.filter(pk=done.pk).update(review=make[0])  # ...for the first review
    # revised after being asked, as the workflow records it (an outcome needs a request)
    Review.objects.filter(pk=make[0].pk).update(
        revision_requested_at=now, revision_outcome="revised", revised_rating=5
    )
    funnel = recovery_funnel(start=today - timedelta(days=29), end=today)
    assert (funnel.negative, funnel.replied, funnel.contacted, funnel.resolved, funnel.revised) == (
        4,
        3,
        2,
        1,
        1,
    )
    assert [round(share, 2) for _s, _c, share in funnel.steps()] == [1.0, 0.75, 0.5, 0.25, 0.25]
    longer = recovery_funnel(start=today - timedelta(days=45), end=today)
    assert longer.negative == 5  # the review posted 40 days ago counts only here
    assert old.posted_at < timezone.now() - timedelta(days=30)


def test_the_funnel_and_the_team_report_count_the_same_revised_reviews(agent):
    """One rule (models.reviews.REVISED_WHEN_ASKED) for both: a review counts
    as revised when its reviewer was asked and revised it; an outcome with
    no request (which the workflow refuses, but a bulk edit could leave)
    counts in neither."""
    from complaints.models import Review
    from complaints.queries.performance import TEAM, team_performance

    today, now = timezone.localdate(), timezone.now()
    asked, unasked = ReviewFactory(rating=1, posted_at=now), ReviewFactory(rating=2, posted_at=now)
    for review in (asked, unasked):
        flows.opened(agent, review.order, source="review", review=review)
    Review.objects.filter(pk=asked.pk).update(revision_requested_at=now, revision_outcome="revised")
    Review.objects.filter(pk=unasked.pk).update(revision_outcome="revised")
    funnel = recovery_funnel(start=today - timedelta(days=1), end=today)
    team = {row.key: row for row in team_performance(start=today - timedelta(days=1), end=today)}
    assert funnel.revised == 1
    assert team[TEAM].revision_rate == team[agent.pk].revision_rate == 1.0  # 1 revised of 1 asked


def test_inbox_query_count_does_not_grow(client, agent):
    client.force_login(agent)
    for _ in range(3):
        ReviewFactory(rating=2)
    with CaptureQueriesContext(connection) as few:
        client.get(INBOX)
    for n in range(15):
        review = ReviewFactory(rating=1 + n % 5)
        if n % 3 == 0:
            workflow.case_open_from_review(review=review, actor=None)
    cache.clear()  # both views count the funnel (test_the_funnel_is_counted_once_a_minute)
    with CaptureQueriesContext(connection) as many:
        client.get(INBOX)
    assert len(many) == len(few), (len(few), len(many))
    assert len(many) <= 16, len(many)  # the navigation counts reviews per rating


def test_the_funnel_is_counted_once_a_minute_per_period(client, agent, agent2):
    ReviewFactory(rating=1)
    client.force_login(agent)
    with CaptureQueriesContext(connection) as first:
        page = client.get(INBOX)
    counted = [
        q["sql"] for q in first.captured_queries if "COUNT(" in q["sql"] and "revised" in q["sql"]
    ]
    assert len(counted) == 1  # the funnel's one query
    assert 'data-step="negative" data-count="1"' in page.content.decode()
    ReviewFactory(rating=2)  # a new review shows once the minute is over
    client.force_login(agent2)  # shared by everyone
    with CaptureQueriesContext(connection) as again:
        page = client.get(INBOX)
    assert len(again) == len(first) - 1
    assert 'data-step="negative" data-count="1"' in page.content.decode()
    assert 'id="funnel-counted"' in page.content.decode()
    week = {"posted_from": (timezone.localdate() - timedelta(days=6)).isoformat()}
    assert 'data-step="negative" data-count="2"' in client.get(INBOX, week).content.decode()
    with time_machine.travel(timezone.now() + timedelta(seconds=SHARED_SECONDS + 1)):
        later = client.get(INBOX).content.decode()
    assert 'data-step="negative" data-count="2"' in later


def test_roleless_users_see_no_reviews(client, outsider):
    client.force_login(outsider)
    assert client.get(INBOX).status_code == 403


def test_a_stale_reply_form_is_refused_and_keeps_the_text(client, agent, agent2):
    review = ReviewFactory(rating=2)
    client.force_login(agent)
    form = client.get(review_url(review))
    version = form.context["version"]
    assert version == ""  # no reply yet
    workflow.review_reply_save(review=review, actor=agent2, text="同事的回复", publish=True)
    response = client.post(
        review_url(review), {"text": "我的回复", "publish": "1", "version": version}
    )
    html = response.content.decode()
    assert response.status_code == 409
    assert "changed this reply meanwhile" in html and "我的回复" in html and "同事的回复" in html
    assert ReviewReply.objects.get(review=review).text == "同事的回复"


def test_roleless_users_cannot_reply(client, outsider):
    review = ReviewFactory()
    client.force_login(outsider)
    assert client.get(review_url(review)).status_code == 403
    assert client.post(review_url(review), {"text": "x", "publish": "1"}).status_code == 403
    assert not ReviewReply.objects.exists()


def test_the_navigation_counters_stop_counting_at_the_cap(client, agent):
    """Badges read "99+": each counts at most 100 rows, never a whole table."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from complaints.queries import unreplied_counts
    from complaints.templatetags.casetags import badge

    for _ in range(4):
        ReviewFactory(rating=1)
    assert unreplied_counts(cap=2) == {1: 3}  # "more than 2"
    assert badge(3, 2) == "2+" and badge(2, 2) == 2 and badge(150) == "99+"
    client.force_login(agent)
    with CaptureQueriesContext(connection) as captured:
        client.get("/queue/mine/")
    review_counts = [q["sql"] for q in captured if "complaints_review" in q["sql"]]
    assert review_counts and all("LIMIT 100" in sql for sql in review_counts)
    # Every badge (3 ratings, unread notifications) is counted in one query.
    assert len(review_counts) == 1 and "complaints_notification" in review_counts[0]
    assert review_counts[0].count("LIMIT 100") == 4


def test_the_inbox_order_reads_the_joined_reply_not_a_subquery_per_review():
    """The inbox sorts every review by whether it needs a reply; reading that
    from the reply the page joins anyway, not from a subquery per review,
    took the inbox from 1.4 s to 0.45 s at 1M cases (250k reviews)."""
    from complaints.queries import review_inbox

    sql = str(review_inbox().query)
    assert 'LEFT OUTER JOIN "complaints_reviewreply"' in sql
    assert "EXISTS" not in sql and 'FROM "complaints_reviewreply"' not in sql


def test_the_inbox_pages_by_keyset_in_its_order_and_counts_nothing(client, agent):
    """Reviews needing a reply first, then the newest, 25 a page along a
    cursor (at 1M cases, 250k reviews: the inbox's list 31 ms of sorting
    every review and a 12 ms count of them all -> 0.1 ms,
    docs/PERFORMANCE.md). No count of the reviews runs: the pager says
    previous, first and next. A cursor that is not one of ours counts as
    none; a filter on several ratings still pages."""
    from complaints.paging import keyset_page
    from complaints.queries import INBOX_SORT, review_inbox

    now = timezone.now()
    for n in range(7):
        review = ReviewFactory(rating=1 + n % 5, posted_at=now - timedelta(hours=n))
        if n % 3 == 0:
            workflow.case_open_from_review(review=review, actor=None)
        if n == 1:
            workflow.review_reply_save(review=review, actor=agent, text="抱歉", publish=True)
    expected = [(r.pk, r.case_number, r.replied) for r in review_inbox()]
    unreplied_low = [r.pk for r in review_inbox() if r.rating <= 3 and not r.replied]
    assert [pk for pk, *_ in expected][: len(unreplied_low)] == unreplied_low  # first
    pages, after = [], None
    for _ in range(3):
        page = keyset_page(review_inbox(), INBOX_SORT, after=after, size=3)
        pages.append(page)
        after = page.next_cursor
    assert [(r.pk, r.case_number, r.replied) for p in pages for r in p] == expected
    assert pages[2].next_cursor is None and len(pages[2]) == 1
    back = keyset_page(review_inbox(), INBOX_SORT, before=pages[2].previous_cursor, size=3)
    assert [r.pk for r in back] == [r.pk for r in pages[1]]

    client.force_login(agent)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(INBOX)
    assert [r.pk for r in response.context["page"]] == [pk for pk, *_ in expected]
    # The funnel counts its period (once a minute); nothing counts the list.
    listed = [q["sql"] for q in captured if 'AS "__count"' in q["sql"]]
    assert listed == [], listed
    second = client.get(INBOX, {"after": pages[0].next_cursor, "rating": ["1", "2", "3"]})
    assert second.status_code == 200
    assert 'rel="prev"' in second.content.decode()
    garbled = client.get(INBOX, {"after": "not-a-cursor"})
    assert [r.pk for r in garbled.context["page"]] == [pk for pk, *_ in expected]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("reference_data")
def test_the_inbox_reads_its_index_in_order_also_when_prepared(agent):
    """PostgreSQL reads the inbox's first page and a later one from
    review_inbox_order without sorting, in a fresh plan and in the generic
    plan a kept connection uses once it has prepared the statement (the
    threshold and the 0/1 are literals in the SQL). SQLite plans on its own
    terms: there the pages are checked to answer, not how."""
    from django.db import transaction

    from complaints.paging import keyset_page
    from complaints.queries import INBOX_SORT, review_inbox

    from .plans import generic_plan

    now = timezone.now()
    for n in range(30):
        ReviewFactory(rating=1 + n % 5, posted_at=now - timedelta(hours=n))
    sent = []

    def record(execute, *call):
        sent.append(call)
        return execute(*call)

    first = keyset_page(review_inbox(), INBOX_SORT, size=10)
    for after in (None, first.next_cursor):
        sent.clear()
        with connection.execute_wrapper(record):
            page = keyset_page(review_inbox(), INBOX_SORT, after=after, size=10)
        assert len(page) == 10
        ((sql, params, _many, _context),) = sent
        if connection.vendor != "postgresql":
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {connection.ops.compose_sql(sql, params)}")
            custom = "\n".join(row[0] for row in cursor.fetchall())
        generic = generic_plan(sql, params, "enable_sort = off", "enable_seqscan = off")
        for plan in (custom, generic):
            assert "review_inbox_order" in plan, plan
            nodes = [line.strip().removeprefix("->").strip() for line in plan.splitlines()]
            assert not any(node.startswith(("Sort  (", "Incremental Sort")) for node in nodes), plan


def test_a_reviews_latest_case_is_read_in_order_from_one_index(client, agent, supervisor):
    """The inbox shows each review's latest case (its number and state) and
    its case-state filter tests that state along the inbox's walk. Both read
    case_review_latest (the review's cases in the order they were opened,
    with their state and number) from its end, instead of fetching and
    sorting the review's cases for every review walked (at 1M cases, by a
    common state: 107 -> 55 ms for the list)."""
    from complaints.models import Case
    from complaints.queries import review_inbox

    review = ReviewFactory(rating=1)
    older = workflow.case_open_from_review(review=review, actor=None)
    workflow.case_cancel(case=older, actor=supervisor, reason="重复")
    newer = workflow.case_open_from_review(review=review, actor=None)
    ReviewFactory(rating=2)  # no case
    client.force_login(agent)
    page = client.get(INBOX, {"case_state": "confirming"}).content.decode()
    assert newer.number in page and older.number not in page
    assert (
        client.get(INBOX, {"case_state": "cancelled"}).content.decode().count(review.external_id)
        == 0
    )
    # one index answers the review's cases: the foreign key's own is gone
    indexes = connection.introspection.get_constraints(connection.cursor(), Case._meta.db_table)
    on_review = sorted(
        name
        for name, index in indexes.items()
        if index["index"] and index["columns"][:1] == ["review_id"]
    )
    assert on_review == ["case_review_latest"], on_review
    if connection.vendor != "postgresql":
        return
    from .plans import plan_with_only

    sql, params = review_inbox()[:26].query.sql_with_params()
    # whether the index answers alone: on a few rows another would do as well
    plan = plan_with_only(
        "case_review_latest", "complaints_case", connection.ops.compose_sql(sql, params)
    )
    assert plan.count("Scan Backward using case_review_latest") == 2, plan  # number, state
    assert "created_at DESC" not in plan, plan  # no sort of a review's cases


def test_the_unreplied_badges_read_the_reviews_own_reply_time(client, agent):
    """Where most reviews are answered, an outer join to the replies made
    PostgreSQL hash every reply for each rating's badge, on every page (150
    ms at 1M cases), and NOT EXISTS walked the answered reviews (4 ms). The
    badges read the review's replied_at instead. A draft does not count as
    a reply."""
    from complaints.queries import unreplied_counts
    from complaints.queries.reviews import unreplied_by_rating

    for rating in (1, 1, 2):
        ReviewFactory(rating=rating)
    answered, drafted = ReviewFactory(rating=2), ReviewFactory(rating=3)
    workflow.review_reply_save(review=answered, actor=agent, text="已处理", publish=True)
    workflow.review_reply_save(review=drafted, actor=agent, text="草稿", publish=False)
    assert unreplied_counts() == {1: 2, 2: 1, 3: 1}
    for queryset in unreplied_by_rating().values():
        sql = str(queryset.query)
        assert "complaints_reviewreply" not in sql and '"replied_at" IS NULL' in sql, sql


def test_replied_at_follows_the_published_reply_whoever_writes_it(agent):
    """The reply keeps its review's replied_at: published through the
    workflow, turned back into a draft or deleted (as the admin may), and
    the migration fills it for replies published before it."""
    import importlib

    from django.apps import apps

    from complaints.models import Review, ReviewReply

    review = ReviewFactory(rating=1)
    workflow.review_reply_save(review=review, actor=agent, text="草稿", publish=False)
    review.refresh_from_db()
    assert review.replied_at is None
    reply = workflow.review_reply_save(review=review, actor=agent, text="抱歉", publish=True)
    review.refresh_from_db()
    assert review.replied_at == reply.published_at is not None
    reply.status = "draft"
    reply.save()  # the admin's change form saves the same way
    review.refresh_from_db()
    assert review.replied_at is None
    reply.status = "published"
    reply.save()
    ReviewReply.objects.filter(pk=reply.pk).delete()
    review.refresh_from_db()
    assert review.replied_at is None
    again = workflow.review_reply_save(review=review, actor=agent, text="再次", publish=True)
    Review.objects.filter(pk=review.pk).update(replied_at=None)  # as before the migration
    migration = importlib.import_module("complaints.migrations.0032_review_replied_at")
    migration.backfill(apps, None)
    review.refresh_from_db()
    assert review.replied_at == again.published_at


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("reference_data")
def test_the_badges_count_from_the_index_of_unreplied_reviews():
    """review_unreplied holds the reviews without a published reply, by
    rating: a badge counts its first hundred from the index alone. The
    PostgreSQL plan is checked with that index the only one it may use."""
    from django.core.management import call_command

    from complaints.paging import capped_counts
    from complaints.queries.reviews import unreplied_by_rating

    from .plans import plan_with_only

    call_command("generate_data", cases=300, agents=2, closed=0.8, no_progress=True)
    with CaptureQueriesContext(connection) as captured:
        counts = capped_counts(unreplied_by_rating(), 99)
    assert 0 < sum(counts.values()) < 300 * 0.25
    if connection.vendor != "postgresql":
        return
    (sql,) = [q["sql"] for q in captured]
    plan = plan_with_only("review_unreplied", "complaints_review", sql)
    assert plan.count("Index Only Scan using review_unreplied") == len(counts), plan

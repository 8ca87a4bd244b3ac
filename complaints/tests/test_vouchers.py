"""Vouchers after issue: redeemed once, voided, expired; and the ledger."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from complaints import workflow
from complaints.models import CaseEvent, Voucher, VoucherStatus
from complaints.queries import compensation_cost

from . import flows
from .factories import OrderFactory

pytestmark = pytest.mark.django_db

LEDGER = reverse("complaints:vouchers")


def issued(agent, order, *, amount="20", min_spend="100"):
    case, _offer = flows.executing(agent, order, amount=Decimal(amount), min_spend=min_spend)
    return workflow.voucher_issue(case=case, actor=agent)


@pytest.fixture
def voucher(agent, order):
    return issued(agent, order)


@pytest.fixture
def next_order(order):
    return OrderFactory(customer=order.customer, paid_total=Decimal("150"))


def past(voucher):
    """Move ``voucher``'s validity into the past."""
    now = timezone.now()
    Voucher.objects.filter(pk=voucher.pk).update(
        valid_from=now - timedelta(days=31), valid_until=now - timedelta(hours=1)
    )


def refusal(info):
    return info.value.code


def test_a_voucher_redeems_once(agent, voucher, next_order):
    redeemed = workflow.voucher_redeem(voucher=voucher, actor=agent, order=next_order)
    assert redeemed.status == "redeemed" and redeemed.redemption_order == next_order
    assert redeemed.redeemed_amount == Decimal("150")
    event = CaseEvent.objects.get(case=voucher.offer.case, kind="voucher_redeemed")
    assert event.actor == agent and event.payload["order"] == next_order.number
    with pytest.raises(workflow.VoucherNotRedeemable, match="already redeemed") as info:
        workflow.voucher_redeem(voucher=voucher, actor=agent, order=next_order)
    assert refusal(info) == "redeemed"
    assert CaseEvent.objects.filter(kind="voucher_redeemed").count() == 1


def test_below_the_minimum_spend_is_refused(agent, voucher, next_order):
    with pytest.raises(workflow.VoucherNotRedeemable, match="minimum spend") as info:
        workflow.voucher_redeem(voucher=voucher, actor=agent, order=next_order, amount="99.99")
    assert refusal(info) == "below_min_spend"
    assert Voucher.objects.get(pk=voucher.pk).status == "issued"
    ok = workflow.voucher_redeem(voucher=voucher, actor=agent, order=next_order, amount="100")
    assert ok.status == "redeemed"


def test_an_expired_voucher_is_refused(agent, voucher, next_order):
    past(voucher)
    with pytest.raises(workflow.VoucherNotRedeemable, match="expired") as info:
        workflow.voucher_redeem(voucher=voucher, actor=agent, order=next_order)
    assert refusal(info) == "expired"


def test_a_void_voucher_is_refused(agent, supervisor, voucher, next_order):
    workflow.voucher_void(voucher=voucher, actor=supervisor, reason="改为退款")
    with pytest.raises(workflow.VoucherNotRedeemable, match="voided: 改为退款") as info:
        workflow.voucher_redeem(voucher=voucher, actor=agent, order=next_order)
    assert refusal(info) == "void"


def test_another_customers_order_is_refused(agent, voucher):
    with pytest.raises(workflow.VoucherNotRedeemable) as info:
        workflow.voucher_redeem(voucher=voucher, actor=agent, order=OrderFactory())
    assert refusal(info) == "other_customer"


def test_voiding_needs_a_supervisor_and_a_reason(agent, supervisor, voucher):
    with pytest.raises(PermissionDenied):
        workflow.voucher_void(voucher=voucher, actor=agent, reason="x")
    with pytest.raises(ValidationError):
        workflow.voucher_void(voucher=voucher, actor=supervisor, reason=" ")
    voided = workflow.voucher_void(voucher=voucher, actor=supervisor, reason="客户改为退款")
    assert (voided.status, voided.voided_by, voided.void_reason) == (
        "void",
        supervisor,
        "客户改为退款",
    )
    with pytest.raises(workflow.StepNotAllowed):
        workflow.voucher_void(voucher=voucher, actor=supervisor, reason="again")


def test_the_expiry_sweep_marks_past_vouchers_once(agent, order, capsys):
    old = issued(agent, order)
    fresh = issued(agent, OrderFactory(customer=order.customer))
    past(old)
    call_command("expire_vouchers")
    assert capsys.readouterr().out.strip() == "1 vouchers expired."
    assert Voucher.objects.get(pk=old.pk).status == "expired"
    assert Voucher.objects.get(pk=fresh.pk).status == "issued"
    call_command("expire_vouchers")
    assert capsys.readouterr().out.strip() == "0 vouchers expired."
    assert CaseEvent.objects.filter(kind="voucher_expired").count() == 1


def test_the_expiry_sweep_runs_as_a_task(agent, order, settings, capsys):
    from django_tasks_db.models import DBTaskResult

    from complaints.tasks import expire_vouchers

    from .conftest import DATABASE_TASKS

    old = issued(agent, order)
    past(old)
    assert expire_vouchers.enqueue().return_value == 1  # at once, in development
    assert Voucher.objects.get(pk=old.pk).status == "expired"
    settings.TASKS = DATABASE_TASKS
    call_command("expire_vouchers", "--enqueue")
    assert "enqueued" in capsys.readouterr().out
    assert DBTaskResult.objects.get().task_path == "complaints.tasks.expire_vouchers"


def test_compensation_cost_adds_up_the_executed_remedies(agent, order):
    case, _ = flows.verifying(agent, order, amount=Decimal("20"))
    flows.followed_up(agent, case)
    case = workflow.case_record_satisfaction(case=case, actor=agent, satisfied=False, score=2)
    refund = workflow.offer_propose(case=case, actor=agent, kind="partial_refund", amount="35")
    workflow.offer_propose(case=case, actor=agent, kind="gift", amount="10")  # not chosen
    case = workflow.case_propose(case=case, actor=agent)
    case = workflow.case_accept_offer(case=case, offer=refund, actor=agent)
    workflow.offer_record_execution(case=case, actor=agent, reference="R1")
    case = workflow.case_mark_executed(case=case, actor=agent)
    assert compensation_cost(case) == Decimal("55")
    case.refresh_from_db()
    assert case.compensation_cost == Decimal("55")  # kept on the case for reports


# The ledger pages --------------------------------------------------------


def test_ledger_totals_match_the_sum_of_the_vouchers(client, agent, supervisor, customer):
    values = [("5", "issued"), ("10", "redeemed"), ("15", "void"), ("20", "expired")]
    made = []
    for value, status in values:
        voucher = issued(agent, OrderFactory(customer=customer), amount=value, min_spend="0")
        made.append(voucher)
        if status == "redeemed":
            workflow.voucher_redeem(voucher=voucher, actor=agent, order=voucher.offer.case.order)
        elif status == "void":
            workflow.voucher_void(voucher=voucher, actor=supervisor, reason="作废")
        elif status == "expired":
            past(voucher)
    client.force_login(supervisor)
    response = client.get(reverse("complaints:vouchers"))
    totals = response.context["totals"]
    assert totals.issued_value == sum(v.value for v in Voucher.objects.all()) == Decimal("50")
    assert totals.redeemed_value == Decimal("10")
    assert totals.outstanding == Decimal("5")
    assert totals.expired_value == Decimal("20")
    assert totals.void_value == Decimal("15")
    assert totals.count == 4
    html = response.content.decode()
    assert 'data-total="outstanding">¥5.00<' in html
    months = response.context["months"]
    assert sum(m["issued"] for m in months) == Decimal("50")
    filtered = client.get(reverse("complaints:vouchers"), {"status": ["issued"]})
    # Still "issued" but past its date until the sweep runs: 5 + 20.
    assert filtered.context["totals"].issued_value == Decimal("25")


def test_ledger_filters_by_text_and_period(client, agent, supervisor, order):
    voucher = issued(agent, order)
    client.force_login(supervisor)
    url = reverse("complaints:vouchers")
    assert [v.pk for v in client.get(url, {"q": voucher.code[:9]}).context["page"]] == [voucher.pk]
    assert [v.pk for v in client.get(url, {"q": voucher.offer.case.number}).context["page"]] == [
        voucher.pk
    ]
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert list(client.get(url, {"issued_from": tomorrow}).context["page"]) == []
    assert client.get(url, {"issued_from": "not a date"}).status_code == 400


def test_a_search_past_the_cap_is_listed_but_not_added_up(
    client, agent, supervisor, customer, monkeypatch
):
    """A search that found more than COUNT_CAP vouchers lists them and says
    their money is not added up (at 1M cases "9" summed 840k vouchers across
    three tables: 1.7 s). The status and period narrow first, so a search
    within them that finds no more than the cap is added up exactly."""
    monkeypatch.setattr("complaints.queries.search.COUNT_CAP", 3)
    monkeypatch.setattr("complaints.views.money.COUNT_CAP", 3)
    made = [issued(agent, OrderFactory(customer=customer), amount="10") for _ in range(5)]
    for voucher in made[:2]:
        workflow.voucher_void(voucher=voucher, actor=supervisor, reason="重复补偿")
    client.force_login(supervisor)
    term = customer.buyer_id  # three characters or more: looked up on both databases
    wide = client.get(LEDGER, {"q": term})
    assert wide.status_code == 200
    assert wide.context["totals"] is None and wide.context["months"] is None
    assert {v.pk for v in wide.context["page"]} == {v.pk for v in made}
    html = wide.content.decode()
    assert 'id="ledger-not-summed"' in html and "More than 3 vouchers" in html
    assert 'id="ledger-totals"' not in html and 'id="ledger-months"' not in html
    narrow = client.get(LEDGER, {"q": term, "status": ["void"]})
    totals = narrow.context["totals"]
    assert totals.count == 2 and totals.void_value == totals.issued_value == Decimal("20")
    assert 'id="ledger-not-summed"' not in narrow.content.decode()
    assert {v.pk for v in narrow.context["page"]} == {v.pk for v in made[:2]}


def test_ledger_query_count_does_not_grow_with_the_rows(client, agent, supervisor, customer):
    client.force_login(supervisor)
    issued(agent, OrderFactory(customer=customer))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("complaints:vouchers"))
    for _ in range(10):
        issued(agent, OrderFactory(customer=customer))
    cache.clear()  # the whole ledger's money is shared for a minute: count it again
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("complaints:vouchers"))
    assert len(many) == len(few), (len(few), len(many))
    assert len(many) <= 14, len(many)  # the navigation counts reviews per rating


def test_the_ledger_reads_its_vouchers_once_for_totals_months_and_count(
    client, agent, supervisor, customer
):
    """The totals, the months and the count come from one pass over the
    vouchers, the page's rows from another (at 1M cases three passes took
    700 ms, docs/PERFORMANCE.md); the pages are keyset pages, so nothing
    counts the rows for a pager."""
    for _ in range(3):
        issued(agent, OrderFactory(customer=customer))
    client.force_login(supervisor)
    today = timezone.localdate().isoformat()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("complaints:vouchers"), {"issued_from": today})
    reads = [q["sql"] for q in captured if 'FROM "complaints_voucher"' in q["sql"]]
    assert len(reads) == 2, reads
    assert len(response.context["page"]) == response.context["totals"].count == 3
    assert response.context["counted_at"] is None  # a period is counted at once


def _ledger_of_every_status(agent, supervisor, customer):
    """Vouchers in every status, an issued one past its date among them."""
    made = [
        issued(agent, OrderFactory(customer=customer), amount=a, min_spend="0") for a in "12345"
    ]
    workflow.voucher_redeem(voucher=made[0], actor=agent, order=made[0].offer.case.order)
    workflow.voucher_void(voucher=made[1], actor=supervisor, reason="重复补偿")
    past(made[2])  # still issued: lapsed until the nightly sweep
    past(made[3])
    Voucher.objects.filter(pk=made[3].pk).update(status=VoucherStatus.EXPIRED)  # swept
    return made


STATUS_SETS = [[], ["issued"], ["redeemed"], ["void", "expired"], ["issued", "redeemed"]]


def test_each_status_is_summed_from_the_shared_count_as_a_fresh_count_would(
    client, agent, supervisor, customer
):
    """The whole ledger and each status filter are summed from one shared
    count per month, status and lapse ("redeemed" alone at 1M cases summed
    377k vouchers: 190 ms): the same totals and months as counting the
    filtered vouchers at once, and no pass over the vouchers of its own."""
    from complaints.queries import ledger_summary, shared_ledger_summary, voucher_ledger

    _ledger_of_every_status(agent, supervisor, customer)
    for statuses in STATUS_SETS:
        (shared, shared_months), _at = shared_ledger_summary(statuses)
        vouchers = voucher_ledger()
        if statuses:
            vouchers = vouchers.filter(status__in=statuses)
        fresh, fresh_months = ledger_summary(vouchers)
        assert shared == fresh, statuses
        assert shared_months == fresh_months, statuses
    (everything, _months), _at = shared_ledger_summary([])
    assert (everything.count, everything.issued_value) == (5, Decimal("15"))
    assert everything.expired_value == Decimal("7")  # 3 lapsed + 4 expired
    client.force_login(supervisor)
    client.get(LEDGER)  # counted, and shared from now on
    with CaptureQueriesContext(connection) as captured:
        redeemed = client.get(LEDGER, {"status": ["redeemed"]})
    reads = [q["sql"] for q in captured if 'FROM "complaints_voucher"' in q["sql"]]
    assert len(reads) == 1, reads  # the page's rows only
    totals = redeemed.context["totals"]
    assert (totals.count, totals.issued_value, totals.redeemed_value) == (1, 1, 1)
    assert redeemed.context["counted_at"] is not None
    assert 'id="ledger-counted"' in redeemed.content.decode()


def test_a_search_or_a_period_is_counted_at_once(client, agent, supervisor, customer):
    made = _ledger_of_every_status(agent, supervisor, customer)
    client.force_login(supervisor)
    client.get(LEDGER)  # the shared count, before the change below
    workflow.voucher_redeem(voucher=made[4], actor=agent, order=made[4].offer.case.order)
    today = timezone.localdate().isoformat()
    for params in ({"status": ["redeemed"], "issued_from": today}, {"q": made[4].code}):
        response = client.get(LEDGER, params)
        assert response.context["counted_at"] is None, params
        assert made[4].pk in {v.pk for v in response.context["page"]}
        assert response.context["totals"].redeemed_value >= Decimal("5"), params
    stale = client.get(LEDGER, {"status": ["redeemed"]})  # shared for its minute
    assert stale.context["totals"].redeemed_value == Decimal("1")
    cache.clear()
    assert client.get(LEDGER, {"status": ["redeemed"]}).context["totals"].redeemed_value == 6


def test_the_ledger_pages_by_keyset_newest_first_without_counting(
    client, agent, supervisor, customer, monkeypatch
):
    monkeypatch.setattr("complaints.views.money.PAGE_SIZE", 2)
    made = [issued(agent, OrderFactory(customer=customer)) for _ in range(5)]
    newest_first = [v.code for v in sorted(made, key=lambda v: (v.issued_at, v.pk), reverse=True)]
    client.force_login(supervisor)
    seen, pages, url = [], [], LEDGER
    while url:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert not [q for q in captured if "COUNT(*)" in q["sql"] and "voucher" in q["sql"]]
        page = response.context["page"]
        pages.append([v.code for v in page])
        seen += pages[-1]
        url = f"{LEDGER}?after={page.next_cursor}" if page.next_cursor else None
    assert seen == newest_first and [len(p) for p in pages] == [2, 2, 1]
    back = client.get(LEDGER, {"before": response.context["page"].previous_cursor})
    assert [v.code for v in back.context["page"]] == pages[1]
    html = client.get(LEDGER, {"status": ["issued"]}).content.decode()
    assert 'rel="next" href="?status=issued&amp;after=' in html  # the filter stays
    assert [v.code for v in client.get(LEDGER, {"after": "garbled"}).context["page"]] == pages[0]


def test_an_order_value_beyond_the_books_is_refused(agent, voucher, next_order):
    with pytest.raises(ValidationError) as refused:
        workflow.voucher_redeem(voucher=voucher, actor=agent, order=next_order, amount="100000000")
    assert "at most ¥99999999.99" in str(refused.value)
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.ISSUED and voucher.redeemed_amount is None


def test_redeem_and_void_from_the_voucher_page(client, agent, supervisor, voucher, next_order):
    page = reverse("complaints:voucher", args=[voucher.code])
    client.force_login(agent)
    html = client.get(page).content.decode()
    assert "Redeem" in html and "Void the voucher" not in html  # agents redeem, not void
    low = client.post(
        reverse("complaints:voucher_redeem", args=[voucher.code]),
        {"order_number": next_order.number, "amount": "50"},
    )
    assert low.status_code == 409 and "minimum spend" in low.content.decode()
    unknown = client.post(
        reverse("complaints:voucher_redeem", args=[voucher.code]), {"order_number": "NOPE"}
    )
    assert unknown.status_code == 400 and "No order with this number." in unknown.content.decode()
    ok = client.post(
        reverse("complaints:voucher_redeem", args=[voucher.code]),
        {"order_number": next_order.number},
    )
    assert ok.status_code == 302
    again = client.post(
        reverse("complaints:voucher_redeem", args=[voucher.code]),
        {"order_number": next_order.number},
    )
    assert again.status_code == 409 and "already redeemed" in again.content.decode()
    assert (
        client.post(
            reverse("complaints:voucher_void", args=[voucher.code]), {"reason": "x"}
        ).status_code
        == 403
    )


def test_supervisor_voids_from_the_page(client, supervisor, voucher):
    client.force_login(supervisor)
    url = reverse("complaints:voucher_void", args=[voucher.code])
    assert client.post(url, {"reason": ""}).status_code == 400
    assert client.post(url, {"reason": "客户改为退款"}).status_code == 302
    assert Voucher.objects.get(pk=voucher.pk).status == "void"


def test_roleless_users_see_no_ledger(client, outsider, voucher):
    client.force_login(outsider)
    assert client.get(reverse("complaints:vouchers")).status_code == 403
    assert client.get(reverse("complaints:voucher", args=[voucher.code])).status_code == 403


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("reference_data")
def test_the_ledger_reads_its_newest_vouchers_from_an_index():
    """The ledger and the API list vouchers newest first: an index gives that
    order (at 1M cases, 840k vouchers: the API's list 390 -> 51 ms).
    PostgreSQL's plan is checked; SQLite plans on its own terms."""
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from complaints.queries import voucher_ledger

    from .test_views_queues import _plan

    call_command("generate_data", cases=300, agents=2, closed=0.9, no_progress=True)
    with CaptureQueriesContext(connection) as captured:
        assert len(list(voucher_ledger()[:50])) > 10
    (sql,) = [q["sql"] for q in captured]
    if connection.vendor == "postgresql":
        with transaction.atomic():
            plan = _plan(sql)
        nodes = [line.strip().removeprefix("->").strip() for line in plan.splitlines()]
        assert not any(node.startswith("Sort  (") for node in nodes), plan
        assert "voucher_issued" in plan, plan


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("reference_data")
def test_the_database_knows_how_few_months_the_vouchers_span():
    """Migration 0029's statistics: PostgreSQL estimates the ledger's months
    from the data, so it hashes them instead of sorting every voucher on disk
    (at 840k vouchers 510 -> 230 ms). Without them it guesses 200 groups.
    SQLite keeps no such statistics: there the months are checked to add up."""
    from complaints.queries import ledger_summary, voucher_ledger

    call_command("generate_data", cases=300, agents=2, closed=0.9, no_progress=True)
    vouchers = voucher_ledger()
    with CaptureQueriesContext(connection) as captured:
        totals, months = ledger_summary(vouchers)
    assert totals.count == vouchers.count() > 200
    assert sum(m["count"] for m in months) == totals.count
    assert sum((m["issued"] for m in months), Decimal("0")) == totals.issued_value
    assert len(months) < 24
    if connection.vendor == "postgresql":
        (sql,) = [q["sql"] for q in captured]
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE complaints_voucher")
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            (plan,) = cursor.fetchone()
        estimate = plan[0]["Plan"]["Plan Rows"]
        assert estimate <= 2 * len(months) + 2, plan

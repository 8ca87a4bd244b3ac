"""The admin: every model is there, and case steps go through the workflow."""

import pytest
from django.contrib import admin
from django.urls import reverse

from complaints.models import Case, CaseEvent, CaseState, Offer

from . import flows
from .factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_agent(agent):
    agent.is_staff = True
    agent.save()
    return agent


@pytest.fixture
def staff_supervisor(supervisor):
    supervisor.is_staff = True
    supervisor.save()
    return supervisor


def step_url(case, name):
    return reverse("admin:complaints_case_step", args=[case.pk, name])


def test_every_domain_model_is_in_the_admin():
    from django.apps import apps

    models = set(apps.get_app_config("complaints").get_models())
    registered = {m for m in models if admin.site.is_registered(m)}
    registered |= {  # edited inline on their parent's page
        inline.model
        for model_admin in admin.site._registry.values()
        for inline in model_admin.inlines
    }
    missing = {m.__name__ for m in models - registered}
    assert missing == set()


def test_case_page_offers_only_the_steps_the_user_may_take(client, staff_agent, agent2, order):
    case = flows.opened(staff_agent, order)
    client.force_login(staff_agent)
    page = client.get(reverse("admin:complaints_case_change", args=[case.pk]))
    assert page.status_code == 200
    steps = {item["step"].name for item in page.context["case_steps"]}
    assert {"confirm", "cancel", "record_contact", "add_note"} <= steps
    assert not steps & {"close", "accept", "approve_offer", "mark_executed"}
    assert b'name="state"' not in page.content  # read-only: no input for the state


def test_a_step_posted_in_the_admin_runs_the_workflow(client, staff_agent, order):
    case = flows.opened(staff_agent, order, demand="")
    client.force_login(staff_agent)
    response = client.post(
        step_url(case, "confirm"),
        {"expected_state": "confirming", "demand": "换一件白色的", "description": ""},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.ANALYZING
    assert case.demand == "换一件白色的"
    event = CaseEvent.objects.filter(case=case).first()
    assert (event.transition, event.actor) == ("confirm", staff_agent)


def test_a_stale_step_form_is_refused_and_keeps_the_typed_text(client, staff_agent, order):
    case = flows.opened(staff_agent, order)
    flows.analyzing(staff_agent, order)  # another case; this one moves on below
    from complaints import workflow

    workflow.case_confirm(case=case, actor=staff_agent)
    client.force_login(staff_agent)
    response = client.post(
        step_url(case, "add_note"), {"expected_state": "confirming", "text": "客户说明天在家"}
    )
    assert response.status_code == 409
    assert "changed meanwhile" in response.content.decode()
    assert "客户说明天在家" in response.content.decode()
    assert not CaseEvent.objects.filter(case=case, kind="note").exists()


def test_an_unmet_guard_answers_409_with_its_reason(client, staff_agent, order):
    case = flows.root_cause(staff_agent, order)
    client.force_login(staff_agent)
    page = client.get(reverse("admin:complaints_case_change", args=[case.pk]))
    close = next(i for i in page.context["case_steps"] if i["step"].name == "close")
    assert close["unmet"] == ["Record the root cause (a leaf of the taxonomy) first."]
    response = client.post(step_url(case, "close"), {"expected_state": "root_cause"})
    assert response.status_code == 409
    assert "Record the root cause" in response.content.decode()
    assert Case.objects.get(pk=case.pk).state == CaseState.ROOT_CAUSE


def test_bad_input_is_a_form_error(client, staff_agent, staff_supervisor, order):
    case = flows.analyzing(staff_agent, order)
    from complaints import workflow

    workflow.offer_propose(case=case, actor=staff_agent, kind="voucher", amount="80")
    client.force_login(staff_supervisor)
    offer = case.offers.get()
    response = client.post(
        step_url(case, "reject_offer"),
        {"expected_state": "analyzing", "offer": offer.pk, "note": ""},
    )
    assert response.status_code == 400
    assert "Say why the offer is rejected." in response.content.decode()
    response = client.post(
        step_url(case, "propose_offer"),
        {"expected_state": "analyzing", "kind": "voucher", "amount": "-1"},
    )
    assert response.status_code == 400
    assert "greater than zero" in response.content.decode()


def test_a_colleague_cannot_take_steps_on_an_agents_case(client, staff_agent, order):
    case = flows.opened(staff_agent, order)
    other = UserFactory(username="agent_c", role="agent", is_staff=True)
    client.force_login(other)
    response = client.post(
        step_url(case, "cancel"), {"expected_state": "confirming", "reason": "x"}
    )
    assert response.status_code == 403
    assert Case.objects.get(pk=case.pk).state == CaseState.CONFIRMING


def test_the_proposer_gets_no_approve_step(client, staff_supervisor, order):
    case = flows.analyzing(staff_supervisor, order)
    from complaints import workflow

    workflow.offer_propose(case=case, actor=staff_supervisor, kind="voucher", amount="80")
    client.force_login(staff_supervisor)
    page = client.get(reverse("admin:complaints_case_change", args=[case.pk]))
    assert "approve_offer" not in {i["step"].name for i in page.context["case_steps"]}
    response = client.post(
        step_url(case, "approve_offer"),
        {"expected_state": "analyzing", "offer": case.offers.get().pk, "note": ""},
    )
    assert response.status_code == 403


def test_opening_a_case_in_the_admin(client, staff_agent, order):
    client.force_login(staff_agent)
    response = client.post(
        reverse("admin:complaints_case_add"),
        {
            "customer": order.customer.pk,
            "order": order.pk,
            "source": "phone",
            "summary": "电话投诉：少发一件",
            "demand": "补发",
            "priority": 3,
        },
    )
    assert response.status_code == 302
    case = Case.objects.get(summary="电话投诉：少发一件")
    assert case.assignee == staff_agent
    assert CaseEvent.objects.filter(case=case, kind="opened", actor=staff_agent).exists()


def test_opening_for_an_unknown_customer_is_a_form_error(client, staff_agent):
    client.force_login(staff_agent)
    response = client.post(
        reverse("admin:complaints_case_add"),
        {
            "marketplace": "jd",
            "buyer_id": "nobody",
            "source": "chat",
            "summary": "x",
            "priority": 2,
        },
    )
    assert response.status_code == 400
    assert "No customer with this nickname" in response.content.decode()
    assert not Case.objects.exists()


def test_case_events_cannot_be_changed_or_deleted_in_the_admin(client, admin_user, order, agent):
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    case = flows.opened(agent, order)
    event = CaseEvent.objects.get(case=case)
    client.force_login(admin_user)
    change = reverse("admin:complaints_caseevent_change", args=[event.pk])
    assert client.get(change).status_code == 200  # viewable
    assert client.post(change, {"kind": "note"}).status_code == 403
    delete = reverse("admin:complaints_caseevent_delete", args=[event.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert CaseEvent.objects.get(pk=event.pk).kind == "opened"


def test_demo_admin_logs_in_to_the_admin_and_sees_the_cases(client, settings):
    from django.core.management import call_command

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    call_command("load_demo")
    response = client.post(
        reverse("admin:login") + "?next=/admin/complaints/case/",
        {"username": "admin1", "password": "demo12345"},
        follow=True,
    )
    assert response.status_code == 200
    assert "C-2026-" in response.content.decode()


def test_nothing_but_quick_replies_can_be_deleted_in_the_admin(rf, admin_user):
    admin_user.is_superuser = True
    request = rf.get("/admin/")
    request.user = admin_user
    deletable = {
        model.__name__
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label == "complaints" and model_admin.has_delete_permission(request)
    }
    # A lost phone's two-step key is removed (its owner is told): a key,
    # not a record of the shop's.
    assert deletable == {"ReplyTemplate", "AuthenticatorKey"}


@pytest.fixture
def staff_admin(admin_user):
    admin_user.is_staff = True
    admin_user.save()
    return admin_user


def calendar_form(name, hours, special=()):
    data = {
        "name": name,
        "time_zone": "Asia/Shanghai",
        "hours-TOTAL_FORMS": str(len(hours)),
        "hours-INITIAL_FORMS": "0",
        "special_days-TOTAL_FORMS": str(len(special)),
        "special_days-INITIAL_FORMS": "0",
    }
    for i, (weekday, opens, closes) in enumerate(hours):
        data |= {
            f"hours-{i}-weekday": weekday,
            f"hours-{i}-opens": opens,
            f"hours-{i}-closes": closes,
        }
    for i, (day, opens, closes) in enumerate(special):
        data |= {
            f"special_days-{i}-date": day,
            f"special_days-{i}-opens": opens,
            f"special_days-{i}-closes": closes,
        }
    return data


def test_an_admin_sets_working_hours_and_holidays(client, staff_admin):
    from complaints.models import SlaCalendar

    client.force_login(staff_admin)
    url = reverse("admin:complaints_slacalendar_add")
    data = calendar_form(
        "Weekdays",
        [("0", "09:00", "12:00"), ("0", "13:00", "18:00"), ("5", "20:00", "00:00")],
        special=[("2026-12-31", "", "")],
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.context["errors"]
    calendar = SlaCalendar.objects.get(name="Weekdays")
    assert calendar.hours.count() == 3
    assert calendar.special_days.get().is_closed


@pytest.mark.parametrize(
    ("hours", "special", "message"),
    [
        ([], [], "at least one day"),
        ([("1", "09:00", "13:00"), ("1", "12:00", "18:00")], [], "overlap"),
        ([("1", "18:00", "09:00")], [], "Closing time must be after opening time"),
        ([("1", "09:00", "18:00")], [("2026-12-31", "09:00", "")], "or neither"),
    ],
)
def test_broken_working_hours_are_form_errors(client, staff_admin, hours, special, message):
    from complaints.models import SlaCalendar

    client.force_login(staff_admin)
    url = reverse("admin:complaints_slacalendar_add")
    response = client.post(url, calendar_form("Broken", hours, special))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not SlaCalendar.objects.filter(name="Broken").exists()


def test_a_second_active_policy_for_one_scope_is_a_form_error(client, staff_admin):
    from complaints.models import SlaPolicy

    client.force_login(staff_admin)
    response = client.post(
        reverse("admin:complaints_slapolicy_add"),
        {
            "name": "Another normal",
            "source": "",
            "priority": "2",
            "first_response_time": "02:00:00",
            "resolution_time": "1 00:00:00",
            "warn_percent": "80",
            "active": "on",
        },
    )
    assert response.status_code == 200
    assert "already covers this source and priority" in response.content.decode()
    assert not SlaPolicy.objects.filter(name="Another normal").exists()


def test_agents_may_read_but_not_change_sla_policies(client, agent):
    agent.is_staff = True
    agent.save()
    client.force_login(agent)
    assert client.get(reverse("admin:complaints_slapolicy_changelist")).status_code == 200
    assert client.get(reverse("admin:complaints_slapolicy_add")).status_code == 403


def test_case_and_voucher_searches_are_looked_up_word_by_word(rf, admin_user, agent):
    """CaseAdmin and VoucherAdmin search through the lists' lookups
    (queries.search) instead of Django's one condition across the joins (a
    case's order number among 1M cases: 5.5 s). Every word must match, and a
    quoted phrase is one word, as in Django's own search."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from complaints.models import Voucher

    from .factories import CustomerFactory, OrderFactory

    bob = CustomerFactory(buyer_id="bob_shops")
    parcel = flows.opened(
        agent, OrderFactory(customer=bob, number="JD-LOST-2"), summary="包裹 丢失"
    )
    size = flows.opened(agent, OrderFactory(customer=bob, number="TB-SIZE-3"), summary="尺码 偏小")
    flows.opened(agent, OrderFactory(number="TB-OTHER-4"), summary="包裹 丢")
    request = rf.get("/admin/complaints/case/")
    request.user = admin_user
    case_admin = admin.site._registry[Case]

    def found(term):
        with CaptureQueriesContext(connection) as captured:
            cases, repeats = case_admin.get_search_results(request, Case.objects.all(), term)
            numbers = {case.number for case in cases}
        assert repeats is False
        return numbers, [q["sql"] for q in captured if "complaints_case" in q["sql"]]

    numbers, sent = found("jd-lost")
    assert numbers == {parcel.number}
    assert "LIMIT" in sent[0] and "LIKE" not in sent[-1]  # looked up, listed by key
    assert found("bob_shops 尺码")[0] == {size.number}  # every word must match
    assert found('"包裹 丢" bob')[0] == {parcel.number}  # a quoted phrase is one word
    assert found("TB- nobody")[0] == set()
    assert found("bob\x00")[0] == {parcel.number, size.number}  # a NUL is dropped
    flows.verifying(agent, OrderFactory(customer=bob, number="TB-V-9"))
    code = Voucher.objects.get(customer=bob).code
    voucher_admin = admin.site._registry[Voucher]
    vouchers, _ = voucher_admin.get_search_results(request, Voucher.objects.all(), code.lower())
    assert [v.code for v in vouchers] == [code]


def test_the_case_and_order_lists_filter_dates_without_reading_every_row(
    client, staff_admin, agent
):
    """No date_hierarchy on the case and order lists: its list of years read
    every row on each view (330 ms at 1M); a date filter in the sidebar
    needs no query."""
    from .factories import OrderFactory

    flows.opened(agent, OrderFactory(number="TB-DATES-1"))
    client.force_login(staff_admin)
    for url, field in (
        ("/admin/complaints/case/", "created_at"),
        ("/admin/complaints/order/", "paid_at"),
    ):
        page = client.get(url)
        assert page.status_code == 200 and page.context["cl"].date_hierarchy is None
        assert f"{field}__gte" in page.content.decode()  # the sidebar's date filter


@pytest.mark.parametrize(
    "model,index",
    [
        ("order", "order_paid_newest"),
        ("offer", "offer_proposed_newest"),
        ("contact", "contact_newest"),
        ("customer", "customer_unique_buyer_per_marketplace"),
    ],
)
def test_a_large_list_is_read_along_an_index_in_its_order(client, staff_admin, agent, model, index):
    """The admin's lists of orders, offers, contacts and customers, in
    their default order, read an index in that order instead of sorting
    the whole table (offers at 1M cases: 410 ms; contacts 230; customers
    90, whose order was made the shop, then the buyer: unique together)."""
    from django.db import connection

    from complaints import workflow

    from .factories import OrderFactory
    from .plans import plan_without_seqscan

    case, _offer = flows.proposing(agent, OrderFactory(number="TB-LISTS-1"))
    workflow.case_record_contact(case=case, actor=agent, channel="phone", outcome="reached")
    client.force_login(staff_admin)
    cl = client.get(f"/admin/complaints/{model}/").context["cl"]
    assert len(cl.result_list) == 1
    if connection.vendor != "postgresql":
        return
    # the list's rows in the admin's order (on a test's few rows PostgreSQL
    # joins the related tables first and sorts, whatever the indexes)
    ordered = cl.model.objects.order_by(*cl.queryset.query.order_by)[: cl.list_per_page]
    plan = plan_without_seqscan(ordered)
    assert f"Index Scan using {index}" in plan and "Sort" not in plan, plan


def test_the_event_list_filters_transitions_from_the_state_machine(client, staff_admin, agent):
    """The event list's transition filter lists the state machine's
    transitions instead of reading the distinct values of every event
    (670 ms at 1M cases), filters by one, and counts the events once, up to
    the admin's cap (an exact count of 10M events: 210 ms)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from .factories import OrderFactory

    case = flows.analyzing(agent, OrderFactory(number="TB-EVENTS-1"))
    client.force_login(staff_admin)
    url = "/admin/complaints/caseevent/"
    with CaptureQueriesContext(connection) as captured:
        page = client.get(url)
    assert page.status_code == 200
    sent = [q["sql"] for q in captured]
    assert not [sql for sql in sent if "DISTINCT" in sql]
    counts = [sql for sql in sent if "COUNT(" in sql and "complaints_caseevent" in sql]
    assert len(counts) == 1 and "LIMIT 1001" in counts[0]  # one count, up to the cap
    html = page.content.decode()
    assert "?transition=confirm" in html and "?transition=reopen" in html
    confirmed = client.get(url, {"transition": "confirm"}).context["cl"].result_list
    assert [(event.case, event.transition) for event in confirmed] == [(case, "confirm")]


@pytest.fixture
def small_cap(monkeypatch):
    """The count's cap (1000, for the admin's lists and the search alike)
    and the admin's page size (100), lowered so that a few rows pass the
    cap and fill more than a page."""
    from complaints.admin import CappedPaginator
    from complaints.queries import search

    monkeypatch.setattr(CappedPaginator, "cap", 2)
    monkeypatch.setattr(search, "COUNT_CAP", 2)
    for model in (Case, Offer):
        monkeypatch.setattr(admin.site._registry[model], "list_per_page", 1)


def test_a_list_counts_up_to_the_cap_and_says_more_than(client, staff_admin, agent, small_cap):
    """The large tables' lists count at most the cap, never the whole table
    beside it (Django's exact counts read every row a search keeps: a common
    word among 1M cases, 1.3 s), say "more than" past it, and offer no facet
    counts. A search that found more than the cap is not counted again.
    Under the cap the count is exact."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from .factories import OrderFactory

    for n in range(3):
        flows.opened(agent, OrderFactory(number=f"TB-CAP-{n}"), summary="包裹 破损")
    flows.opened(agent, OrderFactory(number="JD-ALONE-1"), summary="尺码 偏小")
    client.force_login(staff_admin)
    url = "/admin/complaints/case/"

    def shown(**params):
        with CaptureQueriesContext(connection) as captured:
            page = client.get(url, params)
        assert page.status_code == 200
        sent = [q["sql"] for q in captured if "complaints_case" in q["sql"]]
        return page.context["cl"], page.content.decode(), [sql for sql in sent if "COUNT(" in sql]

    cl, html, counts = shown(_facets="1")
    assert (cl.result_count, cl.paginator.capped, len(cl.result_list)) == (2, True, 1)
    assert "More than 2 cases" in html
    assert len(counts) == 1 and "LIMIT 3" in counts[0]  # no count of the whole table
    assert cl.add_facets is False and "counts</a>" not in html  # no "Show counts"

    cl, html, counts = shown(q="tb-cap")  # the search found 3: more than the cap
    assert (cl.result_count, cl.paginator.capped, counts) == (2, True, [])
    assert "More than 2 results" in html and "More than 2 cases" in html

    cl, html, counts = shown(q="尺码")
    assert (cl.result_count, cl.paginator.capped, len(counts)) == (1, False, 1)
    assert "More than" not in html
    beyond = client.get(url, {"p": "5"})  # a page past the first cap rows
    assert beyond.status_code == 302 and "e=1" in beyond.url


def test_select_all_past_the_cap_names_no_number(client, staff_admin, agent, small_cap):
    """The offers' approve action: past the cap, "select all" cannot say how
    many it selects, so it says "all the matching offers"."""
    from .factories import OrderFactory

    for n in range(3):
        flows.proposing(agent, OrderFactory(number=f"TB-OFFER-{n}"))
    client.force_login(staff_admin)
    html = client.get("/admin/complaints/offer/").content.decode()
    assert "Select all the matching offers" in html
    assert "Select all 2" not in html
    exact = client.get("/admin/complaints/offer/", {"q": "TB-OFFER-1"}).content.decode()
    assert "Select all the matching" not in exact


def test_customers_and_orders_are_searched_through_the_indexes(rf, admin_user):
    """A customer by name or the last digits of a phone, an order by its
    tracking number: looked up column by column like the cases (migration
    0040 indexes those columns), not Django's one condition over every row
    (an order by tracking number among 1M: 1.4 s)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from complaints.models import Customer, Order

    from .factories import CustomerFactory, OrderFactory

    wang = CustomerFactory(buyer_id="wang_99", display_name="王小明", phone="13912345678")
    li = CustomerFactory(buyer_id="li_98", display_name="李丽", phone="13800001111")
    parcel = OrderFactory(customer=wang, number="TB-TRACK-1", tracking_number="SF1400012345678")
    OrderFactory(customer=li, number="TB-TRACK-2", tracking_number="YT9000000000001")
    request = rf.get("/admin/")
    request.user = admin_user

    def found(model, term):
        model_admin = admin.site._registry[model]
        with CaptureQueriesContext(connection) as captured:
            rows, repeats = model_admin.get_search_results(request, model.objects.all(), term)
            rows = set(rows)
        assert repeats is False
        if len(term) > 2 or connection.vendor == "postgresql":  # SQLite: LIKE for short ones
            lookup = next(q["sql"] for q in captured if "FROM" in q["sql"])
            assert "LIMIT" in lookup and " OR " not in lookup  # one column, looked up
        return rows

    assert found(Customer, "5678") == {wang}  # the last digits of a phone
    assert found(Customer, "小明") == {wang}  # two characters of a name
    assert found(Customer, "1391") == {wang}
    assert found(Order, "sf14000123") == {parcel}  # a tracking number, any case
    assert found(Order, "wang_99") == {parcel}  # by its buyer
    assert found(Order, "TB-TRACK") == {parcel, Order.objects.get(number="TB-TRACK-2")}


def test_the_value_filters_list_their_values_without_reading_every_row(client, staff_admin):
    """The order list's courier filter and the order item list's supplier
    filter find their values along the column's index, one probe each (the
    DISTINCT of 1M orders took 130 ms on each view), and still filter; the
    review list's rating filter offers 1 to 5 stars without a query."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from complaints.models import Order, OrderItem
    from complaints.sql import distinct_values

    from .factories import OrderFactory, ReviewFactory
    from .plans import explain_without_seqscan

    for n, courier in enumerate(["顺丰速运", "中通快递", "顺丰速运", "京东物流"]):
        OrderFactory(number=f"TB-COURIER-{n}", courier=courier)  # its item from 杭州织造
    OrderFactory(number="TB-COURIER-X", courier="")  # none recorded yet
    item = OrderItem.objects.first()
    item.pk, item.supplier = None, "宁波毛纺"
    item.save()
    ReviewFactory(rating=2, order=Order.objects.get(number="TB-COURIER-1"))
    ReviewFactory(rating=5, order=Order.objects.get(number="TB-COURIER-3"))
    client.force_login(staff_admin)
    for url in ("/admin/complaints/order/", "/admin/complaints/orderitem/"):
        with CaptureQueriesContext(connection) as captured:
            page = client.get(url)
        assert page.status_code == 200
        assert not [q["sql"] for q in captured if "DISTINCT" in q["sql"]]
    # the database's own order of the values (its collation)
    couriers = list(Order.objects.order_by("courier").values_list("courier", flat=True).distinct())
    assert sorted(couriers) == sorted(["", "中通快递", "京东物流", "顺丰速运"])
    shown = [choice["display"] for choice in page_choices(client, "/admin/complaints/order/", 1)]
    assert shown == ["All", *couriers]
    sf = client.get("/admin/complaints/order/", {"courier": "顺丰速运"}).context["cl"].result_list
    assert sorted(order.number for order in sf) == ["TB-COURIER-0", "TB-COURIER-2"]
    suppliers = page_choices(client, "/admin/complaints/orderitem/", 0)
    assert sorted(choice["display"] for choice in suppliers[1:]) == sorted(["杭州织造", "宁波毛纺"])
    assert distinct_values(Order, "courier", 2) == couriers[:2]  # at most its limit

    with CaptureQueriesContext(connection) as captured:
        page = client.get("/admin/complaints/review/", {"rating": "2"})
    assert not [q["sql"] for q in captured if "DISTINCT" in q["sql"]]
    assert [review.rating for review in page.context["cl"].result_list] == [2]
    stars = [choice["display"] for choice in page_choices(client, "/admin/complaints/review/", 0)]
    assert stars == ["All", "1★", "2★", "3★", "4★", "5★"]

    if connection.vendor != "postgresql":
        return
    with CaptureQueriesContext(connection) as captured:
        distinct_values(Order, "courier", 100)
    plan = explain_without_seqscan(captured[0]["sql"])
    assert "order_courier" in plan, plan


def page_choices(client, url, position):
    """The choices of the list's filter at ``position`` in its sidebar."""
    cl = client.get(url).context["cl"]
    return list(cl.filter_specs[position].choices(cl))


@pytest.mark.parametrize(
    "url,params,status",
    [
        ("/admin/complaints/order/", {"courier": "顺丰\x00"}, 400),
        ("/admin/complaints/orderitem/", {"supplier": "\x00"}, 400),
        ("/admin/complaints/caseevent/", {"transition": "\x00"}, 400),
        ("/admin/complaints/case/", {"q": "破损", "state__exact": "closed\x00"}, 400),
        ("/admin/complaints/review/", {"rating": "abc"}, 302),
        ("/admin/complaints/review/", {"rating": "99999999999999999999"}, 302),
        ("/admin/complaints/caseevent/", {"transition": "fly"}, 302),
        ("/admin/complaints/order/", {"courier": "x" * 5000}, 200),
    ],
)
def test_a_bad_filter_value_is_refused_cleanly(client, staff_admin, url, params, status):
    """A list filter's value with a NUL (which PostgreSQL cannot compare:
    a 500 there) is a 400 that says so; a value that is not one of a fixed
    filter's choices is the admin's bad-lookup page (a rating of "abc" was a
    500); a value nothing holds lists nothing."""
    client.force_login(staff_admin)
    response = client.get(url, params)
    assert response.status_code == status
    if status == 400:
        assert "NUL character" in response.content.decode()
    elif status == 302:
        assert response.url.endswith("?e=1")
    else:
        assert list(response.context["cl"].result_list) == []

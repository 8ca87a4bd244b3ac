"""The admin: every model is there, and case steps go through the workflow."""

import pytest
from django.contrib import admin
from django.urls import reverse

from complaints.models import Case, CaseEvent, CaseState

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
    assert deletable == {"ReplyTemplate"}


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
    assert "UNION ALL" in sent[0] and "LIKE" not in sent[-1]  # looked up, listed by key
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
    needs no query. The order list reads its index for the newest first."""
    from django.db import connection

    from complaints.models import Order

    from .factories import OrderFactory
    from .plans import plan_without_seqscan

    flows.opened(agent, OrderFactory(number="TB-DATES-1"))
    client.force_login(staff_admin)
    for url, field in (
        ("/admin/complaints/case/", "created_at"),
        ("/admin/complaints/order/", "paid_at"),
    ):
        page = client.get(url)
        assert page.status_code == 200 and page.context["cl"].date_hierarchy is None
        assert f"{field}__gte" in page.content.decode()  # the sidebar's date filter
    if connection.vendor != "postgresql":
        return
    plan = plan_without_seqscan(Order.objects.order_by("-paid_at", "-id")[:100])
    assert "order_paid_newest" in plan, plan


def test_the_event_list_filters_transitions_from_the_state_machine(client, staff_admin, agent):
    """The event list's transition filter lists the state machine's
    transitions instead of reading the distinct values of every event
    (670 ms at 1M cases), filters by one, and counts the events once."""
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
    counts = [sql for sql in sent if 'COUNT(*) AS "__count" FROM "complaints_caseevent"' in sql]
    assert len(counts) == 1
    html = page.content.decode()
    assert "?transition=confirm" in html and "?transition=reopen" in html
    confirmed = client.get(url, {"transition": "confirm"}).context["cl"].result_list
    assert [(event.case, event.transition) for event in confirmed] == [(case, "confirm")]

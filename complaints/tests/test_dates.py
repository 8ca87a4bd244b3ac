"""Dates from people and marketplaces: year 1, year 9999 and typos such as
year 158 are refused with a clear message everywhere a date comes in (step
forms, the new-case form, the report, the API, CSV imports), never a 500 and
never stored. Found by the API's schemathesis run: an order paid in year 158
was stored and then shown with a local-mean-time offset no client could
read; naive year 1 and year 9999 overflowed converting between time zones.

The date fields are found, not listed: every date field of every step form
and every date input of the API's serializers.
"""

import json
from datetime import timedelta

import pytest
from django import forms
from django.test import Client
from django.utils import timezone

from complaints import imports
from complaints.api import serializers as api_serializers
from complaints.api.serializers import MomentField
from complaints.api.tokens import issue
from complaints.models import Case, CaseEvent, Order, Review
from complaints.models.common import validate_plausible_year
from complaints.steps import STEPS_BY_NAME

from .factories import OrderFactory, UserFactory
from .test_nasty_input import _post_step, _prepare
from .test_views_steps import STEPS, case_of

pytestmark = pytest.mark.django_db

MESSAGE = "Choose a date between 2000 and 2999."
# Typed by a person (datetime-local) or sent by a marketplace (ISO 8601).
IMPLAUSIBLE = [
    "0001-01-01T00:00",
    "0001-01-01T00:00:00",
    "9999-12-31T23:59",
    "9999-12-31T23:59:59",
    "0158-01-03T23:31:18Z",
    "1999-12-31T23:59",
]


def _date_fields(form_class):
    return [
        name
        for name, field in form_class.base_fields.items()
        if isinstance(field, forms.DateTimeField | forms.DateField)
    ]


STEP_DATE_FIELDS = [
    (step, name) for step in STEPS for name in _date_fields(STEPS_BY_NAME[step].form_class)
]


def test_the_date_fields_are_found_and_each_checks_the_year():
    assert ("edit_details", "marketplace_due") in STEP_DATE_FIELDS
    assert ("record_contact", "contacted_at") in STEP_DATE_FIELDS
    from complaints import forms as project_forms

    checked = 0
    for form_class in vars(project_forms).values():
        if isinstance(form_class, type) and issubclass(form_class, forms.BaseForm):
            for name in _date_fields(form_class):
                field = form_class.base_fields[name]
                assert validate_plausible_year in field.validators, (form_class, name)
                checked += 1
    assert checked >= 5  # new case, details, contact, the report's period


def _request_dates():
    """Every date-time property of every request body in the API's schema
    (following references, nested items and the steps' alternatives)."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    found = set()

    def walk(name, node, seen):
        if "$ref" in node:
            ref = node["$ref"].rsplit("/", 1)[-1]
            if ref not in seen:
                seen.add(ref)
                walk(ref, components[ref], seen)
            return
        for alternative in node.get("oneOf", []) + node.get("allOf", []):
            walk(name, alternative, seen)
        for prop, sub in node.get("properties", {}).items():
            if sub.get("format") == "date-time":
                found.add(f"{name}.{prop}")
            else:
                walk(name, sub, seen)
        if "items" in node:
            walk(name, node["items"], seen)

    for operations in schema["paths"].values():
        for operation in operations.values():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                walk("?", media["schema"], set())
    return found


def test_every_date_the_api_takes_in_is_one_these_tests_send_implausible_years_to():
    """A new date input fails this test until it is added to the tests below."""
    assert _request_dates() == {
        "NewCaseRequest.marketplace_due",
        "EditDetailsStepRequest.marketplace_due",
        "RecordContactStepRequest.contacted_at",
        "OrderInputRequest.paid_at",
        "OrderInputRequest.shipped_at",
        "OrderInputRequest.delivered_at",
        "ReviewInputRequest.posted_at",
    }
    for name in ("paid_at", "shipped_at", "delivered_at"):
        assert isinstance(api_serializers.OrderInputSerializer().fields[name], MomentField)
    assert isinstance(api_serializers.ReviewInputSerializer().fields["posted_at"], MomentField)
    assert isinstance(api_serializers.NewCaseSerializer().fields["marketplace_due"], MomentField)


@pytest.mark.parametrize("step,field", STEP_DATE_FIELDS)
def test_an_implausible_year_in_a_step_is_refused_and_nothing_is_written(
    step, field, agent, supervisor
):
    actor, ctx, data = _prepare(step, agent, supervisor)
    client = Client()
    client.force_login(actor)
    case = case_of(ctx)
    events = CaseEvent.objects.filter(case=case).count()
    for value in IMPLAUSIBLE:
        response = _post_step(client, step, ctx, {**data, field: value})
        assert response.status_code == 400, (value, response.status_code)
        assert MESSAGE in response.content.decode(), value
    assert CaseEvent.objects.filter(case=case).count() == events


def test_an_implausible_platform_deadline_on_a_new_case_is_refused(agent):
    order = OrderFactory()
    client = Client()
    client.force_login(agent)
    for value in IMPLAUSIBLE:
        response = client.post(
            "/cases/new/",
            {
                "order": order.pk,
                "source": "chat",
                "summary": "颜色不符",
                "priority": 2,
                "marketplace_due": value,
            },
        )
        assert response.status_code == 400, (value, response.status_code)
        assert MESSAGE in response.content.decode()
    assert not Case.objects.exists()


def test_an_implausible_report_period_is_refused(supervisor):
    client = Client()
    client.force_login(supervisor)
    for start in ("0001-01-01", "9999-12-31", "0158-01-03"):
        response = client.get(f"/reports/root-causes/?start={start}&end=2026-01-01")
        assert response.status_code in (200, 400), (start, response.status_code)
        assert MESSAGE in response.content.decode(), start


def _api(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue(user)}")
    return client


def _order_body(**dates):
    return {
        "marketplace": "douyin",
        "order_number": "DY-1",
        "buyer_id": "小王",
        "paid_total": "10",
        "paid_at": "2026-01-02T10:00:00+08:00",
        "items": [{"sku": "S-1", "title": "裙子", "quantity": 1, "unit_price": "10"}],
        **dates,
    }


@pytest.mark.parametrize("value", IMPLAUSIBLE)
@pytest.mark.parametrize("field", ["paid_at", "shipped_at", "delivered_at"])
def test_the_api_refuses_an_order_with_an_implausible_date(field, value):
    admin = UserFactory(username="admin_d", role="admin")
    response = _api(admin).post(
        "/api/orders/", json.dumps(_order_body(**{field: value})), content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert response.json()["errors"][field] == [MESSAGE]
    assert not Order.objects.filter(number="DY-1").exists()


@pytest.mark.parametrize("value", IMPLAUSIBLE)
def test_the_api_refuses_a_review_or_a_case_with_an_implausible_date(value, agent):
    admin = UserFactory(username="admin_d", role="admin")
    order = OrderFactory()
    review = {
        "marketplace": order.marketplace,
        "review_id": "R-1",
        "order_number": order.number,
        "rating": 1,
        "text": "颜色差太多",
        "posted_at": value,
    }
    response = _api(admin).post(
        "/api/reviews/", json.dumps(review), content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["errors"]["posted_at"] == [MESSAGE]
    assert not Review.objects.exists()

    case = {
        "order_number": order.number,
        "source": "chat",
        "summary": "颜色不符",
        "marketplace_due": value,
    }
    response = _api(agent).post("/api/cases/", json.dumps(case), content_type="application/json")
    assert response.status_code == 400 and MESSAGE in json.dumps(response.json())
    assert not Case.objects.exists()


@pytest.mark.parametrize("value", IMPLAUSIBLE)
def test_the_api_steps_refuse_an_implausible_date(value, agent, order):
    from . import flows

    case = flows.opened(agent, order)
    api = _api(agent)
    response = api.post(
        f"/api/cases/{case.number}/transitions/edit_details/",
        json.dumps({"marketplace_due": value}),
        content_type="application/json",
    )
    assert response.status_code == 400 and response.json()["errors"]["marketplace_due"] == [MESSAGE]
    response = api.post(
        f"/api/cases/{case.number}/contacts/",
        json.dumps({"channel": "phone", "outcome": "reached", "contacted_at": value}),
        content_type="application/json",
    )
    assert response.status_code == 400 and response.json()["errors"]["contacted_at"] == [MESSAGE]
    assert CaseEvent.objects.filter(case=case).count() == 1  # the opening only


def test_the_api_still_takes_plausible_dates(agent):
    admin = UserFactory(username="admin_d", role="admin")
    body = _order_body(shipped_at="2026-01-03T09:00:00Z", delivered_at="2026-01-05")
    response = _api(admin).post("/api/orders/", json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["paid_at"] == "2026-01-02T10:00:00+08:00"


def test_a_csv_line_with_an_implausible_or_future_date_is_refused_by_line(tmp_path):
    from .test_imports import ORDER_HEADER, write

    later = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
    lines = [
        f"douyin,DY-{n},小王,,,10.00,{paid},,,,,S-1,裙子,1,10.00,\n"
        for n, paid in enumerate(
            ["0001-01-01 00:00", "9999-12-31 23:59", later, "2026-01-02 10:00"], start=1
        )
    ]
    report = imports.import_orders(
        write(tmp_path, "o.csv", ORDER_HEADER + "".join(lines)), partial=True
    )
    errors = dict(report.errors)
    assert sorted(errors) == [2, 3, 4]
    assert MESSAGE in errors[2] and MESSAGE in errors[3]
    assert "in the future" in errors[4]
    assert list(Order.objects.values_list("number", flat=True)) == ["DY-4"]


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "0158-01-01"])
def test_the_admin_refuses_an_implausible_date_in_a_policy_rule_or_a_calendar(
    client, admin_user, day
):
    from django.urls import reverse

    from complaints.models import PolicyRule, SlaCalendar

    from .test_admin import calendar_form
    from .test_policy_rules import ADD, rule_form

    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    response = client.post(ADD, rule_form(active_from_0=day))
    assert response.status_code == 200 and MESSAGE in response.content.decode()
    response = client.post(ADD, rule_form(active_until_0=day, active_until_1="00:00:00"))
    assert response.status_code == 200 and MESSAGE in response.content.decode()
    assert not PolicyRule.objects.filter(name="Gift for lost parcels").exists()
    calendar = calendar_form("Holidays", [("0", "09:00", "18:00")], special=[(day, "", "")])
    response = client.post(reverse("admin:complaints_slacalendar_add"), calendar)
    assert response.status_code == 200 and MESSAGE in response.content.decode()
    assert not SlaCalendar.objects.filter(name="Holidays").exists()


def test_the_models_own_the_rule_for_every_date_people_or_marketplaces_enter():
    from complaints.models import Case, Contact, PolicyRule, SpecialDay

    for model, names in (
        (Order, ["paid_at", "shipped_at", "delivered_at"]),
        (Review, ["posted_at"]),
        (Case, ["marketplace_due"]),
        (Contact, ["contacted_at"]),
        (PolicyRule, ["active_from", "active_until"]),
        (SpecialDay, ["date"]),
    ):
        for name in names:
            assert validate_plausible_year in model._meta.get_field(name).validators, name

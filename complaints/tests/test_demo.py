"""The demo shop: the committed fixture loads on a fresh database, and the
command that builds it still plays every case through the workflow."""

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.db.models import Count
from django.test import RequestFactory

from complaints import workflow
from complaints.models import (
    Case,
    CaseEvent,
    CaseState,
    Customer,
    Offer,
    Order,
    Review,
    Voucher,
)

from . import flows

pytestmark = pytest.mark.django_db

ALL_STATES = {state.value for state in CaseState}


def assert_demo_shop():
    assert Customer.objects.count() >= 30
    assert not Customer.objects.filter(motive="").exists()
    assert not Customer.objects.filter(temperament="").exists()
    assert Order.objects.count() >= 80
    assert not Order.objects.annotate(n=Count("items")).filter(n=0).exists()
    assert Review.objects.count() >= 40
    assert set(Review.objects.values_list("rating", flat=True)) == {1, 2, 3, 4, 5}
    assert Case.objects.count() >= 25
    assert set(Case.objects.values_list("state", flat=True)) == ALL_STATES
    assert not Case.objects.annotate(n=Count("events")).filter(n=0).exists()
    statuses = set(Offer.objects.values_list("approval_status", flat=True))
    assert {"not_needed", "pending", "approved"} <= statuses
    assert set(Voucher.objects.values_list("status", flat=True)) == {
        "issued",
        "redeemed",
        "expired",
        "void",
    }
    groups = {
        user.username: sorted(user.groups.values_list("name", flat=True))
        for user in get_user_model().objects.all()
    }
    assert groups == {
        "agent1": ["agent"],
        "agent2": ["agent"],
        "supervisor1": ["supervisor"],
        "admin1": ["admin"],
    }


def test_demo_fixture_loads_on_a_fresh_database(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    call_command("load_demo")
    assert_demo_shop()
    admin1 = get_user_model().objects.get(username="admin1")
    assert admin1.is_staff and admin1.is_superuser
    login = RequestFactory().post("/accounts/login/")  # django-axes wants the request
    assert authenticate(login, username="agent1", password="demo12345") is not None


def test_work_continues_on_the_loaded_demo(settings):
    call_command("load_demo")
    agent1 = get_user_model().objects.get(username="agent1")
    order = Order.objects.first()
    case = flows.opened(agent1, order)  # numbering continues after the demo's cases
    assert not Case.objects.exclude(pk=case.pk).filter(number=case.number).exists()
    pending = Offer.objects.filter(approval_status="pending").first()
    supervisor = get_user_model().objects.get(username="supervisor1")
    if pending.proposed_by == supervisor:
        supervisor = get_user_model().objects.get(username="admin1")
    workflow.offer_approve(offer=pending, actor=supervisor, note="演示")
    assert CaseEvent.objects.filter(kind="offer_approved", actor=supervisor).exists()


def test_load_demo_leaves_a_database_with_data_alone(agent, order):
    call_command("load_demo")
    assert Customer.objects.count() == 1


def test_build_demo_plays_the_shop_through_the_workflow():
    call_command("build_demo")
    assert_demo_shop()
    # Everything went through the workflow: every transition left its event.
    closed = Case.objects.filter(state="closed")
    assert all(c.events.filter(kind="transition", transition="close").exists() for c in closed)


def test_load_demo_moves_the_demo_to_today():
    from datetime import timedelta

    from django.utils import timezone

    call_command("load_demo")
    now = timezone.now()
    newest = Case.objects.order_by("-created_at").first().created_at
    assert now - timedelta(days=3) < newest <= now + timedelta(hours=1)
    assert not CaseEvent.objects.filter(created_at__gt=now + timedelta(hours=1)).exists()
    # Open cases were recent at the demo's anchor; some clocks still run.
    assert Case.objects.open().filter(resolution_due__gt=now).exists()

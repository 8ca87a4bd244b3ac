"""Invariants the database itself enforces, and the append-only audit trail."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from complaints.models import (
    Case,
    CaseEvent,
    Offer,
    Order,
    PolicyRule,
    Review,
    RootCauseCategory,
    Voucher,
)
from complaints.models.cases import allocate_case_number

from . import flows
from .factories import CaseFactory, CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


def refused(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_order_number_is_unique_per_marketplace(customer):
    OrderFactory(customer=customer, number="A1", marketplace="taobao")
    OrderFactory(customer=customer, number="A1", marketplace="jd")
    refused(lambda: OrderFactory(customer=customer, number="A1", marketplace="taobao"))
    assert Order.objects.filter(number="A1").count() == 2


@pytest.mark.parametrize("total", [Decimal("0"), Decimal("-1")])
def test_order_total_must_be_positive(customer, total):
    refused(lambda: OrderFactory(customer=customer, paid_total=total))


def test_review_id_unique_per_marketplace_and_rating_in_range(order):
    common = {"order": order, "customer": order.customer, "posted_at": timezone.now()}
    Review.objects.create(marketplace="tmall", external_id="R1", rating=3, **common)
    refused(
        lambda: Review.objects.create(marketplace="tmall", external_id="R1", rating=2, **common)
    )
    refused(
        lambda: Review.objects.create(marketplace="tmall", external_id="R2", rating=6, **common)
    )
    refused(
        lambda: Review.objects.create(marketplace="tmall", external_id="R3", rating=0, **common)
    )


def test_case_number_is_unique_and_sequential(agent, order):
    first = flows.opened(agent, order)
    second = flows.opened(agent, order)
    year = timezone.localtime().year
    assert first.number == f"C-{year}-000001"
    assert second.number == f"C-{year}-000002"
    refused(lambda: CaseFactory(number=first.number))


def test_case_number_follows_the_shanghai_calendar():
    # 2026-12-31 17:00 UTC is already 2027-01-01 in Shanghai.
    when = timezone.datetime(2026, 12, 31, 17, 0, tzinfo=timezone.UTC)
    assert allocate_case_number(when) == "C-2027-000001"


def test_offer_amount_must_be_positive_except_an_apology(agent, order):
    case = flows.analyzing(agent, order)
    base = {"case": case, "proposed_by": agent, "approval_status": "not_needed"}
    refused(lambda: Offer.objects.create(kind="voucher", amount=Decimal("0"), **base))
    refused(lambda: Offer.objects.create(kind="voucher", amount=Decimal("-3"), **base))
    refused(lambda: Offer.objects.create(kind="voucher", amount=None, **base))
    refused(lambda: Offer.objects.create(kind="apology", amount=Decimal("5"), **base))
    assert Offer.objects.create(kind="apology", amount=None, **base).pk


def test_at_most_one_voucher_per_offer(agent, order):
    case, offer = flows.executing(agent, order)
    voucher = Voucher.objects.create(
        offer=offer,
        customer=case.customer,
        value=Decimal("20"),
        valid_from=timezone.now(),
        valid_until=timezone.now() + timedelta(days=30),
    )
    refused(
        lambda: Voucher.objects.create(
            offer=offer,
            customer=case.customer,
            value=Decimal("20"),
            valid_from=timezone.now(),
            valid_until=timezone.now() + timedelta(days=30),
        )
    )
    assert len(voucher.code) == 19 and voucher.code.count("-") == 3


def test_voucher_codes_are_unguessable_and_distinct():
    from complaints.models.vouchers import new_voucher_code

    codes = {new_voucher_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert not any(set(code) & set("01OIL") for code in codes)


def test_policy_rule_caps_are_checked_by_the_database():
    refused(lambda: PolicyRule.objects.create(name="x", kind="voucher", max_amount=Decimal("0")))
    refused(lambda: PolicyRule.objects.create(name="x", kind="voucher", max_share_percent=101))
    refused(lambda: PolicyRule.objects.create(name="x", kind="voucher"))  # no cap at all


def test_a_cancelled_case_always_has_a_reason(agent, order):
    case = flows.opened(agent, order)
    refused(lambda: Case.objects.filter(pk=case.pk).update(state="cancelled"))


def test_cases_are_never_hard_deleted(agent, order):
    case = flows.opened(agent, order)
    with pytest.raises(IntegrityError, match="cancel"):
        case.delete()
    with pytest.raises(IntegrityError):
        Case.objects.filter(pk=case.pk).delete()
    # PROTECT: deleting the customer cannot take the cases along.
    with pytest.raises(IntegrityError), transaction.atomic():
        case.customer.delete()
    assert Case.objects.filter(pk=case.pk).exists()


def test_case_events_cannot_be_updated_or_deleted(agent, order):
    case = flows.opened(agent, order)
    event = CaseEvent.objects.get(case=case)
    event.payload = {"summary": "rewritten history"}
    with pytest.raises(IntegrityError, match="append-only"):
        event.save()
    with pytest.raises(IntegrityError):
        event.delete()
    with pytest.raises(IntegrityError):
        CaseEvent.objects.filter(pk=event.pk).update(kind="note")
    with pytest.raises(IntegrityError):
        CaseEvent.objects.filter(pk=event.pk).delete()
    assert CaseEvent.objects.get(pk=event.pk).payload["summary"] == case.summary


def test_raw_sql_cannot_rewrite_the_audit_trail_on_postgresql(agent, order):
    """On PostgreSQL a trigger refuses UPDATE and DELETE of audit rows, even in
    raw SQL; SQLite has the ORM's guard only, so there raw SQL gets through
    (this test states that difference rather than skipping a database)."""
    from django.db import connection

    case = flows.opened(agent, order)
    event = CaseEvent.objects.get(case=case)
    statements = [
        ("UPDATE complaints_caseevent SET kind = 'note' WHERE id = %s", [event.pk]),
        ("DELETE FROM complaints_caseevent WHERE id = %s", [event.pk]),
    ]
    for sql, params in statements:
        if connection.vendor == "postgresql":
            with (
                pytest.raises(IntegrityError, match="append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(sql, params)
        else:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, params)
                transaction.set_rollback(True)
    assert CaseEvent.objects.get(pk=event.pk).kind == "opened"


def test_taxonomy_and_default_policy_are_seeded():
    groups = RootCauseCategory.objects.filter(parent__isnull=True)
    assert sorted(groups.values_list("code", flat=True)) == [
        "logistics",
        "product",
        "promotion",
        "service",
    ]
    assert RootCauseCategory.objects.get(code="colour_difference").parent.code == "product"
    assert RootCauseCategory.objects.get(code="lost_parcel").name_zh == "包裹丢失"
    assert set(PolicyRule.objects.values_list("kind", flat=True)) >= {
        "voucher",
        "gift",
        "partial_refund",
        "reship",
        "return_shipping",
    }


def test_the_taxonomy_has_two_levels():
    from django.core.exceptions import ValidationError

    leaf = RootCauseCategory.objects.get(code="colour_difference")
    deeper = RootCauseCategory(code="too_deep", name="Too deep", parent=leaf)
    with pytest.raises(ValidationError):
        deeper.full_clean()


def test_customer_phone_is_shown_masked():
    assert CustomerFactory.build(phone="13812345678").masked_phone == "138****5678"


def _models_with_choices():
    from django.apps import apps

    for model in apps.get_app_config("complaints").get_models():
        fields = [f for f in model._meta.fields if f.choices is not None]
        if fields:
            yield model, fields


def test_every_model_with_choices_reads_its_labels_from_a_table():
    from complaints.models.common import ChoiceLabels

    missing = [m.__name__ for m, _ in _models_with_choices() if not issubclass(m, ChoiceLabels)]
    assert missing == []


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_choice_labels_are_djangos_labels(language):
    """get_FOO_display() says what Django's own says, for every choice of
    every field and for a value outside the choices, in both languages."""
    from django.db.models import Model
    from django.utils import translation

    checked = 0
    with translation.override(language):
        for model, fields in _models_with_choices():
            for field in fields:
                for value in [v for v, _label in field.flatchoices] + ["not-a-choice", None]:
                    instance = model(**{field.attname: value})
                    ours = getattr(instance, f"get_{field.name}_display")()
                    assert ours == Model._get_FIELD_display(instance, field), (field, value)
                    checked += 1
    assert checked > 100

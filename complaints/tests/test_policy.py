"""complaints.policy: pure functions, judged without the database."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from complaints.policy import evaluate_offer

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@dataclass
class Category:
    pk: int
    parent_id: int | None = None


@dataclass
class Rule:
    pk: int
    kind: str
    category_id: int | None = None
    max_amount: Decimal | None = None
    max_share_percent: Decimal | None = None
    max_days_since_delivery: int | None = None
    active_from: datetime = NOW - timedelta(days=365)
    active_until: datetime | None = None
    name: str = "rule"

    def __str__(self):
        return self.name


PRODUCT = Category(pk=1)
COLOUR = Category(pk=2, parent_id=1)
LOGISTICS = Category(pk=3)


def judge(amount, rules, *, kind="voucher", category=COLOUR, total=Decimal("200"), **kwargs):
    return evaluate_offer(
        kind=kind,
        amount=None if amount is None else Decimal(amount),
        category=category,
        order_total=total,
        delivered_at=kwargs.pop("delivered_at", NOW - timedelta(days=3)),
        rules=rules,
        now=NOW,
        **kwargs,
    )


def test_absolute_cap():
    rules = [Rule(1, "voucher", max_amount=Decimal("20"))]
    assert judge("20", rules).inside
    decision = judge("20.01", rules)
    assert not decision.inside and decision.needs_approval
    assert decision.allowance == Decimal("20")


def test_share_of_order_value_and_the_tighter_of_two_caps():
    rules = [Rule(1, "partial_refund", max_amount=Decimal("50"), max_share_percent=Decimal(30))]
    assert judge("50", rules, kind="partial_refund", total=Decimal("300")).inside
    decision = judge("50", rules, kind="partial_refund", total=Decimal("100"))
    assert not decision.inside
    assert decision.allowance == Decimal("30.00")


def test_share_cap_without_an_order_allows_nothing():
    rules = [Rule(1, "partial_refund", max_share_percent=Decimal(30))]
    decision = judge("1", rules, kind="partial_refund", total=None)
    assert not decision.inside
    assert "no order" in decision.reason


def test_a_category_rule_beats_the_general_rule():
    general = Rule(1, "reship", max_amount=Decimal("20"))
    for_group = Rule(2, "reship", category_id=PRODUCT.pk, max_amount=Decimal("40"))
    for_leaf = Rule(3, "reship", category_id=COLOUR.pk, max_amount=Decimal("10"))
    assert judge("30", [general, for_group], kind="reship").rule is for_group
    assert judge("30", [general, for_group], kind="reship").inside
    decision = judge("30", [general, for_group, for_leaf], kind="reship")
    assert not decision.inside and decision.rule is for_leaf
    # A rule for another category does not apply at all.
    assert judge("15", [general, for_group], kind="reship", category=LOGISTICS).rule is general


def test_no_rule_for_the_kind_means_approval():
    decision = judge("10", [Rule(1, "voucher", max_amount=Decimal("20"))], kind="full_refund")
    assert not decision.inside and decision.rule is None
    assert "no policy rule" in decision.reason


def test_retired_and_future_rules_do_not_count():
    retired = Rule(1, "voucher", max_amount=Decimal("50"), active_until=NOW - timedelta(days=1))
    future = Rule(2, "voucher", max_amount=Decimal("50"), active_from=NOW + timedelta(days=1))
    assert not judge("10", [retired, future]).inside


def test_days_since_delivery():
    rules = [Rule(1, "return_shipping", max_amount=Decimal("15"), max_days_since_delivery=7)]
    assert judge("10", rules, kind="return_shipping").inside
    late = judge("10", rules, kind="return_shipping", delivered_at=NOW - timedelta(days=8))
    assert not late.inside and "8 days ago" in late.reason


def test_apology_rule_without_caps_allows_an_apology():
    assert judge(None, [Rule(1, "apology")], kind="apology").inside


def test_serial_complainant_needs_approval_even_inside_policy():
    rules = [Rule(1, "voucher", max_amount=Decimal("20"))]
    assert not judge("5", rules, compensated_cases=2, serial_threshold=3).needs_approval
    decision = judge("5", rules, compensated_cases=3, serial_threshold=3)
    assert decision.inside and decision.needs_approval
    assert "Serial complainant" in decision.reason


@pytest.mark.parametrize("amount", ["19.99", "20.00"])
def test_the_reason_names_the_rule(amount):
    decision = judge(amount, [Rule(1, "voucher", max_amount=Decimal("20"), name="券 ≤ 20")])
    assert "券 ≤ 20" in decision.reason

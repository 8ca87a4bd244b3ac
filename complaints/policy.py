"""Compensation policy as pure functions: is an offer inside policy, and by
which rule. Callers fetch the rules; nothing here touches the database."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from django.utils.translation import gettext as _

from .models.policy import RemedyKind

CENT = Decimal("0.01")


@dataclass(frozen=True)
class PolicyDecision:
    """The verdict on one offer: ``inside`` policy or not, and why."""

    inside: bool
    rule: object | None  # the PolicyRule judged by (None when no rule applies)
    allowance: Decimal | None  # the most the deciding rule allows here (None: no cap)
    reason: str
    needs_approval: bool


def _specificity(rule, category) -> int:
    """Return 3 for a rule on the case's leaf, 2 on its group, 1 for any
    category, 0 when the rule names another category."""
    if rule.category_id is None:
        return 1
    if category is None:
        return 0
    if rule.category_id == category.pk:
        return 3
    if rule.category_id == category.parent_id:
        return 2
    return 0


def rule_allowance(rule, *, order_total: Decimal | None) -> tuple[Decimal | None, str]:
    """Return the amount ``rule`` allows for an order of ``order_total``.

    ``None`` means the rule has no cap. A share cap with no order value
    allows nothing, with the reason why.
    """
    caps = []
    if rule.max_amount is not None:
        caps.append(rule.max_amount)
    if rule.max_share_percent is not None:
        if order_total is None:
            return Decimal("0"), _("this rule caps by order value and the case has no order")
        caps.append((order_total * rule.max_share_percent / 100).quantize(CENT, ROUND_DOWN))
    return (min(caps) if caps else None), ""


def applicable_rules(rules: Iterable, *, kind: str, category, now: datetime) -> list:
    """Return the active rules for ``kind`` at the most specific level that
    has any: a rule for the case's leaf beats one for its group, which beats
    a rule for every category."""
    candidates = []
    for rule in rules:
        if rule.kind != kind or rule.active_from > now:
            continue
        if rule.active_until is not None and rule.active_until <= now:
            continue
        level = _specificity(rule, category)
        if level:
            candidates.append((level, rule))
    if not candidates:
        return []
    best = max(level for level, _rule in candidates)
    return [rule for level, rule in candidates if level == best]


def evaluate_offer(
    *,
    kind: str,
    amount: Decimal | None,
    category,
    order_total: Decimal | None,
    delivered_at: datetime | None,
    rules: Iterable,
    now: datetime,
    compensated_cases: int = 0,
    serial_threshold: int | None = None,
) -> PolicyDecision:
    """Judge an offer against the policy rules.

    An offer is inside policy when an active rule for its remedy kind (and
    the case's category, where the rule names one) allows its amount: both
    the absolute cap and the share of the order's paid total, within the
    days since delivery. A serial complainant (``compensated_cases`` at or
    above ``serial_threshold``) needs approval for every offer.
    """
    decision = _judge(
        kind=kind,
        amount=amount,
        category=category,
        order_total=order_total,
        delivered_at=delivered_at,
        rules=rules,
        now=now,
    )
    if serial_threshold is not None and compensated_cases >= serial_threshold:
        reason = _(
            "Serial complainant: %(count)s compensated cases recently; every offer needs approval."
        ) % {"count": compensated_cases}
        return PolicyDecision(
            inside=decision.inside,
            rule=decision.rule,
            allowance=decision.allowance,
            reason=f"{reason} {decision.reason}",
            needs_approval=True,
        )
    return decision


def _money(value: Decimal | None) -> str:
    return f"¥{value:,.2f}" if value is not None else _("any amount")


def _judge(*, kind, amount, category, order_total, delivered_at, rules, now) -> PolicyDecision:
    label = RemedyKind(kind).label
    offered = f"{label} {_money(amount)}" if amount is not None else str(label)
    rules = applicable_rules(rules, kind=kind, category=category, now=now)
    if not rules:
        return PolicyDecision(
            inside=False,
            rule=None,
            allowance=None,
            needs_approval=True,
            reason=_("%(offer)s: no policy rule covers this remedy.") % {"offer": offered},
        )

    best_refusal = None  # (allowance, rule, reason) of the most generous refusing rule
    for rule in sorted(rules, key=lambda r: r.pk or 0):
        allowance, why_not = rule_allowance(rule, order_total=order_total)
        if why_not:
            refusal = (allowance, rule, why_not)
        elif (
            rule.max_days_since_delivery is not None
            and delivered_at is not None
            and ((now - delivered_at).days > rule.max_days_since_delivery)
        ):
            refusal = (
                allowance,
                rule,
                _("delivered %(days)s days ago; the rule allows %(max)s days")
                % {"days": (now - delivered_at).days, "max": rule.max_days_since_delivery},
            )
        elif allowance is not None and amount is not None and amount > allowance:
            refusal = (
                allowance,
                rule,
                _("policy allows %(allowed)s") % {"allowed": _money(allowance)},
            )
        else:
            return PolicyDecision(
                inside=True,
                rule=rule,
                allowance=allowance,
                needs_approval=False,
                reason=_("%(offer)s is inside policy (rule “%(rule)s”, up to %(allowed)s).")
                % {"offer": offered, "rule": rule, "allowed": _money(allowance)},
            )
        if best_refusal is None or (refusal[0] or 0) > (best_refusal[0] or 0):
            best_refusal = refusal

    allowance, rule, why = best_refusal
    return PolicyDecision(
        inside=False,
        rule=rule,
        allowance=allowance,
        needs_approval=True,
        reason=_("%(offer)s; %(why)s (rule “%(rule)s”). Needs a supervisor's approval.")
        % {"offer": offered, "why": why, "rule": rule},
    )

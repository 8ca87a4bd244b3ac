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
    serial: bool = False  # judged while the customer counts as a serial complainant


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
            serial=True,
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


@dataclass(frozen=True)
class Allowance:
    """What an agent may offer of one remedy on one case without approval."""

    kind: str
    rule: object | None
    allowance: Decimal | None  # None with a rule: no cap (an apology)
    needs_approval: bool
    reason: str


def what_may_i_offer(
    *,
    rules: Iterable,
    category,
    order_total: Decimal | None,
    delivered_at: datetime | None,
    now: datetime,
    compensated_cases: int = 0,
    serial_threshold: int | None = None,
) -> list[Allowance]:
    """Return, for every remedy, the most the active rules allow on this case."""
    rules = list(rules)
    serial = serial_threshold is not None and compensated_cases >= serial_threshold
    result = []
    for kind in RemedyKind:
        best = None
        reasons = []
        for rule in applicable_rules(rules, kind=kind, category=category, now=now):
            allowance, why_not = rule_allowance(rule, order_total=order_total)
            days = (now - delivered_at).days if delivered_at is not None else 0
            if why_not:
                reasons.append(why_not)
            elif rule.max_days_since_delivery is not None and days > rule.max_days_since_delivery:
                reasons.append(
                    _("delivered %(days)s days ago; the rule allows %(max)s days")
                    % {"days": days, "max": rule.max_days_since_delivery}
                )
            elif best is None or (
                best[1] is not None and (allowance is None or allowance > best[1])
            ):
                best = (rule, allowance)
        if best is None:
            result.append(
                Allowance(
                    kind=kind,
                    rule=None,
                    allowance=None,
                    needs_approval=True,
                    reason="; ".join(reasons) or _("no policy rule covers this remedy"),
                )
            )
            continue
        rule, allowance = best
        reason = _("up to %(allowed)s (rule “%(rule)s”)") % {
            "allowed": _money(allowance),
            "rule": rule,
        }
        if serial:
            reason = _("serial complainant: needs approval") + f"; {reason}"
        result.append(
            Allowance(
                kind=kind, rule=rule, allowance=allowance, needs_approval=serial, reason=reason
            )
        )
    return result


def _periods_overlap(a, b) -> bool:
    a_end, b_end = a.active_until, b.active_until
    return (b_end is None or a.active_from < b_end) and (a_end is None or b.active_from < a_end)


def conflicting_rules(rule, others: Iterable) -> list:
    """Return the rules among ``others`` that would be active at the same time
    as ``rule`` for the same remedy and category: two of them would leave it
    unclear which cap applies."""
    return [
        other
        for other in others
        if other.pk != rule.pk
        and other.kind == rule.kind
        and other.category_id == rule.category_id
        and _periods_overlap(rule, other)
    ]

"""The life of a voucher after it is issued: redeemed once, voided with a
reason, or expired by the sweep. Each writes one event on the voucher's case."""

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from ..models import Case, EventKind, Voucher, VoucherStatus
from ..models.common import MONEY_MAX
from ..models.vouchers import lapsed_q
from ._base import StepNotAllowed, field_error, record_event, require_perm


class VoucherNotRedeemable(StepNotAllowed):
    """The voucher cannot be used now; ``code`` says why."""

    def __init__(self, message, *, code: str):
        super().__init__(message, code=code)


def _locked(voucher) -> tuple[Voucher, Case]:
    voucher = Voucher.objects.select_for_update().select_related("offer").get(pk=voucher.pk)
    case = Case.objects.select_for_update().get(pk=voucher.offer.case_id)
    return voucher, case


def _refuse_unusable(voucher: Voucher, now: datetime) -> None:
    if voucher.status == VoucherStatus.VOID:
        raise VoucherNotRedeemable(
            _("This voucher was voided: %(reason)s") % {"reason": voucher.void_reason},
            code="void",
        )
    if voucher.status == VoucherStatus.REDEEMED:
        raise VoucherNotRedeemable(
            _("This voucher was already redeemed on %(when)s (order %(order)s).")
            % {
                "when": date_format(timezone.localtime(voucher.redeemed_at), "Y-m-d H:i"),
                "order": voucher.redemption_order.number if voucher.redemption_order else "—",
            },
            code="redeemed",
        )
    if voucher.status == VoucherStatus.EXPIRED or voucher.valid_until <= now:
        raise VoucherNotRedeemable(
            _("This voucher expired on %(when)s.")
            % {"when": date_format(timezone.localtime(voucher.valid_until), "Y-m-d")},
            code="expired",
        )
    if voucher.valid_from > now:
        raise VoucherNotRedeemable(_("This voucher is not valid yet."), code="not_yet_valid")


def voucher_redeem(*, voucher, actor, order, amount=None) -> Voucher:
    """Record that the customer used ``voucher`` on ``order``.

    ``amount`` is the order value the voucher was applied to (default: the
    order's paid total); below the minimum spend it is refused. A voucher
    redeems once; a void or expired one not at all.
    """
    require_perm(actor, "complaints.redeem_voucher", _("You may not redeem vouchers."))
    try:
        amount = order.paid_total if amount in (None, "") else Decimal(str(amount))
    except InvalidOperation as exc:
        raise field_error("amount", _("Amounts must be numbers."), "invalid") from exc
    if amount <= 0:
        raise field_error("amount", _("The amount must be greater than zero."), "invalid")
    if amount > MONEY_MAX:
        raise field_error(
            "amount", _("The amount may be at most ¥%(max)s.") % {"max": MONEY_MAX}, "invalid"
        )
    now = timezone.now()
    with transaction.atomic():
        voucher, case = _locked(voucher)
        _refuse_unusable(voucher, now)
        if order.customer_id != voucher.customer_id:
            raise VoucherNotRedeemable(
                _("This voucher belongs to another customer."), code="other_customer"
            )
        if amount < voucher.min_spend:
            raise VoucherNotRedeemable(
                _("The order value ¥%(amount)s is below the voucher's minimum spend ¥%(min)s.")
                % {"amount": amount, "min": voucher.min_spend},
                code="below_min_spend",
            )
        voucher.status = VoucherStatus.REDEEMED
        voucher.redeemed_at = now
        voucher.redemption_order = order
        voucher.redeemed_amount = amount
        voucher.save()
        record_event(
            case,
            actor,
            EventKind.VOUCHER_REDEEMED,
            payload={"voucher": voucher.code, "order": order.number, "amount": amount},
        )
    return voucher


def voucher_void(*, voucher, actor, reason: str) -> Voucher:
    """Cancel a voucher that has not been used (supervisors), saying why."""
    require_perm(actor, "complaints.void_voucher", _("Only a supervisor may void vouchers."))
    reason = (reason or "").strip()
    if not reason:
        raise field_error("reason", _("Say why the voucher is voided."), "required")
    with transaction.atomic():
        voucher, case = _locked(voucher)
        if voucher.status != VoucherStatus.ISSUED:
            raise StepNotAllowed(
                _("Only an issued voucher can be voided (this one is “%(status)s”).")
                % {"status": voucher.get_status_display()}
            )
        voucher.status = VoucherStatus.VOID
        voucher.voided_at = timezone.now()
        voucher.voided_by = actor
        voucher.void_reason = reason
        voucher.save()
        record_event(
            case,
            actor,
            EventKind.VOUCHER_VOIDED,
            payload={"voucher": voucher.code, "reason": reason},
        )
    return voucher


def vouchers_expire(*, now: datetime | None = None) -> int:
    """Mark every issued voucher past its validity expired; return how many.

    Each voucher is its own transaction, so a long sweep never holds many
    locks and a voucher redeemed meanwhile is left alone.
    """
    now = now or timezone.now()
    expired = 0
    candidates = Voucher.objects.filter(lapsed_q(now)).values_list("pk", flat=True)
    for pk in list(candidates.iterator()):
        with transaction.atomic():
            voucher, case = _locked(Voucher(pk=pk))
            if voucher.status != VoucherStatus.ISSUED or voucher.valid_until > now:
                continue
            voucher.status = VoucherStatus.EXPIRED
            voucher.save(update_fields=["status"])
            record_event(
                case,
                None,
                EventKind.VOUCHER_EXPIRED,
                payload={"voucher": voucher.code, "valid_until": voucher.valid_until},
            )
            expired += 1
    return expired

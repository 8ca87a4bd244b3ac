"""Vouchers issued as compensation, redeemable once."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .common import ChoiceLabels, money_field

# Unambiguous upper-case letters and digits (no 0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 16  # 31**16 ≈ 7e23 codes: not guessable at checkout


def new_voucher_code() -> str:
    """Return a fresh unguessable code, grouped for reading aloud: XXXX-XXXX-..."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


class VoucherStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    REDEEMED = "redeemed", _("Redeemed")
    EXPIRED = "expired", _("Expired")
    VOID = "void", _("Void")


class Voucher(ChoiceLabels, models.Model):
    """A voucher created by exactly one accepted voucher offer."""

    code = models.CharField(_("code"), max_length=32, unique=True, default=new_voucher_code)
    offer = models.OneToOneField(
        "complaints.Offer",
        on_delete=models.PROTECT,
        related_name="voucher",
        verbose_name=_("offer"),
    )
    customer = models.ForeignKey(
        "complaints.Customer",
        on_delete=models.PROTECT,
        related_name="vouchers",
        verbose_name=_("customer"),
    )
    value = money_field(_("value"))
    min_spend = money_field(_("minimum spend"), default=0)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"), db_index=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=VoucherStatus.choices,
        default=VoucherStatus.ISSUED,
        db_index=True,
    )
    issued_at = models.DateTimeField(_("issued"), auto_now_add=True)
    redeemed_at = models.DateTimeField(_("redeemed"), null=True, blank=True)
    redeemed_amount = money_field(
        _("order value redeemed on"),
        null=True,
        blank=True,
        help_text=_("The order value the voucher was applied to."),
    )
    voided_at = models.DateTimeField(_("voided"), null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("voided by"),
    )
    void_reason = models.TextField(_("void reason"), blank=True)
    redemption_order = models.ForeignKey(
        "complaints.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="redeemed_vouchers",
        verbose_name=_("redemption order"),
    )

    class Meta:
        verbose_name = _("voucher")
        verbose_name_plural = _("vouchers")
        ordering = ["-issued_at"]
        # The ledger and the API list the newest first, a page at a time.
        indexes = [models.Index(fields=["issued_at", "id"], name="voucher_issued")]
        permissions = [
            ("redeem_voucher", _("Can record a voucher's redemption")),
            ("void_voucher", _("Can void vouchers")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(value__gt=0), name="voucher_value_positive"),
            models.CheckConstraint(
                condition=Q(min_spend__gte=0), name="voucher_min_spend_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__gt=models.F("valid_from")), name="voucher_validity_period"
            ),
            models.CheckConstraint(
                condition=~Q(status="redeemed") | Q(redeemed_at__isnull=False),
                name="voucher_redeemed_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="void") | ~Q(void_reason=""),
                name="voucher_void_has_reason",
            ),
        ]

    def __str__(self):
        return f"{self.code} ¥{self.value}"

    @property
    def is_outstanding(self) -> bool:
        """Return whether the shop still owes this voucher (issued, not expired)."""
        from django.utils import timezone

        return self.status == VoucherStatus.ISSUED and self.valid_until > timezone.now()


def outstanding_q(now) -> Q:
    """Vouchers the shop still owes at ``now``: issued and within their
    validity (Voucher.is_outstanding, as a filter)."""
    return Q(status=VoucherStatus.ISSUED, valid_until__gt=now)


def lapsed_q(now) -> Q:
    """Vouchers past their validity at ``now`` that the nightly sweep has not
    marked expired yet: still issued."""
    return Q(status=VoucherStatus.ISSUED, valid_until__lte=now)

"""Compensation policy: what an agent may offer without a supervisor."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .common import ChoiceLabels, money_field, validate_plausible_year


class RemedyKind(models.TextChoices):
    APOLOGY = "apology", _("Apology")
    VOUCHER = "voucher", _("Voucher")
    GIFT = "gift", _("Gift")
    PARTIAL_REFUND = "partial_refund", _("Partial refund")
    FULL_REFUND = "full_refund", _("Full refund")
    RESHIP = "reship", _("Reship / replacement")
    RETURN_SHIPPING = "return_shipping", _("Return shipping covered")


# Remedies that pay money back on the order: their total may not exceed what was paid.
REFUND_KINDS = frozenset({RemedyKind.PARTIAL_REFUND, RemedyKind.FULL_REFUND})


class PolicyRuleQuerySet(models.QuerySet):
    def active_at(self, when):
        return self.filter(active_from__lte=when).filter(
            Q(active_until__isnull=True) | Q(active_until__gt=when)
        )

    def get_by_natural_key(self, name):
        return self.get(name=name)


class PolicyRule(ChoiceLabels, models.Model):
    """One allowance: remedy kind (optionally for one category) up to caps.

    Rules are retired (``active_until``) rather than deleted, so an offer keeps
    pointing at the rule it was judged by.
    """

    name = models.CharField(
        _("name"),
        max_length=100,
        unique=True,
        help_text=_("Unique, also among retired rules, e.g. “Voucher up to ¥20 (2027)”."),
    )
    kind = models.CharField(_("remedy kind"), max_length=20, choices=RemedyKind.choices)
    category = models.ForeignKey(
        "complaints.RootCauseCategory",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="policy_rules",
        verbose_name=_("category"),
        help_text=_("Leave empty for every category; a group covers all its leaves."),
    )
    max_amount = money_field(_("maximum amount"), null=True, blank=True)
    max_share_percent = models.DecimalField(
        _("maximum share of order value (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
    )
    max_days_since_delivery = models.PositiveIntegerField(
        _("maximum days since delivery"), null=True, blank=True
    )
    active_from = models.DateTimeField(
        _("active from"), default=timezone.now, validators=[validate_plausible_year]
    )
    active_until = models.DateTimeField(
        _("active until"), null=True, blank=True, validators=[validate_plausible_year]
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = PolicyRuleQuerySet.as_manager()

    class Meta:
        verbose_name = _("policy rule")
        verbose_name_plural = _("policy rules")
        ordering = ["kind", "-active_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_amount__isnull=True) | Q(max_amount__gt=0),
                name="policyrule_max_amount_positive",
            ),
            models.CheckConstraint(
                condition=Q(max_share_percent__isnull=True)
                | Q(max_share_percent__gt=0, max_share_percent__lte=100),
                name="policyrule_share_0_to_100",
            ),
            models.CheckConstraint(
                condition=Q(kind="apology")
                | Q(max_amount__isnull=False)
                | Q(max_share_percent__isnull=False),
                name="policyrule_has_cap",
            ),
            models.CheckConstraint(
                condition=Q(active_until__isnull=True)
                | Q(active_until__gt=models.F("active_from")),
                name="policyrule_active_period",
            ),
        ]

    def __str__(self):
        return self.name or self.get_kind_display()

    def natural_key(self):
        return (self.name,)

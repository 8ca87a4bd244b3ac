"""Enumerations and field helpers shared by several aggregates."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class Marketplace(models.TextChoices):
    TAOBAO = "taobao", _("Taobao")
    TMALL = "tmall", _("Tmall")
    JD = "jd", _("JD")
    PINDUODUO = "pinduoduo", _("Pinduoduo")
    DOUYIN = "douyin", _("Douyin")
    OWN_SHOP = "own_shop", _("Own shop")
    OTHER = "other", _("Other")


MONEY_DIGITS = 10  # two of them decimals
MONEY_MAX = Decimal("99999999.99")


def money_field(verbose_name, **kwargs):
    """Return a yuan amount field: two decimals, up to MONEY_MAX (99,999,999.99)."""
    return models.DecimalField(verbose_name, max_digits=MONEY_DIGITS, decimal_places=2, **kwargs)


ZERO = Decimal("0.00")

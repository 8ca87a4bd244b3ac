"""Enumerations and field helpers shared by several aggregates."""

from decimal import Decimal
from functools import cache

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable
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

# Dates people and marketplaces give us fall in these years: outside them a
# date is a typo, and year 1 or 9999 cannot even be converted between time
# zones (a 500 where the deadlines are computed or the date is shown).
PLAUSIBLE_YEARS = (2000, 2999)


def implausible_date() -> ValidationError:
    """The error for a date outside PLAUSIBLE_YEARS."""
    return ValidationError(
        _("Choose a date between %(first)s and %(last)s."),
        code="out_of_range",
        params={"first": PLAUSIBLE_YEARS[0], "last": PLAUSIBLE_YEARS[1]},
    )


def validate_plausible_year(value) -> None:
    """Refuse a date or datetime outside PLAUSIBLE_YEARS."""
    if value is not None and not PLAUSIBLE_YEARS[0] <= value.year <= PLAUSIBLE_YEARS[1]:
        raise implausible_date()


class ChoiceLabels:
    """Model mixin: ``get_FOO_display()`` from a table of labels built once
    per field. Django's own builds the table on every call, hashing each
    choice's lazy label, which translates it: a case page asked 38 times,
    about 10% of its time (docs/PERFORMANCE.md). The labels stay lazy, so
    each answer is in the language of the request."""

    def _get_FIELD_display(self, field):
        value = getattr(self, field.attname)
        return force_str(_labels(field).get(make_hashable(value), value), strings_only=True)


@cache
def _labels(field) -> dict:
    return dict(make_hashable(field.flatchoices))

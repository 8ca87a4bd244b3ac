"""Quick replies (话术): standard phrasing for the recurring questions."""

import string

from django.db import models
from django.utils.translation import gettext_lazy as _

from .common import ChoiceLabels

PLACEHOLDERS = {
    "customer": _("the customer's name"),
    "order": _("the order number"),
    "case": _("the case number"),
    "voucher_code": _("the case's voucher code"),
    "amount": _("the chosen remedy's amount"),
    "agent": _("your name"),
}


class ReplyTopic(models.TextChoices):
    APOLOGY = "apology", _("Apology")
    QUALITY = "quality", _("Quality")
    SIZE = "size", _("Size")
    PRICE = "price", _("Price")
    SHIPPING = "shipping", _("Shipping")
    PHOTOS = "photos", _("Real photos")
    RETURNS = "returns", _("Returns")
    FOLLOW_UP = "follow_up", _("Follow-up")
    REVIEW = "review", _("Review reply")


class _KeepUnknown(dict):
    def __missing__(self, key):
        return "{" + key + "}"


class ReplyTemplate(ChoiceLabels, models.Model):
    """A reusable text with placeholders such as {customer} and {voucher_code}."""

    title = models.CharField(_("title"), max_length=100)
    topic = models.CharField(_("topic"), max_length=20, choices=ReplyTopic.choices)
    body = models.TextField(
        _("text"),
        help_text=_("Placeholders: {customer} {order} {case} {voucher_code} {amount} {agent}"),
    )
    active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("quick reply")
        verbose_name_plural = _("quick replies")
        ordering = ["topic", "sort_order", "title"]

    def __str__(self):
        return f"{self.get_topic_display()}: {self.title}"

    def clean(self):
        from django.core.exceptions import ValidationError

        unknown = sorted(
            {name for _text, name, _spec, _conv in string.Formatter().parse(self.body) if name}
            - set(PLACEHOLDERS)
        )
        if unknown:
            raise ValidationError(
                {"body": _("Unknown placeholders: %(names)s") % {"names": ", ".join(unknown)}},
                code="unknown_placeholder",
            )

    def render(self, values: dict) -> str:
        """Return the text with the placeholders filled; unknown ones stay as typed."""
        try:
            return self.body.format_map(_KeepUnknown(values))
        except (ValueError, IndexError):  # stray braces: leave the text alone
            return self.body

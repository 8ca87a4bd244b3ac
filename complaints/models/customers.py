"""Customers: the marketplace buyers a shop serves, with the profile that
lets any agent serve them the way that works for them."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .common import ChoiceLabels, Marketplace


class Motive(models.TextChoices):
    ECONOMY = "economy", _("Economy-minded")
    TASTE = "taste", _("Individual taste")
    CONVENIENCE = "convenience", _("Convenience")


class Temperament(models.TextChoices):
    SILENT = "silent", _("Silent")
    TALKATIVE = "talkative", _("Talkative")
    INDECISIVE = "indecisive", _("Easy-going but indecisive")
    PROUD = "proud", _("Proud")
    CONTRARY = "contrary", _("Contrary")
    PERFECTIONIST = "perfectionist", _("Perfectionist")
    HOT_TEMPERED = "hot_tempered", _("Hot-tempered")
    DISTRUSTFUL = "distrustful", _("Distrustful")
    BARGAIN_HUNTER = "bargain_hunter", _("Bargain hunter")
    PLEADS_POVERTY = "pleads_poverty", _("Pleads poverty")


# The service tactic that works for each kind of customer (see DOMAIN.md).
MOTIVE_TIPS = {
    Motive.ECONOMY: _("Price matters most: lead with vouchers and discounts."),
    Motive.TASTE: _("Listen first; talk about quality, brand and looks."),
    Motive.CONVENIENCE: _("Be quick: short answers, firm delivery and after-sales promises."),
}

TEMPERAMENT_TIPS = {
    Temperament.SILENT: _("Ask guiding questions."),
    Temperament.TALKATIVE: _("Agree, then steer back to the point."),
    Temperament.INDECISIVE: _("Find the real problem and solve it fast."),
    Temperament.PROUD: _("Praise; never debate."),
    Temperament.CONTRARY: _("Patience and a little light humour."),
    Temperament.PERFECTIONIST: _(
        "Make a good first impression; acknowledge their care for detail."
    ),
    Temperament.HOT_TEMPERED: _("Get the details right and apologise."),
    Temperament.DISTRUSTFUL: _("Build trust; do not push."),
    Temperament.BARGAIN_HUNTER: _("Hold the line: no endless discounts."),
    Temperament.PLEADS_POVERTY: _("Stress the value; offer flexible payment."),
}


class Customer(ChoiceLabels, models.Model):
    """A buyer on one marketplace, known by their buyer id (nickname)."""

    marketplace = models.CharField(_("marketplace"), max_length=20, choices=Marketplace.choices)
    buyer_id = models.CharField(
        _("buyer id"), max_length=100, help_text=_("The marketplace nickname.")
    )
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    motive = models.CharField(_("motive"), max_length=20, choices=Motive.choices, blank=True)
    temperament = models.CharField(
        _("temperament"), max_length=20, choices=Temperament.choices, blank=True
    )
    tags = models.JSONField(_("tags"), default=list, blank=True)
    notes = models.TextField(
        _("notes"), blank=True, help_text=_("E.g. a baby's birth date or a preferred courier.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["buyer_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["marketplace", "buyer_id"], name="customer_unique_buyer_per_marketplace"
            ),
        ]

    def __str__(self):
        if self.display_name and self.display_name != self.buyer_id:
            return f"{self.buyer_id} ({self.display_name})"
        return self.buyer_id

    @property
    def masked_phone(self) -> str:
        """Return the phone with its middle digits hidden, as agents see it."""
        digits = self.phone
        if len(digits) < 7:
            return "*" * len(digits)
        return f"{digits[:3]}****{digits[-4:]}"

    @property
    def motive_tip(self) -> str:
        return MOTIVE_TIPS.get(self.motive, "")

    @property
    def temperament_tip(self) -> str:
        return TEMPERAMENT_TIPS.get(self.temperament, "")

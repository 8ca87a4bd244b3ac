"""Contacts with the customer and the evidence they sent, on a case."""

from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .common import ChoiceLabels, validate_plausible_year


class ContactChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    CHAT = "chat", _("Marketplace chat")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")
    OTHER = "other", _("Other")


class ContactOutcome(models.TextChoices):
    REACHED = "reached", _("Reached the customer")
    WAITING = "waiting_on_customer", _("Reached; waiting on the customer")
    NO_ANSWER = "no_answer", _("No answer")
    LEFT_MESSAGE = "left_message", _("Left a message")


class Contact(ChoiceLabels, models.Model):
    """A call, chat or message exchanged with the customer about the case."""

    REACHED_OUTCOMES = (ContactOutcome.REACHED, ContactOutcome.WAITING)

    case = models.ForeignKey(
        "complaints.Case", on_delete=models.PROTECT, related_name="contacts", verbose_name=_("case")
    )
    channel = models.CharField(_("channel"), max_length=20, choices=ContactChannel.choices)
    inbound = models.BooleanField(_("from the customer"), default=False)
    outcome = models.CharField(_("outcome"), max_length=30, choices=ContactOutcome.choices)
    notes = models.TextField(_("notes"), blank=True)
    contacted_at = models.DateTimeField(
        _("time"), default=timezone.now, validators=[validate_plausible_year]
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("agent"),
    )

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-contacted_at"]
        # The admin's list of contacts (the admin adds -id), read along it
        # instead of sorting every contact (230 ms at 1M cases).
        indexes = [models.Index(fields=["-contacted_at", "-id"], name="contact_newest")]

    def __str__(self):
        return f"{self.get_channel_display()} {self.contacted_at:%Y-%m-%d %H:%M}"


def evidence_path(instance, filename):
    suffix = PurePath(filename).suffix.lower()
    return f"evidence/{timezone.now():%Y/%m}/{instance.case.number}-{instance.token}{suffix}"


class Evidence(models.Model):
    """A photo or file the customer sent (damage, parcel, weight record...)."""

    case = models.ForeignKey(
        "complaints.Case", on_delete=models.PROTECT, related_name="evidence", verbose_name=_("case")
    )
    file = models.FileField(_("file"), upload_to=evidence_path, max_length=200)
    thumbnail = models.FileField(
        _("thumbnail"), upload_to=evidence_path, max_length=200, blank=True
    )
    content_type = models.CharField(_("content type"), max_length=50, blank=True)
    token = models.CharField(max_length=16, editable=False)
    kind = models.CharField(_("kind"), max_length=20)
    original_name = models.CharField(_("original name"), max_length=200)
    size = models.PositiveIntegerField(_("size (bytes)"))
    description = models.CharField(_("description"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["uploaded_at"]

    def __str__(self):
        return self.original_name

    @property
    def is_image(self) -> bool:
        return self.kind == "image"

"""In-app notifications: what a user should know about (a decision on their
offer, a case given to them, a deadline)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .common import ChoiceLabels


class NotificationKind(models.TextChoices):
    OFFER_APPROVED = "offer_approved", _("Offer approved")
    OFFER_REJECTED = "offer_rejected", _("Offer rejected")
    ASSIGNED = "assigned", _("Case assigned to you")
    DEADLINE = "deadline", _("Deadline")
    ESCALATION = "escalation", _("Escalation")
    # What happened to the user's own log-in (a password changed, the
    # two-step log-in turned on or off, a backup code used): told so that a
    # change they did not make is noticed.
    ACCOUNT = "account", _("Your account")


class NotificationQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(ChoiceLabels, models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    case = models.ForeignKey(
        "complaints.Case",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("case"),
    )
    kind = models.CharField(_("kind"), max_length=30, choices=NotificationKind.choices)
    message = models.TextField(_("message"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_recipient_unread"),
            # Each user's list, newest first, a page at a time (keyset): read
            # along this index instead of sorting all of a user's
            # notifications (a supervisor is told of every escalation).
            models.Index(
                fields=["recipient", "-created_at", "-id"], name="notification_recipient_latest"
            ),
        ]

    def __str__(self):
        return self.message[:60]


class NotificationSettings(models.Model):
    """One user's choice of how to be told: the in-app list always, e-mail
    unless they turn it off. No row means the defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_settings",
        verbose_name=_("user"),
    )
    email = models.BooleanField(_("also by e-mail"), default=True)

    class Meta:
        verbose_name = _("notification settings")
        verbose_name_plural = _("notification settings")

    def __str__(self):
        return str(self.user)

    @classmethod
    def wants_email(cls, user) -> bool:
        return not cls.objects.filter(user=user, email=False).exists()

"""The append-only audit trail of a case."""

from django.conf import settings
from django.db import IntegrityError, models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .cases import Case, CaseState
from .common import ChoiceLabels


class EventKind(models.TextChoices):
    OPENED = "opened", _("Opened")
    TRANSITION = "transition", _("State change")
    NOTE = "note", _("Note")
    CONTACT = "contact", _("Contact")
    EVIDENCE = "evidence", _("Evidence")
    ANALYSIS = "analysis", _("Analysis")
    DETAILS = "details", _("Details changed")
    ASSIGNMENT = "assignment", _("Assignment")
    OFFER_PROPOSED = "offer_proposed", _("Offer proposed")
    OFFER_CHANGED = "offer_changed", _("Offer changed")
    OFFER_APPROVED = "offer_approved", _("Offer approved")
    OFFER_REJECTED = "offer_rejected", _("Offer rejected")
    VOUCHER_ISSUED = "voucher_issued", _("Voucher issued")
    VOUCHER_REDEEMED = "voucher_redeemed", _("Voucher redeemed")
    VOUCHER_VOIDED = "voucher_voided", _("Voucher voided")
    VOUCHER_EXPIRED = "voucher_expired", _("Voucher expired")
    EXECUTION_STEP = "execution_step", _("Execution step done")
    REVIEW_REPLIED = "review_replied", _("Review reply saved")
    REVISION_REQUESTED = "revision_requested", _("Review revision requested")
    REVISION_OUTCOME = "revision_outcome", _("Review revision outcome")
    ROOT_CAUSE = "root_cause", _("Root cause recorded")
    CORRECTIVE_DONE = "corrective_done", _("Corrective action done")
    SLA_WARNING = "sla_warning", _("Deadline at risk")
    ESCALATED = "escalated", _("Escalated")


class CaseEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise IntegrityError("The case audit trail is append-only.")

    def delete(self):
        raise IntegrityError("The case audit trail is append-only.")


class CaseEvent(ChoiceLabels, models.Model):
    """One entry of a case's append-only audit trail."""

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="events", verbose_name=_("case")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
        help_text=_("Empty for the system."),
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    kind = models.CharField(_("kind"), max_length=30, choices=EventKind.choices)
    transition = models.CharField(_("transition"), max_length=30, blank=True)
    from_state = models.CharField(_("from"), max_length=20, choices=CaseState.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=20, choices=CaseState.choices, blank=True)
    payload = models.JSONField(_("details"), default=dict, blank=True)

    objects = CaseEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["case", "-created_at"], name="caseevent_case_time")]

    def __str__(self):
        return f"{self.case_id} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise IntegrityError("The case audit trail is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise IntegrityError("The case audit trail is append-only.")


class ExportRecord(models.Model):
    """Who exported what: exports carry customers' data out of the shop."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
        help_text=_("Empty for the command line."),
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    kind = models.CharField(_("export"), max_length=30)
    file_format = models.CharField(_("format"), max_length=10)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    row_count = models.PositiveIntegerField(_("rows"))

    class Meta:
        verbose_name = _("export record")
        verbose_name_plural = _("export records")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.kind} {self.file_format} {self.created_at:%Y-%m-%d %H:%M}"

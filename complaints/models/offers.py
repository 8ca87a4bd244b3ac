"""Offers: the remedies proposed to a customer on a case."""

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .common import ChoiceLabels, money_field
from .policy import RemedyKind


class ApprovalStatus(models.TextChoices):
    NOT_NEEDED = "not_needed", _("Inside policy")
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class OfferOutcome(models.TextChoices):
    OPEN = "open", _("Open")
    ACCEPTED = "accepted", _("Chosen by the customer")
    DECLINED = "declined", _("Not chosen")


# What "done" means when executing each remedy, and what the agent records.
EXECUTION_STEPS = {
    RemedyKind.APOLOGY: "",
    RemedyKind.VOUCHER: _("Issue the voucher"),
    RemedyKind.GIFT: _("Ship the gift (record its tracking number)"),
    RemedyKind.PARTIAL_REFUND: _("Refund the amount (record the refund reference)"),
    RemedyKind.FULL_REFUND: _("Refund the order (record the refund reference)"),
    RemedyKind.RESHIP: _("Reship the item (record the new tracking number)"),
    RemedyKind.RETURN_SHIPPING: _("Refund the return shipping (record the refund reference)"),
}


class Offer(ChoiceLabels, models.Model):
    """A remedy proposed on a case, with the policy judgement it got.

    An offer inside policy needs no approval; one outside it stays pending
    until a supervisor other than the proposer approves or rejects it.
    """

    case = models.ForeignKey(
        "complaints.Case", on_delete=models.PROTECT, related_name="offers", verbose_name=_("case")
    )
    kind = models.CharField(_("remedy"), max_length=20, choices=RemedyKind.choices)
    amount = money_field(_("amount"), null=True, blank=True)
    min_spend = money_field(
        _("minimum spend"),
        default=0,
        blank=True,
        help_text=_("Vouchers only: the order value needed to redeem it."),
    )
    description = models.CharField(_("terms for the customer"), max_length=255, blank=True)
    reasoning = models.TextField(_("agent's reasoning"), blank=True)

    policy_rule = models.ForeignKey(
        "complaints.PolicyRule",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="offers",
        verbose_name=_("policy rule"),
    )
    policy_allowance = money_field(
        _("policy allows"),
        null=True,
        blank=True,
        help_text=_("The most the rule allowed for this case when the offer was judged."),
    )
    policy_note = models.CharField(_("policy check"), max_length=255, blank=True)
    serial_complainant = models.BooleanField(
        _("serial complainant"),
        default=False,
        help_text=_("Judged while the customer counted as a serial complainant."),
    )
    approval_status = models.CharField(
        _("approval"), max_length=20, choices=ApprovalStatus.choices, db_index=True
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    proposed_at = models.DateTimeField(_("proposed"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    outcome = models.CharField(
        _("outcome"), max_length=20, choices=OfferOutcome.choices, default=OfferOutcome.OPEN
    )
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    execution_reference = models.CharField(
        _("execution reference"),
        max_length=100,
        blank=True,
        help_text=_("Refund reference or tracking number, as the remedy needs."),
    )
    executed_at = models.DateTimeField(_("executed"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        ordering = ["proposed_at", "id"]
        # The admin's list of offers, newest first, read along it instead of
        # sorting every offer (410 ms at 1M cases).
        indexes = [models.Index(fields=["-proposed_at", "-id"], name="offer_proposed_newest")]
        permissions = [("approve_offer", _("Can approve or reject offers outside policy"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=RemedyKind.APOLOGY, amount__isnull=True)
                | (~Q(kind=RemedyKind.APOLOGY) & Q(amount__isnull=False, amount__gt=0)),
                name="offer_amount_positive",
            ),
            models.CheckConstraint(
                condition=Q(min_spend__gte=0), name="offer_min_spend_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(approval_status__in=["approved", "rejected"])
                | Q(decided_by__isnull=False),
                name="offer_decision_has_decider",
            ),
        ]

    def __str__(self):
        if self.amount is None:
            return self.get_kind_display()
        return f"{self.get_kind_display()} ¥{self.amount}"

    @property
    def is_cleared(self) -> bool:
        """Return whether the customer may be given this offer."""
        return self.approval_status in (ApprovalStatus.NOT_NEEDED, ApprovalStatus.APPROVED)

    @property
    def is_open(self) -> bool:
        return self.outcome == OfferOutcome.OPEN and self.approval_status != ApprovalStatus.REJECTED

    @property
    def execution_step(self) -> str:
        return EXECUTION_STEPS[self.kind]

    @property
    def execution_complete(self) -> bool:
        """Return whether every execution step of this remedy is done."""
        if self.kind == RemedyKind.APOLOGY:
            return True
        if self.kind == RemedyKind.VOUCHER:
            try:
                return self.voucher is not None
            except ObjectDoesNotExist:
                return False
        return bool(self.execution_reference)

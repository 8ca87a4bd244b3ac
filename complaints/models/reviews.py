"""Public reviews, the shop's reply to each, and whether a reviewer revised."""

from django.conf import settings
from django.db import models
from django.db.models import Case as Conditional
from django.db.models import F, IntegerField, Q, When
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from ..conf import DEFAULTS
from ..sql import Literal
from .common import ChoiceLabels, Marketplace, validate_plausible_year

REPLY_MAX_LENGTH = 500  # the marketplaces' limit for a public reply


class RevisionOutcome(models.TextChoices):
    PENDING = "", _("Not asked / no outcome yet")
    REVISED = "revised", _("Revised")
    APPENDED = "appended", _("Follow-up review appended")
    DECLINED = "declined", _("Declined")
    NO_ANSWER = "no_answer", _("No answer")


# A reviewer asked to revise the review (the follow-up's request), and one who
# revised it after being asked: the team report's revision rate and the
# recovery funnel count these, and review_revision_asked holds the asked.
REVISION_ASKED = Q(revision_requested_at__isnull=False)
REVISED_WHEN_ASKED = REVISION_ASKED & Q(revision_outcome=RevisionOutcome.REVISED)


def needs_reply(threshold: int):
    """1 for a review rated ``threshold`` or lower without a published reply,
    else 0: the review inbox shows those first (its first sort key, read from
    the index review_inbox_order). Its constants are literals (sql.Literal),
    so a kept connection's prepared inbox query still matches the index."""
    return Conditional(
        When(Q(rating__lte=Literal(threshold), replied_at__isnull=True), then=Literal(1)),
        default=Literal(0),
        output_field=IntegerField(),
    )


class Review(ChoiceLabels, models.Model):
    """A buyer's rating and text; 1–2 stars is negative, 3 is medium."""

    marketplace = models.CharField(_("marketplace"), max_length=20, choices=Marketplace.choices)
    external_id = models.CharField(_("marketplace review id"), max_length=64)
    order = models.ForeignKey(
        "complaints.Order",
        on_delete=models.PROTECT,
        related_name="reviews",
        null=True,
        blank=True,
        verbose_name=_("order"),
    )
    customer = models.ForeignKey(
        "complaints.Customer",
        on_delete=models.PROTECT,
        related_name="reviews",
        verbose_name=_("customer"),
    )
    sku = models.CharField(_("SKU"), max_length=64, blank=True, db_index=True)
    rating = models.PositiveSmallIntegerField(_("rating"))
    text = models.TextField(_("text"), blank=True)
    has_photos = models.BooleanField(_("has photos"), default=False)
    posted_at = models.DateTimeField(
        _("posted"), db_index=True, validators=[validate_plausible_year]
    )

    revision_requested_at = models.DateTimeField(_("revision requested"), null=True, blank=True)
    revision_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revision requested by"),
    )
    revision_request_channel = models.CharField(_("asked via"), max_length=20, blank=True)
    revision_outcome = models.CharField(
        _("revision outcome"),
        max_length=20,
        choices=RevisionOutcome.choices,
        blank=True,
        default=RevisionOutcome.PENDING,
    )
    revised_rating = models.PositiveSmallIntegerField(_("revised rating"), null=True, blank=True)
    revised_at = models.DateTimeField(_("revised"), null=True, blank=True)
    # When the shop's published reply went out; kept by the reply itself
    # (sync_replied_at below), never edited here. The inbox, the badges and
    # the funnel read it instead of joining every reply: an index can then
    # hold the reviews still waiting for one.
    replied_at = models.DateTimeField(_("replied"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["-posted_at"]
        indexes = [
            # The navigation's "unreplied" badges per rating and the inbox's
            # first rows: the few reviews without a published reply.
            models.Index(
                fields=["rating", "posted_at", "id"],
                name="review_unreplied",
                condition=Q(replied_at__isnull=True),
            ),
            # The inbox's order (reviews needing a reply first, newest first),
            # read page by page from here instead of sorting every review. It
            # is made for the default threshold (NEGATIVE_REVIEW_MAX_RATING);
            # under another the inbox is still right, it sorts.
            models.Index(
                needs_reply(DEFAULTS["NEGATIVE_REVIEW_MAX_RATING"]),
                F("posted_at"),
                F("id"),
                name="review_inbox_order",
            ),
            # The team report's revision rate: the reviews whose reviewer was
            # asked to revise (one in twelve at 1M cases), by outcome, read
            # from here alone for the period's cases to be checked against.
            models.Index(
                fields=["revision_outcome", "id"],
                name="review_revision_asked",
                condition=REVISION_ASKED,
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["marketplace", "external_id"], name="review_unique_id_per_marketplace"
            ),
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5"
            ),
            models.CheckConstraint(
                condition=Q(revised_rating__isnull=True)
                | Q(revised_rating__gte=1, revised_rating__lte=5),
                name="review_revised_rating_1_to_5",
            ),
        ]

    def __str__(self):
        return f"{self.external_id} ★{self.rating}"

    @property
    def is_negative(self) -> bool:
        return self.rating <= 2

    @property
    def is_medium(self) -> bool:
        return self.rating == 3


class ReplyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class ReviewReply(ChoiceLabels, models.Model):
    """The shop's public reply: written for the next buyers as much as the reviewer."""

    review = models.OneToOneField(
        Review, on_delete=models.CASCADE, related_name="reply", verbose_name=_("review")
    )
    text = models.TextField(_("text"), max_length=REPLY_MAX_LENGTH)
    status = models.CharField(
        _("status"), max_length=20, choices=ReplyStatus.choices, default=ReplyStatus.DRAFT
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("author"),
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("review reply")
        verbose_name_plural = _("review replies")
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False),
                name="reviewreply_published_has_time",
            ),
        ]

    def __str__(self):
        return f"{self.get_status_display()}: {self.text[:40]}"


class ReplyEdit(models.Model):
    """A change to a published reply: buyers saw the old text, so it is kept."""

    reply = models.ForeignKey(
        ReviewReply, on_delete=models.CASCADE, related_name="edits", verbose_name=_("reply")
    )
    previous_text = models.TextField(_("previous text"))
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("edited by"),
    )
    edited_at = models.DateTimeField(_("edited"), auto_now_add=True)

    class Meta:
        verbose_name = _("reply edit")
        verbose_name_plural = _("reply edits")
        ordering = ["-edited_at", "-id"]

    def __str__(self):
        return f"{self.reply_id} {self.edited_at:%Y-%m-%d %H:%M}"


class MarketplaceSettings(ChoiceLabels, models.Model):
    """What each marketplace allows: how long the shop may reply to a review,
    and whether it may ask a reviewer to revise (some platforms forbid it)."""

    marketplace = models.CharField(
        _("marketplace"), max_length=20, choices=Marketplace.choices, unique=True
    )
    reply_window_days = models.PositiveSmallIntegerField(_("reply window (days)"), default=30)
    revision_requests_allowed = models.BooleanField(
        _("revision requests allowed"),
        default=True,
        help_text=_("Untick where the platform forbids asking a reviewer to revise."),
    )

    class Meta:
        verbose_name = _("marketplace settings")
        verbose_name_plural = _("marketplace settings")
        ordering = ["marketplace"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reply_window_days__gt=0), name="marketplace_reply_window_positive"
            ),
        ]

    def __str__(self):
        return self.get_marketplace_display()

    @classmethod
    def for_marketplace(cls, marketplace: str) -> "MarketplaceSettings":
        """Return the marketplace's settings, or the defaults when none are saved."""
        found = cls.objects.filter(marketplace=marketplace).first()
        return found or cls(marketplace=marketplace)


def sync_replied_at(reply: "ReviewReply", *, deleted: bool = False) -> None:
    """Write the reply's publication onto its review (None while a draft or
    once the reply is gone)."""
    published = not deleted and reply.status == ReplyStatus.PUBLISHED
    Review.objects.filter(pk=reply.review_id).update(
        replied_at=reply.published_at if published else None
    )


@receiver(post_save, sender=ReviewReply, dispatch_uid="review_replied_at_saved")
def _reply_saved(sender, instance, **kwargs):
    sync_replied_at(instance)


@receiver(post_delete, sender=ReviewReply, dispatch_uid="review_replied_at_deleted")
def _reply_deleted(sender, instance, **kwargs):
    sync_replied_at(instance, deleted=True)

"""Reviews: the inbox, reply deadlines and the recovery funnel."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import (
    BigIntegerField,
    BooleanField,
    Count,
    DateTimeField,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models import Case as Conditional
from django.utils import timezone

from ..conf import setting
from ..models import (
    Case,
    CaseState,
    Contact,
    MarketplaceSettings,
    Review,
)
from ..models.reviews import REVISED_WHEN_ASKED, needs_reply
from ..paging import Sort, capped_counts
from ..people import display_name
from .reports import day_range
from .shared import counted_by_worker, shared_count


def cases_latest_first(review) -> QuerySet:
    """``review``'s cases (a review or OuterRef("pk")), the latest first:
    read in that order from case_review_latest."""
    return Case.objects.filter(review=review).order_by("-created_at")


def review_inbox() -> QuerySet:
    """Every review, unreplied medium and negative ones first, newest first."""
    latest_case = cases_latest_first(OuterRef("pk"))
    threshold = setting("NEGATIVE_REVIEW_MAX_RATING")
    # "Replied" from the review's own replied_at (its published reply keeps
    # it), not from the replies: the order below needs it for every review,
    # and 250k subqueries took 1.4 s at 1M cases, hashing every reply 0.1 s.
    published = Q(replied_at__isnull=False)
    return (
        Review.objects.select_related("customer", "order", "reply")
        .annotate(
            replied=Conditional(
                When(published, then=Value(True)), default=Value(False), output_field=BooleanField()
            ),
            case_number=Subquery(latest_case.values("number")[:1]),
            case_state=Subquery(latest_case.values("state")[:1]),
        )
        .annotate(urgency=needs_reply(threshold))
        .order_by("-urgency", "-posted_at", "-id")
    )


# The inbox's pages: by keyset along the index review_inbox_order.
INBOX_SORT = Sort(
    (
        ("urgency", None, IntegerField()),
        ("posted_at", None, DateTimeField()),
        ("id", None, BigIntegerField()),
    ),
    descending=True,
)


def reply_windows() -> dict:
    """Return each marketplace's reply window in days (defaults where unset)."""
    default = MarketplaceSettings._meta.get_field("reply_window_days").default
    windows = dict(MarketplaceSettings.objects.values_list("marketplace", "reply_window_days"))
    return {"__default__": default, **windows}


def attach_reply_clocks(reviews, *, windows: dict, now: datetime | None = None) -> list:
    """Set ``reply_due`` and ``reply_due_soon`` on each review (no queries)."""
    now = now or timezone.now()
    warn = timedelta(days=setting("REPLY_WINDOW_WARN_DAYS"))
    reviews = list(reviews)
    for review in reviews:
        days = windows.get(review.marketplace, windows["__default__"])
        review.reply_due = review.posted_at + timedelta(days=days)
        replied = getattr(review, "replied", None)
        review.reply_due_soon = not replied and review.reply_due - now <= warn
    return reviews


BADGE_CAP = 99


def unreplied_by_rating() -> dict:
    """{rating: the reviews of that rating with no published reply}, for the
    ratings up to the negative threshold (the navigation's counters)."""
    threshold = setting("NEGATIVE_REVIEW_MAX_RATING")
    # From the review's replied_at and the index of the reviews without one
    # (review_unreplied), not the replies: where most reviews are answered, an
    # outer join to the replies hashed all of them for each rating (150 ms on
    # every page at 1M cases) and NOT EXISTS walked the answered ones (4 ms).
    unreplied = Review.objects.filter(replied_at__isnull=True)
    return {rating: unreplied.filter(rating=rating) for rating in range(1, threshold + 1)}


def unreplied_counts(cap: int = BADGE_CAP) -> dict:
    """Return {rating: how many reviews have no published reply} for ratings
    up to the negative threshold, each counted up to ``cap`` + 1 only, in one
    query: a badge says "99+", not a count of the whole table."""
    counts = capped_counts(unreplied_by_rating(), cap)
    return {rating: n for rating, n in counts.items() if n}


@dataclass(frozen=True)
class Funnel:
    start: date
    end: date
    negative: int
    replied: int
    contacted: int
    resolved: int
    revised: int

    def steps(self) -> list[tuple[str, int, float | None]]:
        """Return (step, count, share of the negative reviews)."""
        total = self.negative
        return [
            (name, count, (count / total) if total else None)
            for name, count in (
                ("negative", self.negative),
                ("replied", self.replied),
                ("contacted", self.contacted),
                ("resolved", self.resolved),
                ("revised", self.revised),
            )
        ]


def recovery_funnel(*, start: date, end: date) -> Funnel:
    """Medium and negative reviews posted in [start, end] → replied →
    contacted (their case has a contact) → resolved (their case reached the
    root cause or closed) → revised, in one query."""
    return Funnel(start=start, end=end, **_funnel_counts(start, end))


def _funnel_counts(start: date, end: date) -> dict[str, int]:
    reviews = Review.objects.filter(
        rating__lte=setting("NEGATIVE_REVIEW_MAX_RATING"), **day_range("posted_at", start, end)
    )
    # Each review counted once: its cases and their contacts are asked
    # whether they exist, not joined (a join repeats the review per contact);
    # whether it was answered is its own replied_at.
    contacted = Exists(Contact.objects.filter(case__review=OuterRef("pk")))
    resolved = Exists(
        Case.objects.filter(
            review=OuterRef("pk"), state__in=[CaseState.ROOT_CAUSE, CaseState.CLOSED]
        )
    )
    return reviews.aggregate(
        negative=Count("id"),
        replied=Count("id", filter=Q(replied_at__isnull=False)),
        contacted=Count("id", filter=Q(contacted)),
        resolved=Count("id", filter=Q(resolved)),
        revised=Count("id", filter=REVISED_WHEN_ASKED),
    )


def shared_recovery_funnel(*, start: date, end: date) -> tuple[Funnel, datetime]:
    """The recovery funnel of [start, end] and when it was counted. Counting
    asks after every medium and negative review of the period (about 100 of
    the inbox's 160 ms at 1M cases), so each period is counted once a minute
    and the count shared by everyone who opens the inbox meanwhile."""
    period = (start.isoformat(), end.isoformat())
    return shared_count(
        "review-funnel:{}:{}".format(*period),
        lambda: _funnel_counts(start, end),
        lambda counts: Funnel(start=start, end=end, **counts),
        recount=("review-funnel", period),
    )


@counted_by_worker("review-funnel")
def _funnel_counts_of(start: str, end: str) -> dict:
    return _funnel_counts(date.fromisoformat(start), date.fromisoformat(end))


def review_reply_values(review: Review, user) -> dict:
    """Return the quick-reply placeholder values for a reply to ``review``."""
    customer = review.customer
    case = cases_latest_first(review).first()
    return {
        "customer": customer.display_name or customer.buyer_id,
        "order": review.order.number if review.order_id else "",
        "case": case.number if case else "",
        "voucher_code": "",
        "amount": "",
        "agent": display_name(user),
    }

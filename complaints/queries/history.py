"""Compensation already given: the serial-complainant count and refunds committed."""

from datetime import datetime
from decimal import Decimal

from django.db.models import Sum

from ..models import (
    REFUND_KINDS,
    Case,
    Offer,
    OfferOutcome,
    RemedyKind,
)


def compensated_case_count(customer, *, since: datetime, exclude_case: Case | None = None) -> int:
    """Return how many of the customer's cases paid out compensation since ``since``.

    A case counts once however many remedies it executed; an apology costs
    nothing and does not count.
    """
    offers = Offer.objects.filter(case__customer=customer, executed_at__gte=since).exclude(
        kind=RemedyKind.APOLOGY
    )
    if exclude_case is not None:
        offers = offers.exclude(case=exclude_case)
    return offers.values("case").distinct().count()


def refunds_committed(order, *, exclude_offer: Offer | None = None) -> Decimal:
    """Return the refunds on ``order`` the customer has accepted, across its cases."""
    offers = Offer.objects.filter(
        case__order=order, kind__in=REFUND_KINDS, outcome=OfferOutcome.ACCEPTED
    )
    if exclude_offer is not None and exclude_offer.pk:
        offers = offers.exclude(pk=exclude_offer.pk)
    return offers.aggregate(total=Sum("amount"))["total"] or Decimal("0")

"""Money: compensation per case and the voucher ledger."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, DecimalField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from ..models import (
    Case,
    Offer,
    Voucher,
    VoucherStatus,
)


def compensation_cost(case: Case) -> Decimal:
    """Return what the case's executed remedies cost (vouchers at face value,
    refunds, gifts, reshipments, return shipping)."""
    return case.offers.filter(executed_at__isnull=False).aggregate(
        total=Coalesce(Sum("amount"), Decimal("0"))
    )["total"]


def with_compensation_cost(cases: QuerySet) -> QuerySet:
    """Annotate ``compensation_cost`` on a case queryset (for lists and reports)."""

    cost = (
        Offer.objects.filter(case=OuterRef("pk"), executed_at__isnull=False)
        .values("case")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return cases.annotate(
        compensation_cost=Coalesce(
            Subquery(cost, output_field=DecimalField(max_digits=12, decimal_places=2)),
            Decimal("0"),
        )
    )


def voucher_ledger() -> QuerySet:

    return Voucher.objects.select_related(
        "customer", "offer__case", "redemption_order", "voided_by"
    ).order_by("-issued_at", "-id")


@dataclass(frozen=True)
class LedgerTotals:
    issued_value: Decimal
    redeemed_value: Decimal
    outstanding: Decimal  # issued, not yet expired: what the shop still owes
    expired_value: Decimal
    void_value: Decimal
    count: int


def ledger_totals(vouchers: QuerySet, *, now: datetime | None = None) -> LedgerTotals:
    """Return the money in ``vouchers`` (already filtered), in one query."""

    now = now or timezone.now()
    zero = Decimal("0")
    totals = vouchers.order_by().aggregate(
        issued=Coalesce(Sum("value"), zero),
        redeemed=Coalesce(Sum("value", filter=Q(status=VoucherStatus.REDEEMED)), zero),
        outstanding=Coalesce(
            Sum("value", filter=Q(status=VoucherStatus.ISSUED, valid_until__gt=now)), zero
        ),
        expired=Coalesce(
            Sum(
                "value",
                filter=Q(status=VoucherStatus.EXPIRED)
                | Q(status=VoucherStatus.ISSUED, valid_until__lte=now),
            ),
            zero,
        ),
        void=Coalesce(Sum("value", filter=Q(status=VoucherStatus.VOID)), zero),
        count=Count("id"),
    )
    return LedgerTotals(
        issued_value=totals["issued"],
        redeemed_value=totals["redeemed"],
        outstanding=totals["outstanding"],
        expired_value=totals["expired"],
        void_value=totals["void"],
        count=totals["count"],
    )


def ledger_by_month(vouchers: QuerySet) -> list[dict]:
    """Return issued and redeemed value per month of issue (Shanghai months)."""

    zero = Decimal("0")
    return list(
        vouchers.order_by()
        .annotate(month=TruncMonth("issued_at"))
        .values("month")
        .annotate(
            count=Count("id"),
            issued=Coalesce(Sum("value"), zero),
            redeemed=Coalesce(Sum("value", filter=Q(status=VoucherStatus.REDEEMED)), zero),
        )
        .order_by("-month")
    )

"""The queues and the case page."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import F, QuerySet
from django.utils import timezone

from ..conf import setting
from ..models import (
    Case,
    Offer,
    Order,
    RemedyKind,
    ReplyTemplate,
    Review,
    RootCauseCategory,
    open_q,
)
from ..people import display_name
from .history import compensated_case_count
from .search import TRIGRAM

QUEUES = ("mine", "unassigned", "open", "due", "all")


def case_queue(name: str, *, user, now: datetime | None = None) -> QuerySet:
    """Return the open cases of queue ``name`` for ``user``, ready to list."""
    now = now or timezone.now()
    cases = Case.objects.select_related("customer", "order", "assignee", "category")
    if name != "all":  # every state, for reports' drill-down
        cases = cases.filter(open_q())
    if name == "mine":
        cases = cases.filter(assignee=user)
    elif name == "unassigned":
        cases = cases.filter(assignee__isnull=True)
    elif name == "due":
        soon = now + timedelta(hours=setting("DUE_SOON_HOURS"))
        cases = cases.filter(due_at__lte=soon)
    elif name not in ("open", "all"):
        raise ValueError(name)
    return cases


def queue_listing(cases: QuerySet) -> QuerySet:
    """The queue's rows as dicts of only the columns they show: a case's
    description and its other long fields stay in the database, and no model
    instance is built for a row that is only read (about 15 µs for each of
    a row's four objects)."""
    return cases.select_related(None).values(
        "id",
        "number",
        "summary",
        "state",
        "priority",
        "due_at",
        "created_at",
        "assignee_id",
        buyer_id=F("customer__buyer_id"),
        order_number=F("order__number"),
        assignee_username=F("assignee__username"),
        assignee_first_name=F("assignee__first_name"),
        assignee_last_name=F("assignee__last_name"),
    )


def overdue(cases: QuerySet, *, now: datetime | None = None) -> QuerySet:
    return cases.filter(due_at__lt=now or timezone.now())


@dataclass(frozen=True)
class CustomerHistory:
    past_cases: list
    compensation: list  # executed offers with money, newest first
    compensated_recently: int
    serial_threshold: int
    window_days: int

    @property
    def is_serial(self) -> bool:
        return self.compensated_recently >= self.serial_threshold

    @property
    def compensation_total(self) -> Decimal:
        return sum((o.amount or Decimal("0") for o in self.compensation), Decimal("0"))


def customer_history(case: Case, *, now: datetime | None = None) -> CustomerHistory:
    """Return the customer's other cases and the compensation they received."""
    now = now or timezone.now()
    days = setting("SERIAL_COMPLAINANT_DAYS")
    past = list(
        Case.objects.filter(customer_id=case.customer_id)
        .exclude(pk=case.pk)
        .only("number", "state", "summary", "created_at")  # what the page lists
        .order_by("-created_at")[:20]
    )
    compensation = list(
        Offer.objects.filter(case__customer_id=case.customer_id, executed_at__isnull=False)
        .exclude(kind=RemedyKind.APOLOGY)
        .select_related("case")
        # case__state too: the state machine reads a loaded case's state
        .only("kind", "amount", "executed_at", "case__number", "case__state")
        .order_by("-executed_at")[:20]
    )
    return CustomerHistory(
        past_cases=past,
        compensation=compensation,
        compensated_recently=compensated_case_count(
            case.customer, since=now - timedelta(days=days), exclude_case=case
        ),
        serial_threshold=setting("SERIAL_COMPLAINANT_CASES"),
        window_days=days,
    )


def case_for_page(number: str) -> Case:
    """Return the case with what its page shows (raises DoesNotExist).

    One join for the case with its customer, order, assignee, accepted offer
    and SLA policy, then its categories and its review in small queries of
    their own: PostgreSQL took longer to plan the twelve-table join (about
    5 ms) than it takes to run three simple queries (docs/PERFORMANCE.md)."""
    case = Case.objects.select_related(
        "customer", "order", "assignee", "accepted_offer", "sla_policy"
    ).get(number=number)
    wanted = {pk for pk in (case.category_id, case.root_cause_id) if pk is not None}
    if wanted:
        categories = RootCauseCategory.objects.select_related("parent").in_bulk(wanted)
        if case.category_id is not None:
            case.category = categories[case.category_id]
        if case.root_cause_id is not None:
            case.root_cause = categories[case.root_cause_id]
    if case.review_id is not None:
        case.review = Review.objects.select_related("reply").get(pk=case.review_id)
    return case


def category_by_code(code: str) -> RootCauseCategory | None:
    """The root-cause category with ``code`` and its group (None when gone):
    audit events name categories by code."""
    return RootCauseCategory.objects.filter(code=code).select_related("parent").first()


def case_timeline(case: Case) -> QuerySet:
    return case.events.select_related("actor").order_by("-created_at", "-id")


def case_offers(case: Case) -> QuerySet:
    return case.offers.select_related(
        "proposed_by", "decided_by", "policy_rule", "voucher"
    ).order_by("proposed_at", "id")


def search_orders(number: str, *, limit: int = 10) -> QuerySet:
    """Return orders whose number contains ``number`` (for the new-case page)."""

    number = number.strip()
    if len(number) < TRIGRAM:  # no index can look a shorter one up
        return Order.objects.none()
    return (
        Order.objects.filter(number__icontains=number)
        .select_related("customer")
        .order_by("-paid_at")[:limit]
    )


def reply_values(case: Case, user) -> dict:
    """Return the values quick-reply placeholders are filled with for ``case``."""
    offer = case.accepted_offer
    voucher = getattr(offer, "voucher", None) if offer is not None else None
    customer = case.customer
    return {
        "customer": customer.display_name or customer.buyer_id,
        "order": case.order.number if case.order_id else "",
        "case": case.number,
        "voucher_code": voucher.code if voucher is not None else "",
        "amount": f"{offer.amount:.2f}" if offer is not None and offer.amount else "",
        "agent": display_name(user),
    }


def by_id(queryset: QuerySet, value):
    """The row of ``queryset`` whose id is ``value`` as a page or a form sent
    it (text), or None when there is none or ``value`` is not an id at all:
    a typed "x" must not reach the database as a key."""
    try:
        key = int(value)
    except (TypeError, ValueError):
        return None
    if not 0 < key < 2**63:
        return None
    return queryset.filter(pk=key).first()


def active_quick_reply(value):
    """The active quick reply (reply template) a form chose by id, or None."""
    return by_id(ReplyTemplate.objects.filter(active=True), value)


def reviews_to_open(*, limit: int = 10) -> QuerySet:
    """Return recent medium and negative reviews that have no open case yet."""

    return (
        Review.objects.filter(rating__lte=3)
        .exclude(open_q("cases__"))
        .select_related("customer")
        .order_by("-posted_at")[:limit]
    )

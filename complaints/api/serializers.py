"""What the API returns (read side) and the shapes of its inputs.

Output serialisers only read; inputs that are pages' forms elsewhere are
validated by those forms (see ``forms``). The input serialisers here check
the shape of a body (types, required keys); the domain rules stay in the
workflow and import functions they feed.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import (
    Case,
    CaseEvent,
    CaseSource,
    CaseState,
    Customer,
    Marketplace,
    Offer,
    Order,
    OrderItem,
    Priority,
    Review,
    Voucher,
    VoucherStatus,
)
from ..models.common import (
    MONEY_DIGITS,
    MONEY_MAX,
    implausible_date,
    validate_plausible_year,
)


class MomentField(serializers.DateTimeField):
    """An input date and time: refused outside the years people and
    marketplaces use (``validate_plausible_year``), and refused cleanly where
    DRF's own conversion to the shop's time zone overflows (year 1 or 9999)."""

    def __init__(self, **kwargs):
        kwargs["validators"] = [*kwargs.get("validators", ()), validate_plausible_year]
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        try:
            return super().to_internal_value(value)
        except OverflowError as error:
            raise implausible_date() from error


def _username():
    return serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)


class CustomerSerializer(serializers.ModelSerializer):
    phone = serializers.SerializerMethodField(
        help_text=_("Masked unless the caller works the case.")
    )

    class Meta:
        model = Customer
        fields = ["marketplace", "buyer_id", "display_name", "phone", "motive", "temperament"]

    def get_phone(self, customer) -> str:
        return customer.phone if self.context.get("show_phone") else customer.masked_phone


class OrderItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderItem
        fields = ["sku", "title", "quantity", "unit_price", "supplier"]


class OrderSerializer(serializers.ModelSerializer):
    customer = serializers.SlugRelatedField(slug_field="buyer_id", read_only=True)
    items = OrderItemSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "marketplace", "number", "customer", "paid_total", "paid_at", "shipped_at",
            "delivered_at", "courier", "tracking_number", "items",
        ]  # fmt: skip


class ReviewSerializer(serializers.ModelSerializer):
    order = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True)
    customer = serializers.SlugRelatedField(slug_field="buyer_id", read_only=True)
    review_id = serializers.CharField(source="external_id", read_only=True)

    class Meta:
        model = Review
        fields = [
            "marketplace", "review_id", "order", "customer", "sku", "rating", "text",
            "has_photos", "posted_at",
        ]  # fmt: skip


class OfferSerializer(serializers.ModelSerializer):
    proposed_by = _username()
    decided_by = _username()
    case = serializers.SlugRelatedField(slug_field="number", read_only=True)
    voucher = serializers.SerializerMethodField()
    policy_rule = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)

    class Meta:
        model = Offer
        fields = [
            "id", "case", "kind", "amount", "min_spend", "description", "reasoning",
            "policy_rule", "policy_note", "serial_complainant", "approval_status",
            "proposed_by", "proposed_at", "decided_by", "decided_at", "decision_note",
            "outcome", "accepted_at", "execution_reference", "executed_at", "voucher",
        ]  # fmt: skip

    def get_voucher(self, offer) -> str | None:
        voucher = getattr(offer, "voucher", None) if _has_voucher(offer) else None
        return voucher.code if voucher else None


def _has_voucher(offer) -> bool:
    try:
        return offer.voucher is not None
    except Voucher.DoesNotExist:
        return False


class VoucherSerializer(serializers.ModelSerializer):
    case = serializers.CharField(source="offer.case.number", read_only=True)
    customer = serializers.SlugRelatedField(slug_field="buyer_id", read_only=True)
    marketplace = serializers.CharField(source="customer.marketplace", read_only=True)
    redemption_order = serializers.SlugRelatedField(
        slug_field="number", read_only=True, allow_null=True
    )
    voided_by = _username()

    class Meta:
        model = Voucher
        fields = [
            "code", "case", "customer", "marketplace", "value", "min_spend", "valid_from",
            "valid_until", "status", "issued_at", "redeemed_at", "redemption_order",
            "redeemed_amount", "voided_at", "voided_by", "void_reason",
        ]  # fmt: skip


class EventSerializer(serializers.ModelSerializer):
    actor = _username()

    class Meta:
        model = CaseEvent
        fields = ["id", "created_at", "kind", "actor", "transition", "from_state", "to_state",
                  "payload"]  # fmt: skip


class CaseListSerializer(serializers.ModelSerializer):
    assignee = _username()
    customer = serializers.SlugRelatedField(slug_field="buyer_id", read_only=True)
    marketplace = serializers.CharField(source="customer.marketplace", read_only=True)
    order = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True)
    category = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Case
        fields = [
            "number", "state", "source", "priority", "summary", "customer", "marketplace",
            "order", "category", "assignee", "due_at", "created_at", "updated_at",
        ]  # fmt: skip


class StepSerializer(serializers.Serializer):
    name = serializers.CharField(help_text=_("POST /api/cases/{number}/transitions/{name}/"))
    label = serializers.CharField()
    blocked_by = serializers.ListField(
        child=serializers.CharField(),
        help_text=_("Conditions that do not hold yet; the step answers 409 until they do."),
    )


class ClockSerializer(serializers.Serializer):
    first_response_due = serializers.DateTimeField(allow_null=True)
    first_response_at = serializers.DateTimeField(allow_null=True)
    resolution_due = serializers.DateTimeField(allow_null=True)
    marketplace_due = serializers.DateTimeField(allow_null=True)
    marketplace_met_at = serializers.DateTimeField(allow_null=True)
    waiting_since = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)


class CaseSerializer(CaseListSerializer):
    """A case with everything linked to it, as its page shows it."""

    opened_by = _username()
    customer = serializers.SerializerMethodField()
    order = serializers.SerializerMethodField()
    review = serializers.SerializerMethodField()
    root_cause = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    deadlines = serializers.SerializerMethodField()
    offers = serializers.SerializerMethodField()
    vouchers = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()
    available_transitions = serializers.SerializerMethodField()

    class Meta(CaseListSerializer.Meta):
        fields = [
            *CaseListSerializer.Meta.fields,
            "demand", "description", "severity", "responsible_party", "opened_by", "review",
            "deadlines", "customer_satisfied", "satisfaction_score", "satisfaction_comment",
            "root_cause", "root_cause_sku", "root_cause_courier", "root_cause_supplier",
            "root_cause_party", "corrective_action", "cancel_reason", "closed_at",
            "reopen_count", "compensation_cost", "offers", "vouchers", "events",
            "available_transitions",
        ]  # fmt: skip

    @extend_schema_field(CustomerSerializer)
    def get_customer(self, case):
        return CustomerSerializer(case.customer, context=self.context).data

    @extend_schema_field(OrderSerializer(allow_null=True))
    def get_order(self, case):
        return OrderSerializer(case.order).data if case.order_id else None

    @extend_schema_field(ReviewSerializer(allow_null=True))
    def get_review(self, case):
        return ReviewSerializer(case.review).data if case.review_id else None

    @extend_schema_field(ClockSerializer)
    def get_deadlines(self, case):
        return ClockSerializer(case).data

    @extend_schema_field(OfferSerializer(many=True))
    def get_offers(self, case):
        return OfferSerializer(self.context["offers"], many=True).data

    @extend_schema_field(VoucherSerializer(many=True))
    def get_vouchers(self, case):
        return VoucherSerializer(self.context["vouchers"], many=True).data

    @extend_schema_field(EventSerializer(many=True))
    def get_events(self, case):
        return EventSerializer(self.context["events"], many=True).data

    @extend_schema_field(StepSerializer(many=True))
    def get_available_transitions(self, case):
        return [
            {"name": step.name, "label": str(step.label), "blocked_by": unmet}
            for step, unmet in self.context["steps"]
        ]


# Inputs ---------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False
    )


class NewCaseSerializer(serializers.Serializer):
    """Open a case: from an order, a review, or for a customer by nickname."""

    order_number = serializers.CharField(max_length=64, required=False)
    review_id = serializers.CharField(
        max_length=64, required=False, help_text=_("The marketplace's review id.")
    )
    marketplace = serializers.ChoiceField(
        choices=Marketplace.choices,
        required=False,
        help_text=_("Needed with buyer_id; narrows order_number and review_id."),
    )
    buyer_id = serializers.CharField(max_length=100, required=False)
    source = serializers.ChoiceField(choices=CaseSource.choices)
    summary = serializers.CharField(max_length=200)
    demand = serializers.CharField(required=False, allow_blank=True)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    marketplace_due = MomentField(required=False, allow_null=True)


class OrderItemInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    title = serializers.CharField(max_length=200)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)
    unit_price = serializers.DecimalField(
        max_digits=MONEY_DIGITS, decimal_places=2, min_value=0, max_value=MONEY_MAX
    )
    supplier = serializers.CharField(max_length=100, required=False, allow_blank=True)


class OrderInputSerializer(serializers.Serializer):
    marketplace = serializers.ChoiceField(choices=Marketplace.choices)
    order_number = serializers.CharField(max_length=64)
    buyer_id = serializers.CharField(max_length=100)
    buyer_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    paid_total = serializers.DecimalField(
        max_digits=MONEY_DIGITS, decimal_places=2, max_value=MONEY_MAX
    )
    paid_at = MomentField()
    shipped_at = MomentField(required=False, allow_null=True)
    delivered_at = MomentField(required=False, allow_null=True)
    courier = serializers.CharField(max_length=50, required=False, allow_blank=True)
    tracking_number = serializers.CharField(max_length=64, required=False, allow_blank=True)
    items = OrderItemInputSerializer(many=True, allow_empty=False, max_length=500)


class ReviewInputSerializer(serializers.Serializer):
    marketplace = serializers.ChoiceField(choices=Marketplace.choices)
    review_id = serializers.CharField(max_length=64)
    order_number = serializers.CharField(max_length=64)
    buyer_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    sku = serializers.CharField(max_length=64, required=False, allow_blank=True)
    rating = serializers.IntegerField(min_value=1, max_value=5)
    text = serializers.CharField()
    has_photos = serializers.BooleanField(required=False, default=False)
    posted_at = MomentField()


class ReviewResultSerializer(ReviewSerializer):
    case = serializers.CharField(
        allow_null=True, help_text=_("The review's case, if it has one (opened now or before).")
    )

    class Meta(ReviewSerializer.Meta):
        fields = [*ReviewSerializer.Meta.fields, "case"]


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True)


class RedeemSerializer(serializers.Serializer):
    order_number = serializers.CharField(max_length=64)
    amount = serializers.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text=_("The order value the voucher is applied to (default: the order's total)."),
    )


class VoucherQuerySerializer(serializers.Serializer):
    customer = serializers.CharField(required=False, help_text=_("The buyer's nickname."))
    status = serializers.MultipleChoiceField(choices=VoucherStatus.choices, required=False)


STATES = CaseState

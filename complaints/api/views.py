"""The API's endpoints. Each parses its input, calls one workflow function
(or runs one page step through its form) and returns the result; errors
are mapped in ``errors.exception_handler``."""

from django.core.exceptions import PermissionDenied
from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import generics, serializers
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
)
from rest_framework.pagination import BasePagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from casetracker.database import without_statement_timeout

from .. import imports, workflow
from ..exports import GROUP_BY
from ..filters import CaseFilter, VoucherFilter
from ..forms import NewCaseForm, RedeemForm, ReportForm
from ..models import Case, Offer, Order, OrderItem, Review, Voucher
from ..models.case_rules import may_list_queue
from ..paging import CASE_SORTS, capped_count, keyset_page
from ..queries import (
    LEDGER_SORT,
    QUEUES,
    case_for_page,
    case_offers,
    case_queue,
    case_timeline,
    voucher_ledger,
)
from ..queries.reports import pareto, report_cases, top
from ..queries.search import customers_with_buyer_id
from ..steps import STEPS, STEPS_BY_NAME, available_steps, require_available
from ..workflow._base import CaseChanged
from . import permissions, throttles
from .forms import form_data, form_serializer, validated
from .idempotency import idempotent
from .serializers import (
    CaseListSerializer,
    CaseSerializer,
    DecisionSerializer,
    ErrorSerializer,
    NewCaseSerializer,
    OfferSerializer,
    OrderInputSerializer,
    OrderSerializer,
    RedeemSerializer,
    ReviewInputSerializer,
    ReviewResultSerializer,
    VoucherSerializer,
)

IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=_(
        "Repeat a POST safely: the same key and body returns the first response; "
        "the same key with another body is refused (422)."
    ),
)


def _errors(*statuses) -> dict:
    descriptions = {
        400: _("Invalid input (see errors)."),
        401: _("Not authenticated."),
        403: _("Not allowed for this user."),
        404: _("Not found."),
        409: _("Not possible now: wrong state, an unmet condition, or changed meanwhile."),
        413: _("The request body is too large."),
        415: _("Unsupported media type."),
        422: _("The Idempotency-Key was used with another request."),
        429: _("Too many calls from this user: wait the seconds in Retry-After."),
    }
    return {
        status: OpenApiResponse(ErrorSerializer, description=descriptions[status])
        for status in (401, *statuses, 429)
    }


POST_ERRORS = (400, 403, 404, 409, 413, 415, 422)


class KeysetPages(BasePagination):
    """Keyset pages (complaints/paging.py): ``next`` and ``previous`` are
    links with an opaque ``cursor``; ``count`` stops at 1000
    (``count_capped``), so a long list never costs a full COUNT(*) and a
    deep page no OFFSET. Each list says its order (``sort_for``)."""

    page_size = 25
    max_page_size = 100

    def sort_for(self, request):
        raise NotImplementedError

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        try:
            size = int(request.query_params.get("page_size", self.page_size))
        except ValueError:
            size = self.page_size
        size = max(1, min(size, self.max_page_size))
        cursor = request.query_params.get("cursor", "")
        direction, _, key = cursor.partition(":")
        self.page = keyset_page(
            queryset,
            self.sort_for(request),
            after=key if direction == "n" else None,
            before=key if direction == "p" else None,
            size=size,
        )
        searched = getattr(view, "filterset", None)
        self.count, self.capped = capped_count(
            queryset, known_beyond=getattr(searched, "searched_beyond_cap", False)
        )
        return self.page.items

    def _link(self, direction, key):
        if not key:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, "cursor", f"{direction}:{key}")

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.count,
                "count_capped": self.capped,
                "next": self._link("n", self.page.next_cursor),
                "previous": self._link("p", self.page.previous_cursor),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["count", "count_capped", "next", "previous", "results"],
            "properties": {
                "count": {"type": "integer", "description": "At most 1000."},
                "count_capped": {"type": "boolean", "description": "More than count."},
                "next": link,
                "previous": link,
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "cursor",
                "in": "query",
                "required": False,
                "description": "From a previous answer's next or previous link.",
                "schema": {"type": "string"},
            },
            {
                "name": "page_size",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": 100},
            },
        ]


# Cases --------------------------------------------------------------------------


def load_case(number: str) -> Case:
    try:
        return case_for_page(number)
    except Case.DoesNotExist as exc:
        raise Http404(_("No case %(number)s.") % {"number": number}) from exc


def case_response(request, case: Case | str, status: int = 200) -> Response:
    """The case as its page shows it, for the caller: ``case`` is a number,
    or a case just written (read again, with what its page shows)."""
    case = load_case(case if isinstance(case, str) else case.number)
    user = request.user
    context = {
        "show_phone": case.assignee_id == user.pk or user.has_perm("complaints.reassign_case"),
        "offers": list(case_offers(case)),
        "vouchers": list(
            Voucher.objects.filter(offer__case=case).select_related(
                "offer__case", "customer", "redemption_order", "voided_by"
            )
        ),
        "events": list(case_timeline(case)),
        "steps": available_steps(case, user),
    }
    return Response(CaseSerializer(case, context=context).data, status=status)


def _order_by_number(number: str, marketplace: str | None, field: str) -> Order:
    orders = list(
        Order.objects.filter(
            number=number, **({"marketplace": marketplace} if marketplace else {})
        ).select_related("customer")[:2]
    )
    if not orders:
        raise serializers.ValidationError({field: [_("No order %(number)s.") % {"number": number}]})
    if len(orders) > 1:
        raise serializers.ValidationError(
            {field: [_("Several marketplaces have this order number: give the marketplace.")]}
        )
    return orders[0]


class KeptFilterBackend(DjangoFilterBackend):
    """django-filter's backend, keeping the view's FilterSet on the view:
    the list's pages read from it whether the search already found more
    than the count's cap (``searched_beyond_cap``)."""

    def get_filterset(self, request, queryset, view):
        view.filterset = super().get_filterset(request, queryset, view)
        return view.filterset

    def get_filterset_kwargs(self, request, queryset, view):
        """django-filter's, and what the view adds (``filterset_options``)."""
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        options = getattr(view, "filterset_options", None)
        return kwargs | options() if options else kwargs


class CasePages(KeysetPages):
    """The case list's pages, in the order ``sort`` names (due by default)."""

    def sort_for(self, request):
        return CASE_SORTS.get(request.query_params.get("sort"), CASE_SORTS["due"])


class VoucherPages(KeysetPages):
    """The ledger's pages, newest first (at 1M cases a page number counted
    840k vouchers for every page, and a deep one skipped its way there)."""

    def sort_for(self, request):
        return LEDGER_SORT


class CaseListView(generics.GenericAPIView):
    """Cases as the queues list them; open a case."""

    permission_classes = [permissions.WorksCases]
    serializer_class = CaseListSerializer
    pagination_class = CasePages
    filter_backends = [KeptFilterBackend]
    filterset_class = CaseFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Case.objects.none()
        user = self.request.user
        default = "all" if user.has_perm("complaints.view_team") else "mine"
        queue = self.request.query_params.get("queue") or default
        if queue not in QUEUES:
            raise serializers.ValidationError(
                {"queue": [_("Choose one of: %(queues)s.") % {"queues": ", ".join(QUEUES)}]}
            )
        if not may_list_queue(queue, user):
            raise PermissionDenied(_("Only supervisors list the whole team's cases."))
        self.queue = queue
        return case_queue(queue, user=user)

    def filterset_options(self):
        """A queue of open cases filters by the open states alone (as the
        queue pages do: CaseFilter's ``open_only``)."""
        return {"open_only": getattr(self, "queue", "all") != "all"}

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "queue",
                OpenApiTypes.STR,
                enum=list(QUEUES),
                description=_("Default: all (supervisors), mine (agents)."),
            )
        ],
        responses={200: CaseListSerializer(many=True), **_errors(400, 403, 404)},
    )
    def get(self, request):
        cases = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(cases)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request=NewCaseSerializer,
        parameters=[IDEMPOTENCY],
        responses={201: CaseSerializer, **_errors(*POST_ERRORS)},
    )
    @idempotent
    def post(self, request):
        shape = NewCaseSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        given = shape.validated_data
        data = {
            key: value
            for key, value in request.data.items()
            if key in NewCaseForm.base_fields and key not in ("order", "review")
        }
        marketplace = given.get("marketplace")
        if given.get("order_number"):
            data["order"] = _order_by_number(given["order_number"], marketplace, "order_number").pk
        if given.get("review_id"):
            reviews = Review.objects.filter(external_id=given["review_id"])
            review = (reviews.filter(marketplace=marketplace) if marketplace else reviews).first()
            if review is None:
                raise serializers.ValidationError({"review_id": [_("No such review.")]})
            data["review"] = review.pk
        form = NewCaseForm(form_data(data, NewCaseForm, unbound=NewCaseForm()))
        fields = validated(form)
        case = workflow.case_open(actor=request.user, **fields)
        return case_response(request, case, status=201)


class CaseDetailView(APIView):
    permission_classes = [permissions.WorksCases]

    @extend_schema(responses={200: CaseSerializer, **_errors(403, 404)})
    def get(self, request, number):
        return case_response(request, number)


def take_step(request, number: str, step_name: str):
    """Run page step ``step_name`` on case ``number`` with the request's body.

    The same checks in the same order as the page: may this user take the
    step at all (403), is it possible in this state (409), is the caller's
    copy current (``expected_state``, 409), is the input valid (400); the
    workflow function then decides the rest.
    """
    case = load_case(number)
    step = STEPS_BY_NAME.get(step_name) or next(
        (step for step in STEPS if step.transition == step_name), None
    )
    if step is None:
        raise Http404(
            _("No step %(name)s. Steps: %(steps)s.")
            % {"name": step_name, "steps": ", ".join(STEPS_BY_NAME)}
        )
    user = request.user
    require_available(step, case, user)
    payload = request.data
    expected = payload.get("expected_state") if hasattr(payload, "get") else None
    if expected and expected != case.state:
        raise CaseChanged(
            _("This case changed meanwhile (it is now “%(state)s”): reload it and try again.")
            % {"state": case.get_state_display()}
        )
    data = form_data(payload, step.form_class, unbound=step.form(case, user))
    form = step.form(case, user, data, request.FILES or None)
    return case, step.run(case, user, validated(form))


def _step_body(step, *, files: bool = False) -> type[serializers.Serializer]:
    name = "".join(part.title() for part in step.name.split("_")) + "Step"
    return form_serializer(
        step.form_class,
        name + ("Upload" if files else ""),
        files=files,
        extra={
            "expected_state": serializers.CharField(
                required=False,
                help_text=_("The state the caller saw; a different one answers 409."),
            )
        },
    )


STEP_BODIES = {step.name: _step_body(step) for step in STEPS}


class TransitionView(APIView):
    """Files go to the evidence endpoint (multipart); steps take JSON."""

    permission_classes = [permissions.WorksCases]

    @extend_schema(
        operation_id="cases_transition",
        parameters=[
            OpenApiParameter(
                "name", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(STEPS_BY_NAME)
            ),
            IDEMPOTENCY,
        ],
        request=PolymorphicProxySerializer(
            component_name="StepInput",
            serializers=list(STEP_BODIES.values()),
            resource_type_field_name=None,
        ),
        responses={200: CaseSerializer, **_errors(*POST_ERRORS)},
        description=_(
            "Take one step of the routine (the case's available_transitions): "
            "the step's fields as on its page."
        ),
    )
    @idempotent
    def post(self, request, number, name):
        case, _result = take_step(request, number, name)
        return case_response(request, case)


def _sub_resource(step_name: str, *, parsers=(JSONParser,), summary: str):
    """An endpoint that runs one page step and answers 201 with the case."""
    files = MultiPartParser in parsers
    body = _step_body(STEPS_BY_NAME[step_name], files=True) if files else STEP_BODIES[step_name]

    class StepView(APIView):
        permission_classes = [permissions.WorksCases]
        parser_classes = list(parsers)

        @extend_schema(
            operation_id=f"cases_{step_name}",
            request={
                "multipart/form-data" if MultiPartParser in parsers else "application/json": body
            },
            parameters=[IDEMPOTENCY],
            responses={201: CaseSerializer, **_errors(*POST_ERRORS)},
            summary=summary,
        )
        @idempotent
        def post(self, request, number):
            case, _result = take_step(request, number, step_name)
            return case_response(request, case, status=201)

    StepView.__name__ = StepView.__qualname__ = f"{body.__name__}View"
    return StepView


ContactView = _sub_resource("record_contact", summary=_("Record a contact with the customer"))
NoteView = _sub_resource("add_note", summary=_("Add an internal note"))
EvidenceView = _sub_resource(
    "add_evidence", parsers=(MultiPartParser, FormParser), summary=_("Attach a photo or file")
)


class OfferCreateView(APIView):
    permission_classes = [permissions.WorksCases]

    @extend_schema(
        request=STEP_BODIES["propose_offer"],
        parameters=[IDEMPOTENCY],
        responses={201: OfferSerializer, **_errors(*POST_ERRORS)},
        summary=_("Propose an offer (checked against the compensation policy)"),
    )
    @idempotent
    def post(self, request, number):
        _case, offer = take_step(request, number, "propose_offer")
        return Response(OfferSerializer(offer).data, status=201)


def _decision_view(approve: bool):
    class DecisionView(APIView):
        permission_classes = [permissions.DecidesOffers]

        @extend_schema(
            operation_id="offers_approve" if approve else "offers_reject",
            request=DecisionSerializer,
            parameters=[IDEMPOTENCY],
            responses={200: OfferSerializer, **_errors(*POST_ERRORS)},
            summary=_("Approve an offer outside policy")
            if approve
            else _("Reject an offer outside policy (say why)"),
        )
        @idempotent
        def post(self, request, pk):
            shape = DecisionSerializer(data=request.data)
            shape.is_valid(raise_exception=True)
            offer = get_object_or_404(Offer.objects.select_related("case"), pk=pk)
            decide = workflow.offer_approve if approve else workflow.offer_reject
            offer = decide(
                offer=offer, actor=request.user, note=shape.validated_data.get("note", "")
            )
            offer = Offer.objects.select_related(
                "case", "proposed_by", "decided_by", "policy_rule"
            ).get(pk=offer.pk)
            return Response(OfferSerializer(offer).data)

    DecisionView.__name__ = DecisionView.__qualname__ = (
        "OfferApproveView" if approve else "OfferRejectView"
    )
    return DecisionView


OfferApproveView = _decision_view(approve=True)
OfferRejectView = _decision_view(approve=False)


# Orders and reviews ------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _refused(report) -> serializers.ValidationError:
    return serializers.ValidationError(
        {"non_field_errors": [message for _line, message in report.errors]}
    )


class OrderUpsertView(APIView):
    permission_classes = [permissions.AddsOrders]

    @extend_schema(
        request=OrderInputSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: OrderSerializer, 201: OrderSerializer, **_errors(*POST_ERRORS)},
        summary=_("Create or update an order (by marketplace and order number) with its items"),
    )
    @idempotent
    def post(self, request):
        shape = OrderInputSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        order = dict(shape.validated_data)
        items = order.pop("items")
        skus = [item["sku"] for item in items]
        if len(set(skus)) != len(skus):
            raise serializers.ValidationError({"items": [_("Each SKU may appear once.")]})
        existed = Order.objects.filter(
            marketplace=order["marketplace"], number=order["order_number"]
        ).exists()
        lines = [{name: _text(value) for name, value in (order | item).items()} for item in items]
        report = imports.upsert_orders(lines)
        if report.errors:
            raise _refused(report)
        saved = (
            Order.objects.select_related("customer")
            .prefetch_related(Prefetch("items", OrderItem.objects.order_by("id")))
            .get(marketplace=order["marketplace"], number=order["order_number"])
        )
        return Response(OrderSerializer(saved).data, status=200 if existed else 201)


class ReviewUpsertView(APIView):
    permission_classes = [permissions.AddsReviews]

    @extend_schema(
        request=ReviewInputSerializer,
        parameters=[IDEMPOTENCY],
        responses={
            200: ReviewResultSerializer,
            201: ReviewResultSerializer,
            **_errors(*POST_ERRORS),
        },
        summary=_(
            "Create or update a review (by marketplace review id); a medium or "
            "negative one opens a case, once"
        ),
    )
    @idempotent
    def post(self, request):
        shape = ReviewInputSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        review = dict(shape.validated_data)
        existed = Review.objects.filter(
            marketplace=review["marketplace"], external_id=review["review_id"]
        ).exists()
        line = {name: _text(value) for name, value in review.items()}
        line["has_photos"] = "yes" if review.get("has_photos") else "no"
        report = imports.upsert_reviews([line])
        if report.errors:
            raise _refused(report)
        saved = Review.objects.select_related("order", "customer").get(
            marketplace=review["marketplace"], external_id=review["review_id"]
        )
        saved.case = (
            Case.objects.filter(review=saved)
            .order_by("-created_at")
            .values_list("number", flat=True)
            .first()
        )
        return Response(ReviewResultSerializer(saved).data, status=200 if existed else 201)


# Vouchers --------------------------------------------------------------------------


class VoucherListView(generics.ListAPIView):
    permission_classes = [permissions.ReadsLedger]
    serializer_class = VoucherSerializer
    pagination_class = VoucherPages
    filter_backends = [KeptFilterBackend]
    filterset_class = VoucherFilter

    def get_queryset(self):
        vouchers = voucher_ledger().select_related("redemption_order", "voided_by")
        customer = self.request.query_params.get("customer", "").strip()
        if "\x00" in customer:  # PostgreSQL cannot compare it: refused like a form field
            raise serializers.ValidationError(
                {"customer": [ProhibitNullCharactersValidator.message]}
            )
        if customer:
            vouchers = vouchers.filter(customer__in=customers_with_buyer_id(customer))
        return vouchers

    @extend_schema(
        parameters=[
            OpenApiParameter("customer", OpenApiTypes.STR, description=_("The buyer's nickname."))
        ],
        responses={200: VoucherSerializer(many=True), **_errors(400, 403, 404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def _voucher(code: str) -> Voucher:
    return get_object_or_404(
        voucher_ledger().select_related("redemption_order", "voided_by"), code=code.upper()
    )


class VoucherDetailView(APIView):
    permission_classes = [permissions.ReadsLedger]

    @extend_schema(responses={200: VoucherSerializer, **_errors(403, 404)})
    def get(self, request, code):
        return Response(VoucherSerializer(_voucher(code)).data)


class VoucherRedeemView(APIView):
    permission_classes = [permissions.RedeemsVouchers]

    @extend_schema(
        request=RedeemSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: VoucherSerializer, **_errors(*POST_ERRORS)},
        summary=_("Record that the customer used the voucher on an order"),
        description=_(
            "409 with code below_min_spend, expired, void, redeemed, not_yet_valid "
            "or other_customer when the voucher cannot be used."
        ),
    )
    @idempotent
    def post(self, request, code):
        voucher = _voucher(code)
        # The page's form finds the order (the voucher's customer's first).
        form = RedeemForm(form_data(request.data, RedeemForm), voucher=voucher)
        fields = validated(form)
        workflow.voucher_redeem(
            voucher=voucher, actor=request.user, order=fields["order"], amount=fields["amount"]
        )
        return Response(VoucherSerializer(_voucher(code)).data)


# Reports ----------------------------------------------------------------------------


class ReportRowSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    label_zh = serializers.CharField()
    count = serializers.IntegerField()
    share = serializers.FloatField()
    cumulative = serializers.FloatField()
    compensation = serializers.DecimalField(max_digits=14, decimal_places=2)


ReportSerializer = type(
    "RootCauseReport",
    (serializers.Serializer,),
    {
        "from": serializers.DateField(),
        "to": serializers.DateField(),
        "group_by": serializers.ChoiceField(choices=list(GROUP_BY)),
        "total": serializers.IntegerField(),
        "rows": ReportRowSerializer(many=True),
    },
)


class RootCauseReportView(APIView):
    permission_classes = [permissions.ReadsReports]
    throttle_classes = [throttles.PerUser, throttles.Reports]

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, required=True),
            OpenApiParameter("to", OpenApiTypes.DATE, required=True),
            OpenApiParameter("group_by", OpenApiTypes.STR, enum=list(GROUP_BY)),
            OpenApiParameter("category", OpenApiTypes.STR),
            OpenApiParameter("source", OpenApiTypes.STR),
        ],
        responses={200: ReportSerializer, **_errors(400, 403)},
        summary=_("Root causes of the cases opened in a period (Pareto)"),
    )
    @method_decorator(without_statement_timeout)
    def get(self, request):
        params = request.query_params
        group_by = params.get("group_by") or "leaf"
        if group_by not in GROUP_BY:
            raise serializers.ValidationError(
                {"group_by": [_("Choose one of: %(choices)s.") % {"choices": ", ".join(GROUP_BY)}]}
            )
        data = {
            "start": params.get("from", ""),
            "end": params.get("to", ""),
            **{key: params[key] for key in ("category", "sku", "courier", "supplier", "source")
               if key in params},
        }  # fmt: skip
        form = ReportForm(form_data(data, ReportForm))
        filters = validated(form)
        cases = report_cases(**filters)
        kind, field = GROUP_BY[group_by]
        rows = (
            pareto(cases, level=kind)
            if kind in ("leaf", "group")
            else top(cases, field, limit=None)
        )
        return Response(
            {
                "from": filters["start"],
                "to": filters["end"],
                "group_by": group_by,
                "total": sum(row.count for row in rows),
                "rows": [
                    {
                        "key": row.key,
                        "label": row.label,
                        "label_zh": row.label_zh,
                        "count": row.count,
                        "share": round(row.share, 4),
                        "cumulative": round(row.cumulative, 4),
                        "compensation": f"{row.cost:.2f}",
                    }
                    for row in rows
                ],
            }
        )


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
@permission_classes([AllowAny])
@authentication_classes([])
def not_found(request, rest=""):
    """Any other address under /api/: a JSON 404, like every API error."""
    return Response(
        {
            "detail": _("No such API endpoint: %(path)s") % {"path": request.path},
            "code": "not_found",
        },
        status=404,
    )

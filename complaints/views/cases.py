"""The case page, its steps, and opening a new case."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from .. import workflow
from ..forms import NewCaseForm, OrderLookupForm
from ..models import Case, Order, Review
from ..models.case_rules import may_claim_case
from ..queries import (
    by_id,
    case_for_page,
    case_offers,
    case_timeline,
    customer_history,
    reviews_to_open,
    search_orders,
)
from ..steps import STEPS_BY_NAME, add_validation_errors, available_steps
from ..workflow import offer_allowances
from ..workflow.offers import PROPOSAL_STATES
from .errors import sends_form
from .redirects import back
from .stepping import process_step


def _require_worker(user):
    if not user.has_perm("complaints.work_case"):
        raise PermissionDenied


def _load(number):
    try:
        return case_for_page(number)
    except Case.DoesNotExist as exc:
        raise Http404(_("No case %(number)s.") % {"number": number}) from exc


def case_context(request, case):
    user = request.user
    history = customer_history(case)
    steps = available_steps(case, user)
    return {
        "case": case,
        "now": timezone.now(),
        "history": history,
        "allowances": offer_allowances(case) if case.state in PROPOSAL_STATES else [],
        # Kept on the case when its remedy is executed (the reports sum it).
        "compensation": case.compensation_cost,
        "offers": list(case_offers(case)),
        "events": list(case_timeline(case)),
        "evidence": list(case.evidence.all()),
        "order_items": list(case.order.items.all()) if case.order_id else [],
        "show_phone": case.assignee_id == user.pk or user.has_perm("complaints.reassign_case"),
        "buttons": [(s, unmet) for s, unmet in steps if s.form_class.__name__ == "EmptyStepForm"],
        "step_links": [
            (s, unmet) for s, unmet in steps if s.form_class.__name__ != "EmptyStepForm"
        ],
        "can_take": case.is_open and may_claim_case(case, user),
    }


@login_required
def case_detail(request, number):
    _require_worker(request.user)
    case = _load(number)
    context = case_context(request, case)
    if request.htmx:
        return render(request, "complaints/case_detail.html#case_main", context)
    return render(request, "complaints/case_detail.html", context)


@login_required
@sends_form(lambda kwargs: getattr(STEPS_BY_NAME.get(kwargs["step_name"]), "form_class", None))
def case_step(request, number, step_name):
    """A step's form: a panel on the case page (htmx) or a page of its own."""
    _require_worker(request.user)
    case = _load(number)
    step = STEPS_BY_NAME.get(step_name)
    if step is None:
        raise Http404(_("No such step."))
    result = process_step(request, case, step)
    if result.done:
        messages.success(request, _("%(step)s: done.") % {"step": step.label})
        if request.htmx:
            case = _load(number)
            response = render(
                request, "complaints/case_detail.html#case_main", case_context(request, case)
            )
            response["HX-Retarget"] = "#case-main"
            response["HX-Reswap"] = "outerHTML"
            return response
        return redirect(case.get_absolute_url())
    if result.status == 409 and result.error:
        case = _load(number)  # show the case as it is now; the typed text stays
        if request.method == "POST":
            result.form = step.form(
                case, request.user, initial={k: request.POST.get(k) for k in result.form.fields}
            )
        if request.htmx:  # redraw the whole case, with the form open in its panel
            context = case_context(request, case) | {
                "open_step": step,
                "open_form": result.form,
                "open_error": result.error,
            }
            response = render(request, "complaints/case_detail.html#case_main", context, status=409)
            response["HX-Retarget"] = "#case-main"
            response["HX-Reswap"] = "outerHTML"
            return response
    context = {"case": case, "step": step, "form": result.form, "error": result.error}
    template = "complaints/step.html"
    if request.htmx:
        template += "#step_form"
    return render(request, template, context, status=result.status)


@login_required
@require_POST
def take_case(request, number):
    """Assign to me: from the queue or the case page."""
    _require_worker(request.user)
    case = get_object_or_404(Case, number=number)
    try:
        workflow.case_assign(case=case, assignee=request.user, actor=request.user)
    except (ValidationError, TransitionNotAllowed, ConcurrentTransition) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        status = 400 if isinstance(error, ValidationError) else 409
        if request.htmx:
            return HttpResponse(status=status, headers={"HX-Refresh": "true"})
        return back(request, case)
    messages.success(request, _("Case %(number)s is now yours.") % {"number": case.number})
    if request.htmx:
        return HttpResponse(headers={"HX-Refresh": "true"})
    return back(request, case)


@login_required
@sends_form(NewCaseForm)
def new_case(request):
    """Open a case from an order (looked up by number), a review, or by hand."""
    _require_worker(request.user)
    lookup = OrderLookupForm(request.GET or None)
    orders = search_orders(lookup.cleaned_data["number"]) if lookup.is_valid() else []
    order = review = None
    if request.GET.get("order"):
        order = by_id(Order.objects.select_related("customer"), request.GET["order"])
        if order is None:
            raise Http404(_("No such order."))
    if request.GET.get("review"):
        review = by_id(Review.objects.select_related("customer", "order"), request.GET["review"])
        if review is None:
            raise Http404(_("No such review."))
        order = review.order
    initial = {"order": order, "review": review}
    if review is not None:
        initial.update(customer=review.customer, source="review", summary=review.text[:200])
    elif order is not None:
        initial["customer"] = order.customer
    form = NewCaseForm(request.POST or None, initial=initial)
    if order is not None or review is not None:
        for name in ("marketplace", "buyer_id"):
            form.fields[name].widget = forms.HiddenInput()
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                case = workflow.case_open(actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_validation_errors(form, error)
            else:
                messages.success(request, _("Case %(number)s opened.") % {"number": case.number})
                return redirect(case.get_absolute_url())
    template = "complaints/new_case.html"
    if request.htmx and request.method == "GET" and "number" in request.GET:
        template += "#order_results"
    return render(
        request,
        template,
        {
            "form": form,
            "lookup": lookup,
            "orders": orders,
            "order": order,
            "review": review,
            "reviews": [] if (order or review) else reviews_to_open(),
        },
        status=status,
    )

"""Supervisors: the approvals inbox, the team dashboard, bulk actions."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_fsm import TransitionNotAllowed

from .. import workflow
from ..filters import OfferFilter
from ..forms import BulkForm, DecisionForm
from ..models import Case, Offer
from ..paging import counted_page, list_query
from ..queries import (
    BOARD_STATUSES,
    attach_clock_states,
    deadline_cases,
    deadline_summary,
    pending_approval_count,
    pending_offers,
    team_overview,
)
from .errors import sends_form
from .redirects import back

PAGE_SIZE = 25


@login_required
@permission_required("complaints.approve_offer", raise_exception=True)
def approvals(request):
    """Pending off-policy offers, oldest first."""
    filterset = OfferFilter(request.GET or None, queryset=pending_offers())
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "complaints/approvals.html",
        {
            "filter": filterset,
            "page": page,
            "query": list_query(request.GET),
            "section": "approvals",
        },
        status=400 if filterset.is_bound and not filterset.is_valid() else 200,
    )


@login_required
@require_POST
@sends_form(DecisionForm)
def decide(request, pk, decision):
    """Approve or reject one offer from the inbox (a row swapped by htmx)."""
    if not request.user.has_perm("complaints.approve_offer"):
        raise PermissionDenied(_("Only a supervisor may approve or reject offers."))
    offer = get_object_or_404(Offer.objects.select_related("case", "proposed_by"), pk=pk)
    form = DecisionForm(request.POST)
    form.is_valid()
    note = form.cleaned_data.get("note", "")
    decide_offer = workflow.offer_approve if decision == "approve" else workflow.offer_reject
    status, error = 200, ""
    try:
        offer = decide_offer(offer=offer, actor=request.user, note=note)
    except PermissionDenied as denied:
        status, error = 403, str(denied)
    except ValidationError as invalid:
        status, error = 400, " ".join(invalid.messages)
    except TransitionNotAllowed as conflict:
        status, error = 409, str(conflict)
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(
                request,
                _("%(number)s: offer %(decision)s.")
                % {"number": offer.case.number, "decision": offer.get_approval_status_display()},
            )
        return back(request, "complaints:approvals")
    offer = pending_offers().filter(pk=offer.pk).first() or Offer.objects.select_related(
        "case__customer", "case__order", "proposed_by", "decided_by"
    ).get(pk=offer.pk)
    return render(
        request,
        "complaints/approvals.html#offer_row",
        {
            "offer": offer,
            "error": error,
            "form": form,
            "pending_count": pending_approval_count(request.user),
        },
        status=status,
    )


@login_required
@permission_required("complaints.view_team", raise_exception=True)
def team(request):
    return render(request, "complaints/team.html", {"team": team_overview(), "section": "team"})


@login_required
@permission_required("complaints.view_team", raise_exception=True)
def deadlines(request):
    """Open cases whose deadlines ran out or soon will, the earliest first."""
    status = request.GET.get("status", "")
    if status not in ("", *BOARD_STATUSES):
        return render(
            request,
            "complaints/deadlines.html",
            {"error": _("Unknown status."), "section": "deadlines", "status": ""},
            status=400,
        )
    now = timezone.now()
    summary = deadline_summary(now=now)
    page = counted_page(
        deadline_cases(status, now=now),
        request.GET.get("page"),
        per_page=PAGE_SIZE,
        count=summary.count(status),
    )
    page.object_list = attach_clock_states(page.object_list, now=now)
    return render(
        request,
        "complaints/deadlines.html",
        {
            "page": page,
            "summary": summary,
            "status": status,
            "query": f"status={status}" if status else "",
            "now": now,
            "section": "deadlines",
        },
    )


@login_required
@require_POST
@sends_form(BulkForm)
def bulk(request):
    """Assign the selected cases to an agent, or raise their priority."""
    if not request.user.has_perm("complaints.reassign_case"):
        raise PermissionDenied(_("Only a supervisor may change cases in bulk."))
    form = BulkForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
        return back(request, "complaints:home")
    cases = list(Case.objects.filter(number__in=form.cleaned_data["cases"]))
    if form.cleaned_data["action"] == BulkForm.ASSIGN:
        result = workflow.cases_bulk_assign(
            cases=cases, assignee=form.cleaned_data["assignee"], actor=request.user
        )
    else:
        result = workflow.cases_bulk_raise_priority(cases=cases, actor=request.user)
    messages.success(request, _("%(count)s cases changed.") % {"count": len(result.done)})
    for case, reason in result.skipped:
        messages.warning(request, f"{case.number}: {reason}")
    return back(request, "complaints:home")

"""The queues agents work from."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..filters import CaseFilter
from ..forms import BulkForm
from ..models.case_rules import may_list_queue
from ..paging import CASE_SORTS, capped_count, list_query, requested_page
from ..queries import QUEUES, case_queue, queue_listing

QUEUE_TITLES = {
    "mine": _("My cases"),
    "unassigned": _("Unassigned"),
    "open": _("All open cases"),
    "due": _("Due soon and overdue"),
    "all": _("All cases"),
}
PAGE_SIZE = 25


@login_required
def home(request):
    """The user's main queue: supervisors see the whole team's open cases."""
    if not may_list_queue("mine", request.user):
        raise PermissionDenied
    name = "open" if request.user.has_perm("complaints.view_team") else "mine"
    return redirect("complaints:queue", name=name)


@login_required
def queue(request, name):
    if name not in QUEUES:
        raise Http404
    if not may_list_queue(name, request.user):
        raise PermissionDenied
    data = request.GET.copy()
    data.setdefault("sort", "due")
    filterset = CaseFilter(
        data,
        queryset=case_queue(name, user=request.user),
        open_only=name != "all",
        by_assignee=name not in ("mine", "unassigned"),  # there the assignee is given
    )
    cases = filterset.qs
    sort = filterset.form.cleaned_data.get("sort") if filterset.is_valid() else None
    page = requested_page(request, queue_listing(cases), CASE_SORTS[sort or "due"], size=PAGE_SIZE)
    count, more = capped_count(cases, known_beyond=filterset.searched_beyond_cap)
    return render(
        request,
        "complaints/queue.html",
        {
            "queue": name,
            "title": QUEUE_TITLES[name],
            "filter": filterset,
            "page": page,
            "count": count,
            "count_capped": more,
            "query": list_query(request.GET),
            "now": timezone.now(),
            "queues": [(key, QUEUE_TITLES[key]) for key in QUEUES],
            "bulk_form": BulkForm() if request.user.has_perm("complaints.reassign_case") else None,
        },
        status=400 if filterset.is_bound and not filterset.is_valid() else 200,
    )

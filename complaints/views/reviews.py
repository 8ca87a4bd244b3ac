"""The review inbox and the shop's replies."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import workflow
from ..filters import ReviewFilter
from ..forms import ReplyForm
from ..models import Review, ReviewReply
from ..paging import list_query, requested_page
from ..queries import (
    INBOX_SORT,
    active_quick_reply,
    attach_reply_clocks,
    cases_latest_first,
    reply_windows,
    review_inbox,
    review_reply_values,
    shared_recovery_funnel,
)
from ..steps import add_validation_errors
from ..workflow import StepNotAllowed
from ..workflow.reviews import reply_version
from .errors import sends_form

PAGE_SIZE = 25


def _require_worker(user):
    if not user.has_perm("complaints.work_case"):
        raise PermissionDenied


@login_required
def inbox(request):
    _require_worker(request.user)
    filterset = ReviewFilter(request.GET or None, queryset=review_inbox())
    page = requested_page(request, filterset.qs, INBOX_SORT, size=PAGE_SIZE)
    page.items = attach_reply_clocks(page.items, windows=reply_windows())
    cleaned = filterset.form.cleaned_data if filterset.is_bound and filterset.is_valid() else {}
    end = cleaned.get("posted_to") or timezone.localdate()
    start = cleaned.get("posted_from") or end - timedelta(days=29)
    funnel, counted_at = shared_recovery_funnel(start=start, end=end)
    return render(
        request,
        "complaints/reviews.html",
        {
            "filter": filterset,
            "page": page,
            "query": list_query(request.GET),
            "funnel": funnel,
            "funnel_counted_at": counted_at,
            "now": timezone.now(),
            "section": "reviews",
        },
        status=400 if filterset.is_bound and not filterset.is_valid() else 200,
    )


@login_required
@sends_form(ReplyForm)
def review_detail(request, pk):
    """A review with its reply form: insert a quick reply, preview, save a
    draft or publish."""
    _require_worker(request.user)
    review = get_object_or_404(
        Review.objects.select_related("customer", "order", "reply__author"), pk=pk
    )
    reply = getattr(review, "reply", None)
    status, preview = 200, ""
    if request.method == "POST":
        form = ReplyForm(request.POST)
        if request.POST.get("_insert_reply"):
            template = active_quick_reply(request.POST.get("quick_reply"))
            typed = request.POST.get("text", "").rstrip()
            if template is not None:
                text = template.render(review_reply_values(review, request.user))
                typed = f"{typed}\n{text}" if typed else text
            form = ReplyForm(initial={"text": typed})
        elif form.is_valid() and request.POST.get("_preview"):
            preview = form.cleaned_data["text"]
        elif form.is_valid():
            try:
                workflow.review_reply_save(
                    review=review,
                    actor=request.user,
                    text=form.cleaned_data["text"],
                    publish=bool(request.POST.get("publish")),
                    expected_version=request.POST.get("version"),
                )
            except ValidationError as error:
                add_validation_errors(form, error)
                status = 400
            except StepNotAllowed as conflict:
                messages.error(request, str(conflict))
                reply = ReviewReply.objects.filter(review=review).first()
                status = 409
            else:
                messages.success(request, _("Reply saved."))
                return redirect("complaints:review", pk=review.pk)
        else:
            status = 400
    else:
        form = ReplyForm(initial={"text": reply.text if reply else ""})
    windows = reply_windows()
    attach_reply_clocks([review], windows=windows)
    return render(
        request,
        "complaints/review.html",
        {
            "review": review,
            "reply": reply,
            "edits": list(reply.edits.select_related("edited_by")) if reply else [],
            "cases": list(cases_latest_first(review)),
            "form": form,
            "preview": preview,
            "version": reply_version(reply),
            "now": timezone.now(),
            "section": "reviews",
        },
        status=status,
    )

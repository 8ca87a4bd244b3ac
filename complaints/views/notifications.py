"""Each user's notifications."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ..models import Notification


@login_required
def notification_list(request):
    notifications = Notification.objects.filter(recipient=request.user).select_related("case")
    page = Paginator(notifications, 50).get_page(request.GET.get("page"))
    return render(
        request, "complaints/notifications.html", {"page": page, "section": "notifications"}
    )


@login_required
@require_POST
def mark_read(request):
    """Mark one notification (``id``) or all of the user's read."""
    mine = Notification.objects.filter(recipient=request.user).unread()
    if request.POST.get("id"):
        mine = mine.filter(pk=request.POST["id"])
    mine.update(read_at=timezone.now())
    return redirect(request.POST.get("next") or "complaints:notifications")

"""Each user's notifications, and whether they also come by e-mail."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import models
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ..models import Notification, NotificationSettings
from ..paging import Sort, list_query, requested_page
from .errors import invalid_request
from .redirects import back

# Newest first, a page at a time from a cursor (notification_recipient_latest):
# a supervisor who is told of every escalation may have hundreds of
# thousands, and a numbered page counted and sorted them all.
NOTIFICATION_SORT = Sort(
    (
        ("created_at", None, models.DateTimeField()),
        ("id", None, models.BigIntegerField()),
    ),
    descending=True,
)
PAGE_SIZE = 50


@login_required
def notification_list(request):
    notifications = Notification.objects.filter(recipient=request.user).select_related("case")
    page = requested_page(request, notifications, NOTIFICATION_SORT, size=PAGE_SIZE)
    return render(
        request,
        "complaints/notifications.html",
        {
            "page": page,
            "query": list_query(request.GET),
            "section": "notifications",
            "email_on": NotificationSettings.wants_email(request.user),
        },
    )


@login_required
@require_POST
def mark_read(request):
    """Mark one notification (``id``) or all of the user's read."""
    mine = Notification.objects.filter(recipient=request.user).unread()
    if request.POST.get("id"):
        if not request.POST["id"].isdigit():
            return invalid_request(request, _("Unknown notification."))
        mine = mine.filter(pk=request.POST["id"])
    mine.update(read_at=timezone.now())
    return back(request, "complaints:notifications")


@login_required
@require_POST
def notification_settings(request):
    """Turn e-mail copies of one's notifications on or off."""
    choice = request.POST.get("email")
    if choice not in ("on", "off"):
        return invalid_request(request, _("Choose “on” or “off”."))
    NotificationSettings.objects.update_or_create(
        user=request.user, defaults={"email": choice == "on"}
    )
    if choice == "on":
        messages.success(request, _("Notifications will also come by e-mail."))
    else:
        messages.success(request, _("Notifications will no longer come by e-mail."))
    return redirect("complaints:notifications")

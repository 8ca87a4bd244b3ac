"""What every page's navigation needs to know about the user."""

from django.utils.functional import SimpleLazyObject

from .models import Notification
from .queries import pending_approval_count, unreplied_counts


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    supervises = user.has_perm("complaints.approve_offer")
    works = user.has_perm("complaints.work_case")
    return {
        "nav": {
            "works_cases": user.has_perm("complaints.work_case"),
            "supervises": user.has_perm("complaints.view_team"),
            "approves": supervises,
            "ledger": user.has_perm("complaints.view_team")
            or user.has_perm("complaints.redeem_voucher"),
            "admin_site": user.is_staff,
            # Counted only when a page shows them (one query each).
            "pending_approvals": SimpleLazyObject(
                lambda: pending_approval_count(user) if supervises else 0
            ),
            "unreplied": SimpleLazyObject(
                lambda: sorted(unreplied_counts().items()) if works else []
            ),
            "unread": SimpleLazyObject(
                lambda: Notification.objects.filter(recipient=user).unread().count()
            ),
        }
    }

"""What every page's navigation needs to know about the user."""

from django.utils.functional import SimpleLazyObject

from .models import Notification
from .queries import pending_approval_count, unreplied_counts
from .queries.reviews import BADGE_CAP


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
            # Counted only when a page shows them, and only up to 100: a badge
            # reads "99+" rather than counting a whole table (queries/reviews.py).
            "pending_approvals": SimpleLazyObject(
                lambda: pending_approval_count(user, cap=BADGE_CAP) if supervises else 0
            ),
            "unreplied": SimpleLazyObject(
                lambda: sorted(unreplied_counts().items()) if works else []
            ),
            "unread": SimpleLazyObject(
                lambda: (
                    Notification.objects.filter(recipient=user).unread()[: BADGE_CAP + 1].count()
                )
            ),
        }
    }

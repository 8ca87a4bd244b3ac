"""What every page's navigation needs to know about the user."""

from django.utils.functional import SimpleLazyObject

from .models import Notification
from .models.case_rules import offers_to_decide
from .paging import capped_counts
from .queries.reviews import BADGE_CAP, unreplied_by_rating


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    if getattr(request, "owes_code", False):  # the password only (two_factor): no counts
        return {"nav": {}}
    approves = user.has_perm("complaints.approve_offer")
    works = user.has_perm("complaints.work_case")

    def count_badges():
        # The badges a page shows, counted together in one query and only up
        # to 100 each: a badge reads "99+" rather than counting a whole table.
        counted = {"unread": Notification.objects.filter(recipient=user).unread()}
        if works:
            counted |= {("unreplied", rating): qs for rating, qs in unreplied_by_rating().items()}
        if approves:
            counted["approvals"] = offers_to_decide(user)
        return capped_counts(counted, BADGE_CAP)

    badges = SimpleLazyObject(count_badges)  # counted only when a page shows one
    return {
        "nav": {
            "works_cases": works,
            "supervises": user.has_perm("complaints.view_team"),
            "approves": approves,
            "ledger": user.has_perm("complaints.view_team")
            or user.has_perm("complaints.redeem_voucher"),
            "admin_site": user.is_staff,
            "pending_approvals": SimpleLazyObject(lambda: badges.get("approvals", 0)),
            "unreplied": SimpleLazyObject(
                lambda: sorted(
                    (key[1], n) for key, n in badges.items() if isinstance(key, tuple) and n
                )
            ),
            "unread": SimpleLazyObject(lambda: badges["unread"]),
        }
    }

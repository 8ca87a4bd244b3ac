"""Who may call what: the same model permissions the pages check."""

from rest_framework.permissions import BasePermission


def needs(*perms: str, any_of: bool = False) -> type[BasePermission]:
    """Return a permission class: authenticated, active and holding ``perms``
    (all of them, or ``any_of``). An anonymous caller gets 401."""

    class Needs(BasePermission):
        def has_permission(self, request, view):
            user = request.user
            if not (user and user.is_authenticated and user.is_active):
                return False
            check = any if any_of else all
            return check(user.has_perm(perm) for perm in perms)

    Needs.__name__ = "Needs_" + "_or_".join(perm.split(".")[-1] for perm in perms)
    return Needs


WorksCases = needs("complaints.work_case")
DecidesOffers = needs("complaints.approve_offer")
AddsOrders = needs("complaints.add_order", "complaints.change_order")
AddsReviews = needs("complaints.add_review", "complaints.change_review")
ReadsLedger = needs("complaints.view_team", "complaints.redeem_voucher", any_of=True)
RedeemsVouchers = needs("complaints.redeem_voucher")
ReadsReports = needs("complaints.view_team")

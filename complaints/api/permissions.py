"""Who may call what: the same model permissions the pages check."""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from .tokens import reads_only

READ_ONLY_MESSAGE = _(
    "This token may only read (its key starts ct_ro_): nothing was changed. "
    "Use a token made without “read only” for calls that change something."
)


def needs(*perms: str, any_of: bool = False) -> type[BasePermission]:
    """Return a permission class: authenticated, active and holding ``perms``
    (all of them, or ``any_of``); a read-only token only for reading. An
    anonymous caller gets 401. Every API view's permission is one of these
    (the default too), so no view can forget the token's scope."""

    class Needs(BasePermission):
        def has_permission(self, request, view):
            user = request.user
            if not (user and user.is_authenticated and user.is_active):
                return False
            if request.method not in SAFE_METHODS and reads_only(request.auth):
                self.message, self.code = READ_ONLY_MESSAGE, "read_only_token"
                request._request._refusal_reason = "read-only token"
                return False
            check = any if any_of else all
            return check(user.has_perm(perm) for perm in perms)

    Needs.__name__ = "Needs_" + "_or_".join(perm.split(".")[-1] for perm in perms)
    return Needs


Authenticated = needs()  # the default: any active user
WorksCases = needs("complaints.work_case")
DecidesOffers = needs("complaints.approve_offer")
AddsOrders = needs("complaints.add_order", "complaints.change_order")
AddsReviews = needs("complaints.add_review", "complaints.change_review")
ReadsLedger = needs("complaints.view_team", "complaints.redeem_voucher", any_of=True)
RedeemsVouchers = needs("complaints.redeem_voucher")
ReadsReports = needs("complaints.view_team")

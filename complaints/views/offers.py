"""The live policy check of the propose form."""

from decimal import Decimal, InvalidOperation

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_POST

from .. import workflow
from ..models import RemedyKind
from .cases import _load


@login_required
@require_POST
def offer_check(request, number):
    """Say whether the offer being typed is inside policy, and by which rule."""
    if not request.user.has_perm("complaints.work_case"):
        raise PermissionDenied
    case = _load(number)
    kind = request.POST.get("kind", "")
    try:
        amount = Decimal(request.POST.get("amount") or "0")
    except InvalidOperation:
        amount = None
    decision = None
    if kind in RemedyKind.values and (kind == RemedyKind.APOLOGY or (amount and amount > 0)):
        decision = workflow.offer_preview(
            case=case, kind=kind, amount=None if kind == RemedyKind.APOLOGY else amount
        )
    return render(request, "complaints/_policy_check.html", {"decision": decision})

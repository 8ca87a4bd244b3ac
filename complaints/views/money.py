"""The voucher ledger: what compensation the shop has promised and paid."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_fsm import TransitionNotAllowed

from .. import workflow
from ..filters import VoucherFilter
from ..forms import RedeemForm, VoidForm
from ..paging import COUNT_CAP, list_query, requested_page
from ..queries import LEDGER_SORT, ledger_money, voucher_ledger
from ..steps import add_validation_errors
from .errors import sends_form

PAGE_SIZE = 50


def _require_ledger(user):
    if not (user.has_perm("complaints.view_team") or user.has_perm("complaints.redeem_voucher")):
        raise PermissionDenied


@login_required
def ledger(request):
    _require_ledger(request.user)
    filterset = VoucherFilter(request.GET or None, queryset=voucher_ledger())
    vouchers = filterset.qs
    query = list_query(request.GET)
    # A search that found more than COUNT_CAP vouchers is not added up: it
    # would sum most of the ledger across three tables; the page says so.
    totals = months = counted_at = None
    if not filterset.searched_beyond_cap:
        (totals, months), counted_at = ledger_money(
            vouchers, shared_statuses=filterset.only_statuses()
        )
    page = requested_page(request, vouchers, LEDGER_SORT, size=PAGE_SIZE)
    return render(
        request,
        "complaints/vouchers.html",
        {
            "filter": filterset,
            "page": page,
            "query": query,
            "totals": totals,
            "counted_at": counted_at,
            "months": months,
            "count_cap": COUNT_CAP,
            "section": "vouchers",
        },
        status=400 if filterset.is_bound and not filterset.is_valid() else 200,
    )


def _voucher(code):
    return get_object_or_404(voucher_ledger(), code=code.upper())


@login_required
def voucher_detail(request, code):
    _require_ledger(request.user)
    voucher = _voucher(code)
    return render(
        request,
        "complaints/voucher.html",
        {
            "voucher": voucher,
            "redeem_form": RedeemForm(voucher=voucher),
            "void_form": VoidForm(),
            "section": "vouchers",
        },
    )


def _redisplay(request, voucher, status, *, redeem_form=None, void_form=None, error=""):
    return render(
        request,
        "complaints/voucher.html",
        {
            "voucher": voucher,
            "redeem_form": redeem_form or RedeemForm(voucher=voucher),
            "void_form": void_form or VoidForm(),
            "error": error,
            "section": "vouchers",
        },
        status=status,
    )


@login_required
@require_POST
@sends_form(RedeemForm)
def voucher_redeem(request, code):
    if not request.user.has_perm("complaints.redeem_voucher"):
        raise PermissionDenied(_("You may not redeem vouchers."))
    voucher = _voucher(code)
    form = RedeemForm(request.POST, voucher=voucher)
    if not form.is_valid():
        return _redisplay(request, voucher, 400, redeem_form=form)
    try:
        workflow.voucher_redeem(
            voucher=voucher,
            actor=request.user,
            order=form.cleaned_data["order"],
            amount=form.cleaned_data["amount"],
        )
    except ValidationError as error:
        add_validation_errors(form, error)
        return _redisplay(request, voucher, 400, redeem_form=form)
    except TransitionNotAllowed as refused:
        return _redisplay(request, _voucher(code), 409, redeem_form=form, error=str(refused))
    messages.success(request, _("Voucher %(code)s redeemed.") % {"code": voucher.code})
    return redirect("complaints:voucher", code=voucher.code)


@login_required
@require_POST
@sends_form(VoidForm)
def voucher_void(request, code):
    if not request.user.has_perm("complaints.void_voucher"):
        raise PermissionDenied(_("Only a supervisor may void vouchers."))
    voucher = _voucher(code)
    form = VoidForm(request.POST)
    if not form.is_valid():
        return _redisplay(request, voucher, 400, void_form=form)
    try:
        workflow.voucher_void(
            voucher=voucher, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except ValidationError as error:
        add_validation_errors(form, error)
        return _redisplay(request, voucher, 400, void_form=form)
    except TransitionNotAllowed as refused:
        return _redisplay(request, _voucher(code), 409, void_form=form, error=str(refused))
    messages.success(request, _("Voucher %(code)s voided.") % {"code": voucher.code})
    return redirect("complaints:voucher", code=voucher.code)

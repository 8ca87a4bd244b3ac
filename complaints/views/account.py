"""The logged-in user's own account: their password and their two-step log-in."""

import logging
from base64 import b32encode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import FormView
from django_otp.plugins.otp_static.models import StaticDevice

from .. import two_factor
from ..forms import CodeForm, PasswordChangeForm
from ..models import AuthenticatorKey
from ..models.case_rules import may_list_queue
from ..security import client_ip
from .errors import invalid_request

log = logging.getLogger("casetracker.access")


class PasswordChange(auth_views.PasswordChangeView):
    """Django's view (log-in required, CSRF, the passwords kept out of error
    reports) on the application's page. The browser that changed it stays
    logged in; every other log-in of the user ends at its next request, as
    Django checks each session against the password it was opened with."""

    form_class = PasswordChangeForm
    template_name = "registration/password_change.html"

    @transaction.atomic  # the password and the notification of it, together
    def form_valid(self, form):
        response = super().form_valid(form)
        log.info(
            "password changed by %s from %s",
            self.request.user.get_username(),
            client_ip(self.request) or "unknown",
        )
        messages.success(
            self.request,
            _(
                "Your password was changed. Anywhere else you were logged in, "
                "you are now logged out."
            ),
        )
        two_factor.tell(
            self.request.user, _("Your password was changed (from %(address)s)."), self.request
        )
        return response

    def get_success_url(self):
        if may_list_queue("mine", self.request.user):  # as home: a queue to start from
            return reverse("complaints:home")
        return reverse("password_change")  # no queue to go to: the page again, with the message


# Two-step log-in (complaints/two_factor.py): the code page, setting up a
# key, and the account page that shows it, makes new backup codes and turns
# it off. None of these pages may be kept by a browser or a proxy (a key,
# backup codes).


def _next_page(request) -> str:
    """Where to go once the code is entered: the page asked for, if it is one
    of this site's, else the start page."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("complaints:home")


def _refused_code(request, form, wait: int) -> None:
    if wait:
        form.add_error(
            "code",
            ngettext(
                "Too many wrong codes: wait %(seconds)d second, then try again.",
                "Too many wrong codes: wait %(seconds)d seconds, then try again.",
                wait,
            )
            % {"seconds": wait},
        )
    else:
        form.add_error("code", _("That code is not right, or it was used already."))
    what = "two-step code refused" + (" (locked)" if wait else "")
    two_factor.log_event(request, what, logging.WARNING)  # as a failed password is


@method_decorator([never_cache, login_required], name="dispatch")
class TwoFactorVerify(FormView):
    """The code after the password, for a user who has a key."""

    form_class = CodeForm
    template_name = "registration/two_factor_verify.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_verified():
            return redirect(_next_page(request))
        if not two_factor.is_on(request.user):  # the key was removed meanwhile
            _, required, _on = two_factor.remember(request)
            if required:
                return redirect(two_factor.page_then("two_factor_setup", _next_page(request)))
            return redirect(_next_page(request))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(next=_next_page(self.request), **kwargs)

    def form_valid(self, form):
        device, wait = two_factor.check_code(self.request.user, form.cleaned_data["code"])
        if device is None:
            _refused_code(self.request, form, wait)
            return self.form_invalid(form)
        two_factor.verified(self.request, device)
        if isinstance(device, StaticDevice):
            left = two_factor.backup_codes_left(self.request.user)
            two_factor.log_event(self.request, f"backup code used ({left} left)")
            two_factor.tell(
                self.request.user,
                _("A backup code was used to log in to your account (from %(address)s)."),
                self.request,
            )
            messages.warning(
                self.request,
                ngettext(
                    "You logged in with a backup code; %(left)d is left. "
                    "Make new ones on your account page.",
                    "You logged in with a backup code; %(left)d are left. "
                    "Make new ones on your account page.",
                    left,
                )
                % {"left": left},
            )
        return redirect(_next_page(self.request))


@method_decorator([never_cache, login_required], name="dispatch")
class TwoFactorSetup(FormView):
    """Turn the two-step log-in on, or move it to a new phone: a new key as a
    QR code (and as text), confirmed by its first code. A user who has a
    key must have entered its code in this log-in first: the password alone
    never replaces a key."""

    form_class = CodeForm
    template_name = "registration/two_factor_setup.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_verified() and two_factor.is_on(request.user):
            return redirect(two_factor.page_then("two_factor_verify", request.get_full_path()))
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return super().get_form_kwargs() | {"backup": False}

    def get_context_data(self, **kwargs):
        user = self.request.user
        key = two_factor.app_key(user, confirmed=False)
        if key is None:  # the same key on every visit until confirmed: a reload keeps the scan
            key = AuthenticatorKey.objects.create(user=user, name="being set up", confirmed=False)
        secret = b32encode(key.bin_key).decode()
        return super().get_context_data(
            # segno draws the key's URL as an SVG path: no text of anyone's in it.
            qr_code=mark_safe(
                segno.make(key.config_url, error="m").svg_inline(scale=4, light="#fff")
            ),
            secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            replacing=two_factor.is_on(user),
            required=two_factor.required_for(user),
            next=_next_page(self.request),
            **kwargs,
        )

    def form_valid(self, form):
        user = self.request.user
        key = two_factor.app_key(user, confirmed=False)
        if key is None:  # confirmed in another tab meanwhile
            messages.info(self.request, _("The two-step log-in is already on."))
            return redirect("two_factor")
        replacing = two_factor.is_on(user)
        device, wait = two_factor.check_code(user, form.cleaned_data["code"], being_set_up=key)
        if device is not None:
            told = (
                _("Your two-step log-in moved to a new key (from %(address)s).")
                if replacing
                else _("The two-step log-in was turned on for your account (from %(address)s).")
            )
            with transaction.atomic():
                codes = two_factor.turn_on(user, device)
                two_factor.tell(user, told, self.request)
            two_factor.verified(self.request, device)
            two_factor.log_event(
                self.request,
                "two-step log-in moved to a new key" if replacing else "two-step log-in turned on",
            )
            context = {"codes": codes, "turned_on": True, "next": _next_page(self.request)}
            return render(self.request, "registration/two_factor_backup_codes.html", context)
        _refused_code(self.request, form, wait)
        return self.form_invalid(form)


@method_decorator([never_cache, login_required], name="dispatch")
class TwoFactorAccount(View):
    """The account page's two-step part: on or off, the backup codes left,
    and the buttons (new backup codes; turn off, with a code, unless the
    user's role must have it)."""

    def get(self, request, form=None, status=200):
        user = request.user
        context = {
            "on": two_factor.is_on(user),
            "required": two_factor.required_for(user),
            "backup_codes_left": two_factor.backup_codes_left(user),
            "form": form or CodeForm(),
            "roles": ", ".join(sorted(settings.TWO_FACTOR_ROLES)),
        }
        return render(request, "registration/two_factor.html", context, status=status)

    def post(self, request):
        user = request.user
        action = request.POST.get("action")
        if not two_factor.is_on(user):
            messages.info(request, _("The two-step log-in is off: there is nothing to change."))
            return redirect("two_factor")
        if action == "backup-codes":
            with transaction.atomic():
                codes = two_factor.new_backup_codes(user)
                told = _("New backup codes were made for your account (from %(address)s).")
                two_factor.tell(user, told, request)
            two_factor.log_event(request, "new backup codes made")
            return render(request, "registration/two_factor_backup_codes.html", {"codes": codes})
        if action != "off":
            return invalid_request(request, _("Unknown action on the two-step log-in."))
        if two_factor.required_for(user):
            raise PermissionDenied(
                _("Your role must log in with a code: the two-step log-in cannot be turned off.")
            )
        form = CodeForm(request.POST)
        if form.is_valid():
            device, wait = two_factor.check_code(user, form.cleaned_data["code"])
            if device is not None:
                told = _("The two-step log-in of your account was turned off (from %(address)s).")
                with transaction.atomic():
                    two_factor.turn_off(user)
                    two_factor.tell(user, told, request)
                two_factor.remember(request)
                two_factor.log_event(request, "two-step log-in turned off")
                messages.success(
                    request, _("The two-step log-in is off: your password alone logs you in.")
                )
                return redirect("two_factor")
            _refused_code(request, form, wait)
        return self.get(request, form=form, status=400)

"""Two-step log-in: after the password, a code from an authenticator app.

A user turns it on for themselves on their account page (a TOTP key shown
as a QR code, confirmed by a first code, and ten one-time backup codes);
the roles in TWO_FACTOR_ROLES must have it, and their first log-in sets it
up before anything else. The key is kept sealed (models.AuthenticatorKey,
sealing.py) and the backup codes only as keyed digests, so a copy of the
database gives neither away. django-otp checks the codes (each code once; a
wrong one locks the key for 1, 2, 4 ... seconds) and marks the session that
entered one (``request.user.is_verified()``).

TwoFactorMiddleware holds every other page back from a log-in that still
owes its code: a page is sent to the code (or to setting it up), a form is
refused with what was typed kept (views.errors.keep_what_was_sent), and the
API answers 403. Whether the user owes a code (has a key, or a role that
must) is read at log-in and again every few minutes, kept in
the session, so a page costs no query for it: a key turned on in one
browser reaches the user's other log-ins within that time (five minutes,
or a twentieth of a short SESSION_IDLE_MINUTES), and the session is
written in the requests that write it for its idle clock anyway.
"""

import logging
from functools import cache
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from .api.errors import error_body
from .models import AuthenticatorKey
from .roles import ADMIN
from .sealing import SealBroken, short_digests
from .security import client_ip, seconds_between_writes

log = logging.getLogger("casetracker.access")

# The session's [when read, the role must have it, the user has a key], read
# again as often as the session is written for the idle clock, in the same
# requests (at most every five minutes).
STATE = "casetracker_two_factor"
BACKUP_CODE_COUNT = 10
APP_KEY_NAME = "authenticator app"
BACKUP_NAME = "backup codes"


def required_for(user) -> bool:
    """Whether the user's role must log in with a code (TWO_FACTOR_ROLES;
    a superuser counts as an admin)."""
    roles = settings.TWO_FACTOR_ROLES
    if not roles or not user.is_authenticated:
        return False
    if user.is_superuser and ADMIN in roles:
        return True
    return user.groups.filter(name__in=roles).exists()


def app_key(user, confirmed=True) -> AuthenticatorKey | None:
    """The user's authenticator key (confirmed: in use; else one being set up)."""
    return AuthenticatorKey.objects.filter(user=user, confirmed=confirmed).order_by("-pk").first()


def is_on(user) -> bool:
    return AuthenticatorKey.objects.filter(user=user, confirmed=True).exists()


def backup_code_digests(code: str) -> list[str]:
    """What a backup code is kept as, under each key (SECRET_KEY first, then
    its fallbacks): a keyed digest, never the code."""
    return short_digests(
        code, b"backup code", length=StaticToken._meta.get_field("token").max_length
    )


def backup_code_digest(code: str) -> str:
    return backup_code_digests(code)[0]


def backup_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def remember(request, user=None) -> list:
    """Read again whether the user owes a code, and keep it in the session."""
    user = user or request.user
    state = [timezone.now().timestamp(), required_for(user), is_on(user)]
    request.session[STATE] = state
    return state


def _state(request) -> list:
    state = request.session.get(STATE)
    now = timezone.now().timestamp()
    fresh = seconds_between_writes()
    if isinstance(state, list) and len(state) == 3 and 0 <= now - state[0] < fresh:
        return state
    return remember(request)


@receiver(user_logged_in)
def read_at_login(sender, request=None, user=None, **kwargs):
    if request is not None and hasattr(request, "session") and user is not None:
        remember(request, user)


def verified(request, device) -> None:
    """The session entered a good code: from now on it is verified (django-otp
    keeps the key's id in the session), under a new session key, as after
    the password."""
    from django_otp import login as otp_login

    request.session.cycle_key()
    otp_login(request, device)
    remember(request)


@transaction.atomic
def turn_on(user, device: AuthenticatorKey) -> list[str]:
    """Confirm the key being set up (its first code was right): it replaces
    any earlier one, and a new set of backup codes replaces the old. Answers
    the backup codes, to be shown once."""
    AuthenticatorKey.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.name = APP_KEY_NAME
    device.save(update_fields=["confirmed", "name"])
    return new_backup_codes(user)


@transaction.atomic
def new_backup_codes(user) -> list[str]:
    """Ten new backup codes instead of the old ones, on the same device: a
    log-in that entered one of the old codes stays logged in."""
    backup = StaticDevice.objects.filter(user=user).order_by("pk").first()
    if backup is None:
        backup = StaticDevice.objects.create(user=user, name=BACKUP_NAME, confirmed=True)
    StaticDevice.objects.filter(user=user).exclude(pk=backup.pk).delete()
    backup.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(
        StaticToken(device=backup, token=backup_code_digest(code)) for code in codes
    )
    return codes


@transaction.atomic
def turn_off(user) -> None:
    AuthenticatorKey.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


def check_code(user, code: str, *, being_set_up: AuthenticatorKey | None = None):
    """The key that takes ``code`` (six digits: the app; else a backup code,
    which is then used up), or None; and how many seconds to wait when the
    key is locked after wrong codes (0 when not). ``being_set_up``: check the
    code against that key, not yet confirmed, instead. The key is read
    locked, so two requests cannot both use one code."""
    code = "".join(code.split()).lower()
    if being_set_up is not None:
        keys = AuthenticatorKey.objects.filter(pk=being_set_up.pk, user=user, confirmed=False)
    else:
        model = AuthenticatorKey if code.isdigit() else StaticDevice
        keys = model.objects.filter(user=user, confirmed=True)
    with transaction.atomic():
        device = keys.select_for_update().first()
        if device is None:
            return None, 0
        allowed, details = device.verify_is_allowed()
        if not allowed:
            return None, _seconds_locked(details)
        if isinstance(device, StaticDevice):
            return (device, 0) if _take_backup_code(device, code) else (None, 0)
        if not device.opens:
            log.error("two-step code not checked: %s", SealBroken(f"the key of {user}"))
            return None, 0
        if device.verify_token(code):
            return device, 0
    return None, 0


def _take_backup_code(device: StaticDevice, code: str) -> bool:
    """django-otp's check of a backup code, asking for the code's digests
    (under SECRET_KEY or a fallback) instead of the code: used up if right,
    counted towards the lock if wrong."""
    match = device.token_set.filter(token__in=backup_code_digests(code)).first()
    if match is None:
        device.throttle_increment()
        return False
    match.delete()
    device.throttle_reset(commit=False)
    device.set_last_used_timestamp(commit=False)
    device.save()
    return True


def _seconds_locked(details) -> int:
    until = (details or {}).get("locked_until")
    if until is None:
        return 1
    return max(1, int((until - timezone.now()).total_seconds() + 0.999))


def page_then(name: str, next_path: str) -> str:
    """The address of the page ``name``, to go on to ``next_path`` from."""
    return f"{reverse(name)}?{urlencode({'next': next_path})}"


def log_event(request, what: str, level=logging.INFO) -> None:
    user, address = request.user.get_username(), client_ip(request) or "unknown"
    log.log(level, "%s: %s from %s", what, user, address)


def tell(user, message: str, request=None) -> None:
    """Tell ``user`` what happened to their log-in (in the app and by e-mail),
    so that a change they did not make is noticed: ``message`` names the
    address of ``request`` as %(address)s, and ends with what to do then."""
    from .models import NotificationKind
    from .notifications import notify

    if request is not None:
        message %= {"address": client_ip(request) or _("an unknown address")}
    message += " " + _("If this was not you, change your password and tell an admin at once.")
    notify(recipient=user, kind=NotificationKind.ACCOUNT, message=message)


def removed_by_admin(user) -> None:
    """An admin (or the command line) removed the user's key."""
    with transaction.atomic():
        turn_off(user)
        tell(
            user,
            _("An admin removed your two-step log-in key: your password alone logs you in now."),
        )


@cache
def _open_paths() -> frozenset[str]:
    """What a log-in that owes its code may still open: the code page, setting
    up a key (the view refuses it to a user who has one), logging out or in
    as someone else (a shared desk), the language, health checks. Addresses
    as ``request.path`` has them, with the prefix the site is served under."""
    return frozenset(
        reverse(name)
        for name in (
            "two_factor_verify",
            "two_factor_setup",
            "login",
            "logout",
            "set_language",
            "admin:logout",
            "health",
            "health_worker",
        )
    )


class TwoFactorMiddleware:
    """Holds back a log-in that owes its code (see the module's text). Sets
    ``request.owes_code``, so that the pages it may still open show none of
    the navigation's counts."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        request.owes_code = False
        if user.is_authenticated and not user.is_verified():
            _, required, on = _state(request)
            request.owes_code = required or on
            if request.owes_code and request.path not in _open_paths():
                return self.hold_back(request, "two_factor_verify" if on else "two_factor_setup")
        return self.get_response(request)

    @staticmethod
    def hold_back(request, where: str):
        from .views.errors import _is_api, _is_htmx, keep_what_was_sent

        htmx = _is_htmx(request)
        here = request.get_full_path()
        if htmx and request.headers.get("HX-Current-URL"):  # the page, not the click's address
            page = urlsplit(request.headers["HX-Current-URL"])
            here = page.path + (f"?{page.query}" if page.query else "")
        target = page_then(where, here)
        if _is_api(request):
            request._refusal_reason = "two-step log-in not completed"
            detail = _(
                "This log-in still needs its code from the authenticator app: "
                "enter it on the page, or use an API token."
            )
            return JsonResponse(error_body(detail, "two_factor_required"), status=403)
        if request.method in ("GET", "HEAD"):
            return HttpResponseClientRedirect(target) if htmx else redirect(target)
        return keep_what_was_sent(
            request,
            code="two_factor_required",
            go_to=target,
            heading=_("Enter your code first"),
            go_label=_("Enter the code in a new tab"),
            htmx_message=_(
                "This log-in needs the code from your authenticator app first, so "
                "this was not sent; what you typed is still here. Enter the code in "
                "another tab, then send it again."
            ),
            page_message=_(
                "This log-in needs the code from your authenticator app first, so "
                "what you sent was not saved. What you typed is below: enter the "
                "code in a new tab, then send it again from here."
            ),
        )

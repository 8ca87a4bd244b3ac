"""Who is knocking: the client's address, and a log line for every refused
request (401, 403, 429) and every failed login.

The lines go to the ``casetracker.access`` logger (see LOGGING in the
settings), one per refusal, with the user, their roles, the method, the
path, the address and the reason, so a supervisor's "who tried to approve
that?" and an admin's intrusion review have something to read.

And how long a log-in lasts unused: IdleSessionTimeout ends it after
SESSION_IDLE_MINUTES without a request (logged at INFO).
"""

import logging

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.dispatch import receiver
from django.utils import timezone

log = logging.getLogger("casetracker.access")

REFUSED = {401, 403, 429}


def client_ip(request) -> str | None:
    """The client's address (None when the request has none, as for a login
    made in code). Behind one proxy (BEHIND_PROXY) it is the last
    X-Forwarded-For entry, the one our proxy added: a client can forge only
    the entries before it."""
    if getattr(settings, "BEHIND_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return request.META.get("REMOTE_ADDR") or None


def _who(user) -> str:
    if user is None or not user.is_authenticated:
        return "anonymous"
    roles = ",".join(sorted(group.name for group in user.groups.all())) or "no role"
    return f"{user.get_username()} ({roles})"


class RefusedAccessLogMiddleware:
    """Log every request the application refused for lack of rights."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code in REFUSED:
            reason = getattr(request, "_refusal_reason", "") or _reason_of(response)
            log.warning(
                "refused %s %s %s for %s from %s: %s",
                response.status_code,
                request.method,
                request.get_full_path()[:300],
                _who(getattr(request, "user", None)),
                client_ip(request) or "unknown",
                reason[:300],
            )
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, PermissionDenied):
            request._refusal_reason = str(exception) or "permission denied"


def _reason_of(response) -> str:
    if response.get("Content-Type", "").startswith("application/json"):
        try:
            import json

            return str(json.loads(response.content).get("detail", ""))
        except (ValueError, AttributeError):
            return ""
    return {401: "not authenticated", 429: "too many failed logins"}.get(
        response.status_code, "forbidden"
    )


class LoginAttempts(AxesDatabaseHandler):
    """django-axes' count of failed log-ins by user name and address, and
    besides it by address alone (LOGIN_ADDRESS_FAILURE_LIMIT).

    Someone trying one password on many user names never fails twice on one
    name, so the count by name and address never pauses them. Summed over
    the address's names, within the cool-off, it does. A name that logged in
    has no count left (AXES_RESET_ON_SUCCESS), so the mistypes of an office
    whose agents then log in add nothing. An admin lifts the pause by
    deleting the address's access attempts."""

    def get_failures(self, request, credentials=None) -> int:
        failures = super().get_failures(request, credentials)
        if _address_paused(request):
            request.casetracker_address_paused = True
            return max(failures, get_failure_limit(request, credentials))
        return failures


def _address_paused(request) -> bool:
    limit = settings.LOGIN_ADDRESS_FAILURE_LIMIT
    address = getattr(request, "axes_ip_address", None)
    if not limit or not address:
        return False
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    failures = AccessAttempt.objects.filter(ip_address=address, attempt_time__gte=since).aggregate(
        n=Sum("failures_since_start")
    )["n"]
    return (failures or 0) >= limit


def locked_out(request, original_response, credentials):
    """django-axes' lockout answer: a page saying for how long (429)."""
    from django.shortcuts import render

    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    address = getattr(request, "casetracker_address_paused", False)
    limit = settings.LOGIN_ADDRESS_FAILURE_LIMIT if address else settings.AXES_FAILURE_LIMIT
    request._refusal_reason = (
        "log-ins from this address paused after too many failed logins"
        if address
        else "locked out after too many failed logins"
    )
    response = render(
        request,
        "registration/locked_out.html",
        {"minutes": minutes, "limit": limit, "address": address},
        status=429,
    )
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response


@receiver(user_login_failed)
def log_failed_login(sender, credentials, request=None, **kwargs):
    log.warning(
        "failed login for %r from %s",
        str(credentials.get("username", ""))[:150],
        (client_ip(request) if request is not None else None) or "unknown",
    )


# The moment (seconds since the epoch) of the session's last request, as far
# as IdleSessionTimeout has written it down.
ACTIVE_AT = "casetracker_active_at"
# How stale that moment may get before a request writes it again: a session
# is saved at most once in this long (five minutes; a twentieth of a short
# idle time), not on every page.
MOST_SECONDS_BETWEEN_WRITES = 300


def _idle_seconds() -> int:
    return settings.SESSION_IDLE_MINUTES * 60


def _between_writes(idle: int) -> float:
    return min(idle / 20, MOST_SECONDS_BETWEEN_WRITES)


def seconds_between_writes() -> float:
    """How often a session in use is written: what else the session keeps
    fresh (two_factor's state) is written in the same requests."""
    idle = _idle_seconds()
    return _between_writes(idle) if idle else MOST_SECONDS_BETWEEN_WRITES


@receiver(user_logged_in)
def start_idle_clock(sender, request=None, user=None, **kwargs):
    """A log-in is activity: the first page after it need not write the session."""
    if request is not None and hasattr(request, "session") and _idle_seconds():
        request.session[ACTIVE_AT] = timezone.now().timestamp()


class IdleSessionTimeout:
    """Ends a log-in that has sent no request for SESSION_IDLE_MINUTES (0:
    never; the session then lasts SESSION_COOKIE_AGE from the log-in). A
    browser left logged in at a shared desk, or a session cookie taken from
    it, opens no case page after that.

    The session remembers its last request (ACTIVE_AT), written again when
    that is more than MOST_SECONDS_BETWEEN_WRITES old. So a session ends
    between the idle time and five minutes more after its last request, and
    one that is in use is saved once in five minutes, not on every page.
    The ended session is logged out here, before the view: the request goes
    on as anonymous, and the browser still sends the cookie, so a form sent
    then keeps what was typed (views.errors.SessionEnded)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        idle = _idle_seconds()
        if idle and request.user.is_authenticated:
            now = timezone.now().timestamp()
            last = request.session.get(ACTIVE_AT)
            if not isinstance(last, int | float):
                request.session[ACTIVE_AT] = now  # a session from before the setting
            elif now - last > idle + _between_writes(idle):
                log.info(
                    "session of %s ended after %d minutes without a request, from %s",
                    request.user.get_username(),
                    (now - last) // 60,
                    client_ip(request) or "unknown",
                )
                logout(request)
            elif not 0 <= now - last < _between_writes(idle):
                request.session[ACTIVE_AT] = now
        return self.get_response(request)

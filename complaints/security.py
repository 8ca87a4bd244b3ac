"""Who is knocking: the client's address, and a log line for every refused
request (401, 403, 429) and every failed login.

The lines go to the ``casetracker.access`` logger (see LOGGING in the
settings), one per refusal, with the user, their roles, the method, the
path, the address and the reason, so a supervisor's "who tried to approve
that?" and an admin's intrusion review have something to read.
"""

import logging

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver

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


def locked_out(request, original_response, credentials):
    """django-axes' lockout answer: a page saying for how long (429)."""
    from django.shortcuts import render

    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    request._refusal_reason = "locked out after too many failed logins"
    return render(
        request,
        "registration/locked_out.html",
        {"minutes": minutes, "limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )


@receiver(user_login_failed)
def log_failed_login(sender, credentials, request=None, **kwargs):
    log.warning(
        "failed login for %r from %s",
        str(credentials.get("username", ""))[:150],
        (client_ip(request) if request is not None else None) or "unknown",
    )

"""One error shape for the whole API: ``{"detail", "code"}`` (+ ``errors``).

The workflow raises Django's and django-fsm's exceptions; this maps them to
the same statuses the pages use: bad input 400, wrong user 403, unknown
object 404, wrong state / unmet condition / changed meanwhile 409; a
statement the database stopped (the statement timeout) 503; too many calls
(api/throttles.py) 429 with Retry-After.
"""

import logging
import math

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from casetracker.database import TOO_LONG, cancelled, log_cancelled

logger = logging.getLogger("complaints.api")


def error_body(detail, code: str, errors=None) -> dict:
    """The API's one error shape; also what complaints/views/errors.py sends
    for an error that happens under /api/ outside a DRF view."""
    body = {"detail": str(detail), "code": code}
    if errors:
        body["errors"] = errors
    return body


def error(detail, code: str, http_status: int, errors=None) -> Response:
    return Response(error_body(detail, code, errors), status=http_status)


def validation_errors(error: DjangoValidationError) -> dict:
    """Return ``{field: [message, ...]}`` for a Django ValidationError."""
    if hasattr(error, "error_dict"):
        return {
            field: [str(message) for item in items for message in item.messages]
            for field, items in error.error_dict.items()
        }
    return {"non_field_errors": [str(message) for message in error.messages]}


def _one_code(error: DjangoValidationError) -> str:
    """The code of the errors when they all share one, else ``invalid``."""
    items = error.error_dict.values() if hasattr(error, "error_dict") else [error.error_list]
    codes = {item.code for group in items for item in group}
    return codes.pop() if len(codes) == 1 and None not in codes else "invalid"


def _first(errors: dict) -> str:
    for field, messages in errors.items():
        if messages:
            prefix = "" if field in ("non_field_errors", "__all__") else f"{field}: "
            return f"{prefix}{messages[0]}"
    return _("Invalid input.")


def _flatten(detail, prefix: str = "") -> dict:
    """DRF's nested error details as ``{"items[0].quantity": [message, ...]}``."""
    if isinstance(detail, list) and detail and isinstance(detail[0], dict | list):
        detail = dict(enumerate(detail))
    if not isinstance(detail, dict):
        return {prefix or "non_field_errors": [str(message) for message in _as_list(detail)]}
    flat = {}
    for key, value in detail.items():
        if key == "non_field_errors" and prefix:
            name = prefix
        elif isinstance(key, int) or str(key).isdigit():
            name = f"{prefix}[{key}]"
        else:
            name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) or (
            isinstance(value, list) and value and isinstance(value[0], dict | list)
        ):
            flat.update(_flatten(value, name))
        else:
            flat.setdefault(name, []).extend(str(message) for message in _as_list(value))
    return {name: messages for name, messages in flat.items() if messages}


def _as_list(value):
    return value if isinstance(value, list) else [value]


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        errors = validation_errors(exc)
        code = getattr(exc, "code", None) or _one_code(exc)
        return error(_first(errors), code, status.HTTP_400_BAD_REQUEST, errors)
    if isinstance(exc, ConcurrentTransition):
        return error(
            str(exc) or _("This case changed meanwhile: reload it and try again."),
            getattr(exc, "code", "case_changed"),
            status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, TransitionNotAllowed):
        return error(exc, getattr(exc, "code", "invalid_state"), status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoPermissionDenied):
        user = context["request"].user if context.get("request") else None
        logger.warning("API refused %s: %s", getattr(user, "username", None), exc)
        return error(
            str(exc) or _("You may not do this."), "permission_denied", status.HTTP_403_FORBIDDEN
        )
    if isinstance(exc, Http404):
        return error(str(exc) or _("Not found."), "not_found", status.HTTP_404_NOT_FOUND)
    if isinstance(exc, RequestDataTooBig):
        return error(
            _("The request body is too large."),
            "too_large",
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if cancelled(exc):
        request = context.get("request")
        if request is not None:
            log_cancelled(request, exc)
        return error(
            TOO_LONG,
            "statement_timeout",
            status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    response = drf_exception_handler(exc, context)  # sets Retry-After when throttled
    if response is None:
        return None
    if isinstance(exc, exceptions.Throttled):
        seconds = max(1, math.ceil(exc.wait or 1))
        response["Retry-After"] = str(seconds)
        response.data = error_body(
            ngettext(
                "Too many calls from this user: wait %(seconds)d second and try again.",
                "Too many calls from this user: wait %(seconds)d seconds and try again.",
                seconds,
            )
            % {"seconds": seconds},
            "throttled",
        )
        return response
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        response.data = {"detail": _first(errors), "code": "invalid", "errors": errors}
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        response.data = {
            "detail": str(exc.detail),
            "code": codes if isinstance(codes, str) else "error",
        }
    return response

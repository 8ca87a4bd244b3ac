"""The pages a request ends on when it goes wrong (the URLconf's handlers
and CSRF_FAILURE_VIEW): what happened in the user's language, and what to
do next.

- 404 and 403 are drawn in the application's layout, with its navigation,
  and keep the reason the code gave ("No case C-2026-000001.") instead of
  Django's bare "Not Found".
- Django's 400 (a request it could not read) and 500 use a plain layout
  that needs no database and no request context: the request that failed
  may have failed for either. A view's own 400 for a value no form sends
  (``invalid_request``) is drawn in the layout like a 404.
- A database that does not answer (down, restarting, out of connections,
  a deadlock) is a 503 with Retry-After, saying that what was just sent may
  not have been saved. It is logged as the server error it is.
- An htmx request gets the message alone, put in the page's message area
  (HX-Retarget), so a click that failed says so instead of doing nothing.
- Under /api/ the answer is the API's JSON error shape.
- An htmx click whose session has ended is not drawn the log-in page
  inside the case: a link (GET) goes to the log-in page, which leads back
  to the page the user was on; a form (POST) stays as typed, with a message
  and a link to log in again in another tab, then send it again. A plain
  form sent then gets a page that holds what was typed, with that link and
  a button to send it all again once logged in.
- An address that takes a form's button, opened as a page (a bookmark, or
  the log-in page sending someone back to the button they pressed when
  their session had ended), says so and links to the page it belongs to,
  instead of Django's empty 405.
"""

import sys
from urllib.parse import parse_qs, urlencode, urlsplit

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.forms import ChoiceField, ModelChoiceField
from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.shortcuts import render, resolve_url
from django.template import loader
from django.urls import Resolver404, get_script_prefix, resolve, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token
from django_htmx.http import HttpResponseClientRedirect

from ..api.errors import error_body

RETRY_AFTER_SECONDS = 30


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def _is_htmx(request) -> bool:
    # The header, not django-htmx's request.htmx: a request refused before
    # HtmxMiddleware ran (a bad Host, an error in an earlier middleware) has
    # no request.htmx yet.
    return request.headers.get("HX-Request") == "true"


def _reason(exception) -> str:
    """The message the code raised with, when it gave one as text, translated
    or lazily so (a route that matched nothing gives a dict of what it tried:
    no message)."""
    message = exception.args[0] if exception is not None and exception.args else ""
    return str(message) if isinstance(message, str | Promise) else ""


def _api_error(detail: str, code: str, status: int) -> JsonResponse:
    return JsonResponse(error_body(detail, code), status=status)


def _htmx_message(
    message: str, code: str, status: int, level: str = "danger", login: str = "", go_label=""
) -> HttpResponse:
    """The message alone, for the page's message area (``login``: a link to
    log in again, or ``go_label``, in a new tab)."""
    context = {
        "message": message,
        "code": code,
        "level": level,
        "login": login,
        "go_label": go_label,
    }
    # No request: the message area needs no user, and the database may be gone.
    body = loader.render_to_string("errors/_message.html", context)
    return HttpResponse(
        body, status=status, headers={"HX-Retarget": "#messages", "HX-Reswap": "innerHTML"}
    )


def _answer(request, message, code: str, status: int, template: str, *, level="danger", **extra):
    """An error's one answer, by who asked: the API's JSON, htmx's message,
    or ``template`` as a page. ``extra["plain"]``: the page is drawn without
    the request (no database, no user, no context processors)."""
    if _is_api(request):
        return _api_error(message, code, status)
    if _is_htmx(request):
        return _htmx_message(message, code, status, level)
    plain = extra.pop("plain", False)
    context = extra | {"message": message, "code": code, "level": level}
    if plain:
        return HttpResponse(loader.render_to_string(template, context), status=status)
    return render(request, template, context, status=status)


@requires_csrf_token  # the layout's forms (language, log out) need their token
def not_found(request, exception=None):
    message = _reason(exception) or _(
        "There is no page at this address. The link may be mistyped or out of "
        "date, or what it showed was removed."
    )
    return _answer(request, message, "not_found", 404, "errors/404.html")


@requires_csrf_token
def permission_denied(request, exception=None):
    message = _reason(exception) or _(
        "Your role does not allow this. A supervisor or an admin can do it "
        "for you, or give you the rights."
    )
    return _answer(request, message, "permission_denied", 403, "errors/403.html")


def bad_request(request, exception=None):
    # The exception's text is not shown: it can name what the server checks
    # (a host name, a limit), and the request is suspect.
    message = _(
        "The server could not read this request. Reload the page and try "
        "again; if it was a very large form or file, send less at once."
    )
    return _answer(
        request, message, "bad_request", 400, "errors/400.html", level="warning", plain=True
    )


def invalid_request(request, message) -> HttpResponse:
    """A view's own 400 for values no form of the application sends (an
    edited address, a script's request): ``message`` says what is expected,
    in the layout like a 404, as htmx's message or the API's JSON."""
    return _answer(request, message, "invalid_request", 400, "errors/invalid.html", level="warning")


def csrf_failure(request, reason=""):
    """A form sent without its valid CSRF token: most often a page left open
    across a log-in or log-out elsewhere, which changed the token."""
    request._refusal_reason = f"CSRF check failed: {reason}"  # for the access log
    if reason == REASON_NO_CSRF_COOKIE:
        message = _(
            "Your browser did not send this site's cookie with the form, so it "
            "was refused and nothing was saved. Allow cookies for this site, "
            "then reload the page and send the form again."
        )
    else:
        message = _(
            "This form had expired (you may have logged in or out in another "
            "tab), so it was refused and nothing was saved. Reload the page "
            "and send it again."
        )
    return _answer(request, message, "csrf_failed", 403, "errors/403.html", expired=True)


def _database_failed(exception) -> bool:
    return isinstance(exception, OperationalError | InterfaceError)


def server_error(request):
    """An unexpected error (500), or the database not answering (503). Draws
    nothing that needs the database or the request's user."""
    if _database_failed(sys.exc_info()[1]):
        status, code, level = 503, "database_unavailable", "warning"
        message = _(
            "The database did not answer, so this request could not be "
            "completed. What you just sent may not have been saved: wait a "
            "minute, reload the page and check before sending it again."
        )
    else:
        status, code, level = 500, "server_error", "danger"
        message = _(
            "Something went wrong on the server, and it has been logged for "
            "the administrators. What you just sent may not have been saved: "
            "reload the page and check before sending it again."
        )
    response = _answer(request, message, code, status, "errors/500.html", level=level, plain=True)
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _nearest_page(path: str) -> str:
    """The closest address above ``path`` that is a page of this site (the
    case above its "take" button), else the start page."""
    parts = [part for part in path.split("/") if part]
    while len(parts) > 1:
        parts.pop()
        candidate = "/" + "/".join(parts) + "/"
        try:
            resolve(candidate)
        except Resolver404:
            continue
        return get_script_prefix() + candidate[1:]
    return reverse("complaints:home")


class MethodNotAllowedPage:
    """Give the empty 405 of a view that only takes a form's POST a page
    that says nothing was done and where to go (its Allow header kept)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code != 405 or response.content or _is_api(request):
            return response
        message = _(
            "This address does something when its page's button is pressed; "
            "opened on its own it does nothing, and nothing was done. Go to "
            "the page it belongs to and use the button there."
        )
        page = _answer(
            request,
            message,
            "method_not_allowed",
            405,
            "errors/405.html",
            level="warning",
            page=_nearest_page(request.path_info),
        )
        page["Allow"] = response.get("Allow", "")
        return page


# A form's fields that no person typed: the CSRF token, where to go next, the
# state or version the page was drawn at (its conflict checks), and buttons.
# Nor is a password ever shown back.
NOT_TYPED = {"csrfmiddlewaretoken", "next", "expected_state", "version"}


def _sent_fields(data) -> tuple[list[tuple[str, str]], list[tuple[str, str]], bool]:
    """A form sent, as (typed, carried, passwords): the (field, value) pairs
    a person typed or chose, non-blank, to show; those the page carried
    without anyone typing them, to send again as they were (where to go
    next, the state or version the page was drawn at, so that a case
    changed meanwhile is refused as a conflict, and the button pressed);
    and whether a password was typed, which neither holds (nor the old
    CSRF token): it must be typed again on the form's own page."""
    typed, carried, passwords = [], [], False
    for name, values in data.lists():
        if name == "csrfmiddlewaretoken":
            continue
        if "password" in name:
            passwords = passwords or any(values)
        elif name in NOT_TYPED or name.startswith("_"):
            carried += [(name, value) for value in values]
        else:
            typed += [(name, value) for value in values if value.strip()]
    return typed, carried, passwords


def sends_form(form_for):
    """Name the form a view takes (a form class, or a function of the URL's
    arguments that returns one or None), so that a form sent to it after the
    session ended is shown back under its labels (SessionEnded)."""

    def mark(view):
        view.sent_form = form_for
        return view

    return mark


def _sent_form_fields(request) -> dict:
    """The fields, by name, of the form the view at ``request``'s address
    takes (``sends_form``); none where it names none. Fields a form adds
    when it is made are not known here."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return {}
    form = getattr(match.func, "sent_form", None)
    if form is not None and not isinstance(form, type):
        form = form(match.kwargs)
    return form.base_fields if form is not None else {}


def _typed_fields(request, typed) -> list[dict]:
    """``typed``, each value with its field's label (the name where the form
    is not known) and, for a choice among fixed options, those options."""
    fields = _sent_form_fields(request)
    shown = []
    for name, value in typed:
        field = fields.get(name)
        choices = None
        if isinstance(field, ChoiceField) and not isinstance(field, ModelChoiceField):
            choices = [(str(key), label) for key, label in field.choices if key != ""]
            if value not in dict(choices):
                choices = None  # not one of them: shown as it was sent
        label = field.label if field is not None and field.label else name
        shown.append({"name": name, "value": value, "label": label, "choices": choices})
    return shown


def _login_url(next_path: str) -> str:
    return f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': next_path})}"


def _session_ended(request, response) -> bool:
    """Whether ``response`` is login_required sending to the log-in page a
    browser whose session has ended: it still sends a session cookie, and
    the redirect says where to come back to (log-out's redirect does not)."""
    if response.status_code != 302 or settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    target = urlsplit(response["Location"])
    return (
        target.path == resolve_url(settings.LOGIN_URL)
        and "next" in parse_qs(target.query)
        and not request.user.is_authenticated
    )


class SessionEnded:
    """A request that login_required sent to the log-in page because the
    session had ended. For htmx, the browser would follow the redirect and
    htmx draw the log-in page where the answer goes (inside the case): a
    link instead loads the log-in page as a page, returning to the page the
    user was on; a form is answered 401 with a message and its typed text
    stays on the page (app.js sends the token of the new log-in, so the same
    form can then be sent). A plain form is answered 401 with a page that
    holds what was typed (going back would not: the form's page itself now
    sends to the log-in page), a link to log in again in a new tab, and the
    form to send it all again from there once logged in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not _session_ended(request, response):
            return response
        htmx, reading = _is_htmx(request), request.method in ("GET", "HEAD")
        if reading and not htmx:
            return response  # a page: Django's redirect to the log-in page
        here = (htmx and request.htmx.current_url_abs_path) or request.get_full_path()
        login = _login_url(here)
        if reading:
            return HttpResponseClientRedirect(login)
        return keep_what_was_sent(
            request,
            code="session_ended",
            go_to=login,
            heading=_("Your session has ended"),
            go_label=_("Log in again in a new tab"),
            htmx_message=_(
                "Your session has ended, so this was not sent; what you typed is "
                "still here. Log in again in another tab, then send it again."
            ),
            page_message=_(
                "Your session had ended, so what you sent was not saved. What you "
                "typed is below: log in again in a new tab, then send it again from here."
            ),
        )


def keep_what_was_sent(request, *, code, go_to, heading, go_label, htmx_message, page_message):
    """Refuse (401) a form this browser may not send yet, losing nothing:
    for htmx a message (the typed text stays on the page), for a plain form
    a page that holds what was typed, a link to ``go_to`` (where to become
    able to send it: log in, enter a code) in a new tab, and the form to send
    it all again from there."""
    request._refusal_reason = code.replace("_", " ")  # for the access log
    if _is_htmx(request):
        return _htmx_message(htmx_message, code, 401, "warning", login=go_to, go_label=go_label)
    typed, carried, passwords = _sent_fields(request.POST)
    context = {
        "heading": heading,
        "message": page_message,
        "code": code,
        "login": go_to,
        "go_label": go_label,
        "action": request.get_full_path(),
        "typed": _typed_fields(request, typed),
        "carried": carried,
        "files": [upload.name for upload in request.FILES.values()],
        "passwords": passwords,
    }
    return render(request, "errors/session_ended.html", context, status=401)

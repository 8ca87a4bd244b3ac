"""The pages a request ends on when it goes wrong: in the application's
layout and the user's language, with the reason the code gave; a message
alone for htmx; the API's JSON under /api/; a 503 when the database does
not answer (a real unreachable database, not a mock)."""

import logging
import re
import socket
from html import unescape
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection
from django.test import Client
from django.urls import include, path, reverse
from django.utils import translation

from casetracker.urls import handler400, handler403, handler404, handler500  # noqa: F401
from complaints.models import Case, CaseSource, ExportRecord, NotificationSettings
from complaints.views import errors

from . import flows

pytestmark = pytest.mark.django_db


def _page_client(user, **kwargs):
    client = Client(raise_request_exception=False, **kwargs)
    client.force_login(user)
    return client


def _html(response) -> str:
    return response.content.decode()


def test_a_missing_case_says_which_inside_the_layout(agent):
    response = _page_client(agent).get("/cases/C-2020-999999/")
    assert response.status_code == 404
    body = _html(response)
    assert 'data-error="not_found">No case C-2020-999999.</div>' in body
    assert f'href="{reverse("complaints:queue", args=["mine"])}"' in body  # the navigation
    assert "Back to your cases" in body


def test_an_unknown_address_answers_in_the_users_language(agent):
    client = _page_client(agent, HTTP_ACCEPT_LANGUAGE="zh-hans")
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = _html(response)
    english = (
        "There is no page at this address. The link may be mistyped or out of "
        "date, or what it showed was removed."
    )
    with translation.override("zh-hans"):
        chinese = translation.gettext(english)
    assert chinese != english
    assert '<html lang="zh-hans">' in body
    assert chinese in body and english not in body


def test_values_no_form_sends_get_a_400_in_the_layout_saying_what_is_expected(agent, admin_user):
    """A view's own refusal of a value its forms never send (an edited
    address, a script): the layout with what is expected, htmx's message,
    in the user's language; nothing changes."""
    client = _page_client(agent)
    marked = client.post(reverse("complaints:notifications_read"), {"id": "x"})
    assert marked.status_code == 400
    body = _html(marked)
    assert 'data-error="invalid_request">Unknown notification.</div>' in body
    assert f'href="{reverse("complaints:queue", args=["mine"])}"' in body  # the navigation

    chosen = client.post(
        reverse("complaints:notification_settings"), {"email": "maybe"}, HTTP_HX_REQUEST="true"
    )
    assert chosen.status_code == 400 and chosen["HX-Retarget"] == "#messages"
    assert "Choose “on” or “off”." in _html(chosen) and "<html" not in _html(chosen)
    assert not NotificationSettings.objects.filter(user=agent).exists()

    admin = _page_client(admin_user, HTTP_ACCEPT_LANGUAGE="zh-hans")
    export = admin.get(reverse("complaints:export_root_causes") + "?start=2026-01-01&format=pdf")
    assert export.status_code == 400
    english = "Give a period (start, end), format csv or xlsx and group_by one of: %(choices)s."
    with translation.override("zh-hans"):
        chinese = translation.gettext(english)
    assert chinese != english and chinese.split("%")[0] in _html(export)
    assert '<html lang="zh-hans">' in _html(export)
    assert not ExportRecord.objects.exists()


def test_a_refusal_keeps_its_reason_and_says_who_is_logged_in(agent, agent2, order):
    case = flows.analyzing(agent2, order)
    client = _page_client(agent)
    response = client.get(reverse("complaints:step", args=[case.number, "analyze"]))
    assert response.status_code == 403
    body = _html(response)
    assert 'data-error="permission_denied">You may not take this step on this case.' in body
    assert f"You are logged in as {agent.username}." in body

    bare = client.get(reverse("complaints:team"))  # PermissionDenied with no reason
    assert bare.status_code == 403
    assert "Your role does not allow this." in _html(bare)


def test_htmx_gets_the_message_alone_for_the_message_area(agent, agent2, order):
    case = flows.analyzing(agent2, order)
    response = _page_client(agent).get(
        reverse("complaints:step", args=[case.number, "analyze"]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 403
    assert response["HX-Retarget"] == "#messages"
    assert response["HX-Reswap"] == "innerHTML"
    body = _html(response).strip()
    assert body.startswith('<div class="alert alert-danger py-2" role="alert"')
    assert "You may not take this step on this case." in body and "<html" not in body

    missing = _page_client(agent).get("/cases/C-2020-999999/", HTTP_HX_REQUEST="true")
    assert missing.status_code == 404 and missing["HX-Retarget"] == "#messages"
    assert "No case C-2020-999999." in _html(missing)


def test_the_page_swaps_these_statuses_into_its_message_area(agent):
    """htmx drops an error response unless told to swap it: the layout's
    htmx-config swaps every status the error views answer."""
    body = _html(_page_client(agent).get(reverse("complaints:queue", args=["mine"])))
    assert '{"code": "(400|401|403|404|405|409|422|500|503)", "swap": true, "error": false}' in body


def test_an_expired_form_is_refused_with_what_to_do_and_nothing_saved(agent, order, caplog):
    case = flows.analyzing(agent, order)
    client = _page_client(agent, enforce_csrf_checks=True)
    client.get(case.get_absolute_url())  # the page set the CSRF cookie
    assert "csrftoken" in client.cookies
    with caplog.at_level(logging.WARNING, logger="casetracker.access"):
        response = client.post(
            reverse("complaints:step", args=[case.number, "cancel"]),
            {"reason": "typed before the token changed"},
        )
    assert response.status_code == 403
    body = _html(response)
    assert 'data-error="csrf_failed">This form had expired' in body
    assert "nothing was saved" in body
    assert Case.objects.get(pk=case.pk).state == case.state
    assert any("CSRF check failed" in record.getMessage() for record in caplog.records)

    client.cookies.pop("csrftoken")
    no_cookie = client.post(reverse("complaints:step", args=[case.number, "cancel"]), {})
    assert no_cookie.status_code == 403
    assert "did not send this site&#x27;s cookie" in _html(no_cookie)


class _FormFields(HTMLParser):
    """The action and the (name, value) pairs a browser would send for one form."""

    def __init__(self, form_id):
        super().__init__()
        self.form_id, self.inside, self.action, self.fields = form_id, False, None, []
        self._textarea = self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
            if self.inside:
                self.action = attrs.get("action")
        elif self.inside and tag == "input" and attrs.get("name"):
            self.fields.append((attrs["name"], attrs.get("value") or ""))
        elif self.inside and tag == "textarea":
            self._textarea = [attrs["name"], ""]
        elif self.inside and tag == "select":
            self._select = attrs["name"]
        elif self.inside and tag == "option" and "selected" in attrs:
            self.fields.append((self._select, attrs.get("value", "")))

    def handle_data(self, data):
        if self._textarea:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea:
            self.fields.append(tuple(self._textarea))
            self._textarea = None
        elif tag == "form":
            self.inside = False


def _form(html, form_id):
    parser = _FormFields(form_id)
    parser.feed(html)
    assert parser.action is not None, f"no form #{form_id}"
    return unescape(parser.action), parser.fields


def _multi(fields):
    data = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    return data


def _session_that_ended(user):
    """A browser that was logged in and still sends its session cookie, whose
    session the server no longer has (expired, or logged out elsewhere)."""
    client = Client()
    client.force_login(user)
    Session.objects.all().delete()
    return client


def test_a_buttons_address_opened_as_a_page_says_nothing_was_done(agent, order):
    """The session ended while the case page was open; "Assign to me" offers
    to log in again, and the log-in page sends back to the button's address."""
    case = flows.opened(agent, order)
    take = reverse("complaints:take", args=[case.number])
    events_before = case.events.count()
    client = _session_that_ended(agent)
    ended = client.post(take)
    assert ended.status_code == 401
    login = re.search(r'href="([^"]+)" target="_blank"', _html(ended)).group(1)
    assert login == "/accounts/login/?next=" + quote(take, "")
    response = client.post(
        login,
        {"username": agent.username, "password": "pw-for-tests-only"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == take
    assert response.status_code == 405 and response["Allow"] == "POST"
    body = _html(response)
    assert 'data-error="method_not_allowed">This address does something' in body
    assert f'href="{case.get_absolute_url()}" id="page-it-belongs-to"' in body
    assert case.events.count() == events_before  # nothing was done

    logout = client.get(reverse("logout"))  # no page above it: the start page
    assert logout.status_code == 405
    assert f'href="{reverse("complaints:home")}" id="page-it-belongs-to"' in _html(logout)
    htmx = client.get(take, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 405 and htmx["HX-Retarget"] == "#messages"
    api = client.get("/api/cases/")  # the API keeps its own answers
    assert api.status_code == 200


def test_htmx_without_a_session_is_not_drawn_the_log_in_page(agent, order, caplog):
    case = flows.analyzing(agent, order)
    client = _session_that_ended(agent)
    step = reverse("complaints:step", args=[case.number, "cancel"])
    page = f"http://testserver{case.get_absolute_url()}"

    never = Client().post(step, {"reason": "typed"})  # no session cookie at all
    assert never.status_code == 302 and never["Location"].startswith("/accounts/login/")
    plain = client.get(step)  # without htmx: Django's redirect, unchanged
    assert plain.status_code == 302 and plain["Location"].startswith("/accounts/login/")

    # A plain form: a page with what was typed (going back would re-ask the
    # form's page, which sends to the log-in page) and a link to log in.
    sent = client.post(
        step,
        {
            "reason": "顾客撤回投诉 <b>",
            "expected_state": "analyzing",
            "_insert_reply": "",
            "new_password": "never-shown",
        },
    )
    assert sent.status_code == 401
    body = _html(sent)
    assert 'data-error="session_ended">Your session had ended, so what you sent' in body
    assert ">顾客撤回投诉 &lt;b&gt;</textarea>" in body  # kept, and escaped
    assert 'for="typed-1">Reason</label>' in body  # the form's label, not "reason"
    assert ">analyzing</textarea>" not in body  # the page's state, not typed
    assert "never-shown" not in body
    assert f'href="/accounts/login/?next={quote(step, "")}" target="_blank"' in body
    assert Case.objects.get(pk=case.pk).state == "analyzing"

    # Logged in again (in another tab), the page's form sends it all again:
    # the typed text, the page's state and the button (app.js puts in the
    # new log-in's token: test_browser), never a password.
    action, fields = _form(body, "send-again")
    assert action == step
    assert ("expected_state", "analyzing") in fields and ("_insert_reply", "") in fields
    assert ("reason", "顾客撤回投诉 <b>") in fields
    assert [name for name, _value in fields].count("csrfmiddlewaretoken") == 1
    assert "new_password" not in dict(fields)
    client.force_login(agent)
    again = client.post(action, _multi(fields))
    assert again.status_code == 302
    cancelled = Case.objects.get(pk=case.pk)
    assert cancelled.state == "cancelled"
    assert cancelled.events.get(transition="cancel").payload["reason"] == "顾客撤回投诉 <b>"
    Session.objects.all().delete()

    link = client.get(step, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=page)
    assert link.status_code == 200 and "Location" not in link
    assert link["HX-Redirect"] == "/accounts/login/?next=" + quote(case.get_absolute_url(), "")
    elsewhere = client.get(
        step, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="https://evil.example.com/x/"
    )
    assert elsewhere["HX-Redirect"] == "/accounts/login/?next=" + quote(step, "")

    with caplog.at_level(logging.WARNING, logger="casetracker.access"):
        form = client.post(
            step, {"reason": "typed"}, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=page
        )
    assert form.status_code == 401
    assert form["HX-Retarget"] == "#messages" and form["HX-Reswap"] == "innerHTML"
    body = _html(form)
    assert 'data-error="session_ended">Your session has ended, so this was not sent' in body
    assert 'target="_blank"' in body and "<html" not in body
    assert any("session ended" in record.getMessage() for record in caplog.records)
    assert Case.objects.get(pk=case.pk).events.filter(transition="cancel").count() == 1


def test_a_form_sent_again_after_the_case_moved_on_is_a_conflict_keeping_the_text(agent, order):
    """The session-ended page's form carries the state the case page was
    drawn at: sent again after a colleague moved the case on, it is refused
    as a conflict with the text still there, not applied to the new state."""
    from complaints import workflow

    case = flows.opened(agent, order)
    client = _session_that_ended(agent)
    step = reverse("complaints:step", args=[case.number, "add_note"])
    sent = client.post(step, {"expected_state": "confirming", "text": "客户说明天在家"})
    assert sent.status_code == 401
    action, fields = _form(_html(sent), "send-again")

    workflow.case_confirm(case=case, actor=agent)  # meanwhile, from another page
    client.force_login(agent)
    again = client.post(action, _multi(fields))
    assert again.status_code == 409
    assert "changed meanwhile" in _html(again) and "客户说明天在家" in _html(again)
    assert not case.events.filter(kind="note").exists()


def test_the_send_again_page_shows_the_forms_labels_and_choices(agent, order):
    """The new-case form sent after the session ended: each value under its
    field's label in the user's language, a fixed choice as the same choice
    (its stored value selected), a value outside the choices as it was sent,
    and a field no form of the address has under its name."""
    client = _session_that_ended(agent)
    client.cookies["django_language"] = "zh-hans"
    sent = client.post(
        reverse("complaints:new_case") + f"?order={order.pk}",
        {"source": "chat", "summary": "鞋码偏小", "marketplace": "nowhere", "extra": "x"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert sent.status_code == 401
    body = _html(sent)
    with translation.override("zh-hans"):
        summary, source = translation.gettext("summary"), translation.gettext("source")
        chat = str(dict(CaseSource.choices)["chat"])
    assert summary != "summary" and f">{summary}</label>" in body
    assert f">{source}</label>" in body
    assert '<option value="chat" selected>' + chat + "</option>" in body
    assert ">nowhere</textarea>" in body  # no such marketplace: kept as sent
    assert 'for="typed-4">Extra</label>' in body
    assert ("source", "chat") in _form(body, "send-again")[1]


def test_a_forged_form_never_reaches_the_send_again_page(agent, order):
    """The page that offers to send a form again is drawn only for a form
    that passed the CSRF check: another site's form, sent with the session
    cookie of an ended session, is refused before it, so no one can put
    their fields in front of the user to send after logging in."""
    case = flows.analyzing(agent, order)
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    Session.objects.all().delete()
    step = reverse("complaints:step", args=[case.number, "cancel"])
    forged = client.post(step, {"reason": "forged", "expected_state": "analyzing"})
    assert forged.status_code == 403
    assert 'data-error="csrf_failed"' in _html(forged) and "send-again" not in _html(forged)
    assert Case.objects.get(pk=case.pk).state == "analyzing"


def test_a_form_with_files_says_they_were_not_kept(agent, order):
    case = flows.opened(agent, order)
    client = _session_that_ended(agent)
    photo = SimpleUploadedFile("破损.jpg", b"\xff\xd8\xff", content_type="image/jpeg")
    step = reverse("complaints:step", args=[case.number, "add_evidence"])
    sent = client.post(step, {"expected_state": "confirming", "description": "外箱", "file": photo})
    assert sent.status_code == 401
    body = _html(sent)
    assert 'id="files-not-kept"' in body and "attach 破损.jpg again" in body
    assert ("description", "外箱") in _form(body, "send-again")[1]


def test_a_request_for_another_host_is_a_plain_400(agent):
    client = _page_client(agent)
    response = client.get("/", HTTP_HOST="evil.example.com")
    assert response.status_code == 400
    body = _html(response)
    assert 'data-error="bad_request">The server could not read this request.' in body
    assert "evil.example.com" not in body  # what the server checks is not echoed
    api = client.get("/api/cases/", HTTP_HOST="evil.example.com")
    assert api.status_code == 400 and api.json()["code"] == "bad_request"


def _boom(request):
    raise RuntimeError("an unexpected bug, with internals in its message")


urlpatterns = [
    path("boom/", _boom),
    path("api/boom/", _boom),
    path("", include("casetracker.urls")),
]


@pytest.mark.urls(__name__)
def test_an_unexpected_error_is_a_plain_500_without_internals(agent):
    client = _page_client(agent)
    response = client.get("/boom/")
    assert response.status_code == 500
    body = _html(response)
    assert '<h1 class="h3">Server error</h1>' in body
    assert 'data-error="server_error">Something went wrong on the server' in body
    assert "internals" not in body and "RuntimeError" not in body
    assert "Retry-After" not in response
    api = client.get("/api/boom/")
    assert api.status_code == 500
    assert api.json()["code"] == "server_error" and "internals" not in api.json()["detail"]


@pytest.fixture
def database_gone(agent):
    """The default database made unreachable for real: the connection closed
    and pointed at a file in a missing directory (SQLite) or a port nobody
    listens on (PostgreSQL). Restored afterwards."""
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent-directory/casetracker.sqlite3"
    else:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(port))
    yield
    connection.close()
    connection.settings_dict.clear()
    connection.settings_dict.update(saved)


@pytest.mark.django_db(transaction=True)
def test_a_database_that_does_not_answer_is_a_503_saying_to_check(
    reference_data, agent, request, caplog
):
    client = _page_client(agent)
    request.getfixturevalue("database_gone")
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get(reverse("complaints:queue", args=["mine"]))
    assert response.status_code == 503
    logged = [record for record in caplog.records if record.name == "django.request"]
    assert logged and isinstance(logged[0].exc_info[1], OperationalError)  # with its traceback
    assert response["Retry-After"] == str(errors.RETRY_AFTER_SECONDS)
    body = _html(response)
    assert '<h1 class="h3">Database unavailable</h1>' in body
    assert 'data-error="database_unavailable">The database did not answer' in body
    assert "may not have been saved" in body

    htmx = client.post(reverse("complaints:take", args=["C-2026-000001"]), HTTP_HX_REQUEST="true")
    assert htmx.status_code == 503 and htmx["HX-Retarget"] == "#messages"
    assert "The database did not answer" in _html(htmx) and "<html" not in _html(htmx)

    api = client.get("/api/cases/")
    assert api.status_code == 503 and api["Retry-After"]
    assert api.json()["code"] == "database_unavailable"

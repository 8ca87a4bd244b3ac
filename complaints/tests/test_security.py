"""Hardening that every page shares: CSRF on every POST, the security headers,
a Content-Security-Policy the pages keep (no inline script or style)."""

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.test import Client

from . import test_page_roles
from .test_page_roles import PAGES, _admin_request, _admin_rows, _page_request, _state

pytestmark = pytest.mark.django_db

world = test_page_roles.world  # the same objects as the role matrix
CSRF_SECRET = "k" * 32  # a well-formed token (cookie and header carry the same)


def _all_paths(world):
    """Every URL of the URLconf, resolved against the world's objects."""
    from .test_api_roles import MATRIX as API
    from .test_api_roles import _url as api_url

    paths = {_page_request(name, world) for name in PAGES}
    paths |= {_admin_request(name, world) for name in _admin_rows()}
    paths |= {api_url(name, world) for name in API}
    return sorted(paths)


def _strict_client(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def _refused_for_csrf(response):
    body = response.content.decode()
    if response.wsgi_request.path == "/api/docs/":
        # An HTML page of the API: DRF refuses (CSRF Failed) but renders only
        # the status; the control test shows the token gets past it.
        return response.status_code == 403 and body == "403 Forbidden"
    # A page's form: the application's refusal page (complaints/views/errors.py);
    # the API: DRF's own JSON.
    return response.status_code == 403 and (
        'data-error="csrf_failed"' in body or "CSRF Failed" in body
    )


def test_every_post_without_a_csrf_token_is_refused(world, agent, admin_user):
    """A forged form from another site, for every URL, as the case's agent and
    as an admin: refused before any view runs, nothing changed."""
    before = _state()
    paths = _all_paths(world)
    assert len(paths) > 200  # pages, the whole admin and the API
    for user in (agent, admin_user):
        client = _strict_client(user)
        for path in paths:
            # A forged form carries neither our token nor our CSRF cookie (the
            # refusal page sets one for its own forms).
            client.cookies.pop("csrftoken", None)
            response = client.post(path, {"text": "forged"})
            if path.startswith("/api/offers/-5/"):  # the API's catch-all: no view at all
                assert response.status_code == 404
                continue
            assert _refused_for_csrf(response), (user.username, path, response.content[:500])
    assert _state() == before


def test_with_the_token_the_same_posts_reach_their_views(world, agent, admin_user):
    """The control: the refusal above is the CSRF check, not something else."""
    for user in (agent, admin_user):
        client = _strict_client(user)
        client.cookies["csrftoken"] = CSRF_SECRET
        for name, (method, *_statuses) in PAGES.items():
            if method != "POST":
                continue
            path = _page_request(name, world)
            response = client.post(path, {}, HTTP_X_CSRFTOKEN=CSRF_SECRET)
            assert not _refused_for_csrf(response), (user.username, path)
            if "logout" in name:
                client.force_login(user)
        docs = client.post("/api/docs/", {}, HTTP_X_CSRFTOKEN=CSRF_SECRET)
        assert docs.status_code == 415  # past the CSRF check, refused by the view


def test_every_page_carries_the_security_headers(world, admin_user, client):
    client.force_login(admin_user)
    for name, (method, *_statuses) in PAGES.items():
        if method != "GET":
            continue
        response = client.get(_page_request(name, world))
        assert response["X-Frame-Options"] == "DENY", name
        assert response["X-Content-Type-Options"] == "nosniff", name
        assert response["Referrer-Policy"] == "same-origin", name
        assert response["Cross-Origin-Opener-Policy"] == "same-origin", name
        features = dict(part.split("=") for part in response["Permissions-Policy"].split(", "))
        for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
            assert features[feature] == "()", (name, feature)
        policy = _policy(response)
        assert policy["script-src"] == ["'self'"], name
        assert policy["style-src"] == ["'self'"], name
        assert policy["frame-ancestors"] == ["'none'"], name
        assert policy["object-src"] == ["'none'"], name


def _policy(response):
    header = response["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


class _InlineCode(HTMLParser):
    """Collects what a strict policy would block: inline scripts, event
    handler attributes, style attributes and elements, javascript: links."""

    def __init__(self):
        super().__init__()
        self.found = []
        self._script = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for attr, value in attrs.items():
            if attr.startswith("on") or attr == "style":
                self.found.append(f"<{tag} {attr}=…>")
            if attr in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {attr}=javascript:…>")
        if tag == "style":
            self.found.append("<style>")
        if tag == "script":
            data_block = attrs.get("type", "").lower() in ("application/json", "text/template")
            self._script = None if attrs.get("src") or data_block else tag

    def handle_data(self, data):
        if self._script and data.strip():
            self.found.append(f"<script>{data.strip()[:40]}…")

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None


def _inline_code(html):
    parser = _InlineCode()
    parser.feed(html)
    return parser.found


def test_the_parser_finds_inline_code():
    html = (
        '<p onclick="x()">a</p><div style="color:red"></div><style>p{}</style>'
        '<script>alert(1)</script><script src="/a.js"></script>'
        '<script type="application/json">{"a": 1}</script><a href="javascript:go()">x</a>'
    )
    assert len(_inline_code(html)) == 5


def test_no_page_holds_inline_script_or_style(world, agent, supervisor, admin_user):
    """What the policy forbids is absent from every page each role can open,
    the admin's pages included."""
    admin_user.is_superuser = True  # every admin page, whatever the role allows
    admin_user.save(update_fields=["is_superuser"])
    pages = {}
    for user in (agent, supervisor, admin_user):
        client = Client()
        client.force_login(user)
        for name, (method, *_statuses) in PAGES.items():
            if method == "GET" and "logout" not in name:
                pages[(user.username, name)] = (client, _page_request(name, world))
        for name, (method, *_statuses) in _admin_rows().items():
            if method == "GET":
                pages[(user.username, f"admin:{name}")] = (client, _admin_request(name, world))
    checked = 0
    for key, (client, path) in pages.items():
        response = client.get(path)
        if response.status_code != 200 or "text/html" not in response["Content-Type"]:
            continue
        checked += 1
        assert _inline_code(response.content.decode()) == [], key
    assert checked > 150


def test_the_session_cookie_is_httponly_lax_and_secure_in_production(agent, settings):
    from .test_project import SECRET, _settings_in_subprocess

    show = (
        "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE)"
    )
    production = _settings_in_subprocess("-c", show, DEBUG="0", SECRET_KEY=SECRET)
    assert production.stdout.split() == ["True", "True", "True", "Lax"], production.stderr
    # Secure cookies carry the __Host- prefix; plain HTTP keeps Django's names.
    names = (
        "from django.conf import settings as s; print(s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME)"
    )
    secure = _settings_in_subprocess("-c", names, DEBUG="0", SECRET_KEY=SECRET)
    assert secure.stdout.split() == ["__Host-sessionid", "__Host-csrftoken"], secure.stderr
    plain = _settings_in_subprocess("-c", names, DEBUG="0", SECRET_KEY=SECRET, SECURE_COOKIES="0")
    assert plain.stdout.split() == ["sessionid", "csrftoken"], plain.stderr
    # ... and a real login answers with exactly those flags, and what the
    # prefix asks of a cookie a browser keeps: Secure, Path=/, no Domain.
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME = secure.stdout.split()
    client = Client()
    page = client.get("/accounts/login/")
    assert f'data-csrf-cookie="{settings.CSRF_COOKIE_NAME}"' in page.content.decode()
    response = client.post(
        "/accounts/login/", {"username": agent.username, "password": "pw-for-tests-only"}
    )
    assert response.status_code == 302
    session, csrf = response.cookies["__Host-sessionid"], response.cookies["__Host-csrftoken"]
    assert session["httponly"] and session["secure"] and session["samesite"] == "Lax"
    for cookie in (session, csrf):
        assert cookie["secure"] and cookie["path"] == "/" and not cookie["domain"]


def _log_in(client, username, password, address="10.0.0.7"):
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_wrong_passwords_lock_the_login_for_a_while(agent, agent2, caplog, settings):
    """Five wrong passwords lock that user name from that address for the
    cool-off, even with the right password; others keep working."""
    import time_machine
    from django.utils import timezone

    right = "pw-for-tests-only"
    client = Client()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert _log_in(client, agent.username, "guess").status_code == 200
        locked = _log_in(client, agent.username, "guess")
        assert locked.status_code == 429
        assert "Too many failed logins" in locked.content.decode()
        assert "15 minutes" in locked.content.decode() and locked["Retry-After"] == "900"
        assert _log_in(client, agent.username, right).status_code == 429  # still paused
        assert "_auth_user_id" not in client.session
        # Another agent in the same office, and the same agent elsewhere, log in.
        assert _log_in(Client(), agent2.username, right).status_code == 302
        assert _log_in(Client(), agent.username, right, address="10.0.0.8").status_code == 302
        clock.shift(settings.AXES_COOLOFF_TIME + timedelta(seconds=1))
        assert _log_in(client, agent.username, right).status_code == 302
    failures = [r.getMessage() for r in caplog.records if r.name == "casetracker.access"]
    assert f"failed login for '{agent.username}' from 10.0.0.7" in failures
    assert any(m.startswith("refused 429 POST /accounts/login/") for m in failures)


def test_a_good_login_resets_the_count(agent, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _log_in(client, agent.username, "guess")
    assert _log_in(client, agent.username, "pw-for-tests-only").status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _log_in(client, agent.username, "guess").status_code == 200  # counting anew


def test_one_guess_at_many_user_names_pauses_the_address(agent, caplog, settings):
    """Password spraying: one wrong password for each of many names never
    fails twice on one name, but the address's failures add up."""
    import time_machine
    from django.utils import timezone

    right = "pw-for-tests-only"
    assert settings.LOGIN_ADDRESS_FAILURE_LIMIT == 30  # the default
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for n in range(29):
            assert _log_in(Client(), f"staff{n}", "Spring2026!").status_code == 200
        paused = _log_in(Client(), "staff29", "Spring2026!")
        assert paused.status_code == 429
        page = paused.content.decode()
        assert "After 30 failed log-ins from this address" in page and "15 minutes" in page
        assert paused["Retry-After"] == "900"
        chinese = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert (
            "来自该地址的所有登录暂停 15 分钟" in _log_in(chinese, "staff30", "x").content.decode()
        )
        # Every name from that address waits, the right password too ...
        assert _log_in(Client(), agent.username, right).status_code == 429
        # ... and the same name elsewhere logs in.
        assert _log_in(Client(), agent.username, right, address="10.0.0.8").status_code == 302
        clock.shift(settings.AXES_COOLOFF_TIME + timedelta(seconds=1))
        assert _log_in(Client(), agent.username, right).status_code == 302
    refusals = [r.getMessage() for r in caplog.records if r.name == "casetracker.access"]
    assert any(
        m.startswith("refused 429 POST /accounts/login/") and "from this address paused" in m
        for m in refusals
    )


def test_an_offices_mistypes_followed_by_good_log_ins_do_not_pause_it(
    agent, agent2, supervisor, settings
):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 6
    right = "pw-for-tests-only"
    for user in (agent, agent2, supervisor):  # 4 + 4 + 4 mistypes, each then logs in
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert _log_in(Client(), user.username, "typo").status_code == 200
        assert _log_in(Client(), user.username, right).status_code == 302
    for n in range(5):  # what is left counts: five failures, one short of the pause
        assert _log_in(Client(), f"stranger{n}", "typo").status_code == 200
    assert _log_in(Client(), "stranger5", "typo").status_code == 429


def test_the_address_limit_is_read_from_the_environment_and_0_turns_it_off(agent, settings):
    from .test_project import _settings_in_subprocess

    show = ["-c", "from django.conf import settings; print(settings.LOGIN_ADDRESS_FAILURE_LIMIT)"]
    assert (
        _settings_in_subprocess(*show, DEBUG="1", LOGIN_ADDRESS_FAILURE_LIMIT=" 50 ").stdout
        == "50\n"
    )
    refused = _settings_in_subprocess(*show, DEBUG="1", LOGIN_ADDRESS_FAILURE_LIMIT="many")
    assert refused.returncode != 0
    assert "LOGIN_ADDRESS_FAILURE_LIMIT must be a whole number (0: off)" in refused.stderr
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 0
    for n in range(40):
        assert _log_in(Client(), f"staff{n}", "Spring2026!").status_code == 200
    assert _log_in(Client(), agent.username, "pw-for-tests-only").status_code == 302


def test_an_admin_unlocks_a_login_by_deleting_its_attempts(agent, admin_user, settings):
    from axes.models import AccessAttempt

    for _ in range(settings.AXES_FAILURE_LIMIT):
        _log_in(Client(), agent.username, "guess")
    assert _log_in(Client(), agent.username, "pw-for-tests-only").status_code == 429
    admin_user.is_staff = True
    admin_user.save(update_fields=["is_staff"])
    staff = Client()
    staff.force_login(admin_user)
    attempt = AccessAttempt.objects.get(username=agent.username)
    response = staff.post(
        f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert response.status_code == 200
    assert _log_in(Client(), agent.username, "pw-for-tests-only").status_code == 302


def test_refused_requests_are_logged_with_who_and_why(agent, outsider, order, caplog, client):
    from complaints.api.tokens import issue

    from . import flows

    client.force_login(agent)
    assert client.get("/approvals/").status_code == 403
    assert client.get("/api/cases/", HTTP_AUTHORIZATION="Token nonsense").status_code == 401
    case = flows.opened(agent, order)
    token = issue(outsider)
    assert (
        client.post(
            f"/api/cases/{case.number}/notes/",
            '{"text": "x"}',
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {token}",
        ).status_code
        == 403
    )
    lines = [r.getMessage() for r in caplog.records if r.name == "casetracker.access"]
    assert lines[0].startswith("refused 403 GET /approvals/ for agent_a (agent) from 127.0.0.1")
    assert lines[1].startswith("refused 401 GET /api/cases/ for anonymous from 127.0.0.1")
    assert lines[2].startswith(
        f"refused 403 POST /api/cases/{case.number}/notes/ for outsider (no role)"
    )
    assert len(lines) == 3  # the successful requests are not logged


def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(settings, rf):
    from complaints.security import client_ip

    request = rf.get("/", REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    settings.BEHIND_PROXY = False
    assert client_ip(request) == "10.1.1.1"  # a client's header is not trusted
    settings.BEHIND_PROXY = True
    assert client_ip(request) == "203.0.113.9"  # the entry our proxy added

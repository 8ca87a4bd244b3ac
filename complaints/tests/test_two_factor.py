"""The two-step log-in (complaints/two_factor.py): a code from an
authenticator app after the password, for the users who turn it on and for
every user of the roles in TWO_FACTOR_ROLES. Codes are computed here as the
app computes them, from the key and the clock, which each test holds still
and moves on a step (30 s) for each new code."""

import logging
import re
from base64 import b32encode

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken

from complaints import two_factor
from complaints.models import AuthenticatorKey, Case, CaseEvent, Notification
from complaints.security import seconds_between_writes

from . import flows
from .test_project import SECRET, _settings_in_subprocess

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-only"  # the factories'
QUEUE = reverse("complaints:queue", args=["mine"])
ACCOUNT = reverse("two_factor")
SETUP = reverse("two_factor_setup")
VERIFY = reverse("two_factor_verify")


def _code(key: AuthenticatorKey) -> str:
    """The six digits the app shows now for ``key``."""
    totp = TOTP(key.bin_key, key.step, key.t0, key.digits, key.drift)
    return f"{totp.token():06d}"


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def _log_in(user) -> Client:
    """A browser that gave ``user``'s password on the log-in page."""
    client = Client()
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:300]
    return client


def _turn_on(client, user, clock) -> list[str]:
    """Set up a key on the page, as a user does; answers the backup codes."""
    page = client.get(SETUP)
    assert page.status_code == 200
    key = AuthenticatorKey.objects.get(user=user, confirmed=False)
    done = client.post(SETUP, {"code": _code(key)})
    assert done.status_code == 200, done.content.decode()[:500]
    clock.shift(30)  # the next code the app shows
    return re.findall(r'<li class="col">([a-z2-7]{8})</li>', done.content.decode())


def _turned_on(user, clock) -> list[str]:
    return _turn_on(_log_in(user), user, clock)


def test_a_user_turns_it_on_and_then_logs_in_with_a_code(
    agent, caplog, mailoutbox, django_capture_on_commit_callbacks
):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        here = _log_in(agent)
        account = here.get(ACCOUNT).content.decode()
        assert 'data-on="false"' in account and f'href="{SETUP}"' in account
        assert f'href="{ACCOUNT}"' in here.get(reverse("password_change")).content.decode()

        page = here.get(SETUP)
        body = page.content.decode()
        assert "<svg" in body and 'class="qrline"' in body  # the QR code, drawn inline
        assert page["Cache-Control"].startswith("max-age=0") and "no-store" in page["Cache-Control"]
        key = AuthenticatorKey.objects.get(user=agent, confirmed=False)
        secret = re.search(r'id="secret">([A-Z2-7 ]+)</code>', body)
        assert secret.group(1).replace(" ", "") == b32encode(key.bin_key).decode()
        reloaded = here.get(SETUP).content.decode()
        assert reloaded.count(secret.group(1)) == 1  # a reload: the same key
        assert AuthenticatorKey.objects.filter(user=agent).count() == 1

        wrong = here.post(SETUP, {"code": _wrong(_code(key))})
        assert wrong.status_code == 200 and wrong.context["form"].errors["code"]
        assert not two_factor.is_on(agent)
        clock.shift(5)  # past the second the wrong code locked the key for
        with (
            caplog.at_level(logging.INFO, logger="casetracker.access"),
            django_capture_on_commit_callbacks(execute=True),
        ):
            codes = _turn_on(here, agent, clock)
        assert len(codes) == 10 and len(set(codes)) == 10
        assert two_factor.is_on(agent) and two_factor.backup_codes_left(agent) == 10
        assert any(
            r.getMessage().startswith(f"two-step log-in turned on: {agent.username} from")
            for r in caplog.records
        )
        told = Notification.objects.get(recipient=agent, kind="account")
        assert told.message.startswith(
            "The two-step log-in was turned on for your account (from 127.0.0.1). If this was not"
        )
        assert [m.to for m in mailoutbox] == [[agent.email]]  # and e-mailed
        listed = here.get(reverse("complaints:notifications")).content.decode()
        assert "The two-step log-in was turned on for your account" in listed
        assert here.get(QUEUE).status_code == 200  # this browser entered the code
        assert 'data-on="true"' in here.get(ACCOUNT).content.decode()

        there = _log_in(agent)  # the password alone: every page waits for the code
        held = there.get(QUEUE)
        assert held.status_code == 302 and held["Location"] == f"{VERIFY}?next=%2Fqueue%2Fmine%2F"
        case_page = there.get(reverse("complaints:queue", args=["unassigned"]))
        assert case_page.status_code == 302 and case_page["Location"].startswith(VERIFY)
        api = there.get("/api/cases/")
        assert api.status_code == 403 and api.json()["code"] == "two_factor_required"
        assert there.get("/admin/").status_code == 302
        verify = there.get(held["Location"])
        body = verify.content.decode()
        assert verify.status_code == 200 and 'name="code"' in body
        assert 'autocomplete="one-time-code"' in body
        assert reverse("complaints:reviews") not in body  # no navigation, no counts, yet

        with caplog.at_level(logging.INFO, logger="casetracker.access"):
            refused = there.post(VERIFY, {"code": _wrong(_code(key)), "next": QUEUE})
        assert refused.status_code == 200
        assert "That code is not right" in refused.content.decode()
        assert any(
            r.levelname == "WARNING"
            and r.getMessage().startswith(f"two-step code refused: {agent.username}")
            for r in caplog.records
        )
        assert there.get(QUEUE).status_code == 302  # still held back
        clock.shift(5)
        old_session = there.cookies["sessionid"].value
        key.refresh_from_db()
        entered = there.post(VERIFY, {"code": _code(key), "next": QUEUE})
        assert entered.status_code == 302 and entered["Location"] == QUEUE
        assert there.cookies["sessionid"].value != old_session  # a new session key
        assert there.get(QUEUE).status_code == 200
        assert there.get("/api/cases/").status_code == 200
        # The same code again, in a third browser within its 30 seconds: used up.
        third = _log_in(agent)
        again = third.post(VERIFY, {"code": _code(key), "next": QUEUE})
        assert again.status_code == 200 and third.get(QUEUE).status_code == 302


def test_a_backup_code_logs_in_once_and_says_how_many_are_left(agent):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        codes = _turned_on(agent, clock)
        first = _log_in(agent)
        entered = first.post(VERIFY, {"code": codes[3].upper(), "next": QUEUE}, follow=True)
        assert entered.redirect_chain[-1][0] == QUEUE
        assert "You logged in with a backup code; 9 are left." in entered.content.decode()
        assert two_factor.backup_codes_left(agent) == 9
        assert Notification.objects.filter(
            recipient=agent, message__startswith="A backup code was used to log in"
        ).exists()
        clock.shift(5)
        second = _log_in(agent)
        assert second.post(VERIFY, {"code": codes[3], "next": QUEUE}).status_code == 200
        assert second.get(QUEUE).status_code == 302  # that code is used up
        assert "9 backup codes are left." in first.get(ACCOUNT).content.decode()


def test_wrong_codes_lock_the_key_for_a_while(agent):
    """django-otp's throttle: after a wrong code even the right one waits
    (1 s, then 2, 4 ...), so six digits cannot be guessed at speed."""
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _turned_on(agent, clock)
        key = AuthenticatorKey.objects.get(user=agent)
        client = _log_in(agent)
        for _ in range(3):
            client.post(VERIFY, {"code": _wrong(_code(key))})
            clock.shift(10)
        clock.shift(-10)  # just after the third wrong code: locked for 4 s
        locked = client.post(VERIFY, {"code": _code(key)})
        assert "Too many wrong codes: wait 4 seconds, then try again." in locked.content.decode()
        assert client.get(QUEUE).status_code == 302
        clock.shift(5)
        assert client.post(VERIFY, {"code": _code(key), "next": QUEUE}).status_code == 302
        assert client.get(QUEUE).status_code == 200
        key.refresh_from_db()
        assert key.throttling_failure_count == 0  # a right code clears the count


def test_the_password_alone_never_replaces_the_key(agent):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _turned_on(agent, clock)
        thief = _log_in(agent)
        for response in (thief.get(SETUP), thief.post(SETUP, {"code": "123456"})):
            assert response.status_code == 302 and response["Location"].startswith(VERIFY)
        refused = thief.post(ACCOUNT, {"action": "off", "code": "123456"})
        assert refused.status_code == 401  # a form: held back, what was typed kept
        assert AuthenticatorKey.objects.filter(user=agent).count() == 1  # the one key, unchanged
        assert two_factor.is_on(agent)


def test_a_form_sent_before_the_code_is_entered_keeps_what_was_typed(agent, order):
    """A browser logged in before the key was turned on (elsewhere) must
    enter the code within a few minutes; a form it sends then is not
    lost."""
    case = flows.analyzing(agent, order)
    step = reverse("complaints:step", args=[case.number, "cancel"])
    with time_machine.travel(timezone.now(), tick=False) as clock:
        desk = _log_in(agent)  # no key yet: the password is enough
        assert desk.get(QUEUE).status_code == 200
        _turned_on(agent, clock)  # on the agent's phone's browser
        assert desk.get(QUEUE).status_code == 200  # read again within 5 minutes
        clock.shift(seconds_between_writes())  # 5 minutes: read again
        events = CaseEvent.objects.filter(case=case).count()
        sent = desk.post(step, {"reason": "顾客撤回投诉", "expected_state": "analyzing"})
        assert sent.status_code == 401
        body = sent.content.decode()
        assert 'data-error="two_factor_required"' in body
        assert ">顾客撤回投诉</textarea>" in body
        assert f'href="{VERIFY}?next=' in body and "Enter the code in a new tab" in body
        htmx = desk.post(
            step,
            {"reason": "顾客撤回投诉", "expected_state": "analyzing"},
            HTTP_HX_REQUEST="true",
            HTTP_HX_CURRENT_URL=f"http://testserver{case.get_absolute_url()}",
        )
        assert htmx.status_code == 401 and htmx["HX-Retarget"] == "#messages"
        assert f"{VERIFY}?next={case.get_absolute_url().replace('/', '%2F')}" in (
            htmx.content.decode()
        )
        link = desk.get(case.get_absolute_url(), HTTP_HX_REQUEST="true")
        assert link["HX-Redirect"].startswith(VERIFY)  # a whole page, not inside the case
        assert Case.objects.get(pk=case.pk).state == "analyzing"  # nothing done
        assert CaseEvent.objects.filter(case=case).count() == events


def test_a_role_that_must_have_it_sets_it_up_at_its_first_log_in(supervisor, agent, settings):
    settings.TWO_FACTOR_ROLES = frozenset({"supervisor"})
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert _log_in(agent).get(QUEUE).status_code == 200  # agents: the password will do
        client = _log_in(supervisor)
        for page in (reverse("complaints:home"), reverse("complaints:approvals"), ACCOUNT):
            held = client.get(page)
            assert held.status_code == 302 and held["Location"].startswith(SETUP), page
        assert client.get(VERIFY)["Location"].startswith(SETUP)  # nothing to verify yet
        setup = client.get(SETUP).content.decode()
        assert 'id="setup-required"' in setup
        _turn_on(client, supervisor, clock)
        assert client.get(reverse("complaints:approvals")).status_code == 200
        account = client.get(ACCOUNT).content.decode()
        assert 'id="two-factor-required"' in account and 'id="turn-off-form"' not in account
        key = AuthenticatorKey.objects.get(user=supervisor)
        refused = client.post(ACCOUNT, {"action": "off", "code": _code(key)})
        assert refused.status_code == 403 and two_factor.is_on(supervisor)


def test_a_superuser_counts_as_an_admin(settings):
    settings.TWO_FACTOR_ROLES = frozenset({"admin"})
    root = get_user_model().objects.create_superuser("root", password=PASSWORD)
    held = _log_in(root).get("/admin/")
    assert held.status_code == 302 and held["Location"].startswith(SETUP)


def test_turning_it_off_takes_a_code(agent, caplog):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _turned_on(agent, clock)
        key = AuthenticatorKey.objects.get(user=agent)
        client = _log_in(agent)
        client.post(VERIFY, {"code": _code(key)})
        clock.shift(30)
        refused = client.post(ACCOUNT, {"action": "off", "code": _wrong(_code(key))})
        assert refused.status_code == 400 and "That code is not right" in refused.content.decode()
        assert two_factor.is_on(agent)
        clock.shift(30)
        with caplog.at_level(logging.INFO, logger="casetracker.access"):
            off = client.post(ACCOUNT, {"action": "off", "code": _code(key)})
        assert off.status_code == 302 and not two_factor.is_on(agent)
        assert not StaticToken.objects.filter(device__user=agent).exists()
        assert any(r.getMessage().startswith("two-step log-in turned off") for r in caplog.records)
        assert Notification.objects.filter(
            recipient=agent,
            message__startswith="The two-step log-in of your account was turned off",
        ).exists()
        assert _log_in(agent).get(QUEUE).status_code == 200  # the password alone again


def test_new_backup_codes_replace_the_old_ones(agent):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        old = _turned_on(agent, clock)
        client = _log_in(agent)  # a log-in that entered one of the backup codes
        assert client.post(VERIFY, {"code": old[1]}).status_code == 302
        made = client.post(ACCOUNT, {"action": "backup-codes"})
        new = re.findall(r'<li class="col">([a-z2-7]{8})</li>', made.content.decode())
        assert made.status_code == 200 and len(new) == 10 and not set(new) & set(old)
        assert "no-store" in made["Cache-Control"]
        assert client.get(QUEUE).status_code == 200  # still in after making new ones
        stale = _log_in(agent)
        stale.post(VERIFY, {"code": old[0]})
        assert stale.get(QUEUE).status_code == 302
        clock.shift(5)  # past the lock the refused code set
        fresh = _log_in(agent)
        fresh.post(VERIFY, {"code": new[0]})
        assert fresh.get(QUEUE).status_code == 200


def test_moving_to_a_new_phone_keeps_the_old_key_until_the_new_one_works(agent):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _turned_on(agent, clock)
        old = AuthenticatorKey.objects.get(user=agent)
        client = _log_in(agent)
        client.post(VERIFY, {"code": _code(old)})
        assert 'id="setup-replacing"' in client.get(SETUP).content.decode()
        new = AuthenticatorKey.objects.get(user=agent, confirmed=False)
        clock.shift(30)
        assert _log_in(agent).post(VERIFY, {"code": _code(old)}).status_code == 302  # still works
        clock.shift(30)
        assert client.post(SETUP, {"code": _code(new)}).status_code == 200
        assert list(AuthenticatorKey.objects.filter(user=agent)) == [new]
        clock.shift(30)
        assert _log_in(agent).post(VERIFY, {"code": _code(old)}).status_code == 200  # refused


def test_the_code_page_goes_only_to_this_sites_pages(agent):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _turned_on(agent, clock)
        key = AuthenticatorKey.objects.get(user=agent)
        client = _log_in(agent)
        away = client.post(VERIFY, {"code": _code(key), "next": "https://evil.example/"})
        assert away.status_code == 302 and away["Location"] == reverse("complaints:home")


def test_an_admin_lists_the_keys_without_their_secret_and_removes_a_lost_one(agent, admin_user):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _turned_on(agent, clock)
        key = AuthenticatorKey.objects.get(user=agent)
        admin_user.is_staff = True  # as a shop sets its admins up
        admin_user.save(update_fields=["is_staff"])
        admin = _log_in(admin_user)
        users = reverse("admin:auth_user_changelist")
        on = admin.get(f"{users}?two_step=on").context["cl"].result_list
        off = admin.get(f"{users}?two_step=off").context["cl"].result_list
        assert [u.username for u in on] == [agent.username]  # who has turned it on
        assert agent.username not in {u.username for u in off} and admin_user in off
        assert "column-two_step" in admin.get(users).content.decode()
        listed = admin.get(reverse("admin:complaints_authenticatorkey_changelist")).content.decode()
        assert agent.username in listed
        shown = admin.get(reverse("admin:complaints_authenticatorkey_change", args=[key.pk]))
        assert shown.status_code == 200 and key.key not in shown.content.decode()
        codes = admin.get(reverse("admin:otp_static_staticdevice_changelist")).content.decode()
        assert StaticToken.objects.filter(device__user=agent).first().token not in codes
        assert admin.get(reverse("admin:complaints_authenticatorkey_add")).status_code == 403
        deleted = admin.post(
            reverse("admin:complaints_authenticatorkey_delete", args=[key.pk]), {"post": "yes"}
        )
        assert deleted.status_code == 302 and not two_factor.is_on(agent)
        assert not two_factor.backup_codes_left(agent)  # they went with the key
        assert Notification.objects.filter(
            recipient=agent, message__startswith="An admin removed your two-step log-in key"
        ).exists()
        codes_list = reverse("admin:otp_static_staticdevice_changelist")
        assert "delete_selected" not in admin.get(codes_list).content.decode()
        assert _log_in(agent).get(QUEUE).status_code == 200  # the password alone again


def test_a_session_whose_key_was_removed_is_let_through_by_the_code_page(agent):
    """The session read "has a key" a moment before an admin removed it: the
    code page, asked, finds none and sends the user on."""
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _turned_on(agent, clock)
        client = _log_in(agent)
        assert client.get(QUEUE).status_code == 302
        AuthenticatorKey.objects.filter(user=agent).delete()
        went = client.get(f"{VERIFY}?next={QUEUE}")
        assert went.status_code == 302 and went["Location"] == QUEUE
        assert client.get(QUEUE).status_code == 200


def test_the_roles_setting_is_read_from_the_environment():
    show = "from django.conf import settings; print(sorted(settings.TWO_FACTOR_ROLES))"
    default = _settings_in_subprocess("-c", show, DEBUG="0", SECRET_KEY=SECRET)
    assert default.stdout.split() == ["[]"], default.stderr
    set_ = _settings_in_subprocess(
        "-c", show, DEBUG="0", SECRET_KEY=SECRET, TWO_FACTOR_ROLES=" supervisor, admin "
    )
    assert set_.stdout.strip() == "['admin', 'supervisor']", set_.stderr
    refused = _settings_in_subprocess(
        "-c", show, DEBUG="0", SECRET_KEY=SECRET, TWO_FACTOR_ROLES="admin,boss"
    )
    assert refused.returncode != 0
    assert "TWO_FACTOR_ROLES: unknown role boss (the roles are agent, supervisor, admin)." in (
        refused.stderr
    )


def test_someone_else_logs_in_at_a_desk_left_at_the_code_page(agent, agent2):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _turned_on(agent, clock)
        desk = _log_in(agent)  # left at the code page
        assert desk.get(QUEUE)["Location"].startswith(VERIFY)
        assert desk.get(reverse("login")).status_code == 200  # the log-in page, not the code's
        other = desk.post(reverse("login"), {"username": agent2.username, "password": PASSWORD})
        assert other.status_code == 302
        page = desk.get(QUEUE)
        assert page.status_code == 200 and page.context["user"] == agent2


def test_bad_input_on_the_code_pages_is_a_form_error(agent):
    """Nothing typed, markup, a NUL byte, 10,000 characters, a code of the
    wrong shape: refused on the form, never a 500, and no key is locked by
    what could not be a code."""
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _turned_on(agent, clock)
        key = AuthenticatorKey.objects.get(user=agent)
        client = _log_in(agent)
        for bad in ("", "   ", '<script>alert(1)</script>"', "12\x0034", "9" * 10_000, "１２３"):
            response = client.post(VERIFY, {"code": bad})
            assert response.status_code == 200, repr(bad[:20])
            assert response.context["form"].errors["code"], repr(bad[:20])
            assert "<script>alert" not in response.content.decode()
        key.refresh_from_db()
        assert key.throttling_failure_count == 0
        assert client.post(VERIFY, {"code": _code(key)}).status_code == 302
        unknown = client.post(ACCOUNT, {"action": "<b>everything</b>"})
        assert unknown.status_code == 400
        assert 'data-error="invalid_request"' in unknown.content.decode()
        assert "Unknown action on the two-step log-in." in unknown.content.decode()
        assert two_factor.is_on(agent)  # nothing changed


def test_setting_up_takes_the_apps_six_digits_only(agent):
    client = _log_in(agent)
    client.get(SETUP)
    refused = client.post(SETUP, {"code": "abcdefgh"})  # a backup code's shape
    assert refused.context["form"].errors["code"] == ["Enter the six digits the app shows."]
    key = AuthenticatorKey.objects.get(user=agent)
    assert not key.confirmed and key.throttling_failure_count == 0


def test_the_command_line_removes_a_key_when_no_admin_can_log_in(admin_user, settings, caplog):
    """The only admin lost their phone and backup codes, and admins must have
    a key: the server's shell gives the way back in."""
    from io import StringIO

    from django.core.management import CommandError, call_command

    settings.TWO_FACTOR_ROLES = frozenset({"admin"})
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = _log_in(admin_user)
        client.get(SETUP)
        _turn_on(client, admin_user, clock)
        with pytest.raises(CommandError, match="No user 'nobody'"):
            call_command("remove_two_step_key", "nobody")
        out = StringIO()
        with caplog.at_level(logging.INFO, logger="casetracker.access"):
            call_command("remove_two_step_key", admin_user.username, stdout=out)
        assert "their next log-in sets up a new key" in out.getvalue()
        assert not two_factor.is_on(admin_user) and not two_factor.backup_codes_left(admin_user)
        assert any("removed from the command line" in r.getMessage() for r in caplog.records)
        held = _log_in(admin_user).get(QUEUE)
        assert held.status_code == 302 and held["Location"].startswith(SETUP)
        with pytest.raises(CommandError, match="has no two-step log-in key"):
            call_command("remove_two_step_key", admin_user.username)


def _queries(client, path=QUEUE) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def test_a_page_costs_no_query_without_a_key_and_one_with_it(agent):
    """Whether a user owes a code is kept in the session: no query for it on
    a page; a log-in that entered its code reads its key once (an admin may
    have removed it)."""
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = _log_in(agent)
        _queries(client)  # the first page after the log-in
        without = _queries(client)
        _turn_on(client, agent, clock)
        _queries(client)
        assert _queries(client) == without + 1
        clock.shift(20)  # a later page (within the queue filters' 60 s cache)
        assert _queries(client) == without + 1

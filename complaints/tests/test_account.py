"""Each user changes their own password on the application's page."""

import logging

import pytest
from django.test import Client
from django.urls import reverse

from complaints.models import Notification

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-only"  # the factories'
PAGE = reverse("password_change")


def _log_in(client, user, password=PASSWORD):
    """Whether the log-in page lets ``user`` in with ``password``."""
    response = client.post(reverse("login"), {"username": user.username, "password": password})
    return response.status_code == 302


def _logged_in(user):
    client = Client()
    assert _log_in(client, user)
    return client


def _change(client, old, new, again=None):
    return client.post(
        PAGE, {"old_password": old, "new_password1": new, "new_password2": again or new}
    )


def test_a_user_changes_their_password_and_their_other_log_ins_end(agent, caplog):
    here, elsewhere = _logged_in(agent), _logged_in(agent)
    queue = here.get(reverse("complaints:queue", args=["mine"]))
    assert f'href="{PAGE}" title="Change password"' in queue.content.decode()  # the name links
    page = here.get(PAGE)
    assert page.status_code == 200
    body = page.content.decode()
    for field in ("old_password", "new_password1", "new_password2"):
        assert f'name="{field}"' in body
    assert 'autocomplete="current-password"' in body and 'autocomplete="new-password"' in body

    refused = {
        "the current password mistyped": _change(here, "not-it", "Harbour-lantern-42"),
        "a new one that is too common": _change(here, PASSWORD, "password123"),
        "two new ones that differ": _change(here, PASSWORD, "Harbour-lantern-42", "Harbour-42"),
    }
    for why, response in refused.items():
        assert response.status_code == 200, why
        assert response.context["form"].errors, why
    agent.refresh_from_db()
    assert agent.check_password(PASSWORD)  # nothing changed

    with caplog.at_level(logging.INFO, logger="casetracker.access"):
        changed = _change(here, PASSWORD, "Harbour-lantern-42")
    assert changed.status_code == 302 and changed["Location"] == reverse("complaints:home")
    assert any(
        record.getMessage().startswith(f"password changed by {agent.username} from")
        for record in caplog.records
    )
    told = Notification.objects.get(recipient=agent, kind="account")
    assert told.message.startswith("Your password was changed (from 127.0.0.1).")
    following = here.get(changed["Location"], follow=True)
    assert "Your password was changed." in following.content.decode()
    assert here.get(PAGE).status_code == 200  # this browser stays logged in
    gone = elsewhere.get(reverse("complaints:queue", args=["mine"]))
    assert gone.status_code == 302 and gone["Location"].startswith("/accounts/login/")
    assert not _log_in(Client(), agent)  # the old password no more
    assert _log_in(Client(), agent, "Harbour-lantern-42")


def test_the_page_speaks_the_users_language(agent):
    client = _logged_in(agent)
    body = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "<h1" in body and ">修改密码</h1>" in body
    assert "旧密码" in body  # Django's own labels, in its Chinese


def test_a_user_without_a_role_comes_back_to_the_page(outsider):
    """No queue to go to: the page again, saying it was done."""
    client = _logged_in(outsider)
    changed = _change(client, PASSWORD, "Harbour-lantern-42")
    assert changed.status_code == 302 and changed["Location"] == PAGE
    assert "Your password was changed." in client.get(PAGE).content.decode()


def test_a_password_change_needs_the_forms_token(agent):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    new = "Harbour-lantern-42"
    forged = client.post(
        PAGE, {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert forged.status_code == 403
    agent.refresh_from_db()
    assert agent.check_password(PASSWORD)


def test_an_admin_ends_all_of_someones_log_ins_by_a_new_password_or_inactive(agent, agent2):
    """README: a lost laptop or someone leaving."""
    queue = reverse("complaints:queue", args=["mine"])
    first, second = _logged_in(agent), _logged_in(agent2)
    agent.set_password("Set-by-the-admin-7")  # as the admin's "Reset password" does
    agent.save()
    agent2.is_active = False
    agent2.save()
    for client in (first, second):
        ended = client.get(queue)
        assert ended.status_code == 302 and ended["Location"].startswith("/accounts/login/")


def test_a_change_sent_after_the_session_ended_asks_for_the_passwords_again(agent):
    """Passwords are never carried to the send-again page: it says so, and
    offers no "Send it again" that would send an empty form."""
    from django.contrib.sessions.models import Session

    client = _logged_in(agent)
    Session.objects.all().delete()
    sent = _change(client, PASSWORD, "Harbour-lantern-42")
    assert sent.status_code == 401
    body = sent.content.decode()
    assert 'id="passwords-not-kept"' in body and "type them again" in body
    assert "Send it again" not in body and "Nothing was typed" not in body
    assert PASSWORD not in body and "Harbour-lantern-42" not in body
    agent.refresh_from_db()
    assert agent.check_password(PASSWORD)

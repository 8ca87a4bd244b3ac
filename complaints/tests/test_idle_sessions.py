"""A log-in ends after SESSION_IDLE_MINUTES without a request
(complaints.security.IdleSessionTimeout): on the clock the server reads, with
the session written down at most once in a few minutes, and a form sent
after it ended keeping what was typed."""

import logging
from datetime import timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from complaints.models import Case
from complaints.security import ACTIVE_AT

from . import flows
from .test_project import SECRET, _settings_in_subprocess

pytestmark = pytest.mark.django_db

QUEUE = reverse("complaints:queue", args=["mine"])


def _session_writes(client, path=QUEUE):
    """The status of a page and how many times it wrote the session."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    writes = [
        q["sql"]
        for q in captured
        if "django_session" in q["sql"] and q["sql"].lstrip().startswith(("UPDATE", "INSERT"))
    ]
    return response.status_code, len(writes)


def test_a_log_in_idle_past_the_limit_ends_and_a_form_sent_then_keeps_its_text(
    agent, order, settings, caplog
):
    settings.SESSION_IDLE_MINUTES = 60
    case = flows.analyzing(agent, order)
    step = reverse("complaints:step", args=[case.number, "cancel"])
    client = Client()
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client.force_login(agent)
        assert client.get(QUEUE).status_code == 200
        clock.move_to(start + timedelta(minutes=59))
        assert client.get(QUEUE).status_code == 200  # within the hour: still in
        clock.move_to(start + timedelta(minutes=59 + 64))  # 64 minutes without a request
        with caplog.at_level(logging.INFO, logger="casetracker.access"):
            sent = client.post(step, {"reason": "顾客撤回投诉", "expected_state": "analyzing"})
    assert sent.status_code == 401
    body = sent.content.decode()
    assert 'data-error="session_ended">' in body
    assert ">顾客撤回投诉</textarea>" in body  # kept, to send again after logging in
    assert Case.objects.get(pk=case.pk).state == "analyzing"  # nothing done
    assert any(
        record.getMessage().startswith(f"session of {agent.username} ended after 64 minutes")
        for record in caplog.records
    )
    assert not Session.objects.exists()  # logged out on the server, not only refused
    page = client.get(QUEUE)
    assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")


def test_a_log_in_in_use_outlives_the_idle_time_and_is_written_once_in_a_while(agent, settings):
    """A request every 50 minutes keeps an hour's limit from ending a day's
    work; the session is written when its last request is 3 minutes old (an
    hour's twentieth), not on every page."""
    settings.SESSION_IDLE_MINUTES = 60
    client = Client()
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client.force_login(agent)  # the log-in starts the clock: nothing to write
        assert _session_writes(client) == (200, 0)
        for hour in range(1, 9):
            clock.move_to(start + timedelta(minutes=50 * hour))
            assert _session_writes(client) == (200, 1), hour
            clock.shift(timedelta(minutes=2))
            assert _session_writes(client) == (200, 0), hour  # 2 minutes on: not again
        clock.shift(timedelta(minutes=2))  # 4 minutes after the last write
        assert _session_writes(client) == (200, 1)


def test_a_session_from_before_the_setting_starts_its_clock_at_its_next_request(agent, settings):
    settings.SESSION_IDLE_MINUTES = 0
    client = Client()
    client.force_login(agent)  # no clock while the limit is off
    settings.SESSION_IDLE_MINUTES = 60
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        assert _session_writes(client) == (200, 1)
        clock.move_to(start + timedelta(minutes=70))
        assert client.get(QUEUE).status_code == 302  # an hour after that request


def test_zero_turns_the_limit_off(agent, settings):
    settings.SESSION_IDLE_MINUTES = 0
    client = Client()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client.force_login(agent)
        clock.shift(timedelta(days=3))
        assert client.get(QUEUE).status_code == 200  # two weeks from the log-in, as Django's
        assert ACTIVE_AT not in client.session  # no idle clock kept (the two-step
        # log-in's state is still read again every five minutes)


def test_the_limit_is_read_from_the_environment():
    show = "from django.conf import settings as s; print(s.SESSION_IDLE_MINUTES)"
    default = _settings_in_subprocess("-c", show, DEBUG="0", SECRET_KEY=SECRET)
    assert default.stdout.split() == ["480"], default.stderr
    set_ = _settings_in_subprocess(
        "-c", show, DEBUG="0", SECRET_KEY=SECRET, SESSION_IDLE_MINUTES=" 30 "
    )
    assert set_.stdout.split() == ["30"], set_.stderr
    for wrong in ("8h", "-5", "1.5"):
        refused = _settings_in_subprocess(
            "-c", show, DEBUG="0", SECRET_KEY=SECRET, SESSION_IDLE_MINUTES=wrong
        )
        assert refused.returncode != 0, wrong
        assert "SESSION_IDLE_MINUTES must be a whole number of minutes (0: off)." in (
            refused.stderr
        ), wrong

"""How often an API user may call: 429 with Retry-After past the rate, for
that user only, counted in the shared cache (complaints/api/throttles.py)."""

import logging
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.settings import api_settings

from complaints.models import Order

from .factories import UserFactory
from .test_api import ORDER, client_for, post
from .test_project import _settings_in_subprocess
from .test_shared_cache import IN_THE_DATABASE, TABLE, UnreachableCache

pytestmark = pytest.mark.django_db

CASES = reverse("api:cases")
ORDERS = reverse("api:orders")
REPORT = reverse("api:root_causes") + "?from=2026-01-01&to=2026-12-31"


def rates(user="3/minute", report="30/minute"):
    rest = {
        **api_settings.user_settings,
        "DEFAULT_THROTTLE_RATES": {"user": user, "report": report},
    }
    return override_settings(REST_FRAMEWORK=rest)


@pytest.fixture
def cache_table():
    with override_settings(CACHES=IN_THE_DATABASE):
        call_command("createcachetable", verbosity=0)
        yield


def test_past_its_rate_a_user_is_told_to_wait_and_others_are_not(agent, caplog):
    api, other = client_for(agent), client_for(UserFactory(role="agent"))
    with rates(), time_machine.travel(timezone.now(), tick=False) as clock:
        assert [api.get(CASES).status_code for _ in range(3)] == [200, 200, 200]
        clock.shift(timedelta(seconds=20))
        with caplog.at_level(logging.WARNING, logger="casetracker.access"):
            refused = api.get(CASES)
        assert refused.status_code == 429
        assert refused["Retry-After"] == "40"  # when the first of the three leaves the minute
        assert refused.json() == {
            "detail": "Too many calls from this user: wait 40 seconds and try again.",
            "code": "throttled",
        }
        assert f"refused 429 GET {CASES} for {agent.username}" in caplog.text
        assert other.get(CASES).status_code == 200  # each user has their own count
        clock.shift(timedelta(seconds=39))
        assert api.get(CASES).status_code == 429
        assert api.get(CASES)["Retry-After"] == "1"
        clock.shift(timedelta(seconds=2))
        assert api.get(CASES).status_code == 200  # the minute has moved on


def test_a_rate_lowered_below_the_calls_made_still_says_how_long_to_wait(agent):
    api = client_for(agent)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        with rates("10/minute"):
            for _ in range(5):  # calls at 0, 10, 20, 30 and 40 seconds
                assert api.get(CASES).status_code == 200
                clock.shift(timedelta(seconds=10))
        clock.shift(timedelta(seconds=-5))
        with rates("2/minute"):  # at 45 s: one more call once the one at 30 s has left
            refused = api.get(CASES)
            assert refused.status_code == 429 and refused["Retry-After"] == "45"
            clock.shift(timedelta(seconds=46))
            assert api.get(CASES).status_code == 200


def test_a_refused_post_does_nothing_and_its_key_may_be_sent_again(agent):
    api = client_for(agent)
    with rates("1/minute"), time_machine.travel(timezone.now(), tick=False) as clock:
        assert api.get(CASES).status_code == 200
        refused = post(api, ORDERS, ORDER, HTTP_IDEMPOTENCY_KEY="sync-1")
        assert refused.status_code == 429 and not Order.objects.exists()
        clock.shift(timedelta(minutes=1, seconds=1))
        sent = post(api, ORDERS, ORDER, HTTP_IDEMPOTENCY_KEY="sync-1")
        assert sent.status_code == 201, sent.json()  # the key did not remember the 429
        assert Order.objects.get().number == ORDER["order_number"]


def test_the_report_has_a_rate_of_its_own_besides_the_users(supervisor):
    api = client_for(supervisor)
    with rates(user="100/minute", report="2/minute"):
        assert [api.get(REPORT).status_code for _ in range(2)] == [200, 200]
        refused = api.get(REPORT, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert refused.status_code == 429 and "此用户的调用过多" in refused.json()["detail"]
        assert api.get(CASES).status_code == 200  # the rest of the API still answers
    cache.clear()
    with rates(user="2/minute", report="100/minute"):
        assert [api.get(REPORT).status_code for _ in range(3)] == [200, 200, 429]


def test_off_counts_nothing(agent, cache_table):
    api = client_for(agent)
    with rates(user=None):
        assert {api.get(CASES).status_code for _ in range(5)} == {200}
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {TABLE}")
            assert cursor.fetchone()[0] == 0


def test_the_count_is_kept_in_the_shared_cache_not_in_the_process(agent, cache_table):
    api = client_for(agent)
    with rates("2/minute"):
        assert [api.get(CASES).status_code for _ in range(3)] == [200, 200, 429]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT cache_key FROM {TABLE}")
            keys = [key for (key,) in cursor.fetchall()]
            assert keys == [f":1:throttle_user_{agent.pk}"]  # what every process reads
            cursor.execute(f"DELETE FROM {TABLE}")
        assert api.get(CASES).status_code == 200  # nothing else remembered the calls


def test_the_rates_are_read_from_the_environment():
    rates = "settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']"
    show = ["-c", f"from django.conf import settings; print({rates})"]
    result = _settings_in_subprocess(*show, DEBUG="1")
    assert result.stdout.strip() == "{'user': '600/minute', 'report': '30/minute'}"
    result = _settings_in_subprocess(
        *show, DEBUG="1", API_RATE=" 20 / Hour ", API_REPORT_RATE="off"
    )
    assert result.stdout.strip() == "{'user': '20/hour', 'report': None}"
    for bad in ("fast", "0/minute", "10/fortnight", "-5/minute", "10"):
        result = _settings_in_subprocess(*show, DEBUG="1", API_RATE=bad)
        assert result.returncode != 0, bad
        assert "API_RATE must be a number of calls per second, minute, hour or day" in result.stderr


def test_the_schema_tells_integrations_of_the_rate(client, admin_user):
    client.force_login(admin_user)
    document = client.get("/api/schema/?format=json").json()
    assert "429 with the seconds to wait in Retry-After" in document["info"]["description"]
    responses = document["paths"]["/api/cases/"]["get"]["responses"]
    assert "Retry-After" in responses["429"]["description"]


def test_a_cache_that_fails_lets_the_calls_through_and_says_so(agent, caplog):
    api = client_for(agent)
    down = {"default": {"BACKEND": f"{UnreachableCache.__module__}.UnreachableCache"}}
    with (
        rates("1/minute"),
        override_settings(CACHES={**settings.CACHES, **down}),
        caplog.at_level(logging.ERROR, logger="casetracker.access"),
    ):
        assert [api.get(CASES).status_code for _ in range(3)] == [200, 200, 200]
    assert caplog.text.count("API rate not counted (the cache failed") == 3

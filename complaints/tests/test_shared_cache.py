"""The cache shared by every process (CACHE_URL), and the counts kept in it
for a minute: the review funnel and the whole voucher ledger's money."""

import logging
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.base import BaseCache
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from complaints.queries.shared import SHARED_SECONDS

from .factories import OrderFactory, ReviewFactory
from .test_project import _settings_in_subprocess
from .test_vouchers import issued

LEDGER = reverse("complaints:vouchers")
INBOX = reverse("complaints:reviews")
TABLE = "casetracker_cache_test"
IN_THE_DATABASE = {
    "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": TABLE},
    "template_fragments": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}


def test_cache_url_chooses_the_shared_cache():
    show = ["-c", "from django.conf import settings; c = settings.CACHES; "
            "print(c['default']['BACKEND'].rsplit('.', 1)[1], c['default']['LOCATION'] or '-', "
            "c['template_fragments']['BACKEND'].rsplit('.', 1)[1])"]  # fmt: skip
    alone = _settings_in_subprocess(*show, DEBUG="1", CACHE_URL="")
    assert alone.stdout.split() == ["LocMemCache", "-", "LocMemCache"], alone.stderr
    shared = _settings_in_subprocess(*show, DEBUG="1", CACHE_URL="db://casetracker_cache")
    assert shared.stdout.split() == ["DatabaseCache", "casetracker_cache", "LocMemCache"]
    wrong = _settings_in_subprocess(*show, DEBUG="1", CACHE_URL="mongo://cache")
    assert wrong.returncode != 0
    assert "ImproperlyConfigured: CACHE_URL" in wrong.stderr and "mongo" in wrong.stderr


@pytest.mark.django_db
@override_settings(CACHES=IN_THE_DATABASE)
def test_migrate_creates_the_cache_table_and_the_counts_are_shared_through_it(
    client, agent, agent2
):
    assert TABLE not in connection.introspection.table_names()
    call_command("migrate", verbosity=0)  # what a deploy runs: nothing else to remember
    assert TABLE in connection.introspection.table_names()
    ReviewFactory(rating=1)
    client.force_login(agent)
    assert 'data-step="negative" data-count="1"' in client.get(INBOX).content.decode()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT cache_key FROM {TABLE}")
        keys = [key for (key,) in cursor.fetchall()]
    assert any("review-funnel" in key for key in keys), keys  # in the database, not a process
    ReviewFactory(rating=2)
    client.force_login(agent2)
    assert 'data-step="negative" data-count="1"' in client.get(INBOX).content.decode()


@pytest.mark.django_db
def test_a_count_kept_by_another_version_of_the_code_is_counted_again(client, agent):
    ReviewFactory(rating=1)
    end = timezone.localdate()
    key = f"review-funnel:{(end - timedelta(days=29)).isoformat()}:{end.isoformat()}"
    cache.set(key, {"data": {"negative": 7, "answered": 1}, "at": timezone.now()})
    client.force_login(agent)
    page = client.get(INBOX)
    assert page.status_code == 200
    assert 'data-step="negative" data-count="1"' in page.content.decode()
    cache.set(key, "not even a dict")
    assert 'data-step="negative" data-count="1"' in client.get(INBOX).content.decode()


@pytest.mark.django_db
def test_the_whole_ledgers_money_is_counted_once_a_minute(
    client, agent, supervisor, supervisor2, customer
):
    issued(agent, OrderFactory(customer=customer), amount="20", min_spend="0")
    client.force_login(supervisor)
    with CaptureQueriesContext(connection) as first:
        page = client.get(LEDGER)
    assert page.context["totals"].issued_value == Decimal("20")
    assert 'id="ledger-counted"' in page.content.decode()
    issued(agent, OrderFactory(customer=customer), amount="5", min_spend="0")
    client.force_login(supervisor2)  # shared by everyone
    with CaptureQueriesContext(connection) as again:
        page = client.get(LEDGER)
    assert len(again) == len(first) - 1  # the money is not counted again
    assert page.context["totals"].issued_value == Decimal("20")
    assert [v.value for v in page.context["page"]] == [Decimal("5"), Decimal("20")]  # rows: live
    # A status is summed from the same count; a period counts its part at
    # once, and says nothing of a minute.
    status = client.get(LEDGER, {"status": ["issued"]})
    assert status.context["totals"].issued_value == Decimal("20")
    assert 'id="ledger-counted"' in status.content.decode()
    part = client.get(LEDGER, {"status": ["issued"], "issued_from": "2020-01-01"})
    assert part.context["totals"].issued_value == Decimal("25")
    assert 'id="ledger-counted"' not in part.content.decode()
    with time_machine.travel(timezone.now() + timedelta(seconds=SHARED_SECONDS + 1)):
        later = client.get(LEDGER)
    assert later.context["totals"].issued_value == Decimal("25")
    assert later.context["totals"].count == 2


def test_a_stale_count_is_counted_again_by_one_caller_while_the_others_see_the_old_one():
    """Past its minute a count is counted again by the caller that claims
    the recount; whoever asks meanwhile (another process: the claim is in
    the shared cache) is shown the older count and its time, not made to
    count too. With no count kept at all, a caller counts whatever the
    claim says, and a count that failed leaves no claim behind."""
    from complaints.queries.shared import KEPT_STALE, shared_count

    counted = []

    def count():
        counted.append(timezone.now())
        return len(counted)

    def ask():
        return shared_count("test-count", count, int)

    cache.delete_many(["test-count", "test-count:recount"])
    first, at = ask()
    assert (first, len(counted)) == (1, 1) and ask() == (1, at)
    with time_machine.travel(timezone.now() + timedelta(seconds=SHARED_SECONDS + 1)):
        assert cache.add("test-count:recount", True)  # another process is counting
        assert ask() == (1, at) and len(counted) == 1
        cache.delete("test-count:recount")  # it finished without writing (or failed)
        second, later = ask()
        assert (second, len(counted)) == (2, 2) and later > at
        assert ask() == (2, later) and cache.add("test-count:recount", True)  # released
    with time_machine.travel(timezone.now() + timedelta(seconds=SHARED_SECONDS * KEPT_STALE + 5)):
        assert ask()[0] == 3  # nothing kept: counted, though a claim is held

    def broken():
        raise RuntimeError("the database went away")

    cache.delete_many(["test-count", "test-count:recount"])
    ask()
    with time_machine.travel(timezone.now() + timedelta(seconds=SHARED_SECONDS + 1)):
        with pytest.raises(RuntimeError):
            shared_count("test-count", broken, int)
        assert cache.add("test-count:recount", True)  # the failed claim was let go


def test_with_a_worker_a_stale_count_is_counted_again_in_the_background(
    client, agent, supervisor, customer, settings
):
    """With a task worker (TASK_BACKEND=database) nobody waits for a stale
    count: the caller that claims the recount enqueues it and is shown the
    older count like everyone else; the worker counts and lets the claim go.
    The ledger under load at 1M cases: one request a minute took the whole
    ledger's recount (p95 340 ms)."""
    from django_tasks_db.models import DBTaskResult

    from complaints.tasks import recount_shared

    from .conftest import DATABASE_TASKS

    def counts_the_ledger(queries) -> bool:
        return any('AS "lapsed"' in query["sql"] for query in queries)

    settings.TASKS = DATABASE_TASKS
    client.force_login(supervisor)
    issued(agent, OrderFactory(customer=customer), amount="20", min_spend="0")
    cache.delete_many(["voucher-ledger-by-status", "voucher-ledger-by-status:recount"])
    with CaptureQueriesContext(connection) as first_page:
        first = client.get(LEDGER).context
    assert first["totals"].issued_value == Decimal("20")  # nothing kept: counted at once
    assert counts_the_ledger(first_page) and not DBTaskResult.objects.exists()
    issued(agent, OrderFactory(customer=customer), amount="5", min_spend="0")
    with time_machine.travel(timezone.now() + timedelta(seconds=SHARED_SECONDS + 1)):
        with CaptureQueriesContext(connection) as stale_page:
            stale = client.get(LEDGER).context
        assert stale["totals"].issued_value == Decimal("20")  # the older count, at once
        assert stale["counted_at"] == first["counted_at"]
        assert not counts_the_ledger(stale_page)
        [task] = DBTaskResult.objects.filter(task_path="complaints.tasks.recount_shared")
        assert task.args_kwargs["args"][:2] == ["voucher-ledger-by-status", "voucher-ledger"]
        # Asked again before the worker ran: no second task, the older count.
        assert client.get(LEDGER).context["totals"].issued_value == Decimal("20")
        assert DBTaskResult.objects.count() == 1
        assert recount_shared.call(*task.args_kwargs["args"]) == "counted"  # the worker
        fresh = client.get(LEDGER).context
        assert fresh["totals"].issued_value == Decimal("25")
        assert fresh["counted_at"] > first["counted_at"]
        assert cache.add("voucher-ledger-by-status:recount", True)  # the claim was let go
    # The review funnel goes the same way, for its period.
    ReviewFactory(rating=2)
    client.get(INBOX)
    with time_machine.travel(timezone.now() + timedelta(seconds=SHARED_SECONDS + 1)):
        client.get(INBOX)
        [funnel] = DBTaskResult.objects.filter(args_kwargs__args__1="review-funnel")
        key, _name, period, _seconds = funnel.args_kwargs["args"]
        assert key == "review-funnel:{}:{}".format(*period)
        ReviewFactory(rating=1)
        assert recount_shared.call(*funnel.args_kwargs["args"]) == "counted"
        assert cache.get(key)["data"]["negative"] == 2


class UnreachableCache(BaseCache):
    """A cache server that does not answer."""

    def __init__(self, location, params):
        super().__init__(params)

    def get(self, key, default=None, version=None):
        raise ConnectionError("cache server down")

    def set(self, key, value, timeout=None, version=None):
        raise ConnectionError("cache server down")


@pytest.mark.django_db
def test_a_cache_that_fails_leaves_the_pages_counting_for_themselves(
    client, agent, supervisor, customer, caplog
):
    issued(agent, OrderFactory(customer=customer), amount="20", min_spend="0")
    ReviewFactory(rating=1)
    client.force_login(supervisor)
    down = {"default": {"BACKEND": f"{__name__}.UnreachableCache"}}
    with (
        override_settings(CACHES={**settings.CACHES, **down}),
        caplog.at_level(logging.ERROR, logger="complaints.queries.shared"),
    ):
        assert client.get(LEDGER).context["totals"].issued_value == Decimal("20")
        issued(agent, OrderFactory(customer=customer), amount="5", min_spend="0")
        assert client.get(LEDGER).context["totals"].issued_value == Decimal("25")  # counted anew
        inbox = client.get(INBOX)
        assert 'data-step="negative" data-count="1"' in inbox.content.decode()
    assert "shared count without the cache (it failed: ConnectionError" in caplog.text

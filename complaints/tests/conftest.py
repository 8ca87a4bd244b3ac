import os
from datetime import datetime

import pytest

from complaints.models import RootCauseCategory

from .factories import CustomerFactory, OrderFactory, UserFactory


@pytest.fixture
def agent(db):
    return UserFactory(username="agent_a", role="agent")


@pytest.fixture
def agent2(db):
    return UserFactory(username="agent_b", role="agent")


@pytest.fixture
def supervisor(db):
    return UserFactory(username="supervisor_a", role="supervisor")


@pytest.fixture
def supervisor2(db):
    return UserFactory(username="supervisor_b", role="supervisor")


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin_a", role="admin")


@pytest.fixture
def outsider(db):
    """A logged-in user with no role."""
    return UserFactory(username="outsider")


@pytest.fixture
def customer(db):
    return CustomerFactory()


@pytest.fixture
def order(customer):
    return OrderFactory(customer=customer)


@pytest.fixture
def leaf(db):
    return RootCauseCategory.objects.get(code="colour_difference")


@pytest.fixture
def group(db):
    return RootCauseCategory.objects.get(code="product")


@pytest.fixture(autouse=True, scope="session")
def _suite_clock():
    """TEST_CLOCK (an ISO time with its offset) runs the whole suite from
    that moment, the clock ticking on from there: a test that holds only at
    some hours of the day fails on every run at such an hour instead of one
    run in twenty. `make test` runs the PostgreSQL suite at 07:50 Shanghai
    time on New Year's Day (before the service hours, and still the old
    year in UTC), the SQLite one at the real time. A test's own travel
    (time_machine) goes on from there."""
    moment = os.environ.get("TEST_CLOCK")
    if not moment:
        yield
        return
    import time_machine

    with time_machine.travel(datetime.fromisoformat(moment), tick=True):
        yield


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Test users need a password, not a slow one: PBKDF2 would dominate the run.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def receiver():
    """A webhook receiver on 127.0.0.1 (tests/receiver.py), closed afterwards."""
    from .receiver import Receiver

    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def migrate_to():
    """Migrate the test database to the given (app, migration) targets, as
    an upgrade or a downgrade does; afterwards back to the newest, so that
    the tests after it find every table. For tests marked
    ``django_db(transaction=True)``."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    def migrate(*targets):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(list(targets))

    yield migrate
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


IMMEDIATE_TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture(autouse=True)
def _tasks_run_at_once(settings):
    # Whatever the environment says: tests that need the worker switch to
    # the database backend themselves.
    settings.TASKS = IMMEDIATE_TASKS


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _english_unless_asked(settings):
    # A request leaves its language active in the thread; tests start in English.
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


# Browser tests: Debian's chromium driven by Playwright against live_server.
# Playwright's sync API runs an event loop in the test thread; Django's
# database calls from that thread are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": CHROMIUM_FLAGS,
    }


@pytest.fixture(scope="session")
def base_url(live_server):
    return live_server.url


@pytest.fixture
def reference_data(transactional_db):
    """What the data migrations seed (roles, taxonomy, policy, quick replies),
    again after a transactional test's flush removed it."""
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Group

    from complaints.roles import sync_role_permissions

    if Group.objects.filter(name="agent").exists():
        return
    for module in ("0003_taxonomy_and_policy", "0005_seed_reply_templates", "0016_seed_sla"):
        importlib.import_module(f"complaints.migrations.{module}").seed(apps, None)
    # The roles and their permissions, as the migrations that sync them
    # leave them (each syncs to the same lists): once is enough.
    sync_role_permissions(apps)


@pytest.fixture(autouse=True)
def _empty_cache():
    # Cached fragments (the queue's filter form) and shared counts hold
    # primary keys, labels and numbers of one test's data: every test starts
    # with empty caches.
    from django.conf import settings
    from django.core.cache import caches

    for alias in settings.CACHES:
        caches[alias].clear()

"""The statement timeout (DB_STATEMENT_TIMEOUT): PostgreSQL stops a page's
statement that runs too long, the page answers 503 with what to narrow, and
reports and exports are spared.

A statement is made to run long for real: another connection holds an
ACCESS EXCLUSIVE lock on the cases' table, and waiting for a lock counts
towards the timeout like working does. On SQLite there is no statement
timeout: the same pages answer as always with the setting on."""

import threading
import time
from contextlib import contextmanager

import pytest
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from complaints.models import Case, RootCauseCategory

from .factories import CaseFactory
from .test_project import _settings_in_subprocess

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]

LIMIT_MS = 300


def on_sqlite() -> bool:
    """SQLite has no statement timeout; each test then checks that the same
    requests are answered as always with the setting on."""
    return connection.vendor == "sqlite"


@pytest.fixture
def timed(settings):
    """The suite's connection, reopened with a statement timeout of LIMIT_MS
    (set when a connection opens), and closed afterwards so the next test's
    connection starts without it."""
    settings.DATABASE_STATEMENT_TIMEOUT_MS = LIMIT_MS
    connection.close()
    yield
    connection.close()


def current_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return cursor.fetchone()[0]


@contextmanager
def cases_locked(release_after=None):
    """Another connection holds the cases' table locked until the block ends,
    or for ``release_after`` seconds."""
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {Case._meta.db_table} IN ACCESS EXCLUSIVE MODE")
                locked.set()
                release.wait(release_after or 10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(5), "the lock was not taken"
    try:
        yield
    finally:
        release.set()
        holder.join()


@pytest.mark.parametrize(
    ("text", "milliseconds"),
    [("15s", 15_000), ("2min", 120_000), ("500ms", 500), ("750", 750), ("0", 0)],
)
def test_the_timeout_is_read_from_the_environment(text, milliseconds):
    show = ["-c", "from django.conf import settings; print(settings.DATABASE_STATEMENT_TIMEOUT_MS)"]
    result = _settings_in_subprocess(*show, DEBUG="1", DB_STATEMENT_TIMEOUT=text)
    assert result.stdout.split() == [str(milliseconds)], result.stderr


def test_a_timeout_that_is_not_a_duration_stops_the_start():
    result = _settings_in_subprocess(DEBUG="1", DB_STATEMENT_TIMEOUT="soon; DROP TABLE x")
    assert result.returncode != 0
    assert "DB_STATEMENT_TIMEOUT must be a duration" in result.stderr


def test_each_new_connection_gets_the_timeout(settings):
    def timeout_of_a_new_connection():
        fresh = connections.create_connection("default")
        try:
            with fresh.cursor() as cursor:
                cursor.execute("SELECT 'none'" if on_sqlite() else "SHOW statement_timeout")
                return cursor.fetchone()[0]
        finally:
            fresh.close()

    assert timeout_of_a_new_connection() == ("none" if on_sqlite() else "0")
    settings.DATABASE_STATEMENT_TIMEOUT_MS = 15_000
    assert timeout_of_a_new_connection() == ("none" if on_sqlite() else "15s")


def test_without_the_setting_the_databases_own_limit_stands(settings):
    """DB_STATEMENT_TIMEOUT unset: the app sets no limit of its own, so one
    a DBA gave the database or its role (ALTER ... SET statement_timeout),
    e.g. behind a PgBouncer in transaction mode, still holds."""
    if on_sqlite():
        assert settings.DATABASE_STATEMENT_TIMEOUT_MS == 0
        return
    name = connection.settings_dict["NAME"]
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER DATABASE "{name}" SET statement_timeout = 7000')
    try:
        fresh = connections.create_connection("default")
        with fresh.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "7s"
        fresh.close()
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{name}" RESET statement_timeout')


def test_a_page_stopped_by_the_timeout_answers_503_with_what_to_do(client, agent, timed, caplog):
    CaseFactory(assignee=agent)
    client.force_login(agent)
    queue = reverse("complaints:queue", args=["mine"])
    if on_sqlite():
        assert client.get(queue, {"q": "TB2026"}).status_code == 200
        return
    with cases_locked(), caplog.at_level("WARNING", logger="casetracker.database"):
        started = time.monotonic()
        response = client.get(queue, {"q": "TB2026"})
        waited = time.monotonic() - started
    assert response.status_code == 503
    text = response.content.decode()
    assert "<html" in text and 'id="statement-timeout"' in text
    assert "a search term of three characters or more" in text
    assert waited < 5  # stopped at the limit, not when the lock went
    assert "statement cancelled on GET /queue/mine/?q=TB2026 for agent_a" in caplog.text
    # The connection is fine afterwards, and keeps its limit.
    assert client.get(queue).status_code == 200
    assert current_timeout() == f"{LIMIT_MS}ms"


def test_htmx_gets_the_message_alone_and_the_api_its_error_shape(client, agent, timed):
    CaseFactory(assignee=agent)
    client.force_login(agent)
    if on_sqlite():
        assert client.get("/api/cases/", {"queue": "mine"}).status_code == 200
        return
    with cases_locked():
        fragment = client.get(reverse("complaints:queue", args=["mine"]), HTTP_HX_REQUEST="true")
        api = client.get("/api/cases/", {"queue": "mine"})
    assert fragment.status_code == 503
    assert "<html" not in fragment.content.decode()
    assert 'id="statement-timeout"' in fragment.content.decode()
    assert api.status_code == 503
    assert api.json()["code"] == "statement_timeout"
    assert "took too long" in api.json()["detail"]


def test_a_report_may_wait_past_the_limit_and_the_limit_comes_back(client, supervisor, timed):
    CaseFactory()
    client.force_login(supervisor)
    if on_sqlite():
        assert client.get(reverse("complaints:root_causes")).status_code == 200
        return
    with cases_locked(release_after=LIMIT_MS * 3 / 1000):
        started = time.monotonic()
        response = client.get(reverse("complaints:root_causes"))
        waited = time.monotonic() - started
    assert response.status_code == 200
    assert waited * 1000 > LIMIT_MS  # it did wait longer than a page may
    assert current_timeout() == f"{LIMIT_MS}ms"
    with cases_locked():  # and the next page on this connection is bounded again
        assert client.get(reverse("complaints:queue", args=["mine"])).status_code == 503


def test_a_streamed_export_is_spared_until_its_last_chunk(client, admin_user, timed):
    CaseFactory(root_cause=RootCauseCategory.objects.get(code="colour_difference"))
    client.force_login(admin_user)
    today = timezone.localdate().isoformat()
    response = client.get(
        reverse("complaints:export_root_causes"),
        {"start": today, "end": today, "format": "csv", "cases": "1"},
    )
    assert response.status_code == 200 and response.streaming
    if on_sqlite():
        body = b"".join(response.streaming_content).decode("utf-8-sig")
        assert len(body.strip().splitlines()) == 2
        return
    # The cases are read while the file streams: the COPY waits for the lock
    # longer than a page may, and still finishes.
    with cases_locked(release_after=LIMIT_MS * 3 / 1000):
        started = time.monotonic()
        body = b"".join(response.streaming_content).decode("utf-8-sig")
        waited = time.monotonic() - started
    assert waited * 1000 > LIMIT_MS
    assert len(body.strip().splitlines()) == 2  # the header and the case
    assert current_timeout() == f"{LIMIT_MS}ms"

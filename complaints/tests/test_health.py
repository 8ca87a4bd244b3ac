"""The health endpoints a load balancer and monitoring read (/health/)."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from .conftest import DATABASE_TASKS

pytestmark = pytest.mark.django_db


def _json(path, **headers):
    response = Client().get(path, headers={"accept": "application/json", **headers})
    return response.status_code, response.json()


def _waiting_task(*, enqueued_minutes_ago, run_after=None):
    task = DBTaskResult.objects.create(
        status="READY",
        args_kwargs={"args": [], "kwargs": {}},
        task_path="complaints.tasks.sweep_deadlines",
        queue_name="default",
        backend_name="default",
        run_after=run_after or get_date_max(),
    )
    DBTaskResult.objects.filter(pk=task.pk).update(
        enqueued_at=timezone.now() - timedelta(minutes=enqueued_minutes_ago)
    )
    return task


def test_the_web_check_reads_the_database_and_writes_the_evidence_storage(settings, tmp_path):
    status, body = _json("/health/")
    assert status == 200
    assert body == {"Database(alias='default')": "OK", "Storage(alias='default')": "OK"}
    # The probe file is gone again: a load balancer's probes leave nothing.
    assert not any(path.is_file() for path in (tmp_path / "media").rglob("*"))


def test_evidence_storage_that_cannot_be_written_takes_the_web_out_of_rotation(settings, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the media directory should be")
    settings.MEDIA_ROOT = blocker / "media"
    status, body = _json("/health/")
    assert status == 503
    assert body["Database(alias='default')"] == "OK"
    assert body["Storage(alias='default')"] != "OK"
    assert "not-a-directory" not in str(body)  # no paths or internals in the answer


def test_the_status_page_is_html_without_inline_style_for_a_person():
    response = Client().get("/health/", headers={"accept": "text/html"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "System status" in html and "Database(alias=&#x27;default&#x27;)" in html
    assert "<style" not in html and "<script>" not in html
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]


def test_the_worker_check_fails_once_a_task_has_waited_too_long(settings):
    settings.TASKS = DATABASE_TASKS
    settings.HEALTH_TASK_DELAY_MINUTES = 10
    _waiting_task(enqueued_minutes_ago=9)
    # Scheduled for later: waiting on purpose, not for a stopped worker.
    _waiting_task(enqueued_minutes_ago=60, run_after=timezone.now() + timedelta(minutes=5))
    assert _json("/health/worker/") == (200, {"TaskQueue()": "OK"})

    late = _waiting_task(enqueued_minutes_ago=11)
    status, body = _json("/health/worker/")
    assert status == 503
    assert "db_worker" in body["TaskQueue()"]

    DBTaskResult.objects.filter(pk=late.pk).update(status="SUCCESSFUL")  # the worker caught up
    assert _json("/health/worker/")[0] == 200


def test_a_task_due_long_ago_and_still_waiting_fails_the_worker_check(settings):
    settings.TASKS = DATABASE_TASKS
    _waiting_task(enqueued_minutes_ago=90, run_after=timezone.now() - timedelta(minutes=30))
    assert _json("/health/worker/")[0] == 503


def test_tasks_run_in_the_web_process_leave_nothing_for_a_worker_to_fall_behind_on(settings):
    _waiting_task(enqueued_minutes_ago=60)  # left over from a database backend
    assert _json("/health/worker/") == (200, {"TaskQueue()": "OK"})


def test_a_plain_http_probe_is_answered_where_pages_redirect_to_https(settings):
    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    assert client.get("/health/").status_code == 200
    assert client.get("/health/worker/").status_code == 200
    page = client.get("/accounts/login/")
    assert page.status_code == 301 and page["Location"].startswith("https://")


def test_the_health_answers_are_never_cached():
    response = Client().get("/health/")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_a_database_that_does_not_answer_fails_the_check_from_a_shell(tmp_path):
    """``manage.py health_check health --no-http`` runs the web check in-process:
    with the database unreachable (a closed port) it names it and exits 1."""
    import os
    import socket
    import subprocess
    import sys

    from django.conf import settings

    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # closed again before the check connects
    environment = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "casetracker.settings",
        "DEBUG": "1",
        "DATABASE_URL": f"postgres://nobody@127.0.0.1:{port}/casetracker",
        "MEDIA_ROOT": str(tmp_path),
    }
    command = [sys.executable, "manage.py", "health_check", "health", "--no-http"]
    down = subprocess.run(
        command, cwd=settings.BASE_DIR, env=environment, capture_output=True, text=True
    )
    assert down.returncode == 1, down.stderr[-2000:]
    assert "Database(alias='default'): Unavailable" in down.stdout
    assert "Storage(alias='default'): OK" in down.stdout

    environment["DATABASE_URL"] = f"sqlite:///{tmp_path / 'up.sqlite3'}"
    up = subprocess.run(
        command, cwd=settings.BASE_DIR, env=environment, capture_output=True, text=True
    )
    assert up.returncode == 0, up.stdout + up.stderr[-2000:]
    assert "Database(alias='default'): OK" in up.stdout


@pytest.mark.parametrize("accept", ["garbage", "/json", "text/plain, ???"])
def test_a_malformed_accept_header_is_a_clear_400_not_a_500(accept):
    response = Client(raise_request_exception=False).get("/health/", headers={"accept": accept})
    assert response.status_code == 400
    assert "Accept header" in response.content.decode()
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_a_probe_without_an_accept_header_or_with_a_blank_one_gets_the_status():
    assert Client().get("/health/").status_code == 200
    assert Client().get("/health/", headers={"accept": ""}).status_code == 200
    assert Client().get("/health/", headers={"accept": "image/png"}).status_code == 406


def test_the_health_endpoints_only_answer_reads():
    assert Client().post("/health/").status_code == 405
    assert Client().post("/health/worker/").status_code == 405


def test_the_worker_check_is_one_query_however_long_the_queue(settings, django_assert_num_queries):
    settings.TASKS = DATABASE_TASKS
    for minutes in range(30):
        _waiting_task(enqueued_minutes_ago=minutes)
    with django_assert_num_queries(1):
        assert _json("/health/worker/")[0] == 503

"""The README's promises that code can check."""

from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from complaints.management.commands.state_diagram import case_transitions, mermaid

README = Path(settings.BASE_DIR, "README.md").read_text(encoding="utf-8")


def test_readme_state_diagram_is_the_one_the_code_draws():
    assert "```mermaid\n" + mermaid() + "\n```" in README


def test_state_diagram_comes_from_django_fsm_graph():
    edges = case_transitions()
    assert ("confirming", "analyzing", "confirm") in edges
    assert ("verifying", "analyzing", "unsatisfied") in edges
    assert ("closed", "analyzing", "reopen") in edges
    assert sum(1 for edge in edges if edge[2] == "cancel") == 6


def test_state_diagram_command_prints_the_block(capsys):
    call_command("state_diagram")
    assert capsys.readouterr().out.strip() == "```mermaid\n" + mermaid() + "\n```"


def test_readme_shows_the_two_commands_and_demo_logins():
    for text in ("make run", "make test", "agent1", "supervisor1", "admin1", "demo12345"):
        assert text in README


def _settings_in_subprocess(*command, **env):
    import os
    import subprocess
    import sys

    unset = {"SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}  # the last: browser tests'
    environment = {k: v for k, v in os.environ.items() if k not in unset}
    environment.update(env, DJANGO_SETTINGS_MODULE="casetracker.settings")
    return subprocess.run(
        [
            sys.executable,
            *(command or ["-c", "from django.conf import settings; print(settings.DEBUG)"]),
        ],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    "name,value,message",
    [
        ("AXES_FAILURE_LIMIT", "five", "AXES_FAILURE_LIMIT must be a whole number of at least 1."),
        ("AXES_FAILURE_LIMIT", "0", "AXES_FAILURE_LIMIT must be a whole number of at least 1."),
        ("AXES_COOLOFF_MINUTES", "1.5", "AXES_COOLOFF_MINUTES must be a whole number of minutes"),
        ("CONN_MAX_AGE", "-1", "CONN_MAX_AGE must be a whole number of seconds (0: off)."),
        ("HEALTH_TASK_DELAY_MINUTES", "0", "HEALTH_TASK_DELAY_MINUTES must be a whole number of"),
        ("CASETRACKER_VOUCHER_DAYS", "30d", "CASETRACKER_VOUCHER_DAYS must be a whole number"),
    ],
)  # fmt: skip
def test_a_number_setting_that_is_no_number_names_itself(name, value, message):
    """Not Python's "invalid literal for int()" with no variable named."""
    refused = _settings_in_subprocess(DEBUG="1", **{name: value})
    assert refused.returncode != 0 and message in refused.stderr, refused.stderr[-500:]
    assert "invalid literal" not in refused.stderr
    kept = _settings_in_subprocess(DEBUG="1", **{name: ""})  # empty: the default
    assert kept.returncode == 0, kept.stderr[-500:]


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = _settings_in_subprocess(DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
    result = _settings_in_subprocess(DEBUG="0", SECRET_KEY="x" * 60)
    assert result.returncode == 0 and result.stdout.strip() == "False"


def test_postgresql_connections_prepare_statements_unless_turned_off():
    show = ["-c", "from django.conf import settings; "
            "o = settings.DATABASES['default'].get('OPTIONS', {}); "
            "print(o.get('server_side_binding'), o.get('prepare_threshold'))"]  # fmt: skip
    postgres = "postgres://casetracker@127.0.0.1:5432/casetracker"
    on = _settings_in_subprocess(*show, DEBUG="1", DATABASE_URL=postgres)
    assert on.stdout.split() == ["True", "5"], on.stderr
    off = _settings_in_subprocess(
        *show, DEBUG="1", DATABASE_URL=postgres, DB_PREPARED_STATEMENTS="0"
    )
    assert off.stdout.split() == ["None", "None"], off.stderr
    sqlite = _settings_in_subprocess(*show, DEBUG="1", DATABASE_URL="sqlite:///x.sqlite3")
    assert sqlite.stdout.split() == ["None", "None"], sqlite.stderr


@pytest.mark.django_db
def test_new_database_sessions_run_without_jit_unless_asked(settings):
    """PostgreSQL's JIT is off in every new session (casetracker/database.py),
    on again with DB_JIT=1; SQLite connections are left as they are."""
    from django.db import connections

    def jit():
        fresh = connections.create_connection("default")
        try:
            with fresh.cursor() as cursor:
                if fresh.vendor != "postgresql":
                    cursor.execute("SELECT 1")
                    return cursor.fetchone()[0]
                cursor.execute("SHOW jit")
                return cursor.fetchone()[0]
        finally:
            fresh.close()

    postgresql = connections["default"].vendor == "postgresql"
    assert jit() == ("off" if postgresql else 1)
    settings.DATABASE_JIT = True
    assert jit() == ("on" if postgresql else 1)
    show = ["-c", "from django.conf import settings; print(settings.DATABASE_JIT)"]
    assert _settings_in_subprocess(*show, DEBUG="1").stdout.split() == ["False"]
    assert _settings_in_subprocess(*show, DEBUG="1", DB_JIT="1").stdout.split() == ["True"]


SECRET = "test-only-9f2c4e7a1b8d3f6e0c5a2b9d8e7f1a3c4b6d8e0f2a4c6e8b"


def test_the_deploy_check_passes_with_production_settings():
    result = _settings_in_subprocess(
        "manage.py", "check", "--deploy", "--fail-level", "WARNING",
        DEBUG="0", SECRET_KEY=SECRET, ALLOWED_HOSTS="shop.example",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout, result.stdout + result.stderr
    # The same check fails loudly when the settings are weakened.
    weakened = _settings_in_subprocess(
        "manage.py", "check", "--deploy", "--fail-level", "WARNING",
        DEBUG="0", SECRET_KEY=SECRET, ALLOWED_HOSTS="shop.example", SECURE_COOKIES="0",
    )  # fmt: skip
    assert weakened.returncode != 0
    assert "SESSION_COOKIE_SECURE" in weakened.stderr


@contextmanager
def _fresh_database(tmp_path):
    """A database for a server of its own: a new one on the suite's
    PostgreSQL cluster when the suite runs on PostgreSQL (as production
    does), else an SQLite file. Yields its URL and a function listing its
    tables."""
    from django.db import connections

    db = settings.DATABASES["default"]
    if connections["default"].vendor != "postgresql":
        path = tmp_path / "serve.sqlite3"

        def sqlite_tables():
            import sqlite3

            with sqlite3.connect(path) as served:
                return {name for (name,) in served.execute("SELECT name FROM sqlite_master")}

        yield f"sqlite:///{path}", sqlite_tables
        return
    import uuid

    import psycopg

    name = f"casetracker_serve_{uuid.uuid4().hex[:12]}"
    server = {
        "host": db["HOST"],
        "port": db["PORT"],
        "user": db["USER"],
        "password": db["PASSWORD"],
    }
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{name}"

    def postgres_tables():
        with psycopg.connect(dbname=name, **server) as served:
            return {row[0] for row in served.execute("SELECT tablename FROM pg_tables")}

    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url, postgres_tables
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_make_serve_runs_gunicorn_with_whitenoise_and_debug_off(tmp_path):
    """bin/serve (make serve) on a fresh database (PostgreSQL in the suite's
    PostgreSQL run): migrates, collects static files, serves pages and
    hashed, compressed static files, hides errors."""
    with _fresh_database(tmp_path) as (database_url, tables):
        _serve_and_check(tmp_path, database_url, tables)


def _serve_and_check(tmp_path, database_url, tables):
    import os
    import re
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(
        PYTHON=sys.executable,
        BIND=f"127.0.0.1:{port}",
        DATABASE_URL=database_url,
        STATIC_ROOT=str(tmp_path / "static"),
        SECRET_KEY=SECRET,
        WEB_CONCURRENCY="2",
    )
    server = subprocess.Popen(
        ["bin/serve"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"

    def get(path, **headers):
        request = urllib.request.Request(base + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    try:
        for _ in range(240):  # migrations on a fresh database take a while
            try:
                status, headers, body = get("/accounts/login/")
                break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                time.sleep(0.25)
        else:
            raise AssertionError("bin/serve did not answer")
        assert status == 200 and headers["Server"] == "gunicorn"
        assert "casetracker_cache" in tables()  # the shared cache's table
        assert "Content-Security-Policy" in headers
        css = re.search(rb'href="(/static/complaints/app\.[0-9a-f]{12}\.css)"', body)
        assert css, "static files are not served under hashed names"
        status, headers, _ = get(css.group(1).decode(), **{"Accept-Encoding": "gzip"})
        assert status == 200 and headers.get("Content-Encoding") == "gzip"
        assert "immutable" in headers["Cache-Control"]
        status, _, body = get("/cases/C-0/nothing/here/")
        assert status in (302, 404) and b"Traceback" not in body  # no debug page
        status, _, body = get("/api/cases/")
        assert status == 401
        # A keep-alive connection left idle for a few seconds is still open
        # (gunicorn's default closed it after 2 s, racing clients that reuse it).
        import http.client

        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/accounts/login/")
        assert connection.getresponse().read() and connection.sock is not None
        time.sleep(3)
        connection.request("GET", "/accounts/login/")
        assert connection.getresponse().status == 200
        connection.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        output = server.communicate(timeout=30)[0]
    assert "Booting worker" in output and "Traceback" not in output, output


def test_every_command_the_readme_names_exists_and_takes_its_options(settings):
    """Each ``python manage.py …`` line of the README (cron lines included)
    names a real command, and its options parse, so a copied line runs."""
    import re

    from .conftest import DATABASE_TASKS

    settings.TASKS = DATABASE_TASKS  # as in production: db_worker checks its backend
    import shlex

    from django.core.management import get_commands, load_command_class

    lines = re.findall(r"python manage\.py ([a-z_]+)([^\n`#]*)", README)
    assert len(lines) >= 10
    commands = get_commands()
    for name, rest in lines:
        assert name in commands, f"the README names manage.py {name}, which does not exist"
        words = [word.strip("[]") for word in shlex.split(rest)]  # [--x]: optional
        arguments = [word for word in words if not word.startswith(("$", "<"))]
        parser = load_command_class(commands[name], name).create_parser("manage.py", name)
        parser.parse_args(arguments)  # an unknown option fails here (SystemExit)


@pytest.mark.django_db
def test_every_index_in_the_database_is_the_one_its_model_declares():
    """The migrations built each model's indexes as its Meta declares them
    today: a migration that only changes the migration state (0034, the
    queue indexes' literals) must not leave an index the model no longer
    describes. SQLite keeps each index's CREATE statement as written;
    PostgreSQL's own definition is compared with that of the model's
    statement run under another name, in a transaction rolled back."""
    from django.apps import apps
    from django.db import connection, transaction

    editor = connection.schema_editor()  # only writes the SQL: never entered
    compared = 0
    for model in apps.get_app_config("complaints").get_models():
        for index in model._meta.indexes:
            declared = str(index.create_sql(model, editor))
            with connection.cursor() as cursor:
                if connection.vendor == "sqlite":
                    cursor.execute(
                        "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = %s",
                        [index.name],
                    )
                    assert cursor.fetchone() == (declared,), index.name
                else:
                    cursor.execute(
                        "SELECT indexdef FROM pg_indexes WHERE indexname = %s", [index.name]
                    )
                    (built,) = cursor.fetchone()
                    try:
                        with transaction.atomic():
                            cursor.execute(declared.replace(f'"{index.name}"', '"index_check"', 1))
                            cursor.execute(
                                "SELECT indexdef FROM pg_indexes WHERE indexname = 'index_check'"
                            )
                            (fresh,) = cursor.fetchone()
                            raise _RollBack
                    except _RollBack:
                        pass
                    assert fresh.replace("index_check", index.name) == built, index.name
            compared += 1
    assert compared >= 20, compared


class _RollBack(Exception):
    pass

"""Backups: the README's pg_dump and pg_restore commands give back every row
of every table, the audit trail as it was and the trigger that guards it.

Real tools on the real test database: pg_dump writes a custom-format dump,
pg_restore loads it into a new database and then again over itself (the
README restores over a live database with --clean). SQLite, the demo's
database, is one file: there the same check runs on a copy made with its
online backup.
"""

import shutil
import sqlite3
import subprocess
from glob import glob

import pytest
from django.apps import apps
from django.db import connection

from complaints.models import CaseEvent

from . import flows

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]


def _counts(cursor) -> dict:
    """Rows in each of the project's tables."""
    counts = {}
    for model in apps.get_models():
        if model._meta.managed and not model._meta.proxy:
            cursor.execute(f'SELECT COUNT(*) FROM "{model._meta.db_table}"')
            counts[model._meta.db_table] = cursor.fetchone()[0]
    return counts


def _tool(name: str) -> str:
    """Debian's pg_dump / pg_restore: on the PATH, or beside the server."""
    found = shutil.which(name) or next(
        iter(sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    assert found, f"{name} not found (Debian's postgresql package brings it)"
    return found


def _url(settings_dict, name) -> str:
    user, password = settings_dict["USER"] or "postgres", settings_dict["PASSWORD"] or ""
    login = f"{user}:{password}" if password else user
    host, port = settings_dict["HOST"] or "127.0.0.1", settings_dict["PORT"] or "5432"
    return f"postgresql://{login}@{host}:{port}/{name}"


def test_a_backup_gives_back_every_row_and_the_audit_guard(agent, order, tmp_path):
    case = flows.closed(agent, order)
    flows.closed(agent, order)
    events = list(CaseEvent.objects.filter(case=case).order_by("pk").values_list("kind", "payload"))
    assert len(events) >= 8
    with connection.cursor() as cursor:
        expected = _counts(cursor)
    assert expected["complaints_case"] == 2 and expected["complaints_voucher"] == 2

    if connection.vendor != "postgresql":
        copy = sqlite3.connect(tmp_path / "backup.sqlite3")
        connection.ensure_connection()
        connection.connection.backup(copy)
        assert _counts(copy.cursor()) == expected
        rows = copy.execute(
            "SELECT kind FROM complaints_caseevent WHERE case_id = ? ORDER BY id", [case.pk]
        ).fetchall()
        assert [kind for (kind,) in rows] == [kind for kind, _ in events]
        return

    import psycopg

    dump = tmp_path / "casetracker.dump"
    subprocess.run(
        [
            _tool("pg_dump"),
            "--format=custom",
            f"--file={dump}",
            _url(connection.settings_dict, connection.settings_dict["NAME"]),
        ],
        check=True,
        capture_output=True,
    )
    restored = f"{connection.settings_dict['NAME']}_restored"
    restored_url = _url(connection.settings_dict, restored)
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{restored}"')
        cursor.execute(f'CREATE DATABASE "{restored}"')
    try:
        for _ in range(2):  # into an empty database, then over the restored one
            result = subprocess.run(
                [
                    _tool("pg_restore"),
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    f"--dbname={restored_url}",
                    str(dump),
                ],
                capture_output=True,
                text=True,
            )
            assert result.returncode == 0, result.stderr
        with psycopg.connect(restored_url, autocommit=True) as copy, copy.cursor() as cursor:
            assert _counts(cursor) == expected
            cursor.execute(
                "SELECT kind, payload FROM complaints_caseevent WHERE case_id = %s ORDER BY id",
                [case.pk],
            )
            assert cursor.fetchall() == [tuple(event) for event in events]
            with pytest.raises(psycopg.Error, match="append-only"):
                cursor.execute("UPDATE complaints_caseevent SET kind = 'note'")
            with pytest.raises(psycopg.Error, match="append-only"):
                cursor.execute("DELETE FROM complaints_caseevent")
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')

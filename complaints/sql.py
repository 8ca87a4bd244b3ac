"""SQL the queries share that Django does not write itself."""

import re
from datetime import datetime
from functools import cache

from django.db import connections, migrations, router
from django.db.models import Value


class Literal(Value):
    """A value the code fixes, written into the SQL itself instead of being
    sent as a parameter: a status name (a TextChoices value), a whole number,
    or an aware datetime such as the far future undated cases sort at.

    PostgreSQL plans a statement a kept connection has prepared once for any
    parameter ("generic plan"), guessing that a status matches as many rows
    as an average one. For a rare status among a million rows ("pending"
    approvals, deliveries still to send) that guess reads the whole table:
    the supervisors' approvals badge took 117 ms on every page instead of
    0.04 ms. With the status in the SQL, the plan is made for it.

    The constants of an index's expressions and of a partial index's
    condition must be literals too: a generic plan can neither match
    ``COALESCE(due_at, $1)`` to an index on ``COALESCE(due_at, '9000-01-01')``
    nor tell that ``state IN ($1, ...)`` keeps to an index of the open
    cases, and then sorts every open case of a queue to show 25. The value
    is written as the schema editor writes it into CREATE INDEX, so the two
    read alike."""

    def as_sql(self, compiler, connection):
        value = self.value
        if isinstance(value, str):
            if not re.fullmatch(r"[a-z_]+", value):
                raise ValueError(f"Literal() takes a code's status name, not {value!r}")
        elif isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError(f"Literal() takes an aware datetime, not {value!r}")
        elif isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"Literal() takes a name, a number or a datetime, not {value!r}")
        prepared = self.output_field.get_db_prep_value(value, connection=connection)
        return _quoted(connection.alias, connection.vendor, prepared), []


@cache
def _quoted(alias, vendor, value) -> str:
    """``value`` as an SQL literal, the way the database's schema editor
    quotes it (vendor is part of the key: a test may swap the connection)."""
    return connections[alias].schema_editor().quote_value(value).strip()


def create_index_concurrently(schema_editor, name: str, table: str, using: str) -> None:
    """CREATE INDEX CONCURRENTLY ``name`` ON ``table`` USING ``using`` (a
    method and its expression), for a migration that runs outside a
    transaction (PostgreSQL): agents keep saving while it builds. A build
    that failed leaves an invalid index behind, which IF NOT EXISTS would
    keep: that one is dropped and built anew."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [name]
        )
        left_invalid = cursor.fetchone()
    if left_invalid and left_invalid[0]:
        schema_editor.execute(f'DROP INDEX CONCURRENTLY "{name}"')
    schema_editor.execute(
        f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON "{table}" USING {using}'
    )


# A searched column's two indexes (queries.search): a trigram index on the
# expression Django writes for icontains (migration 0035), and one of its
# pieces of one and two characters (0038's search_grams). Migrations 0040
# and 0045 build theirs from it: change it only with a migration that
# builds those again.
SEARCH_INDEX_KINDS = {
    "trgm": 'gin ((UPPER("{column}"::text)) gin_trgm_ops)',
    "grams": 'gin (search_grams("{column}"))',
}


def search_indexes(columns: dict[str, tuple[str, str]], *, have=()) -> dict:
    """name -> (table, method and expression) of both search indexes of
    each column in ``columns`` (prefix -> (table, column)), named
    ``{prefix}_trgm`` and ``{prefix}_grams``, but for the names in ``have``."""
    return {
        f"{prefix}_{kind}": (table, expression.format(column=column))
        for prefix, (table, column) in columns.items()
        for kind, expression in SEARCH_INDEX_KINDS.items()
        if f"{prefix}_{kind}" not in have
    }


def concurrent_indexes(indexes: dict) -> migrations.RunPython:
    """A migration's operation that builds ``indexes`` (name -> (table,
    method and expression)) concurrently on PostgreSQL and drops them when
    reversed; nothing on another database. The migration must not be
    atomic: CREATE INDEX CONCURRENTLY runs outside a transaction."""

    def create(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for name, (table, using) in indexes.items():
            create_index_concurrently(schema_editor, name, table, using)

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for name in indexes:
            schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')

    return migrations.RunPython(create, drop, elidable=False)


def distinct_values(model, column: str, limit: int) -> list:
    """The first ``limit`` distinct non-null values of ``column``, in order:
    each the smallest value above the one before, which an index on the
    column answers in one probe. Works on SQLite too."""
    connection = connections[router.db_for_read(model)]
    table, column = (connection.ops.quote_name(name) for name in (model._meta.db_table, column))
    sql = f"""
        WITH RECURSIVE found(value, n) AS (
            SELECT (SELECT MIN({column}) FROM {table}), 1
            UNION ALL
            SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > found.value), n + 1
            FROM found WHERE found.value IS NOT NULL AND n < %s
        )
        SELECT value FROM found WHERE value IS NOT NULL ORDER BY value"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [limit])
        return [row[0] for row in cursor.fetchall()]

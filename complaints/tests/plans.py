"""PostgreSQL's plan for a query when one index is all it may use."""

import re

from django.db import connection, transaction


def plan_with_only(index: str, table: str, sql: str) -> str:
    """EXPLAIN ``sql`` with sequential and bitmap scans off and every other
    index of ``table`` that is not a constraint's dropped, in a transaction
    rolled back: on a test's few rows another index with a filter costs
    about the same, so the question is only whether ``index`` answers alone."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexname <> %s "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            [table, index],
        )
        for (other,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{other}"')
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    return plan


def explain_without_seqscan(sql: str, params=(), *settings: str) -> str:
    """EXPLAIN ``sql`` (with %s for its ``params``, or as the queries a test
    captured) with sequential scans off and any other ``settings``
    ("enable_bitmapscan = off") for a transaction: whether an index can
    answer it at all."""
    with transaction.atomic(), connection.cursor() as cursor:
        for setting in ("enable_seqscan = off", *settings):
            cursor.execute(f"SET LOCAL {setting}")
        explain = (
            connection.ops.compose_sql(f"EXPLAIN {sql}", params) if params else f"EXPLAIN {sql}"
        )
        cursor.execute(explain)
        return "\n".join(row[0] for row in cursor.fetchall())


def plan_without_seqscan(queryset) -> str:
    """EXPLAIN ``queryset`` as the ORM sends it, with sequential scans off."""
    return explain_without_seqscan(*queryset.query.sql_with_params())


def generic_plan(sql: str, params, *settings: str) -> str:
    """EXPLAIN ``sql`` (Django's, with %s for its ``params``) as a kept
    connection runs it once the statement is prepared: PostgreSQL's one
    "generic" plan for any parameters (plan_cache_mode force_generic_plan),
    with ``settings`` ("enable_sort = off") for the transaction, rolled back."""
    numbered = iter(range(1, len(params) + 1))
    prepared = re.sub("%s", lambda _match: f"${next(numbered)}", sql)
    arguments = f"({', '.join(['%s'] * len(params))})" if params else ""
    with transaction.atomic(), connection.cursor() as cursor:
        for setting in ("plan_cache_mode = force_generic_plan", *settings):
            cursor.execute(f"SET LOCAL {setting}")
        cursor.execute(f"PREPARE generic AS {prepared}")
        cursor.execute(connection.ops.compose_sql(f"EXPLAIN EXECUTE generic{arguments}", params))
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("DEALLOCATE generic")
        transaction.set_rollback(True)
    return plan

"""Settings each new PostgreSQL connection gets before its first query."""

from django.conf import settings


def tune_session(sender, connection, **kwargs):
    """Turn PostgreSQL's JIT compiler off for the session unless DB_JIT=1.

    JIT pays off on long analytical queries; a page's queries are short, and
    the compile time PostgreSQL spends on one it costs high (a grouped count
    over 20k reviews: 28 ms of 175) is time the user waits. At 1M cases the
    review inbox went 244 -> 173 ms, the team page 128 -> 99 ms, and no page
    got slower, the root-cause report included (docs/PERFORMANCE.md). A SET
    at connection time, not a startup option, so a PgBouncer in front
    accepts it."""
    if connection.vendor == "postgresql" and not settings.DATABASE_JIT:
        with connection.cursor() as cursor:
            cursor.execute("SET jit = off")

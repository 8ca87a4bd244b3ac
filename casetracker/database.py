"""Settings each new PostgreSQL connection gets before its first query; the
statement timeout: which requests it spares, and the answer a request gets
when the database stopped one of its statements; and the cache's table when
the cache is kept in the database."""

import logging
from contextlib import contextmanager
from functools import wraps

from django.conf import settings
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

log = logging.getLogger("casetracker.database")

# What a page and the API say when the database stopped one of their statements.
TOO_LONG = _(
    "The database stopped this request because it took too long, so that it does not hold "
    "up everyone else's work. Narrow it down and try again: a search term of three "
    "characters or more, a shorter period, or another filter."
)

QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a cancelled statement


def create_cache_tables(sender, using=DEFAULT_DB_ALIAS, verbosity=1, **kwargs):
    """After ``migrate``: create the table of a cache kept in the database
    (CACHE_URL=db://TABLE) when it is missing, so that ``migrate`` is the one
    step a deploy or an upgrade runs. Does nothing for other caches."""
    call_command("createcachetable", database=using, verbosity=max(0, verbosity - 1))


def tune_session(sender, connection, **kwargs):
    """Turn PostgreSQL's JIT compiler off for the session unless DB_JIT=1, and
    set the statement timeout when DB_STATEMENT_TIMEOUT gives one (without
    one, the database's or its role's own setting stands).

    JIT pays off on long analytical queries; a page's queries are short, and
    the compile time PostgreSQL spends on one it costs high (a grouped count
    over 20k reviews: 28 ms of 175) is time the user waits. At 1M cases the
    review inbox went 244 -> 173 ms, the team page 128 -> 99 ms, and no page
    got slower, the root-cause report included (docs/PERFORMANCE.md). Both
    are set at connection time with set_config(), one round trip, not as
    startup options, so a PgBouncer in front accepts them."""
    if connection.vendor != "postgresql":
        return
    jit = "on" if settings.DATABASE_JIT else "off"
    timeout = settings.DATABASE_STATEMENT_TIMEOUT_MS
    with connection.cursor() as cursor:
        if timeout:
            cursor.execute(
                "SELECT set_config('jit', %s, false), set_config('statement_timeout', %s, false)",
                [jit, f"{timeout}ms"],
            )
        else:
            cursor.execute("SELECT set_config('jit', %s, false)", [jit])


@contextmanager
def set_locally(alias, **settings: str):
    """A transaction in which PostgreSQL's ``settings`` (name=value) hold
    (nothing on another database). SET LOCAL ends with the transaction,
    whatever happens in it, and stays on the one server connection the
    transaction holds, behind a pooler too."""
    connection = connections[alias]
    if connection.vendor != "postgresql":
        yield
        return
    calls = ", ".join(["set_config(%s, %s, true)"] * len(settings))
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        cursor.execute(f"SELECT {calls}", [part for pair in settings.items() for part in pair])
        yield


@contextmanager
def planned_each_time(alias):
    """Statements sent meanwhile are not prepared: PostgreSQL plans each for
    its own parameters (nothing on another database, or when prepared
    statements are off).

    A connection prepares a statement it sent five times (settings.PREPARED),
    and PostgreSQL may then keep one plan for any parameters. For a list's
    page and count that plan is made for the filters' average value: after
    the whole team's queue had been filtered by a few common states, the
    kept plan walked every case for a state few cases are in (cancelled
    among all cases at 1M: 12 ms planned for it, 1.3 s with the kept plan).
    The psycopg connection's threshold is set aside, not the session's
    settings: no round trip, behind a pooler too."""
    connection = connections[alias]
    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    kept = raw.prepare_threshold
    raw.prepare_threshold = None
    try:
        yield
    finally:
        raw.prepare_threshold = kept


def _unlimited(alias):
    """A transaction whose statements run without a time limit."""
    return set_locally(alias, statement_timeout="0")


def _unlimited_chunks(chunks, alias):
    with _unlimited(alias):
        yield from chunks


def without_statement_timeout(view):
    """A view whose statements may run as long as they need: a report over a
    long period, an export of every case. The view runs in a transaction
    without the limit and so does, for a streamed file, the sending of it
    (a CSV export's COPY reads the cases as it goes)."""

    @wraps(view)
    def unhurried(request, *args, **kwargs):
        with _unlimited(DEFAULT_DB_ALIAS):
            response = view(request, *args, **kwargs)
        if response.streaming and connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
            response.streaming_content = _unlimited_chunks(
                response.streaming_content, DEFAULT_DB_ALIAS
            )
        return response

    return unhurried


def cancelled(exception) -> bool:
    """Whether ``exception`` is the database stopping a statement: the
    statement timeout, or an operator's pg_cancel_backend()."""
    return isinstance(exception, OperationalError) and (
        getattr(exception.__cause__, "sqlstate", None) == QUERY_CANCELED
    )


class StatementTimeoutMiddleware:
    """A page whose statement the database stopped answers 503 with what to
    do about it (narrow the search or the period), not a server error. The
    API answers the same in its own error shape (complaints/api/errors.py)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not cancelled(exception):
            return None
        log_cancelled(request, exception)
        return render(request, "statement_timeout.html", {"message": TOO_LONG}, status=503)


def log_cancelled(request, exception) -> None:
    user = getattr(request, "user", None)
    log.warning(
        "statement cancelled on %s %s for %s: %s",
        request.method,
        request.get_full_path()[:300],
        user.get_username() if user is not None and user.is_authenticated else "anonymous",
        str(exception.__cause__ or exception).strip().splitlines()[0][:200],
    )

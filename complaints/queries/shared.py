"""Counts shared for a minute by everyone who asks meanwhile.

Some summaries read a whole table's worth of rows (the review funnel, the
voucher ledger's money): counted once a minute and kept in the default cache,
which ``make serve`` keeps in the database (CACHE_URL), so every process and
app server shares one count. The page says when it was counted.

What is kept is plain data (numbers, text, dates, amounts), never the app's
own objects: a shared cache outlives a deploy, and an object pickled by the
previous version of the code need not fit this one. ``build`` turns the data
back into what the caller wants; data it cannot read is counted again.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.utils import timezone

log = logging.getLogger(__name__)

SHARED_SECONDS = 60
# A count older than SHARED_SECONDS is counted again by one caller, while
# everyone else is still shown the count before it (and when it was taken)
# for up to this many times as long: when the minute ran out under load,
# every process that asked counted the whole ledger at once (1.6 s a page
# in the load test at 1M cases instead of 0.3).
KEPT_STALE = 10

# Counts the task worker can count again, by name: it is given the name and
# the arguments (text), as a task's arguments must be.
_COUNTERS: dict[str, Callable[..., Any]] = {}


def counted_by_worker(name: str):
    """Register a count (a function of text arguments) that the task worker
    may count again in the background (shared_count's ``recount``)."""

    def register(count):
        _COUNTERS[name] = count
        return count

    return register


def shared_count[T](
    key: str,
    count: Callable[[], Any],
    build: Callable[[Any], T],
    *,
    seconds: int = SHARED_SECONDS,
    recount: tuple[str, tuple[str, ...]] | None = None,
) -> tuple[T, datetime]:
    """``build(count())`` and when it was counted, the count kept ``seconds``
    under ``key`` for the next caller. When it is older, the first caller
    to claim ``key``'s recount (``cache.add``, which one process wins) has
    it counted again: by the task worker, when there is one and ``recount``
    names the registered count and its arguments (then nobody waits for it:
    every caller, the claimer too, gets the older count until the worker has
    written the new one), else by itself; the others get the older count
    meanwhile."""
    kept, claimed = _cached(cache.get, key), False
    if isinstance(kept, dict) and isinstance(kept.get("at"), datetime):
        fresh = timezone.now() - kept["at"] < timedelta(seconds=seconds)
        claimed = not fresh and _cached(cache.add, f"{key}:recount", True, seconds)
        if claimed and recount is not None and _handed_to_worker(key, recount, seconds):
            claimed = False  # the worker lets the claim go when it is done
        if not claimed:  # fresh, or being counted again elsewhere
            try:
                return build(kept["data"]), kept["at"]
            except (KeyError, TypeError, ValueError):
                pass  # written by another version of the code: count again
    try:
        data, at = count(), timezone.now()
        _cached(cache.set, key, {"data": data, "at": at}, seconds * KEPT_STALE)
    finally:
        if claimed:  # done or failed: the next caller may count
            _cached(cache.delete, f"{key}:recount")
    return build(data), at


def _handed_to_worker(key: str, recount: tuple[str, tuple[str, ...]], seconds: int) -> bool:
    """Enqueue the recount for the task worker; False when there is none
    (tasks run in the request: TASK_BACKEND=immediate) or the enqueue
    failed, and the caller counts itself."""
    from ..tasks import recount_shared

    name, args = recount
    if name not in _COUNTERS or not recount_shared.get_backend().supports_defer:
        return False
    try:
        recount_shared.enqueue(key, name, list(args), seconds)
    except Exception as error:  # the task table unreachable: count here
        log.error("shared count %s not handed to the worker: %r", key, error)
        return False
    return True


def count_again(key: str, name: str, args: list[str], seconds: int) -> None:
    """The task worker's part: count ``name(*args)`` and keep it under
    ``key``, then let the claim go."""
    from . import money, reviews  # noqa: F401 (they register their counts)

    try:
        data, at = _COUNTERS[name](*args), timezone.now()
        _cached(cache.set, key, {"data": data, "at": at}, seconds * KEPT_STALE)
    finally:
        _cached(cache.delete, f"{key}:recount")


def _cached(operation, *args):
    """One cache operation; None when the cache fails (a cache server that
    does not answer): the page then counts for itself, slower but shown."""
    try:
        return operation(*args)
    except Exception as error:  # any backend's own connection errors
        log.error("shared count without the cache (it failed: %r)", error)
        return None

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

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.utils import timezone

SHARED_SECONDS = 60


def shared_count[T](
    key: str,
    count: Callable[[], Any],
    build: Callable[[Any], T],
    *,
    seconds: int = SHARED_SECONDS,
) -> tuple[T, datetime]:
    """``build(count())`` and when it was counted, the count kept ``seconds``
    under ``key`` for the next caller."""
    kept = cache.get(key)
    if isinstance(kept, dict) and isinstance(kept.get("at"), datetime):
        try:
            return build(kept["data"]), kept["at"]
        except (KeyError, TypeError, ValueError):
            pass  # written by another version of the code: count again
    data, at = count(), timezone.now()
    cache.set(key, {"data": data, "at": at}, seconds)
    return build(data), at

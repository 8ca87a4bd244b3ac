"""Due times of a case, by priority.

A first version: round-the-clock hours per priority from settings. The SLA
policies of the deadlines issue (business hours, sources, pauses) replace
``due_times`` without its callers changing.
"""

from datetime import datetime, timedelta

from .conf import setting


def due_times(*, priority: int, opened_at: datetime) -> tuple[datetime, datetime]:
    """Return (first response due, resolution due) for a case opened at ``opened_at``."""
    first = setting("FIRST_RESPONSE_HOURS")[priority]
    resolve = setting("RESOLUTION_HOURS")[priority]
    return opened_at + timedelta(hours=first), opened_at + timedelta(hours=resolve)

"""The task queue, as the health check reads it."""

from datetime import datetime

from django.db.models import Q, QuerySet
from django_tasks_db.models import DBTaskResult, get_date_max


def tasks_waiting_since(cutoff: datetime) -> QuerySet:
    """Tasks ready to run that have waited for a worker since before
    ``cutoff``: enqueued then (to run at once), or due then (scheduled)."""
    return DBTaskResult.objects.ready().filter(
        Q(run_after=get_date_max(), enqueued_at__lt=cutoff) | Q(run_after__lt=cutoff)
    )

"""Health endpoints for a load balancer and for monitoring (django-health-check).

- ``/health/``: can this web process work cases? The database answers and the
  evidence storage takes, returns and deletes a file. A load balancer takes a
  web server out of rotation while this is not 200.
- ``/health/worker/``: is the task worker keeping up? No task has waited
  longer than ``HEALTH_TASK_DELAY_MINUTES`` for ``manage.py db_worker``.
  For monitoring to alert on, not for a load balancer: a stopped worker
  delays e-mail, webhooks and the SLA sweeps, but the web still works.

Both answer 200 or 503, as HTML, or as JSON with ``Accept: application/json``
(or ``?format=json``), and name only the check and its state.
"""

import dataclasses
from datetime import timedelta

from django.conf import settings
from django.http import HttpResponseBadRequest
from django.tasks import task_backends
from django.utils import timezone
from django_tasks_db import DatabaseBackend
from health_check import Database, HealthCheck, Storage
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView, MediaType

from .queries.tasks import tasks_waiting_since


@dataclasses.dataclass
class TaskQueue(HealthCheck):
    """No task has waited for the worker longer than ``delay``."""

    delay: timedelta = dataclasses.field(
        default_factory=lambda: timedelta(minutes=settings.HEALTH_TASK_DELAY_MINUTES),
        repr=False,
    )

    async def run(self):
        if not isinstance(task_backends["default"], DatabaseBackend):
            return  # tasks run in the web process: nothing waits for a worker
        cutoff = timezone.now() - self.delay
        if await tasks_waiting_since(cutoff).aexists():
            minutes = int(self.delay.total_seconds() // 60)
            raise ServiceUnavailable(
                f"tasks have waited more than {minutes} minutes: is manage.py db_worker running?"
            )


class HealthView(HealthCheckView):
    """The library's view, answering 503 rather than 500 when a check fails:
    the service is unavailable, nothing went wrong in the request. A blank
    Accept header counts as any type; a malformed one gets a 400 that says so
    (the library would fail on it with a 500)."""

    async def get(self, request, *args, **kwargs):
        accept = request.META.get("HTTP_ACCEPT", "").strip()
        if not accept:
            request.META["HTTP_ACCEPT"] = "*/*"
            request.__dict__.pop("headers", None)  # read again from META
        else:
            try:
                list(MediaType.parse_header(accept))
            except ValueError:
                return HttpResponseBadRequest(
                    "The Accept header is not a list of media types "
                    "(for example: application/json, text/plain;q=0.5).\n",
                    content_type="text/plain; charset=utf-8",
                )
        response = await super().get(request, *args, **kwargs)
        if response.status_code == 500:
            response.status_code = 503
        return response


web = HealthView.as_view(checks=[Database, Storage])
worker = HealthView.as_view(checks=[TaskQueue])

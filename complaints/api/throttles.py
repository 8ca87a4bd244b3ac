"""How often one API user may call (settings API_RATE, API_REPORT_RATE).

An integration stuck in a loop (a sync that retries at once, a script that
pulls every case every second) is answered 429 with ``Retry-After`` once it
passes its rate, before its calls take the web workers and the database
from the agents. The count is DRF's sliding window of the user's recent
calls, kept in the shared cache (CACHE_URL), so every process and machine
counts the same calls. It is a brake, not a meter: calls arriving at the
same moment in several processes may each read the count before the others
wrote it, and a few slip past the limit.

When the cache fails, calls go through uncounted (logged at ERROR): the
rate protects the API, it must not be what stops it.

Calls are counted after authentication and permissions: an unauthenticated
call is answered 401 before it could be counted, and a refused one 403.
"""

import logging

from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle

from ..security import client_ip

log = logging.getLogger("casetracker.access")


class PerUser(UserRateThrottle):
    """Every call of a user, on every endpoint (API_RATE)."""

    scope = "user"

    def get_rate(self):
        # Read at each call: DRF's class attribute keeps the rates the
        # settings had when it was imported.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        # The cache server down (a redis:// CACHE_URL that does not answer)
        # must not take the API down with it: the call goes through uncounted.
        try:
            return super().allow_request(request, view)
        except Exception as error:  # any backend's own connection errors
            log.error("API rate not counted (the cache failed: %r)", error)
            return True

    def wait(self):
        # Until enough calls have left the window for one more: the oldest
        # of the newest `num_requests` (DRF gives up when the rate was
        # lowered below the calls already counted).
        if len(self.history) < self.num_requests:
            return None
        return max(0.0, self.duration - (self.now - self.history[self.num_requests - 1]))

    def get_ident(self, request):
        return client_ip(request) or "unknown"  # the address the access log names


class Reports(PerUser):
    """The root-cause report, which runs without the statement timeout over
    every case of its period (API_REPORT_RATE), besides the user's rate."""

    scope = "report"

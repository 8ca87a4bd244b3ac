"""gunicorn's settings for ``make serve`` (bin/serve), from the environment.

BIND             address:port (default 127.0.0.1:8000)
WEB_CONCURRENCY  worker processes (default 2 x CPUs + 1, at most 9)
WEB_THREADS      threads per worker (default 4)
FORWARDED_ALLOW_IPS  proxies whose X-Forwarded-* headers gunicorn trusts
WEB_KEEPALIVE    seconds an idle keep-alive connection stays open (default 75)

Every worker is a separate process sharing nothing but the database: a shop
that outgrows one machine runs more of them on more machines.
"""

import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 9)))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
timeout = 60  # an export streams; nothing else comes close
# Longer than any client (or proxy: nginx keeps upstream connections 60 s)
# leaves a connection idle. With gunicorn's default of 2 s, a browser or proxy
# reusing a connection the server was closing at that moment got a reset:
# the load test's only failures (docs/PERFORMANCE.md).
keepalive = int(os.environ.get("WEB_KEEPALIVE", "75"))
graceful_timeout = 30
max_requests = 5000  # recycle workers now and then, not all at once
max_requests_jitter = 500
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "casetracker"

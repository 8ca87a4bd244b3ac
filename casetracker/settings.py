"""Settings for casetracker, read from the environment.

A developer's checkout may keep local values in ``.env`` (KEY=VALUE lines,
never committed; ``make run`` writes one with DEBUG=1). Real environment
variables win over it.

DATABASE_URL  database (default: SQLite file db.sqlite3 beside manage.py)
SECRET_KEY    required unless DEBUG is on; also seals the secrets kept in the
              database (webhook secrets, authenticator keys)
SECRET_KEY_FALLBACKS  older SECRET_KEYs still accepted (comma-separated), while
              `manage.py reseal_secrets` seals again with the new one
DEBUG         "1"/"true" for development (default off)
ALLOWED_HOSTS comma-separated host names (default: localhost names when DEBUG)
TASK_BACKEND  "database" (a db_worker runs the tasks; default when DEBUG is off)
              or "immediate" (tasks run at once in the web process; default in DEBUG)
DB_PREPARED_STATEMENTS  PostgreSQL prepares repeated statements (default on; 0 for
              a PgBouncer in transaction mode that cannot keep them)
DB_STATEMENT_TIMEOUT  PostgreSQL cancels a statement of the app's after this long
              (e.g. 15s; default 0: none of the app's, the database's own stands;
              make serve: 15s for the web)
CACHE_URL     the cache shared by every process (default locmem://: one process's
              own; make serve: db://casetracker_cache, a table in the database)
HEALTH_TASK_DELAY_MINUTES  /health/worker/ fails once a task has waited this long
              (default 10)
SESSION_IDLE_MINUTES  a log-in ends after this long without a request (default
              480; 0: only two weeks after the log-in)
LOGIN_ADDRESS_FAILURE_LIMIT  failed log-ins from one address before every log-in from it
              pauses for the cool-off (default 30; 0: off)
TWO_FACTOR_ROLES  roles that must log in with a code from an authenticator app as
              well as the password (comma-separated: agent, supervisor, admin;
              default none: each user may turn it on for themselves)
API_RATE, API_REPORT_RATE  calls one API user may make (default 600/minute;
              the root-cause report 30/minute); "off" for no limit
BEHIND_PROXY, SECURE_SSL_REDIRECT, SECURE_HSTS_SECONDS, SECURE_COOKIES  HTTPS (see below)
"""

import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
import django_cache_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def load_env_file(path: Path) -> None:
    """Copy KEY=VALUE lines of ``path`` into os.environ where not already set."""
    if not path.is_file():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        os.environ.setdefault(key.strip(), value.strip().strip("\"'"))


load_env_file(BASE_DIR / ".env")


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_whole(name: str, default: int, *, unit: str = "", minimum: int = 0) -> int:
    """A whole number from the environment (``unit`` names what it counts);
    anything else stops the start-up with a message naming the variable,
    not Python's "invalid literal for int()"."""
    text = os.environ.get(name, "").strip() or str(default)
    if not text.isdigit() or int(text) < minimum:
        what = f"a whole number of {unit}" if unit else "a whole number"
        extra = " (0: off)" if minimum == 0 else f" of at least {minimum}"
        raise ImproperlyConfigured(f"{name} must be {what}{extra}.")
    return int(text)


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set in the environment when DEBUG is off "
            "(set DEBUG=1 for local development)."
        )
    # Development only: never used when DEBUG is off.
    SECRET_KEY = "casetracker-development-only-key-not-for-production-use-0123456789"
# Older keys, still accepted (comma-separated): signed cookies and sessions
# made with them, and secrets sealed with them (complaints/sealing.py), keep
# working after SECRET_KEY changes; `manage.py reseal_secrets` seals again
# with the new key, after which the old one can go.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",
    "django_filters",
    "django_htmx",
    "django_tasks_db",
    "rest_framework",
    "rest_framework.authtoken",  # only for migration 0051, which moved its keys to knox
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "health_check",
    "complaints",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "complaints.security.IdleSessionTimeout",
    # request.user.is_verified(): the session holds a code's device.
    "django_otp.middleware.OTPMiddleware",
    "complaints.security.RefusedAccessLogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Inside the access log (its refusals are logged), the messages and the
    # frame header, which its answers need like every page.
    "complaints.two_factor.TwoFactorMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "casetracker.database.StatementTimeoutMiddleware",
    # Innermost: the page it draws for an empty 405 passes every middleware
    # above (security headers, cookies) like any other page.
    "complaints.views.errors.MethodNotAllowedPage",
    "complaints.views.errors.SessionEnded",
]

# Logins go through django-axes first: after AXES_FAILURE_LIMIT failures for
# one user name from one address, that pair is locked out for
# AXES_COOLOFF_MINUTES (a 429 page); a success resets the count. Locking by
# the pair, not the address alone, keeps a shop's office (one address for
# every agent) working while someone mistypes.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, reading a user's own and group permissions in
    # one query instead of two (complaints/auth.py).
    "complaints.auth.PermissionsBackend",
]
AXES_FAILURE_LIMIT = env_whole("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(
    minutes=env_whole("AXES_COOLOFF_MINUTES", 15, unit="minutes", minimum=1)
)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_CALLABLE = "complaints.security.locked_out"
# And one address alone: after LOGIN_ADDRESS_FAILURE_LIMIT failed log-ins
# from it within the cool-off, by user names that did not log in since
# (password spraying: a guess or two at each of many names), every log-in
# from that address pauses for the cool-off (complaints.security.
# LoginAttempts). An office's mistypes followed by the right password do not
# count: each success clears its name's count. 0 turns it off.
AXES_HANDLER = "complaints.security.LoginAttempts"
LOGIN_ADDRESS_FAILURE_LIMIT = env_whole("LOGIN_ADDRESS_FAILURE_LIMIT", 30)
AXES_CLIENT_IP_CALLABLE = "complaints.security.client_ip"
AXES_VERBOSE = False  # casetracker.access logs the failures (complaints/security.py)

ROOT_URLCONF = "casetracker.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "complaints.context_processors.navigation",
            ],
        },
    },
]

# Forms render with the project's templates (templates/complaints/forms/).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

WSGI_APPLICATION = "casetracker.wsgi.application"
ASGI_APPLICATION = "casetracker.asgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_whole("CONN_MAX_AGE", 0, unit="seconds"),
        conn_health_checks=True,
    )
}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers queue for the lock at BEGIN (instead of failing with "database is
    # locked" when two transactions both try to upgrade), readers do not block
    # the writer (WAL), and a waiting writer gives up only after 20 s.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Threads in tests need a database file they can share, not one in memory.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / ".test-db.sqlite3")}

# PostgreSQL: parameters go to the server apart from the SQL, and a statement
# a connection has sent 5 times is prepared, so PostgreSQL plans it once
# instead of on every page. Planning was most of the database's time on a
# page (3.0 of 3.7 ms on the case page; docs/PERFORMANCE.md). Takes effect on
# kept connections (CONN_MAX_AGE). DB_PREPARED_STATEMENTS=0 turns it off, e.g.
# behind a PgBouncer in transaction mode that does not keep prepared
# statements (max_prepared_statements, PgBouncer >= 1.21).
PREPARED = os.environ.get("DB_PREPARED_STATEMENTS", "1").lower() in ("1", "true", "yes", "on")
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and PREPARED:
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=5
    )

# PostgreSQL's JIT compiler, off for the app's sessions unless DB_JIT=1
# (casetracker/database.py says why).
DATABASE_JIT = os.environ.get("DB_JIT", "0").lower() in ("1", "true", "yes", "on")


def _milliseconds(name: str, text: str) -> int:
    """``15s``, ``2min``, ``500ms`` or a bare number of milliseconds."""
    match = re.fullmatch(r"\s*(\d+)\s*(ms|s|min)?\s*", text)
    if not match:
        raise ImproperlyConfigured(f"{name} must be a duration such as 15s, 2min or 500ms.")
    number, unit = int(match[1]), match[2] or "ms"
    return number * {"ms": 1, "s": 1000, "min": 60_000}[unit]


# PostgreSQL: the longest one statement of the app's may run before the
# database cancels it (DB_STATEMENT_TIMEOUT; 0, the default: none of the app's).
# make serve sets 15s for the web workers, none for the task worker: a page
# that would hold a connection and a worker for minutes (a one-letter search
# over a million cases) answers 503 with what to narrow instead; reports and
# exports run without it (casetracker/database.py). Unset, the app sets no
# limit and the database's or its role's own stands.
DATABASE_STATEMENT_TIMEOUT_MS = _milliseconds(
    "DB_STATEMENT_TIMEOUT", os.environ.get("DB_STATEMENT_TIMEOUT", "0")
)

# The cache. Counts shared for a minute (the review funnel, the voucher
# ledger's money) live in the default cache, from CACHE_URL (django-cache-url):
# locmem:// (the default) keeps them in each process; db://TABLE keeps them in
# a table of the database, shared by every web process and app server (make
# serve uses db://casetracker_cache; migrate creates the table); memcached://
# (with pylibmc) or redis:// (with django-redis) name a cache server. Rendered
# template fragments (a list's filter form) stay in each process
# ("template_fragments"): HTML the process can always render again, cheaper
# than a round trip.
try:
    CACHES = {"default": django_cache_url.parse(os.environ.get("CACHE_URL") or "locmem://")}
except Exception as error:  # the library raises a bare Exception for a bad scheme
    raise ImproperlyConfigured(f"CACHE_URL: {error}") from error
CACHES["template_fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "template-fragments",
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "en")
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "complaints" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
# Production serves the collected files under content-hashed names,
# compressed, cached for a year (WhiteNoise); development serves them as they are.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# WhiteNoise serves static files in every mode; until collectstatic has run it
# finds them where they live (production runs collectstatic: see README).
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns about a missing root
MEDIA_URL = "media/"
FIXTURE_DIRS = [BASE_DIR / "fixtures"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))


def _rate(name: str, default: str) -> str | None:
    """``600/minute`` (calls per second, minute, hour or day), or ``off``."""
    text = os.environ.get(name, default).strip().lower()
    if text in ("off", "0"):
        return None
    match = re.fullmatch(r"(\d+)\s*/\s*(s|sec|second|m|min|minute|h|hour|d|day)", text)
    if not match or int(match[1]) == 0:
        raise ImproperlyConfigured(
            f"{name} must be a number of calls per second, minute, hour or day "
            f"(such as 600/minute), or off."
        )
    return f"{int(match[1])}/{match[2]}"


# The REST API (/api/): a token per user (admin, or manage.py issue_token) or
# the browser's session; JSON in and out; one error shape. Each user's calls
# are counted in the shared cache (CACHE_URL) and refused with 429 past
# API_RATE, the root-cause report's past API_REPORT_RATE (complaints/api/
# throttles.py): an integration stuck in a loop waits instead of taking the
# server and the database from the agents.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "complaints.api.tokens.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["complaints.api.permissions.Authenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "complaints.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_THROTTLE_CLASSES": ["complaints.api.throttles.PerUser"],
    "DEFAULT_THROTTLE_RATES": {
        "user": _rate("API_RATE", "600/minute"),
        "report": _rate("API_REPORT_RATE", "30/minute"),
    },
}
# API tokens (django-rest-knox): the database keeps a SHA-512 digest of each
# key, never the key, so a copy of the database or of a backup lets nobody
# call the API. A key is shown once, when it is made (manage.py issue_token,
# or the admin); it starts with "ct_" so secret scanners can spot a leaked
# one; it lasts until revoked unless made with an expiry.
REST_KNOX = {"TOKEN_TTL": None, "TOKEN_PREFIX": "ct_", "AUTH_HEADER_PREFIX": "Token"}
SPECTACULAR_SETTINGS = {
    "TITLE": "casetracker API",
    "DESCRIPTION": (
        "Cases, orders, reviews, offers and vouchers for the shop's integrations. "
        "Authenticate with 'Authorization: Token <key>'. Errors are "
        '{"detail": "...", "code": "..."} (with "errors" for invalid input). '
        "Each user's calls are limited per minute (the shop sets the rate): past it "
        "the answer is 429 with the seconds to wait in Retry-After. A read-only token "
        "(its key starts ct_ro_) reads what its user may read; a call that would "
        "change something is refused 403 with the code read_only_token."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name for a choice set that several fields share.
    "ENUM_NAME_OVERRIDES": {
        "CaseStateEnum": "complaints.models.CaseState",
        "ResponsiblePartyEnum": "complaints.models.ResponsibleParty",
        "StarsEnum": [(stars, str(stars)) for stars in range(1, 6)],
        "RemedyKindEnum": "complaints.models.RemedyKind",
        "EventKindEnum": "complaints.models.EventKind",
    },
}

# HTTPS in production (off with DEBUG). Behind a proxy that ends TLS, set
# BEHIND_PROXY=1 so Django trusts its X-Forwarded-Proto header; a proxy that
# redirects to HTTPS itself may turn SECURE_SSL_REDIRECT off.
BEHIND_PROXY = env_bool("BEHIND_PROXY")
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# A load balancer probes the web servers over plain HTTP behind the proxy.
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SECURE_HSTS_SECONDS = env_whole("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, unit="seconds")
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
# Secure cookies are named with the __Host- prefix: a browser keeps such a
# cookie only when this host set it, over HTTPS, for the whole site (Path=/)
# and for no other domain. A sibling subdomain (a shop's marketing pages on
# promo.shop.example) then cannot plant a CSRF cookie of its choosing, with
# which its page could forge a form, nor a session. app.js reads the CSRF
# cookie's name from the page.
if SESSION_COOKIE_SECURE:
    SESSION_COOKIE_NAME, CSRF_COOKIE_NAME = "__Host-sessionid", "__Host-csrftoken"
# Every page, development included: no inline script or style, nothing from
# another origin, no framing. Scripts and styles are static files of our own;
# data: images are the icons inside the vendored stylesheets.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Browser features no page of ours uses, refused to every page and anything
# a page might be made to load (django-permissions-policy): a photo of
# evidence comes from a file chooser, not the camera; no sensors, payments,
# devices or tracking.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer", "autoplay", "browsing-topics",
        "camera", "display-capture", "encrypted-media", "geolocation", "gyroscope", "hid",
        "idle-detection", "local-fonts", "magnetometer", "microphone", "midi", "payment",
        "publickey-credentials-get", "screen-wake-lock", "serial", "usb", "xr-spatial-tracking",
    )
}  # fmt: skip
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"


# A log-in ends after this long without a request (complaints.security.
# IdleSessionTimeout): a browser left logged in at a shared desk, with the
# customers' names and phone numbers on its pages, is logged out by the next
# shift. Eight hours, a working day, as the big helpdesks default to; 0 turns
# it off (a log-in then lasts SESSION_COOKIE_AGE, two weeks). A form sent
# after the session ended keeps what was typed (views.errors.SessionEnded).
SESSION_IDLE_MINUTES = env_whole("SESSION_IDLE_MINUTES", 480, unit="minutes")


# Two-step log-in (django-otp; complaints/two_factor.py): after the password,
# a six-digit code from an authenticator app (TOTP) or a one-time backup code.
# Any user may turn it on for themselves; the roles listed here must (their
# first log-in then sets it up).
def _roles(name: str) -> frozenset[str]:
    from complaints.roles import ROLE_PERMISSIONS

    roles = frozenset(part.strip() for part in os.environ.get(name, "").split(",") if part.strip())
    if unknown := roles - ROLE_PERMISSIONS.keys():
        raise ImproperlyConfigured(
            f"{name}: unknown role {', '.join(sorted(unknown))} "
            f"(the roles are {', '.join(ROLE_PERMISSIONS)})."
        )
    return roles


TWO_FACTOR_ROLES = _roles("TWO_FACTOR_ROLES")
OTP_TOTP_ISSUER = "casetracker"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# A wrong code locks the device for 1, 2, 4, 8 ... seconds (django-otp's throttle).
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1

# A refused form says why (expired, or no cookie) in the app's layout and
# language, and that nothing was saved (complaints/views/errors.py).
CSRF_FAILURE_VIEW = "complaints.views.errors.csrf_failure"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# E-mail through Django's mailers: the console in development, SMTP in
# production (MAIL_HOST, MAIL_PORT, MAIL_USER, MAIL_PASSWORD, MAIL_USE_TLS).
MAIL_BACKEND = os.environ.get(
    "MAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
_mail_options = {}
if MAIL_BACKEND.endswith("smtp.EmailBackend"):
    _mail_options = {
        "host": os.environ.get("MAIL_HOST", "localhost"),
        "port": env_whole("MAIL_PORT", 25, minimum=1),
        "username": os.environ.get("MAIL_USER", ""),
        "password": os.environ.get("MAIL_PASSWORD", ""),
        "use_tls": env_bool("MAIL_USE_TLS"),
    }
MAILERS = {"default": {"BACKEND": MAIL_BACKEND, "OPTIONS": _mail_options}}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "casetracker@localhost")

# Background work (e-mail, the SLA and voucher sweeps) through django.tasks.
# Production stores tasks in the database for ``manage.py db_worker``; in
# development they run at once, so ``make run`` needs no worker.
TASK_BACKEND = os.environ.get("TASK_BACKEND", "immediate" if DEBUG else "database")
if TASK_BACKEND not in ("database", "immediate"):
    raise ImproperlyConfigured('TASK_BACKEND must be "database" or "immediate".')
# /health/worker/ answers 503 once a task has waited this long for the worker.
HEALTH_TASK_DELAY_MINUTES = env_whole("HEALTH_TASK_DELAY_MINUTES", 10, unit="minutes", minimum=1)
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend"
        if TASK_BACKEND == "database"
        else "django.tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default"],
    }
}

# Uploaded evidence: larger files stream to disk instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Business rules an admin may tune per deployment (see complaints/conf.py).
CASETRACKER = {
    "REOPEN_WINDOW_DAYS": env_whole("CASETRACKER_REOPEN_WINDOW_DAYS", 15, unit="days"),
    "SERIAL_COMPLAINANT_CASES": env_whole("CASETRACKER_SERIAL_CASES", 3, minimum=1),
    "SERIAL_COMPLAINANT_DAYS": env_whole("CASETRACKER_SERIAL_DAYS", 90, unit="days", minimum=1),
    "VOUCHER_VALIDITY_DAYS": env_whole("CASETRACKER_VOUCHER_DAYS", 30, unit="days", minimum=1),
    "EVIDENCE_MAX_BYTES": env_whole(
        "CASETRACKER_EVIDENCE_MAX_BYTES", 10 * 2**20, unit="bytes", minimum=1
    ),
    "WEBHOOK_DELIVERY_DAYS": env_whole(
        "CASETRACKER_WEBHOOK_DELIVERY_DAYS", 90, unit="days", minimum=1
    ),
    "NOTIFICATION_DAYS": env_whole("CASETRACKER_NOTIFICATION_DAYS", 180, unit="days", minimum=1),
}

# Logs go to standard error (the process manager keeps them). casetracker.access
# has a line for every refused request and failed login (complaints/security.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {
        "casetracker.access": {"level": "INFO"},
        "axes": {"level": "WARNING"},
    },
}

"""Business settings with their defaults; a deployment overrides them in
``settings.CASETRACKER``."""

from django.conf import settings

DEFAULTS = {
    "REOPEN_WINDOW_DAYS": 15,
    "SERIAL_COMPLAINANT_CASES": 3,
    "SERIAL_COMPLAINANT_DAYS": 90,
    "VOUCHER_VALIDITY_DAYS": 30,
    "EVIDENCE_MAX_BYTES": 10 * 2**20,
    # Hours to the first response and to resolution, by priority (1 low .. 4 urgent),
    # around the clock, for cases no active SLA policy covers.
    "FIRST_RESPONSE_HOURS": {1: 24, 2: 8, 3: 2, 4: 1},
    "RESOLUTION_HOURS": {1: 168, 2: 72, 3: 48, 4: 24},
    # Warn the assignee when this share of a clock's time is used (SLA policies
    # carry their own).
    "SLA_WARN_PERCENT": 80,
    "DUE_SOON_HOURS": 4,
    # Reviews rated this or lower open a case when imported.
    "NEGATIVE_REVIEW_MAX_RATING": 3,
    # A review whose reply window ends within this many days is flagged.
    "REPLY_WINDOW_WARN_DAYS": 3,
    # Outbound webhooks: attempts per delivery (waits 1, 2, 4 ... minutes
    # between them) and seconds to wait for the receiver.
    "WEBHOOK_ATTEMPTS": 8,
    "WEBHOOK_TIMEOUT": 10,
    # Finished webhook deliveries (delivered or given up) and their attempts
    # are kept this many days, then prune_webhook_deliveries deletes them.
    "WEBHOOK_DELIVERY_DAYS": 90,
    # Notifications read are kept this many days, then prune_notifications
    # deletes them (unread ones stay).
    "NOTIFICATION_DAYS": 180,
    # API: how long an Idempotency-Key is remembered.
    "IDEMPOTENCY_KEY_HOURS": 24,
}


def setting(name: str):
    """Return the deployment's value for ``name``, or its default."""
    return getattr(settings, "CASETRACKER", {}).get(name, DEFAULTS[name])

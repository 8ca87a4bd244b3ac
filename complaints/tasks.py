"""Background work, run by Django's tasks framework: a database worker
(``manage.py db_worker``) in production, at once in development.

Callers enqueue after their transaction commits (``transaction.on_commit``),
so a rolled-back operation leaves nothing to do.
"""

import logging
from datetime import timedelta

from django.core.mail import send_mail
from django.db import transaction
from django.tasks import task
from django.utils import timezone

logger = logging.getLogger("complaints.tasks")

# E-mail retries: wait 1, 2, 4, 8 and 16 minutes, then give up (the
# notification stays in the app either way).
EMAIL_ATTEMPTS = 6


@task()
def send_notification_email(notification_id: int, attempt: int = 1) -> str:
    """E-mail one notification to its recipient, once."""
    from .models import Notification, NotificationSettings

    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .select_related("recipient")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None or notification.emailed_at is not None:
            return "skipped"
        recipient = notification.recipient
        if not recipient.is_active or not recipient.email:
            return "skipped"
        if not NotificationSettings.wants_email(recipient):
            return "opted out"
        subject = f"[casetracker] {notification.message.splitlines()[0]}"[:150]
        try:
            send_mail(
                subject=subject,
                message=notification.message,
                from_email=None,
                recipient_list=[recipient.email],
            )
        except OSError:
            logger.warning("Could not e-mail notification %s (try %s)", notification_id, attempt)
            _retry(notification_id, attempt)
            return "retrying"
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return "sent"


def _retry(notification_id: int, attempt: int) -> None:
    backend = send_notification_email.get_backend()
    if attempt >= EMAIL_ATTEMPTS or not backend.supports_defer:
        logger.error("Gave up e-mailing notification %s", notification_id)
        return
    later = send_notification_email.using(
        run_after=timezone.now() + timedelta(minutes=2 ** (attempt - 1))
    )
    later.enqueue(notification_id, attempt + 1)


@task()
def sla_sweep() -> dict:
    """Warn about and escalate the deadlines now due (cron: every few minutes)."""
    from .workflow.sla import sla_sweep as sweep

    result = sweep()
    return {"warnings": result.warnings, "breaches": result.breaches, "failed": result.failed}


@task()
def expire_vouchers() -> int:
    """Expire the vouchers past their validity (cron: daily)."""
    from .workflow import vouchers_expire

    return vouchers_expire()


@task()
def recount_shared(key: str, name: str, args: list, seconds: int) -> str:
    """Count a shared count again (queries/shared.py), off the pages."""
    from .queries.shared import count_again

    count_again(key, name, args, seconds)
    return "counted"


@task()
def deliver_webhook(delivery_id: int) -> str:
    """Send one webhook delivery; a failure schedules the next attempt."""
    from .webhooks import deliver

    return deliver(delivery_id)


@task()
def deliver_webhooks() -> int:
    """Send every webhook delivery now due (cron: every few minutes)."""
    from .webhooks import deliver_due

    return deliver_due()

"""Telling people: an in-app notification, and an e-mail sent by a
background task once the transaction commits (through Django's mailers; the
console in development), unless the recipient turned e-mail off."""

from functools import partial

from django.db import transaction

from .models import Notification


def notify(*, recipient, kind: str, message: str, case=None) -> Notification | None:
    """Record a notification for ``recipient`` and e-mail it after commit.

    Call inside the operation's transaction: a rolled-back operation leaves
    no notification and enqueues nothing.
    """
    if recipient is None or not recipient.is_active:
        return None
    notification = Notification.objects.create(
        recipient=recipient, kind=kind, message=message, case=case
    )
    if recipient.email:
        transaction.on_commit(partial(_enqueue_email, notification.pk))
    return notification


def _enqueue_email(notification_id: int) -> None:
    from .tasks import send_notification_email

    send_notification_email.enqueue(notification_id)

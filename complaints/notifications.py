"""Telling people: an in-app notification, and an e-mail sent by a
background task once the transaction commits (through Django's mailers; the
console in development), unless the recipient turned e-mail off."""

from datetime import timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone

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


def prune_read(*, days: int, batch: int = 5000) -> int:
    """Delete the notifications read and older than ``days``; answers how
    many. Unread ones stay, however old: nobody has seen them yet. Rows go
    in batches, each its own short statement, from the oldest on; the case
    audit trail keeps what happened on each case."""
    old = Notification.objects.filter(
        read_at__isnull=False, created_at__lt=timezone.now() - timedelta(days=days)
    ).order_by("pk")
    deleted = last = 0
    while ids := list(old.filter(pk__gt=last).values_list("pk", flat=True)[:batch]):
        last = ids[-1]
        deleted += Notification.objects.filter(pk__in=ids).delete()[0]
    return deleted

"""Telling people: an in-app notification, and an e-mail once the
transaction commits (through Django's mailers; the console in development)."""

import logging
from functools import partial

from django.core.mail import send_mail
from django.db import transaction

from .models import Notification

logger = logging.getLogger("complaints.notifications")


def notify(*, recipient, kind: str, message: str, case=None) -> Notification | None:
    """Record a notification for ``recipient`` and e-mail it after commit.

    Call inside the operation's transaction: a rolled-back operation leaves
    no notification and sends nothing.
    """
    if recipient is None or not recipient.is_active:
        return None
    notification = Notification.objects.create(
        recipient=recipient, kind=kind, message=message, case=case
    )
    if recipient.email:
        transaction.on_commit(partial(_send, recipient.email, message))
    return notification


def _send(address: str, message: str) -> None:
    subject = f"[casetracker] {message.splitlines()[0]}"[:150]
    try:
        send_mail(subject=subject, message=message, from_email=None, recipient_list=[address])
    except OSError:  # the mail server is down: the in-app notification stays
        logger.exception("Could not e-mail %s", address)

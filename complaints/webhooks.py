"""Outbound webhooks: the shop's tooling hears about case changes.

The outbox is written with the event (``case_event_recorded``, same
transaction), so a rolled-back operation sends nothing and a committed one
is never forgotten. A task sends each delivery after commit, signed with the
endpoint's secret; a failure is retried with growing waits, and every
attempt is kept (admin: Webhook deliveries).

Signature: header ``Casetracker-Signature: t=<unix time>,v1=<hex>`` where
``v1`` is HMAC-SHA256 of ``"<t>.<raw body>"`` with the endpoint's secret.
A receiver recomputes it (``verify_signature``) and rejects old timestamps.
"""

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from .conf import setting
from .models import (
    CaseEvent,
    DeliveryStatus,
    EventKind,
    Voucher,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from .sealing import SealBroken, Unopened
from .sql import Literal

logger = logging.getLogger("complaints.webhooks")

EVENT_TYPES = {
    EventKind.OPENED: WebhookEvent.CASE_OPENED,
    EventKind.TRANSITION: WebhookEvent.CASE_TRANSITIONED,
    EventKind.OFFER_APPROVED: WebhookEvent.OFFER_DECIDED,
    EventKind.OFFER_REJECTED: WebhookEvent.OFFER_DECIDED,
    EventKind.VOUCHER_ISSUED: WebhookEvent.VOUCHER_ISSUED,
    EventKind.VOUCHER_REDEEMED: WebhookEvent.VOUCHER_REDEEMED,
}
SIGNATURE_HEADER = "Casetracker-Signature"
SIGNATURE_TOLERANCE = 300  # seconds a receiver accepts between signing and receipt


# The outbox -------------------------------------------------------------------


def record_deliveries(sender, event: CaseEvent, **kwargs) -> None:
    """Write a delivery per subscribed endpoint; enqueue each after commit."""
    event_type = EVENT_TYPES.get(event.kind)
    if event_type is None:
        return
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(active=True)
        if event_type in (endpoint.events or [])
    ]
    if not endpoints:
        return
    body = build_payload(event, event_type)
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint=endpoint,
            event_type=event_type,
            event_id=body["id"],
            payload=body,
        )
        for endpoint in endpoints
    )
    for delivery in deliveries:
        transaction.on_commit(lambda pk=delivery.pk: _enqueue(pk))


def _enqueue(delivery_id: int, *, run_after: datetime | None = None) -> None:
    from .tasks import deliver_webhook

    task = deliver_webhook.using(run_after=run_after) if run_after else deliver_webhook
    task.enqueue(delivery_id)


def build_payload(event: CaseEvent, event_type: str) -> dict:
    """Return the JSON body for ``event``: the case as it is now, the event,
    and the offer or voucher it concerns."""
    from .api.serializers import CaseListSerializer, OfferSerializer, VoucherSerializer

    case = event.case
    data = {
        "case": CaseListSerializer(case).data,
        "event": {
            "kind": event.kind,
            "actor": event.actor.get_username() if event.actor_id else None,
            "transition": event.transition,
            "from_state": event.from_state,
            "to_state": event.to_state,
            "details": event.payload,
        },
    }
    if event_type == WebhookEvent.OFFER_DECIDED:
        offer = case.offers.select_related("proposed_by", "decided_by", "policy_rule").get(
            pk=event.payload["offer"]
        )
        data["offer"] = OfferSerializer(offer).data
    elif event_type in (WebhookEvent.VOUCHER_ISSUED, WebhookEvent.VOUCHER_REDEEMED):
        voucher = Voucher.objects.select_related(
            "offer__case", "customer", "redemption_order", "voided_by"
        ).get(code=event.payload["voucher"])
        data["voucher"] = VoucherSerializer(voucher).data
    body = {
        "id": f"evt_{event.pk}",
        "type": str(event_type),
        "created_at": event.created_at,
        "data": data,
    }
    return json.loads(JSONRenderer().render(body))


# Signing ----------------------------------------------------------------------


def encode(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify_signature(
    secret: str, header: str, body: bytes, *, tolerance: int = SIGNATURE_TOLERANCE, now=None
) -> bool:
    """Return whether ``header`` is a valid, recent signature of ``body``."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(given, sign(secret, timestamp, body))


# Sending ----------------------------------------------------------------------


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a redirect is an answer to record, not to follow


_opener = urllib.request.build_opener(_NoRedirects)


def post(url: str, body: bytes, headers: dict, timeout: float) -> tuple[int | None, str, str]:
    """POST ``body``; return (status or None, start of the response, error)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=timeout) as response:
            return response.status, response.read(500).decode(errors="replace"), ""
    except urllib.error.HTTPError as answer:
        text = answer.read(500).decode(errors="replace") if answer.fp else ""
        return answer.code, text, f"HTTP {answer.code}"
    except (urllib.error.URLError, OSError, ValueError) as failure:
        reason = getattr(failure, "reason", failure)
        return None, "", str(reason)[:500] or failure.__class__.__name__


def backoff(attempt: int) -> timedelta:
    """The wait after failed attempt ``attempt`` (1, 2, 4 ... minutes)."""
    return timedelta(minutes=2 ** (attempt - 1))


def deliver(delivery_id: int) -> str:
    """Send one delivery once more, if it is still due; record the attempt.

    The delivery is claimed by an UPDATE (pending → sending), so two workers
    never send it at the same time, and no transaction stays open while the
    receiver answers.
    """
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(status=DeliveryStatus.SENDING, attempts=F("attempts") + 1, next_attempt_at=now)
    if not claimed:
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    body = encode(delivery.payload)
    started = time.monotonic()
    if not endpoint.active:
        status, text, error = None, "", "endpoint deactivated"
    elif isinstance(endpoint.secret, Unopened):
        # Never sent unsigned: tried again later, when the key is back.
        status, text, error = None, "", f"not sent: {SealBroken('its signing secret')}"
        logger.error("Webhook endpoint %s: %s", endpoint.pk, SealBroken("its signing secret"))
    else:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "casetracker-webhooks/1",
            "Casetracker-Event": delivery.event_type,
            "Casetracker-Delivery": str(delivery.pk),
            SIGNATURE_HEADER: signature_header(endpoint.secret, body),
        }
        status, text, error = post(endpoint.url, body, headers, setting("WEBHOOK_TIMEOUT"))
    WebhookAttempt.objects.create(
        delivery=delivery,
        status_code=status,
        error=error[:500],
        response_body=text[:500],
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    if status is not None and 200 <= status < 300:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = timezone.now()
        delivery.save(update_fields=["status", "delivered_at"])
        return "delivered"
    if delivery.attempts >= setting("WEBHOOK_ATTEMPTS") or not endpoint.active:
        delivery.status = DeliveryStatus.FAILED
        delivery.save(update_fields=["status"])
        logger.error("Webhook delivery %s failed for good: %s", delivery.pk, error)
        return "failed"
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = timezone.now() + backoff(delivery.attempts)
    delivery.save(update_fields=["status", "next_attempt_at"])
    logger.warning(
        "Webhook delivery %s: attempt %s failed: %s", delivery.pk, delivery.attempts, error
    )
    from .tasks import deliver_webhook

    if deliver_webhook.get_backend().supports_defer:
        _enqueue(delivery.pk, run_after=delivery.next_attempt_at)
    return "retrying"


def deliver_due(*, now: datetime | None = None, stale_after=timedelta(minutes=15)) -> int:
    """Send every delivery now due (cron's safety net and the admin's "retry");
    a delivery claimed long ago and still "sending" (its worker died) is due
    again."""
    now = now or timezone.now()
    # The statuses as literals: a few rows among millions of delivered ones
    # (sql.Literal).
    WebhookDelivery.objects.filter(
        status=Literal(DeliveryStatus.SENDING), next_attempt_at__lte=now - stale_after
    ).update(status=DeliveryStatus.PENDING)
    due = WebhookDelivery.objects.filter(
        status=Literal(DeliveryStatus.PENDING), next_attempt_at__lte=now
    ).values_list("pk", flat=True)
    return sum(deliver(pk) == "delivered" for pk in list(due))


FINISHED = (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED)


def prune_finished(*, days: int, batch: int = 5000) -> tuple[int, int]:
    """Delete the deliveries that are done with (delivered, or given up)
    and older than ``days``, with their attempts; return how many of each.

    Deliveries still pending or being sent are never touched. Rows go in
    batches, each its own short transaction, so a first run over years of
    rows holds no long lock against the deliveries written meanwhile; each
    batch starts after the last one's highest id, not over the index entries
    of rows just deleted."""
    old = WebhookDelivery.objects.filter(
        status__in=FINISHED, created_at__lt=timezone.now() - timedelta(days=days)
    ).order_by("pk")
    deliveries = attempts = last = 0
    while ids := list(old.filter(pk__gt=last).values_list("pk", flat=True)[:batch]):
        last = ids[-1]
        with transaction.atomic():
            attempts += WebhookAttempt.objects.filter(delivery_id__in=ids).delete()[0]
            _total, by_model = WebhookDelivery.objects.filter(pk__in=ids).delete()
            deliveries += by_model.get(WebhookDelivery._meta.label, 0)
    return deliveries, attempts

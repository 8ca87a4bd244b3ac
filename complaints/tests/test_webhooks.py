"""Outbound webhooks: a real HTTP receiver on 127.0.0.1 checks what arrives."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from complaints import webhooks, workflow
from complaints.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

from . import flows
from .conftest import DATABASE_TASKS


@pytest.fixture
def endpoint(receiver):
    return WebhookEndpoint.objects.create(name="ERP", url=receiver.url)


def test_a_case_opened_is_delivered_signed(
    agent, order, endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case = flows.opened(agent, order)
    [(headers, body)] = receiver.requests
    assert headers["Casetracker-Event"] == "case.opened"
    assert webhooks.verify_signature(endpoint.secret, headers["Casetracker-Signature"], body)
    assert not webhooks.verify_signature("whsec_wrong", headers["Casetracker-Signature"], body)
    assert not webhooks.verify_signature(
        endpoint.secret, headers["Casetracker-Signature"], body.replace(b"chat", b"phone")
    )
    payload = json.loads(body)
    assert payload["type"] == "case.opened"
    assert payload["data"]["case"]["number"] == case.number
    assert payload["data"]["case"]["customer"] == order.customer.buyer_id
    assert payload["data"]["event"]["actor"] == "agent_a"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempt_log.get().status_code == 200


def test_an_old_signature_is_refused():
    body = b'{"a":1}'
    header = webhooks.signature_header("s", body, timestamp=1_000_000)
    assert webhooks.verify_signature("s", header, body, now=1_000_100)
    assert not webhooks.verify_signature("s", header, body, now=1_000_000 + 301)
    assert not webhooks.verify_signature("s", "garbage", body)


def test_each_event_type_reaches_the_endpoints_that_want_it(
    agent, supervisor, order, receiver, django_capture_on_commit_callbacks
):
    WebhookEndpoint.objects.create(name="all", url=receiver.url)
    WebhookEndpoint.objects.create(name="vouchers", url=receiver.url, events=["voucher.redeemed"])
    WebhookEndpoint.objects.create(name="off", url=receiver.url, active=False)
    with django_capture_on_commit_callbacks(execute=True):
        case, offer = flows.proposing(agent, order, kind="partial_refund", amount=150)
        workflow.offer_approve(offer=offer, actor=supervisor, note="ok")
    with django_capture_on_commit_callbacks(execute=True):
        flows.verifying(agent, order)  # a voucher this time (another case)
    voucher = case.customer.vouchers.get()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.voucher_redeem(voucher=voucher, actor=agent, order=order)
    types = [json.loads(body)["type"] for _headers, body in receiver.requests]
    assert types.count("offer.decided") == 1
    assert types.count("voucher.issued") == 1
    assert types.count("voucher.redeemed") == 2  # "all" and "vouchers"
    assert types.count("case.opened") == 2
    assert "case.transitioned" in types
    decided = next(json.loads(b) for _h, b in receiver.requests if b"offer.decided" in b)
    assert decided["data"]["offer"]["approval_status"] == "approved"
    assert decided["data"]["offer"]["decided_by"] == "supervisor_a"
    redeemed = next(json.loads(b) for _h, b in receiver.requests if b"voucher.redeemed" in b)
    assert redeemed["data"]["voucher"]["status"] == "redeemed"
    assert not WebhookDelivery.objects.filter(endpoint__name="off").exists()


def test_a_rolled_back_operation_sends_nothing(agent, order, endpoint, receiver):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        workflow.case_open(actor=agent, customer=order.customer, source="bogus", summary="x")
    assert not WebhookDelivery.objects.exists()
    assert receiver.requests == []


def test_a_failed_delivery_is_retried_with_backoff(
    agent, order, endpoint, receiver, settings, django_capture_on_commit_callbacks
):
    receiver.statuses = [500, 503, 200]
    settings.TASKS = DATABASE_TASKS
    with django_capture_on_commit_callbacks(execute=True):
        flows.opened(agent, order)
    # The task was enqueued for the worker; run it as the worker would.
    delivery = WebhookDelivery.objects.get()
    assert webhooks.deliver(delivery.pk) == "retrying"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 1
    wait = delivery.next_attempt_at - timezone.now()
    assert timedelta(seconds=50) < wait <= timedelta(minutes=1)
    # The retry is a deferred task row for the worker.
    first, retry = DBTaskResult.objects.filter(
        task_path="complaints.tasks.deliver_webhook"
    ).order_by("enqueued_at", "id")
    assert first.args_kwargs["args"] == retry.args_kwargs["args"] == [delivery.pk]
    assert retry.run_after == delivery.next_attempt_at
    # Not due yet: nothing is sent.
    assert webhooks.deliver(delivery.pk) == "skipped"
    start = timezone.now()
    with time_machine.travel(start + timedelta(minutes=1, seconds=1)):
        assert webhooks.deliver_due() == 0  # 503: next try in 2 minutes
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    with time_machine.travel(start + timedelta(minutes=2)):
        assert webhooks.deliver_due() == 0  # not due yet: nothing sent
    assert len(receiver.requests) == 2
    with time_machine.travel(start + timedelta(minutes=3, seconds=2)):
        assert webhooks.deliver_due() == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 503, 200]
    bodies = {body for _headers, body in receiver.requests}
    assert len(bodies) == 1  # the same event each time


def test_a_delivery_gives_up_after_its_attempts(agent, order, endpoint, receiver, settings):
    receiver.statuses = [500]
    settings.CASETRACKER = {"WEBHOOK_ATTEMPTS": 2}
    flows.opened(agent, order)  # on_commit not run: the delivery waits for the sweep
    delivery = WebhookDelivery.objects.get()
    assert webhooks.deliver(delivery.pk) == "retrying"
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert webhooks.deliver(delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert webhooks.deliver(delivery.pk) == "skipped"
    assert len(receiver.requests) == 2


def test_an_unreachable_endpoint_is_recorded(agent, order):
    endpoint = WebhookEndpoint.objects.create(name="down", url="http://127.0.0.1:9/nothing")
    flows.opened(agent, order)
    delivery = endpoint.deliveries.get()
    assert webhooks.deliver(delivery.pk) == "retrying"
    attempt = delivery.attempt_log.get()
    assert attempt.status_code is None
    assert attempt.error


def test_a_stale_sending_delivery_is_picked_up_again(agent, order, endpoint, receiver):
    flows.opened(agent, order)
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, next_attempt_at=timezone.now() - timedelta(minutes=30)
    )
    assert webhooks.deliver_due() == 1
    assert len(receiver.requests) == 1


def test_the_admin_shows_attempts_and_retries(admin_user, agent, order, endpoint, receiver, client):
    receiver.statuses = [500, 200]
    flows.opened(agent, order)
    delivery = WebhookDelivery.objects.get()
    webhooks.deliver(delivery.pk)
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    page = client.get(f"/admin/complaints/webhookdelivery/{delivery.pk}/change/")
    assert page.status_code == 200
    assert b"500" in page.content
    response = client.post(
        "/admin/complaints/webhookdelivery/",
        {"action": "retry_now", "_selected_action": [delivery.pk]},
        follow=True,
    )
    assert b"1 of 1 deliveries delivered" in response.content
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    form = client.get("/admin/complaints/webhookendpoint/add/")
    assert form.status_code == 200
    response = client.post(
        "/admin/complaints/webhookendpoint/add/",
        {"name": "CRM", "url": "ftp://x", "events": ["case.opened"], "secret": "s", "active": "on"},
    )
    assert response.status_code == 200  # refused: not http(s)
    assert not WebhookEndpoint.objects.filter(name="CRM").exists()


def test_the_command_sends_what_is_due(agent, order, endpoint, receiver):
    from io import StringIO

    from django.core.management import call_command

    flows.opened(agent, order)
    out = StringIO()
    call_command("deliver_webhooks", stdout=out)
    assert "1 webhook deliveries delivered" in out.getvalue()
    assert len(receiver.requests) == 1


def test_the_readme_receiver_snippet_verifies_a_real_signature():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    snippet = readme.split("```python\nimport hashlib, hmac, time\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec("import hashlib, hmac, time\n" + snippet, namespace)
    body = webhooks.encode({"id": "evt_1", "type": "case.opened"})
    header = webhooks.signature_header("whsec_x", body)
    assert namespace["verify"]("whsec_x", header, body)
    assert not namespace["verify"]("whsec_y", header, body)


def _prune(*args):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("prune_webhook_deliveries", *args, stdout=out)
    return out.getvalue()


def test_finished_deliveries_past_their_age_are_pruned_with_their_attempts(
    agent, order, endpoint, receiver, django_capture_on_commit_callbacks
):
    from complaints.models import WebhookAttempt

    long_ago = timezone.now() - timedelta(days=91)
    with time_machine.travel(long_ago, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            old_delivered = [flows.opened(agent, order) for _ in range(3)]
        flows.opened(agent, order)  # not sent: still pending after all this time
        gave_up = flows.opened(agent, order)
    WebhookDelivery.objects.filter(payload__data__case__number=gave_up.number).update(
        status=DeliveryStatus.FAILED
    )
    with django_capture_on_commit_callbacks(execute=True):
        recent = flows.opened(agent, order)
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 4
    assert WebhookAttempt.objects.count() == 4

    out = _prune("--batch", "2")  # four finished old deliveries: two batches
    assert "4 webhook deliveries and 3 attempts older than 90 days pruned" in out
    left = WebhookDelivery.objects.all()
    assert [d.payload["data"]["case"]["number"] for d in left.filter(status="delivered")] == [
        recent.number
    ]
    assert left.filter(status=DeliveryStatus.PENDING).count() == 1  # never pruned
    assert WebhookAttempt.objects.get().delivery.status == DeliveryStatus.DELIVERED
    assert not left.filter(
        payload__data__case__number__in=[c.number for c in [*old_delivered, gave_up]]
    ).exists()
    assert "0 webhook deliveries" in _prune()  # nothing more to do


def test_the_retention_follows_the_setting_and_refuses_nonsense(
    agent, order, endpoint, receiver, settings, django_capture_on_commit_callbacks
):
    from django.core.management import CommandError

    with (
        time_machine.travel(timezone.now() - timedelta(days=10), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        flows.opened(agent, order)
    assert "0 webhook deliveries" in _prune()
    settings.CASETRACKER = {"WEBHOOK_DELIVERY_DAYS": 7}
    assert "1 webhook deliveries and 1 attempts older than 7 days" in _prune()
    for bad in (["--days", "0"], ["--batch", "0"]):
        with pytest.raises(CommandError):
            _prune(*bad)

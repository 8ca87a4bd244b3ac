"""Idempotency-Key: a retried POST replays its first response and changes nothing."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from complaints.api.tokens import issue
from complaints.models import Case, CaseEvent, IdempotencyKey

from . import flows

NEW_CASE = {"order_number": None, "source": "chat", "summary": "颜色不符", "demand": "补偿"}


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue(user)}")
    return client


def post(client, url, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def body(order):
    return NEW_CASE | {"order_number": order.number}


def test_the_same_key_and_body_replays_the_first_response(agent, body):
    api = client_for(agent)
    first = post(api, "/api/cases/", body, key="open-1")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    # Same request again, keys of the JSON in another order: the same request.
    again = post(api, "/api/cases/", dict(reversed(list(body.items()))), key="open-1")
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Case.objects.count() == 1
    assert CaseEvent.objects.filter(kind="opened").count() == 1


def test_the_same_key_with_another_body_or_endpoint_is_422(agent, body):
    api = client_for(agent)
    assert post(api, "/api/cases/", body, key="k").status_code == 201
    response = post(api, "/api/cases/", body | {"summary": "别的"}, key="k")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    number = Case.objects.get().number
    response = post(api, f"/api/cases/{number}/notes/", {"text": "x"}, key="k")
    assert response.status_code == 422
    assert Case.objects.count() == 1
    assert not CaseEvent.objects.filter(kind="note").exists()


def test_without_a_key_each_post_acts(agent, body):
    api = client_for(agent)
    assert post(api, "/api/cases/", body).status_code == 201
    assert post(api, "/api/cases/", body).status_code == 201
    assert Case.objects.count() == 2


def test_a_refused_request_is_not_remembered(agent, body):
    api = client_for(agent)
    refused = post(api, "/api/cases/", body | {"summary": ""}, key="k2")
    assert refused.status_code == 400
    assert not IdempotencyKey.objects.exists()
    fixed = post(api, "/api/cases/", body, key="k2")
    assert fixed.status_code == 201
    assert "Idempotent-Replayed" not in fixed


def test_keys_belong_to_their_user(agent, agent2, body):
    assert post(client_for(agent), "/api/cases/", body, key="shared").status_code == 201
    other = post(client_for(agent2), "/api/cases/", body, key="shared")
    assert other.status_code == 201
    assert "Idempotent-Replayed" not in other
    assert Case.objects.count() == 2


def test_an_expired_key_is_a_new_request(agent, body):
    api = client_for(agent)
    assert post(api, "/api/cases/", body, key="old").status_code == 201
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        again = post(api, "/api/cases/", body, key="old")
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert Case.objects.count() == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "bad\nkey"])
def test_a_malformed_key_is_400(agent, body, key):
    response = post(client_for(agent), "/api/cases/", body, key=key)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"
    assert not Case.objects.exists()


def test_a_step_replayed_does_not_run_twice(agent, order):
    case = flows.opened(agent, order)
    api = client_for(agent)
    url = f"/api/cases/{case.number}/transitions/confirm/"
    first = post(api, url, {}, key="confirm-1")
    assert first.status_code == 200
    # Without the key the second confirm would be a 409 (wrong state).
    again = post(api, url, {}, key="confirm-1")
    assert again.status_code == 200
    assert again.json()["state"] == "analyzing"
    assert case.events.filter(transition="confirm").count() == 1
    assert post(api, url, {}).status_code == 409


def test_multipart_uploads_are_compared_by_their_contents(agent, order):
    from io import BytesIO

    from PIL import Image

    case = flows.opened(agent, order)
    api = client_for(agent)

    def upload(colour):
        image = BytesIO()
        Image.new("RGB", (20, 20), colour).save(image, "PNG")
        image.seek(0)
        image.name = "photo.png"
        return api.post(
            f"/api/cases/{case.number}/evidence/",
            {"file": image},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="upload-1",
        )

    assert upload("red").status_code == 201
    assert upload("red")["Idempotent-Replayed"] == "true"
    assert upload("blue").status_code == 422
    assert case.evidence.count() == 1


def test_old_keys_are_pruned(agent, body):
    from io import StringIO

    from django.core.management import call_command

    api = client_for(agent)
    assert post(api, "/api/cases/", body, key="kept").status_code == 201
    with time_machine.travel(timezone.now() - timedelta(hours=30)):
        assert post(api, "/api/cases/", body, key="old").status_code == 201
    out = StringIO()
    call_command("prune_idempotency_keys", stdout=out)
    assert "1 idempotency keys pruned" in out.getvalue()
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["kept"]

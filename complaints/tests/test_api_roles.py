"""Every API endpoint as every role: one table of expected statuses.

Requests carry an empty or harmless body, so an allowed POST answers with
its refusal of the input (400, or 415 for JSON sent to the multipart-only
evidence endpoint) or a 404 for the unknown offer, never with a change.
"""

import json
from decimal import Decimal

import pytest
from django.urls import URLPattern, reverse
from rest_framework.test import APIClient

from complaints.api import urls as api_urls
from complaints.api.tokens import issue
from complaints.models import CaseEvent, Voucher

from . import flows
from .factories import OrderFactory

ROLES = ("anonymous", "outsider", "agent", "supervisor", "admin")

# name: (method, expected status for anonymous, outsider, agent, supervisor, admin)
MATRIX = {
    "cases": ("GET", 401, 403, 200, 200, 200),
    "cases+post": ("POST", 401, 403, 400, 400, 400),
    "case": ("GET", 401, 403, 200, 200, 200),
    "transition": ("POST", 401, 403, 400, 400, 400),
    "contacts": ("POST", 401, 403, 400, 400, 400),
    "notes": ("POST", 401, 403, 400, 400, 400),
    "evidence": ("POST", 401, 403, 415, 415, 415),
    "offers": ("POST", 401, 403, 409, 409, 409),  # the case is not analysed yet
    "offer_approve": ("POST", 401, 403, 403, 404, 404),
    "offer_reject": ("POST", 401, 403, 403, 404, 404),
    "orders": ("POST", 401, 403, 400, 400, 400),
    "reviews": ("POST", 401, 403, 400, 400, 400),
    "vouchers": ("GET", 401, 403, 200, 200, 200),
    "voucher": ("GET", 401, 403, 200, 200, 200),
    "voucher_redeem": ("POST", 401, 403, 400, 400, 400),
    "root_causes": ("GET", 401, 403, 403, 200, 200),
    "schema": ("GET", 401, 200, 200, 200, 200),
    "docs": ("GET", 401, 200, 200, 200, 200),
    "not_found": ("GET", 404, 404, 404, 404, 404),
}


def test_the_matrix_covers_every_api_url():
    names = {pattern.name for pattern in api_urls.urlpatterns if isinstance(pattern, URLPattern)}
    assert {name.split("+")[0] for name in MATRIX} == names


@pytest.fixture
def world(agent, supervisor, admin_user, outsider):
    case = flows.opened(agent, OrderFactory(), demand="补偿")
    flows.verifying(agent, OrderFactory())
    voucher = Voucher.objects.get()
    clients = {"anonymous": APIClient()}
    for role, user in zip(ROLES[1:], (outsider, agent, supervisor, admin_user), strict=True):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {issue(user)}")
        clients[role] = client
    return {"case": case, "voucher": voucher, "clients": clients}


def _url(name, world):
    base = name.split("+")[0]
    kwargs = {
        "case": {"number": world["case"].number},
        "transition": {"number": world["case"].number, "name": "add_note"},
        "contacts": {"number": world["case"].number},
        "notes": {"number": world["case"].number},
        "evidence": {"number": world["case"].number},
        "offers": {"number": world["case"].number},
        "offer_approve": {"pk": 999999},
        "offer_reject": {"pk": 999999},
        "voucher": {"code": world["voucher"].code},
        "voucher_redeem": {"code": world["voucher"].code},
    }.get(base, {})
    if base == "not_found":
        return "/api/offers/-5/approve/"
    url = reverse(f"api:{base}", kwargs=kwargs)
    if base == "root_causes":
        url += "?from=2026-01-01&to=2026-12-31"
    return url


@pytest.mark.parametrize("name", list(MATRIX))
def test_every_endpoint_as_every_role(world, name):
    method, *expected = MATRIX[name]
    url = _url(name, world)
    events_before = CaseEvent.objects.count()
    for role, status in zip(ROLES, expected, strict=True):
        client = world["clients"][role]
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, json.dumps({}), content_type="application/json")
        assert response.status_code == status, (role, url, response.content[:300])
        if status >= 400 and response["Content-Type"] == "application/json":
            body = response.json()
            assert body["detail"] and body["code"], (role, url, body)
        if status == 401:
            assert response["WWW-Authenticate"] == "Token"
        elif status >= 400 and name not in ("schema", "docs"):
            assert response["Content-Type"] == "application/json"
    assert CaseEvent.objects.count() == events_before  # nothing was changed


def test_session_auth_works_and_needs_csrf(agent, client):
    from django.test import Client

    client.force_login(agent)
    assert client.get("/api/cases/").status_code == 200
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(agent)
    case = flows.opened(agent, OrderFactory())
    response = strict.post(
        f"/api/cases/{case.number}/notes/", json.dumps({"text": "x"}),
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not case.events.filter(kind="note").exists()


def test_docs_page_serves_its_assets_locally(agent, client):
    client.force_login(agent)
    page = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in page
    assert "cdn" not in page.lower() and "unpkg" not in page.lower()
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert Decimal(json.loads(schema.content)["openapi"][:3]) >= Decimal("3.0")

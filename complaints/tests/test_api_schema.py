"""The OpenAPI document: valid, and the API keeps to it under generated input.

Schemathesis loads /api/schema/ from the real WSGI application and sends
each operation a bounded number of generated requests (valid and invalid):
no answer may be a 5xx, and every answer must match the schema (status
code, content type, body).
"""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from casetracker.wsgi import application
from complaints.api.tokens import issue

from . import flows
from .factories import OrderFactory

EXAMPLES_PER_OPERATION = 25


@pytest.fixture
def token(admin_user, agent, supervisor):
    # Something for the generated requests to find: a case with an offer
    # waiting for approval, and an issued voucher.
    flows.proposing(agent, OrderFactory(), kind="partial_refund", amount=150)
    flows.verifying(agent, OrderFactory())
    return issue(admin_user)


@pytest.fixture
def api_schema(token):
    # Requests go through the real WSGI handler, which would close the test's
    # database connection after each one (Django's test client keeps it open
    # the same way: by disconnecting these handlers).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi(
            "/api/schema/?format=json", application, headers={"Authorization": f"Token {token}"}
        )
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def test_the_schema_is_valid_openapi(api_schema, client, admin_user):
    client.force_login(admin_user)
    document = client.get("/api/schema/?format=json").json()
    validate_schema(document)  # raises on an invalid document
    paths = set(document["paths"])
    assert {
        "/api/cases/", "/api/cases/{number}/", "/api/cases/{number}/transitions/{name}/",
        "/api/cases/{number}/contacts/", "/api/cases/{number}/notes/",
        "/api/cases/{number}/evidence/", "/api/cases/{number}/offers/",
        "/api/offers/{id}/approve/", "/api/offers/{id}/reject/", "/api/orders/",
        "/api/reviews/", "/api/vouchers/", "/api/vouchers/{code}/",
        "/api/vouchers/{code}/redeem/", "/api/reports/root-causes/",
    } <= paths  # fmt: skip
    assert document["components"]["securitySchemes"]["tokenAuth"]["type"] == "apiKey"


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_the_api_keeps_to_its_schema(api_schema, token):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == 16  # every endpoint but the schema and its page
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def keeps_to_schema(case):
            case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)

        keeps_to_schema()

"""A form's ``next`` leads back to a page of this site, never off it: every
view that follows one, sent another site's address, goes to its own page."""

import pytest
from django.test import Client

from complaints import workflow

from . import flows

pytestmark = pytest.mark.django_db

ELSEWHERE = ["https://evil.example/", "//evil.example/x", "https:evil.example", "/\\evil.example"]


def _follows(client, url, data, here, expected_default):
    for target in ELSEWHERE:
        response = client.post(url, {**data, "next": target})
        assert response.status_code == 302, (url, target, response.status_code)
        assert "evil.example" not in response["Location"], (url, target)
        assert response["Location"] == expected_default, (url, response["Location"])
    response = client.post(url, {**data, "next": here})
    assert response["Location"] == here  # a page of this site is followed


def test_every_view_that_follows_next_stays_on_this_site(agent, supervisor, supervisor2, order):
    client = Client()
    client.force_login(supervisor)
    case = flows.opened(agent, order)
    here = "/queue/open/?sort=due"
    # take a case (refused for a supervisor on an assigned case: back with a message)
    _follows(client, f"/cases/{case.number}/take/", {}, here, case.get_absolute_url())
    # bulk: nothing selected
    _follows(client, "/queue-bulk/", {"action": "raise_priority"}, here, "/")
    # a decision on an offer
    offer = workflow.offer_propose(
        case=flows.analyzing(agent, order), actor=agent, kind="voucher", amount="60"
    )
    _follows(client, f"/approvals/{offer.pk}/approve/", {"note": "可以"}, here, "/approvals/")
    # a corrective action (none pending: back with a message)
    _follows(client, f"/reports/corrective/{case.number}/done/", {}, here, "/reports/root-causes/")
    # notifications
    _follows(client, "/notifications/read/", {}, here, "/notifications/")

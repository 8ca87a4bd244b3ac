"""What the pages read from the query string or a form by hand, outside their
forms: ids, cursors, pages, sorts, formats. Garbage in each (a word where an
id goes, a NUL, numbers past any column, an impossible date) is a 404, a 400
or ignored, never a 500."""

import pytest
from django.test import Client

from complaints.models import ReplyTemplate

from . import flows
from .factories import ReviewFactory
from .test_page_roles import world  # noqa: F401 (a fixture: one object of each kind)

pytestmark = pytest.mark.django_db

GARBAGE = ["x", "99999999999999999999", "-1", "0", "\x00", "1e400", "0001-01-01", "9999-12-31"]
PARAMETERS = {
    "/cases/new/": ["order", "review", "number"],
    "/queue/open/": ["after", "before", "page", "sort"],
    "/vouchers/": ["after", "before", "status"],
    "/notifications/": ["page"],
    "/team/deadlines/": ["status", "page"],
    "/reports/root-causes/": ["start", "end", "group_by", "category", "source", "sku"],
    "/reports/root-causes/export/": ["format", "group_by", "cases", "start"],
    "/reports/team/": ["sort", "start", "end"],
    "/team/": ["sort", "page"],
    "/reviews/": ["page"],
    "/approvals/": ["page"],
}


def test_garbage_in_any_parameter_a_page_reads_by_hand(world, admin_user):  # noqa: F811
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    answers = []
    for url in PARAMETERS:
        plain = client.get(
            url, {"start": "2026-01-01", "end": "2026-02-01"} if "export" in url else {}
        )
        assert plain.status_code == 200, (url, plain.status_code)  # the page is there
    for url, names in PARAMETERS.items():
        for name in names:
            for value in GARBAGE:
                query = {name: value}
                if "export" in url and name != "start":
                    query |= {"start": "2026-01-01", "end": "2026-02-01"}
                answers.append((url, name, value[:12], client.get(url, query).status_code))
    assert not [a for a in answers if a[-1] >= 500], [a for a in answers if a[-1] >= 500]
    # An id that is no id is a missing order or review, as an unknown one is.
    ids = {a[-1] for a in answers if a[:2] in (("/cases/new/", "order"), ("/cases/new/", "review"))}
    assert ids == {404}


def test_a_quick_reply_chosen_by_something_that_is_no_id_inserts_nothing(agent, order):
    case = flows.opened(agent, order)
    client = Client(raise_request_exception=False)
    client.force_login(agent)
    template = ReplyTemplate.objects.filter(active=True).first()
    assert template is not None  # the seeded quick replies
    for value in ["x", "99999999999999999999", "\x00", "-1", ""]:
        response = client.post(
            f"/cases/{case.number}/step/add_note/",
            {
                "expected_state": case.state,
                "_insert_reply": "1",
                "quick_reply": value,
                "text": "好",
            },
        )
        assert response.status_code == 200, (value, response.status_code)
    review = ReviewFactory(rating=2)
    for value in ["x", "99999999999999999999", "\x00"]:
        response = client.post(
            f"/reviews/{review.pk}/",
            {"_insert_reply": "1", "quick_reply": value, "text": "抱歉"},
        )
        assert response.status_code in (200, 400), (value, response.status_code)


def test_a_nul_or_garbage_in_a_case_number_or_voucher_code_is_a_404(admin_user):
    """PostgreSQL cannot compare text holding a NUL: such a path used to fail
    with a 500 there (SQLite answered 404)."""
    from complaints.api.tokens import issue

    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    token = issue(admin_user)
    paths = [
        "/cases/{}/",
        "/cases/{}/take/",
        "/cases/{}/step/confirm/",
        "/cases/{}/offer-check/",
        "/reports/corrective/{}/done/",
        "/vouchers/{}/",
        "/vouchers/{}/redeem/",
        "/vouchers/{}/void/",
        "/api/cases/{}/",
        "/api/cases/{}/transitions/confirm/",
        "/api/cases/{}/notes/",
        "/api/cases/{}/contacts/",
        "/api/cases/{}/offers/",
        "/api/cases/{}/evidence/",
        "/api/vouchers/{}/",
        "/api/vouchers/{}/redeem/",
    ]
    for segment in ["%00", "C-2026%00", "%C0%80", "%FF", "x" * 3000]:
        for path in paths:
            url = path.format(segment)
            headers = {"authorization": f"Token {token}"} if url.startswith("/api/") else {}
            for method in (client.get, client.post):
                status = method(url, headers=headers).status_code
                assert status in (404, 405), (method.__name__, url[:40], status)

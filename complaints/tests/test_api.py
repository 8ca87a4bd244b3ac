"""The REST API: the whole routine through it, four-eyes, refusals, bad input."""

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from complaints import paging, workflow
from complaints.api.tokens import issue
from complaints.models import (
    Case,
    CaseState,
    Offer,
    Order,
    Review,
    Voucher,
    VoucherStatus,
)

from . import flows
from .factories import OrderFactory, ReviewFactory, UserFactory


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {issue(user)}")
    return client


@pytest.fixture
def api(agent):
    return client_for(agent)


def post(client, url, body=None, **extra):
    return client.post(url, json.dumps(body or {}), content_type="application/json", **extra)


ORDER = {
    "marketplace": "taobao",
    "order_number": "TB900001",
    "buyer_id": "小鹿买家",
    "buyer_name": "鹿",
    "phone": "13912345678",
    "paid_total": "259.00",
    "paid_at": "2026-11-10T10:00:00+08:00",
    "shipped_at": "2026-11-11T09:00:00+08:00",
    "delivered_at": "2026-11-13T15:00:00+08:00",
    "courier": "顺丰速运",
    "tracking_number": "SF100200300",
    "items": [
        {"sku": "DRESS-RED-M", "title": "碎花连衣裙 红色 M", "quantity": 1,
         "unit_price": "199.00", "supplier": "杭州织造"},
        {"sku": "BELT-01", "title": "腰带", "quantity": 1, "unit_price": "60.00"},
    ],
}  # fmt: skip


def test_the_whole_routine_through_the_api_only(agent, supervisor):
    api = client_for(agent)
    response = post(api, "/api/orders/", ORDER)
    assert response.status_code == 201, response.json()
    assert [item["sku"] for item in response.json()["items"]] == ["DRESS-RED-M", "BELT-01"]

    response = post(
        api,
        "/api/cases/",
        {"order_number": "TB900001", "source": "chat", "summary": "颜色不符", "demand": "补偿"},
    )
    assert response.status_code == 201, response.json()
    case = response.json()
    number = case["number"]
    assert case["state"] == "confirming"
    assert case["assignee"] == "agent_a"
    assert case["order"]["number"] == "TB900001"
    assert case["customer"]["phone"] == "13912345678"  # the assignee sees it
    assert "confirm" in [step["name"] for step in case["available_transitions"]]

    def step(name, body=None, status=200):
        response = post(api, f"/api/cases/{number}/transitions/{name}/", body)
        assert response.status_code == status, response.json()
        return response.json()

    assert step("confirm")["state"] == "analyzing"
    case = step("analyze", {"category": "colour_difference", "severity": 2})
    assert case["state"] == "analyzing"
    assert case["category"] == "colour_difference"

    response = post(api, f"/api/cases/{number}/offers/", {"kind": "voucher", "amount": 20})
    assert response.status_code == 201, response.json()
    offer = response.json()
    assert offer["approval_status"] == "not_needed"

    assert step("propose")["state"] == "proposing"
    case = step("accept", {"offer": offer["id"]})
    assert case["state"] == "executing"
    case = step("issue_voucher", {"valid_days": 30})
    [voucher] = case["vouchers"]
    assert voucher["status"] == "issued"
    assert step("mark_executed")["state"] == "verifying"

    response = post(
        api,
        f"/api/cases/{number}/contacts/",
        {"channel": "phone", "outcome": "reached", "inbound": False, "notes": "回访：满意"},
    )
    assert response.status_code == 201, response.json()
    assert step("record_satisfaction", {"satisfied": True, "score": 5})["state"] == "root_cause"
    case = step(
        "record_root_cause",
        {"root_cause": "colour_difference", "sku": "DRESS-RED-M", "corrective_action": "重拍主图"},
    )
    assert case["root_cause"] == "colour_difference"
    assert step("close")["state"] == "closed"

    response = post(api, f"/api/cases/{number}/notes/", {"text": "结案备注"})
    assert response.status_code == 201, response.json()

    response = post(
        api,
        f"/api/vouchers/{voucher['code']}/redeem/",
        {"order_number": "TB900001", "amount": "259.00"},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "redeemed"

    case = api.get(f"/api/cases/{number}/").json()
    kinds = [event["kind"] for event in case["events"]]
    assert kinds.count("transition") == 6
    assert {"opened", "analysis", "offer_proposed", "voucher_issued", "contact", "note",
            "voucher_redeemed"} <= set(kinds)  # fmt: skip
    assert {step["name"] for step in case["available_transitions"]} == {"add_note", "reopen"}
    assert Case.objects.get(number=number).state == CaseState.CLOSED


def test_four_eyes_through_the_api(agent, supervisor, supervisor2, order):
    case, _ = flows.proposing(agent, order, kind="partial_refund", amount=Decimal("150"))
    offer = case.offers.get()
    assert offer.approval_status == "pending"

    response = post(client_for(agent), f"/api/offers/{offer.pk}/approve/")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"

    sup = client_for(supervisor)
    # A supervisor who proposed it may not decide on it either.
    own = flows.proposing(supervisor, OrderFactory(), kind="partial_refund", amount=Decimal("150"))
    response = post(sup, f"/api/offers/{own[1].pk}/approve/")
    assert response.status_code == 403
    assert "Four-eyes" in response.json()["detail"]

    response = post(sup, f"/api/offers/{offer.pk}/reject/", {"note": ""})
    assert response.status_code == 400
    assert response.json()["errors"] == {"note": ["Say why the offer is rejected."]}

    response = post(sup, f"/api/offers/{offer.pk}/approve/", {"note": "老客户"})
    assert response.status_code == 200, response.json()
    assert response.json()["approval_status"] == "approved"
    assert response.json()["decided_by"] == "supervisor_a"

    response = post(client_for(supervisor2), f"/api/offers/{offer.pk}/reject/", {"note": "晚了"})
    assert response.status_code == 409
    assert response.json()["code"] == "offer_not_pending"
    assert post(sup, "/api/offers/999999/approve/").status_code == 404


def test_409_says_which_wrong_state_unmet_guard_or_changed(api, agent, order):
    case = flows.analyzing(agent, order)
    url = f"/api/cases/{case.number}/transitions/"

    response = post(api, url + "close/")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_state"
    assert "not possible while the case is" in response.json()["detail"]

    response = post(api, url + "propose/")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Propose at least one offer first.",
        "code": "guard_unmet",
    }

    response = post(api, url + "propose/", {"expected_state": "confirming"})
    assert response.status_code == 409
    assert response.json()["code"] == "case_changed"

    response = post(api, url + "no_such_step/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert case.events.count() == 3  # opened, confirm, analysis: nothing more


def test_a_missing_required_field_is_a_400_on_that_field(api, agent, order):
    case = flows.opened(agent, order, demand="")
    response = post(api, f"/api/cases/{case.number}/transitions/confirm/")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["demand"]
    response = post(api, f"/api/cases/{case.number}/transitions/confirm/", {"demand": "退款"})
    assert response.status_code == 200
    assert response.json()["demand"] == "退款"


def test_another_agents_case_is_403(agent, agent2, order):
    case = flows.opened(agent, order)
    response = post(client_for(agent2), f"/api/cases/{case.number}/notes/", {"text": "x"})
    assert response.status_code == 201  # notes are for anyone who works cases
    response = post(client_for(agent2), f"/api/cases/{case.number}/transitions/confirm/")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    # The phone is masked for someone who does not work the case.
    detail = client_for(agent2).get(f"/api/cases/{case.number}/").json()
    assert detail["customer"]["phone"] == "138****8000"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        ("{not json", "application/json", 400, "parse_error"),
        ("[1, 2]", "application/json", 400, "invalid"),
        ('{"source": 5, "summary": ["a"]}', "application/json", 400, "invalid"),
        ('{"source": "chat", "summary": "x"}', "application/json", 400, "no_customer"),
        ('{"source": "chat", "summary": "x", "order_number": "NOPE"}', "application/json",
         400, "invalid"),
        ("source=chat", "text/plain", 415, "unsupported_media_type"),
    ],
)  # fmt: skip
def test_bad_input_to_open_a_case(api, order, body, content_type, status, code):
    response = api.post("/api/cases/", body, content_type=content_type)
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert response.json()["detail"]
    assert not Case.objects.exists()


def test_wrong_types_in_a_step_are_400_with_the_field(api, agent, order):
    case = flows.analyzing(agent, order)
    url = f"/api/cases/{case.number}/offers/"
    response = post(api, url, {"kind": "voucher", "amount": "lots"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"amount": ["Enter a number."]}
    response = post(api, url, {"kind": {"a": 1}, "amount": [1]})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"kind", "amount"}
    response = post(api, url, {"kind": "voucher", "amount": "1e400"})
    assert response.status_code == 400
    assert not Offer.objects.exists()


def test_a_huge_body_is_413_and_nothing_is_written(api, agent, order, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    case = flows.opened(agent, order)
    response = post(api, f"/api/cases/{case.number}/notes/", {"text": "长" * 200_000})
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert not case.events.filter(kind="note").exists()


def test_unknown_numbers_are_404(api, admin_user):
    assert api.get("/api/cases/C-0000-0000/").json()["code"] == "not_found"
    assert post(api, "/api/cases/NOPE/transitions/confirm/").status_code == 404
    assert post(api, "/api/cases/NOPE/notes/", {"text": "x"}).status_code == 404
    admin = client_for(admin_user)
    assert admin.get("/api/vouchers/NOPE/").status_code == 404
    assert post(admin, "/api/vouchers/NOPE/redeem/", {"order_number": "x"}).status_code == 404


def test_evidence_is_multipart(api, agent, order):
    from io import BytesIO

    from PIL import Image

    case = flows.opened(agent, order)
    image = BytesIO()
    Image.new("RGB", (40, 30), "red").save(image, "JPEG")
    image.seek(0)
    image.name = "photo.jpg"
    response = api.post(
        f"/api/cases/{case.number}/evidence/",
        {"file": image, "description": "色差照片"},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    assert case.evidence.get().description == "色差照片"
    bogus = BytesIO(b"<svg onload=alert(1)>")
    bogus.name = "photo.jpg"
    response = api.post(f"/api/cases/{case.number}/evidence/", {"file": bogus}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()["errors"]
    assert case.evidence.count() == 1


# Orders and reviews ---------------------------------------------------------------


def test_order_upsert_creates_then_updates(api):
    assert post(api, "/api/orders/", ORDER).status_code == 201
    changed = ORDER | {"courier": "中通快递", "items": [ORDER["items"][0] | {"quantity": 2}]}
    response = post(api, "/api/orders/", changed)
    assert response.status_code == 200, response.json()
    order = Order.objects.get(number="TB900001")
    assert order.courier == "中通快递"
    assert order.items.get(sku="DRESS-RED-M").quantity == 2
    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"paid_total": "-5"}, "non_field_errors"),
        ({"paid_at": "yesterday"}, "paid_at"),
        ({"items": []}, "items"),
        ({"items": "DRESS"}, "items"),
        ({"marketplace": "amazon"}, "marketplace"),
        ({"items": [ORDER["items"][0], ORDER["items"][0]]}, "items"),
        ({"items": [{"sku": "X", "title": "t", "quantity": 0, "unit_price": "1"}]},
         "items[0].quantity"),
        # More than a stored amount holds (99,999,999.99): refused, not a 500.
        ({"paid_total": "122044407"}, "paid_total"),
        ({"items": [{"sku": "X", "title": "t", "quantity": 1, "unit_price": "0122044407"}]},
         "items[0].unit_price"),
    ],
)  # fmt: skip
def test_order_upsert_refuses_bad_orders(api, change, field):
    response = post(api, "/api/orders/", ORDER | change)
    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert not Order.objects.exists()


def test_a_negative_review_opens_a_case_exactly_once(api, agent, order):
    review = {
        "marketplace": "taobao", "review_id": "RV-1", "order_number": order.number,
        "rating": 1, "text": "太差了", "posted_at": "2026-11-20T12:00:00+08:00",
    }  # fmt: skip
    response = post(api, "/api/reviews/", review)
    assert response.status_code == 201, response.json()
    number = response.json()["case"]
    assert number
    case = Case.objects.get(number=number)
    assert case.source == "review"

    again = post(api, "/api/reviews/", review)
    assert again.status_code == 200
    assert again.json()["case"] == number

    # Even after its case is cancelled, an edited review opens no second case.
    workflow.case_cancel(case=case, actor=agent, reason="重复")
    edited = post(api, "/api/reviews/", review | {"text": "还是很差"})
    assert edited.status_code == 200
    assert Case.objects.filter(review__external_id="RV-1").count() == 1
    assert Review.objects.get(external_id="RV-1").text == "还是很差"

    good = post(api, "/api/reviews/", review | {"review_id": "RV-2", "rating": 5})
    assert good.json()["case"] is None


def test_a_review_for_an_unknown_order_is_refused(api):
    response = post(
        api,
        "/api/reviews/",
        {"marketplace": "taobao", "review_id": "RV-9", "order_number": "NOPE", "rating": 2,
         "text": "x", "posted_at": "2026-11-20T12:00:00+08:00"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "unknown order" in response.json()["detail"]
    assert not Review.objects.exists()


# Vouchers and reports -----------------------------------------------------------------


def _issued_voucher(agent, order, **kwargs) -> Voucher:
    flows.verifying(agent, order, **kwargs)
    return Voucher.objects.get()


@pytest.mark.parametrize(
    ("setup", "amount", "code"),
    [
        ("min_spend", "100.00", "below_min_spend"),
        ("expired", "300.00", "expired"),
        ("void", "300.00", "void"),
        ("redeemed", "300.00", "redeemed"),
    ],
)
def test_redeem_refusals_are_409_with_the_reason(agent, supervisor, order, setup, amount, code):
    voucher = _issued_voucher(agent, order, min_spend=Decimal("200"))
    if setup == "expired":
        Voucher.objects.filter(pk=voucher.pk).update(status=VoucherStatus.EXPIRED)
    elif setup == "void":
        Voucher.objects.filter(pk=voucher.pk).update(
            status=VoucherStatus.VOID, void_reason="客户放弃"
        )
    elif setup == "redeemed":
        post(client_for(supervisor), f"/api/vouchers/{voucher.code}/redeem/",
             {"order_number": order.number, "amount": "300.00"})  # fmt: skip
    response = post(
        client_for(agent),
        f"/api/vouchers/{voucher.code}/redeem/",
        {"order_number": order.number, "amount": amount},
    )
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == code
    assert response.json()["detail"]


def test_redeeming_against_more_than_an_amount_holds_is_400(agent, order):
    voucher = _issued_voucher(agent, order)
    response = post(
        client_for(agent),
        f"/api/vouchers/{voucher.code}/redeem/",
        {"order_number": order.number, "amount": "122044407"},
    )
    assert response.status_code == 400 and "amount" in response.json()["errors"]
    assert Voucher.objects.get().status == VoucherStatus.ISSUED


def test_voucher_list_filters_by_customer_and_status(supervisor, agent, order):
    voucher = _issued_voucher(agent, order)
    api = client_for(supervisor)
    body = api.get(f"/api/vouchers/?customer={order.customer.buyer_id}&status=issued").json()
    assert [row["code"] for row in body["results"]] == [voucher.code]
    assert api.get("/api/vouchers/?customer=someone-else").json()["count"] == 0
    assert api.get("/api/vouchers/?status=redeemed").json()["count"] == 0
    response = api.get("/api/vouchers/?status=bogus")
    assert response.status_code == 400
    assert api.get(f"/api/vouchers/{voucher.code.lower()}/").json()["code"] == voucher.code


def test_the_voucher_list_finds_a_buyer_in_every_marketplace_exactly(supervisor, agent):
    """``customer`` is the buyer id in any marketplace, exactly as written
    (not another case of it), looked up through the buyer id's trigram
    index: the buyer id has no other index of its own."""
    from complaints.queries.search import customers_with_buyer_id

    from .factories import CustomerFactory

    made = {}
    for marketplace, buyer in (("taobao", "Mei-Lin"), ("jd", "Mei-Lin"), ("tmall", "MEI-LIN")):
        customer = CustomerFactory(marketplace=marketplace, buyer_id=buyer)
        case, _offer = flows.verifying(agent, OrderFactory(customer=customer))
        made[marketplace] = Voucher.objects.get(offer__case=case).code
    api = client_for(supervisor)
    listed = {row["code"] for row in api.get("/api/vouchers/?customer=Mei-Lin").json()["results"]}
    assert listed == {made["taobao"], made["jd"]}
    upper = api.get("/api/vouchers/?customer=MEI-LIN").json()["results"]
    assert [row["code"] for row in upper] == [made["tmall"]]
    assert api.get("/api/vouchers/?customer=Mei").json()["results"] == []
    refused = api.get("/api/vouchers/?customer=Mei%00Lin")  # PostgreSQL cannot compare a NUL
    assert refused.status_code == 400 and "customer" in refused.json()["errors"]
    if connection.vendor != "postgresql":
        return
    with CaptureQueriesContext(connection) as captured:
        customers_with_buyer_id("Mei-Lin")
    [sql] = [q["sql"] for q in captured]
    # The only other index holding the buyer id is the unique one, which
    # PostgreSQL reads whole on a test's few rows: without it, and without a
    # sequential scan, the trigram index answers.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "ALTER TABLE complaints_customer DROP CONSTRAINT customer_unique_buyer_per_marketplace"
        )
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    assert "Bitmap Index Scan on customer_buyer_trgm" in plan, plan


def test_the_voucher_list_pages_by_keyset_and_caps_its_count(supervisor, agent, monkeypatch):
    """The ledger's API pages like the case list: newest first by cursor,
    with no OFFSET and no count past the cap (a page number counted 840k
    vouchers at 1M cases for every page)."""
    for _ in range(5):
        flows.verifying(agent, OrderFactory())
    newest_first = list(
        Voucher.objects.order_by("-issued_at", "-id").values_list("code", flat=True)
    )
    api = client_for(supervisor)
    seen, url = [], "/api/vouchers/?page_size=2"
    while url:
        with CaptureQueriesContext(connection) as captured:
            body = api.get(url).json()
        voucher_sql = [q["sql"] for q in captured if '"complaints_voucher"' in q["sql"]]
        assert not [sql for sql in voucher_sql if "OFFSET" in sql]
        assert body["count"] == 5 and body["count_capped"] is False
        seen += [row["code"] for row in body["results"]]
        url = body["next"]
    assert seen == newest_first
    back = api.get(body["previous"]).json()
    assert [row["code"] for row in back["results"]] == newest_first[2:4]
    # A cursor or page size that does not parse is the first page, not an error.
    for junk in ("cursor=n:garbage", "cursor=%00", "page_size=abc", "page=7"):
        response = api.get(f"/api/vouchers/?{junk}")
        assert response.status_code == 200, junk
        assert [row["code"] for row in response.json()["results"]] == newest_first[:5], junk
    monkeypatch.setattr(paging, "COUNT_CAP", 3)
    with CaptureQueriesContext(connection) as captured:
        capped = api.get("/api/vouchers/").json()
    assert capped["count"] == 3 and capped["count_capped"] is True
    counts = [q["sql"] for q in captured if "COUNT(" in q["sql"] and "voucher" in q["sql"]]
    assert counts and all("LIMIT 4" in sql for sql in counts), counts


def test_the_voucher_list_sends_as_many_queries_for_many_vouchers(
    supervisor, agent, django_assert_num_queries
):
    """A page of the ledger's API costs the same queries for 1 voucher or
    25: the customer, case, order and voider come joined, not one by one."""
    api = client_for(supervisor)
    flows.verifying(agent, OrderFactory())
    with CaptureQueriesContext(connection) as one:
        assert len(api.get("/api/vouchers/").json()["results"]) == 1
    for _ in range(4):
        flows.verifying(agent, OrderFactory())
    with django_assert_num_queries(len(one)):
        assert len(api.get("/api/vouchers/").json()["results"]) == 5
    assert len(one) <= 5, [q["sql"][:80] for q in one]  # the user, the page, its count


def test_root_cause_report(agent, supervisor, order):
    flows.closed(agent, order)
    api = client_for(supervisor)
    body = api.get("/api/reports/root-causes/?from=2020-01-01&to=2030-12-31").json()
    assert body["total"] == 1
    assert body["rows"][0]["key"] == "colour_difference"
    assert body["rows"][0]["cumulative"] == 1.0
    by_sku = api.get("/api/reports/root-causes/?from=2020-01-01&to=2030-12-31&group_by=sku")
    assert by_sku.json()["rows"][0]["key"] == "DRESS-RED-M"
    assert api.get("/api/reports/root-causes/?from=2020-01-01").status_code == 400
    bad = api.get("/api/reports/root-causes/?from=2026-02-01&to=2026-01-01")
    assert bad.status_code == 400
    assert bad.json()["detail"] == "The period ends before it starts."
    assert api.get("/api/reports/root-causes/?from=x&to=y&group_by=z").status_code == 400


def test_case_list_filters_and_queues(agent, agent2, supervisor, order):
    mine = flows.opened(agent, order, summary="我的")
    flows.opened(agent2, OrderFactory(), summary="别人的")
    body = client_for(agent).get("/api/cases/").json()
    assert [row["number"] for row in body["results"]] == [mine.number]
    assert client_for(agent).get("/api/cases/?queue=all").status_code == 403
    sup = client_for(supervisor)
    assert sup.get("/api/cases/").json()["count"] == 2
    assert sup.get("/api/cases/?q=我的").json()["count"] == 1
    assert sup.get("/api/cases/?state=confirming&priority=2").json()["count"] == 2
    assert sup.get("/api/cases/?state=nonsense").status_code == 400
    assert sup.get("/api/cases/?queue=nonsense").status_code == 400
    # A queue of open cases filters by the open states alone, as its page does.
    workflow.case_cancel(case=mine, actor=supervisor, reason="重复工单")
    assert sup.get("/api/cases/?state=cancelled").json()["count"] == 1
    refused = sup.get("/api/cases/?queue=open&state=cancelled")
    assert refused.status_code == 400 and "state" in refused.json()["errors"], refused.json()
    assert client_for(agent).get("/api/cases/?state=cancelled").status_code == 400  # "mine"


def test_case_list_pages_by_cursor_with_a_capped_count(agent, supervisor, monkeypatch):

    for _ in range(7):
        flows.opened(agent, OrderFactory())
    sup = client_for(supervisor)
    seen, url = [], "/api/cases/?page_size=3&sort=created"
    while url:
        body = sup.get(url).json()
        assert body["count"] == 7 and body["count_capped"] is False
        seen += [row["number"] for row in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == 7
    assert seen == sorted(seen, reverse=True)  # newest first, nothing skipped
    back = sup.get(body["previous"]).json()
    assert [row["number"] for row in back["results"]] == seen[3:6]
    assert sup.get("/api/cases/?cursor=n:garbage").json()["results"][0]["number"] == seen[-1]
    monkeypatch.setattr(paging, "COUNT_CAP", 5)
    capped = sup.get("/api/cases/").json()
    assert capped["count"] == 5 and capped["count_capped"] is True


def test_issue_token_command(agent):
    from io import StringIO

    from django.core.management import CommandError, call_command
    from knox.models import AuthToken

    def issue_token(*args):
        out, err = StringIO(), StringIO()
        call_command("issue_token", "agent_a", *args, stdout=out, stderr=err)
        return out.getvalue().strip(), err.getvalue()

    key, said = issue_token()
    assert key.startswith("ct_") and len(key) == 67 and "not shown again" in said
    stored = AuthToken.objects.get(user=agent)
    assert stored.expiry is None and key not in {stored.digest, stored.token_key}  # a digest only
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/cases/").status_code == 200
    second, _ = issue_token("--days", "30")  # another integration's token, for 30 days
    assert second != key and client.get("/api/cases/").status_code == 200
    expiry = AuthToken.objects.get(token_key=second[:15]).expiry
    assert abs(expiry - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    third, said = issue_token("--rotate")
    assert "Revoked 2 other tokens" in said and AuthToken.objects.filter(user=agent).count() == 1
    assert client.get("/api/cases/").status_code == 401  # the rotated keys stop at once
    client.credentials(HTTP_AUTHORIZATION=f"Token {third}")
    assert client.get("/api/cases/").status_code == 200
    with pytest.raises(CommandError):
        call_command("issue_token", "nobody")
    with pytest.raises(CommandError, match="--days must be between 1 and 3650"):
        call_command("issue_token", "agent_a", "--days", "0")
    UserFactory(username="gone", is_active=False)
    with pytest.raises(CommandError):
        call_command("issue_token", "gone")


def test_a_token_past_its_expiry_stops_working(agent):
    import time_machine
    from knox.models import AuthToken

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue(agent, days=30)}")
    assert client.get("/api/cases/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=30, seconds=1)):
        refused = client.get("/api/cases/")
    assert refused.status_code == 401 and refused.json()["code"] == "authentication_failed"
    assert not AuthToken.objects.filter(user=agent).exists()  # deleted when it was tried


@pytest.mark.parametrize(
    "header",
    ["Token ", "Token a b", "Token " + "0" * 40, "Token ct_" + "z" * 64, "Token \x00ab",
     "Token " + "f" * 10_000, "Token café"],
)  # fmt: skip
def test_a_malformed_or_unknown_key_is_a_401(agent, header):
    issue(agent)
    response = APIClient().get("/api/cases/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401, response.content[:200]
    assert response.json()["code"] == "authentication_failed"


# Read-only tokens -----------------------------------------------------------------

WRITES = ("post", "put", "patch", "delete")


def _writing_calls(case, offer, voucher):
    """(method, path) for every API view that changes something, walked from
    the URLconf, so that a view added later is covered without a new row."""
    from django.urls import reverse

    from complaints.api import urls

    kwargs = {
        "number": case.number, "name": "add_note", "pk": offer.pk, "code": voucher.code,
    }  # fmt: skip
    for pattern in urls.urlpatterns:
        view = getattr(pattern.callback, "view_class", None)
        if view is None or pattern.name == "not_found":  # a 404 for any address
            continue
        names = pattern.pattern.regex.groupindex
        path = reverse(f"api:{pattern.name}", kwargs={key: kwargs[key] for key in names})
        for method in WRITES:
            if hasattr(view, method):
                yield method, path


def test_a_read_only_token_reads_and_changes_nothing(supervisor, agent, caplog):
    from complaints.models import CaseEvent, Contact, Evidence, Notification

    case, offer = flows.verifying(agent, OrderFactory())
    voucher = Voucher.objects.get(offer=offer)
    key = issue(supervisor, read_only=True)
    assert key.startswith("ct_ro_") and len(key) == 70
    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert reader.get("/api/cases/").status_code == 200
    assert reader.get(f"/api/cases/{case.number}/").json()["number"] == case.number
    assert reader.get(f"/api/vouchers/{voucher.code}/").status_code == 200
    assert reader.get("/api/reports/root-causes/?from=2020-01-01&to=2030-01-01").status_code == 200

    tables = (Case, CaseEvent, Offer, Voucher, Order, Review, Contact, Evidence, Notification)
    before = [model.objects.count() for model in tables]
    calls = list(_writing_calls(case, offer, voucher))
    assert len(calls) >= 11  # every view that changes something, each method
    with caplog.at_level("WARNING", logger="casetracker.access"):
        for method, path in calls:
            body = json.dumps({"summary": "x", "text": "x", "amount": "1"})
            refused = getattr(reader, method)(path, body, content_type="application/json")
            assert refused.status_code == 403, (method, path, refused.content[:200])
            assert refused.json()["code"] == "read_only_token", (method, path)
            assert "may only read" in refused.json()["detail"]
    assert [model.objects.count() for model in tables] == before
    case.refresh_from_db()
    assert case.state == CaseState.VERIFYING
    assert caplog.text.count("read-only token") == len(calls)
    # The same user's full token changes what the role allows.
    full = client_for(supervisor)
    note = post(full, f"/api/cases/{case.number}/notes/", {"text": "跟进"})
    assert note.status_code == 201, note.content[:200]


def test_a_token_cannot_be_edited_into_another_scope(agent):
    full, reader = issue(agent), issue(agent, read_only=True)
    for edited in ("ct_ro_" + full[3:], "ct_" + reader[6:], full.replace("ct_", "ct_ro_", 1)):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {edited}")
        assert client.get("/api/cases/").status_code == 401, edited


def test_read_only_tokens_from_the_command_and_the_admin(admin_user, agent, client):
    from io import StringIO

    from django.core.management import call_command
    from knox.models import AuthToken

    out, err = StringIO(), StringIO()
    call_command("issue_token", "agent_a", "--read-only", stdout=out, stderr=err)
    assert out.getvalue().startswith("ct_ro_") and "Made a read-only token" in err.getvalue()
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    add = "/admin/knox/authtoken/add/"
    page = client.post(add, {"user": agent.pk, "expiry_0": "", "expiry_1": "", "read_only": "on"})
    key = re.search(r'<code id="issued-key">(ct_ro_[0-9a-f]{64})</code>', page.content.decode())[1]
    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert post(reader, "/api/orders/", ORDER).json()["code"] == "read_only_token"
    listed = client.get("/admin/knox/authtoken/")
    flags = {t.token_key[:6]: listed.context["cl"].model_admin.only_reads(t) for t in
             listed.context["cl"].result_list}  # fmt: skip
    assert flags == {"ct_ro_": True} and AuthToken.objects.count() == 2
    assert 'alt="True"' in listed.content.decode()  # the column's tick


def test_open_a_case_by_customer_or_by_review(api, agent, order):
    customer = order.customer
    response = post(
        api,
        "/api/cases/",
        {"marketplace": customer.marketplace, "buyer_id": customer.buyer_id,
         "source": "phone", "summary": "来电投诉", "priority": 3},
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    assert response.json()["order"] is None
    assert response.json()["priority"] == 3

    unknown = post(
        api, "/api/cases/",
        {"marketplace": "jd", "buyer_id": "nobody", "source": "phone", "summary": "x"},
    )  # fmt: skip
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "unknown_customer"

    review = ReviewFactory(order=order, external_id="RV-77", rating=3)
    response = post(
        api, "/api/cases/", {"review_id": "RV-77", "source": "review", "summary": "中评"}
    )
    assert response.status_code == 201, response.json()
    assert response.json()["review"]["review_id"] == review.external_id
    again = post(api, "/api/cases/", {"review_id": "RV-77", "source": "review", "summary": "再"})
    assert again.status_code == 400
    assert again.json()["code"] == "duplicate_review_case"


def test_admins_make_list_and_revoke_tokens_in_the_admin(admin_user, agent, client):
    from knox.models import AuthToken

    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    add = "/admin/knox/authtoken/add/"
    assert client.get(add).status_code == 200
    page = client.post(add, {"user": agent.pk, "expiry_0": "", "expiry_1": ""})
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    key = re.search(r'<code id="issued-key">(ct_[0-9a-f]{64})</code>', page.content.decode())[1]
    token = AuthToken.objects.get(user=agent)
    assert key[:15] == token.token_key and key not in token.digest
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/cases/").status_code == 200
    listed = client.get("/admin/knox/authtoken/").content.decode()
    assert token.token_key in listed and key not in listed  # never shown again
    detail = client.get(f"/admin/knox/authtoken/{token.pk}/change/").content.decode()
    assert key not in detail and 'name="user"' not in detail  # read only
    delete = f"/admin/knox/authtoken/{token.pk}/delete/"
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert api.get("/api/cases/").status_code == 401  # revoked
    from django.contrib.admin.models import LogEntry

    logged = [(e.get_action_flag_display(), e.object_repr) for e in LogEntry.objects.order_by("pk")]
    named = f"{token.token_key}… ({agent})"  # as the list shows it, not by its digest
    assert logged == [("Addition", named), ("Deletion", named)]
    assert client.get("/admin/authtoken/tokenproxy/").status_code == 404  # DRF's, with keys: gone
    gone = UserFactory(username="left_the_shop", is_active=False)
    assert "left_the_shop" not in client.get(add).content.decode()
    for bad in (
        {"user": "x"},
        {"user": "999999"},
        {"user": gone.pk},  # an inactive user's token would never work
        {"user": agent.pk, "expiry_0": "yesterday"},
    ):
        refused = client.post(add, {"expiry_0": "", "expiry_1": "", **bad})
        assert refused.status_code == 200 and "errornote" in refused.content.decode(), bad
        assert "issued-key" not in refused.content.decode()
    assert not AuthToken.objects.exists()


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_list_and_case_query_counts_do_not_grow(supervisor, agent):
    api = client_for(supervisor)
    case = flows.verifying(agent, OrderFactory())[0]
    flows.opened(agent, OrderFactory())
    few_list = _queries(api, "/api/cases/")
    few_case = _queries(api, f"/api/cases/{case.number}/")
    for _ in range(8):
        flows.opened(agent, OrderFactory())
    for _ in range(3):
        workflow.case_add_note(case=case, actor=agent, text="跟进")
    assert _queries(api, "/api/cases/") == few_list
    assert _queries(api, f"/api/cases/{case.number}/") == few_case
    assert few_list <= 5  # token, user, permissions, count, page
    # token and user, permissions, the case and its categories (read once),
    # offers, vouchers, events, and what the steps and serializer look up
    assert few_case <= 11


def test_steps_take_user_names_and_codes_and_keep_left_out_fields(supervisor, agent, agent2, order):
    case = flows.opened(agent, order, summary="原摘要", demand="退款")
    api = client_for(supervisor)
    url = f"/api/cases/{case.number}/transitions/"
    response = post(api, url + "assign/", {"assignee": "agent_b"})
    assert response.status_code == 200, response.json()
    assert response.json()["assignee"] == "agent_b"
    response = post(api, url + "assign/", {"assignee": "nobody"})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["assignee"]
    # Only the priority is sent: the summary and demand stay as they were.
    response = post(api, url + "edit_details/", {"priority": 4})
    assert response.status_code == 200, response.json()
    assert (response.json()["priority"], response.json()["summary"]) == (4, "原摘要")
    assert response.json()["demand"] == "退款"
    # The old agent no longer works the case.
    response = post(client_for(agent), url + "edit_details/", {"priority": 1})
    assert response.status_code == 403


@pytest.mark.django_db(transaction=True)  # migrates back and forth
@pytest.mark.usefixtures("reference_data")
def test_the_upgrade_keeps_every_old_key_working_and_stores_none(agent, supervisor, migrate_to):
    """Migration 0051: the keys made before knox (40 hex digits, kept in
    the clear by DRF's authtoken) become digests; each still logs in."""
    from knox.models import AuthToken
    from rest_framework.authtoken.models import Token

    migrate_to(("complaints", "0050_admins_read_the_admin_log"))
    old = {user: Token.objects.create(user=user).key for user in (agent, supervisor)}
    migrate_to(("complaints", "0051_api_tokens_kept_as_digests"))
    assert not Token.objects.exists()  # no key left in the clear
    stored = {(t.user_id, t.token_key) for t in AuthToken.objects.all()}
    assert stored == {(user.pk, key[:15]) for user, key in old.items()}
    for user, key in old.items():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        assert client.get("/api/cases/").status_code == 200, user
        assert key not in AuthToken.objects.get(user=user).digest

"""The case page: its panels, who sees the phone number, and its queries."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from complaints import workflow
from complaints.models import ReviewReply

from . import flows
from .factories import OrderFactory, ReviewFactory
from .test_evidence import png_bytes

pytestmark = pytest.mark.django_db


def page(client, case):
    response = client.get(case.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def test_the_case_page_shows_every_panel(client, agent, order):
    customer = order.customer
    customer.motive, customer.temperament = "convenience", "hot_tempered"
    customer.tags, customer.notes = ["宝妈"], "只收顺丰"
    customer.save()
    review = ReviewFactory(order=order, customer=customer, rating=1, text="颜色差太多")
    ReviewReply.objects.create(review=review, text="非常抱歉，我们马上联系您", author=agent)
    case = flows.opened(agent, order, source="review", review=review)
    workflow.case_add_evidence(
        case=case, actor=agent, file=SimpleUploadedFile("破损.png", png_bytes((400, 300)))
    )
    workflow.case_add_note(case=case, actor=agent, text="客户下午有空")
    client.force_login(agent)
    html = page(client, case)
    assert case.number in html and case.summary in html
    assert "Confirming the issue" in html  # state badge
    assert "Be quick: short answers" in html  # motive tip
    assert "Get the details right and apologise." in html  # temperament tip
    assert "宝妈" in html and "只收顺丰" in html
    assert order.number in html and "DRESS-RED-M" in html and order.courier in html
    assert "颜色差太多" in html and "非常抱歉，我们马上联系您" in html
    assert 'class="thumb"' in html
    timeline = html[html.index('id="timeline-heading"') :]
    assert timeline.index("客户下午有空") < timeline.index("Opened")  # newest first


def test_phone_is_masked_except_for_the_assignee_and_supervisors(
    client, agent, agent2, supervisor, order
):
    case = flows.opened(agent, order)
    phone = order.customer.phone
    client.force_login(agent)
    assert phone in page(client, case)
    client.force_login(agent2)
    html = page(client, case)
    assert phone not in html and order.customer.masked_phone in html
    client.force_login(supervisor)
    assert phone in page(client, case)


def test_serial_complainant_warning_and_compensation_history(client, agent, customer):
    for _ in range(3):
        flows.verifying(agent, OrderFactory(customer=customer), amount=Decimal("15"))
    case = flows.analyzing(agent, OrderFactory(customer=customer))
    client.force_login(agent)
    html = page(client, case)
    assert 'id="serial-warning"' in html
    assert "3 compensated cases in the last 90 days" in html
    assert html.count("Voucher ¥15.00") >= 3


def test_unknown_case_is_404_and_roleless_users_403(client, agent, outsider, order):
    client.force_login(agent)
    assert client.get("/cases/C-1999-000001/").status_code == 404
    case = flows.opened(agent, order)
    client.force_login(outsider)
    assert client.get(case.get_absolute_url()).status_code == 403


def test_the_page_offers_only_the_steps_the_user_may_take(client, agent, agent2, order):
    case = flows.opened(agent, order)
    client.force_login(agent)
    html = page(client, case)
    assert 'data-step="confirm"' in html and 'data-step="cancel"' in html
    assert 'data-step="close"' not in html
    client.force_login(agent2)  # a colleague's case: read, but no steps
    html = page(client, case)
    assert 'data-step="confirm"' not in html
    assert 'data-step="add_note"' in html  # notes are open to every agent


def test_a_blocking_guard_says_why(client, agent, order):
    case = flows.root_cause(agent, order)
    client.force_login(agent)
    html = page(client, case)
    assert "Record the root cause (a leaf of the taxonomy) first." in html


def test_query_count_does_not_grow_with_the_timeline(client, agent, order):
    case = flows.verifying(agent, order)[0]
    client.force_login(agent)
    with CaptureQueriesContext(connection) as few:
        page(client, case)
    for n in range(15):
        workflow.case_add_note(case=case, actor=agent, text=f"note {n}")
        workflow.case_record_contact(case=case, actor=agent, channel="sms", outcome="no_answer")
    # The customer's history grows too: past cases, compensation received.
    past = [flows.verifying(agent, order)[0] for _ in range(2)]
    with CaptureQueriesContext(connection) as many:
        html = page(client, case)
    assert all(f'<a href="/cases/{p.number}/">{p.number}</a>' in html for p in past)
    assert html.count("Voucher ¥") >= 3
    assert len(many) == len(few), (len(few), len(many))
    assert len(many) <= 14, len(many)  # the navigation's badges take one query
    assert html.count('<li data-kind="contact">') == 15  # contacts show in the timeline
    assert html.count('<li data-kind="note">') == 15


def test_the_timeline_names_categories_without_a_query_for_each_event(client, agent, order):
    """The analysis and root-cause events name the case's own categories,
    which its page has loaded; a category the case no longer has is read
    once however many events name it, and an event naming none reads none."""
    from complaints.models import CaseEvent, RootCauseCategory

    case = flows.closed(agent, order)
    client.force_login(agent)

    def by_code(captured):
        return [q for q in captured if '"complaints_rootcausecategory"."code" = ' in q["sql"]]

    with CaptureQueriesContext(connection) as shown:
        html = page(client, case)
    colour = RootCauseCategory.objects.select_related("parent").get(code="colour_difference")
    assert html.count(f": {colour} · ") == 2  # the analysis and the root cause
    assert by_code(shown.captured_queries) == []
    for payload in ({"category": "size_fit"}, {"root_cause": "size_fit"}, {}):
        CaseEvent.objects.create(case=case, actor=agent, kind="analysis", payload=payload)
    with CaptureQueriesContext(connection) as shown:
        html = page(client, case)
    size = RootCauseCategory.objects.select_related("parent").get(code="size_fit")
    assert html.count(f": {size}<") + html.count(f": {size} · ") == 2
    assert len(by_code(shown.captured_queries)) == 1


def test_the_offers_panel_shows_what_the_executed_remedies_cost(client, agent, order):
    open_case = flows.proposing(agent, order)[0]
    done, _offer = flows.verifying(agent, OrderFactory())
    client.force_login(agent)
    assert 'id="compensation-cost"' not in page(client, open_case)  # offered, not executed
    with CaptureQueriesContext(connection) as shown:
        html = page(client, done)
    assert '<span id="compensation-cost">compensation ¥20.00</span>' in html
    assert not [q for q in shown.captured_queries if "SUM(" in q["sql"]]  # read with the case


def test_htmx_request_gets_the_case_partial(client, agent, order):
    case = flows.opened(agent, order)
    client.force_login(agent)
    response = client.get(case.get_absolute_url(), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="case-main">')
    assert "<html" not in html


def test_the_case_is_read_in_small_queries(agent, order):
    """The case and what its page shows of its neighbours in at most three
    queries of at most six tables each (twelve in one join took PostgreSQL
    5 ms to plan), and nothing read again while the page is drawn."""
    from complaints.queries import case_for_page

    closed = flows.closed(agent, order)
    review = ReviewFactory(order=order, customer=order.customer)
    from_review = workflow.case_open_from_review(review=review, actor=agent)
    workflow.review_reply_save(review=review, actor=agent, text="抱歉，我们马上联系您")
    for number, expected in ((closed.number, 2), (from_review.number, 2)):
        with CaptureQueriesContext(connection) as loading:
            case = case_for_page(number)
        with CaptureQueriesContext(connection) as reading:
            shown = [
                case.customer.buyer_id,
                case.order.number,
                case.assignee.username,
                case.accepted_offer and case.accepted_offer.kind,
                case.sla_policy and case.sla_policy.name,
                case.category and case.category.parent.code,
                case.root_cause and case.root_cause.parent.code,
                case.review and case.review.reply.text,
            ]
        assert len(reading) == 0, [q["sql"] for q in reading.captured_queries]
        assert len(loading) == expected
        assert all(q["sql"].count(" JOIN ") <= 5 for q in loading.captured_queries)
        assert shown[0] == order.customer.buyer_id
    assert shown[-1] == "抱歉，我们马上联系您"
    assert case_for_page(closed.number).root_cause.parent.code == "product"


def test_a_page_shown_again_runs_prepared_statements_on_postgresql(client, agent, order):
    """On PostgreSQL a kept connection prepares the statements it sends again
    and again, so the server stops planning them on every page (planning was
    most of the database's time on the case page). SQLite has no such step:
    there the same pages run with the settings unchanged."""
    client.force_login(agent)
    cases = [flows.closed(agent, order) for _ in range(2)]
    for _ in range(3):
        for case in cases:  # other numbers, the same statements
            page(client, case)
    if connection.vendor != "postgresql":
        assert "server_side_binding" not in connection.settings_dict.get("OPTIONS", {})
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        prepared = cursor.fetchall()
    case_reads = [runs for sql, runs in prepared if 'FROM "complaints_case"' in sql]
    assert case_reads, prepared
    assert max(case_reads) >= 1  # and the case page drew from them
    assert all("$1" in sql or "%s" not in sql for sql, _ in prepared)  # bound by the server

"""Opening a case from the new-case page: by order, by review, by nickname."""

import pytest
from django.urls import reverse

from complaints.models import Case

from . import flows
from .factories import CustomerFactory, OrderFactory, ReviewFactory

pytestmark = pytest.mark.django_db

NEW = reverse("complaints:new_case")


def test_order_lookup_finds_orders_by_part_of_their_number(client, agent):
    OrderFactory(number="TB55501234")
    OrderFactory(number="JD99900000")
    client.force_login(agent)
    html = client.get(NEW, {"number": "5550"}).content.decode()
    assert "TB55501234" in html and "JD99900000" not in html
    short = client.get(NEW, {"number": "55"}).content.decode()
    assert "TB55501234" not in short  # at least 3 characters
    partial = client.get(NEW, {"number": "5550"}, headers={"HX-Request": "true"})
    assert partial.content.decode().lstrip().startswith('<div id="order-results"')


def test_open_a_case_from_an_order(client, agent, order):
    client.force_login(agent)
    url = f"{NEW}?order={order.pk}"
    assert order.customer.buyer_id in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "order": order.pk,
            "source": "chat",
            "summary": "少发一件",
            "demand": "补发",
            "priority": 3,
        },
    )
    case = Case.objects.get(summary="少发一件")
    assert response.status_code == 302 and response.url == case.get_absolute_url()
    assert (case.customer, case.order, case.assignee, case.priority) == (
        order.customer,
        order,
        agent,
        3,
    )


def test_open_a_case_from_a_review(client, agent):
    review = ReviewFactory(rating=1, text="面料起球严重")
    client.force_login(agent)
    page = client.get(NEW).content.decode()
    assert "面料起球严重" in page  # offered under "start from a review"
    url = f"{NEW}?review={review.pk}"
    response = client.post(
        url, {"review": review.pk, "source": "review", "summary": "面料起球严重", "priority": 3}
    )
    assert response.status_code == 302
    case = Case.objects.get(review=review)
    assert (case.customer, case.order) == (review.customer, review.order)
    assert "面料起球严重" not in client.get(NEW).content.decode()  # now it has a case


def test_open_a_case_for_a_customer_without_an_order(client, agent):
    customer = CustomerFactory(marketplace="jd", buyer_id="jd_buyer_7")
    client.force_login(agent)
    response = client.post(
        NEW,
        {
            "marketplace": "jd",
            "buyer_id": "jd_buyer_7",
            "source": "phone",
            "summary": "咨询退货运费",
            "priority": 2,
        },
    )
    assert response.status_code == 302
    assert Case.objects.get(summary="咨询退货运费").customer == customer


def test_bad_input_is_a_form_error_and_opens_nothing(client, agent):
    client.force_login(agent)
    response = client.post(NEW, {"source": "chat", "summary": "", "priority": 2})
    assert response.status_code == 400
    html = response.content.decode()
    assert "This field is required." in html
    assert "Choose an order, or give the customer" in html
    assert not Case.objects.exists()


def test_a_second_open_case_for_the_same_review_is_refused(client, agent, order):
    review = ReviewFactory(order=order, customer=order.customer)
    flows.opened(agent, order, source="review", review=review)
    client.force_login(agent)
    response = client.post(
        f"{NEW}?review={review.pk}",
        {"review": review.pk, "source": "review", "summary": "again", "priority": 2},
    )
    assert response.status_code == 400
    assert "already has an open case" in response.content.decode()


def test_roleless_users_get_403(client, outsider):
    client.force_login(outsider)
    assert client.get(NEW).status_code == 403

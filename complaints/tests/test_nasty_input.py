"""Hostile text in every free-text field of the pages and the API: script
tags, attribute breakers, template syntax, right-to-left marks, formula and
SQL look-alikes, 10,000 characters, NUL bytes. Each is stored or refused
cleanly (a form error, never a 500), and what is stored is shown escaped.

The fields are found, not listed: every plain text field of every step's
form, plus the other forms that take text (new case, review reply, voucher
void, offer decision, queue search, login). A new text field is covered by
the next run. Hypothesis then throws arbitrary text at fields drawn at random.
"""

import json

import pytest
from django import forms
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from complaints.api.tokens import issue
from complaints.models import Case, CaseEvent, Voucher
from complaints.steps import STEPS_BY_NAME

from . import flows
from .factories import OrderFactory, ReviewFactory
from .test_views_steps import STEPS, case_of

pytestmark = pytest.mark.django_db

# What must never reach a page unescaped: a tag of our own making.
MARKER = "<x-nasty"
HOSTILE = (
    '"><x-nasty onmouseover=alert(1)><script>alert(1)</script>'
    "' onfocus='alert(2)' {{ request.user }} {% now 'Y' %} %(x)s "
    '\u202eevil\u202c \u200f =HYPERLINK("http://evil") \'; DROP TABLE complaints_case;-- 🙂'
)
LONG = HOSTILE + "长" * 10_000
NUL = "before\x00after"

SAMPLES = [
    HOSTILE,
    "<script>alert(document.cookie)</script>",
    '" autofocus onfocus="alert(1)',
    "\u202e\u2066\u200f右到左\u202c",
    "=1+1",
    "\\u0000 \\x00 %00",
    "   ",
    "\r\n\t",
]


def free_text_fields(form):
    """The names of a form's plain text inputs (not choices, files or hidden)."""
    return [
        name
        for name, field in form.fields.items()
        if type(field) is forms.CharField
        and not isinstance(field.widget, forms.HiddenInput | forms.MultipleHiddenInput)
    ]


def _step_fields():
    """(step, field) for every text field of every step form."""
    pairs = []
    for name in STEPS:
        form_class = STEPS_BY_NAME[name].form_class
        try:
            form = form_class(case=None, user=None)
        except (AttributeError, TypeError):  # needs a real case: look at the class
            form = None
        fields = (
            free_text_fields(form)
            if form is not None
            else [
                field_name
                for field_name, field in form_class.base_fields.items()
                if type(field) is forms.CharField
                and not isinstance(field.widget, forms.HiddenInput | forms.MultipleHiddenInput)
            ]
        )
        pairs += [(name, field) for field in fields]
    return pairs


STEP_FIELDS = _step_fields()


def test_the_text_fields_are_found():
    found = set(STEP_FIELDS)
    for pair in [
        ("add_note", "text"),
        ("edit_details", "summary"),
        ("edit_details", "description"),
        ("record_contact", "notes"),
        ("reject_offer", "note"),
        ("cancel", "reason"),
        ("record_root_cause", "corrective_action"),
        ("add_evidence", "description"),
    ]:
        assert pair in found
    assert len(found) >= 15


def fitting(step, field, text=HOSTILE):
    """``text`` cut to the field's length limit, if it has one."""
    limit = STEPS_BY_NAME[step].form_class.base_fields[field].max_length
    return text[:limit] if limit else text


def _prepare(step, agent, supervisor):
    actor_role, prepare, valid, *_rest = STEPS[step]
    ctx = prepare(agent, OrderFactory())
    actor = supervisor if actor_role == "supervisor" else agent
    return actor, ctx, valid(ctx)


def _post_step(client, step, ctx, data):
    case = case_of(ctx)
    case.refresh_from_db()
    for value in data.values():
        if hasattr(value, "seek"):
            value.seek(0)  # an upload sent again
    return client.post(f"/cases/{case.number}/step/{step}/", {"expected_state": case.state, **data})


def _assert_shown_escaped(client, case):
    html = client.get(case.get_absolute_url()).content.decode()
    assert MARKER not in html and "<script>alert" not in html


@pytest.mark.parametrize("step,field", STEP_FIELDS)
def test_hostile_text_in_every_step_field_is_stored_escaped_or_refused(
    step, field, agent, supervisor
):
    actor, ctx, data = _prepare(step, agent, supervisor)
    client = Client()
    client.force_login(actor)
    case = case_of(ctx)
    for text in (NUL, LONG, fitting(step, field)):
        events = CaseEvent.objects.filter(case=case).count()
        response = _post_step(client, step, ctx, {**data, field: text})
        assert response.status_code in (200, 302, 400, 409), (text[:20], response.status_code)
        assert MARKER not in response.content.decode()  # the redisplayed form escapes it
        if text == NUL:
            assert response.status_code == 400  # refused: "Null characters are not allowed"
            assert CaseEvent.objects.filter(case=case).count() == events
            continue
        if response.status_code == 302:
            _assert_shown_escaped(client, case)
            break  # the step is taken: the case moved on
        if text != LONG:  # 10,000 characters may be refused; the plausible text may not
            pytest.fail(f"{step}.{field} refused plausible text: {response.status_code}")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    pick=st.sampled_from(STEP_FIELDS),
    text=st.one_of(st.sampled_from(SAMPLES), st.text(max_size=400)),
)
def test_any_text_in_any_step_field_never_breaks_a_page(pick, text, agent, supervisor):
    step, field = pick
    actor, ctx, data = _prepare(step, agent, supervisor)
    client = Client()
    client.force_login(actor)
    response = _post_step(client, step, ctx, {**data, field: text})
    assert response.status_code in (200, 302, 400, 409)
    assert MARKER not in response.content.decode()
    if response.status_code == 302:
        _assert_shown_escaped(client, case_of(ctx))


def test_hostile_text_in_the_other_forms(agent, supervisor, order):
    """New case, review reply, voucher void, offer decision, search, login."""
    client = Client()
    client.force_login(agent)
    response = client.post(
        "/cases/new/",
        {
            "order": order.pk,
            "source": "chat",
            "priority": 2,
            "summary": HOSTILE[:200],
            "demand": LONG,
        },
    )
    assert response.status_code == 302
    case = Case.objects.get(summary=HOSTILE[:200])
    assert case.demand == LONG  # kept whole
    _assert_shown_escaped(client, case)
    assert (
        client.post(
            "/cases/new/", {"order": order.pk, "source": "chat", "priority": 2, "summary": NUL}
        ).status_code
        == 400
    )

    review = ReviewFactory(text=HOSTILE)  # as a marketplace could send it
    for text, status in ((HOSTILE, 302), (NUL, 400), ("x" * 600, 400)):
        response = client.post(f"/reviews/{review.pk}/", {"text": text, "publish": "1"})
        assert response.status_code == status, text[:10]
        assert MARKER not in response.content.decode()
    page = client.get(f"/reviews/{review.pk}/").content.decode()
    assert MARKER not in page and "&lt;x-nasty" in page

    for query in (HOSTILE, LONG, NUL):
        response = client.get("/queue/mine/", {"q": query})
        assert response.status_code in (200, 400)
        assert MARKER not in response.content.decode()

    closed = flows.closed(agent, OrderFactory())
    voucher = Voucher.objects.get(offer__case=closed)
    boss = Client()
    boss.force_login(supervisor)
    assert boss.post(f"/vouchers/{voucher.code}/void/", {"reason": NUL}).status_code == 400
    response = boss.post(f"/vouchers/{voucher.code}/void/", {"reason": LONG}, follow=True)
    assert response.status_code == 200 and MARKER not in response.content.decode()
    voucher.refresh_from_db()
    assert voucher.status == "void"

    offer = flows.analyzing(agent, OrderFactory()).offers.create(
        kind="voucher", amount="60", proposed_by=agent
    )
    response = boss.post(f"/approvals/{offer.pk}/reject/", {"note": HOSTILE}, follow=True)
    assert response.status_code == 200 and MARKER not in response.content.decode()

    login = Client()
    for name in (HOSTILE, NUL, LONG, "x" * 151):
        for path in ("/accounts/login/", "/admin/login/"):
            response = login.post(path, {"username": name, "password": "x"})
            assert response.status_code == 200 and MARKER not in response.content.decode()


@pytest.fixture
def api(agent):
    client = Client()
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {issue(agent)}"
    return client


def _api_post(api, path, body):
    return api.post(path, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("step,field", STEP_FIELDS)
def test_hostile_text_through_the_api(step, field, agent, supervisor):
    actor, ctx, data = _prepare(step, agent, supervisor)
    client = Client()
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {issue(actor)}"
    case = case_of(ctx)
    if step == "add_evidence":  # files go to the multipart endpoint
        path = f"/api/cases/{case.number}/evidence/"

        def send(text):
            data["file"].seek(0)
            return client.post(path, {**data, field: text})
    else:
        path = f"/api/cases/{case.number}/transitions/{step}/"

        def send(text):
            return client.post(path, json.dumps({**data, field: text}), "application/json")

    assert send(NUL).status_code == 400
    for text in (LONG, fitting(step, field)):
        response = send(text)
        assert response.status_code in (200, 201, 400), response.content[:200]
        assert response["Content-Type"] == "application/json"
        if response.status_code in (200, 201):
            break
        if text != LONG:
            pytest.fail(f"{step}.{field} refused plausible text: {response.content[:200]}")


def test_hostile_text_in_orders_and_reviews_through_the_api(agent):
    from .test_api import ORDER

    api = Client()
    api.defaults["HTTP_AUTHORIZATION"] = f"Token {issue(agent)}"

    def post(path, body):
        return api.post(path, json.dumps(body), "application/json")

    order = ORDER | {
        "buyer_id": HOSTILE[:100],
        "buyer_name": HOSTILE[:50],
        "items": [ORDER["items"][0] | {"title": HOSTILE[:200]}],
    }
    assert post("/api/orders/", order).status_code == 201, post("/api/orders/", order).content
    assert post("/api/orders/", order | {"order_number": NUL}).status_code == 400
    assert post("/api/orders/", order | {"buyer_name": NUL}).status_code == 400
    review = {
        "marketplace": "taobao", "review_id": "RV-HOSTILE", "order_number": ORDER["order_number"],
        "rating": 1, "text": LONG, "posted_at": "2026-11-20T12:00:00+08:00",
    }  # fmt: skip
    created = post("/api/reviews/", review)
    assert created.status_code == 201, created.content[:300]
    assert post("/api/reviews/", review | {"text": NUL}).status_code == 400
    assert post("/api/reviews/", review | {"review_id": NUL}).status_code == 400
    reader = Client()
    reader.force_login(agent)
    case = Case.objects.get(number=created.json()["case"])
    for path in ("/reviews/", case.get_absolute_url(), "/queue/mine/"):
        html = reader.get(path).content.decode()
        assert MARKER not in html, path
    assert "&lt;x-nasty" in reader.get(case.get_absolute_url()).content.decode()

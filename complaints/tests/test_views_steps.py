"""Every step form on the case page: the happy path, a blocked step (wrong
state or unmet guard: 409 with the reason), bad input (400, nothing saved)
and the wrong user (403)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from complaints import workflow
from complaints.models import Case, CaseEvent, RootCauseCategory

from . import flows
from .factories import ReviewFactory
from .test_evidence import png_bytes

pytestmark = pytest.mark.django_db


def leaf_pk(code="colour_difference"):
    return RootCauseCategory.objects.get(code=code).pk


def review_case(agent, order, *, asked=False):
    review = ReviewFactory(order=order, customer=order.customer, rating=2)
    case = workflow.case_confirm(
        case=flows.opened(agent, order, source="review", review=review), actor=agent
    )
    offer = workflow.offer_propose(case=case, actor=agent, kind="apology")
    case = workflow.case_propose(case=case, actor=agent)
    case = workflow.case_accept_offer(case=case, offer=offer, actor=agent)
    case = workflow.case_mark_executed(case=case, actor=agent)
    if asked:
        workflow.case_request_review_revision(case=case, actor=agent, channel="phone")
    return case


def pending_offer_case(agent, order):
    case = flows.analyzing(agent, order)
    offer = workflow.offer_propose(case=case, actor=agent, kind="voucher", amount="60")
    return case, offer


def analyzing_with_offer(agent, order):
    case = flows.analyzing(agent, order)
    workflow.offer_propose(case=case, actor=agent, kind="gift", amount="10")
    return case


def issued(agent, order):
    case = flows.executing(agent, order)[0]
    workflow.voucher_issue(case=case, actor=agent)
    return case


def recorded_root_cause(agent, order):
    case = flows.root_cause(agent, order)
    return workflow.case_record_root_cause(
        case=case, actor=agent, root_cause=RootCauseCategory.objects.get(pk=leaf_pk())
    )


def closed_long_ago(agent, order):
    case = flows.closed(agent, order)
    Case.objects.filter(pk=case.pk).update(closed_at=timezone.now() - timedelta(days=30))
    return Case.objects.get(pk=case.pk)


# step: (who acts, prepare(agent, order) -> case or (case, offer), valid data(ctx),
#        invalid data(ctx) or None, blocked(agent, order) -> case or None, check(case))
STEPS = {
    "confirm": (
        "agent",
        lambda a, o: flows.opened(a, o, demand=""),
        lambda ctx: {"demand": "退一半的钱", "description": "颜色不对"},
        lambda ctx: {"demand": ""},
        lambda a, o: flows.analyzing(a, o),
        lambda case: case.state == "analyzing" and case.demand == "退一半的钱",
    ),
    "analyze": (
        "agent",
        lambda a, o: workflow.case_confirm(case=flows.opened(a, o), actor=a),
        lambda ctx: {"category": leaf_pk("lost_parcel"), "severity": 3, "responsible_party": ""},
        lambda ctx: {"category": "", "severity": 9},
        lambda a, o: flows.opened(a, o),
        lambda case: case.category.code == "lost_parcel" and case.severity == 3,
    ),
    "propose_offer": (
        "agent",
        lambda a, o: flows.analyzing(a, o),
        lambda ctx: {"kind": "voucher", "amount": "20", "min_spend": "100"},
        lambda ctx: {"kind": "voucher", "amount": "-1"},
        lambda a, o: flows.opened(a, o),
        lambda case: case.offers.filter(kind="voucher", amount=Decimal("20")).exists(),
    ),
    "approve_offer": (
        "supervisor",
        pending_offer_case,
        lambda ctx: {"offer": ctx[1].pk, "note": "老客户"},
        lambda ctx: {"offer": ""},
        None,
        lambda case: case.offers.get().approval_status == "approved",
    ),
    "reject_offer": (
        "supervisor",
        pending_offer_case,
        lambda ctx: {"offer": ctx[1].pk, "note": "超出政策"},
        lambda ctx: {"offer": ctx[1].pk, "note": ""},  # the workflow wants a reason
        None,
        lambda case: case.offers.get().approval_status == "rejected",
    ),
    "propose": (
        "agent",
        lambda a, o: (
            workflow.offer_propose(
                case=flows.analyzing(a, o), actor=a, kind="gift", amount="10"
            ).case
        ),
        lambda ctx: {},
        None,
        lambda a, o: flows.analyzing(a, o),  # no offer yet: the guard blocks
        lambda case: case.state == "proposing",
    ),
    "accept": (
        "agent",
        lambda a, o: flows.proposing(a, o),
        lambda ctx: {"offer": ctx[1].pk},
        lambda ctx: {"offer": ""},
        analyzing_with_offer,  # the options were not put to the customer yet
        lambda case: case.state == "executing",
    ),
    "issue_voucher": (
        "agent",
        lambda a, o: flows.executing(a, o)[0],
        lambda ctx: {"valid_days": 30},
        lambda ctx: {"valid_days": 0},
        lambda a, o: flows.executing(a, o, kind="gift", amount=Decimal("10"))[0],
        lambda case: case.accepted_offer.voucher.value == Decimal("20"),
    ),
    "record_execution": (
        "agent",
        lambda a, o: flows.executing(a, o, kind="gift", amount=Decimal("10"))[0],
        lambda ctx: {"reference": "SF123456"},
        lambda ctx: {"reference": ""},
        lambda a, o: flows.executing(a, o)[0],  # a voucher has no reference
        lambda case: case.accepted_offer.execution_reference == "SF123456",
    ),
    "mark_executed": (
        "agent",
        issued,
        lambda ctx: {},
        None,
        lambda a, o: flows.executing(a, o)[0],  # voucher not issued yet
        lambda case: case.state == "verifying",
    ),
    "record_contact": (
        "agent",
        lambda a, o: flows.opened(a, o),
        lambda ctx: {"channel": "phone", "outcome": "reached", "notes": "已回电"},
        lambda ctx: {"channel": "pigeon", "outcome": "reached"},
        lambda a, o: flows.closed(a, o),
        lambda case: case.contacts.filter(notes="已回电").exists(),
    ),
    "record_satisfaction": (
        "agent",
        lambda a, o: flows.followed_up(a, flows.verifying(a, o)[0]),
        lambda ctx: {"satisfied": "yes", "score": 5, "comment": "满意"},
        lambda ctx: {"satisfied": "yes", "score": 9},
        lambda a, o: flows.verifying(a, o)[0],  # no follow-up contact yet
        lambda case: case.state == "root_cause" and case.satisfaction_score == 5,
    ),
    "request_revision": (
        "agent",
        lambda a, o: review_case(a, o),
        lambda ctx: {"channel": "phone", "note": "客户答应考虑"},
        lambda ctx: {"channel": "carrier-pigeon"},
        lambda a, o: flows.verifying(a, o)[0],  # no review on this case
        lambda case: case.review.revision_requested_at is not None,
    ),
    "revision_outcome": (
        "agent",
        lambda a, o: review_case(a, o, asked=True),
        lambda ctx: {"outcome": "revised", "revised_rating": 5},
        lambda ctx: {"outcome": "revised", "revised_rating": ""},
        lambda a, o: review_case(a, o),  # nothing asked yet
        lambda case: case.review.revised_rating == 5,
    ),
    "record_root_cause": (
        "agent",
        lambda a, o: flows.root_cause(a, o),
        lambda ctx: {"root_cause": leaf_pk("defect"), "corrective_action": "加强质检"},
        lambda ctx: {"root_cause": RootCauseCategory.objects.get(code="product").pk},
        lambda a, o: flows.verifying(a, o)[0],
        lambda case: case.root_cause.code == "defect",
    ),
    "close": (
        "agent",
        recorded_root_cause,
        lambda ctx: {},
        None,
        lambda a, o: flows.root_cause(a, o),  # no root cause recorded
        lambda case: case.state == "closed",
    ),
    "reopen": (
        "agent",
        lambda a, o: flows.closed(a, o),
        lambda ctx: {"reason": "券无法使用"},
        None,
        closed_long_ago,
        lambda case: case.state == "analyzing",
    ),
    "add_note": (
        "agent",
        lambda a, o: flows.opened(a, o),
        lambda ctx: {"text": "客户要求下午联系"},
        lambda ctx: {"text": ""},
        None,
        lambda case: case.events.filter(kind="note").exists(),
    ),
    "add_evidence": (
        "agent",
        lambda a, o: flows.opened(a, o),
        lambda ctx: {"file": SimpleUploadedFile("破损.png", png_bytes()), "description": "外包装"},
        lambda ctx: {"file": SimpleUploadedFile("x.png", b"not an image")},
        lambda a, o: flows.closed(a, o),
        lambda case: case.evidence.filter(description="外包装").exists(),
    ),
    "edit_details": (
        "agent",
        lambda a, o: flows.opened(a, o),
        lambda ctx: {"summary": "新的摘要", "demand": "退款", "description": "", "priority": 4},
        lambda ctx: {"summary": "", "priority": 2},
        lambda a, o: flows.closed(a, o),
        lambda case: case.summary == "新的摘要" and case.priority == 4,
    ),
    "assign": (
        "supervisor",
        lambda a, o: flows.opened(a, o),
        lambda ctx: {"assignee": ctx.assignee_id and _other_agent().pk},
        lambda ctx: {"assignee": 999999},
        lambda a, o: flows.closed(a, o),
        lambda case: case.assignee.username == "agent_other",
    ),
    "cancel": (
        "agent",
        lambda a, o: flows.opened(a, o),
        lambda ctx: {"reason": "重复工单"},
        lambda ctx: {"reason": ""},
        lambda a, o: flows.closed(a, o),
        lambda case: case.state == "cancelled",
    ),
}


def _other_agent():
    from .factories import UserFactory

    return UserFactory(username="agent_other", role="agent")


def case_of(ctx):
    return ctx[0] if isinstance(ctx, tuple) else ctx


def url(case, step):
    return reverse("complaints:step", args=[case.number, step])


def post(client, case, step, data, **kwargs):
    return client.post(url(case, step), {"expected_state": case.state, **data}, **kwargs)


@pytest.fixture
def users(agent, supervisor):
    return {"agent": agent, "supervisor": supervisor}


@pytest.mark.parametrize("step", STEPS)
def test_happy_path(client, users, order, step):
    who, prepare, valid, _invalid, _blocked, check = STEPS[step]
    ctx = prepare(users["agent"], order)
    case = case_of(ctx)
    client.force_login(users[who])
    assert client.get(url(case, step)).status_code == 200
    response = post(client, case, step, valid(ctx))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response.url == case.get_absolute_url()
    assert check(Case.objects.get(pk=case.pk))


@pytest.mark.parametrize("step", [s for s in STEPS if STEPS[s][3] is not None])
def test_bad_input_is_a_form_error_and_saves_nothing(client, users, order, step):
    who, prepare, _valid, invalid, _blocked, _check = STEPS[step]
    ctx = prepare(users["agent"], order)
    case = case_of(ctx)
    events = CaseEvent.objects.filter(case=case).count()
    state = case.state
    client.force_login(users[who])
    response = post(client, case, step, invalid(ctx))
    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode()
    assert CaseEvent.objects.filter(case=case).count() == events
    assert Case.objects.get(pk=case.pk).state == state


@pytest.mark.parametrize("step", [s for s in STEPS if STEPS[s][4] is not None])
def test_a_blocked_step_answers_409_with_the_reason(client, users, order, step):
    who, _prepare, valid, _invalid, blocked, _check = STEPS[step]
    case = blocked(users["agent"], order)
    events = CaseEvent.objects.filter(case=case).count()
    client.force_login(users[who])
    data = valid((case, case.offers.first())) if step == "accept" else valid(case)
    response = post(client, case, step, data)
    assert response.status_code == 409, response.status_code
    assert 'id="step-error"' in response.content.decode()
    assert CaseEvent.objects.filter(case=case).count() == events


@pytest.mark.parametrize("step", STEPS)
def test_the_wrong_user_gets_403(client, users, outsider, order, step):
    _who, prepare, valid, _invalid, _blocked, _check = STEPS[step]
    ctx = prepare(users["agent"], order)
    case = case_of(ctx)
    events = CaseEvent.objects.filter(case=case).count()
    client.force_login(outsider)
    assert client.get(url(case, step)).status_code == 403
    assert post(client, case, step, valid(ctx)).status_code == 403
    assert CaseEvent.objects.filter(case=case).count() == events


def test_a_colleague_may_not_work_an_agents_case(client, agent, agent2, order):
    case = flows.opened(agent, order)
    client.force_login(agent2)
    assert post(client, case, "cancel", {"reason": "x"}).status_code == 403
    assert post(client, case, "confirm", {"demand": "x"}).status_code == 403


def test_an_agent_gets_403_for_approving(client, agent, agent2, order):
    case, offer = pending_offer_case(agent, order)
    client.force_login(agent)
    assert post(client, case, "approve_offer", {"offer": offer.pk}).status_code == 403


def test_the_proposer_cannot_approve_their_own_offer(client, supervisor, order):
    case, offer = pending_offer_case(supervisor, order)
    client.force_login(supervisor)
    html = client.get(case.get_absolute_url()).content.decode()
    assert 'data-step="approve_offer"' not in html
    assert post(client, case, "approve_offer", {"offer": offer.pk}).status_code == 403


def test_a_stale_form_is_refused_reloaded_and_keeps_the_typed_text(client, agent, order):
    case = flows.opened(agent, order)
    client.force_login(agent)
    form = client.get(url(case, "record_contact"))
    assert 'value="confirming"' in form.content.decode()
    workflow.case_confirm(case=case, actor=agent)  # someone moves the case meanwhile
    response = client.post(
        url(case, "record_contact"),
        {
            "expected_state": "confirming",
            "channel": "phone",
            "outcome": "reached",
            "notes": "客户说明天上午在家",
        },
    )
    html = response.content.decode()
    assert response.status_code == 409
    assert "changed meanwhile" in html and "Analyzing" in html
    assert "客户说明天上午在家" in html  # nothing typed is lost
    assert 'value="analyzing"' in html  # resubmitting now works
    assert not Case.objects.get(pk=case.pk).contacts.exists()


def test_htmx_success_swaps_the_case_and_errors_stay_in_the_panel(client, agent, order):
    case = flows.opened(agent, order)
    client.force_login(agent)
    headers = {"HX-Request": "true"}
    partial = client.get(url(case, "add_note"), headers=headers).content.decode()
    assert "<html" not in partial and 'id="step-form-card"' in partial
    bad = post(client, case, "add_note", {"text": ""}, headers=headers)
    assert bad.status_code == 400 and "<html" not in bad.content.decode()
    good = post(client, case, "add_note", {"text": "记下了"}, headers=headers)
    assert good.status_code == 200
    assert good["HX-Retarget"] == "#case-main"
    assert good.content.decode().lstrip().startswith('<div id="case-main">')
    assert "记下了" in good.content.decode()


def test_quick_reply_is_inserted_with_the_placeholders_filled(client, agent, order):
    from complaints.models import ReplyTemplate

    case = flows.executing(agent, order)[0]
    voucher = workflow.voucher_issue(case=case, actor=agent)
    template = ReplyTemplate.objects.get(title="补偿券已发")
    client.force_login(agent)
    response = post(
        client,
        case,
        "record_contact",
        {
            "channel": "chat",
            "outcome": "reached",
            "notes": "您好",
            "quick_reply": template.pk,
            "_insert_reply": "1",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert voucher.code in html
    name = order.customer.display_name
    assert f"您好\n{name}您好，为表歉意" in html
    assert not case.contacts.exists()  # inserting does not submit


def test_offer_check_says_inside_policy_or_goes_to_a_supervisor(client, agent, order):
    case = flows.analyzing(agent, order)
    client.force_login(agent)
    check = reverse("complaints:offer_check", args=[case.number])
    inside = client.post(check, {"kind": "voucher", "amount": "15"}).content.decode()
    assert 'data-needs-approval="false"' in inside and "Voucher up to ¥20" in inside
    outside = client.post(check, {"kind": "voucher", "amount": "80"}).content.decode()
    assert 'data-needs-approval="true"' in outside and "policy allows ¥20.00" in outside
    assert client.post(check, {"kind": "voucher", "amount": "x"}).content.strip() == b""


def test_assign_to_me_from_the_queue(client, agent, supervisor, order):
    case = workflow.case_assign(case=flows.opened(agent, order), assignee=None, actor=supervisor)
    client.force_login(agent)
    queue = reverse("complaints:queue", args=["unassigned"])
    response = client.post(reverse("complaints:take", args=[case.number]), {"next": queue})
    assert response.status_code == 302 and response.url == queue
    assert Case.objects.get(pk=case.pk).assignee == agent
    again = client.post(reverse("complaints:take", args=[case.number]))
    assert again.status_code == 403  # now someone's: only a supervisor reassigns


def test_a_stale_htmx_submit_redraws_the_case_with_the_form_still_open(client, agent, order):
    case = flows.opened(agent, order)
    workflow.case_confirm(case=case, actor=agent)
    client.force_login(agent)
    response = client.post(
        url(case, "add_note"),
        {"expected_state": "confirming", "text": "先别关"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 409
    assert response["HX-Retarget"] == "#case-main"
    assert html.lstrip().startswith('<div id="case-main">')
    assert "Analyzing" in html and "changed meanwhile" in html and "先别关" in html


def test_confirm_stores_the_evidence_sent_with_it(client, agent, order):
    case = flows.opened(agent, order)
    client.force_login(agent)
    response = post(
        client,
        case,
        "confirm",
        {"demand": "退款", "description": "", "evidence": SimpleUploadedFile("a.png", png_bytes())},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == "analyzing" and case.evidence.count() == 1


def test_confirm_with_a_bad_file_confirms_nothing(client, agent, order):
    case = flows.opened(agent, order)
    client.force_login(agent)
    response = post(
        client,
        case,
        "confirm",
        {"demand": "退款", "evidence": SimpleUploadedFile("a.png", b"not a picture")},
    )
    assert response.status_code == 400
    assert "Upload a photo" in response.content.decode()
    case.refresh_from_db()
    assert case.state == "confirming" and not case.evidence.exists()

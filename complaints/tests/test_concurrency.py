"""Real threads, real connections: many people acting on one case at once.

``make test`` runs this module on SQLite and on PostgreSQL; on PostgreSQL each
thread holds its own connection, so the row locks and the FSM's optimistic
check are what keep the outcome to exactly one effect."""

import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from complaints import workflow
from complaints.models import Case, CaseEvent, CaseState, Voucher

from . import flows

# Real transactions in real threads; reference_data restores the seeded rows.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]

THREADS = 20


def race(target, *args):
    """Run ``target`` in THREADS threads released together; return their outcomes."""
    return race_each([lambda: target(*args)] * THREADS)


def race_each(calls):
    """Run each of ``calls`` in a thread of its own, all released together;
    return their outcomes in the order of ``calls``."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait()
            call()
            outcomes[index] = "ok"
        except (ConcurrentTransition, TransitionNotAllowed) as error:
            outcomes[index] = f"conflict: {error}"
        except PermissionDenied as error:
            outcomes[index] = f"denied: {error}"
        except Exception as error:  # anything else is a defect the test must show
            outcomes[index] = f"error: {type(error).__name__}: {error}"
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=(index, call)) for index, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def halves(first, second):
    """THREADS calls, alternating ``first`` and ``second``."""
    return [first, second] * (THREADS // 2)


def test_the_same_transition_fired_at_once_succeeds_exactly_once(agent, order):
    case = flows.opened(agent, order)
    stale = Case.objects.get(pk=case.pk)
    outcomes = race(lambda: workflow.case_confirm(case=stale, actor=agent))
    assert outcomes.count("ok") == 1, outcomes
    assert all(o.startswith("conflict") for o in outcomes if o != "ok"), outcomes
    assert Case.objects.get(pk=case.pk).state == CaseState.ANALYZING
    assert CaseEvent.objects.filter(case=case, transition="confirm").count() == 1


def test_issuing_the_same_voucher_at_once_issues_one(agent, order):
    case, offer = flows.executing(agent, order)
    outcomes = race(lambda: workflow.voucher_issue(case=case, actor=agent))
    assert outcomes == ["ok"] * THREADS
    assert Voucher.objects.filter(offer=offer).count() == 1
    assert CaseEvent.objects.filter(case=case, kind="voucher_issued").count() == 1


def test_approve_and_reject_at_once_decide_once(agent, supervisor, supervisor2, order):
    offer = workflow.offer_propose(
        case=flows.analyzing(agent, order), actor=agent, kind="voucher", amount="60"
    )
    outcomes = race_each(
        halves(
            lambda: workflow.offer_approve(offer=offer, actor=supervisor, note="可以"),
            lambda: workflow.offer_reject(offer=offer, actor=supervisor2, note="不行"),
        )
    )
    assert outcomes.count("ok") == 1, outcomes
    others = [o for o in outcomes if o != "ok"]
    assert all("not waiting for approval" in o for o in others), outcomes
    decisions = CaseEvent.objects.filter(kind__in=["offer_approved", "offer_rejected"])
    assert decisions.count() == 1
    offer.refresh_from_db()
    approved = outcomes.index("ok") % 2 == 0  # even calls approve, odd ones reject
    assert offer.approval_status == ("approved" if approved else "rejected")
    assert decisions.get().kind == ("offer_approved" if approved else "offer_rejected")


def test_case_numbers_stay_unique_under_concurrent_openings(agent, order):
    outcomes = race(lambda: flows.opened(agent, order))
    assert outcomes == ["ok"] * THREADS
    numbers = list(Case.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == THREADS


def test_redeeming_the_same_voucher_at_once_redeems_it_once(agent, order):
    from decimal import Decimal

    from .factories import OrderFactory

    case, _offer = flows.executing(agent, order, min_spend="0")
    voucher = workflow.voucher_issue(case=case, actor=agent)
    later = OrderFactory(customer=order.customer, paid_total=Decimal("99"))
    outcomes = race(lambda: workflow.voucher_redeem(voucher=voucher, actor=agent, order=later))
    assert outcomes.count("ok") == 1, outcomes
    assert all("already redeemed" in o for o in outcomes if o != "ok"), outcomes
    assert CaseEvent.objects.filter(kind="voucher_redeemed").count() == 1


def test_sweeps_running_at_once_escalate_a_breach_once(agent, supervisor, order):
    from datetime import timedelta

    from django.utils import timezone

    from complaints.models import Notification
    from complaints.workflow.sla import sla_sweep

    case = flows.opened(agent, order)
    past = timezone.now() - timedelta(minutes=1)
    Case.objects.filter(pk=case.pk).update(first_response_due=past, due_at=past)
    outcomes = race(sla_sweep)
    assert outcomes == ["ok"] * THREADS, outcomes
    assert CaseEvent.objects.filter(case=case, kind="escalated").count() == 1
    assert Case.objects.get(pk=case.pk).priority == 3
    assert Notification.objects.filter(kind="escalation", recipient=agent).count() == 1


def _api_client(user):
    from rest_framework.test import APIClient

    from complaints.api.tokens import issue

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue(user)}")
    return client


def test_the_same_idempotent_request_at_once_acts_once(agent, order):
    import json

    body = json.dumps({"order_number": order.number, "source": "chat", "summary": "颜色不符"})
    statuses, replayed = [], []

    def open_case():
        response = _api_client(agent).post(
            "/api/cases/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="same"
        )
        statuses.append(response.status_code)
        replayed.append(response.get("Idempotent-Replayed") == "true")

    _api_client(agent)  # the token exists before the race
    outcomes = race(open_case)
    assert outcomes == ["ok"] * THREADS, outcomes
    assert Case.objects.count() == 1
    # The first acts; the others wait for it and replay its answer (or, where
    # the database lets them through first, are told it is still running).
    assert statuses.count(201) >= 1 and set(statuses) <= {201, 409}, statuses
    assert replayed.count(False) == 1 + statuses.count(409), (statuses, replayed)


def test_the_same_api_transition_at_once_is_one_200_and_409s(agent, order):
    case = flows.opened(agent, order)
    statuses = []

    def confirm():
        response = _api_client(agent).post(
            f"/api/cases/{case.number}/transitions/confirm/", "{}", content_type="application/json"
        )
        statuses.append(response.status_code)

    _api_client(agent)
    outcomes = race(confirm)
    assert outcomes == ["ok"] * THREADS, outcomes
    assert sorted(statuses) == [200] + [409] * (THREADS - 1), statuses
    assert CaseEvent.objects.filter(case=case, transition="confirm").count() == 1


def _api_race(user, path, payload):
    """POST ``payload`` to ``path`` from THREADS API clients at once; the statuses."""
    import json

    statuses = []

    def send():
        response = _api_client(user).post(
            path, json.dumps(payload), content_type="application/json"
        )
        body = response.json()
        statuses.append(
            (response.status_code, body.get("code") if response.status_code >= 400 else None)
        )

    _api_client(user)  # the token exists before the race
    outcomes = race(send)
    assert outcomes == ["ok"] * THREADS, outcomes  # no exception escaped a view
    assert all(status < 500 for status, _code in statuses), statuses
    return statuses


def test_issuing_the_voucher_through_the_api_at_once_issues_one(agent, order):
    case, offer = flows.executing(agent, order)
    statuses = _api_race(agent, f"/api/cases/{case.number}/transitions/issue_voucher/", {})
    # Issuing is idempotent: a request that passed the check before the first
    # voucher committed gets that same voucher (200); later ones are told the
    # step is no longer open (409). Either way there is one voucher.
    assert set(statuses) <= {(200, None), (409, "invalid_state")}, statuses
    assert (200, None) in statuses, statuses
    assert Voucher.objects.filter(offer=offer).count() == 1
    assert CaseEvent.objects.filter(case=case, kind="voucher_issued").count() == 1


def test_redeeming_through_the_api_at_once_redeems_once(agent, order):
    from decimal import Decimal

    from .factories import OrderFactory

    case, _offer = flows.executing(agent, order, min_spend="0")
    voucher = workflow.voucher_issue(case=case, actor=agent)
    later = OrderFactory(customer=order.customer, paid_total=Decimal("99"))
    statuses = _api_race(
        agent, f"/api/vouchers/{voucher.code}/redeem/", {"order_number": later.number}
    )
    assert sorted(statuses) == [(200, None)] + [(409, "redeemed")] * (THREADS - 1), statuses
    assert CaseEvent.objects.filter(kind="voucher_redeemed").count() == 1
    voucher.refresh_from_db()
    assert voucher.redemption_order == later


def test_approving_and_rejecting_through_the_api_at_once_decides_once(
    agent, supervisor, supervisor2, order
):
    import json

    offer = workflow.offer_propose(
        case=flows.analyzing(agent, order), actor=agent, kind="voucher", amount="60"
    )
    statuses = [None] * THREADS

    def decide(index):
        if index % 2 == 0:
            path, user, body = f"/api/offers/{offer.pk}/approve/", supervisor, {"note": "可以"}
        else:
            path, user, body = f"/api/offers/{offer.pk}/reject/", supervisor2, {"note": "不行"}
        response = _api_client(user).post(path, json.dumps(body), content_type="application/json")
        statuses[index] = (response.status_code, response.json().get("code"))

    _api_client(supervisor), _api_client(supervisor2)
    outcomes = race_each([lambda index=index: decide(index) for index in range(THREADS)])
    assert outcomes == ["ok"] * THREADS, outcomes
    assert sorted(statuses) == [(200, None)] + [(409, "offer_not_pending")] * (THREADS - 1)
    decisions = CaseEvent.objects.filter(kind__in=["offer_approved", "offer_rejected"])
    assert decisions.count() == 1
    winner = statuses.index((200, None))
    assert decisions.get().kind == ("offer_approved" if winner % 2 == 0 else "offer_rejected")


def test_the_same_step_posted_from_the_page_at_once_succeeds_once(agent, order):
    """Twenty browser tabs submit the confirm step: one moves the case, the
    others are told it changed meanwhile (409), and nothing is written twice."""
    from django.test import Client

    case = flows.opened(agent, order)
    answers = []

    def submit():
        client = Client()
        client.force_login(agent)
        response = client.post(
            f"/cases/{case.number}/step/confirm/",
            {"expected_state": "confirming", "demand": "退一半的钱", "description": "颜色不对"},
        )
        answers.append((response.status_code, response.content.decode()))

    outcomes = race(submit)
    assert outcomes == ["ok"] * THREADS, outcomes
    statuses = sorted(status for status, _html in answers)
    assert statuses == [302] + [409] * (THREADS - 1), statuses
    assert all("changed meanwhile" in html for status, html in answers if status == 409)
    assert Case.objects.get(pk=case.pk).state == CaseState.ANALYZING
    assert CaseEvent.objects.filter(case=case, transition="confirm").count() == 1


# Different steps on one case at once: whichever order the database lets them
# through in, the audit trail must tell what happened to the case.


def _transitions(case):
    return list(
        CaseEvent.objects.filter(case=case)
        .exclude(transition="")
        .order_by("pk")
        .values_list("transition", "to_state")
    )


def test_cancel_and_confirm_at_once_leave_a_trail_that_matches_the_state(agent, supervisor, order):
    case = flows.opened(agent, order)
    stale = Case.objects.get(pk=case.pk)
    outcomes = race_each(
        halves(
            lambda: workflow.case_confirm(case=stale, actor=agent),
            lambda: workflow.case_cancel(case=stale, actor=supervisor, reason="客户撤诉"),
        )
    )
    assert all(o == "ok" or o.startswith("conflict") for o in outcomes), outcomes
    wins = [("confirm", "cancel")[index % 2] for index, o in enumerate(outcomes) if o == "ok"]
    assert len(wins) == 1, outcomes  # both acted on the case as first loaded
    trail = _transitions(case)
    assert [name for name, _state in trail] == wins
    assert Case.objects.get(pk=case.pk).state == trail[-1][1]


def test_notes_added_while_the_case_moves_are_all_kept(agent, order):
    case = flows.opened(agent, order)
    outcomes = race_each(
        halves(
            lambda: workflow.case_confirm(case=case, actor=agent),
            lambda: workflow.case_add_note(case=case, actor=agent, text="客户来电催促"),
        )
    )
    notes, steps = outcomes[1::2], outcomes[0::2]
    assert notes == ["ok"] * (THREADS // 2), outcomes  # a note never conflicts
    assert steps.count("ok") == 1 and all(o.startswith("conflict") for o in steps if o != "ok")
    assert CaseEvent.objects.filter(case=case, kind="note").count() == THREADS // 2
    assert Case.objects.get(pk=case.pk).state == CaseState.ANALYZING


def test_voiding_and_redeeming_a_voucher_at_once_does_one_of_them(agent, supervisor, order):
    from decimal import Decimal

    from .factories import OrderFactory

    case, _offer = flows.executing(agent, order, min_spend="0")
    voucher = workflow.voucher_issue(case=case, actor=agent)
    later = OrderFactory(customer=order.customer, paid_total=Decimal("99"))
    outcomes = race_each(
        halves(
            lambda: workflow.voucher_void(voucher=voucher, actor=supervisor, reason="重复发放"),
            lambda: workflow.voucher_redeem(voucher=voucher, actor=agent, order=later),
        )
    )
    assert outcomes.count("ok") == 1, outcomes
    assert all(o.startswith("conflict") for o in outcomes if o != "ok"), outcomes
    voided = outcomes.index("ok") % 2 == 0
    voucher.refresh_from_db()
    assert voucher.status == ("void" if voided else "redeemed")
    assert (voucher.redemption_order_id is None) == voided
    kinds = CaseEvent.objects.filter(kind__in=["voucher_voided", "voucher_redeemed"])
    assert list(kinds.values_list("kind", flat=True)) == [
        "voucher_voided" if voided else "voucher_redeemed"
    ]


def test_an_offer_changed_while_the_customer_accepts_it_is_never_accepted_unapproved(agent, order):
    """Raising an offer beyond policy puts it back to approval; accepting it
    at the same moment must take either the old, approved offer or nothing."""
    from decimal import Decimal

    from complaints.models import Offer

    case, offer = flows.proposing(agent, order)  # 20, within policy
    stale = Case.objects.get(pk=case.pk)
    outcomes = race_each(
        halves(
            lambda: workflow.offer_change(offer=offer, actor=agent, amount=Decimal("60")),
            lambda: workflow.case_accept_offer(case=stale, offer=offer, actor=agent),
        )
    )
    assert all(o == "ok" or o.startswith("conflict") for o in outcomes), outcomes
    accepted = [o for o in outcomes[1::2] if o == "ok"]
    offer = Offer.objects.get(pk=offer.pk)
    accepts = CaseEvent.objects.filter(case=case, transition="accept")
    if accepted:
        assert len(accepted) == 1 and accepts.count() == 1
        assert offer.outcome == "accepted" and offer.approval_status != "pending"
        assert Decimal(accepts.get().payload["amount"]) == offer.amount == Decimal("20")
        assert Case.objects.get(pk=case.pk).state == CaseState.EXECUTING
    else:
        assert not accepts.exists() and offer.outcome == "open"
        assert offer.amount == Decimal("60") and offer.approval_status == "pending"


BROWSERS = 10


def test_one_two_step_code_entered_at_once_logs_in_once(agent):
    """A backup code (and an app's code) sent from ten browsers at once, as a
    thief racing its owner would: one log-in takes it, the others are
    refused, and the backup code is used up once."""
    from django.test import Client
    from django_otp.oath import TOTP

    from complaints import two_factor
    from complaints.models import AuthenticatorKey

    key = AuthenticatorKey.objects.create(user=agent, confirmed=False)
    backup = two_factor.turn_on(agent, key)
    app_code = f"{TOTP(key.bin_key, key.step, key.t0, key.digits, key.drift).token():06d}"
    for code, left in ((backup[0], 9), (app_code, 9)):
        clients = [Client() for _ in range(BROWSERS)]
        for client in clients:
            client.force_login(agent)  # the password given: the code is owed
        statuses = []

        def enter(client, code=code, statuses=statuses):
            statuses.append(client.post("/accounts/verify/", {"code": code}).status_code)

        outcomes = race_each([lambda client=client: enter(client) for client in clients])
        assert outcomes == ["ok"] * BROWSERS, outcomes
        assert sorted(statuses) == [200] * (BROWSERS - 1) + [302], statuses
        assert two_factor.backup_codes_left(agent) == left
        assert sum(c.get("/queue/mine/").status_code == 200 for c in clients) == 1

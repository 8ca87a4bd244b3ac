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
    barrier = threading.Barrier(THREADS)
    outcomes = []

    def worker():
        try:
            barrier.wait()
            target(*args)
            outcomes.append("ok")
        except (ConcurrentTransition, TransitionNotAllowed) as error:
            outcomes.append(f"conflict: {error}")
        except PermissionDenied as error:
            outcomes.append(f"denied: {error}")
        except Exception as error:  # anything else is a defect the test must show
            outcomes.append(f"error: {type(error).__name__}: {error}")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


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

    def decide():
        if threading.get_ident() % 2:
            workflow.offer_approve(offer=offer, actor=supervisor, note="可以")
        else:
            workflow.offer_reject(offer=offer, actor=supervisor2, note="不行")

    outcomes = race(decide)
    assert outcomes.count("ok") == 1, outcomes
    others = [o for o in outcomes if o != "ok"]
    assert all("not waiting for approval" in o for o in others), outcomes
    decisions = CaseEvent.objects.filter(kind__in=["offer_approved", "offer_rejected"])
    assert decisions.count() == 1


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
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
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
    statuses = []

    def decide():
        if threading.get_ident() % 2:
            path, user, body = f"/api/offers/{offer.pk}/approve/", supervisor, {"note": "可以"}
        else:
            path, user, body = f"/api/offers/{offer.pk}/reject/", supervisor2, {"note": "不行"}
        response = _api_client(user).post(path, json.dumps(body), content_type="application/json")
        statuses.append((response.status_code, response.json().get("code")))

    _api_client(supervisor), _api_client(supervisor2)
    outcomes = race(decide)
    assert outcomes == ["ok"] * THREADS, outcomes
    assert sorted(statuses) == [(200, None)] + [(409, "offer_not_pending")] * (THREADS - 1)
    decisions = CaseEvent.objects.filter(kind__in=["offer_approved", "offer_rejected"])
    assert decisions.count() == 1


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

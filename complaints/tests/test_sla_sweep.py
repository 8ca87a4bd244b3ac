"""The SLA sweep and the background work: warnings and breaches fire once,
escalation raises the priority and tells the right people, e-mail goes out
through tasks after commit, and the database worker really runs them."""

from datetime import datetime, timedelta
from io import StringIO
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from complaints import workflow
from complaints.models import (
    CaseEvent,
    Notification,
    NotificationSettings,
    SlaAlert,
    SlaPolicy,
)
from complaints.workflow.sla import sla_sweep

from . import flows
from .conftest import DATABASE_TASKS
from .factories import OrderFactory, UserFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
OPENED = datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def hourly(db):
    """Around the clock: first response in 1 h, resolution in 10 h, warn at 80 %."""
    SlaPolicy.objects.filter(active=True).update(active=False)
    return SlaPolicy.objects.create(
        name="Hourly",
        first_response_time=timedelta(hours=1),
        resolution_time=timedelta(hours=10),
    )


def open_case(agent, **kwargs):
    with time_machine.travel(OPENED, tick=False):
        return flows.opened(agent, OrderFactory(), **kwargs)


def sweep_at(minutes: float):
    return sla_sweep(now=OPENED + timedelta(minutes=minutes))


@pytest.mark.django_db
class TestSweep:
    def test_nothing_before_the_warning_time(self, agent, hourly):
        open_case(agent)
        result = sweep_at(47)
        assert (result.warnings, result.breaches) == (0, 0)
        assert not Notification.objects.exists()

    def test_a_warning_at_80_percent_once(self, agent, supervisor, hourly):
        case = open_case(agent)
        assert sweep_at(48).warnings == 1
        for minutes in (49, 50, 59):
            assert sweep_at(minutes).warnings == 0
        notes = Notification.objects.filter(kind="deadline")
        assert [n.recipient for n in notes] == [agent]
        assert case.number in notes.get().message and "First response" in notes.get().message
        assert CaseEvent.objects.filter(case=case, kind="sla_warning").count() == 1
        case.refresh_from_db()
        assert case.priority == 2  # a warning does not escalate

    def test_an_unassigned_case_warns_the_supervisors(self, agent, supervisor, hourly):
        case = open_case(agent)
        workflow.case_assign(case=case, assignee=None, actor=supervisor)
        sweep_at(50)
        assert {n.recipient for n in Notification.objects.filter(kind="deadline")} == {supervisor}

    def test_a_breach_escalates_once(self, agent, agent2, supervisor, supervisor2, hourly):
        case = open_case(agent)
        sweep_at(50)
        result = sweep_at(61)
        assert result.breaches == 1
        for minutes in (62, 90, 119):
            assert sweep_at(minutes).breaches == 0
        case.refresh_from_db()
        assert case.priority == 3  # normal → high
        escalated = CaseEvent.objects.get(case=case, kind="escalated")
        assert escalated.actor is None
        assert escalated.payload["clock"] == "first_response"
        assert escalated.payload["priority"] == {"from": 2, "to": 3}
        told = {n.recipient for n in Notification.objects.filter(kind="escalation")}
        assert told == {agent, supervisor, supervisor2}
        assert agent2 not in told
        assert Notification.objects.filter(kind="escalation", recipient=agent).count() == 1

    def test_escalation_keeps_the_due_time(self, agent, hourly):
        case = open_case(agent)
        due = case.first_response_due
        sweep_at(61)
        case.refresh_from_db()
        assert case.first_response_due == due and case.due_at == due

    def test_a_breach_past_the_warning_skips_the_warning(self, agent, hourly):
        case = open_case(agent)
        result = sweep_at(70)
        assert (result.warnings, result.breaches) == (0, 1)
        assert not CaseEvent.objects.filter(case=case, kind="sla_warning").exists()

    def test_each_clock_escalates_on_its_own(self, agent, hourly):
        case = open_case(agent)
        sweep_at(61)  # first response
        sweep_at(601)  # resolution
        case.refresh_from_db()
        assert case.priority == 4
        clocks = CaseEvent.objects.filter(case=case, kind="escalated").values_list(
            "payload__clock", flat=True
        )
        assert sorted(clocks) == ["first_response", "resolution"]
        sweep_at(700)
        assert CaseEvent.objects.filter(case=case, kind="escalated").count() == 2

    def test_an_urgent_case_stays_urgent_but_is_still_escalated(self, agent, hourly):
        case = open_case(agent, priority=4)
        sweep_at(61)
        case.refresh_from_db()
        assert case.priority == 4
        event = CaseEvent.objects.get(case=case, kind="escalated")
        assert event.payload["priority"] == {"from": 4, "to": 4}

    def test_a_met_first_response_never_breaches(self, agent, hourly):
        case = open_case(agent)
        with time_machine.travel(OPENED + timedelta(minutes=30), tick=False):
            workflow.case_record_contact(case=case, actor=agent, channel="chat", outcome="reached")
        assert sweep_at(61).breaches == 0
        assert not SlaAlert.objects.exists()

    def test_a_waiting_case_does_not_breach_its_resolution(self, agent, hourly):
        case = open_case(agent)
        with time_machine.travel(OPENED + timedelta(minutes=30), tick=False):
            workflow.case_record_contact(
                case=case, actor=agent, channel="chat", outcome="waiting_on_customer"
            )
        assert sweep_at(24 * 60).breaches == 0

    def test_closed_cases_are_left_alone(self, agent, hourly):
        with time_machine.travel(OPENED, tick=False):
            flows.closed(agent, OrderFactory())
        assert sweep_at(24 * 60).breaches == 0

    def test_a_moved_deadline_can_be_breached_again(self, agent, supervisor, hourly):
        case = open_case(agent)
        sweep_at(61)
        # The supervisor lowers the priority again: the clocks are recomputed.
        with time_machine.travel(OPENED + timedelta(minutes=65), tick=False):
            case = workflow.case_update_details(case=case, actor=supervisor, priority=1)
        SlaPolicy.objects.filter(name="Hourly").update(first_response_time=timedelta(hours=2))
        with time_machine.travel(OPENED + timedelta(minutes=66), tick=False):
            case = workflow.case_update_details(case=case, actor=supervisor, priority=2)
        assert sweep_at(121).breaches == 1
        assert CaseEvent.objects.filter(case=case, kind="escalated").count() == 2

    def test_the_marketplace_clock_escalates_too(self, agent, hourly):
        with time_machine.travel(OPENED, tick=False):
            case = workflow.case_open(
                actor=agent,
                customer=OrderFactory().customer,
                source="dispute",
                summary="平台纠纷",
                marketplace_due=OPENED + timedelta(minutes=30),
            )
            workflow.case_record_contact(case=case, actor=agent, channel="chat", outcome="reached")
        result = sweep_at(31)
        assert result.breaches == 1
        assert CaseEvent.objects.get(case=case, kind="escalated").payload["clock"] == "marketplace"

    def test_the_command_reports_what_it_did(self, agent, hourly):
        open_case(agent)
        out = StringIO()
        with time_machine.travel(OPENED + timedelta(minutes=61), tick=False):
            call_command("sla_sweep", stdout=out)
            call_command("sla_sweep", stdout=out)
        assert out.getvalue().splitlines() == [
            "0 warnings, 1 breaches escalated.",
            "0 warnings, 0 breaches escalated.",
        ]

    def test_the_sweep_runs_a_fixed_number_of_queries_per_case(
        self, agent, hourly, django_assert_max_num_queries
    ):
        for _ in range(3):
            open_case(agent)
        with django_assert_max_num_queries(1):
            assert sweep_at(30).breaches == 0  # nothing due: one query


@pytest.mark.django_db
class TestEmail:
    def test_notifications_are_e_mailed_after_commit(
        self, agent, hourly, mailoutbox, django_capture_on_commit_callbacks
    ):
        open_case(agent)
        with django_capture_on_commit_callbacks(execute=True):
            sweep_at(61)
        assert [m.to for m in mailoutbox] == [[agent.email]]
        assert "overdue" in mailoutbox[0].subject
        assert Notification.objects.get(recipient=agent).emailed_at is not None

    def test_a_user_may_turn_e_mail_off(
        self, agent, hourly, mailoutbox, django_capture_on_commit_callbacks
    ):
        NotificationSettings.objects.create(user=agent, email=False)
        open_case(agent)
        with django_capture_on_commit_callbacks(execute=True):
            sweep_at(61)
        assert mailoutbox == []
        assert Notification.objects.filter(recipient=agent).count() == 1  # still in the app

    def test_a_rolled_back_operation_enqueues_nothing(
        self, agent, agent2, supervisor, settings, django_capture_on_commit_callbacks
    ):
        settings.TASKS = DATABASE_TASKS
        case = flows.opened(agent, OrderFactory())
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            workflow.case_assign(case=case, assignee=agent2, actor=supervisor)
            raise RuntimeError("something later failed")
        assert callbacks == []
        assert not Notification.objects.filter(recipient=agent2).exists()
        assert not DBTaskResult.objects.exists()
        with django_capture_on_commit_callbacks(execute=True):
            workflow.case_assign(case=case, assignee=agent2, actor=supervisor)
        task = DBTaskResult.objects.get()
        assert task.task_path == "complaints.tasks.send_notification_email"
        assert task.args_kwargs["args"] == [Notification.objects.get(recipient=agent2).pk]

    def test_a_failed_delivery_is_retried_later(
        self, agent, agent2, supervisor, settings, mailoutbox, django_capture_on_commit_callbacks
    ):
        settings.TASKS = DATABASE_TASKS
        case = flows.opened(agent, OrderFactory())
        with django_capture_on_commit_callbacks(execute=True):
            workflow.case_assign(case=case, assignee=agent2, actor=supervisor)
        notification = Notification.objects.get(recipient=agent2)
        from complaints.tasks import send_notification_email

        with mock.patch("complaints.tasks.send_mail", side_effect=OSError("mail server down")):
            assert send_notification_email.call(notification.pk) == "retrying"
        retry = DBTaskResult.objects.filter(args_kwargs__args=[notification.pk, 2]).get()
        assert retry.run_after is not None and retry.run_after > notification.created_at
        assert send_notification_email.call(notification.pk, 2) == "sent"
        assert send_notification_email.call(notification.pk, 3) == "skipped"  # sent once
        assert len(mailoutbox) == 1


@pytest.mark.django_db(transaction=True)
def test_the_database_worker_runs_the_tasks(reference_data, settings, mailoutbox):
    settings.TASKS = DATABASE_TASKS
    agent = UserFactory(username="worker_agent", role="agent")
    UserFactory(username="worker_supervisor", role="supervisor")
    SlaPolicy.objects.filter(active=True).update(active=False)
    SlaPolicy.objects.create(
        name="Quick", first_response_time=timedelta(minutes=5), resolution_time=timedelta(hours=1)
    )
    case = flows.opened(agent, OrderFactory())
    out = StringIO()
    with time_machine.travel(case.created_at + timedelta(minutes=6), tick=False):
        call_command("sla_sweep", "--enqueue", stdout=out)
        assert "enqueued" in out.getvalue()
        assert DBTaskResult.objects.get().task_path == "complaints.tasks.sla_sweep"
        call_command(
            "db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0, stdout=out
        )
    sweep = DBTaskResult.objects.get(task_path="complaints.tasks.sla_sweep")
    assert sweep.status == "SUCCESSFUL"
    assert sweep.return_value == {"warnings": 0, "breaches": 1, "failed": 0}
    case.refresh_from_db()
    assert case.priority == 3
    # The sweep's notifications were e-mailed by the same worker run.
    emails = DBTaskResult.objects.filter(task_path="complaints.tasks.send_notification_email")
    assert emails.count() == 2 and set(emails.values_list("status", flat=True)) == {"SUCCESSFUL"}
    assert sorted(m.to[0] for m in mailoutbox) == [
        "worker_agent@shop.example",
        "worker_supervisor@shop.example",
    ]

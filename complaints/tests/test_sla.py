"""Deadline arithmetic and the clocks of a case: working hours across nights,
weekends and holidays, policy choice, pauses, priority changes and the
marketplace's own deadline."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from complaints import sla, workflow
from complaints.models import (
    BusinessHours,
    CaseEvent,
    MarketplaceSettings,
    SlaCalendar,
    SlaPolicy,
    SpecialDay,
)

from . import flows
from .factories import OrderFactory, ReviewFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


# 2026-11-27 is a Friday; 2026-11-28/29 the weekend.
OFFICE = sla.WorkingTime(
    tz=SHANGHAI,
    weekly={day: [(time(9), time(12)), (time(13), time(18))] for day in range(5)},
)


class TestWorkingTime:
    def test_inside_one_span(self):
        assert OFFICE.add(at(2026, 11, 27, 9, 30), timedelta(hours=2)) == at(2026, 11, 27, 11, 30)

    def test_lunch_break_does_not_count(self):
        assert OFFICE.add(at(2026, 11, 26, 11, 0), timedelta(hours=2)) == at(2026, 11, 26, 14, 0)

    def test_over_the_night(self):
        assert OFFICE.add(at(2026, 11, 24, 17, 0), timedelta(hours=2)) == at(2026, 11, 25, 10, 0)

    def test_over_the_weekend(self):
        assert OFFICE.add(at(2026, 11, 27, 17, 0), timedelta(hours=4)) == at(2026, 11, 30, 12, 0)

    def test_a_start_outside_hours_counts_from_the_next_opening(self):
        saturday_night = at(2026, 11, 28, 23, 0)
        assert OFFICE.add(saturday_night, timedelta(minutes=30)) == at(2026, 11, 30, 9, 30)

    def test_a_span_used_up_exactly_is_due_at_its_end(self):
        assert OFFICE.add(at(2026, 11, 27, 13, 0), timedelta(hours=5)) == at(2026, 11, 27, 18, 0)

    def test_holiday_and_make_up_working_day(self):
        calendar = sla.WorkingTime(
            tz=SHANGHAI,
            weekly=OFFICE.weekly,
            special={
                date(2026, 11, 30): [],  # Monday off
                date(2026, 11, 29): [(time(10), time(16))],  # Sunday worked instead
            },
        )
        friday_evening = at(2026, 11, 27, 17, 0)
        # 1 h on Friday, 6 h on Sunday, Monday closed, 1 h on Tuesday.
        assert calendar.add(friday_evening, timedelta(hours=8)) == at(2026, 12, 1, 10, 0)

    def test_between_counts_only_working_time(self):
        assert OFFICE.between(at(2026, 11, 27, 17, 0), at(2026, 11, 30, 10, 0)) == timedelta(
            hours=2
        )
        assert OFFICE.between(at(2026, 11, 28, 9, 0), at(2026, 11, 28, 18, 0)) == timedelta(0)
        assert OFFICE.between(at(2026, 11, 30, 10, 0), at(2026, 11, 27, 17, 0)) == timedelta(0)

    def test_add_and_between_agree(self):
        start = at(2026, 11, 26, 16, 20)
        for minutes in (1, 45, 100, 600, 3000):
            end = OFFICE.add(start, timedelta(minutes=minutes))
            assert OFFICE.between(start, end) == timedelta(minutes=minutes)

    def test_closing_at_midnight(self):
        late = sla.WorkingTime(tz=SHANGHAI, weekly={d: [(time(20), time(0))] for d in range(7)})
        assert late.add(at(2026, 11, 27, 23, 0), timedelta(hours=2)) == at(2026, 11, 28, 21, 0)

    def test_a_calendar_without_hours_is_refused(self):
        with pytest.raises(sla.NoWorkingTime):
            sla.WorkingTime(tz=SHANGHAI, weekly={}).add(at(2026, 11, 27, 9), timedelta(hours=1))

    def test_around_the_clock(self):
        start = at(2026, 11, 28, 23, 0)
        assert sla.AROUND_THE_CLOCK.add(start, timedelta(hours=2)) == at(2026, 11, 29, 1, 0)


@pytest.fixture
def office(db):
    """Mon–Fri 09:00–18:00 with Monday 30 November off."""
    calendar = SlaCalendar.objects.create(name="Office", time_zone="Asia/Shanghai")
    for day in range(5):
        BusinessHours.objects.create(calendar=calendar, weekday=day, opens=time(9), closes=time(18))
    SpecialDay.objects.create(calendar=calendar, date=date(2026, 11, 30), name="Day off")
    return calendar


@pytest.fixture
def email_policy(office):
    SlaPolicy.objects.filter(active=True).update(active=False)
    return SlaPolicy.objects.create(
        name="E-mail",
        source="email",
        first_response_time=timedelta(hours=2),
        resolution_time=timedelta(hours=16),
        calendar=office,
    )


def opened_by_email(agent, **kwargs):
    return flows.opened(agent, OrderFactory(), source="email", **kwargs)


@pytest.mark.django_db
class TestCaseClocks:
    def test_the_calendar_from_the_database(self, office):
        clock = sla.working_time(office)
        friday = at(2026, 11, 27, 17, 0)
        assert clock.add(friday, timedelta(hours=2)) == at(2026, 12, 1, 10, 0)  # Monday off

    @time_machine.travel(at(2026, 11, 27, 16, 0), tick=False)
    def test_a_case_gets_its_due_times_in_working_hours(self, agent, email_policy):
        case = opened_by_email(agent)
        assert case.sla_policy == email_policy
        assert case.first_response_due == at(2026, 11, 27, 18, 0)
        # 2 h on Friday, Monday off, 9 h Tuesday, 5 h Wednesday.
        assert case.resolution_due == at(2026, 12, 2, 14, 0)
        assert case.due_at == case.first_response_due
        # 80 % of 2 h: 96 minutes in.
        assert case.first_response_warn_at == at(2026, 11, 27, 17, 36)

    def test_the_most_specific_active_policy_wins(self, office):
        SlaPolicy.objects.filter(active=True).update(active=False)
        common = {"first_response_time": timedelta(hours=1), "resolution_time": timedelta(hours=9)}
        anything = SlaPolicy.objects.create(name="Any", **common)
        urgent = SlaPolicy.objects.create(name="Any urgent", priority=4, **common)
        chat = SlaPolicy.objects.create(name="Any chat", source="chat", **common)
        urgent_chat = SlaPolicy.objects.create(
            name="Urgent chats", source="chat", priority=4, **common
        )
        assert sla.policy_for("chat", 4) == urgent_chat
        assert sla.policy_for("chat", 2) == chat
        assert sla.policy_for("phone", 4) == urgent
        assert sla.policy_for("phone", 1) == anything
        urgent_chat.active = False
        urgent_chat.save()
        assert sla.policy_for("chat", 4) == chat

    def test_no_policy_falls_back_to_the_hours_by_priority(self, agent, settings):
        SlaPolicy.objects.update(active=False)
        settings.CASETRACKER = {"FIRST_RESPONSE_HOURS": {1: 24, 2: 8, 3: 2, 4: 1}}
        case = flows.opened(agent, OrderFactory(), priority=3)
        assert case.sla_policy is None
        assert case.first_response_due - case.created_at == timedelta(hours=2)

    def test_two_active_policies_for_one_scope_are_refused(self, db):
        policy = SlaPolicy(
            name="Second normal",
            priority=2,
            first_response_time=timedelta(hours=1),
            resolution_time=timedelta(hours=2),
        )
        with pytest.raises(ValidationError) as refused:
            policy.full_clean()
        assert "already covers" in str(refused.value)

    def test_policy_times_are_checked(self, db):
        policy = SlaPolicy(
            name="Odd",
            source="phone",
            first_response_time=timedelta(hours=5),
            resolution_time=timedelta(hours=1),
        )
        with pytest.raises(ValidationError) as refused:
            policy.full_clean()
        assert "resolution_time" in refused.value.error_dict

    @time_machine.travel(at(2026, 11, 27, 10, 0), tick=False)
    def test_a_priority_change_recomputes_the_clocks(self, agent, office):
        SlaPolicy.objects.filter(active=True).update(active=False)
        SlaPolicy.objects.create(
            name="Test normal",
            priority=2,
            first_response_time=timedelta(hours=4),
            resolution_time=timedelta(hours=18),
            calendar=office,
        )
        urgent = SlaPolicy.objects.create(
            name="Test urgent",
            priority=4,
            first_response_time=timedelta(hours=1),
            resolution_time=timedelta(hours=6),
            calendar=office,
        )
        case = opened_by_email(agent)
        assert case.first_response_due == at(2026, 11, 27, 14, 0)
        case = workflow.case_update_details(case=case, actor=agent, priority=4)
        case.refresh_from_db()
        assert case.sla_policy == urgent
        assert case.first_response_due == at(2026, 11, 27, 11, 0)
        assert case.resolution_due == at(2026, 11, 27, 16, 0)
        assert case.due_at == at(2026, 11, 27, 11, 0)
        event = CaseEvent.objects.filter(case=case, kind="details").get()
        assert datetime.fromisoformat(event.payload["resolution_due"]) == at(2026, 11, 27, 16, 0)

    def test_the_first_contact_stops_the_first_response_clock(self, agent, email_policy):
        case = opened_by_email(agent)
        workflow.case_record_contact(case=case, actor=agent, channel="phone", outcome="reached")
        case.refresh_from_db()
        assert case.first_response_at is not None
        assert case.due_at == case.resolution_due


@pytest.mark.django_db
class TestPause:
    def test_waiting_on_the_customer_pauses_and_the_next_contact_resumes(self, agent, email_policy):
        with time_machine.travel(at(2026, 11, 26, 9, 0), tick=False):  # Thursday
            case = opened_by_email(agent)
        assert case.resolution_due == at(2026, 11, 27, 16, 0)  # 9 h Thu + 7 h Fri
        with time_machine.travel(at(2026, 11, 26, 10, 0), tick=False):
            workflow.case_record_contact(
                case=case, actor=agent, channel="phone", outcome="waiting_on_customer"
            )
        case.refresh_from_db()
        assert case.is_waiting and case.waiting_since == at(2026, 11, 26, 10, 0)
        assert case.due_at is None  # nothing runs while the customer is away
        paused = CaseEvent.objects.filter(case=case, kind="contact").get()
        assert paused.payload["clock"] == "paused"

        # The customer writes back on Friday at 15:00: 14 working hours later.
        with time_machine.travel(at(2026, 11, 27, 15, 0), tick=False):
            workflow.case_record_contact(
                case=case, actor=agent, channel="chat", outcome="reached", inbound=True
            )
        case.refresh_from_db()
        assert not case.is_waiting
        assert case.paused_seconds == 14 * 3600
        # 1 h used before the pause, 15 h left from Friday 15:00: 3 h Fri, (Mon off),
        # 9 h Tue, 3 h Wed.
        assert case.resolution_due == at(2026, 12, 2, 12, 0)
        assert case.due_at == case.resolution_due
        resumed = CaseEvent.objects.filter(case=case, kind="contact").latest("pk")
        assert resumed.payload["clock"] == "resumed"
        assert resumed.payload["waited_seconds"] == 14 * 3600
        assert CaseEvent.objects.filter(case=case).count() == 3  # opened + one per contact

    def test_an_unanswered_call_does_not_resume(self, agent, email_policy):
        case = opened_by_email(agent)
        workflow.case_record_contact(
            case=case, actor=agent, channel="phone", outcome="waiting_on_customer"
        )
        workflow.case_record_contact(case=case, actor=agent, channel="phone", outcome="no_answer")
        case.refresh_from_db()
        assert case.is_waiting
        assert (
            "clock" not in CaseEvent.objects.filter(case=case, kind="contact").latest("pk").payload
        )

    def test_a_second_wait_does_not_restart_the_pause(self, agent, email_policy):
        case = opened_by_email(agent)
        workflow.case_record_contact(
            case=case, actor=agent, channel="phone", outcome="waiting_on_customer"
        )
        case.refresh_from_db()
        since = case.waiting_since
        workflow.case_record_contact(
            case=case, actor=agent, channel="sms", outcome="waiting_on_customer"
        )
        case.refresh_from_db()
        assert case.waiting_since == since
        clocks = (
            CaseEvent.objects.filter(case=case, kind="contact")
            .order_by("pk")
            .values_list("payload__clock", flat=True)
        )
        assert list(clocks) == ["paused", None]

    def test_a_reopened_case_gets_a_fresh_resolution_clock(self, agent, db):
        SlaPolicy.objects.filter(active=True).update(active=False)
        SlaPolicy.objects.create(
            name="Chat around the clock",
            source="chat",
            first_response_time=timedelta(hours=1),
            resolution_time=timedelta(hours=10),
        )
        with time_machine.travel(at(2026, 11, 24, 9, 0), tick=False):
            case = flows.closed(agent, OrderFactory())
        with time_machine.travel(at(2026, 11, 26, 9, 0), tick=False):
            case = workflow.case_reopen(case=case, actor=agent, reason="still broken")
        case.refresh_from_db()
        assert case.clock_started_at == at(2026, 11, 26, 9, 0)
        assert case.resolution_due == at(2026, 11, 26, 19, 0)
        assert case.due_at == case.resolution_due

    def test_closing_stops_every_clock(self, agent):
        case = flows.closed(agent, OrderFactory())
        assert case.due_at is None


@pytest.mark.django_db
class TestMarketplaceClock:
    def test_a_review_case_runs_the_reply_window(self, agent):
        MarketplaceSettings.objects.update_or_create(
            marketplace="taobao", defaults={"reply_window_days": 10}
        )
        review = ReviewFactory(rating=1, marketplace="taobao")
        case = workflow.case_open_from_review(review=review, actor=agent)
        assert case.marketplace_due == review.posted_at + timedelta(days=10)
        assert case.marketplace_warn_at == review.posted_at + timedelta(days=8)

    def test_the_earlier_deadline_drives_due(self, agent):
        with time_machine.travel(at(2026, 11, 27, 10, 0), tick=False):
            review = ReviewFactory(
                rating=2, marketplace="jd", posted_at=at(2026, 11, 27, 10, 0) - timedelta(days=29)
            )
            case = workflow.case_open_from_review(review=review, actor=agent)
            assert case.marketplace_due == at(2026, 11, 28, 10, 0)
            assert case.resolution_due > case.marketplace_due
            workflow.case_record_contact(case=case, actor=agent, channel="chat", outcome="reached")
        case.refresh_from_db()
        assert case.due_at == case.marketplace_due  # earlier than the resolution

    def test_publishing_the_reply_meets_the_window_and_the_first_response(self, agent):
        review = ReviewFactory(rating=1)
        case = workflow.case_open_from_review(review=review, actor=agent)
        workflow.review_reply_save(review=review, actor=agent, text="很抱歉", publish=True)
        case.refresh_from_db()
        assert case.marketplace_met_at is not None
        assert case.first_response_at == case.marketplace_met_at
        assert case.due_at == case.resolution_due

    def test_a_draft_reply_meets_nothing(self, agent):
        review = ReviewFactory(rating=1)
        case = workflow.case_open_from_review(review=review, actor=agent)
        workflow.review_reply_save(review=review, actor=agent, text="草稿")
        case.refresh_from_db()
        assert case.marketplace_met_at is None and case.first_response_at is None

    def test_a_dispute_carries_the_platform_deadline(self, agent):
        with time_machine.travel(at(2026, 11, 27, 10, 0), tick=False):
            deadline = at(2026, 11, 27, 12, 0)
            case = workflow.case_open(
                actor=agent,
                customer=OrderFactory().customer,
                source="dispute",
                summary="平台纠纷",
                marketplace_due=deadline,
            )
        assert case.marketplace_due == deadline
        assert case.marketplace_warn_at == at(2026, 11, 27, 11, 36)
        assert case.due_at == deadline


@pytest.mark.django_db
class TestPlatformDeadlineForms:
    def test_a_dispute_opened_on_the_new_case_page_carries_its_deadline(self, client, agent):
        from django.urls import reverse

        order = OrderFactory()
        client.force_login(agent)
        with time_machine.travel(at(2026, 11, 27, 10, 0), tick=False):
            response = client.post(
                reverse("complaints:new_case"),
                {
                    "order": order.pk,
                    "source": "dispute",
                    "summary": "平台介入",
                    "priority": "2",
                    "marketplace_due": "2026-11-28T10:00",
                },
            )
        assert response.status_code == 302
        case = order.cases.get()
        assert case.marketplace_due == at(2026, 11, 28, 10, 0)

    def test_editing_the_deadline_moves_the_clock(self, client, agent):
        from django.urls import reverse

        with time_machine.travel(at(2026, 11, 27, 10, 0), tick=False):
            case = flows.opened(agent, OrderFactory(), source="dispute")
            workflow.case_record_contact(case=case, actor=agent, channel="chat", outcome="reached")
            client.force_login(agent)
            url = reverse("complaints:step", args=[case.number, "edit_details"])
            response = client.post(
                url,
                {
                    "expected_state": case.state,
                    "summary": case.summary,
                    "demand": case.demand,
                    "description": "",
                    "priority": "2",
                    "marketplace_due": "2026-11-27T12:00",
                },
            )
        assert response.status_code in (200, 302)
        case.refresh_from_db()
        assert case.marketplace_due == at(2026, 11, 27, 12, 0)
        assert case.due_at == case.marketplace_due
        event = CaseEvent.objects.filter(case=case, kind="details").get()
        assert "marketplace_due" in event.payload

    def test_a_review_case_cannot_take_a_second_platform_deadline(self, agent):
        review = ReviewFactory(rating=1)
        with pytest.raises(ValidationError) as refused:
            workflow.case_open(
                actor=agent,
                customer=review.customer,
                source="review",
                summary="差评",
                review=review,
                marketplace_due=review.posted_at + timedelta(days=1),
            )
        assert "marketplace_due" in refused.value.error_dict

    def test_a_malformed_platform_deadline_is_a_form_error(self, client, agent):
        from django.urls import reverse

        from complaints.models import Case

        order = OrderFactory()
        client.force_login(agent)
        response = client.post(
            reverse("complaints:new_case"),
            {
                "order": order.pk,
                "source": "dispute",
                "summary": "平台介入",
                "priority": "2",
                "marketplace_due": "next tuesday",
            },
        )
        assert response.status_code == 400
        assert "marketplace_due" in response.context["form"].errors
        assert not Case.objects.filter(order=order).exists()

        case = flows.opened(agent, order, source="dispute")
        url = reverse("complaints:step", args=[case.number, "edit_details"])
        response = client.post(
            url,
            {
                "expected_state": case.state,
                "summary": "改了",
                "priority": "2",
                "marketplace_due": "2026-13-45T99:00",
            },
        )
        assert response.status_code == 400
        case.refresh_from_db()
        assert case.summary != "改了" and case.marketplace_due is None

    def test_a_review_case_has_no_platform_deadline_to_edit(self, agent):
        review = ReviewFactory(rating=1)
        case = workflow.case_open_from_review(review=review, actor=agent)
        with pytest.raises(ValidationError) as refused:
            workflow.case_update_details(
                case=case, actor=agent, marketplace_due=review.posted_at + timedelta(days=2)
            )
        assert refused.value.error_dict["marketplace_due"][0].code == "review_deadline"
        case.refresh_from_db()
        assert case.marketplace_due == sla.review_reply_deadline(review)

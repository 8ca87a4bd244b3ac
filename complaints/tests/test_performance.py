"""Team performance against hand-counted cases."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from complaints import workflow
from complaints.models import Case
from complaints.queries.performance import TEAM, team_performance

from . import flows
from .factories import OrderFactory

pytestmark = pytest.mark.django_db


def responded_after(agent, minutes, **kwargs):
    case = flows.opened(agent, OrderFactory(), **kwargs)
    Case.objects.filter(pk=case.pk).update(
        first_response_at=case.created_at + timedelta(minutes=minutes)
    )
    return case


def rows(start=None, end=None):
    today = timezone.localdate()
    return {
        row.key: row
        for row in team_performance(start=start or today - timedelta(days=1), end=end or today)
    }


def test_first_response_median_and_90th_percentile(agent, agent2):
    for minutes in (1, 2, 3, 4, 100):  # agent: median 3, p90 100 (nearest rank)
        responded_after(agent, minutes)
    for minutes in (10, 20):  # agent2: median 10, p90 20
        responded_after(agent2, minutes)
    flows.opened(agent2, OrderFactory())  # no response yet: not in the times
    result = rows()
    assert result[agent.pk].first_response_median == timedelta(minutes=3)
    assert result[agent.pk].first_response_p90 == timedelta(minutes=100)
    assert result[agent2.pk].first_response_median == timedelta(minutes=10)
    assert result[agent2.pk].first_response_p90 == timedelta(minutes=20)
    team = result[TEAM]  # 1 2 3 4 10 20 100: median 4th = 4, p90 7th = 100
    assert team.first_response_median == timedelta(minutes=4)
    assert team.first_response_p90 == timedelta(minutes=100)
    assert (team.handled, result[agent2.pk].handled) == (8, 3)


def test_percentiles_keep_the_microsecond_over_long_and_short_times(agent):
    """On PostgreSQL the times are sorted as seconds in floating point: a
    duration comes back to the microsecond, short or months long."""
    took = [
        timedelta(seconds=1, microseconds=1),
        timedelta(days=400, hours=5, microseconds=999_999),
        timedelta(hours=2, seconds=7, microseconds=123_457),
    ]
    for duration in took:
        case = flows.opened(agent, OrderFactory())
        Case.objects.filter(pk=case.pk).update(first_response_at=case.created_at + duration)
    result = rows()
    assert result[agent.pk].first_response_median == took[2]
    assert result[TEAM].first_response_p90 == took[1]


def nearest_rank(values, hundredths):
    """The ceil(share × n)-th smallest value, in whole numbers."""
    ordered = sorted(values)
    return ordered[(len(ordered) * hundredths + 99) // 100 - 1]


def test_percentiles_are_nearest_ranks_on_both_databases(agent, agent2):
    """PostgreSQL's ordered-set aggregate and SQLite's window functions take
    the same rank, per agent and for the team, in groups of odd and even
    sizes with repeated values."""
    mine = [(n * 37) % 70 + 1 for n in range(70)]  # 1..70, shuffled
    theirs = [5, 50, 500, 15, 150, 1500, 15000]
    for minutes in mine:
        responded_after(agent, minutes)
    for minutes in theirs:
        responded_after(agent2, minutes)
    result = rows()
    for key, values in ((agent.pk, mine), (agent2.pk, theirs), (TEAM, mine + theirs)):
        assert result[key].first_response_median == timedelta(minutes=nearest_rank(values, 50))
        assert result[key].first_response_p90 == timedelta(minutes=nearest_rank(values, 90))
    assert result[agent.pk].first_response_p90 == timedelta(minutes=63)  # 70 × 0.9: the 63rd
    # 77 values: 1..70 and seven more, three of them (5, 15, 50) within it;
    # 77 × 0.9 = 69.3, so the 70th smallest: 67.
    assert result[TEAM].first_response_p90 == timedelta(minutes=67)
    assert result[TEAM].first_response_median == timedelta(minutes=37)


def test_resolution_satisfaction_reopen_compensation_and_approval(agent, supervisor):
    closed = [flows.closed(agent, OrderFactory(), amount=Decimal("20")) for _ in range(2)]
    for case, hours in zip(closed, (5, 9), strict=True):
        Case.objects.filter(pk=case.pk).update(closed_at=case.created_at + timedelta(hours=hours))
    unhappy, _ = flows.verifying(agent, OrderFactory(), amount=Decimal("10"))
    flows.followed_up(agent, unhappy)
    workflow.case_record_satisfaction(case=unhappy, actor=agent, satisfied=False, score=2)
    workflow.case_reopen(case=Case.objects.get(pk=closed[0].pk), actor=agent)
    pending = flows.analyzing(agent, OrderFactory())
    approved = workflow.offer_propose(case=pending, actor=agent, kind="voucher", amount="60")
    workflow.offer_approve(offer=approved, actor=supervisor)
    rejected = workflow.offer_propose(case=pending, actor=agent, kind="voucher", amount="70")
    workflow.offer_reject(offer=rejected, actor=supervisor, note="太多")
    me = rows()[agent.pk]
    assert me.handled == 4 and me.closed == 1  # one of the two closed was reopened
    assert me.resolution_median == timedelta(hours=9)  # only the one still closed counts
    assert me.satisfaction_rate == pytest.approx(2 / 3)  # 2 satisfied of 3 verified
    assert me.satisfaction_mean == pytest.approx((5 + 5 + 2) / 3)
    assert me.reopen_rate == pytest.approx(1 / 4)
    assert me.compensation_per_case == Decimal("50") / 4  # 20 + 20 + 10 paid
    assert me.approval_rate == pytest.approx(1 / 2)


def test_an_empty_period_gives_an_empty_team_row(agent):
    long_ago = timezone.localdate() - timedelta(days=400)
    result = rows(start=long_ago, end=long_ago)
    assert list(result) == [TEAM]
    assert result[TEAM].handled == 0 and result[TEAM].first_response_median is None


def test_the_performance_page(client, supervisor, agent):
    responded_after(agent, 5)
    client.force_login(supervisor)
    response = client.get(reverse("complaints:performance"), {"sort": "-handled"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="performance-table"' in html and 'id="performance-data"' in html


def test_agents_cannot_see_performance(client, agent):
    client.force_login(agent)
    assert client.get(reverse("complaints:performance")).status_code == 403


def test_performance_query_count_does_not_grow(client, supervisor, agent, agent2):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(supervisor)
    responded_after(agent, 5)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("complaints:performance"))
    for minutes in range(12):
        responded_after(agent if minutes % 2 else agent2, minutes)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("complaints:performance"))
    assert len(many) == len(few), (len(few), len(many))


def test_the_report_reads_the_periods_cases_twice_on_postgresql(client, supervisor, agent):
    """On PostgreSQL the percentiles are aggregates in the agents' grouped
    query, and the team's counts add up from its rows: two passes over the
    period's cases instead of eight (at 1M cases, 30 days: 1.3 s -> 0.35 s).
    SQLite ranks each percentile with window functions: seven passes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    responded_after(agent, 5)
    client.force_login(supervisor)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("complaints:performance"))
    assert response.status_code == 200
    passes = [
        q["sql"]
        for q in captured
        if 'FROM "complaints_case"' in q["sql"] and 'FROM "complaints_offer"' not in q["sql"]
    ]
    assert len(passes) == (2 if connection.vendor == "postgresql" else 7), passes


def test_generate_data_follows_the_state_machine():
    """The synthetic step events name the routine's real transitions."""
    from complaints.management.commands.generate_data import ROUTINE
    from complaints.models import Case

    state = Case._meta.get_field("state")
    real = {(t.name, t.source, t.target) for t in state.get_all_transitions(Case)}
    assert set(ROUTINE) <= real


def test_generate_data_fills_a_realistic_shop(client):
    """The benchmark data: 80% closed, about ten events per case, skewed load,
    and a database the application keeps working on afterwards."""
    from django.core.management import call_command
    from django.db.models import Count

    from complaints.models import Case, CaseEvent, Customer, Review

    from . import flows
    from .factories import OrderFactory, UserFactory

    call_command("generate_data", cases=400, agents=20, batch=150, no_progress=True)
    cases = Case.objects.filter(number__startswith="S-")
    assert cases.count() == 400
    closed = cases.filter(state="closed").count()
    assert 0.7 < closed / 400 < 0.9
    assert set(cases.values_list("state", flat=True)) >= {"closed", "confirming", "analyzing"}
    events = CaseEvent.objects.filter(case__in=cases).count()
    assert 8 < events / 400 < 12
    assert CaseEvent.objects.filter(kind="transition", to_state="closed").count() == closed
    loads = sorted(
        cases.exclude(assignee=None)
        .values("assignee")
        .annotate(n=Count("id"))
        .values_list("n", flat=True)
    )
    assert len(loads) == 20 and loads[-1] > 3 * loads[0]  # a few carry much more
    assert Customer.objects.count() < 400  # some customers come back
    assert Review.objects.filter(cases__in=cases).count() == cases.filter(source="review").count()
    # Most reviews are answered; vouchers are redeemed, voided, expired or
    # still owed; some closed cases record a corrective action, most done.
    from complaints.models import ReviewReply, Voucher

    reviews = Review.objects.filter(cases__in=cases).count()
    published = ReviewReply.objects.filter(status="published")
    assert 0.6 < published.filter(review__cases__in=cases).count() / reviews < 0.95
    # As many content reviews (four or five stars, no case), a few thanked.
    content = Review.objects.filter(cases__isnull=True)
    assert content.count() == 400 and set(content.values_list("rating", flat=True)) == {4, 5}
    assert 0.03 < published.filter(review__in=content).count() / 400 < 0.2
    assert (
        content.filter(replied_at__isnull=False).count()
        == published.filter(review__in=content).count()
    )
    fates = dict(Voucher.objects.values_list("status").annotate(n=Count("id")).order_by())
    assert set(fates) == {"issued", "redeemed", "expired", "void"}, fates
    assert 0.35 < fates["redeemed"] / sum(fates.values()) < 0.6
    corrective = cases.exclude(corrective_action="")
    assert 0.04 < corrective.count() / closed < 0.18
    done = corrective.filter(corrective_action_done_at__isnull=False).count()
    assert 0 < done < corrective.count()
    assert not cases.filter(corrective_action="", corrective_action_done_at__isnull=False).exists()
    # Most satisfied reviewers were asked to revise; about half of them did,
    # each with an event on the case and a new rating of 4 or 5.
    recovered = Review.objects.filter(cases__in=cases.filter(customer_satisfied=True))
    asked = recovered.filter(revision_requested_at__isnull=False)
    assert 0.4 < asked.count() / recovered.count() < 0.8
    assert not Review.objects.filter(
        revision_requested_at__isnull=True, revision_outcome__gt=""
    ).exists()
    revised = asked.filter(revision_outcome="revised")
    assert 0.25 < revised.count() / asked.count() < 0.6
    assert set(revised.values_list("revised_rating", flat=True)) <= {4, 5}
    assert CaseEvent.objects.filter(kind="revision_requested").count() == asked.count()
    assert (
        CaseEvent.objects.filter(kind="revision_outcome").count()
        == asked.exclude(revision_outcome="").count()
    )
    # The ids continue after the loaded rows: the workflow opens a case as usual.
    agent = UserFactory(username="after_bench", role="agent")
    case = flows.opened(agent, OrderFactory())
    assert case.pk > cases.order_by("-pk").first().pk
    client.force_login(agent.__class__.objects.get(username="bench_agent0"))
    assert client.get("/queue/mine/").status_code == 200
    # The load test's supervisors: they may see the approvals and the team.
    supervisor = agent.__class__.objects.get(username="bench_supervisor0")
    assert supervisor.check_password("bench-password")
    client.force_login(supervisor)
    assert client.get("/approvals/").status_code == 200 and client.get("/team/").status_code == 200


def test_generated_cases_took_their_steps_before_now():
    """Over two days most closed cases' steps (five minutes to ten hours
    apart) would run past now: they are squeezed into the time since the
    case opened, so no case closed, no event happened and no voucher was
    issued in the future, and each case's events keep their order."""
    from django.core.management import call_command
    from django.db.models import Max, Q
    from django.utils import timezone

    from complaints.models import Case, CaseEvent, Contact, Offer, ReviewReply, Voucher

    call_command("generate_data", cases=300, agents=3, days=2, no_progress=True)
    now = timezone.now()
    cases = Case.objects.filter(number__startswith="S-")
    closed = cases.filter(state="closed")
    assert closed.count() > 200
    future = Q(created_at__gt=now)
    assert not cases.filter(
        Q(closed_at__gt=now) | Q(updated_at__gt=now) | Q(first_response_at__gt=now)
    ).exists()
    assert not CaseEvent.objects.filter(future).exists()
    assert not Offer.objects.filter(Q(proposed_at__gt=now) | Q(accepted_at__gt=now)).exists()
    assert not Voucher.objects.filter(issued_at__gt=now).exists()
    assert not Contact.objects.filter(contacted_at__gt=now).exists()
    assert not ReviewReply.objects.filter(published_at__gt=now).exists()
    # a closed case closed with its last event, after it opened
    last = dict(
        CaseEvent.objects.filter(case__in=closed)
        .values_list("case")
        .annotate(at=Max("created_at"))
        .order_by()
    )
    for case in closed:
        assert case.created_at < case.closed_at == last[case.pk]
    for case in closed[:50]:
        times = list(case.events.order_by("pk").values_list("created_at", flat=True))
        assert times == sorted(times) and len(times) > 6


@pytest.mark.usefixtures("reference_data")
def test_the_revision_rate_counts_reviews_asked_and_revised(agent, agent2):
    """Of the reviews whose case an agent handled and whose reviewer was
    asked to revise, the share revised. The asked reviews are read from
    their own index (review_revision_asked) and each case's review checked
    against them: joined to the cases, the reviews were hashed whole for a
    month's few (1.25M reviews at 1M cases: 30 days 450 ms), or looked up
    by key along a year's cases in the agents' order (3.1 s -> 2.1 s)."""
    from django.test.utils import CaptureQueriesContext

    from complaints.models import Review, RevisionOutcome

    from .factories import CaseFactory, ReviewFactory
    from .plans import explain_without_seqscan

    outcomes = [RevisionOutcome.REVISED, RevisionOutcome.DECLINED, "", None]
    for outcome in outcomes:
        review = ReviewFactory()
        CaseFactory(assignee=agent, review=review, order=review.order)
        if outcome is not None:  # asked; None: never asked
            Review.objects.filter(pk=review.pk).update(
                revision_requested_at=timezone.now(), revision_outcome=outcome
            )
    CaseFactory(assignee=agent2)  # no review at all
    with CaptureQueriesContext(connection) as captured:
        found = rows()
    assert found[agent.pk].revision_rate == pytest.approx(1 / 3)  # 1 revised of 3 asked
    assert found[agent2.pk].revision_rate is None
    assert found[TEAM].revision_rate == pytest.approx(1 / 3)
    (grouped,) = [
        q["sql"] for q in captured if q["sql"].startswith('SELECT "complaints_case"."assignee_id"')
    ]
    assert "JOIN" not in grouped, grouped  # the cases alone, no join to the reviews
    if connection.vendor != "postgresql":
        return
    plan = explain_without_seqscan(grouped)
    # asked, revised: each an index (only) scan or a bitmap scan of it
    assert plan.count("review_revision_asked") == 2, plan

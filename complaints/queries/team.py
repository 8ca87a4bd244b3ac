"""What supervisors watch: offers waiting for approval and the team's load."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cached_property

from django.contrib.auth import get_user_model
from django.db.models import Count, DecimalField, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..conf import setting
from ..models import (
    OPEN_STATES,
    ApprovalStatus,
    Case,
    CaseState,
    Offer,
    RemedyKind,
    open_q,
)
from ..models.case_rules import offers_to_decide
from ..people import case_workers
from ..roles import AGENT
from ..sql import Literal


def pending_offers(*, now: datetime | None = None) -> QuerySet:
    """Return the offers waiting for a supervisor, oldest first, with what the
    inbox shows: the customer's compensation in the serial-complainant window."""

    now = now or timezone.now()
    since = now - timedelta(days=setting("SERIAL_COMPLAINANT_DAYS"))
    recent = Offer.objects.filter(
        case__customer=OuterRef("case__customer"), executed_at__gte=since
    ).exclude(kind=RemedyKind.APOLOGY)
    return (
        Offer.objects.filter(approval_status=Literal(ApprovalStatus.PENDING))
        .select_related(
            "case__customer", "case__order", "case__category", "proposed_by", "policy_rule"
        )
        .annotate(
            recent_cases=Coalesce(
                Subquery(
                    recent.values("case__customer")
                    .annotate(n=Count("case", distinct=True))
                    .values("n"),
                    output_field=IntegerField(),
                ),
                0,
            ),
            recent_compensation=Coalesce(
                Subquery(
                    recent.values("case__customer").annotate(total=Sum("amount")).values("total"),
                    output_field=DecimalField(max_digits=12, decimal_places=2),
                ),
                Decimal("0"),
            ),
        )
        .order_by("proposed_at", "id")
    )


def pending_approval_count(user, cap: int | None = None) -> int:
    """Return how many pending offers ``user`` may decide (not their own),
    counting at most ``cap`` + 1 when given (the navigation's badge)."""
    pending = offers_to_decide(user).order_by()
    return (pending[: cap + 1] if cap is not None else pending).count()


@dataclass(frozen=True)
class AgentLoad:
    agent: object
    open_by_state: dict
    open_total: int
    overdue: int
    waiting_approval: int
    closed_recently: int
    satisfied_recently: int
    verified_recently: int
    is_agent: bool = True  # in the agent role (not a supervisor or admin helping out)

    @property
    def satisfaction_rate(self) -> float | None:
        if not self.verified_recently:
            return None
        return self.satisfied_recently / self.verified_recently


@dataclass(frozen=True)
class TeamOverview:
    states: list  # (state, label, count)
    agents: list  # AgentLoad, heaviest load first
    unassigned: int
    overdue: int
    waiting_approval: int
    window_days: int

    @cached_property
    def max_load(self) -> int:
        return max((a.open_total for a in self.agents), default=0)

    @cached_property
    def imbalance(self) -> AgentLoad | None:
        """Return the best agent (most satisfied customers recently) when they
        carry the lightest load of all, else None. Worked out once: the team
        page asks on each of its ~200 rows whether the row is that agent."""
        rated = [a for a in self.agents if a.verified_recently]
        if len(self.agents) < 2 or not rated:
            return None
        best = max(rated, key=lambda a: (a.satisfaction_rate, a.closed_recently))
        lightest = min(a.open_total for a in self.agents)
        if best.open_total == lightest and best.open_total < max(a.open_total for a in self.agents):
            return best
        return None


def team_overview(*, now: datetime | None = None, window_days: int = 30) -> TeamOverview:
    """Return open cases by state and by agent, with each agent's recent
    results, in a handful of grouped queries."""

    now = now or timezone.now()
    since = now - timedelta(days=window_days)
    open_cases = Case.objects.filter(open_q())
    rows = (
        open_cases.values("assignee", "state")
        .annotate(n=Count("id"), overdue=Count("id", filter=Q(due_at__lt=now)))
        .order_by()
    )
    # Cases waiting for an approval, counted from the few pending offers
    # rather than by joining every open case to its offers (0.8 s at 1M).
    waiting = dict(
        Offer.objects.filter(open_q("case__"), approval_status=Literal(ApprovalStatus.PENDING))
        .values_list("case__assignee")
        .annotate(n=Count("case", distinct=True))
        .order_by()
    )
    recent = dict(
        Case.objects.filter(closed_at__gte=since)
        .values_list("assignee")
        .annotate(n=Count("id"))
        .order_by()
    )
    verified = {
        row["assignee"]: row
        for row in Case.objects.filter(verified_at__gte=since)
        .values("assignee")
        .annotate(verified=Count("id"), satisfied=Count("id", filter=Q(customer_satisfied=True)))
        .order_by()
    }
    loads: dict = {}
    by_state: dict = {}  # the team's open cases per state, added up from the agents'
    for row in rows:
        by_state[row["state"]] = by_state.get(row["state"], 0) + row["n"]
        entry = loads.setdefault(row["assignee"], {"states": {}, "overdue": 0, "waiting": 0})
        entry["states"][row["state"]] = row["n"]
        entry["overdue"] += row["overdue"]
    for assignee, n in waiting.items():
        loads.setdefault(assignee, {"states": {}, "overdue": 0, "waiting": 0})["waiting"] = n
    users = {
        user.pk: user
        for user in get_user_model()
        .objects.filter(pk__in=case_workers())
        .annotate(in_agent_role=Count("groups", filter=Q(groups__name=AGENT)))
    }
    agents = []
    for pk, user in users.items():
        entry = loads.get(pk, {"states": {}, "overdue": 0, "waiting": 0})
        quality = verified.get(pk, {"verified": 0, "satisfied": 0})
        agents.append(
            AgentLoad(
                agent=user,
                open_by_state=entry["states"],
                open_total=sum(entry["states"].values()),
                overdue=entry["overdue"],
                waiting_approval=entry["waiting"],
                closed_recently=recent.get(pk, 0),
                satisfied_recently=quality["satisfied"],
                verified_recently=quality["verified"],
                is_agent=bool(user.in_agent_role),
            )
        )
    # Agents first, then supervisors and admins who carry cases too.
    agents = [a for a in agents if a.is_agent or a.open_total]
    agents.sort(key=lambda a: (not a.is_agent, -a.open_total, a.agent.get_username()))
    unassigned = loads.get(None, {"states": {}})
    return TeamOverview(
        states=[
            (s.value, s.label, by_state.get(s.value, 0)) for s in CaseState if s in OPEN_STATES
        ],
        agents=agents,
        unassigned=sum(unassigned["states"].values()),
        overdue=sum(entry["overdue"] for entry in loads.values()),
        waiting_approval=sum(entry["waiting"] for entry in loads.values()),
        window_days=window_days,
    )

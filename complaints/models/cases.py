"""The case aggregate root: Case, a state machine whose transitions carry the
routine's rules. Its audit trail is in events.py, contacts and evidence in
contacts.py, the guards and the work permission in case_rules.py."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from ..paging import CASE_SORTS, index_keys
from ..sql import Literal
from .case_rules import (
    accepted_offer_cleared,
    demand_recorded,
    execution_complete,
    followed_up_after_execution,
    has_open_offer,
    may_work_case,
    root_cause_recorded,
    within_reopen_window,
)
from .common import ChoiceLabels, money_field, validate_plausible_year

# The queues' due and priority orders as index keys (Case.Meta.indexes):
# the very expressions the pages sort by (paging.CASE_SORTS).
DUE_ORDER = index_keys(CASE_SORTS["due"])
PRIORITY_ORDER = index_keys(CASE_SORTS["priority"])


class CaseState(models.TextChoices):
    CONFIRMING = "confirming", _("Confirming the issue")
    ANALYZING = "analyzing", _("Analyzing")
    PROPOSING = "proposing", _("Proposing options")
    EXECUTING = "executing", _("Executing")
    VERIFYING = "verifying", _("Verifying satisfaction")
    ROOT_CAUSE = "root_cause", _("Recording the root cause")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATES = (
    CaseState.CONFIRMING,
    CaseState.ANALYZING,
    CaseState.PROPOSING,
    CaseState.EXECUTING,
    CaseState.VERIFYING,
    CaseState.ROOT_CAUSE,
)


def open_q(prefix: str = "") -> Q:
    """ "The case is open" as the queries ask it (``prefix``: the path to the
    case, e.g. "case__"). The states are written into the SQL (sql.Literal),
    so that a kept connection's prepared statement still reads the partial
    indexes of open cases (Meta.indexes), whatever its parameters."""
    return Q(**{f"{prefix}state__in": [Literal(state) for state in OPEN_STATES]})


class CaseSource(models.TextChoices):
    CHAT = "chat", _("Chat")
    PHONE = "phone", _("Phone")
    REVIEW = "review", _("Review")
    DISPUTE = "dispute", _("Marketplace dispute")
    EMAIL = "email", _("E-mail")


class Priority(models.IntegerChoices):
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


class Severity(models.IntegerChoices):
    MINOR = 1, _("Minor")
    MODERATE = 2, _("Moderate")
    SERIOUS = 3, _("Serious")
    CRITICAL = 4, _("Critical")


class ResponsibleParty(models.TextChoices):
    SUPPLIER = "supplier", _("Product / supplier")
    WAREHOUSE = "warehouse", _("Warehouse")
    COURIER = "courier", _("Courier")
    SERVICE = "service", _("Customer service")
    MARKETING = "marketing", _("Product page / promotion")
    PLATFORM = "platform", _("Marketplace")
    CUSTOMER = "customer", _("Customer")
    UNKNOWN = "unknown", _("Unknown")


class CaseQuerySet(models.QuerySet):
    def delete(self):
        raise IntegrityError("Cases are never deleted; cancel them instead.")

    def open(self):
        return self.filter(open_q())


class CaseNumberCounter(models.Model):
    """The last case number handed out in a year."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("case number counter")

    def __str__(self):
        return f"{self.year}: {self.last}"


def allocate_case_number(now=None) -> str:
    """Return the next case number of the (Shanghai) year, e.g. C-2026-000123.

    The counter row is bumped with an UPDATE, which serialises concurrent
    callers on the row lock until their transactions end.
    """
    year = timezone.localtime(now).year
    with transaction.atomic():
        CaseNumberCounter.objects.get_or_create(year=year)
        CaseNumberCounter.objects.filter(year=year).update(last=F("last") + 1)
        last = CaseNumberCounter.objects.values_list("last", flat=True).get(year=year)
    return f"C-{year}-{last:06d}"


class Case(ConcurrentTransitionMixin, ChoiceLabels, models.Model):
    """A complaint or a medium/negative review being worked through the routine.

    The state only changes through the transition methods below, called by
    ``complaints.workflow``; cases are cancelled, never deleted.
    """

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    source = models.CharField(_("source"), max_length=20, choices=CaseSource.choices)
    customer = models.ForeignKey(
        "complaints.Customer",
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("customer"),
    )
    order = models.ForeignKey(
        "complaints.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("order"),
    )
    review = models.ForeignKey(
        "complaints.Review",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("review"),
        db_index=False,  # case_review_latest leads with it
    )
    summary = models.CharField(_("summary"), max_length=200)
    demand = models.TextField(_("customer's demand"), blank=True)
    description = models.TextField(_("the customer's account"), blank=True)

    category = models.ForeignKey(
        "complaints.RootCauseCategory",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("category"),
        db_index=False,  # case_category_state leads with it
    )
    severity = models.PositiveSmallIntegerField(
        _("severity"), choices=Severity.choices, null=True, blank=True
    )
    responsible_party = models.CharField(
        _("responsible party"), max_length=20, choices=ResponsibleParty.choices, blank=True
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_cases",
        verbose_name=_("assignee"),
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("opened by"),
    )

    # Deadlines (complaints.sla keeps them): each clock's due time and the
    # moment its warning falls due; ``due_at`` is the earliest running one.
    sla_policy = models.ForeignKey(
        "complaints.SlaPolicy",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("SLA policy"),
    )
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    first_response_warn_at = models.DateTimeField(
        _("first response at risk from"), null=True, blank=True
    )
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    resolution_warn_at = models.DateTimeField(_("resolution at risk from"), null=True, blank=True)
    marketplace_due = models.DateTimeField(
        _("marketplace deadline"),
        null=True,
        blank=True,
        help_text=_("The platform's own deadline, e.g. the end of the review reply window."),
        validators=[validate_plausible_year],
    )
    marketplace_warn_at = models.DateTimeField(
        _("marketplace deadline at risk from"), null=True, blank=True
    )
    marketplace_met_at = models.DateTimeField(_("marketplace deadline met"), null=True, blank=True)
    waiting_since = models.DateTimeField(
        _("waiting on the customer since"),
        null=True,
        blank=True,
        help_text=_("The resolution clock stops while the case waits on the customer."),
    )
    clock_started_at = models.DateTimeField(
        _("resolution clock started"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When the case was reopened; empty: when it was opened."),
    )
    paused_seconds = models.PositiveIntegerField(
        _("working time paused (seconds)"), default=0, editable=False
    )
    due_at = models.DateTimeField(_("next deadline"), null=True, blank=True, editable=False)

    accepted_offer = models.ForeignKey(
        "complaints.Offer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accepted offer"),
    )
    executed_at = models.DateTimeField(_("executed"), null=True, blank=True)
    compensation_cost = money_field(
        _("compensation paid"),
        default=0,
        help_text=_("Executed remedies at face value; kept by the workflow for reports."),
    )

    customer_satisfied = models.BooleanField(_("satisfied"), null=True, blank=True)
    satisfaction_score = models.PositiveSmallIntegerField(
        _("satisfaction (1–5)"), null=True, blank=True
    )
    satisfaction_comment = models.TextField(_("satisfaction comment"), blank=True)
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)

    root_cause = models.ForeignKey(
        "complaints.RootCauseCategory",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("root cause"),
        db_index=False,  # case_root_cause_state leads with it
    )
    root_cause_sku = models.CharField(_("SKU"), max_length=64, blank=True)
    root_cause_courier = models.CharField(_("courier"), max_length=50, blank=True)
    root_cause_supplier = models.CharField(_("supplier"), max_length=100, blank=True)
    root_cause_party = models.CharField(
        _("responsible party"), max_length=20, choices=ResponsibleParty.choices, blank=True
    )
    corrective_action = models.TextField(_("corrective action"), blank=True)
    corrective_action_done_at = models.DateTimeField(
        _("corrective action done"), null=True, blank=True
    )

    state = FSMField(
        _("state"),
        max_length=20,
        choices=CaseState.choices,
        default=CaseState.CONFIRMING,
        protected=True,
    )
    cancel_reason = models.TextField(_("cancel reason"), blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at"]
        permissions = [
            ("work_case", _("Can work cases")),
            ("reassign_case", _("Can assign cases to anyone")),
            ("view_team", _("Can see team dashboards")),
            ("export_rootcauses", _("Can export root-cause statistics")),
        ]
        indexes = [
            # The queues' counts ("1,131 cases", filtered by state and priority)
            # read these alone, never the table: every column they name,
            # id included, is in the index (an index-only scan).
            models.Index(fields=["state", "priority", "id"], name="case_state_priority_id"),
            models.Index(
                fields=["assignee", "state", "priority", "id"], name="case_assignee_state_prio"
            ),
            models.Index(fields=["first_response_due"], name="case_first_response_due"),
            models.Index(fields=["resolution_due"], name="case_resolution_due"),
            models.Index(fields=["due_at"], name="case_due_at"),
            models.Index(fields=["created_at"], name="case_created"),
            # The team page's and the team report's recent results per agent,
            # read from the index alone (a window of days, not every case).
            models.Index(fields=["closed_at", "assignee", "id"], name="case_closed_at"),
            models.Index(
                fields=["verified_at", "assignee", "customer_satisfied", "id"],
                name="case_verified_at",
            ),
            # The review inbox's "case state" filter: the reviews whose case
            # is in a state, read from here when they are few (a state no
            # review's case is in walked all 250k reviews at 1M cases: 1.2 s).
            models.Index(
                fields=["state", "review"],
                name="case_review_state",
                condition=Q(review__isnull=False),
            ),
            # A review's latest case, its number and its state, which the
            # inbox shows for every review and its "case state" filter tests
            # along its walk: read from the index alone, in order, instead of
            # fetching and sorting the review's cases (at 1M cases, the inbox
            # filtered by a common state: the list 107 -> 55 ms). The state
            # and number are key columns, not INCLUDEd, which SQLite lacks.
            models.Index(
                fields=["review", "created_at", "state", "number"],
                name="case_review_latest",
                condition=Q(review__isnull=False),  # three cases in four have none
            ),
            # The queues' filters on a column of few values, with the state:
            # a filter's matches in an open queue are counted, and found when
            # few, from here. The queue walked its order testing every row,
            # and its count read the table from the oldest (closed) cases:
            # at 1M cases a source no case has, or a root cause among the
            # open cases, took 260 and 560 ms; a category's count 50 ms.
            models.Index(fields=["source", "state"], name="case_source_state"),
            models.Index(fields=["category", "state"], name="case_category_state"),
            models.Index(fields=["root_cause", "state"], name="case_root_cause_state"),
            # A root cause among all cases, in due order: the cases with one
            # are closed, so they sort after every open case, and walking the
            # whole team's order passed 200k open cases first (230 ms at 1M).
            models.Index(
                *DUE_ORDER,
                name="case_root_caused_due",
                condition=Q(root_cause__isnull=False),
            ),
            # The root-cause report's counts and costs of a period (per cause,
            # per SKU, courier and supplier, per month) read from the index
            # alone: only cases whose cause is recorded, with every column the
            # report's GROUP BYs name (at 1M cases, 90 days: 930 -> 240 ms).
            # All are key columns, not INCLUDE, which SQLite does not have.
            models.Index(
                fields=[
                    "created_at",
                    "id",
                    "root_cause",
                    "compensation_cost",
                    "root_cause_sku",
                    "root_cause_courier",
                    "root_cause_supplier",
                ],
                name="case_root_cause_report",
                condition=Q(root_cause__isnull=False),
            ),
            # The root-cause report's open corrective actions, oldest first: the
            # few written down and not done, not every case of the period
            # (at 1M cases, 90 days: 135 ms -> under 1 ms).
            models.Index(
                fields=["created_at", "id"],
                name="case_corrective_open",
                condition=Q(corrective_action_done_at__isnull=True) & ~Q(corrective_action=""),
            ),
            # The deadline board's summary: every running clock of every open
            # case (sla.CLOCK_FIELDS: due, warning and stop times), read from
            # the index alone (at 100k cases 22 -> 4 ms; a test keeps it in
            # step with the clocks).
            models.Index(
                fields=[
                    "first_response_due",
                    "first_response_warn_at",
                    "first_response_at",
                    "resolution_due",
                    "resolution_warn_at",
                    "waiting_since",
                    "marketplace_due",
                    "marketplace_warn_at",
                    "marketplace_met_at",
                    "id",
                ],
                name="case_open_clocks",
                condition=Q(state__in=OPEN_STATES),
            ),
            # The team page's load per agent and state, with the overdue among
            # them, read from the index alone (at 1M cases: 150 -> 30 ms).
            models.Index(
                fields=["assignee", "state", "due_at", "id"],
                name="case_open_load",
                condition=Q(state__in=OPEN_STATES),
            ),
            # The queues' keyset pages (complaints/paging.py): open cases in
            # due order, per assignee ("mine", "unassigned") and for the team.
            models.Index(
                F("assignee"),
                *DUE_ORDER,
                name="case_queue_assignee_due",
                condition=Q(state__in=OPEN_STATES),
            ),
            models.Index(
                *DUE_ORDER,
                name="case_queue_due",
                condition=Q(state__in=OPEN_STATES),
            ),
            # The queues' other sorts (priority first; newest or oldest first),
            # so that no sort a queue offers reads and sorts every open case.
            models.Index(
                F("assignee"),
                *PRIORITY_ORDER,
                name="case_queue_assignee_prio",
                condition=Q(state__in=OPEN_STATES),
            ),
            models.Index(
                *PRIORITY_ORDER,
                name="case_queue_prio",
                condition=Q(state__in=OPEN_STATES),
            ),
            # The unassigned queue in each sort: "no assignee" cannot seek in
            # the assignee's indexes in order, so the queue walked every open
            # case's order for a filter its few cases do not match (a
            # category among new cases at 1M: 280 ms). These hold only them.
            models.Index(
                *DUE_ORDER,
                name="case_unassigned_due",
                condition=Q(state__in=OPEN_STATES, assignee__isnull=True),
            ),
            models.Index(
                *PRIORITY_ORDER,
                name="case_unassigned_prio",
                condition=Q(state__in=OPEN_STATES, assignee__isnull=True),
            ),
            models.Index(
                fields=["created_at", "id"],
                name="case_unassigned_created",
                condition=Q(state__in=OPEN_STATES, assignee__isnull=True),
            ),
            models.Index(
                fields=["assignee", "created_at", "id"],
                name="case_queue_assignee_created",
                condition=Q(state__in=OPEN_STATES),
            ),
            models.Index(
                fields=["created_at", "id"],
                name="case_queue_created",
                condition=Q(state__in=OPEN_STATES),
            ),
            # The API's list of every case, closed ones included, by due date
            # or priority (its default for supervisors).
            models.Index(*DUE_ORDER, name="case_all_due"),
            models.Index(*PRIORITY_ORDER, name="case_all_prio"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(satisfaction_score__isnull=True)
                | Q(satisfaction_score__gte=1, satisfaction_score__lte=5),
                name="case_satisfaction_1_to_5",
            ),
            models.CheckConstraint(
                condition=~Q(state="cancelled") | ~Q(cancel_reason=""),
                name="case_cancel_has_reason",
            ),
            # Only an open case has clocks running, so only it has a next
            # deadline (sla.refresh_due); the queues' state filter relies on
            # it (filters.CaseFilter.filter_state).
            models.CheckConstraint(
                condition=Q(state__in=OPEN_STATES) | Q(due_at__isnull=True),
                name="case_closed_has_no_deadline",
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.summary}"

    def get_absolute_url(self):
        return reverse("complaints:case", args=[self.number])

    def delete(self, *args, **kwargs):
        raise IntegrityError("Cases are never deleted; cancel them instead.")

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_waiting(self) -> bool:
        """Waiting on the customer: the resolution clock is stopped."""
        return self.waiting_since is not None

    # Transitions. Bodies only change fields; complaints.workflow saves them
    # inside a transaction together with the audit event.

    @transition(
        field=state,
        source=CaseState.CONFIRMING,
        target=CaseState.ANALYZING,
        conditions=[demand_recorded],
        permission=may_work_case,
    )
    def confirm(self):
        """The issue, its facts and the customer's demand are written down."""

    @transition(
        field=state,
        source=CaseState.ANALYZING,
        target=CaseState.PROPOSING,
        conditions=[has_open_offer],
        permission=may_work_case,
    )
    def propose(self):
        """The options are put to the customer."""

    @transition(
        field=state,
        source=CaseState.PROPOSING,
        target=CaseState.EXECUTING,
        conditions=[accepted_offer_cleared],
        permission=may_work_case,
    )
    def accept(self):
        """The customer chose ``accepted_offer``."""

    @transition(
        field=state,
        source=CaseState.EXECUTING,
        target=CaseState.VERIFYING,
        conditions=[execution_complete],
        permission=may_work_case,
    )
    def mark_executed(self):
        self.executed_at = timezone.now()

    @transition(
        field=state,
        source=CaseState.VERIFYING,
        target=CaseState.ROOT_CAUSE,
        conditions=[followed_up_after_execution],
        permission=may_work_case,
    )
    def satisfied(self, *, score: int, comment: str = ""):
        self._record_satisfaction(True, score, comment)

    @transition(
        field=state,
        source=CaseState.VERIFYING,
        target=CaseState.ANALYZING,
        conditions=[followed_up_after_execution],
        permission=may_work_case,
    )
    def unsatisfied(self, *, score: int, comment: str = ""):
        self._record_satisfaction(False, score, comment)

    @transition(
        field=state,
        source=CaseState.ROOT_CAUSE,
        target=CaseState.CLOSED,
        conditions=[root_cause_recorded],
        permission=may_work_case,
    )
    def close(self):
        self.closed_at = timezone.now()

    @transition(
        field=state,
        source=CaseState.CLOSED,
        target=CaseState.ANALYZING,
        conditions=[within_reopen_window],
        permission=may_work_case,
    )
    def reopen(self):
        self.closed_at = None
        self.reopen_count += 1

    @transition(
        field=state,
        source=list(OPEN_STATES),
        target=CaseState.CANCELLED,
        permission=may_work_case,
    )
    def cancel(self, *, reason: str):
        if not reason or not reason.strip():
            raise ValidationError(_("Say why the case is cancelled."), code="reason_required")
        self.cancel_reason = reason.strip()

    def _record_satisfaction(self, satisfied: bool, score: int, comment: str):
        if score not in range(1, 6):
            raise ValidationError(_("Satisfaction is a score from 1 to 5."), code="invalid_score")
        self.customer_satisfied = satisfied
        self.satisfaction_score = score
        self.satisfaction_comment = comment
        self.verified_at = timezone.now()

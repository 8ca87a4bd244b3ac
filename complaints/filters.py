"""django-filter FilterSets for the lists."""

from datetime import timedelta

import django_filters
from django import forms
from django.db.models import Exists, F, OuterRef
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .forms import StyledFormMixin
from .models import (
    OPEN_STATES,
    Case,
    CaseSource,
    CaseState,
    Priority,
    RemedyKind,
    RootCauseCategory,
    VoucherStatus,
)
from .models.common import validate_plausible_year
from .paging import COUNT_CAP, due_key, far_future_key, priority_key
from .people import case_workers
from .queries.reports import start_of_day
from .queries.search import search
from .sql import Literal

SORTS = {
    "due": (F("due_at").asc(nulls_last=True), "-priority", "created_at"),
    "priority": ("-priority", F("due_at").asc(nulls_last=True), "created_at"),
    "created": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
}
SORT_CHOICES = [
    ("due", _("Due first")),
    ("priority", _("Highest priority")),
    ("created", _("Newest")),
    ("oldest", _("Oldest")),
]


class DateInput(forms.DateInput):
    input_type = "date"


class DayFilter(django_filters.DateFilter):
    """A local day's bound on a datetime column, as a range the database
    can read from the column's index (as ``day_range`` for the reports):
    "from" is the day's first moment (``>=``), "until" the next day's (``<``). ``__date__gte`` ran a
    function on every row: a period no case is in among all cases at 1M
    walked every case (1.6 s)."""

    def __init__(self, *args, until=False, **kwargs):
        self.until = until
        kwargs.setdefault("widget", DateInput)
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        if self.until:
            return qs.filter(**{f"{self.field_name}__lt": start_of_day(value + timedelta(days=1))})
        return qs.filter(**{f"{self.field_name}__gte": start_of_day(value)})


class FilterForm(StyledFormMixin, forms.Form):
    """Every list's filter form: its dates keep to the plausible years (year 1
    less a month, the reviews' funnel, cannot even be computed)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.DateField):
                field.validators = [*field.validators, validate_plausible_year]


class CaseFilter(django_filters.FilterSet):
    """The queue filters; every field narrows in the database."""

    class Meta:
        form = FilterForm

    q = django_filters.CharFilter(
        method="filter_text",
        label=_("Search"),
        help_text=_("Case number, summary, customer nickname or order number"),
    )
    # distinct=False: these filter the case's own columns, so no row repeats,
    # and a SELECT DISTINCT would keep the queue from reading its index in order.
    state = django_filters.MultipleChoiceFilter(
        choices=CaseState.choices, method="filter_state", label=_("State"), distinct=False
    )
    priority = django_filters.MultipleChoiceFilter(
        choices=Priority.choices, method="filter_priority", label=_("Priority"), distinct=False
    )
    category = django_filters.ModelChoiceFilter(
        queryset=RootCauseCategory.objects.select_related("parent"),
        method="filter_category",
        label=_("Category"),
    )
    root_cause = django_filters.ModelChoiceFilter(
        queryset=RootCauseCategory.objects.select_related("parent"),
        method="filter_root_cause",
        label=_("Root cause"),
    )
    source = django_filters.ChoiceFilter(choices=CaseSource.choices, label=_("Source"))
    assignee = django_filters.ModelChoiceFilter(
        queryset=case_workers(), label=_("Assignee"), null_label=_("(unassigned)")
    )
    customer = django_filters.CharFilter(method="filter_text", label=_("Customer"))
    order = django_filters.CharFilter(method="filter_text", label=_("Order number"))
    created_from = DayFilter(field_name="created_at", label=_("Created from"))
    created_to = DayFilter(field_name="created_at", until=True, label=_("Created until"))
    due_from = DayFilter(field_name="due_at", label=_("Due from"))
    due_to = DayFilter(field_name="due_at", until=True, label=_("Due until"))
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label=_("Overdue only"), widget=forms.CheckboxInput
    )
    sort = django_filters.ChoiceFilter(
        choices=SORT_CHOICES, method="filter_sort", label=_("Sort"), empty_label=None
    )

    # Whether the search found more than COUNT_CAP cases of the list, known
    # without counting them (queries.search): the queue's count then need not
    # be taken. A term that narrows through no index made that count scan the
    # table in storage order, where the matches may all lie at its end (a
    # prefix of recent case numbers among all cases at 1M: 2.7 s).
    searched_beyond_cap = False

    # The filters that look for text, and where: each is a search
    # (queries.search), looked up through the columns' indexes. As a plain
    # icontains across the join, a customer or an order number among all
    # cases at 1M took 3.1-3.4 s.
    TEXT_PATHS = {
        "customer": ["customer__buyer_id"],
        "order": ["order__number"],
        "q": ["number", "summary", "customer__buyer_id", "order__number"],
    }

    def __init__(self, *args, open_only=False, by_assignee=True, **kwargs):
        """``open_only``: a queue of open cases, whose state filter offers
        the open states alone (a closed state there matched nothing, after
        walking every open case to find so). ``by_assignee``: whether the
        list is filtered by assignee (not in a queue whose assignee is given:
        no list of everyone)."""
        super().__init__(*args, **kwargs)
        if not by_assignee:
            self.filters.pop("assignee")
        if open_only:  # on this form's own copy of the field
            self.form.fields["state"].choices = [
                (value, label) for value, label in CaseState.choices if value in OPEN_STATES
            ]

    def filter_queryset(self, queryset):
        """Every other filter first, the searches last, the search box the
        very last: each looks the list's own rows up, so what the last one
        finds is the list."""
        for name, value in self.form.cleaned_data.items():
            if name not in self.TEXT_PATHS:
                queryset = self.filters[name].filter(queryset, value)
        for name in self.TEXT_PATHS:
            queryset = self.filters[name].filter(queryset, self.form.cleaned_data.get(name))
        return queryset

    def filter_text(self, queryset, name, value):
        queryset, self.searched_beyond_cap = search(queryset, value, self.TEXT_PATHS[name])
        return queryset

    # The two filters below also tell the database what the queues' order
    # keys are for the rows they keep (paging.CASE_SORTS), so that it reads
    # the order's index from where those rows are: the rows a filter keeps
    # may all lie far down the order, and walking to them, row by row,
    # took up to a second at 1M cases.

    def filter_state(self, queryset, name, value):
        """A case that is not open has no deadline (the constraint
        case_closed_has_no_deadline), so its due key is the far future: said
        in the SQL, the closed cases among all in due order are read from
        where they start, not after every open case (at 1M: 256 -> 17 ms)."""
        queryset = queryset.filter(state__in=value)
        if not set(value) & set(OPEN_STATES):
            queryset = queryset.filter(Exact(due_key(), far_future_key()))
        return queryset

    def filter_priority(self, queryset, name, value):
        """One priority is compared as the priority sort key, which is then
        fixed: a queue by priority reads its index from that priority on,
        not past every higher one (low priority among all cases at 1M:
        913 -> 17 ms). Several stay a plain list of priorities."""
        if len(value) == 1:
            return queryset.filter(Exact(priority_key(), Literal(-int(value[0]))))
        return queryset.filter(priority__in=value)

    def filter_category(self, queryset, name, value):
        return queryset.filter(category__in=value.keys_covered())  # a group: its leaves too

    def filter_root_cause(self, queryset, name, value):
        return queryset.filter(root_cause__in=value.keys_covered())

    def filter_overdue(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(due_at__lt=timezone.now())

    def filter_sort(self, queryset, name, value):
        return queryset.order_by(*SORTS.get(value, SORTS["due"]))

    @property
    def qs(self):
        queryset = super().qs
        if not self.form.cleaned_data.get("sort"):
            queryset = queryset.order_by(*SORTS["due"])
        return queryset


class OfferFilter(django_filters.FilterSet):
    """The approvals inbox filters."""

    kind = django_filters.ChoiceFilter(choices=RemedyKind.choices, label=_("Remedy"))
    amount_min = django_filters.NumberFilter(
        field_name="amount", lookup_expr="gte", label=_("Amount from (¥)")
    )
    amount_max = django_filters.NumberFilter(
        field_name="amount", lookup_expr="lte", label=_("Amount up to (¥)")
    )
    proposer = django_filters.ModelChoiceFilter(
        field_name="proposed_by", queryset=case_workers(), label=_("Proposed by")
    )
    older_than = django_filters.NumberFilter(
        method="filter_older_than",
        label=_("Waiting at least (hours)"),
        min_value=0,
        max_value=100_000,  # eleven years: beyond it, now minus the hours overflows
    )

    class Meta:
        form = FilterForm

    def filter_older_than(self, queryset, name, value):
        if value in (None, ""):
            return queryset
        return queryset.filter(proposed_at__lte=timezone.now() - timedelta(hours=float(value)))


class VoucherFilter(django_filters.FilterSet):
    """The voucher ledger filters; the period is the month(s) of issue."""

    q = django_filters.CharFilter(
        method="filter_text", label=_("Search"), help_text=_("Code, customer or case number")
    )
    # distinct=False: the voucher's own column, no row repeats (see CaseFilter)
    status = django_filters.MultipleChoiceFilter(
        choices=VoucherStatus.choices, label=_("Status"), distinct=False
    )
    issued_from = DayFilter(field_name="issued_at", label=_("Issued from"))
    issued_to = DayFilter(field_name="issued_at", until=True, label=_("Issued until"))

    class Meta:
        form = FilterForm

    # Whether the search found more than COUNT_CAP vouchers (see CaseFilter):
    # the ledger then does not add up their money, which at 1M cases meant
    # summing most of 840k vouchers joined to three tables ("9": 1.7 s).
    searched_beyond_cap = False

    def filter_queryset(self, queryset):
        """The status and period first, the search last: it looks up the
        vouchers those left, so its cap counts the ledger's own rows."""
        for name, value in self.form.cleaned_data.items():
            if name != "q":
                queryset = self.filters[name].filter(queryset, value)
        return self.filters["q"].filter(queryset, self.form.cleaned_data.get("q"))

    def filter_text(self, queryset, name, value):
        queryset, self.searched_beyond_cap = search(
            queryset, value, ["code", "customer__buyer_id", "offer__case__number"]
        )
        return queryset

    def only_statuses(self) -> list[str] | None:
        """The statuses the ledger is narrowed to when nothing else narrows
        it (empty: the whole ledger), whose money the shared count holds
        (queries.shared_ledger_summary); None when anything else narrows it."""
        if not self.is_bound:
            return []
        if not self.is_valid():
            return None
        if any(value for name, value in self.form.cleaned_data.items() if name != "status"):
            return None
        return list(self.form.cleaned_data.get("status") or [])


YES_NO = [("yes", _("Yes")), ("no", _("No"))]


class ReviewFilter(django_filters.FilterSet):
    """The review inbox filters."""

    # distinct=False: the review's own column, no row repeats (see CaseFilter)
    rating = django_filters.MultipleChoiceFilter(
        choices=[(n, "★" * n) for n in range(1, 6)], label=_("Rating"), distinct=False
    )
    replied = django_filters.ChoiceFilter(
        choices=YES_NO, method="filter_replied", label=_("Replied")
    )
    has_case = django_filters.ChoiceFilter(
        choices=YES_NO, method="filter_has_case", label=_("Has a case")
    )
    case_state = django_filters.ChoiceFilter(
        choices=CaseState.choices, method="filter_case_state", label=_("Case state")
    )
    sku = django_filters.CharFilter(field_name="sku", lookup_expr="icontains", label=_("SKU"))
    posted_from = DayFilter(field_name="posted_at", label=_("Posted from"))
    posted_to = DayFilter(field_name="posted_at", until=True, label=_("Posted until"))

    class Meta:
        form = FilterForm

    def filter_replied(self, queryset, name, value):
        return queryset.filter(replied=value == "yes") if value else queryset

    # The filters that ask about the reviews' cases. The inbox walks its
    # order testing each review, quick when many match; when few do, it
    # walked every review (at 1M cases, 1.25M reviews: five-star reviews
    # with a case 3.1 s, negative ones without 1.3 s, a state no review's
    # case is in 4.2 s). So the reviews these keep are first looked up in
    # no order, at most COUNT_CAP + 1 of them, as joins on the cases'
    # review column (which PostgreSQL can hash); when no more than COUNT_CAP
    # are found, the inbox is those reviews, by key.
    CASE_FILTERS = ("has_case", "case_state")

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        state = self.form.cleaned_data.get("case_state")
        if not any(self.form.cleaned_data.get(name) for name in self.CASE_FILTERS):
            return queryset
        probe = queryset.order_by()
        if state:  # a superset: the reviews with any case in that state
            probe = probe.filter(Exists(Case.objects.filter(review=OuterRef("pk"), state=state)))
        found = list(probe.values_list("pk", flat=True)[: COUNT_CAP + 1])
        if len(found) <= COUNT_CAP:
            queryset = queryset.filter(pk__in=sorted(found))
        # The state of the review's latest case (a review may have had
        # several): tested on the rows found, or along the walk.
        return queryset.filter(case_state=state) if state else queryset

    def filter_case_state(self, queryset, name, value):
        """Applied by ``filter_queryset``, after the other filters."""
        return queryset

    def filter_has_case(self, queryset, name, value):
        """Whether any case was opened for the review, as a semi- or anti-join
        on the cases' review index, not a test of the inbox's "latest case
        number" subquery on every review (see CASE_FILTERS)."""
        if not value:
            return queryset
        has_case = Exists(Case.objects.filter(review=OuterRef("pk")))
        return queryset.filter(has_case if value == "yes" else ~has_case)

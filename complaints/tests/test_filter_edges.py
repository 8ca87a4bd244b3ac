"""Every filter of every filtered list (the queues, approvals, vouchers,
reviews) sent the edge of its type in the query string: dates of year 1 and
9999, numbers past any column or timedelta, unknown choices and keys. A list
answers with its filter form's error or with what matches, never a 500. The
filters are found from the FilterSets, not listed."""

import pytest
from django import forms
from django.test import Client

from complaints import filters

pytestmark = pytest.mark.django_db

PAGES = {
    filters.CaseFilter: "/queue/open/",
    filters.OfferFilter: "/approvals/",
    filters.VoucherFilter: "/vouchers/",
    filters.ReviewFilter: "/reviews/",
}
EDGES = {
    forms.DateField: ["0001-01-01", "9999-12-31", "2026-02-30"],
    forms.DecimalField: ["1e400", "-1e400", "NaN", "99999999999999999999"],
    forms.IntegerField: ["99999999999999999999", "-99999999999999999999"],
    forms.ModelChoiceField: ["99999999999999999999", "x"],
    forms.ChoiceField: ["no-such-choice", "99999999999999999999"],
    forms.MultipleChoiceField: ["no-such-choice"],
    forms.NullBooleanField: ["maybe"],
    forms.CharField: ["\x00", "长" * 5000],
}


def _edges(field):
    for kind, values in EDGES.items():
        if isinstance(field, kind):
            return values
    return []


def test_every_filtered_list_is_here():
    found = {
        value
        for value in vars(filters).values()
        if isinstance(value, type)
        and issubclass(value, filters.django_filters.FilterSet)
        and value is not filters.django_filters.FilterSet
    }
    assert found == set(PAGES)


@pytest.mark.parametrize("filterset", list(PAGES), ids=lambda f: f.__name__)
def test_each_filter_at_its_edges(filterset, supervisor):
    client = Client(raise_request_exception=False)
    client.force_login(supervisor)
    sent = 0
    for name, declared in filterset.base_filters.items():
        for value in _edges(declared.field):
            response = client.get(PAGES[filterset], {name: value})
            assert response.status_code in (200, 400), (name, value[:20], response.status_code)
            sent += 1
    assert sent >= 5


def _several(filterset) -> dict:
    """{filter name: two of its choices} for each filter on several values of
    the list's own column."""
    return {
        name: [str(value) for value, _label in list(declared.extra["choices"])[:2]]
        for name, declared in filterset.base_filters.items()
        if isinstance(declared, filters.django_filters.MultipleChoiceFilter)
        and "__" not in declared.field_name
    }


def _listed():
    from complaints.models import Case
    from complaints.queries import pending_offers, review_inbox, voucher_ledger

    return {
        filters.CaseFilter: Case.objects.all(),
        filters.OfferFilter: pending_offers(),
        filters.VoucherFilter: voucher_ledger(),
        filters.ReviewFilter: review_inbox(),
    }


@pytest.mark.parametrize("filterset", [f for f in PAGES if _several(f)], ids=lambda f: f.__name__)
def test_choosing_several_values_of_a_column_does_not_make_the_list_distinct(filterset):
    """A filter on several values of the list's own column repeats no row, so
    it must not make the query SELECT DISTINCT: DISTINCT keeps a list from
    reading its index in order and made the review inbox filtered on two
    ratings sort and count every review twice over (at 1M cases: 400 ms)."""
    chosen = filterset(_several(filterset), queryset=_listed()[filterset])
    assert chosen.is_valid(), chosen.errors
    assert not chosen.qs.query.distinct, _several(filterset)

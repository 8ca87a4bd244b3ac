"""The display helpers' shortcuts say what Django's own functions say."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation
from django.utils.timesince import timesince, timeuntil
from hypothesis import given, settings
from hypothesis import strategies as st

from complaints.people import display_name, full_name
from complaints.templatetags.casetags import _span, due_clock

from .factories import UserFactory

NOW = datetime(2026, 3, 1, 9, 30, 15, 250000, tzinfo=ZoneInfo("Asia/Shanghai"))
SPANS = [
    timedelta(0),
    timedelta(seconds=59, microseconds=999999),
    timedelta(minutes=1),
    timedelta(minutes=59, seconds=59),
    timedelta(hours=1),
    timedelta(hours=23, minutes=59, seconds=59, microseconds=500000),
    timedelta(days=1),
    timedelta(days=6, hours=23),
    timedelta(days=7),
    timedelta(days=13, hours=23, minutes=59),
    timedelta(days=27, hours=23, minutes=59, seconds=59),
    timedelta(days=28),  # February: one month on the calendar
    timedelta(days=29, hours=1),
    timedelta(days=45),
    timedelta(days=364),
    timedelta(days=800, hours=5),
]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("span", SPANS, ids=str)
def test_a_span_reads_as_django_writes_it(span, language):
    texts = {}
    with translation.override(language):
        assert _span(NOW - span, NOW, texts) == timesince(NOW - span, NOW, depth=1)
        assert _span(NOW, NOW + span, texts) == timeuntil(NOW + span, NOW, depth=1)
        # and again from what the first rows left behind
        assert _span(NOW - span, NOW, texts) == timesince(NOW - span, NOW, depth=1)


@settings(max_examples=400, deadline=None)
@given(
    due=st.datetimes(
        min_value=datetime(2024, 1, 1),
        max_value=datetime(2029, 12, 31),
        timezones=st.sampled_from([UTC, ZoneInfo("Asia/Shanghai")]),
    ),
    offset=st.one_of(
        st.timedeltas(min_value=timedelta(days=-70), max_value=timedelta(days=70)),
        st.timedeltas(min_value=timedelta(days=-1500), max_value=timedelta(days=1500)),
    ),
)
def test_every_due_clock_reads_as_django_writes_it(due, offset):
    """Any due time against any moment, across month ends and leap days: the
    queue's clock and Django's timesince/timeuntil agree to the character."""
    now = (due + offset).astimezone(UTC)
    if due < now:
        expected = "overdue by " + timesince(due, now, depth=1)
    else:
        expected = "in " + timeuntil(due, now, depth=1)
    assert f">{expected}</span>" in due_clock(due, now)


def test_rows_with_the_same_span_share_its_text():
    texts = {}
    first = _span(NOW - timedelta(hours=3, minutes=5), NOW, texts)
    assert _span(NOW - timedelta(hours=3, minutes=40), NOW, texts) is first
    assert list(texts) == [("hour", 3)]


def test_the_due_clock_counts_down_and_then_up():
    assert due_clock(NOW + timedelta(hours=2, minutes=1), NOW) == (
        '<span class="due" title="2026-03-01 11:31">in 2\xa0hours</span>'
    )
    assert due_clock(NOW - timedelta(days=3), NOW) == (
        '<span class="text-danger fw-semibold due overdue" title="2026-02-26 09:30">'
        "overdue by 3\xa0days</span>"
    )
    assert due_clock(None, NOW) == due_clock(NOW, NOW, running=False)
    assert due_clock(None, NOW) == '<span class="text-body-secondary">—</span>'


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("first", "last", "shown"),
    [
        ("Ann", "Lee", "Ann Lee"),
        ("小明", "王", "王小明"),
        (" 小明 ", "王", "王小明"),
        ("Ann", "", "Ann"),
        ("", "", "agent_x"),
    ],
)
def test_a_name_from_columns_is_the_name_from_the_user(first, last, shown):
    user = UserFactory(username="agent_x", first_name=first, last_name=last)
    assert display_name(user) == full_name(first, last, "agent_x") == shown

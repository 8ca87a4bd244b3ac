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


# The timeline as the case page drew it with a template loop, before
# ``timeline_items`` built it in Python: the tag must say the same.
TIMELINE_LOOP = (
    "{% load i18n casetags %}{% for event in events %}\n"
    '<li data-kind="{{ event.kind }}">\n'
    '  <div class="small text-body-secondary">'
    "<time datetime=\"{{ event.created_at|date:'c' }}\">"
    '{{ event.created_at|date:"Y-m-d H:i" }}</time>'
    ' · {{ event.actor|person:_("system") }}</div>\n'
    "  <div><strong>{{ event.get_kind_display }}</strong>"
    "{% if event.transition %} ({{ event.transition }}){% endif %}: {% event_text event %}</div>\n"
    "</li>{% endfor %}"
)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC"])
def test_the_timeline_tag_draws_what_the_template_loop_drew(agent, order, language, zone):
    import re

    from django.template import Context, Template
    from django.utils import timezone

    from complaints import workflow
    from complaints.models import CaseEvent
    from complaints.queries import case_for_page, case_timeline

    from . import flows

    case = flows.closed(agent, order)
    workflow.case_reopen(case=case, actor=agent, reason='<script>alert("x")</script> & «再次»')
    hostile = '"><img src=x onerror=alert(1)>\u202e 客户\n第二行'  # forms refuse NUL
    workflow.case_add_note(case=case, actor=agent, text=hostile)
    CaseEvent.objects.create(case=case, actor=None, kind="note", payload={"text": "系统"})
    CaseEvent.objects.create(case=case, actor=agent, kind="analysis", payload={"category": "x"})
    agent.first_name, agent.last_name = "<b>小", "王</b>"
    agent.save()
    case = case_for_page(case.number)
    events = list(case_timeline(case))
    assert len(events) >= 15 and any(e.actor_id is None for e in events)

    def draw(source):
        html = Template(source).render(Context({"events": events, "case": case}))
        return re.sub(r">\s+<", "><", html).strip()

    with translation.override(language), timezone.override(zone):
        loop = draw(TIMELINE_LOOP)
        tag = draw("{% load casetags %}{% timeline_items events %}")
    assert tag == loop
    assert "&lt;script&gt;" in tag and "<script>" not in tag and "&lt;b&gt;" in tag

"""Small display helpers for the case pages."""

from datetime import datetime
from urllib.parse import quote

from django import template
from django.conf import settings
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils import timezone
from django.utils.html import avoid_wrapping, format_html
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.timesince import TIME_STRINGS
from django.utils.translation import gettext as _

from ..models import (
    ApprovalStatus,
    CaseState,
    ContactChannel,
    ContactOutcome,
    Priority,
    RemedyKind,
    ResponsibleParty,
    RevisionOutcome,
    Severity,
    SlaClock,
)
from ..people import display_name, full_name
from ..queries import category_by_code

register = template.Library()


@register.simple_tag
def csrf_cookie_name():
    """The CSRF cookie's name, for app.js to read the current token from."""
    return settings.CSRF_COOKIE_NAME


STATE_COLOURS = {
    "confirming": "secondary",
    "analyzing": "info",
    "proposing": "primary",
    "executing": "warning",
    "verifying": "warning",
    "root_cause": "dark",
    "closed": "success",
    "cancelled": "light",
}
PRIORITY_COLOURS = {1: "secondary", 2: "info", 3: "warning", 4: "danger"}


@register.simple_tag
def state_badge(state):
    label = CaseState(state).label if state in CaseState.values else state
    colour = STATE_COLOURS.get(state, "secondary")
    text = "text-dark " if colour in ("light", "warning", "info") else ""
    return format_html(
        '<span class="badge {}bg-{} state-badge" data-state="{}">{}</span>',
        text,
        colour,
        state,
        label,
    )


@register.simple_tag
def priority_badge(case):
    return _priority_badge(case.priority)


def _priority_badge(priority):
    colour = PRIORITY_COLOURS.get(priority, "secondary")
    text = "text-dark " if colour in ("warning", "info") else ""
    label = Priority(priority).label if priority in Priority.values else priority
    return format_html('<span class="badge {}bg-{}">{}</span>', text, colour, label)


@register.simple_tag
def due_clock(due, now=None, running=True):
    """Time left until ``due``, or how long it is overdue (only while ``running``)."""
    return _due_clock(due, now or timezone.now(), running, {})


SPAN_UNITS = (("week", 7 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60))


def _span(earlier, later, texts):
    """``timesince(earlier, later, depth=1)`` (both times in one zone): the
    same calendar arithmetic, with each text made once and shared through
    ``texts`` by every row of a page that shows the same span."""
    delta = later - earlier
    if delta.days * 86400 + delta.seconds <= 0:
        unit, count = "minute", 0
    else:
        months = (later.year - earlier.year) * 12 + later.month - earlier.month
        if (earlier.day, earlier.time()) > (later.day, later.time()):
            months -= 1
        years, months = divmod(months, 12)
        if years:
            unit, count = "year", years
        elif months:
            unit, count = "month", months
        else:
            unit, count = "minute", 0
            seconds = delta.total_seconds()
            for name, size in SPAN_UNITS:
                if seconds >= size:
                    unit, count = name, int(seconds // size)
                    break
    if (unit, count) not in texts:
        texts[unit, count] = avoid_wrapping(TIME_STRINGS[unit] % {"num": count})
    return texts[unit, count]


def _due_clock(due, now, running, texts):
    if due is None or not running:
        return NO_DUE
    when = timezone.localtime(due).strftime("%Y-%m-%d %H:%M")
    now = now.astimezone(due.tzinfo)  # timesince counts months in the due time's zone
    if due < now:
        return format_html(
            '<span class="text-danger fw-semibold due overdue" title="{}">{}</span>',
            when,
            _("overdue by %(time)s") % {"time": _span(due, now, texts)},
        )
    return format_html(
        '<span class="due" title="{}">{}</span>',
        when,
        _("in %(time)s") % {"time": _span(now, due, texts)},
    )


NO_DUE = mark_safe('<span class="text-body-secondary">—</span>')
NUMBER = "__case_number__"  # stands for a case's number in a reversed URL


@register.simple_tag(takes_context=True)
def queue_rows(context, rows, selectable=False, reassign=False):
    """The queue table's rows (``queries.queue_listing``'s dicts): a checkbox
    for the bulk form when ``selectable``, a "Reassign" link on assigned
    cases when ``reassign``, an "Assign to me" button on unassigned ones.

    Built here rather than by a template loop, the way the admin builds its
    change list's rows: the loop spent 0.6 ms a row, mostly on per-node
    overhead and on looking the same labels up for every row
    (docs/PERFORMANCE.md). What rows share is made once per page: a badge
    per state and priority, a text per span of time, each URL reversed once
    with the row's number put in."""
    request = context["request"]
    now = context.get("now") or timezone.now()
    states, priorities, spans = {}, {}, {}
    case_url = reverse("complaints:case", args=[NUMBER])
    take_url = reverse("complaints:take", args=[NUMBER])
    assign_url = reverse("complaints:step", args=[NUMBER, "assign"])
    reassign_text = _("Reassign")
    token, here, take_text = get_token(request), request.get_full_path(), _("Assign to me")
    html = []
    for row in rows:
        number = row["number"]
        url_number = quote(number, safe=RFC3986_SUBDELIMS + "~:@")
        state, priority = row["state"], row["priority"]
        if state not in states:
            states[state] = state_badge(state)
        if priority not in priorities:
            priorities[priority] = _priority_badge(priority)
        if row["assignee_id"] is None:
            take = take_url.replace(NUMBER, url_number)
            who = format_html(
                '<form method="post" action="{}" hx-post="{}">'
                '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
                '<input type="hidden" name="next" value="{}">'
                '<button type="submit" class="btn btn-outline-primary btn-sm text-nowrap">'
                "{}</button></form>",
                take,
                take,
                token,
                here,
                take_text,
            )
        else:
            who = full_name(
                row["assignee_first_name"], row["assignee_last_name"], row["assignee_username"]
            )
            if reassign:
                who = format_html(
                    '{} <a class="small ms-1" href="{}">{}</a>',
                    who,
                    assign_url.replace(NUMBER, url_number),
                    reassign_text,
                )
        html.append(
            format_html(
                '<tr data-case="{}">{}<td><a href="{}" class="fw-semibold text-nowrap">{}</a></td>'
                "<td>{}{}</td><td>{}</td><td>{}</td><td>{}</td>"
                '<td class="text-nowrap">{}</td><td class="text-nowrap">{}</td>'
                '<td class="text-nowrap small">{}</td></tr>',
                number,
                format_html(
                    '<td><input class="form-check-input" type="checkbox" name="cases" value="{}"'
                    ' form="bulk-form" aria-label="{}"></td>',
                    number,
                    _("Select %(number)s") % {"number": number},
                )
                if selectable
                else "",
                case_url.replace(NUMBER, url_number),
                number,
                Truncator(row["summary"]).chars(60),
                format_html('<div class="small text-body-secondary">{}</div>', row["order_number"])
                if row["order_number"] is not None
                else "",
                row["buyer_id"],
                states[state],
                priorities[priority],
                who,
                _due_clock(row["due_at"], now, True, spans),
                timezone.localtime(row["created_at"]).strftime("%Y-%m-%d %H:%M"),
            )
        )
    if not html:
        return format_html(
            '<tr><td colspan="{}" class="text-center text-body-secondary py-4">{}</td></tr>',
            9 if selectable else 8,
            _("No cases here."),
        )
    return mark_safe("\n".join(html))  # each row is format_html's escaped output


@register.simple_tag
def team_rows(team):
    """The team page's rows, one per ``queries.AgentLoad``: open cases with a
    link to reassign them, a load meter, the open cases per state, overdue,
    waiting for approval, and the window's closed and satisfied customers.

    Built here like queue_rows: a template loop over 200 people and their
    seven states spent 35 ms on a row's nodes, number formatting and
    lookups (docs/PERFORMANCE.md)."""
    open_queue = reverse("complaints:queue", args=["open"])
    states = [state for state, _label, _count in team.states]
    most, best = team.max_load or 1, getattr(team.imbalance, "agent", None)
    reassign_text = _("Reassign…")
    html = []
    for load in team.agents:
        agent, total = load.agent, load.open_total
        assigned = f"{open_queue}?assignee={agent.pk}"
        if load.satisfaction_rate is None:
            satisfied = "—"
        else:
            satisfied = format_html(
                '{}% <span class="small text-body-secondary">({}/{})</span>',
                round(load.satisfaction_rate * 100),
                load.satisfied_recently,
                load.verified_recently,
            )
        html.append(
            format_html(
                '<tr data-agent="{}"{}><th scope="row" class="text-nowrap">{}{}</th>'
                '<td><a href="{}" data-open="{}">{}</a></td>'
                '<td><meter class="w-100" min="0" max="{}" value="{}" aria-label="{}">{}</meter>'
                "</td>{}<td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                agent.get_username(),
                mark_safe(' class="table-warning"') if best is not None and agent == best else "",
                display_name(agent),
                format_html(
                    ' <a class="small fw-normal ms-1" href="{}">{}</a>', assigned, reassign_text
                )
                if total
                else "",
                assigned,
                total,
                total,
                most,
                total,
                _("%(count)s open cases") % {"count": total},
                total,
                mark_safe(
                    "".join(
                        format_html('<td class="small">{}</td>', load.open_by_state.get(state, ""))
                        for state in states
                    )
                ),
                format_html('<span class="text-danger fw-semibold">{}</span>', load.overdue)
                if load.overdue
                else 0,
                load.waiting_approval,
                load.closed_recently,
                satisfied,
            )
        )
    return mark_safe("\n".join(html))  # each row is format_html's escaped output


def _local_time(value) -> str:
    """Return a stored ISO time as local "YYYY-MM-DD HH:MM" ("—" when missing)."""
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return "—"
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _label(choices, value):
    try:
        return choices(value).label
    except ValueError:
        return value


def _category_named(context, code):
    """The root-cause category ``code`` names (None when gone), read at most
    once per page. The case's own category and root cause, which its page
    has loaded already, are known without a query: the analysis and
    root-cause events usually name those."""
    known = context.render_context.get("categories_by_code")
    if known is None:
        case = context.get("case")
        loaded = (getattr(case, "category", None), getattr(case, "root_cause", None))
        known = {category.code: category for category in loaded if category is not None}
        context.render_context["categories_by_code"] = known
    if code not in known:
        known[code] = category_by_code(code)
    return known[code]


@register.simple_tag(takes_context=True)
def event_text(context, event):
    """One line describing an audit event, in the reader's language."""
    data = event.payload or {}
    kind = event.kind
    if kind == "transition":
        text = f"{_label(CaseState, event.from_state)} → {_label(CaseState, event.to_state)}"
        extra = data.get("reason") or data.get("comment") or data.get("demand") or ""
        if data.get("score"):
            extra = _("score %(score)s") % {"score": data["score"]} + (
                f" · {extra}" if extra else ""
            )
        return f"{text} · {extra}" if extra else text
    if kind == "contact":
        clock = ""
        if data.get("clock") == "paused":
            clock = _("clock paused")
        elif data.get("clock") == "resumed":
            clock = _("resolution now due %(due)s") % {
                "due": _local_time(data.get("resolution_due"))
            }
        return " · ".join(
            part
            for part in (
                str(_label(ContactChannel, data.get("channel"))),
                str(_label(ContactOutcome, data.get("outcome"))),
                data.get("notes", ""),
                clock,
            )
            if part
        )
    if kind in ("offer_proposed", "offer_changed", "offer_approved", "offer_rejected"):
        offer = str(_label(RemedyKind, data.get("kind")))
        if data.get("amount"):
            offer += f" ¥{data['amount']}"
        if kind in ("offer_approved", "offer_rejected"):
            note = data.get("note", "")
        else:
            note = str(_label(ApprovalStatus, data.get("approval")))
        return f"{offer} · {note}" if note else offer
    if kind in ("analysis", "root_cause"):
        code = data.get("category") or data.get("root_cause")
        category = _category_named(context, code) if code else None
        parts = [
            str(category) if category else code,
            str(_label(Severity, data.get("severity"))) if data.get("severity") else "",
            str(_label(ResponsibleParty, data.get("responsible_party") or data.get("party")))
            if (data.get("responsible_party") or data.get("party"))
            else "",
            data.get("sku", ""),
            data.get("corrective_action", ""),
        ]
        return " · ".join(part for part in parts if part)
    if kind == "revision_outcome":
        outcome = str(_label(RevisionOutcome, data.get("outcome")))
        rating = data.get("revised_rating")
        return f"{outcome} · {rating}★" if rating else outcome
    if kind == "revision_requested":
        return str(_label(ContactChannel, data.get("channel")))
    if kind == "execution_step":
        return f"{_label(RemedyKind, data.get('kind'))} · {data.get('reference', '')}"
    if kind == "evidence":
        return data.get("name", "")
    if kind == "details":
        changed = []
        for field, change in data.items():
            if field == "priority" and isinstance(change, dict):
                changed.append(
                    f"{_('priority')}: {_label(Priority, change.get('from'))} → "
                    f"{_label(Priority, change.get('to'))}"
                )
            elif field == "marketplace_due" and isinstance(change, dict):
                changed.append(f"{_('platform deadline')}: {_local_time(change.get('to'))}")
            elif isinstance(change, dict):
                changed.append(f"{field}: {change.get('to')}")
        return " · ".join(changed)
    if kind == "voucher_issued":
        return _("Voucher %(code)s, ¥%(value)s") % {
            "code": data.get("voucher"),
            "value": data.get("value"),
        }
    if kind == "assignment":
        return f"{data.get('from') or '—'} → {data.get('to') or '—'}"
    if kind in ("sla_warning", "escalated"):
        clock = str(_label(SlaClock, data.get("clock")))
        due = _local_time(data.get("due"))
        text = _("%(clock)s due %(due)s") % {"clock": clock, "due": due}
        change = data.get("priority")
        if isinstance(change, dict) and change.get("from") != change.get("to"):
            text += (
                f" · {_('priority')}: {_label(Priority, change.get('from'))} → "
                f"{_label(Priority, change.get('to'))}"
            )
        return text
    if kind == "note":
        return data.get("text", "")
    if kind == "opened":
        return data.get("summary", "")
    return " · ".join(f"{value}" for value in data.values() if value not in ("", None, []))


@register.simple_tag(takes_context=True)
def timeline_items(context, events):
    """The case timeline's items in the order given: when, who, what.

    Built here like ``queue_rows``: the template loop spent about 0.1 ms an
    event on its nodes, and a case worked for weeks has a hundred events.
    What events share is made once: each actor's name, each kind's label."""
    names, kinds, html = {}, {}, []
    for event in events:
        local = timezone.localtime(event.created_at)
        if event.actor_id not in names:
            names[event.actor_id] = display_name(event.actor, _("system"))
        if event.kind not in kinds:
            kinds[event.kind] = event.get_kind_display()
        html.append(
            format_html(
                '<li data-kind="{}"><div class="small text-body-secondary">'
                '<time datetime="{}">{}</time> · {}</div><div><strong>{}</strong>{}: {}</div></li>',
                event.kind,
                local.isoformat(),
                local.strftime("%Y-%m-%d %H:%M"),
                names[event.actor_id],
                kinds[event.kind],
                format_html(" ({})", event.transition) if event.transition else "",
                event_text(context, event),
            )
        )
    return mark_safe("\n".join(html))


@register.filter
def stars(rating):
    """Return ``rating`` (1–5) as filled and empty stars."""
    try:
        rating = max(0, min(5, int(rating)))
    except (TypeError, ValueError):
        return ""
    return "★" * rating + "☆" * (5 - rating)


@register.filter
def person(user, fallback=""):
    """Return a user's display name, or ``fallback`` for nobody."""
    return display_name(user, fallback)


@register.simple_tag
def policy_gap(offer):
    """The offer against what policy allows, e.g. "Voucher ¥80.00; policy allows ¥20.00",
    in the reader's language (the stored note keeps the proposer's)."""
    what = (
        f"{offer.get_kind_display()} ¥{offer.amount}"
        if offer.amount
        else str(offer.get_kind_display())
    )
    if offer.policy_rule_id is None:
        return _("%(offer)s: no policy rule covers this remedy") % {"offer": what}
    allowed = offer.policy_allowance
    if allowed is not None and offer.amount is not None and offer.amount > allowed:
        return _("%(offer)s; policy allows ¥%(allowed)s") % {"offer": what, "allowed": allowed}
    if offer.serial_complainant:
        return _("%(offer)s: inside policy, but the customer is a serial complainant") % {
            "offer": what
        }
    if allowed is None:
        return _("%(offer)s: inside policy") % {"offer": what}
    return _("%(offer)s: inside policy (up to ¥%(allowed)s)") % {"offer": what, "allowed": allowed}


@register.filter
def get(mapping, key):
    """Return ``mapping[key]`` (or nothing) in a template."""
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def duration(value):
    """Return a timedelta as 3 h 05 min / 2 d 4 h / 45 s."""
    if value is None:
        return ""
    seconds = int(value.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return _("%(d)s d %(h)s h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)s h %(m)02d min") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)s min") % {"m": minutes}
    return _("%(s)s s") % {"s": seconds}


@register.filter
def badge(count, cap=99):
    """A navigation counter: the number, or "99+" above the cap."""
    try:
        return f"{int(cap)}+" if int(count) > int(cap) else count
    except (TypeError, ValueError):
        return count

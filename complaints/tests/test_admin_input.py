"""Every form of the admin site, add and change, sent values at the edge of
each field's type: year 1 and year 9999, numbers past any column, decimals
past any precision, durations past Python's, unknown choices, a NUL byte and
10,000 characters of text. An admin makes typos too: each is refused on the
form (or stored where it fits), never a 500.

The forms are found, not listed: every registered model admin the admin
role may add or change, with its inlines.
"""

import pytest
from django import forms
from django.contrib import admin
from django.contrib.auth.forms import ReadOnlyPasswordHashField
from django.test import Client
from django.urls import reverse

from .test_page_roles import world  # noqa: F401 (a fixture: one object of each kind)

pytestmark = pytest.mark.django_db

# field type → the values sent, in turn
EDGES = {
    forms.SplitDateTimeField: [("0001-01-01", "00:00:00"), ("9999-12-31", "23:59:59")],
    forms.DateTimeField: ["0001-01-01 00:00", "9999-12-31 23:59:59"],
    forms.DateField: ["0001-01-01", "9999-12-31"],
    forms.DurationField: ["999999999 23:59:59", "-999999999 00:00:00"],
    forms.DecimalField: ["1e400", "-99999999999999999999.999"],
    forms.IntegerField: ["99999999999999999999", "-99999999999999999999"],
    forms.ModelChoiceField: ["999999999", "x"],
    forms.ChoiceField: ["no-such-choice", ""],
    forms.JSONField: ["[" * 10_000, '{"a": "\\u0000"}'],
    forms.BooleanField: ["on", ""],
}
TEXTS = ["before\x00after", "长" * 10_000]


def _edge_values(field, index):
    """The index-th edge value for ``field`` (None: leave the field out)."""
    if isinstance(field, forms.FileField | ReadOnlyPasswordHashField):
        return None
    for kind, values in EDGES.items():
        if isinstance(field, kind):
            return values[index % len(values)]
    return TEXTS[index % len(TEXTS)]


def _form_data(response, index):
    """POST data for the admin page in ``response``: every field of its form
    at an edge, and its inline formsets empty."""
    context = response.context
    form = context["adminform"].form if "adminform" in context else context["form"]
    data = {}
    for name, field in form.fields.items():
        value = _edge_values(field, index)
        if value is None:
            continue
        if isinstance(value, tuple):
            data[f"{name}_0"], data[f"{name}_1"] = value
        else:
            data[name] = value
    for inline in context.get("inline_admin_formsets", []):
        formset = inline.formset
        data[f"{formset.prefix}-TOTAL_FORMS"] = "0"
        data[f"{formset.prefix}-INITIAL_FORMS"] = "0"
    return data


def _admin_forms(admin_user):
    """(name, url) of every admin add and change page the admin role may use."""
    request = type("Request", (), {"user": admin_user})()
    pages = []
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        if model_admin.has_add_permission(request):
            pages.append((f"{model._meta.label} add", reverse("admin:{}_{}_add".format(*info))))
        obj = model._default_manager.order_by("pk").first()
        if obj is not None and model_admin.has_change_permission(request, obj):
            url = reverse("admin:{}_{}_change".format(*info), args=[obj.pk])
            pages.append((f"{model._meta.label} change", url))
    return pages


def test_every_admin_form_refuses_values_past_its_fields_cleanly(world, admin_user):  # noqa: F811
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    pages = _admin_forms(admin_user)
    assert len(pages) >= 20, pages
    failures = []
    for name, url in pages:
        page = client.get(url)
        if page.status_code != 200:
            failures.append((name, "GET", page.status_code))
            continue
        for index in range(2):
            response = client.post(url, _form_data(page, index))
            if response.status_code not in (200, 302, 400):  # 400: the case page's own forms
                failures.append((name, index, response.status_code))
    assert not failures, "\n".join(map(str, failures))


def _current_values(form, data):
    """Put ``form``'s current values into ``data`` as a browser would post them."""
    for name, field in form.fields.items():
        if isinstance(field, forms.FileField | ReadOnlyPasswordHashField):
            continue
        key = form.add_prefix(name)
        value = field.prepare_value(form[name].value())
        widget = field.widget
        if isinstance(widget, forms.MultiWidget):
            for index, part in enumerate(widget.decompress(value)):
                data[f"{key}_{index}"] = "" if part is None else str(part)
        elif isinstance(field, forms.BooleanField):
            if value:
                data[key] = "on"
        elif isinstance(field, forms.ModelMultipleChoiceField | forms.MultipleChoiceField):
            data[key] = [str(item) for item in value or []]
        else:
            data[key] = "" if value is None else str(value)


def _baseline(response):
    """The POST a browser would send for the change page in ``response``
    unchanged: each field's current value, each inline's rows as they are."""
    context = response.context
    data = {}
    _current_values(context["adminform"].form, data)
    for inline in context.get("inline_admin_formsets", []):
        formset = inline.formset
        rows = formset.initial_form_count()
        data[f"{formset.prefix}-TOTAL_FORMS"] = str(rows)
        data[f"{formset.prefix}-INITIAL_FORMS"] = str(rows)
        for form in formset.forms[:rows]:
            _current_values(form, data)
    return data


def test_each_field_of_each_admin_change_form_alone_at_its_edges(world, admin_user):  # noqa: F811
    """One field at a time, the others as they are: a value that passes the
    form reaches the model's checks and the database, where a typo must
    still be refused cleanly (or fit)."""
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    pages = [(name, url) for name, url in _admin_forms(admin_user) if name.endswith("change")]
    assert len(pages) >= 10, pages
    failures, sent = [], 0
    for name, url in pages:
        page = client.get(url)
        if "adminform" not in page.context:
            continue  # the case: changed through its steps, tested elsewhere
        unchanged = client.post(url, _baseline(page))
        if unchanged.status_code != 302:
            failures.append((name, "unchanged", unchanged.status_code))
            continue
        form = page.context["adminform"].form
        baseline = None  # the object as it is now: drawn again after a save changed it
        for field_name, field in form.fields.items():
            for index in range(2):
                value = _edge_values(field, index)
                if value is None:
                    continue
                baseline = baseline or _baseline(client.get(url))
                data = baseline.copy()
                if isinstance(value, tuple):
                    data[f"{field_name}_0"], data[f"{field_name}_1"] = value
                else:
                    data[field_name] = value
                response = client.post(url, data)
                sent += 1
                if response.status_code != 200:  # saved (or failed): read the object again
                    baseline = None
                if response.status_code not in (200, 302):
                    failures.append((name, field_name, value[:20], response.status_code))
    assert sent >= 50
    assert not failures, "\n".join(map(str, failures))


@pytest.mark.parametrize(
    "text",
    [
        "[" * 10_000,  # nested too deep to decode
        '{"a": "\\u0000"}',  # PostgreSQL's jsonb cannot store a NUL
        '[{"ok": ["fine", {"\\u0000key": 1}]}]',
    ],
)
def test_the_admin_json_field_refuses_what_would_fail_later(text):
    from complaints.forms import BoundedJSONField

    field = BoundedJSONField()
    with pytest.raises(forms.ValidationError):
        field.clean(text)
    assert field.bound_data(text, None) is not None  # the form can be drawn again


def test_the_admin_json_field_takes_ordinary_json():
    from complaints.forms import BoundedJSONField

    assert BoundedJSONField().clean('["vip", {"note": "回头客"}]') == ["vip", {"note": "回头客"}]


def test_every_admin_search_takes_a_nul_character(world, admin_user):  # noqa: F811
    """Changelist searches and the autocomplete's: PostgreSQL cannot compare
    text holding a NUL, and the autocomplete failed there with a 500."""
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    searched = 0
    for model, model_admin in admin.site._registry.items():
        if not model_admin.search_fields:
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        if client.get(url).status_code != 200:
            continue  # the admin role may not list these
        response = client.get(url, {"q": "a\x00b"})
        assert response.status_code == 200, (model, response.status_code)
        searched += 1
    assert searched >= 5
    response = client.get(
        "/admin/autocomplete/",
        {
            "term": "\x00",
            "app_label": "complaints",
            "model_name": "order",
            "field_name": "customer",
        },
    )
    assert response.status_code == 200 and isinstance(response.json()["results"], list)

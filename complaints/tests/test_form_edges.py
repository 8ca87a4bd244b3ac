"""Every field of every step form, one at a time on an otherwise valid step,
sent the edge of its type: numbers past any column or timedelta, decimals
past any precision, unknown choices and keys. Each is refused (400) or taken
(302), never a 500. The fields are found from the forms, not listed; text
fields have their own test (test_nasty_input), dates theirs (test_dates)."""

import pytest
from django import forms
from django.test import Client

from complaints.steps import STEPS_BY_NAME

from .test_nasty_input import _post_step, _prepare
from .test_views_steps import STEPS

pytestmark = pytest.mark.django_db

EDGES = {
    forms.DecimalField: ["1e400", "-1e400", "NaN", "99999999999999999999.99"],
    forms.IntegerField: ["99999999999999999999", "-99999999999999999999", "2147483648"],
    forms.ModelChoiceField: ["99999999999999999999", "x", "-1"],
    forms.ChoiceField: ["no-such-choice", "99999999999999999999"],
}


def _edges(field):
    for kind, values in EDGES.items():
        if isinstance(field, kind):
            return values
    return []


STEP_FIELDS = [
    (step, name)
    for step in STEPS
    for name, field in STEPS_BY_NAME[step].form_class.base_fields.items()
    if _edges(field)
]


def test_the_fields_are_found():
    found = set(STEP_FIELDS)
    assert ("issue_voucher", "valid_days") in found
    assert ("propose_offer", "amount") in found
    assert len(found) >= 10


@pytest.mark.parametrize("step,field", STEP_FIELDS)
def test_each_number_and_choice_of_each_step_at_its_edges(step, field, agent, supervisor):
    actor, ctx, data = _prepare(step, agent, supervisor)
    client = Client(raise_request_exception=False)
    client.force_login(actor)
    for value in _edges(STEPS_BY_NAME[step].form_class.base_fields[field]):
        response = _post_step(client, step, ctx, {**data, field: value})
        assert response.status_code in (302, 400, 409), (value, response.status_code)
        if response.status_code == 302:
            break  # taken: the case moved on

"""Taking a step from a page: bind the form, check the case has not changed
since the page was drawn, run the step, and say what happened."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from ..queries import active_quick_reply, reply_values
from ..steps import Step, require_available, run_step
from ..workflow import StepNotAllowed


@dataclass
class StepResult:
    form: object
    status: int = 200
    error: str = ""
    done: bool = False
    result: object = None


def process_step(request, case, step: Step) -> StepResult:
    """Handle GET (an empty form) or POST (run it) of ``step`` on ``case``.

    Raises PermissionDenied when the user may not take the step at all.
    """
    data = request.POST if request.method == "POST" else None
    form = step.form(case, request.user, data, request.FILES or None)
    stale = data is not None and data.get("expected_state") != case.state
    changed_meanwhile = _(
        "This case changed meanwhile (it is now “%(state)s”): it has been reloaded; "
        "check it and submit again."
    ) % {"state": case.get_state_display()}
    try:
        require_available(step, case, request.user)  # PermissionDenied propagates: 403
    except StepNotAllowed as refused:
        # A form sent from an older state is told why: the case moved on.
        return StepResult(form, status=409, error=changed_meanwhile if stale else str(refused))
    if request.method != "POST":
        return StepResult(form)
    if request.POST.get("_insert_reply"):
        return StepResult(insert_quick_reply(request, case, step, form))
    if stale:
        return StepResult(form, status=409, error=changed_meanwhile)
    if not form.is_valid():
        return StepResult(form, status=400)
    outcome = run_step(step, case, request.user, form)
    if outcome.ok:
        return StepResult(form, done=True, result=outcome.result)
    if outcome.status == 403:
        raise PermissionDenied(outcome.message)
    return StepResult(form, status=outcome.status, error=outcome.message)


def insert_quick_reply(request, case, step: Step, form):
    """Return ``form`` re-bound with the chosen quick reply appended to its text."""
    field = getattr(form, "quick_reply_field", "")
    template = active_quick_reply(request.POST.get("quick_reply"))
    if not field or template is None:
        return form
    data = request.POST.copy()
    typed = data.get(field, "").rstrip()
    text = template.render(reply_values(case, request.user))
    data[field] = f"{typed}\n{text}" if typed else text
    # Unbound with the typed values as initial: nothing is validated yet.
    initial = {key: data.get(key) for key in form.fields}
    return step.form(case, request.user, initial=initial)

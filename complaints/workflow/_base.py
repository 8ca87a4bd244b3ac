"""What every workflow operation shares: the row lock, the permission and
state checks, the transition call and the one audit event."""

import logging
from decimal import Decimal
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from .. import sla
from ..models import Case, CaseEvent
from ..models.case_rules import may_work_case
from ..signals import case_event_committed, case_event_recorded

logger = logging.getLogger("complaints.workflow")


class StepNotAllowed(TransitionNotAllowed):
    """This step cannot be taken on the case as it is now (state or guard).

    ``code`` says which: ``invalid_state`` (not from this state),
    ``guard_unmet`` (a condition of the step does not hold yet), or a more
    specific reason given by the raiser.
    """

    def __init__(self, message, *args, code: str = "invalid_state", **kwargs):
        super().__init__(message, *args, **kwargs)
        self.code = code


class CaseChanged(ConcurrentTransition):
    """Someone else changed the case since the caller loaded it."""

    code = "case_changed"


def lock_case(case: Case, *, check_state: bool = True) -> Case:
    """Return the case re-read under SELECT FOR UPDATE; call inside atomic().

    Refuses when the state differs from the caller's copy: the caller acted
    on a page that is out of date, and must reload rather than win blindly.
    ``check_state=False`` is for steps on an offer, which check the offer.
    """
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if check_state and locked.state != case.state:
        raise CaseChanged(
            _("This case changed meanwhile (it is now “%(state)s”): reload it and try again.")
            % {"state": locked.get_state_display()}
        )
    return locked


def require_perm(actor, perm: str, message: str) -> None:
    if actor is None or not actor.is_active or not actor.has_perm(perm):
        raise PermissionDenied(message)


def require_may_work(case: Case, actor) -> None:
    """Refuse unless ``actor`` may work this case (its assignee, or a supervisor)."""
    if not may_work_case(case, actor):
        if actor is not None and actor.has_perm("complaints.work_case"):
            raise PermissionDenied(_("This case is assigned to someone else."))
        raise PermissionDenied(_("You may not work cases."))


def require_state(case: Case, states, step: str) -> None:
    if case.state not in states:
        raise StepNotAllowed(
            _("“%(step)s” is not possible while the case is “%(state)s”.")
            % {"step": step, "state": case.get_state_display()}
        )


def jsonable(value):
    """Return ``value`` in a form a JSONField stores losslessly."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def record_event(
    case: Case,
    actor,
    kind: str,
    *,
    transition_name: str = "",
    from_state: str = "",
    to_state: str = "",
    payload=None,
) -> CaseEvent:
    """Write the operation's one audit event; announce it once committed."""
    event = CaseEvent.objects.create(
        case=case,
        actor=actor,
        kind=kind,
        transition=transition_name,
        from_state=from_state,
        to_state=to_state,
        payload=jsonable(payload or {}),
    )
    case_event_recorded.send(sender=CaseEvent, event=event)
    transaction.on_commit(partial(case_event_committed.send, sender=CaseEvent, event=event))
    return event


def run_transition(case: Case, actor, name: str, *, payload=None, **kwargs) -> CaseEvent:
    """Fire transition ``name`` on the locked ``case``, save it, log it.

    Raises PermissionDenied for the wrong user, StepNotAllowed for the wrong
    state or an unmet guard (with the guard's message), ConcurrentTransition
    when the row changed under us.
    """
    method = getattr(case, name)
    meta = method._django_fsm
    from_state = case.state
    require_may_work(case, actor)
    spec = meta.get_transition(from_state) if meta.has_transition(from_state) else None
    if spec is None:
        raise StepNotAllowed(
            _("“%(step)s” is not possible while the case is “%(state)s”.")
            % {"step": name, "state": case.get_state_display()}
        )
    if not spec.has_perm(case, actor):
        raise PermissionDenied(_("You may not do this on this case."))
    unmet = [str(condition.message) for condition in spec.conditions if not condition(case)]
    if unmet:
        raise StepNotAllowed(" ".join(unmet), code="guard_unmet")
    method(**kwargs)
    sla.after_transition(case, name)
    case.save()
    return record_event(
        case,
        actor,
        "transition",
        transition_name=name,
        from_state=from_state,
        to_state=case.state,
        payload=payload,
    )


def field_error(field: str, message, code: str) -> ValidationError:
    """Return a ValidationError for one form field that keeps its ``code``."""
    return ValidationError({field: ValidationError(message, code=code)})

"""Supervisors acting on many cases at once: each case is its own operation
(one transaction, one event), and a case that cannot be changed is reported,
not fatal for the others."""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from ..models import Priority
from ._base import require_perm
from .cases import case_assign, case_update_details


@dataclass
class BulkResult:
    done: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # (case, reason)


def _each(cases, operation) -> BulkResult:
    result = BulkResult()
    for case in cases:
        try:
            changed = operation(case)
        except (
            ValidationError,
            PermissionDenied,
            TransitionNotAllowed,
            ConcurrentTransition,
        ) as error:
            result.skipped.append((case, " ".join(getattr(error, "messages", [str(error)]))))
        else:
            if changed:
                result.done.append(case)
    return result


def cases_bulk_assign(*, cases, assignee, actor) -> BulkResult:
    """Give every case in ``cases`` to ``assignee`` (supervisors)."""
    require_perm(actor, "complaints.reassign_case", _("Only a supervisor may assign cases."))

    def assign(case):
        if case.assignee_id == getattr(assignee, "pk", None):
            return False
        case_assign(case=case, assignee=assignee, actor=actor)
        return True

    return _each(cases, assign)


def cases_bulk_raise_priority(*, cases, actor) -> BulkResult:
    """Raise each case's priority one level, up to urgent (supervisors)."""
    require_perm(actor, "complaints.reassign_case", _("Only a supervisor may raise priorities."))

    def raise_one(case):
        if case.priority >= Priority.URGENT:
            raise ValidationError(_("Already urgent."), code="already_urgent")
        case_update_details(case=case, actor=actor, priority=case.priority + 1)
        return True

    return _each(cases, raise_one)

"""The steps a user can take on a case page: which form, which workflow
function, and when the step is offered. Pages (the admin today, the agent
workspace next) render this list instead of deciding rules themselves."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from . import forms as step_forms
from . import workflow
from .models import (
    OPEN_STATES,
    ApprovalStatus,
    Case,
    CaseState,
    MarketplaceSettings,
    Offer,
    RemedyKind,
    RevisionOutcome,
    Voucher,
)
from .models.case_rules import may_assign_case, may_decide_offer, may_work_case
from .workflow.followup import REVISION_STATES
from .workflow.offers import PROPOSAL_STATES, REFERENCE_KINDS


def _works(case, user) -> bool:
    return may_work_case(case, user)


def _can_note(case, user) -> bool:
    return user.is_active and user.has_perm("complaints.work_case")


def _can_assign(case, user) -> bool:
    return may_assign_case(case, user, user) or user.has_perm("complaints.reassign_case")


def _can_decide(case, user) -> bool:
    pending = Offer.objects.filter(case=case, approval_status=ApprovalStatus.PENDING)
    return any(may_decide_offer(offer, user) for offer in pending)


def _voucher_to_issue(case) -> bool:
    offer = case.accepted_offer
    return (
        offer is not None
        and offer.kind == RemedyKind.VOUCHER
        and not Voucher.objects.filter(offer=offer).exists()
    )


def _reference_to_record(case) -> bool:
    offer = case.accepted_offer
    return offer is not None and offer.kind in REFERENCE_KINDS


def _revision_to_request(case) -> bool:
    return (
        case.review_id is not None
        and case.review.revision_requested_at is None
        and MarketplaceSettings.for_marketplace(case.review.marketplace).revision_requests_allowed
    )


def _revision_outcome_open(case) -> bool:
    return (
        case.review_id is not None
        and case.review.revision_requested_at is not None
        and case.review.revision_outcome == RevisionOutcome.PENDING
    )


@dataclass(frozen=True)
class Step:
    name: str
    label: str
    form_class: type
    run: Callable  # run(case, user, cleaned_data) -> result
    transition: str = ""
    states: tuple = OPEN_STATES
    allowed: Callable = _works  # allowed(case, user) -> bool
    applies: Callable = field(default=lambda case: True)  # applies(case) -> bool

    def is_available(self, case: Case, user) -> bool:
        """Return whether ``user`` may take this step on ``case`` as it is now."""
        if self.transition:
            spec = _transition_spec(case, self.transition)
            return spec is not None and spec.has_perm(case, user)
        return case.state in self.states and self.allowed(case, user) and self.applies(case)

    def possible_now(self, case: Case) -> bool:
        """Return whether the case's state allows this step at all (anyone's)."""
        if self.transition:
            return _transition_spec(case, self.transition) is not None
        return case.state in self.states and self.applies(case)

    def unmet(self, case: Case) -> list[str]:
        """Return the messages of this step's guards that do not hold yet."""
        if not self.transition:
            return []
        spec = _transition_spec(case, self.transition)
        if spec is None:
            return []
        return [str(condition.message) for condition in spec.conditions if not condition(case)]

    def form(self, case: Case, user, data=None, files=None, initial=None):
        kwargs = {"initial": initial} if initial is not None else {}
        return self.form_class(data, files, case=case, user=user, **kwargs)


def _transition_spec(case, name):
    meta = getattr(case, name)._django_fsm
    return meta.get_transition(case.state) if meta.has_transition(case.state) else None


def _details(case, user, data):
    return workflow.case_update_details(case=case, actor=user, **data)


def _confirm(case, user, data):
    """Confirm, storing the evidence sent with it in the same transaction."""
    with transaction.atomic():
        if data.get("evidence"):
            try:
                workflow.case_add_evidence(case=case, actor=user, file=data["evidence"])
            except ValidationError as error:  # the form calls the file "evidence"
                raise ValidationError({"evidence": error.error_dict["file"]}) from error
        return workflow.case_confirm(
            case=case, actor=user, demand=data["demand"], description=data["description"]
        )


def _without(data, *names):
    return {key: value for key, value in data.items() if key not in names}


STEPS = [
    Step(
        "confirm",
        _("Confirm the issue"),
        step_forms.ConfirmForm,
        _confirm,
        transition="confirm",
    ),
    Step(
        "analyze",
        _("Analyze"),
        step_forms.AnalyzeForm,
        lambda case, user, data: workflow.case_analyze(case=case, actor=user, **data),
        states=PROPOSAL_STATES,
    ),
    Step(
        "propose_offer",
        _("Propose an offer"),
        step_forms.OfferForm,
        lambda case, user, data: workflow.offer_propose(case=case, actor=user, **data),
        states=PROPOSAL_STATES,
    ),
    Step(
        "approve_offer",
        _("Approve an offer"),
        step_forms.OfferDecisionForm,
        lambda case, user, data: workflow.offer_approve(
            offer=data["offer"], actor=user, note=data["note"]
        ),
        states=PROPOSAL_STATES,
        allowed=_can_decide,
    ),
    Step(
        "reject_offer",
        _("Reject an offer"),
        step_forms.OfferDecisionForm,
        lambda case, user, data: workflow.offer_reject(
            offer=data["offer"], actor=user, note=data["note"]
        ),
        states=PROPOSAL_STATES,
        allowed=_can_decide,
    ),
    Step(
        "propose",
        _("Put the options to the customer"),
        step_forms.EmptyStepForm,
        lambda case, user, data: workflow.case_propose(case=case, actor=user),
        transition="propose",
    ),
    Step(
        "accept",
        _("Record the customer's choice"),
        step_forms.AcceptForm,
        lambda case, user, data: workflow.case_accept_offer(
            case=case, offer=data["offer"], actor=user
        ),
        transition="accept",
    ),
    Step(
        "issue_voucher",
        _("Issue the voucher"),
        step_forms.VoucherForm,
        lambda case, user, data: workflow.voucher_issue(
            case=case, actor=user, valid_days=data["valid_days"]
        ),
        states=(CaseState.EXECUTING,),
        applies=_voucher_to_issue,
    ),
    Step(
        "record_execution",
        _("Record the refund or shipment"),
        step_forms.ExecutionForm,
        lambda case, user, data: workflow.offer_record_execution(
            case=case, actor=user, reference=data["reference"]
        ),
        states=(CaseState.EXECUTING,),
        applies=_reference_to_record,
    ),
    Step(
        "mark_executed",
        _("Mark the remedy done"),
        step_forms.EmptyStepForm,
        lambda case, user, data: workflow.case_mark_executed(case=case, actor=user),
        transition="mark_executed",
    ),
    Step(
        "record_contact",
        _("Record a contact"),
        step_forms.ContactForm,
        lambda case, user, data: workflow.case_record_contact(
            case=case, actor=user, **_without(data, "quick_reply")
        ),
    ),
    Step(
        "record_satisfaction",
        _("Record satisfaction"),
        step_forms.SatisfactionForm,
        lambda case, user, data: workflow.case_record_satisfaction(case=case, actor=user, **data),
        transition="satisfied",
    ),
    Step(
        "request_revision",
        _("Ask for a review revision"),
        step_forms.RevisionRequestForm,
        lambda case, user, data: workflow.case_request_review_revision(
            case=case, actor=user, **data
        ),
        states=REVISION_STATES,
        applies=_revision_to_request,
    ),
    Step(
        "revision_outcome",
        _("Record the revision outcome"),
        step_forms.RevisionOutcomeForm,
        lambda case, user, data: workflow.case_record_revision_outcome(
            case=case, actor=user, **data
        ),
        states=REVISION_STATES,
        applies=_revision_outcome_open,
    ),
    Step(
        "record_root_cause",
        _("Record the root cause"),
        step_forms.RootCauseForm,
        lambda case, user, data: workflow.case_record_root_cause(case=case, actor=user, **data),
        states=(CaseState.ROOT_CAUSE,),
    ),
    Step(
        "close",
        _("Close"),
        step_forms.EmptyStepForm,
        lambda case, user, data: workflow.case_close(case=case, actor=user),
        transition="close",
    ),
    Step(
        "reopen",
        _("Reopen"),
        step_forms.OptionalReasonForm,
        lambda case, user, data: workflow.case_reopen(case=case, actor=user, **data),
        transition="reopen",
    ),
    Step(
        "add_note",
        _("Add a note"),
        step_forms.NoteForm,
        lambda case, user, data: workflow.case_add_note(case=case, actor=user, text=data["text"]),
        states=tuple(CaseState),
        allowed=_can_note,
    ),
    Step(
        "add_evidence",
        _("Add evidence"),
        step_forms.EvidenceForm,
        lambda case, user, data: workflow.case_add_evidence(case=case, actor=user, **data),
    ),
    Step("edit_details", _("Edit details"), step_forms.DetailsForm, _details),
    Step(
        "assign",
        _("Assign"),
        step_forms.AssignForm,
        lambda case, user, data: workflow.case_assign(
            case=case, assignee=data["assignee"], actor=user
        ),
        allowed=_can_assign,
    ),
    Step(
        "cancel",
        _("Cancel the case"),
        step_forms.ReasonForm,
        lambda case, user, data: workflow.case_cancel(case=case, actor=user, **data),
        transition="cancel",
    ),
]

STEPS_BY_NAME = {step.name: step for step in STEPS}


def require_available(step: Step, case: Case, user) -> None:
    """Refuse ``step`` unless ``user`` may take it on ``case`` now: with
    PermissionDenied when the case's state allows it but not for this user,
    with StepNotAllowed when the state does not allow it at all."""
    if step.is_available(case, user):
        return
    if step.possible_now(case):
        raise PermissionDenied(_("You may not take this step on this case."))
    raise workflow.StepNotAllowed(
        _("“%(step)s” is not possible while the case is “%(state)s”.")
        % {"step": step.label, "state": case.get_state_display()}
    )


def available_steps(case: Case, user) -> list[tuple[Step, list[str]]]:
    """Return the steps ``user`` may take on ``case``, each with its unmet guards."""
    return [(step, step.unmet(case)) for step in STEPS if step.is_available(case, user)]


@dataclass
class StepOutcome:
    ok: bool
    status: int = 200  # the HTTP status a page should answer with
    message: str = ""
    result: object = None


def run_step(step: Step, case: Case, user, form) -> StepOutcome:
    """Run a bound, valid ``form`` through ``step``'s workflow function.

    Bad input lands on the form (400); the wrong user gets 403; the wrong
    state, an unmet guard or a concurrent change gets 409 with the reason.
    The caller re-renders the form on failure, so nothing typed is lost.
    """
    try:
        result = step.run(case, user, form.cleaned_data)
    except ValidationError as error:
        add_validation_errors(form, error)
        return StepOutcome(ok=False, status=400)
    except PermissionDenied as error:
        return StepOutcome(ok=False, status=403, message=str(error))
    except (TransitionNotAllowed, ConcurrentTransition) as error:
        return StepOutcome(ok=False, status=409, message=str(error))
    return StepOutcome(ok=True, result=result)


def add_validation_errors(form, error: ValidationError) -> None:
    """Put a workflow ValidationError on ``form``: on its field where the form
    has one, otherwise at the top."""
    if hasattr(error, "error_dict"):
        for field_name, errors in error.error_dict.items():
            form.add_error(field_name if field_name in form.fields else None, errors)
    else:
        form.add_error(None, error)

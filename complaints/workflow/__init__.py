"""The operations users perform on cases.

Each is one function: atomic, locks the case row, re-checks the state after
the lock, checks the actor's permission, transitions and saves, writes
exactly one CaseEvent, and leaves outside effects to ``on_commit``. Errors:
ValidationError (bad input), PermissionDenied (wrong user), StepNotAllowed /
TransitionNotAllowed (wrong state or unmet guard), ConcurrentTransition
(the case changed meanwhile).
"""

from ._base import CaseChanged, StepNotAllowed
from .bulk import BulkResult, cases_bulk_assign, cases_bulk_raise_priority
from .cases import (
    case_analyze,
    case_assign,
    case_cancel,
    case_close,
    case_confirm,
    case_open,
    case_open_from_review,
    case_reopen,
    case_update_details,
)
from .followup import (
    REVISION_STATES,
    case_complete_corrective_action,
    case_record_revision_outcome,
    case_record_root_cause,
    case_record_satisfaction,
    case_request_review_revision,
)
from .offers import (
    case_accept_offer,
    case_mark_executed,
    case_propose,
    offer_allowances,
    offer_approve,
    offer_change,
    offer_preview,
    offer_propose,
    offer_record_execution,
    offer_reject,
    voucher_issue,
)
from .records import case_add_evidence, case_add_note, case_record_contact
from .reviews import review_reply_save
from .vouchers import VoucherNotRedeemable, voucher_redeem, voucher_void, vouchers_expire

__all__ = [
    "REVISION_STATES",
    "BulkResult",
    "CaseChanged",
    "StepNotAllowed",
    "VoucherNotRedeemable",
    "case_accept_offer",
    "case_add_evidence",
    "case_add_note",
    "case_analyze",
    "case_assign",
    "case_cancel",
    "case_close",
    "case_complete_corrective_action",
    "case_confirm",
    "case_mark_executed",
    "case_open",
    "case_open_from_review",
    "case_propose",
    "case_record_contact",
    "case_record_revision_outcome",
    "case_record_root_cause",
    "case_record_satisfaction",
    "case_reopen",
    "case_request_review_revision",
    "case_update_details",
    "cases_bulk_assign",
    "cases_bulk_raise_priority",
    "offer_allowances",
    "offer_approve",
    "offer_change",
    "offer_preview",
    "offer_propose",
    "offer_record_execution",
    "offer_reject",
    "review_reply_save",
    "voucher_issue",
    "voucher_redeem",
    "voucher_void",
    "vouchers_expire",
]

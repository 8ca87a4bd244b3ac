"""Read side: selectors used by the workflow, the pages and the reports.

One module per reader: history (compensation given), cases (queues and the
case page), team (approvals and load), money (compensation and vouchers).
"""

from .cases import (
    QUEUES,
    CustomerHistory,
    active_quick_reply,
    by_id,
    case_for_page,
    case_offers,
    case_queue,
    case_timeline,
    category_by_code,
    customer_history,
    overdue,
    queue_listing,
    reply_values,
    reviews_to_open,
    search_orders,
)
from .deadlines import (
    BOARD_STATUSES,
    DeadlineSummary,
    attach_clock_states,
    deadline_cases,
    deadline_summary,
)
from .history import compensated_case_count, refunds_committed
from .money import (
    LEDGER_SORT,
    LedgerTotals,
    compensation_cost,
    ledger_summary,
    shared_ledger_summary,
    voucher_ledger,
    with_compensation_cost,
)
from .reviews import (
    INBOX_SORT,
    Funnel,
    attach_reply_clocks,
    recovery_funnel,
    reply_windows,
    review_inbox,
    review_reply_values,
    shared_recovery_funnel,
    unreplied_counts,
)
from .team import AgentLoad, TeamOverview, pending_approval_count, pending_offers, team_overview

__all__ = [
    "BOARD_STATUSES",
    "INBOX_SORT",
    "LEDGER_SORT",
    "QUEUES",
    "AgentLoad",
    "CustomerHistory",
    "DeadlineSummary",
    "Funnel",
    "LedgerTotals",
    "TeamOverview",
    "active_quick_reply",
    "attach_clock_states",
    "attach_reply_clocks",
    "by_id",
    "case_for_page",
    "case_offers",
    "case_queue",
    "case_timeline",
    "category_by_code",
    "compensated_case_count",
    "compensation_cost",
    "customer_history",
    "deadline_cases",
    "deadline_summary",
    "ledger_summary",
    "overdue",
    "pending_approval_count",
    "pending_offers",
    "queue_listing",
    "recovery_funnel",
    "refunds_committed",
    "reply_values",
    "reply_windows",
    "review_inbox",
    "review_reply_values",
    "reviews_to_open",
    "search_orders",
    "shared_ledger_summary",
    "shared_recovery_funnel",
    "team_overview",
    "unreplied_counts",
    "voucher_ledger",
    "with_compensation_cost",
]

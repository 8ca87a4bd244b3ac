"""Read side: selectors used by the workflow, the pages and the reports.

One module per reader: history (compensation given), cases (queues and the
case page), team (approvals and load), money (compensation and vouchers).
"""

from .cases import (
    QUEUES,
    CustomerHistory,
    case_for_page,
    case_offers,
    case_queue,
    case_timeline,
    customer_history,
    overdue,
    reply_values,
    reviews_to_open,
    search_orders,
    with_due,
)
from .history import compensated_case_count, refunds_committed
from .money import (
    LedgerTotals,
    compensation_cost,
    ledger_by_month,
    ledger_totals,
    voucher_ledger,
    with_compensation_cost,
)
from .team import AgentLoad, TeamOverview, pending_approval_count, pending_offers, team_overview

__all__ = [
    "QUEUES",
    "AgentLoad",
    "CustomerHistory",
    "LedgerTotals",
    "TeamOverview",
    "case_for_page",
    "case_offers",
    "case_queue",
    "case_timeline",
    "compensated_case_count",
    "compensation_cost",
    "customer_history",
    "ledger_by_month",
    "ledger_totals",
    "overdue",
    "pending_approval_count",
    "pending_offers",
    "refunds_committed",
    "reply_values",
    "reviews_to_open",
    "search_orders",
    "team_overview",
    "voucher_ledger",
    "with_compensation_cost",
    "with_due",
]

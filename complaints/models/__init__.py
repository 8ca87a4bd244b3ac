"""The domain model, one module per aggregate."""

from .accounts import AuthenticatorKey
from .cases import (
    OPEN_STATES,
    Case,
    CaseNumberCounter,
    CaseSource,
    CaseState,
    Priority,
    ResponsibleParty,
    Severity,
    open_q,
)
from .common import Marketplace
from .contacts import Contact, ContactChannel, ContactOutcome, Evidence
from .customers import Customer, Motive, Temperament
from .events import CaseEvent, EventKind, ExportRecord
from .integrations import (
    DeliveryStatus,
    IdempotencyKey,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from .notifications import Notification, NotificationKind, NotificationSettings
from .offers import ApprovalStatus, Offer, OfferOutcome
from .orders import Order, OrderItem
from .policy import REFUND_KINDS, PolicyRule, RemedyKind
from .replies import PLACEHOLDERS, ReplyTemplate, ReplyTopic
from .reviews import (
    REPLY_MAX_LENGTH,
    REVISED_WHEN_ASKED,
    REVISION_ASKED,
    MarketplaceSettings,
    ReplyEdit,
    ReplyStatus,
    Review,
    ReviewReply,
    RevisionOutcome,
)
from .rootcause import RootCauseCategory
from .sla import (
    BusinessHours,
    SlaAlert,
    SlaAlertLevel,
    SlaCalendar,
    SlaClock,
    SlaPolicy,
    SpecialDay,
    Weekday,
)
from .vouchers import Voucher, VoucherStatus

__all__ = [
    "OPEN_STATES",
    "PLACEHOLDERS",
    "REFUND_KINDS",
    "REPLY_MAX_LENGTH",
    "REVISED_WHEN_ASKED",
    "REVISION_ASKED",
    "ApprovalStatus",
    "AuthenticatorKey",
    "BusinessHours",
    "Case",
    "CaseEvent",
    "CaseNumberCounter",
    "CaseSource",
    "CaseState",
    "Contact",
    "ContactChannel",
    "ContactOutcome",
    "Customer",
    "DeliveryStatus",
    "EventKind",
    "Evidence",
    "ExportRecord",
    "IdempotencyKey",
    "Marketplace",
    "MarketplaceSettings",
    "Motive",
    "Notification",
    "NotificationKind",
    "NotificationSettings",
    "Offer",
    "OfferOutcome",
    "Order",
    "OrderItem",
    "PolicyRule",
    "Priority",
    "RemedyKind",
    "ReplyEdit",
    "ReplyStatus",
    "ReplyTemplate",
    "ReplyTopic",
    "ResponsibleParty",
    "Review",
    "ReviewReply",
    "RevisionOutcome",
    "RootCauseCategory",
    "Severity",
    "SlaAlert",
    "SlaAlertLevel",
    "SlaCalendar",
    "SlaClock",
    "SlaPolicy",
    "SpecialDay",
    "Temperament",
    "Voucher",
    "VoucherStatus",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "Weekday",
    "open_q",
]

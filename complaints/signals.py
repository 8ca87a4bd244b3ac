"""Signals other parts of casetracker (notifications, webhooks) listen to."""

from django.dispatch import Signal

# Sent after the transaction that wrote a CaseEvent commits; arguments: event.
case_event_committed = Signal()

# Sent inside the transaction that writes a CaseEvent, for writes that must
# commit or roll back with it (the webhook outbox); arguments: event.
case_event_recorded = Signal()

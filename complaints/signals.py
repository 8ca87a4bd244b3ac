"""Signals other parts of casetracker (notifications, webhooks) listen to."""

from django.dispatch import Signal

# Sent after the transaction that wrote a CaseEvent commits; arguments: event.
case_event_committed = Signal()

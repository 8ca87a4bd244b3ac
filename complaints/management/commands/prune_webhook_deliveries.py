"""Delete finished webhook deliveries older than WEBHOOK_DELIVERY_DAYS (cron: daily).

Every event writes one delivery per endpoint that wants it, so this table
grows with the case events: about ten rows per case and endpoint. Which
deliveries go, and how, is ``webhooks.prune_finished``.
"""

from complaints import webhooks

from ..pruning import PruneCommand


class Command(PruneCommand):
    help = "Delete delivered and failed webhook deliveries (and their attempts) past their age."
    days_setting = "WEBHOOK_DELIVERY_DAYS"

    def prune(self, days, batch):
        deliveries, attempts = webhooks.prune_finished(days=days, batch=batch)
        return (
            f"{deliveries} webhook deliveries and {attempts} attempts"
            f" older than {days} days pruned."
        )

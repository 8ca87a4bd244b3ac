"""Delete finished webhook deliveries older than WEBHOOK_DELIVERY_DAYS (cron: daily).

Every event writes one delivery per endpoint that wants it, so this table
grows with the case events: about ten rows per case and endpoint. Which
deliveries go, and how, is ``webhooks.prune_finished``.
"""

from django.core.management.base import BaseCommand, CommandError

from complaints import webhooks
from complaints.conf import setting


class Command(BaseCommand):
    help = "Delete delivered and failed webhook deliveries (and their attempts) past their age."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="keep this many days (default: the WEBHOOK_DELIVERY_DAYS setting, 90)",
        )
        parser.add_argument("--batch", type=int, default=5000, help="rows per transaction")

    def handle(self, *args, days=None, batch=5000, **options):
        days = setting("WEBHOOK_DELIVERY_DAYS") if days is None else days
        if days < 1:
            raise CommandError("--days must be at least 1.")
        if batch < 1:
            raise CommandError("--batch must be at least 1.")
        deliveries, attempts = webhooks.prune_finished(days=days, batch=batch)
        self.stdout.write(
            f"{deliveries} webhook deliveries and {attempts} attempts"
            f" older than {days} days pruned."
        )

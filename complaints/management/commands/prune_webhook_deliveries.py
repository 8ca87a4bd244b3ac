"""Delete finished webhook deliveries older than WEBHOOK_DELIVERY_DAYS (cron: daily).

Every event writes one delivery per endpoint that wants it, so this table
grows with the case events: about ten rows per case and endpoint. Deliveries
still pending or being sent are never touched. Rows go in batches, each its
own short transaction, so a first run over years of rows does not hold one
long lock against the deliveries being written meanwhile.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from complaints.conf import setting
from complaints.models import WebhookAttempt, WebhookDelivery
from complaints.models.integrations import DeliveryStatus

FINISHED = (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED)


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
        old = WebhookDelivery.objects.filter(
            status__in=FINISHED, created_at__lt=timezone.now() - timedelta(days=days)
        ).order_by("pk")
        deliveries = attempts = last = 0
        # Onwards from the last batch's highest id: each batch starts where the
        # one before ended, not over the index entries of rows just deleted.
        while ids := list(old.filter(pk__gt=last).values_list("pk", flat=True)[:batch]):
            last = ids[-1]
            with transaction.atomic():
                attempts += WebhookAttempt.objects.filter(delivery_id__in=ids).delete()[0]
                _total, by_model = WebhookDelivery.objects.filter(pk__in=ids).delete()
                deliveries += by_model.get(WebhookDelivery._meta.label, 0)
        self.stdout.write(
            f"{deliveries} webhook deliveries and {attempts} attempts"
            f" older than {days} days pruned."
        )

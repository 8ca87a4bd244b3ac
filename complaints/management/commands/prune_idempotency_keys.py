"""Forget the API's Idempotency-Keys older than IDEMPOTENCY_KEY_HOURS (cron: daily)."""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from complaints.conf import setting
from complaints.models import IdempotencyKey


class Command(BaseCommand):
    help = "Delete remembered API Idempotency-Keys past their lifetime."

    def handle(self, *args, **options):
        cutoff = timezone.now() - timedelta(hours=setting("IDEMPOTENCY_KEY_HOURS"))
        deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
        self.stdout.write(f"{deleted} idempotency keys pruned.")

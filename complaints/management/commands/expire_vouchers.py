"""Mark vouchers past their validity expired (cron may call this daily)."""

from django.core.management.base import BaseCommand

from complaints import workflow


class Command(BaseCommand):
    help = "Mark every issued voucher past its validity as expired."

    def handle(self, *args, **options):
        count = workflow.vouchers_expire()
        self.stdout.write(f"{count} vouchers expired.")

"""Mark vouchers past their validity expired (cron may call this daily)."""

from django.core.management.base import BaseCommand

from complaints import tasks, workflow


class Command(BaseCommand):
    help = "Mark every issued voucher past its validity as expired."

    def add_arguments(self, parser):
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Hand the sweep to the task worker instead of running it here.",
        )

    def handle(self, *args, enqueue=False, **options):
        if enqueue:
            result = tasks.expire_vouchers.enqueue()
            self.stdout.write(f"Voucher expiry enqueued as task {result.id}.")
            return
        count = workflow.vouchers_expire()
        self.stdout.write(f"{count} vouchers expired.")

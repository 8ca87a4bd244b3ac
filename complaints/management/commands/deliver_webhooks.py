"""Send the webhook deliveries now due (cron: every few minutes, as a safety
net behind the task each delivery enqueues after commit)."""

from django.core.management.base import BaseCommand

from complaints import tasks, webhooks


class Command(BaseCommand):
    help = "Send every pending webhook delivery whose next attempt is due."

    def add_arguments(self, parser):
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Hand the work to the task worker instead of running it here.",
        )

    def handle(self, *args, enqueue=False, **options):
        if enqueue:
            result = tasks.deliver_webhooks.enqueue()
            self.stdout.write(f"Webhook delivery enqueued as task {result.id}.")
            return
        delivered = webhooks.deliver_due()
        self.stdout.write(f"{delivered} webhook deliveries delivered.")

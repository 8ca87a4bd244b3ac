"""Delete notifications read more than NOTIFICATION_DAYS ago (cron: weekly).

Every deadline warning and escalation tells the assignee or every
supervisor, so this table grows with the cases. Which notifications go, and
how, is ``notifications.prune_read``.
"""

from django.core.management.base import BaseCommand, CommandError

from complaints.conf import setting
from complaints.notifications import prune_read


class Command(BaseCommand):
    help = "Delete the notifications that were read and are older than their age (unread stay)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="keep this many days (default: the NOTIFICATION_DAYS setting, 180)",
        )
        parser.add_argument("--batch", type=int, default=5000, help="rows per statement")

    def handle(self, *args, days=None, batch=5000, **options):
        days = setting("NOTIFICATION_DAYS") if days is None else days
        if days < 1:
            raise CommandError("--days must be at least 1.")
        if batch < 1:
            raise CommandError("--batch must be at least 1.")
        deleted = prune_read(days=days, batch=batch)
        self.stdout.write(f"{deleted} read notifications older than {days} days pruned.")

"""What the prune commands share: how many days to keep (a setting, or
--days), rows in batches (--batch), both checked."""

from django.core.management.base import BaseCommand, CommandError

from complaints.conf import setting


class PruneCommand(BaseCommand):
    days_setting = ""  # the complaints.conf setting that says how many days to keep

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"keep this many days (default: the {self.days_setting} setting, "
            f"{setting(self.days_setting)})",
        )
        parser.add_argument("--batch", type=int, default=5000, help="rows per batch")

    def handle(self, *args, days=None, batch=5000, **options):
        days = setting(self.days_setting) if days is None else days
        if days < 1:
            raise CommandError("--days must be at least 1.")
        if batch < 1:
            raise CommandError("--batch must be at least 1.")
        self.stdout.write(self.prune(days, batch))

    def prune(self, days: int, batch: int) -> str:
        """Prune what is older than ``days``; answers what was done."""
        raise NotImplementedError

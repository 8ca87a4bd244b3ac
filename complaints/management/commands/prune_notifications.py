"""Delete notifications read more than NOTIFICATION_DAYS ago (cron: weekly).

Every deadline warning and escalation tells the assignee or every
supervisor, so this table grows with the cases. Which notifications go, and
how, is ``notifications.prune_read``.
"""

from complaints.notifications import prune_read

from ..pruning import PruneCommand


class Command(PruneCommand):
    help = "Delete the notifications that were read and are older than their age (unread stay)."
    days_setting = "NOTIFICATION_DAYS"

    def prune(self, days, batch):
        deleted = prune_read(days=days, batch=batch)
        return f"{deleted} read notifications older than {days} days pruned."

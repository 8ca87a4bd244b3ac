"""Warn about deadlines at risk and escalate breached ones (cron: every few minutes)."""

from django.core.management.base import BaseCommand

from complaints import tasks
from complaints.workflow.sla import sla_sweep


class Command(BaseCommand):
    help = (
        "Raise every SLA warning and breach now due: notify, raise the priority of "
        "breached cases and record the escalation. Safe to run as often as you like."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Hand the sweep to the task worker instead of running it here.",
        )

    def handle(self, *args, enqueue=False, **options):
        if enqueue:
            result = tasks.sla_sweep.enqueue()
            self.stdout.write(f"SLA sweep enqueued as task {result.id}.")
            return
        result = sla_sweep()
        self.stdout.write(
            f"{result.warnings} warnings, {result.breaches} breaches escalated"
            + (f", {result.failed} cases failed (see the log)." if result.failed else ".")
        )
        if result.failed:
            raise SystemExit(1)

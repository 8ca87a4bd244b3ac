"""Load fixtures/demo.json, but only into an empty database, moved in time so
that the demo's "today" is now (its cases' clocks then look as they should)."""

import json
import re
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from complaints.management.demo_catalogue import ANCHOR
from complaints.models import Case, Customer

DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def shift_times(value, delta: timedelta):
    """Return ``value`` (parsed JSON) with every ISO datetime string moved by ``delta``."""
    if isinstance(value, dict):
        return {key: shift_times(item, delta) for key, item in value.items()}
    if isinstance(value, list):
        return [shift_times(item, delta) for item in value]
    if isinstance(value, str) and DATETIME.match(value):
        moved = datetime.fromisoformat(value.replace("Z", "+00:00")) + delta
        return moved.isoformat()
    return value


class Command(BaseCommand):
    help = "Load the demo shop (fixtures/demo.json) when the database has no data yet."

    def add_arguments(self, parser):
        parser.add_argument("--as-built", action="store_true", help="Keep the fixture's own dates.")

    def handle(self, *args, **options):
        if Case.objects.exists() or Customer.objects.exists() or get_user_model().objects.exists():
            self.stdout.write("The database already has data: demo data not loaded.")
            return
        fixture = Path(settings.BASE_DIR, "fixtures", "demo.json")
        data = json.loads(fixture.read_text(encoding="utf-8"))
        if not options["as_built"]:
            now = timezone.now().replace(minute=0, second=0, microsecond=0)
            data = shift_times(data, now - ANCHOR)
        with tempfile.TemporaryDirectory() as folder:
            moved = Path(folder, "demo.json")
            moved.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
            call_command("loaddata", str(moved), verbosity=0)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo shop loaded: {Customer.objects.count()} customers, "
                f"{Case.objects.count()} cases."
            )
        )

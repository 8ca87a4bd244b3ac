"""Load fixtures/demo.json, but only into an empty database."""

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from complaints.models import Case, Customer


class Command(BaseCommand):
    help = "Load the demo shop (fixtures/demo.json) when the database has no data yet."

    def handle(self, *args, **options):
        if Case.objects.exists() or Customer.objects.exists() or get_user_model().objects.exists():
            self.stdout.write("The database already has data: demo data not loaded.")
            return
        call_command("loaddata", "demo", verbosity=0)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo shop loaded: {Customer.objects.count()} customers, "
                f"{Case.objects.count()} cases."
            )
        )

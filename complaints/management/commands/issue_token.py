"""Make an API token for a user and print its key, the only time it can be
read (``--rotate``: the user's other tokens stop working)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from knox.models import AuthToken

from ...api.tokens import issue
from ..users import named_user


class Command(BaseCommand):
    help = (
        "Make an API token for USER and print its key (Authorization: Token <key>). "
        "The key is not stored: copy it now."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--rotate", action="store_true", help="Revoke the user's other tokens.")
        parser.add_argument(
            "--days", type=int, help="The token stops working after this many days."
        )

    def handle(self, username, rotate, days, **options):
        user = named_user(username)
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive; activate it first.")
        if days is not None and not 1 <= days <= 3650:
            raise CommandError("--days must be between 1 and 3650.")
        with transaction.atomic():
            revoked = AuthToken.objects.filter(user=user).delete()[0] if rotate else 0
            key = issue(user, days=days)
        lasts = f"for {days} days" if days else "until revoked"
        self.stderr.write(f"Made a token for {username}, working {lasts}; it is not shown again.")
        if rotate:
            self.stderr.write(f"Revoked {revoked} other tokens of {username}.")
        self.stdout.write(key)

"""Make an API token for a user and print its key, the only time it can be
read (``--rotate``: the user's other tokens stop working; ``--read-only``:
the token changes nothing)."""

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
        parser.add_argument(
            "--read-only",
            action="store_true",
            help="The token only reads: every call that would change something is refused.",
        )

    def handle(self, username, rotate, days, read_only, **options):
        user = named_user(username)
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive; activate it first.")
        if days is not None and not 1 <= days <= 3650:
            raise CommandError("--days must be between 1 and 3650.")
        with transaction.atomic():
            revoked = AuthToken.objects.filter(user=user).delete()[0] if rotate else 0
            key = issue(user, days=days, read_only=read_only)
        lasts = f"for {days} days" if days else "until revoked"
        kind = "a read-only token" if read_only else "a token"
        self.stderr.write(f"Made {kind} for {username}, working {lasts}; it is not shown again.")
        if rotate:
            self.stderr.write(f"Revoked {revoked} other tokens of {username}.")
        self.stdout.write(key)

"""Remove a user's two-step log-in key and backup codes: the way back in for
someone who lost their phone and their backup codes when no admin can log in
to do it from the admin (the only admin, in a role that must have a key)."""

import logging

from django.core.management.base import BaseCommand, CommandError

from complaints import two_factor

from ..users import named_user

log = logging.getLogger("casetracker.access")


class Command(BaseCommand):
    help = (
        "Remove USER's two-step log-in key and backup codes: their password alone then "
        "logs them in, or, where their role must have a key, sets up a new one."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, username, **options):
        user = named_user(username)
        if not two_factor.is_on(user):
            raise CommandError(f"{username} has no two-step log-in key; nothing was changed.")
        two_factor.removed_by_admin(user)
        log.warning("two-step log-in key removed from the command line: %s", username)
        then = (
            "their next log-in sets up a new key"
            if two_factor.required_for(user)
            else "their password alone logs them in"
        )
        self.stdout.write(f"Removed the two-step log-in key of {username}: {then}.")

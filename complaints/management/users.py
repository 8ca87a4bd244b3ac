"""The user a command names on its command line."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError


def named_user(username: str):
    """The user called ``username``; a CommandError saying so when there is none."""
    User = get_user_model()
    user = User.objects.filter(**{User.USERNAME_FIELD: username}).first()
    if user is None:
        raise CommandError(f"No user {username!r}.")
    return user

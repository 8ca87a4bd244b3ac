"""Who people are: how they are named on pages, in messages and e-mails,
and who holds which duty."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q


def display_name(user, fallback: str = "") -> str:
    """Return a user's full name (Chinese names family name first, no space),
    else their username, else ``fallback``."""
    if user is None:
        return fallback
    return full_name(user.first_name, user.last_name, user.get_username())


def full_name(first: str, last: str, username: str) -> str:
    """``display_name`` from the three columns (for lists read as values)."""
    if first.strip() and last.strip() and _is_cjk(first + last):
        return f"{last.strip()}{first.strip()}"
    return f"{first} {last}".strip() or username


def _is_cjk(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in text)


def supervisors():
    """Return the active users who watch the team (the view_team permission)."""
    perm = Permission.objects.get(codename="view_team", content_type__app_label="complaints")
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(groups__permissions=perm) | Q(user_permissions=perm) | Q(is_superuser=True))
        .distinct()
        .order_by("pk")
    )

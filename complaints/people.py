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
    first, last = user.first_name.strip(), user.last_name.strip()
    if first and last and _is_cjk(first + last):
        return f"{last}{first}"
    return user.get_full_name() or user.get_username()


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

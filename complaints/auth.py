"""Signing in and permissions: Django's model backend, with a user's
permissions read in one query instead of two.

Every page asks ``has_perm`` (the navigation, the view's own check), and
Django's backend answers the first question with two queries, the user's
own permissions and then their groups', each compiled by the ORM. Here both
come back from one ``UNION ALL``, written as SQL once: the page pays one
round trip and no query compilation. Like Django's, the answer is read
afresh for every request and kept on the request's user object only.
"""

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router

OWN, GROUP = "own", "group"


@cache
def permissions_sql(vendor: str) -> str:
    """SELECT (source, "app_label.codename") for one user: the user's own
    permissions (source OWN) and their groups' (GROUP); two parameters, the
    user's id twice. ``vendor`` keys the cache: quoting differs."""
    connection = next(c for c in connections.all() if c.vendor == vendor)
    quote = connection.ops.quote_name
    User = get_user_model()
    own = quote(User.user_permissions.through._meta.db_table)
    member = quote(User.groups.through._meta.db_table)
    granted = quote(Group.permissions.through._meta.db_table)

    def names(source):
        return (
            f"SELECT '{source}', ct.{quote('app_label')} || '.' || p.{quote('codename')} "
            f"FROM {quote(Permission._meta.db_table)} p "
            f"JOIN {quote(ContentType._meta.db_table)} ct "
            f"ON ct.{quote('id')} = p.{quote('content_type_id')} WHERE p.{quote('id')} IN "
        )

    return (
        f"{names(OWN)}(SELECT {quote('permission_id')} FROM {own} WHERE {quote('user_id')} = %s) "
        f"UNION ALL {names(GROUP)}(SELECT g.{quote('permission_id')} FROM {granted} g "
        f"JOIN {member} m ON m.{quote('group_id')} = g.{quote('group_id')} "
        f"WHERE m.{quote('user_id')} = %s)"
    )


class PermissionsBackend(ModelBackend):
    """ModelBackend that fills both of its permission caches with one query
    the first time a user's permissions are asked for."""

    def _load_permissions(self, user_obj) -> None:
        if hasattr(user_obj, "_user_perm_cache") and hasattr(user_obj, "_group_perm_cache"):
            return
        connection = connections[router.db_for_read(Permission)]
        found = {OWN: set(), GROUP: set()}
        with connection.cursor() as cursor:
            cursor.execute(permissions_sql(connection.vendor), [user_obj.pk, user_obj.pk])
            for source, name in cursor.fetchall():
                found[source].add(name)
        user_obj._user_perm_cache = found[OWN]
        user_obj._group_perm_cache = found[GROUP]

    def _get_permissions(self, user_obj, obj, from_name):
        # Superusers hold every permission: Django's own query lists them.
        active = user_obj.is_active and not user_obj.is_anonymous
        if active and obj is None and not user_obj.is_superuser:
            self._load_permissions(user_obj)
        return super()._get_permissions(user_obj, obj, from_name)

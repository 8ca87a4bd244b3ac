"""API tokens (django-rest-knox): ``Authorization: Token <key>``.

The database keeps a digest of each key, not the key: a key is seen once,
when it is made (``issue``: manage.py issue_token, or the admin), and a
stolen copy of the database or a backup holds none. A user may hold several
(one per integration), each revoked alone by deleting it in the admin, and
each may carry an expiry. A read-only token (its key starts ``ct_ro_``) may
only read: every call that would change something is refused 403
``read_only_token`` (api/permissions.py).
"""

import re
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.models import AuthToken
from rest_framework import exceptions

# A read-only token's key says so: it starts with this (ct_ro_ and 64 hex
# digits), and since the database keeps the digest of the whole key, the
# part that says so cannot be changed without the key failing.
READ_ONLY_PREFIX = "ct_ro_"
# What issue() makes (ct_ or ct_ro_, and 64 hex digits), and the 40 hex
# digits of the keys made before, which migration 0051 kept as digests.
KEY_SHAPE = re.compile(rb"(ct_(ro_)?)?[0-9a-f]{40,64}")


def reads_only(auth) -> bool:
    """Whether the call came with a read-only token (``request.auth``)."""
    return isinstance(auth, AuthToken) and auth.token_key.startswith(READ_ONLY_PREFIX)


class TokenAuthentication(KnoxTokenAuthentication):
    def authenticate_credentials(self, token: bytes):
        # Anything else is no key of ours: refused before a lookup (knox
        # would fail on bytes that are not UTF-8, or a NUL PostgreSQL
        # refuses in a query).
        if not KEY_SHAPE.fullmatch(token):
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        return super().authenticate_credentials(token)

    def _cleanup_token(self, auth_token) -> bool:
        # Only this token's expiry (an expired one is deleted and refused):
        # knox also reads all the user's other tokens on every call, one
        # more query each time, to delete the expired among them.
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False


class TokenScheme(OpenApiAuthenticationExtension):
    """The API's document names the header as before knox: integrations
    send the same ``Authorization: Token <key>``."""

    target_class = TokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=self.target.authenticate_header(None)
        )


def issue(user, *, days: int | None = None, read_only: bool = False) -> str:
    """Make a new token for ``user`` and return its key, the only time it
    can be read; it lasts ``days`` days, or until revoked. A ``read_only``
    token reads what its user may read and changes nothing."""
    _token, key = AuthToken.objects.create(
        user=user,
        expiry=timedelta(days=days) if days else None,
        prefix=READ_ONLY_PREFIX if read_only else None,
    )
    return key

"""Secrets kept sealed in the database: a copy of the database or of a
``pg_dump`` backup does not give them away.

A sealed value is encrypted and authenticated (Fernet: AES-128-CBC and
HMAC-SHA256, from the ``cryptography`` library) with a key derived from
``SECRET_KEY``, which lives in the environment, never in the database. Keys
rotate as Django's own signing does: a new ``SECRET_KEY`` seals, the old one
kept in ``SECRET_KEY_FALLBACKS`` still opens, and ``manage.py
reseal_secrets`` seals every value again with the new key, after which the
old one can be dropped.

A value that no key opens (``SECRET_KEY`` changed with the old key not kept)
is read as :class:`Unopened`: it is kept in the database as it was, never
overwritten by saving its row again, and whoever needs it says so clearly
(a webhook delivery fails and is retried, a code cannot be checked) instead
of the page failing. Putting the old key back in ``SECRET_KEY_FALLBACKS``
makes it open again.
"""

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django import forms
from django.conf import settings
from django.db import models

BROKEN_MESSAGE = (
    "a sealed secret cannot be opened with SECRET_KEY or SECRET_KEY_FALLBACKS: "
    "was SECRET_KEY changed without keeping the old one in SECRET_KEY_FALLBACKS?"
)


class Unopened(str):
    """A sealed value that no key opens: the sealed text as it is stored."""


class SealBroken(ValueError):
    def __init__(self, what: str = ""):
        super().__init__(f"{what}: {BROKEN_MESSAGE}" if what else BROKEN_MESSAGE)


def _secret_keys() -> tuple[str, ...]:
    return (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)


def _derive(secret_key: str, purpose: bytes) -> bytes:
    # SECRET_KEY is long and random, so one HKDF step (no slow password
    # hashing) gives a key of its own for each purpose.
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose)
    return hkdf.derive(secret_key.encode())


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    fernet_keys = [
        base64.urlsafe_b64encode(_derive(key, b"casetracker sealed field")) for key in keys
    ]
    return MultiFernet([Fernet(key) for key in fernet_keys])


def seal(text: str) -> str:
    return _fernet(_secret_keys()).encrypt(text.encode()).decode("ascii")


def unseal(sealed: str) -> str:
    """The text, or :class:`Unopened` when no key opens it."""
    try:
        return _fernet(_secret_keys()).decrypt(sealed.encode()).decode()
    except (InvalidToken, UnicodeError):
        return Unopened(sealed)


def sealed_with_current_key(sealed: str) -> bool:
    """Whether the first key (SECRET_KEY) opens it, not only a fallback."""
    try:
        _fernet(_secret_keys()[:1]).decrypt(sealed.encode())
    except (InvalidToken, UnicodeError):
        return False
    return True


def short_digests(text: str, purpose: bytes, length: int = 16) -> list[str]:
    """Keyed digests of ``text`` under each key, the current one first: a
    short secret (a backup code) is kept as one, so that a copy of the
    database cannot be tried against every possible code without the key.
    Each starts with two characters naming its key (:func:`key_tag`)."""
    return [
        key_tag(key)
        + hmac.new(_digest_key(key, purpose), text.encode(), hashlib.sha256).hexdigest()[
            : length - 2
        ]
        for key in _secret_keys()
    ]


def key_tag(secret_key: str | None = None) -> str:
    """Two characters that tell the keys apart (one in 256 pairs alike)."""
    key = settings.SECRET_KEY if secret_key is None else secret_key
    return _derive(key, b"casetracker key tag").hex()[:2]


@lru_cache(maxsize=16)
def _digest_key(secret_key: str, purpose: bytes) -> bytes:
    return _derive(secret_key, b"casetracker digest " + purpose)


class SealedField(models.TextField):
    """A text kept sealed: Python sees the text, the database the sealed form.

    Sealed values differ each time (a random IV), so they cannot be looked
    up or ordered by; only ``isnull`` works. Forms and the admin see the
    text like any other field."""

    def get_lookup(self, lookup_name):
        if lookup_name != "isnull":
            return None
        return super().get_lookup(lookup_name)

    def formfield(self, **kwargs):
        return super().formfield(**{"widget": forms.TextInput, **kwargs})

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return unseal(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        if isinstance(value, Unopened):
            return str(value)  # kept as it was stored
        return seal(value)


def reseal_column(connection, table: str, column: str, change) -> int:
    """Pass every value of ``table.column`` through ``change`` (the stored
    text in; the text to store, or None to leave it) and write back the
    changed ones (a row changed meanwhile is left as it is); answers how
    many. Raw SQL, so that migrations can seal values kept in the clear and
    unseal them again, whatever the field is then."""
    quote = connection.ops.quote_name
    changed = 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, {quote(column)} FROM {quote(table)} "
            f"WHERE {quote(column)} IS NOT NULL AND {quote(column)} <> '' ORDER BY id"
        )
        rows = cursor.fetchall()
        for pk, value in rows:
            new = change(value)
            if new is not None and new != value:
                # Only if nobody changed it meanwhile (the app keeps running).
                cursor.execute(
                    f"UPDATE {quote(table)} SET {quote(column)} = %s "
                    f"WHERE id = %s AND {quote(column)} = %s",
                    [new, pk, value],
                )
                changed += cursor.rowcount
    return changed


def seal_plain(value: str) -> str:
    return seal(value)


def unseal_to_plain(value: str) -> str:
    opened = unseal(value)
    if isinstance(opened, Unopened):
        raise SealBroken("going back to secrets in the clear")
    return opened


def sealed_fields():
    """Every sealed field of the installed models: (model, field)."""
    from django.apps import apps

    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, SealedField):
                yield model, field

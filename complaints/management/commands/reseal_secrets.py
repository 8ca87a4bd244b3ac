"""Seal every secret kept in the database again with the current SECRET_KEY,
after a key change (the old key in SECRET_KEY_FALLBACKS until this has run);
``--check`` only counts. See complaints/sealing.py and the README's
"Changing SECRET_KEY"."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django_otp.plugins.otp_static.models import StaticToken

from ...sealing import (
    Unopened,
    key_tag,
    reseal_column,
    seal,
    sealed_fields,
    sealed_with_current_key,
    unseal,
)


class Command(BaseCommand):
    help = (
        "Seal the secrets kept in the database (webhook secrets, two-step log-in keys) "
        "again with SECRET_KEY; with --check, only count what each key seals. Fails "
        "when a value opens with no key, or (--check) still needs a fallback."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Change nothing; fail if a fallback is still needed.",
        )

    def handle(self, check, **options):
        unopened = on_fallback = 0
        for model, field in sealed_fields():
            counts = {"current": 0, "fallback": 0, "unopened": 0}

            def reseal(value, counts=counts):
                if sealed_with_current_key(value):
                    counts["current"] += 1
                    return None
                opened = unseal(value)
                if isinstance(opened, Unopened):
                    counts["unopened"] += 1
                    return None
                counts["fallback"] += 1
                return None if check else seal(opened)

            resealed = reseal_column(connection, model._meta.db_table, field.column, reseal)
            what = "need a fallback key" if check else f"sealed again ({resealed} written)"
            self.stdout.write(
                f"{model._meta.label}.{field.name}: {counts['current']} sealed with SECRET_KEY, "
                f"{counts['fallback']} {what}, {counts['unopened']} open with no key"
            )
            unopened += counts["unopened"]
            on_fallback += counts["fallback"] if check else counts["fallback"] - resealed
        old_codes = StaticToken.objects.exclude(token__startswith=key_tag()).count()
        self.stdout.write(
            f"backup codes made under an older key: {old_codes} (they work while that key is in "
            "SECRET_KEY_FALLBACKS; their users make new ones on their account page)"
        )
        if unopened:
            raise CommandError(
                f"{unopened} secrets open with no key: put the SECRET_KEY they were sealed "
                "with in SECRET_KEY_FALLBACKS (nothing was lost; they are kept as they were)."
            )
        if check and on_fallback:
            raise CommandError(
                f"{on_fallback} secrets still need a key in SECRET_KEY_FALLBACKS: run "
                "reseal_secrets before dropping it."
            )

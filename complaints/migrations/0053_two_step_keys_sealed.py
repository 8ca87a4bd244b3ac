"""Two-step log-in keys move from django-otp's TOTP device, which kept each
key in the clear, to complaints.AuthenticatorKey, which keeps it sealed
(complaints/sealing.py); each key keeps working. Backup codes are kept as
keyed digests instead of the codes.

A log-in that had entered its code must enter one again once (django-otp
keeps the device's id in the session, and the device is a new row).
Backwards the keys go back in the clear; the backup codes cannot (only
their digests are kept), so they are removed: users make new ones."""

import complaints.models.accounts
import complaints.sealing
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

KEY_FIELDS = [
    "user_id", "name", "confirmed", "throttling_failure_timestamp", "throttling_failure_count",
    "created_at", "last_used_at", "key", "step", "t0", "digits", "tolerance", "drift", "last_t",
]  # fmt: skip


def seal_keys(apps, schema_editor):
    from complaints.two_factor import backup_code_digest

    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    AuthenticatorKey = apps.get_model("complaints", "AuthenticatorKey")
    for device in TOTPDevice.objects.order_by("pk"):
        key = AuthenticatorKey(**{field: getattr(device, field) for field in KEY_FIELDS})
        key.save()
        # auto_now_add would have set it to now
        AuthenticatorKey.objects.filter(pk=key.pk).update(created_at=device.created_at)
    TOTPDevice.objects.all().delete()
    StaticToken = apps.get_model("otp_static", "StaticToken")
    for token in StaticToken.objects.all():
        token.token = backup_code_digest(token.token)
        token.save(update_fields=["token"])


def open_keys(apps, schema_editor):
    from complaints.sealing import SealBroken, Unopened

    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    AuthenticatorKey = apps.get_model("complaints", "AuthenticatorKey")
    for key in AuthenticatorKey.objects.order_by("pk"):
        if isinstance(key.key, Unopened):
            raise SealBroken(f"the two-step log-in key of user {key.user_id}")
        device = TOTPDevice.objects.create(**{field: getattr(key, field) for field in KEY_FIELDS})
        TOTPDevice.objects.filter(pk=device.pk).update(created_at=key.created_at)
    AuthenticatorKey.objects.all().delete()
    apps.get_model("otp_static", "StaticToken").objects.all().delete()


def sync(apps, schema_editor):
    from complaints.roles import sync_role_permissions

    sync_role_permissions(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0052_webhook_secrets_sealed"),
        ("otp_totp", "0003_add_timestamps"),
        ("otp_static", "0003_add_timestamps"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AuthenticatorKey",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "name",
                    models.CharField(
                        help_text="The human-readable name of this device.", max_length=64
                    ),
                ),
                (
                    "confirmed",
                    models.BooleanField(default=True, help_text="Is this device ready for use?"),
                ),
                (
                    "throttling_failure_timestamp",
                    models.DateTimeField(
                        blank=True,
                        default=None,
                        help_text="A timestamp of the last failed verification attempt. Null if last attempt succeeded.",
                        null=True,
                    ),
                ),
                (
                    "throttling_failure_count",
                    models.PositiveIntegerField(
                        default=0, help_text="Number of successive failed attempts."
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        auto_now_add=True,
                        help_text="The date and time when this device was initially created in the system.",
                        null=True,
                    ),
                ),
                (
                    "last_used_at",
                    models.DateTimeField(
                        blank=True,
                        help_text="The most recent date and time this device was used.",
                        null=True,
                    ),
                ),
                (
                    "key",
                    complaints.sealing.SealedField(
                        default=complaints.models.accounts.new_authenticator_key, verbose_name="secret key"
                    ),
                ),
                ("step", models.PositiveSmallIntegerField(default=30)),
                ("t0", models.BigIntegerField(default=0)),
                ("digits", models.PositiveSmallIntegerField(default=6)),
                ("tolerance", models.PositiveSmallIntegerField(default=1)),
                ("drift", models.SmallIntegerField(default=0)),
                (
                    "last_t",
                    models.BigIntegerField(
                        default=-1,
                        help_text="The time step of the last code taken: each code works once.",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        help_text="The user that this device belongs to.",
                        on_delete=django.db.models.deletion.CASCADE,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "two-step log-in key",
                "verbose_name_plural": "two-step log-in keys",
                "abstract": False,
            },
        ),
        migrations.RunPython(seal_keys, open_keys),
        migrations.RunPython(sync, migrations.RunPython.noop),
    ]

"""Webhook signing secrets are kept sealed (complaints/sealing.py): each
secret kept in the clear until now is sealed with SECRET_KEY."""

from django.db import migrations

import complaints.models.integrations
import complaints.sealing
from complaints.sealing import reseal_column, seal_plain, unseal_to_plain

TABLE, COLUMN = "complaints_webhookendpoint", "secret"


def seal_secrets(apps, schema_editor):
    reseal_column(schema_editor.connection, TABLE, COLUMN, seal_plain)


def open_secrets(apps, schema_editor):
    reseal_column(schema_editor.connection, TABLE, COLUMN, unseal_to_plain)


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0051_api_tokens_kept_as_digests"),
    ]

    operations = [
        migrations.AlterField(
            model_name="webhookendpoint",
            name="secret",
            field=complaints.sealing.SealedField(
                default=complaints.models.integrations.new_webhook_secret,
                help_text="The receiver checks each request's HMAC-SHA256 signature with it.",
                max_length=100,
                verbose_name="signing secret",
            ),
        ),
        migrations.RunPython(seal_secrets, open_secrets),
    ]

"""Admins read django-axes' login logs and unlock a user by deleting their
failed attempts."""

from django.db import migrations


def sync(apps, schema_editor):
    from complaints.roles import sync_role_permissions

    sync_role_permissions(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0020_admins_view_export_records"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]

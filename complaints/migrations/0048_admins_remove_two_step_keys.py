"""Admins list the users' keys for the two-step log-in (django-otp) and
delete a lost phone's."""

from django.db import migrations


def sync(apps, schema_editor):
    from complaints.roles import sync_role_permissions

    sync_role_permissions(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0047_review_revision_asked_index"),
        ("otp_totp", "0003_add_timestamps"),
        ("otp_static", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]

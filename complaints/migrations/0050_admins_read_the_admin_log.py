"""Admins read Django's log of admin actions (who changed what in the admin)."""

from django.db import migrations


def sync(apps, schema_editor):
    from complaints.roles import sync_role_permissions

    sync_role_permissions(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0049_notification_kind_account"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]

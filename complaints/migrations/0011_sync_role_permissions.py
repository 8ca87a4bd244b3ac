"""Give the roles the permissions of the review-reply and marketplace models."""

from django.db import migrations


def sync(apps, schema_editor):
    from complaints.roles import sync_role_permissions

    sync_role_permissions(apps)


class Migration(migrations.Migration):
    dependencies = [("complaints", "0010_alter_caseevent_kind")]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]

"""Admins may read the export log (who carried which data out of the shop):
the page-role matrix found it open to superusers only."""

from django.db import migrations


def sync(apps, schema_editor):
    from complaints.roles import sync_role_permissions

    sync_role_permissions(apps)


class Migration(migrations.Migration):
    dependencies = [("complaints", "0019_caseevent_append_only")]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]

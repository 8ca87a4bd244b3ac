"""Give the roles the voucher permissions added with the ledger."""

from django.db import migrations


def sync(apps, schema_editor):
    from complaints.roles import sync_role_permissions

    sync_role_permissions(apps)


class Migration(migrations.Migration):
    dependencies = [("complaints", "0007_vouchers_ledger_notifications")]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]

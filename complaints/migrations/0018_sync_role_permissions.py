"""Give the roles the API's permissions: agents add and update reviews (the
shop's tooling sends them), admins manage API tokens and webhooks."""

from django.db import migrations


def sync(apps, schema_editor):
    from complaints.roles import sync_role_permissions

    sync_role_permissions(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0017_integrations"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]

from django.db import migrations


def create_roles(apps, schema_editor):
    from complaints.roles import sync_role_permissions

    sync_role_permissions(apps)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=["agent", "supervisor", "admin"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]

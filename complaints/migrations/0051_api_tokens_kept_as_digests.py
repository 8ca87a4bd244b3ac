"""API tokens move to django-rest-knox, which keeps a digest of each key:
every key made before keeps working, and no key stays in the database."""

from django.db import migrations


def keep_digests(apps, schema_editor):
    from knox.crypto import hash_token
    from knox.settings import CONSTANTS

    Token = apps.get_model("authtoken", "Token")
    AuthToken = apps.get_model("knox", "AuthToken")
    for token in Token.objects.all():
        digest = hash_token(token.key)
        AuthToken.objects.create(
            digest=digest, token_key=token.key[: CONSTANTS.TOKEN_KEY_LENGTH], user_id=token.user_id
        )
        AuthToken.objects.filter(digest=digest).update(created=token.created)
    Token.objects.all().delete()


def sync(apps, schema_editor):
    from complaints.roles import sync_role_permissions

    sync_role_permissions(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0050_admins_read_the_admin_log"),
        ("authtoken", "0004_alter_tokenproxy_options"),
        ("knox", "0009_extend_authtoken_field"),
    ]

    # Backwards the keys cannot come back: only their digests were kept.
    operations = [
        migrations.RunPython(keep_digests, migrations.RunPython.noop),
        migrations.RunPython(sync, migrations.RunPython.noop),
    ]

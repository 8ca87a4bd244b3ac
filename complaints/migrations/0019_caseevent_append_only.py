"""The audit trail refuses UPDATE and DELETE in the database itself (PostgreSQL),
not only through the ORM: a raw statement or another client cannot rewrite it.

TRUNCATE (a test database's flush) is a table operation, not a row one, and
is not refused. SQLite keeps the ORM guard only: its test flush deletes rows.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION complaints_caseevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The case audit trail is append-only (%% refused).', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER complaints_caseevent_append_only
    BEFORE UPDATE OR DELETE ON complaints_caseevent
    FOR EACH ROW EXECUTE FUNCTION complaints_caseevent_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS complaints_caseevent_append_only ON complaints_caseevent;
DROP FUNCTION IF EXISTS complaints_caseevent_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("complaints", "0018_sync_role_permissions")]

    operations = [migrations.RunPython(create, drop)]

"""PostgreSQL learns how many months the vouchers were issued in.

The voucher ledger groups its vouchers by local month of issue. Without
statistics on that expression PostgreSQL guesses hundreds of thousands of
groups, sorts every voucher on disk and then groups them (510 ms at 840k
vouchers); knowing there are a few dozen, it hashes them in memory (230 ms).

The expression is the one Django writes for TruncMonth("issued_at") in
settings.TIME_ZONE when this migration runs. Should TIME_ZONE change later,
the ledger stays right and only loses this estimate. SQLite has no such
statistics and plans the small databases it is meant for well enough.
"""

from django.conf import settings
from django.db import migrations

NAME = "complaints_voucher_issued_month"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    zone = schema_editor.quote_value(settings.TIME_ZONE)
    schema_editor.execute(
        f"CREATE STATISTICS IF NOT EXISTS {NAME} "
        f"ON (date_trunc('month', issued_at AT TIME ZONE {zone})) FROM complaints_voucher"
    )
    schema_editor.execute("ANALYZE complaints_voucher")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("complaints", "0028_team_window_indexes")]

    operations = [migrations.RunPython(create, drop, elidable=False)]

"""Indexes for search terms of one or two characters (PostgreSQL).

A trigram index (0035) cannot answer a term shorter than three characters,
and in Chinese most words are two: 破损, 漏发, 色差, a buyer's name. Such a
term was found by reading the tables whole: a rare one among all cases at
1M took 1.2-1.6 s. ``search_grams(text)`` gives the pieces of one and two
characters of a text, in upper case as Django's ``icontains`` compares; a
GIN index over that array per searched column finds the rows holding a
piece (``search_grams(column) @> ARRAY[UPPER(term)]``). A term of one or two
characters is in a text exactly when it is one of its pieces, so the lookup
needs no LIKE beside it (one planned beside it read the trigram index whole
and computed the pieces of every row it found: 12 s). The function is in
PL/pgSQL, a loop over the pairs after string_to_array's characters: about
4 microseconds a row, where a SQL function over generate_series took 31,
which matters where PostgreSQL computes it on the few hundred rows of an
agent's queue joined to their customers rather than reading an index (a
rare term there: 68 -> 26 ms at 1M). PL/pgSQL's default cost (100) tells
the planner about what it costs. The pg_bigm extension would answer LIKE
itself, but Debian's PostgreSQL does not ship it. SQLite has no such index
and searches its small databases by reading them.

The indexes are built CONCURRENTLY, outside a transaction: at 1M cases the
build takes about a minute, during which agents keep saving cases. An
index a failed build left invalid is dropped and built again.
"""

from django.db import migrations

from complaints.sql import create_index_concurrently

FUNCTION = """
CREATE OR REPLACE FUNCTION search_grams(value text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    whole text := upper(value);
    pieces text[] := string_to_array(whole, NULL);  -- each character
BEGIN
    FOR at IN 1 .. length(whole) - 1 LOOP
        pieces := pieces || substr(whole, at, 2);  -- each pair
    END LOOP;
    RETURN pieces;
END
$$
"""

INDEXES = {
    "case_number_grams": ("complaints_case", "number"),
    "case_summary_grams": ("complaints_case", "summary"),
    "customer_buyer_grams": ("complaints_customer", "buyer_id"),
    "order_number_grams": ("complaints_order", "number"),
    "voucher_code_grams": ("complaints_voucher", "code"),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    for name, (table, column) in INDEXES.items():
        create_index_concurrently(schema_editor, name, table, f'gin (search_grams("{column}"))')


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')
    schema_editor.execute("DROP FUNCTION IF EXISTS search_grams(text)")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [("complaints", "0037_review_sku_trigram_index")]

    operations = [migrations.RunPython(create, drop, elidable=False)]

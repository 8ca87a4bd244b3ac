"""Search indexes for the reviews' and the order items' admin searches
(PostgreSQL).

The review admin searches a review's id, text and SKU (and its buyer), the
order item admin an item's SKU and title (and its order number). Django's
single condition across the joins read every row: a review by its id among
1.25M reviews at 1M cases took 1.9 s, a word of its text as long; an item
by its SKU among 1M items 1.2 s. With these indexes both admins look each
column up as the lists' search box does (queries.search): a trigram index
(as 0035) for terms of three characters or more, an index of one- and
two-character pieces (as 0038) for shorter ones. The review SKU's trigram
index is 0037's. About 90 MB for 1.25M reviews and 30 MB for 1M items;
built in 54 s.

Built CONCURRENTLY, outside a transaction; an index a failed build left
invalid is dropped and built again (as 0040). SQLite has no such indexes.
"""

from django.db import migrations

from complaints.sql import concurrent_indexes, search_indexes

COLUMNS = {
    "review_external_id": ("complaints_review", "external_id"),
    "review_text": ("complaints_review", "text"),
    "review_sku": ("complaints_review", "sku"),
    "orderitem_sku": ("complaints_orderitem", "sku"),
    "orderitem_title": ("complaints_orderitem", "title"),
}
INDEXES = search_indexes(COLUMNS, have={"review_sku_trgm"})  # that one is 0037's


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [("complaints", "0044_queue_filters")]

    operations = [concurrent_indexes(INDEXES)]

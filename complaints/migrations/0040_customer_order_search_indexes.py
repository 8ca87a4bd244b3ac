"""Search indexes for the customer's name and phone and the order's tracking
number (PostgreSQL).

The admin's customer search (buyer, name, phone) and order search (number,
tracking number, buyer) are looked up column by column through indexes, as
the lists' search box is (queries.search): a trigram index (as 0035) for
terms of three characters or more, an index of one- and two-character
pieces (as 0038, whose ``search_grams`` function it uses) for shorter ones.
Without them, Django's single condition read every customer or order: an
order by its tracking number at 1M cases took 1.4 s, a customer by the
last digits of a phone 0.5 s. A customer who calls gives a phone number, a
courier's claim a tracking number: these are the searches an after-sales
team makes all day.

Built CONCURRENTLY, outside a transaction (agents keep saving while they
build); an index a failed build left invalid is dropped and built again.
SQLite has no such indexes and searches its small databases by reading them.
"""

from django.db import migrations

from complaints.sql import concurrent_indexes, search_indexes

COLUMNS = {
    "customer_display_name": ("complaints_customer", "display_name"),
    "customer_phone": ("complaints_customer", "phone"),
    "order_tracking_number": ("complaints_order", "tracking_number"),
}
INDEXES = search_indexes(COLUMNS)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [("complaints", "0039_order_paid_newest_index")]

    operations = [concurrent_indexes(INDEXES)]

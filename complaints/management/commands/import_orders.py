"""Import orders from a CSV file (see README: "Importing orders and reviews")."""

from complaints.imports import import_orders
from complaints.management.import_command import ImportCommand


class Command(ImportCommand):
    help = "Import or update orders, one line per order item (upsert by order number)."
    importer = staticmethod(import_orders)

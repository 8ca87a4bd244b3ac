"""Import reviews from a CSV file (see README: "Importing orders and reviews")."""

from complaints.imports import import_reviews
from complaints.management.import_command import ImportCommand


class Command(ImportCommand):
    help = (
        "Import or update reviews (upsert by review id); medium and negative reviews open a case."
    )
    importer = staticmethod(import_reviews)

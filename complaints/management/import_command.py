"""What the two import commands share: options, progress bar, report."""

import sys

from django.core.management.base import BaseCommand, CommandError


class ImportCommand(BaseCommand):
    importer = None  # set by the subclass: complaints.imports.import_orders / _reviews

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file, UTF-8 with or without BOM")
        parser.add_argument(
            "--partial",
            action="store_true",
            help="Import the valid lines even when some lines are wrong.",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, **options):
        path = options["file"]
        try:
            with open(path, "rb") as handle:
                total = max(sum(1 for _ in handle) - 1, 0)
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}") from error
        bar = None
        if not options["no_progress"] and total >= 1000:
            from tqdm import tqdm

            bar = tqdm(total=total, unit="lines", file=sys.stderr)
        try:
            report = type(self).importer(
                path, partial=options["partial"], progress=bar.update if bar else None
            )
        finally:
            if bar:
                bar.close()
        for line, message in report.errors[:1000]:
            self.stderr.write(f"line {line}: {message}" if line else message)
        if len(report.errors) > 1000:
            self.stderr.write(f"... and {len(report.errors) - 1000} more errors")
        self.stdout.write(report.summary())
        if report.errors and not report.committed:
            raise CommandError(
                "Nothing was imported: fix the lines above, or import the valid ones with "
                "--partial."
            )

"""Export root-cause statistics or case rows as CSV or XLSX from the command line."""

import os
import sys
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from complaints.exports import (
    CASE_HEADER,
    GROUP_BY,
    ROOT_CAUSE_HEADER,
    case_csv,
    case_rows,
    record_export,
    root_cause_rows,
    stream_csv,
    write_xlsx,
)
from complaints.queries.reports import report_cases


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD)") from exc


class Command(BaseCommand):
    help = "Export root-cause statistics (or, with --cases, one row per case)."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, help="YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="YYYY-MM-DD")
        parser.add_argument("--group-by", choices=list(GROUP_BY), default="leaf")
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument("--cases", action="store_true", help="One row per case.")
        parser.add_argument("--output", help="File to write (default: standard output).")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        start, end = _day(options["start"]), _day(options["end"])
        if end < start:
            raise CommandError("--to is before --from")
        cases = report_cases(start=start, end=end)
        if options["cases"]:
            header, rows, count, kind = CASE_HEADER, case_rows(cases), cases.count(), "cases"
        else:
            rows = root_cause_rows(cases, options["group_by"])
            header, count = ROOT_CAUSE_HEADER, len(rows)
            kind = f"root_causes_by_{options['group_by']}"
        # CSV text: the case rows straight from the database where it can.
        lines = None
        if options["format"] == "csv":
            lines = case_csv(cases) if options["cases"] else stream_csv(header, rows)
        bar = None
        if not options["no_progress"] and count >= 1000:
            from tqdm import tqdm

            bar = tqdm(total=count, unit="rows", file=sys.stderr)
            if lines is None:
                rows = _counted(rows, bar)
            else:
                lines = _counted_lines(lines, bar)
        try:
            self._write(options, header, rows, lines)
        except BrokenPipeError:  # the reader stopped early (e.g. "| head"): not an error
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silences the final flush
        finally:
            if bar:
                bar.close()
        record_export(
            user=None, kind=kind, file_format=options["format"], row_count=count,
            filters={"start": start, "end": end, "group_by": options["group_by"]},
        )  # fmt: skip
        if options["output"]:
            self.stderr.write(f"{count} rows written to {options['output']}")

    def _write(self, options, header, rows, lines):
        if lines is not None:
            if options["output"]:
                with open(options["output"], "w", encoding="utf-8", newline="") as out:
                    out.writelines(lines)
            else:
                for line in lines:
                    self.stdout.write(line, ending="")
            return
        workbook = write_xlsx(header, rows)
        data = workbook.read()
        if options["output"]:
            with open(options["output"], "wb") as out:
                out.write(data)
        else:
            sys.stdout.buffer.write(data)


def _counted(rows, bar):
    for row in rows:
        bar.update(1)
        yield row


def _counted_lines(chunks, bar):
    """Advance the bar by the line breaks passing by (a quoted break in a cell
    counts too: the bar is a guide, the export record has the exact count)."""
    first = True
    for chunk in chunks:
        bar.update(chunk.count("\n") - first)
        first = False
        yield chunk

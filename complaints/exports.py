"""CSV and XLSX exports of the root-cause statistics and of case rows.

CSV streams (a generator behind StreamingHttpResponse): memory stays flat
however many rows. On PostgreSQL the case rows come straight out of
``COPY (SELECT ...) TO STDOUT``: the database formats the times, writes the
CSV and neutralises formula cells, and the server passes its chunks on
(docs/PERFORMANCE.md). Elsewhere the same rows are formatted in Python, byte
for byte the same. Times are the shop's wall-clock time (TIME_ZONE) as
``YYYY-MM-DD HH:MM:SS``, which spreadsheets read as a date and time.

XLSX uses XlsxWriter in constant-memory mode, which measured faster than
openpyxl's write-only mode on this machine (about 27 s against 45 s for
200,000 rows), written to a temporary file first. Every cell a spreadsheet
could read as a formula is written as text.
"""

import codecs
import csv
import tempfile
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.db import connections
from django.utils import timezone

from .models import ExportRecord
from .queries.reports import pareto, top

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
GROUP_BY = {
    "category": ("group", None),
    "leaf": ("leaf", None),
    "sku": ("top", "root_cause_sku"),
    "courier": ("top", "root_cause_courier"),
    "supplier": ("top", "root_cause_supplier"),
}
ROOT_CAUSE_HEADER = ["key", "name", "cases", "share", "cumulative_share", "compensation"]
CASE_HEADER = [
    "case", "opened", "closed", "state", "source", "order", "customer", "category",
    "root_cause", "remedy", "compensation", "satisfaction", "satisfied",
]  # fmt: skip


def safe_cell(value) -> str:
    """Return ``value`` as text a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def root_cause_rows(cases, group_by: str) -> list[list[str]]:
    kind, field = GROUP_BY[group_by]
    rows = pareto(cases, level=kind) if kind in ("leaf", "group") else top(cases, field, limit=None)
    return [
        [row.key, row.display, row.count, f"{row.share:.4f}", f"{row.cumulative:.4f}",
         f"{row.cost:.2f}"]
        for row in rows
    ]  # fmt: skip


def case_values(cases):
    """The case export's query: its columns, in its order (the benchmark
    COPYs this same SELECT)."""
    return (
        cases.order_by("created_at", "pk")
        .values_list(
            "number", "created_at", "closed_at", "state", "source", "order__number",
            "customer__buyer_id", "category__code", "root_cause__code",
            "accepted_offer__kind", "compensation_cost", "satisfaction_score",
            "customer_satisfied",
        )
    )  # fmt: skip


def case_rows(cases) -> Iterator[list]:
    """Yield one row per case, fetched in chunks (constant memory)."""
    for row in case_values(cases).iterator(chunk_size=2000):
        number, opened, closed, *rest = row
        yield [
            number,
            timezone.localtime(opened).strftime(TIME_FORMAT) if opened else "",
            timezone.localtime(closed).strftime(TIME_FORMAT) if closed else "",
            *["" if value is None else value for value in rest[:7]],
            f"{rest[7]:.2f}" if rest[7] is not None else "0.00",
            "" if rest[8] is None else rest[8],
            "" if rest[9] is None else ("yes" if rest[9] else "no"),
        ]


def case_csv(cases) -> Iterator[str]:
    """The case export as CSV text chunks: by COPY on PostgreSQL, else in Python."""
    if connections[cases.db].vendor == "postgresql":
        return _copy_case_csv(cases)
    return stream_csv(CASE_HEADER, case_rows(cases))


# What csv.writer writes after safe_cell(), in SQL: a leading formula character
# gets an apostrophe, and an empty cell is NULL (COPY writes NULL as nothing,
# but an empty string as "").
_SAFE = (
    "CASE WHEN left({0}, 1) IN ("
    + ", ".join(f"chr({ord(start)})" for start in FORMULA_STARTS)  # safe_cell's one rule
    + ") THEN '''' || {0} ELSE NULLIF({0}, '') END"
)
_LOCAL_TIME = "to_char({} AT TIME ZONE %s, 'YYYY-MM-DD HH24:MI:SS')"
_COPY_SELECT = ", ".join(
    [
        _SAFE.format("v.number"),
        _LOCAL_TIME.format("v.opened"),
        _LOCAL_TIME.format("v.closed"),
        *(_SAFE.format(f"v.{name}::text") for name in (
            "state", "source", "order_number", "buyer", "category", "root_cause", "remedy",
        )),
        _SAFE.format("v.compensation::text"),
        "v.score::text",
        "CASE WHEN v.satisfied THEN 'yes' WHEN NOT v.satisfied THEN 'no' END",
    ]
)  # fmt: skip
_COPY_ALIASES = (
    "number, opened, closed, state, source, order_number, buyer, category, root_cause, "
    "remedy, compensation, score, satisfied"
)


def _copy_case_csv(cases) -> Iterator[str]:
    import psycopg

    connection = connections[cases.db]
    sql, params = case_values(cases).query.sql_with_params()
    connection.ensure_connection()
    # COPY takes no bound parameters: psycopg writes them into the text.
    statement = psycopg.ClientCursor(connection.connection).mogrify(
        f"COPY (SELECT {_COPY_SELECT} FROM ({sql}) AS v({_COPY_ALIASES})) "
        "TO STDOUT WITH (FORMAT csv)",
        [settings.TIME_ZONE, settings.TIME_ZONE, *params],
    )
    writer = csv.writer(_Line(), lineterminator="\n")
    yield "\ufeff" + writer.writerow(CASE_HEADER)
    # COPY's chunks are bytes cut anywhere, even inside a character.
    decoder = codecs.getincrementaldecoder("utf-8")()
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for data in copy:
            yield decoder.decode(data)
    yield decoder.decode(b"", final=True)


class _Line:
    """A file-like object csv.writer writes one line into at a time."""

    def write(self, value):
        return value


def stream_csv(header: list, rows: Iterable, *, lines_per_chunk: int = 500) -> Iterator[str]:
    """Yield the CSV text in chunks of whole lines, starting with a BOM so Excel
    reads UTF-8. A chunk per few hundred lines, not per line, keeps the
    server's per-chunk work from dominating a long export."""
    writer = csv.writer(_Line(), lineterminator="\n")
    yield "\ufeff" + writer.writerow([safe_cell(cell) for cell in header])
    chunk = []
    for row in rows:
        chunk.append(writer.writerow([safe_cell(cell) for cell in row]))
        if len(chunk) >= lines_per_chunk:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


def write_xlsx(header: list, rows: Iterable, *, progress=None):
    """Return a temporary file holding the rows as an XLSX workbook."""
    import xlsxwriter

    target = tempfile.NamedTemporaryFile(suffix=".xlsx")  # noqa: SIM115 - returned open
    workbook = xlsxwriter.Workbook(
        target.name,
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
         "strings_to_urls": False},
    )  # fmt: skip
    sheet = workbook.add_worksheet()
    for col, cell in enumerate(header):
        sheet.write_string(0, col, str(cell))
    for line, row in enumerate(rows, start=1):
        for col, cell in enumerate(row):
            if isinstance(cell, int | float) and not isinstance(cell, bool):
                sheet.write_number(line, col, cell)
            else:
                sheet.write_string(line, col, safe_cell(cell))
        if progress:
            progress(1)
    workbook.close()
    target.seek(0)
    return target


def record_export(*, user, kind: str, file_format: str, filters: dict, row_count: int):
    return ExportRecord.objects.create(
        user=user, kind=kind, file_format=file_format, row_count=row_count,
        filters={key: str(value) for key, value in filters.items() if value not in ("", None)},
    )  # fmt: skip

"""Benchmark the root-cause report and the CSV export on N synthetic cases.

    make bench-reports            # N = 100,000 (a dataset is reused once built)
    .venv/bin/python bench/reports.py --cases 20000

Prints medians: the report page's server time against the same grouped
counts and sums run as raw SQL (the floor, measured in the same run: the six
GROUP BYs behind the Pareto charts, the monthly trend and the top lists), and
the CSV export's
rows per second and peak memory.
"""

import argparse
import os
import statistics
import sys
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casetracker.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / '.bench.sqlite3'}")


def median_time(function, runs):
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        function()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from complaints.exports import CASE_HEADER, case_rows, stream_csv
    from complaints.models import Case
    from complaints.queries.reports import report_cases

    call_command("migrate", verbosity=0)
    have = Case.objects.filter(number__startswith="S-").count()
    if have < args.cases:
        call_command("generate_data", cases=args.cases - have)
    admin, _ = get_user_model().objects.get_or_create(
        username="bench_admin", defaults={"is_superuser": True, "is_staff": True}
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin)
    end = timezone.localdate()
    start = end - timedelta(days=400)
    url = f"/reports/root-causes/?start={start}&end={end}"

    def page():
        assert client.get(url).status_code == 200

    first, last = (
        timezone.make_aware(timezone.datetime.combine(day, time_of))
        for day, time_of in (
            (start, timezone.datetime.min.time()),
            (end, timezone.datetime.max.time()),
        )
    )

    leaf_sql = (
        "SELECT r.code, COUNT(*), SUM(c.compensation_cost) FROM complaints_case c "
        "JOIN complaints_rootcausecategory r ON r.id = c.root_cause_id "
        "WHERE c.created_at BETWEEN %s AND %s GROUP BY r.code ORDER BY 2 DESC"
    )
    group_sql = (
        "SELECT g.code, COUNT(*), SUM(c.compensation_cost) FROM complaints_case c "
        "JOIN complaints_rootcausecategory r ON r.id = c.root_cause_id "
        "JOIN complaints_rootcausecategory g ON g.id = r.parent_id "
        "WHERE c.created_at BETWEEN %s AND %s GROUP BY g.code ORDER BY 2 DESC"
    )
    field_sql = (
        "SELECT {f}, COUNT(*), SUM(compensation_cost) FROM complaints_case "
        "WHERE root_cause_id IS NOT NULL AND created_at BETWEEN %s AND %s AND {f} <> '' "
        "GROUP BY {f} ORDER BY 2 DESC LIMIT 10"
    )
    month = (
        "date_trunc('month', c.created_at AT TIME ZONE 'Asia/Shanghai')"
        if connection.vendor == "postgresql"
        else "strftime('%%Y-%%m', c.created_at, '+8 hours')"
    )
    trend_sql = (
        f"SELECT {month} AS m, g.code, COUNT(*) FROM complaints_case c "
        "JOIN complaints_rootcausecategory r ON r.id = c.root_cause_id "
        "JOIN complaints_rootcausecategory g ON g.id = r.parent_id "
        "WHERE c.created_at BETWEEN %s AND %s GROUP BY m, g.code ORDER BY m"
    )
    floor_queries = [leaf_sql, group_sql, trend_sql] + [
        field_sql.format(f=field)
        for field in ("root_cause_sku", "root_cause_courier", "root_cause_supplier")
    ]

    def raw_group_by():
        """The page's grouped counts and sums as raw SQL: the floor."""
        with connection.cursor() as cursor:
            for sql in floor_queries:
                cursor.execute(sql, [first, last])
                cursor.fetchall()

    page()  # warm up caches and connections
    page_time = median_time(page, args.runs)
    floor = median_time(raw_group_by, args.runs)
    cases = report_cases(start=start, end=end)
    count = cases.count()
    tracemalloc.start()
    began = time.perf_counter()
    rows = sum(1 for _ in stream_csv(CASE_HEADER, case_rows(cases))) - 1
    export_time = time.perf_counter() - began
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"dataset: {count} cases with a root cause ({connection.vendor})")
    print(f"report page, median of {args.runs}: {page_time * 1000:.0f} ms")
    print(f"raw SQL GROUP BYs (floor), median of {args.runs}: {floor * 1000:.0f} ms")
    print(f"ratio page / floor: {page_time / floor:.1f}x")
    print(
        f"CSV export: {rows} rows in {export_time:.1f} s = {rows / export_time:,.0f} rows/s, "
        f"peak traced memory {peak / 2**20:.1f} MiB"
    )


if __name__ == "__main__":
    main()

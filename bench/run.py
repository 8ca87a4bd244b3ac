"""casetracker's benchmark: every measured page against a floor measured in
the same run, at each size of the data.

    make bench                                    # PostgreSQL, 100k then 1M cases
    .venv/bin/python bench/run.py --sizes 20000   # against $DATABASE_URL

Server time is measured in-process through the whole middleware stack
(Django's test client) with production settings (DEBUG off), as medians of
--runs requests after a warm-up. A page and its floor's parts take turns
request by request, so the machine's slow and fast phases fall on both.

- queue: an agent's "mine" queue, filtered and sorted by due, first page and
  a page 90% of the way down (keyset pagination); floor = a minimal view
  through the same middleware + the page's list query run as raw SQL.
- shell: base.html with its navigation and no content, through the same
  middleware: what every page costs before its own content (reported).
- case: the case page of a closed case with its events; floor = minimal view
  + the case's main query as raw SQL.
- transition: POST "confirm" on a case, beside a minimal POST view (reported;
  the issue sets no target for it).
- report: the root-cause report page; floor = its GROUP BYs as raw SQL.
- export: the case CSV export streamed through the view; floor = the same
  SELECT through PostgreSQL's COPY ... TO STDOUT (rows per second).

Targets (issue 9): queue and case ≤ 3x floor and < 150 ms; deep page ≤ 1.2x
the first page; query counts equal on both pages; report ≤ 1.5x raw SQL;
export ≥ 25% of COPY's rows/s with peak memory that does not grow with size.
Each page's time is also split: the minimal view + every other query the page
sends, run back to back as raw SQL + what remains (Python: the ORM, forms
and templates), and set against the minimal view + all of its SQL (the
floor read as every query the page sends, not its main one alone).
Results are printed and written to bench/results.json.
"""

import argparse
import json
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
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / '.bench.sqlite3'}")
# Production settings, as bin/serve runs them (DEBUG off: cached templates, no
# query log, hashed static files, tasks queued for the worker), over plain HTTP.
os.environ.update(
    DEBUG="0",
    SECRET_KEY=os.environ.get("SECRET_KEY") or "bench-" + os.urandom(24).hex(),
    SECURE_SSL_REDIRECT="0",
    SECURE_COOKIES="0",
    SECURE_HSTS_SECONDS="0",
    TASK_BACKEND="database",
    STATIC_ROOT=os.environ.get("BENCH_STATIC_ROOT", "/tmp/casetracker-bench-static"),
)


WARM_UP = 5  # rounds first: PostgreSQL prepares a statement the 5th time it is sent


def medians_ms(functions: dict, runs, warm_up=WARM_UP) -> dict:
    """The median time of each function, run in turn ``runs`` times after
    ``warm_up`` untimed rounds: a page and its floor take turns, so a slow
    phase of a noisy machine slows both instead of whichever ran in it."""
    times = {name: [] for name in functions}
    for round_ in range(warm_up + runs):
        for name, function in functions.items():
            began = time.perf_counter()
            function()
            if round_ >= warm_up:
                times[name].append(time.perf_counter() - began)
    return {name: statistics.median(spent) * 1000 for name, spent in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    settings.ROOT_URLCONF = "bench.urls"  # the app's URLs + the minimal views
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--no-input", verbosity=0)
    from complaints.models import Case

    results = []
    for size in [int(s) for s in args.sizes.split(",")]:
        have = Case.objects.filter(number__startswith="S-").count()
        if have < size:
            print(f"generating {size - have} cases ...", flush=True)
            began = time.perf_counter()
            call_command("generate_data", cases=size - have, seed=have + 7)
            print(f"  {time.perf_counter() - began:.0f} s", flush=True)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        result = measure(size, args.runs)
        results.append(result)
        report(result)
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=1, default=str))


def measure(size, runs):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from complaints.models import OPEN_STATES, Case
    from complaints.paging import CASE_SORTS, encode_cursor

    User = get_user_model()
    agent = User.objects.get(username="bench_agent0")  # carries the most cases
    admin, _ = User.objects.get_or_create(
        username="bench_admin", defaults={"is_superuser": True, "is_staff": True}
    )
    web = Client(HTTP_HOST="localhost")
    web.force_login(agent)
    boss = Client(HTTP_HOST="localhost")
    boss.force_login(admin)
    out = {"size": size, "database": connection.vendor, "runs": runs}

    def get(client, url, status=200):
        response = client.get(url)
        assert response.status_code == status, (url, response.status_code)
        return response

    def minimal():
        get(web, "/bench/minimal/")

    get(web, "/bench/shell/")
    both = medians_ms({"minimal": minimal, "shell": lambda: get(web, "/bench/shell/")}, runs)
    out["minimal_view_ms"], out["shell_ms"] = both["minimal"], both["shell"]
    with CaptureQueriesContext(connection) as captured:
        minimal()
    shared = len(captured)  # the session and the user: every page starts with these

    def measure_page(name, url, main_sql, captured):
        """The page, its minimal view, its main query and all its other SQL
        (every query it sends past the session and the user) run raw, in
        turn: the floor is the minimal view + the main query; what the page
        spends beyond the minimal view and all its SQL is Python."""
        rest = [q["sql"] for q in captured[shared:]]
        times = medians_ms(
            {
                "page": lambda: get(web, url),
                "minimal": minimal,
                "sql": lambda: raw(main_sql),
                "all_sql": lambda: [raw(sql) for sql in rest],
            },
            runs,
        )
        out[f"{name}_ms"], out[f"{name}_minimal_ms"] = times["page"], times["minimal"]
        out[f"{name}_sql_ms"], out[f"{name}_all_sql_ms"] = times["sql"], times["all_sql"]
        out[f"{name}_floor_ms"] = times["minimal"] + times["sql"]

    # The queue: filtered, sorted by due; the first page and one 90% down.
    query = "sort=due&priority=2&priority=3&priority=4"
    mine = Case.objects.filter(assignee=agent, state__in=OPEN_STATES, priority__in=[2, 3, 4])
    ordered = CASE_SORTS["due"].apply(mine)
    total = mine.count()
    deep_row = ordered[int(total * 0.9)]
    deep = f"/queue/mine/?{query}&after={encode_cursor(CASE_SORTS['due'].values_of(deep_row))}"
    first = f"/queue/mine/?{query}"
    out["queue_rows"] = total
    for name, url in (("queue_first", first), ("queue_deep", deep)):
        get(web, url)
        with CaptureQueriesContext(connection) as captured:
            get(web, url)
        out[f"{name}_queries"] = len(captured)
        page_sql = next(q["sql"] for q in captured if "LIMIT 26" in q["sql"])
        measure_page(name, url, page_sql, captured)

    # The case page: a closed case of the agent's, with its events.
    case = Case.objects.filter(assignee=agent, state="closed").order_by("-pk").first()
    url = case.get_absolute_url()
    get(web, url)
    with CaptureQueriesContext(connection) as captured:
        get(web, url)
    out["case_queries"] = len(captured)
    case_sql = next(
        q["sql"]
        for q in captured
        if 'FROM "complaints_case"' in q["sql"] and case.number in q["sql"]
    )
    measure_page("case", url, case_sql, captured)

    # A transition: confirm, each run on another case waiting for it.
    waiting = list(
        Case.objects.filter(assignee=agent, state="confirming").order_by("pk")[: runs + WARM_UP + 1]
    )
    body = {"expected_state": "confirming", "demand": "退款", "description": "bench"}

    def confirm():
        target = waiting.pop()
        response = web.post(f"/cases/{target.number}/step/confirm/", body)
        assert response.status_code == 302, response.status_code

    confirm()
    timed = min(runs, len(waiting))  # small data has few cases waiting to be confirmed
    posts = medians_ms(
        {"confirm": confirm, "minimal": lambda: web.post("/bench/minimal/", {"x": "1"})},
        timed,
        warm_up=min(WARM_UP, len(waiting) - timed),
    )
    out["transition_ms"], out["transition_floor_ms"] = posts["confirm"], posts["minimal"]

    # The root-cause report over the last 400 days.
    end = timezone.localdate()
    start = end - timedelta(days=400)
    report_url = f"/reports/root-causes/?start={start}&end={end}"
    get(boss, report_url)
    report_times = medians_ms(
        {"page": lambda: get(boss, report_url), "sql": lambda: report_floor(start, end)},
        max(3, runs // 3),
        warm_up=1,  # seconds a round at 1M
    )
    out["report_ms"], out["report_sql_ms"] = report_times["page"], report_times["sql"]

    # The case export (CSV, streamed) against COPY of the same SELECT.
    export_url = f"/reports/root-causes/export/?start={start}&end={end}&cases=1&format=csv"

    def export():
        response = get(boss, export_url)
        return sum(chunk.count(b"\n") for chunk in response.streaming_content) - 1

    began = time.perf_counter()
    rows = export()  # timed on its own: tracing memory slows Python down
    out["export_rows_per_s"] = rows / (time.perf_counter() - began)
    out["export_rows"] = rows
    tracemalloc.start()
    export()
    out["export_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    if connection.vendor == "postgresql":
        copied, copy_seconds = copy_floor(start, end)
        out["copy_rows_per_s"] = copied / copy_seconds
    return out


def raw(sql):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)
        cursor.fetchall()


def report_floor(start, end):
    """The report's grouped counts and sums as raw SQL."""
    from django.db import connection
    from django.utils import timezone

    first = timezone.make_aware(timezone.datetime.combine(start, timezone.datetime.min.time()))
    last = timezone.make_aware(timezone.datetime.combine(end, timezone.datetime.max.time()))
    month = (
        "date_trunc('month', c.created_at AT TIME ZONE 'Asia/Shanghai')"
        if connection.vendor == "postgresql"
        else "strftime('%%Y-%%m', c.created_at, '+8 hours')"
    )
    joins = (
        "FROM complaints_case c JOIN complaints_rootcausecategory r ON r.id = c.root_cause_id "
        "JOIN complaints_rootcausecategory g ON g.id = r.parent_id "
        "WHERE c.created_at BETWEEN %s AND %s "
    )
    queries = [
        f"SELECT r.code, COUNT(*), SUM(c.compensation_cost) {joins} GROUP BY r.code",
        f"SELECT g.code, COUNT(*), SUM(c.compensation_cost) {joins} GROUP BY g.code",
        f"SELECT {month} AS m, g.code, COUNT(*) {joins} GROUP BY m, g.code",
    ] + [
        f"SELECT c.{f}, COUNT(*), SUM(c.compensation_cost) {joins} AND c.{f} <> '' "
        f"GROUP BY c.{f} ORDER BY 2 DESC LIMIT 10"
        for f in ("root_cause_sku", "root_cause_courier", "root_cause_supplier")
    ]
    with connection.cursor() as cursor:
        for sql in queries:
            cursor.execute(sql, [first, last])
            cursor.fetchall()


def copy_floor(start, end):
    """COPY of the export's own SELECT: (rows, seconds)."""
    import psycopg
    from django.db import connection

    from complaints.exports import case_values
    from complaints.queries.reports import report_cases

    values = case_values(report_cases(start=start, end=end))
    sql, params = values.query.sql_with_params()
    connection.ensure_connection()
    text = psycopg.ClientCursor(connection.connection).mogrify(sql, params)
    rows = 0
    began = time.perf_counter()
    sql = f"COPY ({text}) TO STDOUT WITH (FORMAT csv)"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for data in copy:
            rows += bytes(data).count(b"\n")
    return rows, time.perf_counter() - began


def report(r):
    def line(name, value, floor, target, unit="ms"):
        ratio = value / floor if floor else float("nan")
        verdict = "ok" if ratio <= target else "OVER"
        print(
            f"  {name:<22} {value:8.1f} {unit}   floor {floor:8.1f} {unit}   "
            f"{ratio:5.2f}x (target <= {target}x) {verdict}"
        )

    print(f"\n== {r['size']:,} cases on {r['database']} (medians of {r['runs']})")
    print(f"  minimal view            {r['minimal_view_ms']:8.1f} ms")
    print(
        f"  page shell              {r['shell_ms']:8.1f} ms   (base.html and its navigation: "
        f"{r['shell_ms'] / r['minimal_view_ms']:.1f}x the minimal view, in every page)"
    )
    print(f"  queue rows (agent, filtered): {r['queue_rows']:,}")
    line("queue, first page", r["queue_first_ms"], r["queue_first_floor_ms"], 3)
    line("queue, page at 90%", r["queue_deep_ms"], r["queue_deep_floor_ms"], 3)
    line("deep / first page", r["queue_deep_ms"], r["queue_first_ms"], 1.2)
    print(
        f"  queries: first page {r['queue_first_queries']}, deep page "
        f"{r['queue_deep_queries']}, case page {r['case_queries']}"
    )
    line("case page", r["case_ms"], r["case_floor_ms"], 3)
    print("  where the time goes (minimal view + the page's other SQL run raw + Python):")
    pages = (("queue_first", "queue, first"), ("queue_deep", "queue, 90%"), ("case", "case"))
    for name, label in pages:
        total, sql, least = r[f"{name}_ms"], r[f"{name}_all_sql_ms"], r[f"{name}_minimal_ms"]
        python = total - least - sql
        print(
            f"    {label:<13} {total:6.1f} ms = {least:.1f} + {sql:.1f} SQL "
            f"+ {python:.1f} Python ({python / total:.0%}); beyond the shell: "
            f"{total - r['shell_ms']:.1f} ms; against the minimal view + all its SQL: "
            f"{total / (least + sql):.2f}x"
        )
    print(
        f"  transition POST        {r['transition_ms']:8.1f} ms   minimal POST "
        f"{r['transition_floor_ms']:.1f} ms   {r['transition_ms'] / r['transition_floor_ms']:.1f}x"
        " (measured; the issue sets no target)"
    )
    line("root-cause report", r["report_ms"], r["report_sql_ms"], 1.5)
    print(
        f"  export: {r['export_rows']:,} rows, {r['export_rows_per_s']:,.0f} rows/s, "
        f"peak traced memory {r['export_peak_mib']:.1f} MiB"
    )
    if "copy_rows_per_s" in r:
        share = r["export_rows_per_s"] / r["copy_rows_per_s"]
        verdict = "ok" if share >= 0.25 else "UNDER"
        print(
            f"  export / COPY: {r['copy_rows_per_s']:,.0f} rows/s by COPY -> "
            f"{share:.0%} (target >= 25%) {verdict}"
        )
    slow = [k for k in ("queue_first_ms", "queue_deep_ms", "case_ms") if r[k] >= 150]
    print(f"  under 150 ms: {'all' if not slow else 'not ' + ', '.join(slow)}")


if __name__ == "__main__":
    main()

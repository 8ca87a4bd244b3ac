#!/usr/bin/env bash
# make load: PostgreSQL (bin/with-postgres gives DATABASE_URL) filled with
# CASES synthetic cases, bin/serve on it, and locust's headless scenario of
# USERS users (one in ten a supervisor) for DURATION. Writes bench/load_stats.csv and prints p95s.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
CASES=${CASES:-1000000} USERS=${USERS:-50} DURATION=${DURATION:-5m}

"$PY" manage.py migrate --no-input -v 0
have=$("$PY" manage.py shell -c 'from complaints.models import Case; print(Case.objects.count())' 2>/dev/null | tail -n 1)
[ "$have" -lt "$CASES" ] && "$PY" manage.py generate_data --cases $((CASES - have))
"$PY" manage.py shell -c 'from django.db import connection; connection.cursor().execute("VACUUM ANALYZE")'

PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BIND=127.0.0.1:$PORT SECRET_KEY=load-test-only-$RANDOM$RANDOM$RANDOM PYTHON="$PY" setsid \
  bin/serve > bench/serve.log 2>&1 &
server=$!
trap 'kill -- -$server 2>/dev/null; wait' EXIT
for _ in $(seq 120); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/health/" && break; sleep 1; done

# --stop-timeout: at the end each agent finishes what it is doing, so no
# request is cut off mid-flight and counted as an error.
status=0
rm -f bench/load_failures.log
.venv-load/bin/locust -f bench/locustfile.py --headless -u "$USERS" -r 5 -t "$DURATION" \
  --stop-timeout 30 --host "http://127.0.0.1:$PORT" --csv bench/load --only-summary || status=$?
echo "== p95 per page (ms), failures: bench/load_stats.csv"
"$PY" - <<'PY'
import csv
for row in csv.DictReader(open("bench/load_stats.csv")):
    ms = {key: float(row[key] or 0) for key in ("Median Response Time", "95%", "99%")}
    print(f'{row["Name"]:<20} {row["Request Count"]:>7} requests  {row["Failure Count"]:>4} failures  '
          f'median {ms["Median Response Time"]:5.0f}  p95 {ms["95%"]:5.0f}  p99 {ms["99%"]:5.0f}')
PY
[ -s bench/load_failures.log ] && { echo "== failures (bench/load_failures.log)"; cat bench/load_failures.log; }
exit $status

# casetracker — the README's two commands: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

# Local development and tests run with DEBUG on (which also allows the
# development SECRET_KEY); production sets DEBUG=0 and a real SECRET_KEY.
export DEBUG ?= 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help run serve test lint messages translations screenshots bench load bench-reports demo-fixture clean

# Install Debian packages the first time they are needed (CI starts fresh).
# Usage: $(call apt_install,command-to-check,package)
define apt_install
@command -v $(1) >/dev/null 2>&1 || { \
	  echo "Installing Debian package $(2) (for $(1))"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get install -y -q $(2) >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q $(2) >/dev/null; }; \
	  command -v $(1) >/dev/null 2>&1 || { echo "Could not install $(2)" >&2; exit 1; }; }
endef

help:
	@echo "make run    set up .venv, migrate, load demo data, serve on http://$(HOST):$(PORT)/"
	@echo "make test   set up .venv with the test tools and run every check"
	@echo "make serve  production-style: gunicorn + WhiteNoise + task worker, DEBUG off (README)"

# Find a Python >= 3.12: the version named in .python-version (pyenv), then
# python3.13, python3.12, python3 on PATH.
$(PY):
	@set -e; want=$$(cat .python-version 2>/dev/null || true); found=""; \
	for cand in "$$(pyenv which python 2>/dev/null || true)" \
	            "$${PYENV_ROOT:-$$HOME/.pyenv}/versions/$$want/bin/python" \
	            "$$(command -v python3.13 || true)" "$$(command -v python3.12 || true)" \
	            "$$(command -v python3 || true)"; do \
	  [ -n "$$cand" ] && [ -x "$$cand" ] || continue; \
	  if "$$cand" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	    found="$$cand"; break; fi; \
	done; \
	if [ -z "$$found" ]; then \
	  echo "casetracker needs Python 3.12 or newer (Django 6.1); none was found." >&2; \
	  echo "Install one (e.g. 'pyenv install $$want') and run make again." >&2; exit 1; fi; \
	echo "Creating $(VENV) with $$found ($$("$$found" --version))"; \
	"$$found" -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.runtime-installed

# Local settings for manage.py run by hand; production sets real variables.
.env:
	@printf '# Local development settings (not committed, never deployed).\nDEBUG=1\n' > $@

# Compiled translations (.mo) are built, not committed.
messages: $(VENV)/.runtime-installed
	$(call apt_install,msgfmt,gettext)
	@$(MANAGE) compilemessages --ignore=.venv -v 0

run: $(VENV)/.runtime-installed .env messages
	$(MANAGE) migrate --no-input
	$(MANAGE) load_demo
	$(MANAGE) sla_sweep
	@echo ""
	@echo "Demo logins (local demo only): agent1, agent2, supervisor1, admin1 — password demo12345"
	@echo "Open http://$(HOST):$(PORT)/ — the API's docs: /api/docs/ (a token: .venv/bin/python manage.py issue_token agent1)"
	$(MANAGE) runserver $(HOST):$(PORT)

# Production-style run: settings from the environment (README "Running in
# production"); BIND=0.0.0.0:8000 to listen beyond this machine.
serve: $(VENV)/.runtime-installed messages
	PYTHON=$(PY) bin/serve

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The suite runs in parallel processes (pytest-xdist), one per CPU, at most 4:
# each has its own test database, and PostgreSQL's 100 connections leave room
# for four workers' 20-thread races.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); echo $$(( n > 4 ? 4 : n )))

# The PostgreSQL run starts its clock at a fixed awkward moment (conftest's
# _suite_clock): New Year's Day at 07:50 in Shanghai, before the service
# hours and still the old year in UTC. A test that holds only at some hours
# fails on every run, not one in twenty; the SQLite run keeps the real time.
PG_TEST_CLOCK ?= 2027-01-01T07:50:00+08:00

test: $(VENV)/.dev-installed .env messages
	$(call apt_install,chromium,chromium)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(MANAGE) makemigrations --check --dry-run
	$(MANAGE) check --fail-level WARNING
	@echo "== The suite on SQLite"
	$(PY) -m pytest -n $(TEST_WORKERS) -W error::DeprecationWarning \
	  -W error::PendingDeprecationWarning $(PYTEST_ARGS)
	@echo "== The suite on PostgreSQL (a throwaway cluster), its clock at $(PG_TEST_CLOCK)"
	TEST_CLOCK=$(PG_TEST_CLOCK) PYTHON=$(PY) bin/with-postgres $(PY) -m pytest -q -n $(TEST_WORKERS) -W error::DeprecationWarning \
	  -W error::PendingDeprecationWarning $(PYTEST_ARGS)

# After changing user-facing text: update the catalogues, then translate the
# new entries in complaints/locale/zh_Hans/LC_MESSAGES/django.po.
translations: $(VENV)/.dev-installed .env
	$(call apt_install,xgettext,gettext)
	$(MANAGE) makemessages -l zh_Hans -l en --ignore=.venv --ignore=staticfiles \
	  --ignore="complaints/tests/*" --no-obsolete

# The README's screenshots (demo shop; English and Chinese; laptop and tablet).
screenshots: $(VENV)/.dev-installed .env messages
	$(call apt_install,chromium,chromium)
	@fc-list :lang=zh | grep -q . || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  echo "Installing Debian package fonts-noto-cjk (Chinese glyphs)"; \
	  $$SUDO apt-get install -y -q fonts-noto-cjk >/dev/null; }
	SCREENSHOT_DIR=docs/screenshots $(PY) -m pytest -q complaints/tests/test_screenshots.py

# The benchmark (not part of make test): a throwaway PostgreSQL cluster filled
# with 100k, then 1M synthetic cases; every page against its floor (bench/run.py,
# results in bench/results.json and docs/PERFORMANCE.md). SIZES=20000 for a quick run.
bench: $(VENV)/.dev-installed .env
	PYTHON=$(PY) PG_OPTIONS="-c shared_buffers=512MB -c work_mem=32MB" bin/with-postgres \
	  $(PY) bench/run.py --sizes $${SIZES:-100000,1000000}

# The load test (not part of make test): 45 agents and 5 supervisors for 5 minutes on make serve
# + PostgreSQL with 1M cases (bench/load.sh, bench/locustfile.py). Locust lives
# in its own .venv-load. CASES=100000 USERS=20 DURATION=1m for a quick run.
.venv-load/bin/locust: requirements-load.txt | $(PY)
	$(PY) -m venv .venv-load
	.venv-load/bin/python -m pip install --quiet -r requirements-load.txt
	@touch $@

load: $(VENV)/.runtime-installed .venv-load/bin/locust messages
	PYTHON=$(PY) PG_OPTIONS="-c shared_buffers=512MB -c max_connections=300" bin/with-postgres \
	  bench/load.sh

# The same benchmark on SQLite (.bench.sqlite3, kept between runs; not part of make test).
bench-reports: $(VENV)/.dev-installed .env
	$(PY) bench/run.py --sizes $${CASES:-100000}

# Rebuild fixtures/demo.json by playing the demo shop through the workflow
# functions on a throwaway database.
demo-fixture: $(VENV)/.dev-installed
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	export DATABASE_URL="sqlite:///$$tmp/demo.sqlite3"; \
	$(MANAGE) migrate --no-input -v 0 && \
	$(MANAGE) build_demo && \
	$(MANAGE) dumpdata --natural-foreign --indent 1 -o fixtures/demo.json \
	  auth.user complaints --exclude complaints.rootcausecategory --exclude complaints.policyrule \
	  --exclude complaints.slapolicy --exclude complaints.slacalendar \
	  --exclude complaints.businesshours --exclude complaints.specialday
	@echo "fixtures/demo.json rebuilt"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

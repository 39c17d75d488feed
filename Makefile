# The EMR summaries ETL. `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PG_URL ?= postgres://postgres@127.0.0.1:5432/emr_etl
DEMO_VISITS ?= 20000
# make test: the suite on SQLite, then on PostgreSQL when it answers at PG_URL
# (REQUIRE_POSTGRES=1, as CI sets, makes a missing PostgreSQL an error).
# It also makes tests/test_replica.py fail, not skip, when scripts/ensure_replica.sh cannot
# start its two servers.
REQUIRE_POSTGRES ?= 0
export REQUIRE_POSTGRES
TEST_POSTGRES_URL ?=
# REQUIRE_REDIS=1 (CI) makes the real-worker test fail, not skip, when Redis is down.
REQUIRE_REDIS ?= 0
export REQUIRE_REDIS
# The browser test runs when /usr/bin/chromium exists; REQUIRE_BROWSER=1 (CI) makes a
# missing chromium an error instead of a skip.
REQUIRE_BROWSER ?= 0
export REQUIRE_BROWSER

.PHONY: help install demo serve test test-sqlite test-postgres bench bench-web worker beat health clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 16

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

install: $(VENV)/.installed ## create .venv and install the pinned requirements

demo: install ## migrate, create raw tables, generate demo data, build and show the summaries (SQLite by default)
	@$(PY) scripts/ensure_database.py
	$(PY) manage.py migrate -v 0
	$(PY) manage.py init_emr --drop --noinput
	$(PY) manage.py generate_emr --visits $(DEMO_VISITS) --days 60 --clinics 8 --seed 1
	$(PY) manage.py build_summaries --full
	$(PY) manage.py show_summaries
	$(PY) manage.py demo_login

SERVE_ADDR ?= 127.0.0.1:8000
serve: install ## run the dashboards on the demo data at SERVE_ADDR (runs make demo first when there is no database)
	@test -f db.sqlite3 || [ -n "$$DATABASE_URL" ] || $(MAKE) --no-print-directory demo
	$(PY) manage.py migrate -v 0
	$(PY) manage.py runserver $(SERVE_ADDR)

test: install ## run the suite on SQLite, then on PostgreSQL when one answers at PG_URL
	@if $(PY) scripts/postgres_available.py "$(PG_URL)"; then \
		$(MAKE) --no-print-directory test-sqlite TEST_POSTGRES_URL=$(PG_URL) && \
		$(MAKE) --no-print-directory test-postgres; \
	elif [ "$(REQUIRE_POSTGRES)" = 1 ]; then \
		echo "PostgreSQL is required (REQUIRE_POSTGRES=1) but does not answer at $(PG_URL)"; exit 1; \
	else \
		$(MAKE) --no-print-directory test-sqlite && \
		echo "PostgreSQL does not answer at $(PG_URL): ran the SQLite pass only (README, Tests)"; \
	fi

test-sqlite: install ## the suite on SQLite only
	@echo "== tests on SQLite"
	DATABASE_URL=sqlite:///$(CURDIR)/db.sqlite3 TEST_POSTGRES_URL=$(TEST_POSTGRES_URL) $(PY) -m pytest -q

test-postgres: install ## the suite on PostgreSQL only (PG_URL)
	@echo "== tests on PostgreSQL"
	DATABASE_URL=$(PG_URL) TEST_POSTGRES_URL=$(PG_URL) $(PY) -m pytest -q

SIZE ?= 100k
SHAPE ?= sparse
BENCH_DB ?= emr_bench
BENCH_ARGS ?=
bench: install ## benchmarks vs hand-written SQL and the ORM (SIZE=100k|1m|10m, SHAPE=sparse|dense, BENCH_DB=..., BENCH_ARGS=...); not in make test
	scripts/ensure_postgres.sh $(BENCH_DB)
	$(PY) -m bench.run --size $(SIZE) --shape $(SHAPE) --database-url postgres://postgres@127.0.0.1:5432/$(BENCH_DB) $(BENCH_ARGS)
	$(MAKE) --no-print-directory bench-web

WEB_BENCH_ARGS ?=
BENCH_WEB_DB ?= emr_bench_web
bench-web: install ## server time of every page and API call on 2 years x 200 clinics of summaries (PostgreSQL; BENCH_WEB_DB=...)
	scripts/ensure_postgres.sh $(BENCH_WEB_DB)
	$(PY) -m bench.web --database-url postgres://postgres@127.0.0.1:5432/$(BENCH_WEB_DB) $(WEB_BENCH_ARGS)

WORKER_ARGS ?= --concurrency 2
worker: install ## run a Celery worker in the foreground (WORKER_ARGS=...; docs/operations.md)
	$(VENV)/bin/celery -A project worker --loglevel INFO $(WORKER_ARGS)

beat: install ## run Celery beat in the foreground: exactly ONE per deployment (docs/operations.md)
	$(VENV)/bin/celery -A project beat --loglevel INFO

health: install ## exit 0 when every worker answers a ping within 10 s
	$(VENV)/bin/celery -A project inspect ping --timeout 10

clean: ## remove the venv, the demo database and caches
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm db.sqlite3.build-lock .pytest_cache

# The commands people type. `make run` and `make test` work from a fresh clone on
# Debian with Python 3.11+, Node 20+ and apt: they install what is missing first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(abspath $(VENV))/bin/python
MQTT_PORT ?= 1883

.DEFAULT_GOAL := help
.PHONY: help deps venv mosquitto docker-compose postgres redis prometheus supervisor test-deps run run-postgres test test-backend test-faults test-postgres migrate clean
.PHONY: frontend-deps test-frontend test-browser frontend-build bench bench-quick bench-scale-out bench-fleet wrk api-types check-api-types

help:
	@echo "make run          broker, web, ingest, worker and a simulated fleet on http://localhost:8000/"
	@echo "make run-postgres the production topology: PostgreSQL, gunicorn, two ingests, two workers, supervised"
	@echo "make test         install what is missing and run every test"
	@echo "make test-postgres  the backend suite on PostgreSQL (a private cluster unless DATABASE_URL names one)"
	@echo "make bench-quick  a two-minute benchmark (make bench: the full one)"
	@echo "make bench-fleet  100,000 seeded devices (100 M readings on PostgreSQL, 10 M on SQLite), 50 pollers, a 10,000-device simulator"

deps: venv mosquitto

venv: $(VENV)/.installed

$(VENV)/.installed: backend/requirements.txt backend/requirements-dev.txt simulator/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r backend/requirements-dev.txt -r simulator/requirements.txt
	touch $@

mosquitto:
	@scripts/apt-install mosquitto mosquitto mosquitto-clients

# PostgreSQL with pg_partman, which keeps the readings table's daily partitions. The package
# has no command for apt-install to look for, so dpkg says whether it is there.
postgres:
	@scripts/apt-install pg_createcluster postgresql
	@partman=postgresql-$$(psql --version | sed -E 's/[^0-9]*([0-9]+).*/\1/')-partman; \
		dpkg-query -W -f='$${Status}' $$partman 2>/dev/null | grep -q 'ok installed' || \
		scripts/apt-install "$$partman (extension)" $$partman

# Debian's supervisor restarts the programs of make run-postgres (deploy/supervisord.conf).
supervisor:
	@scripts/apt-install supervisord supervisor

# Debian's docker-compose renders docker-compose.yml in the tests (config -q); no daemon needed.
docker-compose:
	@scripts/apt-install docker-compose docker-compose

# Only the tests need it: they start their own redis-server for the REDIS_URL cache.
redis:
	@scripts/apt-install redis-server redis-server

migrate: venv
	cd backend && $(PY) manage.py migrate --noinput
	cd backend && $(PY) manage.py collectstatic --noinput -v0

run: deps migrate frontend-build
	@echo
	@echo "  Dashboard: http://localhost:8000/   API: http://localhost:8000/api/   Admin: http://localhost:8000/admin/"
	@echo "  (python backend/manage.py createsuperuser for an admin login; Ctrl-C stops everything)"
	@echo
	MQTT_PORT=$(MQTT_PORT) $(VENV)/bin/honcho --procfile Procfile start

# Debian's prometheus: the tests run its promtool on monitoring/ (docs/monitoring.md).
prometheus:
	@scripts/apt-install promtool prometheus

# The topology of production on this machine, on PostgreSQL (.data/postgres, kept between
# runs, unless DATABASE_URL names a server): scripts/run-postgres.
run-postgres: deps postgres supervisor frontend-build
	scripts/run-postgres

# What the backend's tests start or call: a broker, PostgreSQL (replicas, the PostgreSQL
# suite, scripts/run-postgres), redis-server (the REDIS_URL cache), docker-compose (config -q of
# the compose file), promtool (the monitoring config) and supervisor (scripts/run-postgres).
test-deps: deps docker-compose redis postgres prometheus supervisor

test: test-deps test-backend test-frontend check-api-types test-browser

test-backend: test-deps
	$(PY) -m pytest

# The backend suite again on PostgreSQL: the server named by DATABASE_URL, or a private
# cluster on a free port that scripts/with-postgres creates and drops.
test-postgres: test-deps
	scripts/with-postgres $(PY) -m pytest

# The fault-injection tests (docs/reliability.md) with the long durations: a 100-device
# fleet's 60 s backlog, 10 s outages, more worker kills. make test runs them short.
test-faults: test-deps
	FAULTS_BACKLOG_SECONDS=60 FAULTS_OUTAGE_SECONDS=10 FAULTS_WORKER_KILLS=3 $(PY) -m pytest -m faults

# The dashboard (frontend/): npm ci from the committed lock file, again whenever
# the lock file is newer than the last install (the stamp file records it).
FRONTEND_STAMP := frontend/node_modules/.installed
FRONTEND_SOURCES := $(shell find frontend/src frontend/public -type f ! -name '*.test.*' 2>/dev/null) \
	frontend/index.html frontend/vite.config.ts frontend/tsconfig.json frontend/tsconfig.node.json

frontend-deps: $(FRONTEND_STAMP)

$(FRONTEND_STAMP): frontend/package-lock.json frontend/package.json
	@command -v npm >/dev/null || { echo "The dashboard needs Node.js 20.19+ and npm on PATH."; exit 1; }
	cd frontend && npm ci --no-audit --no-fund
	touch $@

test-frontend: frontend-deps
	cd frontend && npm test

# The dashboard's API types (frontend/src/types/api.generated.ts) come from the backend's
# OpenAPI schema: api-types rewrites them, check-api-types fails when they differ from it.
# Both use the virtualenv of make deps.
api-types: frontend-deps
	PY=$(PY) scripts/api-types

check-api-types: frontend-deps
	PY=$(PY) scripts/api-types --check

# The browser test (frontend/e2e/): Debian's Chromium, driven by playwright-core, against
# the real platform started on free ports; it saves docs/screenshots/{fleet,device,alerts}.png.
test-browser: deps frontend-deps frontend-build
	@scripts/apt-install chromium chromium
	cd frontend && VENV_PYTHON=$(PY) npm run test:e2e

# Builds frontend/dist (served by Django at /) only when a source is newer than the build.
frontend-build: frontend/dist/index.html

frontend/dist/index.html: $(FRONTEND_STAMP) $(FRONTEND_SOURCES)
	cd frontend && npm run build
	touch $@

# Benchmarks (bench/): figures printed as name=value and written to bench/results.json.
# The full run measures the API on PostgreSQL too, on a private cluster.
# Debian's wrk drives the benchmarks' concurrent dashboard tabs (bench/dashboard_tabs.lua).
wrk:
	@scripts/apt-install wrk wrk

bench: deps postgres wrk
	scripts/with-postgres $(PY) bench/run.py

bench-quick: deps
	$(PY) bench/run.py --quick

# Scale-out on PostgreSQL (bench/scale_out.py): 1, 2 and 3 ingest members draining one backlog,
# on a private cluster unless DATABASE_URL names a server.
bench-scale-out: deps postgres
	scripts/with-postgres $(PY) bench/scale_out.py

# Fleet scale (bench/fleet_bench.py --fleet, about 30 minutes here, 17 of them seeding PostgreSQL's 100 M
# readings; disk: 20 M took 3.3 GB, so allow five times that): 100,000 devices on
# SQLite and on a private PostgreSQL cluster (or DATABASE_URL's server), then 10,000 simulated
# devices on 4 connections at one reading a second each, with the ingest storing them.
bench-fleet: deps postgres wrk
	scripts/with-postgres $(PY) bench/fleet_bench.py --fleet
	$(PY) bench/simulator_fleet.py --devices 10000 --connections 4 --interval 1

clean:
	rm -rf $(VENV) backend/db.sqlite3* backend/test_db.sqlite3* .data

# The commands people type. `make run` and `make test` work from a fresh clone on
# Debian with Python 3.11+, Node 20+ and apt: they install what is missing first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(abspath $(VENV))/bin/python
MQTT_PORT ?= 1883

.DEFAULT_GOAL := help
.PHONY: help deps venv mosquitto run test test-backend migrate clean

help:
	@echo "make run    start broker, web, ingest (and the rest) on http://localhost:8000/"
	@echo "make test   install what is missing and run every test"

deps: venv mosquitto

venv: $(VENV)/.installed

$(VENV)/.installed: backend/requirements.txt backend/requirements-dev.txt simulator/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r backend/requirements-dev.txt -r simulator/requirements.txt
	touch $@

mosquitto:
	@scripts/apt-install mosquitto mosquitto mosquitto-clients

migrate: venv
	cd backend && $(PY) manage.py migrate --noinput

run: deps migrate
	@echo "Dashboard and API: http://localhost:8000/  (admin: http://localhost:8000/admin/)"
	MQTT_PORT=$(MQTT_PORT) $(VENV)/bin/honcho --procfile Procfile start

test: deps test-backend

test-backend:
	$(PY) -m pytest

clean:
	rm -rf $(VENV) backend/db.sqlite3* backend/test_db.sqlite3* .data

# Two commands do everything on a fresh machine:  make run  |  make test
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app service
STAMP := $(VENV)/.setup-stamp
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?= -n 2

.PHONY: setup run test test-sqlite test-postgres lint bench clean

WEB := service/web
WEB_STAMP := service/static/dist/.build-stamp

setup: $(STAMP) $(WEB_STAMP)

# the browser islands (rjsf task form), bundled from the npm registry with the lockfile
$(WEB_STAMP): $(WEB)/package-lock.json $(WEB)/build.mjs $(wildcard $(WEB)/src/*) $(wildcard $(WEB)/src/*/*)
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build
	@touch $(WEB_STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: setup
	$(FLASK) db upgrade
	$(FLASK) deploy
	$(FLASK) demo
	@echo "Serving http://$(HOST):$(PORT)/  (timers: background worker; Ctrl-C stops both)"
	@$(FLASK) worker --interval 5 & WORKER=$$!; trap "kill $$WORKER 2>/dev/null" EXIT INT TERM; \
	  $(FLASK) run --host $(HOST) --port $(PORT)

test: setup
	@$(MAKE) --no-print-directory test-sqlite
	@if [ -n "$$TEST_DATABASE_URL" ]; then $(MAKE) --no-print-directory test-postgres; \
	  else echo "TEST_DATABASE_URL not set: PostgreSQL run skipped (.ci/run sets it)"; fi

test-sqlite: setup
	@echo "== tests on SQLite =="
	env -u TEST_DATABASE_URL $(PY) -m pytest $(PYTEST_ARGS)

test-postgres: setup
	@echo "== tests on PostgreSQL ($$TEST_DATABASE_URL) =="
	$(PY) -m pytest -m "not sqlite_only" $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check service processes tests bench

bench: setup
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) instance .pytest_cache

# load and fault tests (tests/load): real gunicorn and worker processes on a private PostgreSQL cluster.
# Full form by default (50 users, 30 s, 1,000 timers); .ci/run runs a short form after `make test`.
LOAD_USERS ?= 50
LOAD_SECONDS ?= 60
LOAD_TIMERS ?= 1000
.PHONY: load-test
load-test: setup
	RUN_LOAD_TESTS=1 LOAD_USERS=$(LOAD_USERS) LOAD_SECONDS=$(LOAD_SECONDS) LOAD_TIMERS=$(LOAD_TIMERS) \
	  $(PY) -m pytest -p no:cacheprovider -s -m load tests/load

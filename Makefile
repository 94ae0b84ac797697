# GridGov: `make demo` to try it, `make test` to check it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | md5sum | cut -c1-12)
NODE_STAMP := node_modules/.installed-$(shell md5sum package-lock.json | cut -c1-12)
DEMO_ENV := var/demo.env
DEMO_HOST ?= 127.0.0.1
DEMO_PORT ?= 8000
export DJANGO_SETTINGS_MODULE := config.settings

.PHONY: demo install test lint typecheck contracts migrations-check pytest bench clean bundle

# The development venv (.venv) has the runtime and the test tools; a production venv installs requirements.txt
# alone (docs/deploy.md).
$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*; touch $(STAMP)

$(NODE_STAMP): package-lock.json
	npm ci --silent --no-audit --no-fund
	rm -rf var/vendor && mkdir -p var/vendor/htmx var/vendor/leaflet var/vendor/echarts
	cp node_modules/htmx.org/dist/htmx.min.js var/vendor/htmx/
	cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.js.map node_modules/leaflet/dist/leaflet.css node_modules/leaflet/dist/images var/vendor/leaflet/
	cp node_modules/echarts/dist/echarts.min.js var/vendor/echarts/
	rm -f node_modules/.installed-*; touch $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)

# Secrets for the embedded demo: generated once, kept in var/ (never committed).
$(DEMO_ENV):
	mkdir -p var
	{ echo "SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')"; \
	  echo "GRIDGOV_FIELD_KEY=$$($(PY) -c 'import secrets,base64; print(base64.b64encode(secrets.token_bytes(32)).decode())')"; \
	  echo "GRIDGOV_INDEX_KEY=$$($(PY) -c 'import secrets,base64; print(base64.b64encode(secrets.token_bytes(32)).decode())')"; \
	  echo "GRIDGOV_AUDIT_KEY=a1:$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(32))')"; \
	} > $(DEMO_ENV)
	chmod 600 $(DEMO_ENV)

STATIC_SOURCES := $(shell find gridgov -path '*/static/*' -type f 2>/dev/null)
var/static/staticfiles.json: $(STATIC_SOURCES) $(NODE_STAMP) $(STAMP)
	DEBUG=0 SECRET_KEY=collectstatic-only-key-not-used-for-signing-anything-0123456789 \
	  $(PY) manage.py collectstatic --noinput -v 0

demo: install $(DEMO_ENV) var/static/staticfiles.json
	@# The audit chain key came later than the file: add it to a demo.env made before.
	grep -q '^GRIDGOV_AUDIT_KEY=' $(DEMO_ENV) || \
	  echo "GRIDGOV_AUDIT_KEY=a1:$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(32))')" >> $(DEMO_ENV)
	set -a; source $(DEMO_ENV); set +a; export DEBUG=0 SECURE_COOKIES=0 GRIDGOV_REQUIRE_TOTP=0; \
	$(PY) manage.py migrate --noinput -v 0 && \
	$(PY) manage.py seed_world --preset wucheng --seed 1 --if-empty && \
	$(PY) manage.py demo_accounts && \
	echo "GridGov is serving on http://$(DEMO_HOST):$(DEMO_PORT)  (Ctrl-C to stop; the scheduled jobs run beside it)" && \
	exec $(PY) manage.py serve --host $(DEMO_HOST) --port $(DEMO_PORT) --workers 1 --blocking-threads 8

test: install lint typecheck contracts migrations-check pytest

lint:
	$(VENV)/bin/ruff check .

typecheck:
	GRIDGOV_TESTING=1 $(VENV)/bin/mypy gridgov

contracts:
	GRIDGOV_TESTING=1 $(VENV)/bin/lint-imports

migrations-check:
	GRIDGOV_TESTING=1 $(PY) manage.py makemigrations --check --dry-run

# pytest-xdist: PYTEST_WORKERS processes (2 by default, CI's core count; 0 runs in this process), one file per
# worker at a time (module fixtures stay per file). Each worker has its own test database, media directory,
# Chromium and Redis database (conftest.py, tests/integration/conftest.py).
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=
pytest:
	GRIDGOV_TESTING=1 $(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# An offline bundle (wheels for this platform, front-end assets, the source, install.sh) under dist/, for a server
# with no package registry (docs/deploy.md, Offline install).
bundle: $(NODE_STAMP)
	PY=$(PY) deploy/bundle/build.sh

bench: install
	@command -v wrk >/dev/null || (command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk) \
		|| echo "wrk not installed (apt-get install wrk): the bench falls back to its Python load generator"
	$(PY) -m bench.run
	BENCH_DATABASE_URL=$${BENCH_PG:-postgres://postgres@127.0.0.1:5432}/$${BENCH_DB:-gridgov_bench} $(PY) -m bench.insights

clean:
	rm -rf var $(VENV) node_modules

# Reliability (issue 7). Durability: kill -9 of granian and PostgreSQL for ROUNDS rounds, on a throwaway
# cluster of its own (initdb in a temporary directory, its own port); never the shared server.
ROUNDS ?= 200
.PHONY: durability backup-drill
durability:
	mkdir -p artifacts
	$(PY) -m tests.reliability.durability --rounds $(ROUNDS) --json artifacts/durability.json

# Back up a populated PostgreSQL database and its files, restore into new ones, compare (docs/backup.md).
DRILL_DATABASE_URL ?= $(if $(filter postgres%,$(DATABASE_URL)),$(DATABASE_URL),postgres://postgres@127.0.0.1:5432/gridgov_drill)
backup-drill:
	GRIDGOV_TESTING=1 DATABASE_URL=$(DRILL_DATABASE_URL) $(VENV)/bin/pytest -q -p no:cacheprovider \
	  tests/reliability/test_backup_drill.py

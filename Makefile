# Billbridge: `make run` for the demo back office, `make test` for the suite (SQLite, then PostgreSQL).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/test
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install migrate demo run test test-sqlite test-postgres bench clean

$(VENV)/.installed: pyproject.toml scripts/install_system_packages.sh
	bash scripts/install_system_packages.sh --test
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --no-input -v 0

demo: migrate
	$(PY) manage.py load_catalogue
	$(PY) manage.py seed_demo
	$(PY) manage.py pump --ensure-schedules
	$(PY) manage.py poll_transports --schedules
	$(PY) manage.py raise_alerts --schedule
	$(PY) -c "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup(); from payments.batches import ensure_schedules; ensure_schedules()"

run: demo
	@$(PY) manage.py ensure_demo_admin
	@echo "Admin: http://$(HOST):$(PORT)/admin/"
	@trap 'kill 0' EXIT INT TERM; \
	  $(PY) -m partners.simulators --all --port 8701 & \
	  $(PY) manage.py qcluster & \
	  Q_CLUSTER_NAME=imports $(PY) manage.py qcluster & \
	  $(PY) manage.py runserver $(HOST):$(PORT) --noreload

test: test-sqlite test-postgres

test-sqlite: install
	DATA_DIR=$$(mktemp -d) $(PY) -m pytest

test-postgres: install
	DATA_DIR=$$(mktemp -d) DATABASE_URL=$(PG_TEST_URL) $(PY) -m pytest

# Speed and memory figures (each script prints its own; see the docs of each area). Several minutes.
bench: install
	bash scripts/install_system_packages.sh --bench
	$(PY) bench/import_invoices.py --invoices 100000
	$(PY) -m bench.rtdr
	$(PY) bench/api.py --seconds 30
	$(PY) bench/bills.py
	$(PY) bench/export.py
	$(PY) bench/dashboard.py

clean:
	rm -rf $(VENV) var

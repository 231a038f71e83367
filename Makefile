# openiom: `make demo` serves a synthetic area; `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP_PY := $(VENV)/.installed
STAMP_NPM := node_modules/.installed
DEMO_PEOPLE ?= 20000
DEMO_SEED ?= 2026
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: r-matchit help install assets chromium migrate demo demo-data serve test lint format typecheck unit browser bench clean

help:
	@echo "make demo   install, build assets, migrate SQLite, generate a $(DEMO_PEOPLE)-person area, serve on http://$(HOST):$(PORT)"
	@echo "make test   install and run lint, types, unit, integration and browser tests"
	@echo "make lint | typecheck | unit | browser | bench | format | clean"

$(STAMP_PY): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP_PY)

$(STAMP_NPM): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

assets: $(STAMP_NPM)
	$(PY) scripts/copy_assets.py

# Debian's Chromium drives the browser journeys (never a downloaded browser build).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = "0" ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
		else \
			echo "Install Debian's chromium: sudo apt-get install -y chromium"; exit 1; \
		fi; \
	fi

migrate: install
	$(PY) manage.py migrate --no-input -v0

demo-data: migrate
	$(PY) manage.py simulate --people $(DEMO_PEOPLE) --seed $(DEMO_SEED) --if-empty
	$(PY) manage.py seed_demo_users
	$(PY) manage.py seed_demo_evaluation
	$(PY) manage.py schedule_weekly_scoring
	$(PY) manage.py raise_alerts
	$(PY) manage.py schedule_daily_casework

demo: install assets demo-data
	OPENIOM_DEMO=1 $(PY) manage.py serve_demo --addrport $(HOST):$(PORT)

lint: install
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/ruff format --check src tests bench scripts

format: install
	$(VENV)/bin/ruff check --fix src tests bench scripts
	$(VENV)/bin/ruff format src tests bench scripts

typecheck: install
	$(VENV)/bin/mypy

unit: install assets
	$(VENV)/bin/pytest -m "not browser" -n 2 -p no:cacheprovider

browser: install assets chromium
	$(VENV)/bin/pytest -m browser -p no:cacheprovider

test: install assets chromium lint typecheck
	$(PY) manage.py makemigrations --check --dry-run -v0 || { echo "Model changes without migrations"; exit 1; }
	$(VENV)/bin/pytest -n 2 -p no:cacheprovider

# Debian's R with MatchIt: the evaluation benchmark's side-by-side baseline (not needed by tests).
r-matchit:
	@if ! command -v Rscript >/dev/null || ! Rscript -e 'library(MatchIt)' >/dev/null 2>&1; then \
		if [ "$$(id -u)" = "0" ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq r-cran-matchit >/dev/null; \
		else \
			echo "For the MatchIt baseline: sudo apt-get install -y r-cran-matchit"; \
		fi; \
	fi

bench: install r-matchit
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) node_modules src/openiom/static/vendor var/*.sqlite3

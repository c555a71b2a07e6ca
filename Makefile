# Violence Reduction Data Platform: the commands a new user needs.
# `make run` and `make test` work on a fresh machine with Python 3.11 and make.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export VRDP_DATA_ROOT ?= $(CURDIR)/data
export DAGSTER_HOME ?= $(VRDP_DATA_ROOT)/dagster_home
export DAGSTER_DISABLE_TELEMETRY := 1
# The Dagster home's dagster.yaml names a class of this repository
# (orchestration.storage): every Dagster process started here imports it.
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))
export DO_NOT_TRACK := 1

MANIFEST := dbt_project/target/manifest.json
DBT_FILES := dbt_project/dbt_project.yml dbt_project/profiles.yml \
	$(shell find dbt_project/models dbt_project/seeds dbt_project/macros -type f 2>/dev/null)

.PHONY: help install prepare run test ui serve lint docs docs-serve clean dashboard

help:  ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version' \
		|| { echo "set PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check --quiet --requirement requirements.lock
	touch $@

install: $(STAMP)  ## create .venv with the pinned dependencies

$(MANIFEST): $(STAMP) $(DBT_FILES)
	$(BIN)/python -m orchestration.prepare

prepare: $(MANIFEST)  ## parse the dbt project (Dagster reads its manifest)

run: prepare  ## land the demo data, materialize every asset, write the exports
	$(BIN)/python -m orchestration.main

test: prepare  ## the whole test suite (two workers; a test module stays on one)
	$(BIN)/python -m pytest -n 2 --dist loadfile

ui: prepare  ## the Dagster UI on http://127.0.0.1:3000 (persistent home under data/)
	$(BIN)/python -m orchestration.startup  # home, stale runs marked failed, automation on/off
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p $${UI_PORT:-3000}

serve: $(STAMP)  ## read API on http://127.0.0.1:$${PORT:-8000} (tokens from VRDP_API_TOKENS; VRDP_API_DEMO_TOKENS=1 for the demo set)
	VRDP_API_PORT=$${VRDP_API_PORT:-$${PORT:-8000}} $(BIN)/python -m serving.api

dashboard: $(STAMP)  ## ward dashboard on http://127.0.0.1:$${DASH_PORT:-8050} (after make run; ?ward=<code>&token=<token>)
	$(BIN)/python -m dashboard --port $${DASH_PORT:-8050}

lint: $(STAMP)  ## ruff, sqlfluff and the import layering (import-linter)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project/models
	$(BIN)/lint-imports --no-cache

docs: prepare  ## dbt docs (models, columns, tests, lineage) in dbt_project/target/index.html; after make run
	mkdir -p $(VRDP_DATA_ROOT)/warehouse
	cd dbt_project && ../$(BIN)/dbt docs generate --profiles-dir . --quiet

docs-serve: docs  ## browse the dbt docs on http://127.0.0.1:$${DOCS_PORT:-8081} (after make run)
	cd dbt_project && ../$(BIN)/dbt docs serve --profiles-dir . --host 127.0.0.1 --port $${DOCS_PORT:-8081} --no-browser

clean:  ## remove generated data (not the venv)
	rm -rf $(VRDP_DATA_ROOT) dbt_project/target dbt_project/logs

# ratecard — every command a developer or CI needs. `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash

# uv is bootstrapped from PyPI into .tools/ so a fresh machine needs only python3 and make.
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
RUN := $(UV) run --no-sync
export UV_PYTHON_DOWNLOADS := never

DB ?= data/warehouse/ratecard.duckdb
# the dashboard's port on 127.0.0.1 (make demo PORT=8502)
PORT ?= 8501
# the FOCUS validator needs Python >= 3.12 (pyenv's, where the system's is older)
PYTHON312 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12) $(shell command -v python3.12))
FOCUS_VALIDATOR := $(TOOLS)/focus-validator/bin/focus-validator
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: help demo dashboard notebook test quick browser java focus-validator check lint format typecheck imports pytest schema bench bench-lake clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

# --inexact: installs only what the demo needs, and removes nothing (the dev tools stay)
demo: $(UV) ## Install, build the sample warehouse and open the dashboard (DB=path, PORT=8501)
	$(UV) sync --locked --inexact --no-dev
	$(RUN) ratecard demo --db $(DB) --port $(PORT)

dashboard: $(UV) ## Open the dashboard over an existing warehouse (DB=path, PORT=8501)
	$(RUN) ratecard dashboard --db $(DB) --port $(PORT)

# the month-end notebook's Jupyter: the locked `notebook` group, added to what is installed
NOTEBOOK_PORT ?= 8888
notebook: $(UV) ## Open notebooks/month_end_review.ipynb in Jupyter on 127.0.0.1 (DB=path, NOTEBOOK_PORT=8888)
	$(UV) sync --locked --inexact --no-dev --group notebook
	RATECARD_DB=$(abspath $(DB)) $(RUN) jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.port=$(NOTEBOOK_PORT) --ServerApp.root_dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/month_end_review.ipynb

test: $(UV) browser java $(FOCUS_VALIDATOR) ## Install the dev tools and run every check and test (what CI runs)
	$(UV) sync --locked
	$(MAKE) --no-print-directory check pytest

# the tests that need a browser, the FOCUS validator, Jupyter, the benchmark, a wheel build or
# Spark, and the documented commands (a process each); the rest run on every core
SLOW_MARKERS := browser or focus_validator or notebook or benchmark or wheel or spark or docs_commands
quick: $(UV) ## The suite without the browser, FOCUS validator, notebook, benchmark, wheel, Spark and docs-command tests, on every core
	$(UV) sync --locked
	RATECARD_QUICK=1 $(RUN) pytest -q -n auto -m "not ($(SLOW_MARKERS))"

browser: ## Debian's chromium for the browser test, installed if missing (apt-get)
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; }

# the lake's tests run Spark in local mode (tests/test_lake*.py); pyspark itself comes locked
# with the dev group (the `spark` extra), and its JVM is Debian's
java: ## Java 17+ for Spark (the lake's tests), Debian's openjdk-17-jre-headless if missing (apt-get)
	@v=$$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1); \
	[ -n "$$v" ] && [ "$$v" -ge 17 ] || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq openjdk-17-jre-headless; }

focus-validator: $(FOCUS_VALIDATOR) ## The FinOps FOCUS validator in its own Python 3.12 venv

$(FOCUS_VALIDATOR): tools/focus-validator.txt
	@test -n "$(PYTHON312)" || { echo "the FOCUS validator needs Python 3.12: set PYTHON312=/path/to/python3.12"; exit 1; }
	rm -rf $(TOOLS)/focus-validator
	$(PYTHON312) -m venv $(TOOLS)/focus-validator
	$(TOOLS)/focus-validator/bin/python -m pip install --quiet -r tools/focus-validator.txt
	touch $@

check: lint typecheck imports ## Lint, type-check and check the import layering

lint: ## ruff format check and lint
	$(RUN) ruff format --check .
	$(RUN) ruff check .

format: ## Apply ruff's formatting and safe fixes
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

typecheck: ## mypy --strict over the packages
	$(RUN) mypy

imports: ## The layering of ARCHITECTURE.md, as import-linter contracts
	$(RUN) lint-imports

pytest: ## The test suite
	$(RUN) pytest

schema: ## Regenerate the JSON Schemas of price sheets and budgets, and warehouse/schema.sql
	$(RUN) python -m ratecard.schemas
	$(RUN) python -m warehouse.schema

bench: $(UV) browser ## Benchmarks at ten million calls (long; not in CI); writes benchmarks/RESULTS.md
	$(UV) sync --locked
	$(RUN) python -m benchmarks.run --calls 10000000 --runs 3 --sizes 1000000,2000000,4000000,10000000 --browser

bench-lake: $(UV) java ## The lake on Spark local[1], local[2], local[4] against the embedded path (CALLS=1000000; long; not in CI)
	$(UV) sync --locked --inexact --extra spark
	$(RUN) python -m benchmarks.lake --calls $(or $(CALLS),1000000) --masters 'local[1],local[2],local[4]'

clean: ## Remove the virtualenvs and generated warehouses
	rm -rf .venv $(TOOLS) data/warehouse

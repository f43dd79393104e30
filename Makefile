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

.PHONY: help demo test check lint format typecheck imports pytest schema clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

demo: $(UV) ## Install and run the main job over bundled sample data (DB=path to choose the warehouse)
	$(UV) sync --locked --no-dev
	$(RUN) ratecard demo --db $(DB)

test: $(UV) ## Install the dev tools and run every check and test (what CI runs)
	$(UV) sync --locked
	$(MAKE) --no-print-directory check pytest

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

schema: ## Regenerate data/price_sheets/schema.json from the pydantic models
	$(RUN) python -m pricing.schema > data/price_sheets/schema.json

clean: ## Remove the virtualenvs and generated warehouses
	rm -rf .venv $(TOOLS) data/warehouse

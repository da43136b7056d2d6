# onboarding-paths: the two commands are `make demo` and `make test`.
# The first run of either creates .venv/ and installs the locked dependencies.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DBT_VERSION_CHECK := false
export GX_ANALYTICS_ENABLED := false

.PHONY: demo test lint unit install lock bench bench-sync clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml requirements.lock requirements-bootstrap.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-bootstrap.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --require-hashes -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install the locked dependencies

demo: $(STAMP)  ## generate demo data, load it, validate, build, summarise
	$(BIN)/onboard demo

lint: $(STAMP)  ## ruff, mypy and sqlfluff
	$(BIN)/ruff check onboard sync tests
	$(BIN)/ruff format --check onboard sync tests
	$(BIN)/mypy onboard sync
	$(BIN)/sqlfluff lint models macros tests --processes 2

test: lint  ## every test: lint, then pytest (dbt builds on generated data included)
	$(BIN)/pytest

bench: $(STAMP)  ## generate, load and build at 100k and 1M customers; writes docs/benchmarks.md
	$(BIN)/onboard bench

bench-sync: $(STAMP)  ## HubSpot sync throughput at the rate limit, 1M-row sync plans; writes docs/benchmarks.md
	$(BIN)/python -m sync.bench

lock: $(STAMP)  ## re-resolve requirements.lock from pyproject.toml
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
	  -q -o requirements.lock --custom-compile-command "make lock"

clean:  ## remove the warehouse, dbt's target/ and generated data (keeps .venv)
	rm -rf warehouse/*.duckdb target logs data/demo

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

SPARK_VENV := .venv-spark
SPARK_BIN := $(SPARK_VENV)/bin
SPARK_STAMP := $(SPARK_VENV)/.installed

.PHONY: demo test lint unit install lock bench bench-10m bench-features bench-sync bench-moments clean help spark-install spark-test bench-spark

help:  ## list the targets
	@grep -E '^[a-z0-9-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml requirements.lock requirements-bootstrap.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-bootstrap.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --require-hashes -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install the locked dependencies

demo: $(STAMP)  ## generate demo data, load it, validate, build, summarise
	$(BIN)/onboard demo

lint: $(STAMP)  ## ruff, mypy, sqlfluff, and the import rule (core <- features <- CLI; ARCHITECTURE.md)
	$(BIN)/pytest -q -p no:cacheprovider tests/test_layers.py
	$(BIN)/ruff check onboard sync benchmarks tests
	$(BIN)/ruff format --check onboard sync benchmarks tests
	$(BIN)/mypy onboard sync benchmarks
	$(BIN)/sqlfluff lint models macros tests --processes 2

test: lint  ## every test: lint, then pytest (dbt builds on generated data included); three workers: the sync tests wait on rate limits while dbt works
	$(BIN)/pytest -n 3 --dist loadfile --durations=15

bench: $(STAMP)  ## generate, load, validate, build, sync plan at 100k and 1M customers; writes docs/benchmarks.md
	$(BIN)/python -m benchmarks pipeline

# 10M customers: see docs/benchmarks.md for the time and free disk it needs. DuckDB gets a larger
# memory cap and dbt one thread, so two large queries do not share the cap.
bench-10m: $(STAMP)  ## the same at 10M customers on DuckDB; writes docs/benchmarks.md
	ONBOARD_DUCKDB_MEMORY_LIMIT=$${ONBOARD_DUCKDB_MEMORY_LIMIT:-12GB} ONBOARD_DBT_THREADS=$${ONBOARD_DBT_THREADS:-1} \
	  $(BIN)/python -m benchmarks pipeline --customers 10000000 --section bench-10m

bench-features: $(STAMP)  ## funnel marts' share of a 1M build; experiments build and readout at 1M; writes docs/benchmarks.md
	$(BIN)/python -m benchmarks features

bench-sync: $(STAMP)  ## HubSpot sync throughput at the rate limit, 1M-row sync plans; writes docs/benchmarks.md
	$(BIN)/python -m benchmarks sync

bench-moments: $(STAMP)  ## journey events/s to Customer.io at its rate limit, a day's moments planned at 1M; writes docs/benchmarks.md
	$(BIN)/python -m benchmarks moments

lock: $(STAMP)  ## re-resolve requirements.lock and requirements-spark.lock from pyproject.toml
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
	  -q -o requirements.lock --custom-compile-command "make lock"
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra spark --generate-hashes --python-version 3.11 \
	  -q -c requirements.lock -o requirements-spark.lock --custom-compile-command "make lock"

# Spark lives in its own venv: pyspark is large, needs Java, and only the Spark target uses it.
$(SPARK_STAMP): pyproject.toml requirements-spark.lock requirements-bootstrap.txt
	$(PYTHON) -m venv $(SPARK_VENV)
	$(SPARK_BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-bootstrap.txt
	$(SPARK_BIN)/uv pip install --quiet --python $(SPARK_BIN)/python --require-hashes -r requirements-spark.lock
	$(SPARK_BIN)/uv pip install --quiet --python $(SPARK_BIN)/python --no-deps -e .
	touch $(SPARK_STAMP)

spark-install: $(SPARK_STAMP)  ## create .venv-spark (dbt-spark + pyspark 3.5; needs Java 17)

spark-test: $(SPARK_STAMP)  ## the Spark target: load, validate, dbt build, marts equal DuckDB's cell by cell
	$(SPARK_BIN)/pytest -m spark -p no:cacheprovider

bench-spark: $(SPARK_STAMP)  ## the same on a local Spark at 1M customers; writes docs/benchmarks.md
	$(SPARK_BIN)/python -m benchmarks pipeline --target spark --customers 1000000 --section bench-spark

clean:  ## remove the warehouse, dbt's target/ and generated data (keeps .venv)
	rm -rf warehouse/*.duckdb target logs data/demo

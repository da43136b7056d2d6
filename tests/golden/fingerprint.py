"""Fingerprints of everything a fixed demo run produces, to prove a refactor changes no output.

The pipeline runs through the `onboard` CLI only (generate, load, validate, build, a dry-run
sync), because the CLI is the surface that stays put while the Python modules move. Every
relation dbt built (and the raw tables, less their load time) is reduced to a row count, its
column types and digests of its canonical text; every dry-run payload file and the validation
outcome likewise. tests/golden/outputs.json holds the fingerprints of the code before the
refactor; tests/test_outputs_unchanged.py compares the current code against it.

Run from a checkout (see tests/golden/README.md):

    .venv/bin/python -m tests.golden.fingerprint            # compare, exit 1 on a difference
    .venv/bin/python -m tests.golden.fingerprint --write    # an INTENDED change: regenerate
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

GOLDEN_DIR = Path(__file__).resolve().parent
GOLDEN_FILE = GOLDEN_DIR / "outputs.json"
REPO_DIR = GOLDEN_DIR.parent.parent

CUSTOMERS = 1500
SEED = 7
AS_OF = "2026-03-16T12:00:00Z"

# Not dbt's: the run logs of validation and sync hold run ids and wall-clock times.
SKIPPED_SCHEMAS = frozenset({"sync", "validation", "information_schema", "pg_catalog"})
# The loader's record of the files it loaded (onboard/load/ledger.py): their paths are this
# run's throwaway folder, so, like the run logs, it is a record of the run, not an output.
SKIPPED_RELATIONS = frozenset({("raw", "_loaded_files")})
# The schema the marts land in (profiles.yml `schema: main`): a new relation there is an output.
MARTS_SCHEMA = "main"
# Columns holding the wall-clock time of `onboard load` (raw `_loaded_at` and what staging
# carries of it, its day `first_loaded_on` included, so a golden made on another day still
# matches): only whether they are NULL is a result of the data.
LOAD_TIME_COLUMN = re.compile(r"(^|_)loaded_(at|on)$")
LOAD_TIME = "<load time>"
NULL = "\\N"
ABSENT = "<absent>"
SIGNIFICANT_DIGITS = 9
PLAN_FILE = re.compile(r"^\d{8}T\d{6}Z-(?P<destination>.+)-[0-9a-f]+-(?P<kind>plan|moments)\.jsonl$")
#: a dry run's files: its records' payloads, and what it would do with each moment
FILE_KINDS = {"plan": "payload", "moments": "moments"}
STEP_TIMEOUT_SECONDS = 600

Fingerprints = dict[str, dict[str, Any]]


class PipelineError(RuntimeError):
    """A CLI step of the fixed run failed: its output says why."""


@dataclass(frozen=True)
class RunOutputs:
    """Where one fixed run left its outputs."""

    warehouse: Path
    sync_dir: Path
    validation_dir: Path


# ---------------------------------------------------------------- canonical text


def render_number(value: float | Decimal) -> str:
    """Numbers to 9 significant digits: a different summation order must not count as a change."""
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        return str(number)
    text = format(number, f".{SIGNIFICANT_DIGITS}g")
    return "0" if text == "-0" else text


def render(value: Any) -> str:
    """One value as canonical text: NULL as a marker, timestamps ISO in UTC, strings quoted."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        return render_number(value)
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return f"{value.total_seconds():g}s"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return "[" + ",".join(render(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{render(str(k))}:{render(v)}" for k, v in sorted(value.items())) + "}"
    return json.dumps(str(value))


def digest(lines: Iterable[str]) -> str:
    """sha256 of the lines, newline-terminated."""
    hasher = hashlib.sha256()
    for line in lines:
        hasher.update(line.encode())
        hasher.update(b"\n")
    return hasher.hexdigest()


def short_digest(lines: Iterable[str]) -> str:
    """A per-column digest: 16 hex digits are plenty to say which column moved."""
    return digest(lines)[:16]


# ---------------------------------------------------------------- the warehouse


def relation_fingerprint(connection: duckdb.DuckDBPyConnection, schema: str, name: str) -> dict[str, Any]:
    """Row count, column types, a digest of the sorted rows and one per column (sorted values).

    Columns are taken by name (sorted), so a reordering of a model's select list is not a
    difference, while a renamed, added, dropped or retyped column is. Load times count only as
    present or NULL.
    """
    described = connection.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, name],
    ).fetchall()
    columns = sorted(described)
    select_list = ", ".join(f'"{column}"' for column, _ in columns)
    rows = connection.execute(f'select {select_list} from "{schema}"."{name}"').fetchall()
    load_times = [bool(LOAD_TIME_COLUMN.search(column)) for column, _ in columns]
    rendered = [
        [
            LOAD_TIME if is_load_time and value is not None else render(value)
            for value, is_load_time in zip(row, load_times, strict=True)
        ]
        for row in rows
    ]
    header = "\t".join(f"{column}:{kind}" for column, kind in columns)
    return {
        "rows": len(rendered),
        "sha256": digest([header, *sorted("\t".join(row) for row in rendered)]),
        "columns": {
            column: {"type": kind, "sha256": short_digest(sorted(row[i] for row in rendered))}
            for i, (column, kind) in enumerate(columns)
        },
    }


def warehouse_fingerprints(path: Path) -> Fingerprints:
    """Every relation in the DuckDB file but the run logs, keyed `relation:schema.name`."""
    with duckdb.connect(str(path), read_only=True) as connection:
        connection.execute("set TimeZone = 'UTC'")
        relations = connection.execute(
            "select table_schema, table_name from information_schema.tables order by 1, 2"
        ).fetchall()
        return {
            f"relation:{schema}.{name}": relation_fingerprint(connection, schema, name)
            for schema, name in relations
            if schema not in SKIPPED_SCHEMAS and (schema, name) not in SKIPPED_RELATIONS
        }


# ---------------------------------------------------------------- the sync payloads


def canonical_json(value: Any) -> Any:
    """JSON with floats at 9 significant digits; ints stay ints (1 and 1.0 differ on the wire)."""
    if isinstance(value, float):
        return float(render_number(value))
    if isinstance(value, list):
        return [canonical_json(item) for item in value]
    if isinstance(value, dict):
        return {key: canonical_json(item) for key, item in value.items()}
    return value


def flatten(record: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """`payload.email`-style paths to every leaf of a record."""
    for key, value in record.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from flatten(value, path + ".")
        else:
            yield path, value


def payload_fingerprint(path: Path) -> dict[str, Any]:
    """Record count, a digest of the sorted canonical records and one per field.

    The records hold no run id or time (those are in the file name only), so nothing is stripped.
    """
    records = [canonical_json(json.loads(line)) for line in path.read_text().splitlines() if line.strip()]
    lines = sorted(json.dumps(record, sort_keys=True, ensure_ascii=False) for record in records)
    leaves = [dict(flatten(record)) for record in records]
    fields = sorted({field for leaf in leaves for field in leaf})
    return {
        "rows": len(records),
        "sha256": digest(lines),
        "fields": {
            field: short_digest(
                sorted(
                    json.dumps(leaf[field], sort_keys=True) if field in leaf else ABSENT for leaf in leaves
                )
            )
            for field in fields
        },
    }


def file_key(path: Path) -> str:
    """A dry-run file's key, from its name `<time>-<destination>-<hex>-<plan|moments>.jsonl`:
    `payload:<destination>` for the records, `moments:<destination>` for the moments."""
    match = PLAN_FILE.match(path.name)
    if not match:
        return f"payload:{path.stem}"
    return f"{FILE_KINDS[match.group('kind')]}:{match.group('destination')}"


def payload_fingerprints(folder: Path) -> Fingerprints:
    """Every dry-run file (payloads and moments), keyed as file_key says."""
    return {file_key(path): payload_fingerprint(path) for path in sorted(folder.glob("*.jsonl"))}


# ---------------------------------------------------------------- the validation outcome


def validation_fingerprint(folder: Path) -> Fingerprints:
    """The verdict of the one validation run: overall status and each check's count and outcome.

    Only the facts are kept (no run id, window, timings or example ids), written out in full so
    a difference reads as `check: expected ..., got ...`.
    """
    (results_file,) = sorted(folder.glob("*.json"))
    results = json.loads(results_file.read_text())
    checks: dict[str, str] = {}
    for suite in results["suites"]:
        checks[f"suite {suite['name']}"] = f"{suite['status']}, {suite['rows']} rows"
        for expectation in suite["expectations"]:
            name = f"{suite['name']} / {expectation['check']} {expectation['kind']}"
            checks[name] = (
                f"{expectation['outcome']} ({expectation['severity']}): "
                f"{expectation['failing']} of {expectation['rows']} rows failing"
            )
    return {"validation:outcome": {"status": results["status"], "checks": dict(sorted(checks.items()))}}


# ---------------------------------------------------------------- the fixed run


def sync_config(checkout: Path, folder: Path) -> Path:
    """The checkout's sync mappings, taking marts built as of any past day (the run is a replay)."""
    text = (checkout / "sync" / "mappings.yml").read_text()
    relaxed, count = re.subn(r"(?m)^max_as_of_age_hours:\s*[0-9.]+", "max_as_of_age_hours: 1000000", text)
    if count != 1:
        raise PipelineError(
            f"{checkout / 'sync' / 'mappings.yml'}: no top-level max_as_of_age_hours to relax"
        )
    path = folder / "sync.yml"
    path.write_text(relaxed)
    return path


def run_environment(checkout: Path, work: Path) -> dict[str, str]:
    """The environment of every step: all output under `work`, none of the caller's overrides."""
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ONBOARD_", "DBT_", "HUBSPOT_", "CUSTOMERIO_", "SLACK_"))
    }
    return {
        **inherited,
        "ONBOARD_TARGET": "duckdb",
        "ONBOARD_DUCKDB_PATH": str(work / "warehouse.duckdb"),
        "ONBOARD_VALIDATION_RESULTS_DIR": str(work / "validation"),
        "ONBOARD_SYNC_RESULTS_DIR": str(work / "sync"),
        "ONBOARD_SYNC_CONFIG": str(sync_config(checkout, work)),
        # dbt's own files out of the checkout: other runs may be building there at the same time
        "DBT_TARGET_PATH": str(work / "dbt-target"),
        "DBT_LOG_PATH": str(work / "dbt-logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
        # a dry run reaches no destination; dummies in case a step asks for them anyway
        "HUBSPOT_ACCESS_TOKEN": "dry-run",
        "CUSTOMERIO_SITE_ID": "dry-run",
        "CUSTOMERIO_API_KEY": "dry-run",
    }


def run_pipeline(onboard: Path, checkout: Path, work: Path) -> RunOutputs:
    """generate, load, validate, build --full-refresh, sync all --dry-run, as of AS_OF."""
    work.mkdir(parents=True, exist_ok=True)
    environment = run_environment(checkout, work)
    raw = work / "raw"
    steps = [
        ["generate", str(raw), "--customers", str(CUSTOMERS), "--seed", str(SEED), "--as-of", AS_OF],
        ["load", str(raw)],
        ["validate"],
        # the rules' unit tests change no output (they run in test_pipeline)
        ["build", "--as-of", AS_OF, "--full-refresh", "--exclude", "test_type:unit"],
        ["sync", "all", "--dry-run"],
    ]
    for step in steps:
        completed = subprocess.run(
            [str(onboard), *step],
            cwd=checkout,
            env=environment,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT_SECONDS,
            check=False,
        )
        if completed.returncode != 0:
            raise PipelineError(
                f"onboard {' '.join(step)} exited {completed.returncode}:\n"
                f"{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
            )
    return RunOutputs(work / "warehouse.duckdb", work / "sync", work / "validation")


def fingerprint(outputs: RunOutputs) -> Fingerprints:
    """All fingerprints of one run, sorted by key."""
    found = {
        **warehouse_fingerprints(outputs.warehouse),
        **payload_fingerprints(outputs.sync_dir),
        **validation_fingerprint(outputs.validation_dir),
    }
    return dict(sorted(found.items()))


def run_parameters() -> dict[str, Any]:
    """What the fixed run is; the golden file is only valid for these."""
    return {"customers": CUSTOMERS, "seed": SEED, "as_of": AS_OF}


# ---------------------------------------------------------------- comparing


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return f"{{{len(value)} entries}}" if len(value) > 3 else json.dumps(value, sort_keys=True)
    return json.dumps(value)


def differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Every leaf that differs, as `path: expected X, got Y` (missing and new keys included)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        found: list[str] = []
        for key in sorted(expected.keys() | actual.keys()):
            where = f"{path}.{key}" if path else key
            if key not in actual:
                found.append(f"{where}: missing (expected {_describe(expected[key])})")
            elif key not in expected:
                found.append(f"{where}: new (got {_describe(actual[key])})")
            else:
                found.extend(differences(expected[key], actual[key], where))
        return found
    if expected != actual:
        return [f"{path}: expected {_describe(expected)}, got {_describe(actual)}"]
    return []


def is_internal_addition(key: str) -> bool:
    """A new relation outside the marts schema (a helper model a refactor adds) changes no output."""
    return key.startswith("relation:") and not key.startswith(f"relation:{MARTS_SCHEMA}.")


def compare(expected: Fingerprints, actual: Fingerprints) -> tuple[list[str], list[str]]:
    """(differences, notes): the changed outputs, and the internal relations that are new."""
    notes = [
        f"{key}: new internal relation ({actual[key]['rows']} rows), not compared"
        for key in actual.keys() - expected.keys()
        if is_internal_addition(key)
    ]
    kept = {key: value for key, value in actual.items() if key in expected or not is_internal_addition(key)}
    return differences(expected, kept), sorted(notes)


# ---------------------------------------------------------------- the golden file


def read_golden(path: Path = GOLDEN_FILE) -> dict[str, Any]:
    return json.loads(path.read_text())


def git_description(checkout: Path) -> str:
    """The checkout's commit, `-dirty` if its working tree has changes."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=checkout, capture_output=True, text=True, check=False
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("-dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def write_golden(found: Fingerprints, checkout: Path, path: Path = GOLDEN_FILE) -> None:
    document = {
        "produced_from": git_description(checkout),
        "run": run_parameters(),
        "outputs": found,
    }
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.golden.fingerprint",
        description="Run the fixed demo through a checkout's CLI and compare (or --write) its fingerprints.",
    )
    parser.add_argument("--checkout", type=Path, default=REPO_DIR, help="repo whose .venv/bin/onboard runs")
    parser.add_argument("--work", type=Path, help="folder for the run's files (default: a temporary one)")
    parser.add_argument("--write", action="store_true", help=f"replace {GOLDEN_FILE} (an intended change)")
    parser.add_argument(
        "--golden", type=Path, default=GOLDEN_FILE, help="the golden file to compare or write"
    )
    options = parser.parse_args(argv)
    checkout = options.checkout.resolve()
    onboard = checkout / ".venv" / "bin" / "onboard"

    with tempfile.TemporaryDirectory(prefix="golden-") as scratch:
        work = options.work or Path(scratch)
        found = fingerprint(run_pipeline(onboard, checkout, work))
    if options.write:
        write_golden(found, checkout, options.golden)
        print(f"wrote {len(found)} fingerprints of {git_description(checkout)} to {options.golden}")
        return 0
    golden = read_golden(options.golden)
    changed, notes = compare(golden["outputs"], found)
    for line in notes:
        print(f"note: {line}")
    for line in changed:
        print(line)
    print(f"{len(changed)} difference(s) from {options.golden} ({golden['produced_from']})")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())

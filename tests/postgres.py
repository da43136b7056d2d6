"""PostgreSQL for the tests: the server of the PG* environment, throwaway schemas, dbt builds
on DuckDB and PostgreSQL, and a cell-by-cell comparison of what they built.

Nothing here touches the developer's data: a sandbox is a random schema prefix
(`test_<hex>`): dbt builds into `test_<hex>` and `test_<hex>_<custom schema>` (PGSCHEMA,
read by profiles.yml), raw tables go to `test_<hex>_raw`, and every schema with the
prefix is dropped at the end, after ending any query of the sandbox still running.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import subprocess
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import psycopg2
import pytest

from onboard.core.dbt import dbt_environment, dbt_executable
from onboard.core.targets import Target

PROJECT_DIR = Path(__file__).resolve().parent.parent

#: The server `bash .ci/start-postgres` starts; each PG* variable overrides its default.
DEFAULT_SERVER = {
    "PGHOST": "127.0.0.1",
    "PGPORT": "5432",
    "PGUSER": "onboard",
    "PGPASSWORD": "onboard",
    "PGDATABASE": "onboarding",
}

#: Per statement, so a pathological query plan fails the build instead of hanging the tests.
STATEMENT_TIMEOUT = "90s"


def server_environment() -> dict[str, str]:
    """PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE: from the environment, else defaults."""
    return {name: os.environ.get(name) or default for name, default in DEFAULT_SERVER.items()}


def connect(server: Mapping[str, str], dbname: str | None = None) -> Any:
    """An autocommit psycopg2 connection (UTC session) to the server's database (or dbname)."""
    connection = psycopg2.connect(
        host=server["PGHOST"],
        port=int(server["PGPORT"]),
        user=server["PGUSER"],
        password=server["PGPASSWORD"] or None,
        dbname=dbname or server["PGDATABASE"],
        connect_timeout=5,
        options="-c timezone=UTC",
    )
    connection.autocommit = True
    return connection


def unreachable_reason(server: Mapping[str, str]) -> str | None:
    """Why the server cannot be used, in one line; None when a connection works."""
    try:
        with closing(connect(server)):
            return None
    except psycopg2.Error as error:
        lines = str(error).strip().splitlines()
        return lines[0] if lines else type(error).__name__


def require_server() -> dict[str, str]:
    """The server environment; skips the test when no server answers (fails when CI is set)."""
    server = server_environment()
    reason = unreachable_reason(server)
    if reason is None:
        return server
    where = f"{server['PGUSER']}@{server['PGHOST']}:{server['PGPORT']}/{server['PGDATABASE']}"
    message = (
        f"PostgreSQL tests need a server: cannot connect to {where} ({reason}). "
        "Start one with `bash .ci/start-postgres` or set PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE."
    )
    if os.environ.get("CI"):
        pytest.fail(message + " CI is set, so this fails instead of skipping.", pytrace=False)
    pytest.skip(message)


@dataclass(frozen=True)
class Sandbox:
    """A throwaway place in the server: dbt target schema `schema`, raw tables in `raw_schema`."""

    server: dict[str, str]
    schema: str

    @property
    def raw_schema(self) -> str:
        return f"{self.schema}_raw"

    @property
    def environment(self) -> dict[str, str]:
        """Environment for dbt and the CLI: the server, PGSCHEMA, a statement timeout."""
        return {
            **self.server,
            "PGSCHEMA": self.schema,
            "PGOPTIONS": f"-c statement_timeout={STATEMENT_TIMEOUT}",
        }

    def target(self) -> Target:
        """The `postgres` output of profiles.yml, as rendered with this sandbox's environment."""
        s = self.server
        settings = {
            "type": "postgres",
            "host": s["PGHOST"],
            "port": int(s["PGPORT"]),
            "user": s["PGUSER"],
            "password": s["PGPASSWORD"],
            "dbname": s["PGDATABASE"],
            "schema": self.schema,
        }
        return Target("postgres", "postgres", settings)

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> tuple[list[str], list[tuple]]:
        """Column names and rows of sql."""
        with closing(connect(self.server)) as connection, connection.cursor() as cursor:
            cursor.execute(sql, parameters)
            return [d[0] for d in cursor.description], cursor.fetchall()


@contextmanager
def sandbox(server: dict[str, str]) -> Iterator[Sandbox]:
    """A sandbox with a fresh random prefix; its schemas are dropped on exit."""
    box = Sandbox(server, f"test_{secrets.token_hex(4)}")
    try:
        yield box
    finally:
        drop_schemas(server, box.schema)


def drop_schemas(server: Mapping[str, str], prefix: str) -> None:
    """Drop schema `prefix` and every `prefix_*` schema, ending the sandbox's own queries first
    (a timed-out dbt leaves its query running server-side, holding locks)."""
    with closing(connect(server)) as connection, connection.cursor() as cursor:
        cursor.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity "
            "where pid <> pg_backend_pid() and datname = current_database() and query like %s",
            [f"%{prefix}%"],
        )
        cursor.execute("set lock_timeout = '30s'")
        cursor.execute(
            "select nspname from pg_namespace where nspname = %s or nspname like %s",
            [prefix, prefix.replace("_", r"\_") + r"\_%"],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'drop schema "{name}" cascade')


def table_snapshot(box: Sandbox, tables: Sequence[str]) -> dict[str, list[tuple]]:
    """Every row of the given raw tables (None for a missing table), sorted: a before/after view."""
    snapshot: dict[str, list[tuple]] = {}
    for table in tables:
        _, exists = box.query("select to_regclass(%s) is not null", [f"{box.raw_schema}.{table}"])
        if not exists[0][0]:
            snapshot[table] = []
            continue
        _, rows = box.query(f'select * from "{box.raw_schema}"."{table}"')
        snapshot[table] = sorted(rows, key=row_order)
    return snapshot


# --- dbt ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DbtBuild:
    """One `dbt build`: its exit code (-1 when it timed out), output and artifacts."""

    target: Target
    returncode: int
    output: str
    target_path: Path

    def summary(self) -> str:
        """The end of dbt's output and every node that did not succeed, for assertion messages."""
        lines = [f"dbt build --target {self.target.name} exited {self.returncode}"]
        results = self.target_path / "run_results.json"
        if results.exists():
            for result in json.loads(results.read_text())["results"]:
                if result["status"] not in ("success", "pass", "warn", "skipped"):
                    message = (result.get("message") or "").strip().replace("\n", " ")
                    lines.append(f"  {result['status']}: {result['unique_id']}: {message[:500]}")
        lines.append(self.output[-3000:])
        return "\n".join(lines)

    def relations(self, folder: str) -> dict[str, str]:
        """Model name -> quoted relation name, for the models under models/<folder>/."""
        manifest = json.loads((self.target_path / "manifest.json").read_text())
        return {
            node["name"]: node["relation_name"]
            for node in manifest["nodes"].values()
            if node["resource_type"] == "model"
            and node["package_name"] == "onboarding_paths"
            and node["path"].startswith(f"{folder}/")
        }


def dbt_build(
    target: Target,
    work_dir: Path,
    variables: Mapping[str, object],
    environment: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> DbtBuild:
    """`dbt build` of the project for target, artifacts and logs in work_dir (not the repo's)."""
    target_path = work_dir / "target"
    args = [
        dbt_executable(),
        "build",
        "--target",
        target.name,
        "--vars",
        json.dumps(dict(variables)),
        "--target-path",
        str(target_path),
        "--log-path",
        str(work_dir / "logs"),
    ]
    env = {**dbt_environment(target), **(environment or {})}
    try:
        completed = subprocess.run(
            args, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as expired:
        output = expired.stdout or ""
        text = output.decode(errors="replace") if isinstance(output, bytes) else output
        return DbtBuild(target, -1, f"{text}\n(timed out after {timeout:.0f} s)", target_path)
    return DbtBuild(target, completed.returncode, completed.stdout + completed.stderr, target_path)


# --- reading and comparing relations ----------------------------------------------------------


@dataclass(frozen=True)
class Relation:
    """The columns and rows of one relation."""

    columns: list[str]
    rows: list[tuple]


def read_duckdb(path: Path, relation: str) -> Relation:
    """A DuckDB relation (read-only connection, UTC)."""
    with duckdb.connect(str(path), read_only=True) as connection:
        connection.execute("set TimeZone = 'UTC'")
        cursor = connection.execute(f"select * from {relation}")
        return Relation([d[0] for d in cursor.description], cursor.fetchall())


def read_postgres(server: Mapping[str, str], relation: str) -> Relation:
    """A PostgreSQL relation (UTC session)."""
    with closing(connect(server)) as connection, connection.cursor() as cursor:
        cursor.execute(f"select * from {relation}")
        return Relation([d[0] for d in cursor.description], cursor.fetchall())


def with_load_order(relation: Relation, columns: Sequence[str]) -> Relation:
    """The relation with each load stamp in the given columns replaced by its load's number
    (0 for the earliest): two warehouses loaded at different moments compare equal when
    their rows came from the same loads."""
    stamp_index = [i for i, column in enumerate(relation.columns) if column in columns]
    if not stamp_index:
        return relation
    # load days (dates) after load instants (datetimes): numbered in their own order
    stamps = sorted(
        {row[i] for row in relation.rows for i in stamp_index if row[i] is not None},
        key=lambda stamp: (not isinstance(stamp, datetime), stamp.isoformat()),
    )
    number = {stamp: position for position, stamp in enumerate(stamps)}
    rows = [
        tuple(
            number.get(value) if i in stamp_index and value is not None else value
            for i, value in enumerate(row)
        )
        for row in relation.rows
    ]
    return Relation(relation.columns, rows)


def normalise(value: Any) -> Any:
    """A cell as comparable across engines: numbers as float (Decimal, int), UTC naive times."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def cells_equal(left: Any, right: Any) -> bool:
    """Same type and value; floats within a relative 1e-9 (double vs numeric arithmetic)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, float):
        if math.isnan(left) or math.isnan(right):
            return math.isnan(left) and math.isnan(right)
        return math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-9)
    return bool(left == right)


def _order(value: Any) -> tuple:
    return (0,) if value is None else (1, type(value).__name__, value)


def row_order(row: Sequence[Any]) -> tuple:
    """A sort key for a row of any values, nulls first, never comparing unlike types."""
    return tuple(_order(value) for value in row)


def first_difference(name: str, key: Sequence[str], duck: Relation, postgres: Relation) -> str | None:
    """The first difference between the two relations, in words; None when they are equal.

    Rows are normalised and ordered by their key columns, then by every column; the report
    names the key and the column of the first differing cell, or the first row one side lacks.
    """
    if duck.columns != postgres.columns:
        return f"{name}: columns differ: duckdb {duck.columns}, postgres {postgres.columns}"
    columns = duck.columns
    key_index = [columns.index(column) for column in key if column in columns] or list(range(len(columns)))

    def ordered(relation: Relation) -> list[tuple]:
        rows = [tuple(normalise(value) for value in row) for row in relation.rows]
        return sorted(rows, key=lambda row: (row_order([row[i] for i in key_index]), row_order(row)))

    left, right = ordered(duck), ordered(postgres)
    if len(left) != len(right):
        return _count_difference(name, columns, key_index, left, right)
    for left_row, right_row in zip(left, right, strict=True):
        for column, a, b in zip(columns, left_row, right_row, strict=True):
            if not cells_equal(a, b):
                where = {columns[i]: left_row[i] for i in key_index}
                return f"{name}: row {where}, column {column}: duckdb {a!r}, postgres {b!r}"
    return None


def _count_difference(
    name: str, columns: list[str], key_index: list[int], left: list[tuple], right: list[tuple]
) -> str:
    def fingerprint(row: tuple) -> tuple:
        return tuple(f"{v:.9g}" if isinstance(v, float) else v for v in row)

    only_duck = Counter(map(fingerprint, left)) - Counter(map(fingerprint, right))
    only_postgres = Counter(map(fingerprint, right)) - Counter(map(fingerprint, left))
    lines = [f"{name}: duckdb has {len(left)} rows, postgres {len(right)}"]
    for side, extra in (("only in duckdb", only_duck), ("only in postgres", only_postgres)):
        if extra:
            row = sorted(extra, key=row_order)[0]
            lines.append(f"first row {side}: {dict(zip(columns, row, strict=True))}")
    return "; ".join(lines)

"""`onboard load` fed what users really have: other encodings, delimiters, re-loads, odd headers.

Each bad file goes through the CLI as a user would run it and must end in one line naming the
file (and line and column where they can be told) and what was expected, exit code 2, no
traceback, and the warehouse as it was. A file whose content was loaded before is refused on
append unless --allow-duplicate (onboard/load/ledger.py), on every target.
"""

from __future__ import annotations

import gzip
import shutil
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from onboard.core.errors import InputError
from onboard.core.raw_tables import RAW_TABLES
from onboard.core.spark_state_store import spark_tables
from onboard.core.targets import Target, resolve_target
from onboard.load import load, spark_raw

from .conftest import SMALL_RAW, query, run_onboard, write_csv_table
from .postgres import Sandbox, connect, sandbox, table_snapshot
from .test_postgres import server, throwaway_database  # noqa: F401 (fixtures)

ERROR = "onboard: error: "


def _everything(warehouse: Path) -> dict[str, list[tuple]]:
    """Every raw row (and the load ledger, if any): a before/after view of the warehouse."""
    target = Target("duckdb", "duckdb", {"type": "duckdb", "path": str(warehouse), "schema": "main"})
    tables = [
        name for (name,) in query(target, "select table_name from duckdb_tables() where schema_name = 'raw'")
    ]
    return {table: sorted(query(target, f"select * from raw.{table}"), key=repr) for table in sorted(tables)}


def _onboard_load(warehouse: Path, folder: Path, *options: str) -> Any:
    return run_onboard("load", str(folder), *options, env={"ONBOARD_DUCKDB_PATH": str(warehouse)})


@pytest.fixture
def loaded(small_raw_dir: Path, tmp_path: Path) -> Path:
    """A warehouse that holds one good load of the small raw folder; returns its path."""
    warehouse = tmp_path / "w.duckdb"
    done = _onboard_load(warehouse, small_raw_dir)
    assert done.returncode == 0, done.stderr
    return warehouse


def _assert_refused(result: Any, message: str) -> None:
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [ERROR + message]
    assert result.returncode == 2


def _events_bytes() -> bytes:
    """A good events.csv with CRLF line ends and a UTF-8 'é'."""
    header = ",".join(RAW_TABLES["events"]).encode()
    rows = [
        b'e3,query_run,c1,u1,2026-03-02T10:00:00Z,2026-03-02T10:00:01Z,"{""email"": ""zoe@caf\xc3\xa9.io""}"',
    ]
    return b"\r\n".join([header, *rows]) + b"\r\n"


# --- encodings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        # Latin-1 'é' in a JSON text column: DuckDB used to fail mid-insert with a traceback
        (
            _events_bytes().replace(b"\xc3\xa9", b"\xe9"),
            "line 2, column properties: expected UTF-8 text, found byte 0xE9 (save the file as UTF-8)",
        ),
        # in the key column, on the third line
        (
            _events_bytes() + b"e\xff4,query_run,c1,u1,2026-03-02T10:00:00Z,,\r\n",
            "line 3, column event_id: expected UTF-8 text, found byte 0xFF (save the file as UTF-8)",
        ),
        (
            ",".join(RAW_TABLES["events"]).encode("utf-16") + "\r\n".encode("utf-16-le"),
            "expected UTF-8 text; the file looks UTF-16-encoded (save it as CSV UTF-8)",
        ),
        (
            gzip.compress(b"event_id,event_name\ne1,x\n"),
            "line 1 (the header): expected UTF-8 text, found byte 0x8B",
        ),
        (
            b"event_id,event_n\xe9me,customer_id\ne1,x,c1\n",
            "line 1 (the header): expected UTF-8 text, found byte 0xE9",
        ),
        (
            b"event_id\x00,event_name\ne1,x\n",
            "line 1 (the header): expected UTF-8 text, found a NUL byte (a binary file?)",
        ),
    ],
    ids=["latin-1 value", "bad byte in key", "utf-16", "gzip", "latin-1 header", "nul in header"],
)
def test_a_file_that_is_not_utf8_text_is_refused_naming_where(
    loaded: Path, small_raw_dir: Path, content: bytes, problem: str
):
    before = _everything(loaded)
    path = small_raw_dir / "events.csv"
    path.write_bytes(content)

    result = _onboard_load(loaded, small_raw_dir)

    _assert_refused(result, f"{path}: {problem}")
    assert _everything(loaded) == before


def test_a_parquet_string_that_is_not_utf8_is_refused_before_the_load(loaded: Path, small_raw_dir: Path):
    """Only the key and timestamp columns used to be read before the load: it failed in the insert."""
    before = _everything(loaded)
    (small_raw_dir / "accounts.csv").unlink()
    offsets, data = pa.py_buffer(b"\x00\x00\x00\x00\x02\x00\x00\x00"), pa.py_buffer(b"\xff\xfe")
    not_utf8 = pa.Array.from_buffers(pa.string(), 1, [None, offsets, data])
    columns = {name: ["x"] for name in RAW_TABLES["accounts"]}
    path = small_raw_dir / "accounts.parquet"
    pq.write_table(pa.table({**columns, "company_name": not_utf8}), path)

    result = _onboard_load(loaded, small_raw_dir)

    _assert_refused(
        result,
        f"{path}: unreadable PARQUET: Invalid string encoding found in Parquet file: "
        'value "\\xFF\\xFE" is not valid UTF8!',
    )
    assert _everything(loaded) == before


def test_a_utf8_byte_order_mark_is_read_transparently(small_raw_dir: Path, tmp_path: Path):
    """Excel's "CSV UTF-8" starts with a byte order mark; it used to hide the first column."""
    path = small_raw_dir / "events.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    warehouse = tmp_path / "w.duckdb"

    result = _onboard_load(warehouse, small_raw_dir)

    assert result.returncode == 0, result.stderr
    rows = _everything(warehouse)["events"]
    assert sorted(row[:3] for row in rows) == [("e1", "signup_completed", "c1"), ("e2", "query_run", "c1")]


# --- delimiters and headers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delimiter", "looks"), [(";", "`;`-separated"), ("\t", "tab-separated"), ("|", "`|`-separated")]
)
def test_another_delimiter_is_named_instead_of_a_missing_column(
    loaded: Path, small_raw_dir: Path, delimiter: str, looks: str
):
    before = _everything(loaded)
    path = small_raw_dir / "events.csv"
    path.write_text(path.read_text().replace(",", delimiter))

    result = _onboard_load(loaded, small_raw_dir)

    expected = ", ".join(RAW_TABLES["events"])
    _assert_refused(result, f"{path}: expected comma-separated columns {expected}; the header looks {looks}")
    assert _everything(loaded) == before


def test_spaces_around_header_names_are_pointed_out(loaded: Path, small_raw_dir: Path):
    before = _everything(loaded)
    path = small_raw_dir / "accounts.csv"
    path.write_text("customer_id, company_name, arr, csm_owner, updated_at\nc1,Acme,1,bo,x\n")

    result = _onboard_load(loaded, small_raw_dir)

    _assert_refused(
        result,
        f"{path}: missing column company_name (the header has ' company_name'; "
        "expected: customer_id, company_name, arr, csm_owner, updated_at)",
    )
    assert _everything(loaded) == before


def test_a_trailing_comma_on_every_line_is_an_ignored_unnamed_column(small_raw_dir: Path, tmp_path: Path):
    """It used to be refused with DuckDB's "Need named argument for struct pack"."""
    (small_raw_dir / "accounts.csv").write_text(
        "customer_id,company_name,arr,csm_owner,updated_at,\nc1,Acme,12000,bo,2026-03-01T00:00:00Z,\n"
    )
    warehouse = tmp_path / "w.duckdb"

    result = _onboard_load(warehouse, small_raw_dir)

    assert result.returncode == 0, result.stderr
    assert "accounts.csv: ignored columns (unnamed column 6)" in result.stdout + result.stderr
    accounts = _everything(warehouse)["accounts"]
    assert [row[:5] for row in accounts] == [("c1", "Acme", "12000", "bo", "2026-03-01T00:00:00Z")]


def test_a_first_line_too_long_for_a_header_is_refused(loaded: Path, small_raw_dir: Path):
    before = _everything(loaded)
    path = small_raw_dir / "accounts.csv"
    path.write_text("x" * 200_000)

    result = _onboard_load(loaded, small_raw_dir)

    _assert_refused(
        result,
        f"{path}: line 1: field larger than field limit (131072) (expected a header row of column names)",
    )
    assert _everything(loaded) == before


# --- the same file loaded twice -------------------------------------------------------------------


def _loaded_at(warehouse: Path, table: str) -> str:
    target = Target("duckdb", "duckdb", {"type": "duckdb", "path": str(warehouse), "schema": "main"})
    [(stamp,)] = query(target, f"select max(_loaded_at) from raw.{table}")
    assert isinstance(stamp, datetime)
    return f"{stamp:%Y-%m-%d %H:%M:%S} UTC"


def test_appending_a_file_loaded_before_is_refused(loaded: Path, small_raw_dir: Path, tmp_path: Path):
    """The issue's case: routing audits appended twice inflated routing_accuracy."""
    before = _everything(loaded)
    again = tmp_path / "again"
    again.mkdir()
    shutil.copy(small_raw_dir / "routing_audits.csv", again / "routing_audits.csv")

    result = _onboard_load(loaded, again, "--append")

    _assert_refused(
        result,
        f"{again / 'routing_audits.csv'}: already loaded into raw.routing_audits at "
        f"{_loaded_at(loaded, 'routing_audits')} (same content as {small_raw_dir / 'routing_audits.csv'}); "
        "loading it again would count its 1 rows twice (use --allow-duplicate to load it anyway)",
    )
    assert _everything(loaded) == before


def test_appending_the_same_folder_again_is_refused_and_allowed_with_the_flag(
    loaded: Path, small_raw_dir: Path
):
    before = _everything(loaded)
    stamp = _loaded_at(loaded, "events")

    refused = _onboard_load(loaded, small_raw_dir, "--append")

    _assert_refused(
        refused,
        f"{small_raw_dir / 'events.csv'}: already loaded into raw.events at {stamp}; "
        "loading it again would count its 2 rows twice (use --allow-duplicate to load it anyway)",
    )
    assert _everything(loaded) == before

    allowed = _onboard_load(loaded, small_raw_dir, "--append", "--allow-duplicate")

    assert allowed.returncode == 0, allowed.stderr
    assert len(_everything(loaded)["routing_audits"]) == 2


def test_a_new_file_appends_and_a_full_reload_of_the_same_files_is_fine(
    loaded: Path, small_raw_dir: Path, tmp_path: Path
):
    more = tmp_path / "more"
    more.mkdir()
    write_csv_table(more / "events.csv", "events", [{**SMALL_RAW["events"][0], "event_id": "e3"}])
    assert _onboard_load(loaded, more, "--append").returncode == 0

    # a full load replaces the tables, so the same files again are not duplicates
    again = _onboard_load(loaded, small_raw_dir)

    assert again.returncode == 0, again.stderr
    assert sorted(row[0] for row in _everything(loaded)["events"]) == ["e1", "e2"]
    # ... and after it, appending the file of e3 is new again
    assert _onboard_load(loaded, more, "--append").returncode == 0


class FakeSpark:
    """What publish_raw_tables asks of Spark, recorded: the files are real, the SQL is not run."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def sql(self, statement: str) -> None:
        self.statements.append(statement)


def _spark_files(spark_dir: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(spark_dir)): path.read_bytes()
        for path in sorted(spark_dir.rglob("*"))
        if path.is_file() and ".incoming" not in path.parts
    }


def test_the_spark_target_refuses_a_repeated_append_and_leaves_its_files(
    small_raw_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Spark's load without a JVM: DuckDB writes the Parquet files, a fake session takes the SQL."""
    monkeypatch.setenv("ONBOARD_SPARK_DIR", str(tmp_path / "spark"))
    monkeypatch.setattr(spark_raw, "session", lambda target: FakeSpark())
    target = resolve_target("spark")
    load(small_raw_dir, target)
    before = _spark_files(target.spark_dir)

    with pytest.raises(InputError, match=r"routing_audits\.csv: already loaded into raw\.routing_audits at "):
        only_audits = tmp_path / "audits"
        only_audits.mkdir()
        shutil.copy(small_raw_dir / "routing_audits.csv", only_audits / "routing_audits.csv")
        load(only_audits, target, append=True)

    assert _spark_files(target.spark_dir) == before
    load(only_audits, target, append=True, allow_duplicate=True)
    assert len(list((target.spark_dir / "raw" / "routing_audits").glob("*.parquet"))) == 2
    # the state store mirrors the ledger like a raw table
    import duckdb

    select = spark_tables(target.spark_dir)[("raw", "_loaded_files")]
    with duckdb.connect() as connection:
        rows = connection.execute(f"select table_name, file_rows from ({select}) order by all").fetchall()
    assert rows == sorted([*((table, len(SMALL_RAW[table])) for table in RAW_TABLES), ("routing_audits", 1)])


# --- PostgreSQL -----------------------------------------------------------------------------------


@pytest.fixture
def load_sandbox(server: dict[str, str]) -> Any:  # noqa: F811 (the imported fixture)
    with sandbox(server) as box:
        yield box


@pytest.mark.postgres
def test_postgres_refuses_a_repeated_append_in_the_load_transaction(
    load_sandbox: Sandbox, small_raw_dir: Path
):
    target, schema = load_sandbox.target(), load_sandbox.raw_schema
    load(small_raw_dir, target, schema=schema)
    before = table_snapshot(load_sandbox, [*RAW_TABLES, "_loaded_files"])

    with pytest.raises(InputError, match=rf"events\.csv: already loaded into {schema}\.events at .* UTC; "):
        load(small_raw_dir, target, append=True, schema=schema)

    assert table_snapshot(load_sandbox, [*RAW_TABLES, "_loaded_files"]) == before
    load(small_raw_dir, target, append=True, schema=schema, allow_duplicate=True)
    assert len(table_snapshot(load_sandbox, ["routing_audits"])["routing_audits"]) == 2


@pytest.mark.postgres
def test_onboard_load_cli_on_postgres_refuses_a_repeated_append(
    throwaway_database: dict[str, str],  # noqa: F811 (the imported fixture)
    small_raw_dir: Path,
):
    env = throwaway_database
    assert run_onboard("load", str(small_raw_dir), "--target", "postgres", env=env).returncode == 0
    before = _postgres_rows(env)

    refused = run_onboard("load", str(small_raw_dir), "--append", "--target", "postgres", env=env)

    assert refused.returncode == 2, refused.stderr
    assert "Traceback" not in refused.stderr
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith(f"{ERROR}{small_raw_dir / 'events.csv'}: already loaded into raw.events at ")
    assert line.endswith(
        "; loading it again would count its 2 rows twice (use --allow-duplicate to load it anyway)"
    )
    assert _postgres_rows(env) == before


def _postgres_rows(environment: dict[str, str]) -> dict[str, list[tuple]]:
    with closing(connect(environment)) as connection, connection.cursor() as cursor:
        rows = {}
        for table in [*RAW_TABLES, "_loaded_files"]:
            cursor.execute(f"select * from raw.{table}")
            rows[table] = sorted(cursor.fetchall(), key=repr)
        return rows

"""`onboard load`: raw is raw, only the unreadable is refused, all or nothing."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from onboard.core.errors import InputError, UsageError
from onboard.core.targets import Target
from onboard.load import load

from .conftest import SMALL_RAW, query, run_onboard, write_csv_table


def test_full_load_keeps_every_value_as_text_and_stamps_loaded_at(small_raw_dir: Path, duckdb_target: Target):
    report = load(small_raw_dir, duckdb_target)

    assert [(t.table, t.rows) for t in report.tables] == [
        ("events", 2),
        ("accounts", 1),
        ("subscriptions", 1),
        ("email_events", 1),
        ("routing_audits", 1),
    ]
    rows = query(duckdb_target, "select event_id, occurred_at, properties from raw.events order by event_id")
    assert rows == [
        ("e1", "2026-03-01T10:00:00Z", '{"email": "ann@acme.io", "plan_tier": "pro"}'),
        ("e2", "not-a-date", None),
    ]
    types = query(
        duckdb_target,
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'raw' and table_name = 'accounts' order by ordinal_position",
    )
    assert types == [
        ("customer_id", "VARCHAR"),
        ("company_name", "VARCHAR"),
        ("arr", "VARCHAR"),
        ("csm_owner", "VARCHAR"),
        ("updated_at", "VARCHAR"),
        ("_loaded_at", "TIMESTAMP"),
    ]
    assert query(duckdb_target, "select count(distinct _loaded_at) from raw.events") == [(1,)]


def test_bad_values_inside_a_readable_file_are_kept_and_reported(small_raw_dir: Path, duckdb_target: Target):
    report = load(small_raw_dir, duckdb_target)

    events = report.tables[0]
    assert events.bad_values == {"occurred_at not a timestamp": 1}
    assert query(duckdb_target, "select count(*) from raw.events where occurred_at = 'not-a-date'") == [(1,)]


def test_parquet_with_typed_columns_is_stored_as_text(small_raw_dir: Path, duckdb_target: Target):
    (small_raw_dir / "accounts.csv").unlink()
    table = pa.table(
        {
            "customer_id": ["c1"],
            "company_name": ["Acme"],
            "arr": pa.array([1500.5]),
            "csm_owner": [None],
            "updated_at": pa.array([pa.scalar(1772366400, pa.timestamp("s"))]),
        }
    )
    pq.write_table(table, small_raw_dir / "accounts.parquet")

    load(small_raw_dir, duckdb_target)

    assert query(duckdb_target, "select arr, csm_owner, updated_at from raw.accounts") == [
        ("1500.5", None, "2026-03-01 12:00:00")
    ]


def test_append_adds_rows_with_a_later_loaded_at(small_raw_dir: Path, duckdb_target: Target, tmp_path: Path):
    load(small_raw_dir, duckdb_target)
    more = tmp_path / "more"
    more.mkdir()
    write_csv_table(more / "events.csv", "events", [{**SMALL_RAW["events"][0], "event_id": "e3"}])

    report = load(more, duckdb_target, append=True)

    assert [(t.table, t.rows) for t in report.tables] == [("events", 1)]
    rows = query(duckdb_target, "select event_id, _loaded_at from raw.events order by _loaded_at, event_id")
    assert [r[0] for r in rows] == ["e1", "e2", "e3"]
    assert rows[2][1] > rows[0][1]
    assert query(duckdb_target, "select count(*) from raw.accounts") == [(1,)]


def test_unknown_files_are_ignored_with_a_note(small_raw_dir: Path, duckdb_target: Target):
    (small_raw_dir / "manifest.json").write_text("{}")
    report = load(small_raw_dir, duckdb_target)
    assert report.ignored_files == ["manifest.json"]


def _assert_refused_and_unchanged(folder: Path, target: Target, message: str) -> None:
    with pytest.raises(InputError) as refused:
        load(folder, target)
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)
    # the warehouse still holds the earlier load, untouched
    assert query(target, "select event_id from raw.events order by event_id") == [("e1",), ("e2",)]


def test_missing_file_is_refused_naming_it(small_raw_dir: Path, duckdb_target: Target):
    load(small_raw_dir, duckdb_target)
    (small_raw_dir / "subscriptions.csv").unlink()
    write_csv_table(small_raw_dir / "events.csv", "events", [{**SMALL_RAW["events"][0], "event_id": "new"}])
    _assert_refused_and_unchanged(small_raw_dir, duckdb_target, "subscriptions.parquet: missing file")


def test_missing_column_is_refused_naming_file_and_column(small_raw_dir: Path, duckdb_target: Target):
    load(small_raw_dir, duckdb_target)
    (small_raw_dir / "accounts.csv").write_text("customer_id,company_name,csm_owner,updated_at\nc1,A,b,x\n")
    _assert_refused_and_unchanged(small_raw_dir, duckdb_target, "accounts.csv: missing column arr")


@pytest.mark.parametrize(
    ("file_name", "content", "message"),
    [
        ("accounts.csv", "", "accounts.csv: empty file"),
        (
            "accounts.csv",
            "customer_id,company_name,arr,csm_owner,updated_at\n",
            "accounts.csv: empty file",
        ),
        (
            "accounts.csv",
            'customer_id,company_name,arr,csm_owner,updated_at\nc1,"A,1,b,x\n',
            "accounts.csv: unreadable CSV",
        ),
        (
            "accounts.csv",
            "customer_id,company_name,arr,csm_owner,updated_at\nc1,A,1,b,x,extra,more\n",
            "accounts.csv: unreadable CSV",
        ),
    ],
)
def test_unreadable_or_empty_csv_is_refused(small_raw_dir, duckdb_target, file_name, content, message):
    load(small_raw_dir, duckdb_target)
    (small_raw_dir / file_name).write_text(content)
    _assert_refused_and_unchanged(small_raw_dir, duckdb_target, message)


def test_unreadable_parquet_is_refused(small_raw_dir: Path, duckdb_target: Target):
    load(small_raw_dir, duckdb_target)
    (small_raw_dir / "accounts.csv").unlink()
    (small_raw_dir / "accounts.parquet").write_bytes(b"PAR1 this is not parquet")
    _assert_refused_and_unchanged(small_raw_dir, duckdb_target, "accounts.parquet: unreadable PARQUET")


def test_both_csv_and_parquet_of_one_table_is_refused(small_raw_dir: Path, duckdb_target: Target):
    pq.write_table(pa.table({"customer_id": ["c1"]}), small_raw_dir / "accounts.parquet")
    with pytest.raises(InputError, match=r"both accounts\.parquet and accounts\.csv"):
        load(small_raw_dir, duckdb_target)


def test_a_folder_that_does_not_exist_is_a_usage_error(tmp_path: Path, duckdb_target: Target):
    with pytest.raises(UsageError, match="not a folder"):
        load(tmp_path / "nope", duckdb_target)


def test_cli_reports_a_refusal_in_one_line_with_exit_code_2(small_raw_dir: Path, tmp_path: Path):
    (small_raw_dir / "events.csv").write_text("event_id,event_name\ne1,x\n")
    result = run_onboard("load", str(small_raw_dir), env={"ONBOARD_DUCKDB_PATH": str(tmp_path / "w.duckdb")})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"onboard: error: {small_raw_dir / 'events.csv'}: missing column customer_id "
        "(expected: event_id, event_name, customer_id, user_id, occurred_at, received_at, properties)"
    ]
    assert "Traceback" not in result.stderr


def test_cli_unknown_target_is_a_usage_error(small_raw_dir: Path):
    result = run_onboard("load", str(small_raw_dir), "--target", "nope")
    assert result.returncode == 2
    assert "--target nope: not a target of profiles.yml" in result.stderr

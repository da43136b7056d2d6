"""Fuzzing what a user feeds it: the loader many times, then staging and the marts once.

Whatever bytes, encodings, delimiters, quoting, column orders, timestamp formats and JSON
shapes come in (docs/definitions.md#loader, #unusable-rows):

- `onboard load` never prints a traceback: it loads every data row of the file (as Python's
  csv module reads it) and says how many, or refuses with one line and exit 2 and leaves the
  warehouse as it was (test_the_loader_never_crashes_nor_loses_a_row: many examples, in-process,
  against a small warehouse);
- staging accounts for every raw row: kept in stg_product__events or set aside in
  stg_product__events_unusable with a reason, each re-sent copy counted in `copies_received`;
  and the marts of customers the fuzzed rows do not name do not move
  (test_fuzzed_events_are_all_accounted_for_and_leave_other_customers_alone: one batch, one build).

Both run derandomized (the same examples every run) in bounded time.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, Phase, assume, event, given, settings
from hypothesis import strategies as st

from onboard import cli
from onboard.core.as_of import dbt_as_of
from onboard.core.raw_tables import RAW_TABLES, UNUSABLE_REASONS
from onboard.core.targets import Target
from onboard.core.tracking_plan import load_tracking_plan
from onboard.load import load

from .conftest import SMALL_RAW, query, run_onboard, write_csv_table

COLUMNS = RAW_TABLES["events"]
PLAN = load_tracking_plan()
PROPERTY_NAMES = sorted({p.name for props in PLAN.events.values() for p in props})
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)

# --- values -------------------------------------------------------------------------------

#: texts exports write, and texts that break naive CSV and JSON handling
SPECIAL_TEXTS = ["", " ", "\t", "NULL", "null", "None", "NaN", '"', '""', ",", ";", "\n", "\r\n", "\r"]
SPECIAL_TEXTS += ["é", "😀", "\\", "'", "a,b", 'say "hi"', "\x00", "\ufeff", " c1 ", "x" * 300]
SPECIAL = st.sampled_from(SPECIAL_TEXTS)
TEXT = st.one_of(SPECIAL, st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=10))
TIMESTAMP_FORMATS = (
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f+05:30",
    "%Y-%m-%dT%H:%M:%S-08:00",
    "%Y-%m-%d",
    "%d/%m/%Y %H:%M",
    "%Y%m%dT%H%M%S",
    "%a, %d %b %Y %H:%M:%S GMT",
)

ODD_TIMESTAMPS = [
    "1900-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "2026-02-30T00:00:00Z",
    "2026-13-01",
    "24:00",
    "not-a-date",
    "0000-00-00 00:00:00",
]


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    """A time as exports write it: ISO-8601 in its variants, other formats, epochs, garbage."""
    moment = draw(st.datetimes(datetime(1800, 1, 1), datetime(2200, 1, 1), timezones=st.just(UTC)))
    return draw(
        st.one_of(
            st.sampled_from(TIMESTAMP_FORMATS).map(moment.strftime),
            st.just(str(int(moment.timestamp()))),
            st.sampled_from(ODD_TIMESTAMPS),
            TEXT,
        )
    )


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(TEXT, children, max_size=3),
    max_leaves=6,
)
PROPERTIES = st.one_of(
    st.dictionaries(st.sampled_from(PROPERTY_NAMES) | TEXT, JSON_VALUES, max_size=4).map(json.dumps),
    st.dictionaries(st.sampled_from(PROPERTY_NAMES), JSON_VALUES, max_size=4).map(
        lambda value: json.dumps(value, ensure_ascii=False)
    ),
    JSON_VALUES.map(json.dumps),  # JSON that is not an object
    st.just('{"email": "ann@acme.io", "plan_tier": "pro"'),  # cut short
    st.just('{"email": "a@b.co", "email": "c@d.co"}'),  # a key twice
    TEXT,
)
#: the plan's properties with plain values, or any text: small enough for a batch of rows
FLAT_PROPERTIES = st.one_of(
    st.dictionaries(
        st.sampled_from(PROPERTY_NAMES),
        st.none() | st.booleans() | st.integers() | st.sampled_from(["pro", "a@b.co", "12", "x"]) | SPECIAL,
        max_size=3,
    ).map(json.dumps),
    st.just('{"email": "ann@acme.io", "plan_tier": "pro"'),
    st.just("[1, 2]"),
    SPECIAL,
)
EVENT_NAMES = st.sampled_from(PLAN.event_names) | TEXT


def event_rows(
    event_ids: st.SearchStrategy[str],
    customer_ids: st.SearchStrategy[str],
    properties: st.SearchStrategy[str] = PROPERTIES,
) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries(
        {
            "event_id": event_ids,
            "event_name": EVENT_NAMES,
            "customer_id": customer_ids,
            "user_id": TEXT,
            "occurred_at": timestamps(),
            "received_at": timestamps(),
            "properties": properties,
        }
    )


# --- files ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventsFile:
    """One fuzzed events file and how it was made (printed by Hypothesis on a failure)."""

    name: str
    content: bytes
    how: str


def _csv_text(
    rows: list[dict[str, str]], header: list[str], delimiter: str, quoting: int, newline: str
) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator=newline)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "x") for name in header])
    return out.getvalue()


@st.composite
def csv_files(draw: st.DrawFn) -> EventsFile:
    """A CSV as a spreadsheet or an export writes it, right or wrong in any of its parts."""
    rows = draw(st.lists(event_rows(TEXT, TEXT), max_size=6))
    header = list(draw(st.permutations(COLUMNS)))
    if draw(st.booleans()):
        header.insert(draw(st.integers(0, len(header))), draw(st.sampled_from(["note", "Extra", "_id2"])))
    if draw(st.integers(0, 9)) == 0:
        header.remove(draw(st.sampled_from(COLUMNS)))
    delimiter = draw(st.sampled_from([","] * 8 + [";", "\t", "|"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    encoding = draw(
        st.sampled_from(["utf-8"] * 5 + ["utf-8-sig", "utf-8-sig", "latin-1", "cp1252", "utf-16"])
    )
    text = _csv_text(rows, header, delimiter, quoting, newline)
    how = f"csv {len(rows)} rows, {encoding}, delimiter {delimiter!r}, quoting {quoting}, header {header}"
    return EventsFile("events.csv", text.encode(encoding, errors="replace"), how)


@st.composite
def byte_files(draw: st.DrawFn) -> EventsFile:
    """Random bytes, after a good header or none."""
    head = draw(st.sampled_from([b"", (",".join(COLUMNS) + "\n").encode()]))
    body = draw(st.binary(max_size=200) | st.text(max_size=60).map(str.encode))
    return EventsFile("events.csv", head + body, f"bytes after {head!r}")


@st.composite
def parquet_files(draw: st.DrawFn) -> EventsFile:
    """Parquet: text columns in any order, or random bytes named .parquet."""
    if draw(st.integers(0, 3)) == 0:
        return EventsFile("events.parquet", draw(st.binary(max_size=100)), "bytes as parquet")
    rows = draw(st.lists(event_rows(TEXT, TEXT), max_size=5))
    names = list(draw(st.permutations(COLUMNS)))
    table = pa.table({name: pa.array([row[name] for row in rows], pa.string()) for name in names})
    out = io.BytesIO()
    pq.write_table(table, out)
    return EventsFile("events.parquet", out.getvalue(), f"parquet {len(rows)} rows, columns {names}")


def expected_rows(file: EventsFile) -> list[tuple[str, ...]] | None:
    """The data rows a user means (Python's csv on the UTF-8 text), or None if unreadable as such."""
    if file.name.endswith(".parquet"):
        try:
            table = pq.read_table(io.BytesIO(file.content))
        except Exception:
            return None
        if not set(COLUMNS) <= set(table.column_names):
            return None
        return list(zip(*(table.column(name).to_pylist() for name in COLUMNS), strict=True)) or None
    try:
        text = file.content.decode("utf-8-sig")
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except (UnicodeDecodeError, csv.Error):
        return None
    if not records or len(set(records[0])) != len(records[0]) or not set(COLUMNS) <= set(records[0]):
        return None
    if any(len(record) != len(records[0]) for record in records[1:]):
        return None
    index = [records[0].index(name) for name in COLUMNS]
    return [tuple(record[i] for i in index) for record in records[1:]] or None


# --- the loader ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Target:
    root = tmp_path_factory.mktemp("fuzz_load")
    (root / "raw").mkdir()
    for table, rows in SMALL_RAW.items():
        write_csv_table(root / "raw" / f"{table}.csv", table, rows)
    target = Target("duckdb", "duckdb", {"type": "duckdb", "path": str(root / "w.duckdb"), "schema": "main"})
    load(root / "raw", target)
    return target


def _onboard(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """onboard.cli.main() in this process for `onboard args`: (exit code, stderr)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "argv", ["onboard", *args])
        with pytest.raises(SystemExit) as exited:
            cli.main()
    return int(exited.value.code or 0), capsys.readouterr().err


def _normalised(rows: list[tuple]) -> list[tuple]:
    """Rows with null and empty alike (an empty CSV field reads as null), sorted."""
    return sorted(tuple("" if v is None else v for v in row) for row in rows)


SNAPSHOT = "select count(*), max(_loaded_at) from raw.events"


@settings(FUZZ, max_examples=60)
@given(file=st.one_of(csv_files(), csv_files(), csv_files(), byte_files(), parquet_files()))
def test_the_loader_never_crashes_nor_loses_a_row(
    file: EventsFile,
    small_warehouse: Target,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("ONBOARD_DUCKDB_PATH", str(small_warehouse.duckdb_path))
    folder = tmp_path_factory.mktemp("events")
    (folder / file.name).write_bytes(file.content)
    before = query(small_warehouse, SNAPSHOT)[0]
    expected = expected_rows(file)
    code, stderr = _onboard("load", str(folder), "--append", "--allow-duplicate", capsys=capsys)
    assert "Traceback" not in stderr and code in (0, 2), stderr
    event(f"{file.name}: exit {code}, {'readable' if expected is not None else 'unreadable'} as CSV/Parquet")
    if code == 2:
        lines = stderr.strip().splitlines()
        event(f"refused: {re.sub(r'.*?events[.](csv|parquet): ', '', lines[0])[:30]}")
        assert len(lines) == 1 and lines[0].startswith("onboard: error: "), stderr
        assert str(folder) in lines[0], "the line names the file"
        assert query(small_warehouse, SNAPSHOT)[0] == before, "a refused load changes nothing"
        # a file Python's csv module reads (or a Parquet file pyarrow reads) with every column is
        # loaded; only from random bytes may DuckDB's stricter reader refuse what Python accepts
        assert expected is None or file.how.startswith("bytes after"), (
            f"a readable file was refused: {lines[0]}"
        )
        return
    count, loaded_at = query(small_warehouse, SNAPSHOT)[0]
    reported = re.search(r"loaded ([\d,]+) rows", stderr)
    assert reported is not None, stderr
    assert count - before[0] == int(reported.group(1).replace(",", "")), "every row loaded is reported"
    assert expected is not None, f"loaded {count - before[0]} rows of a file Python cannot read as CSV"
    loaded = query(
        small_warehouse,
        f"select {', '.join(COLUMNS)} from raw.events where _loaded_at = '{loaded_at}'",
    )
    assert _normalised(loaded) == _normalised(expected), "every row, every value, exactly as sent"


# --- staging and the marts -----------------------------------------------------------------

FUZZ_CUSTOMERS = ["fz-c1", "fz-c2", " fz-c1 ", "FZ-C1", "fz-ü", "", " ", "\t", "NULL", "null"]
#: ids of the built warehouse the fuzzed rows also use: their marts may move, no other's
TOUCHED = ["c0000001", "c0000002"]


#: rows that could be right: a planned event of a fuzzed customer, at an ISO time of the
#: built data's span, with the plan's properties
PLAUSIBLE_ROWS = st.fixed_dictionaries(
    {
        "event_id": st.integers(0, 25).map(lambda n: f"fz-e{n}"),
        "event_name": st.sampled_from(PLAN.event_names),
        "customer_id": st.sampled_from(["fz-c1", "fz-c2", *TOUCHED]),
        "user_id": st.sampled_from(["u1", "u2", ""]),
        "occurred_at": st.integers(1, 30 * 24).map(lambda hours: f"{_hours_ago(hours):%Y-%m-%dT%H:%M:%SZ}"),
        "received_at": st.integers(1, 30 * 24).map(lambda hours: f"{_hours_ago(hours):%Y-%m-%d %H:%M:%S}"),
        "properties": st.fixed_dictionaries(
            {"email": st.sampled_from(["fz@example.com", "not-an-email"]), "plan_tier": st.just("pro")}
        ).map(json.dumps),
    }
)


def _hours_ago(hours: int) -> datetime:
    from .test_sync import AS_OF

    return AS_OF - timedelta(hours=hours)


@settings(FUZZ, max_examples=1, phases=[Phase.explicit, Phase.generate])  # a build an example: no shrinking
@given(
    rows=st.lists(
        PLAUSIBLE_ROWS
        | event_rows(
            st.integers(0, 25).map(lambda n: f"fz-e{n}") | st.sampled_from(["", "fz- ", "fz-é"]),
            st.sampled_from(FUZZ_CUSTOMERS + TOUCHED),
            FLAT_PROPERTIES,
        ),
        min_size=40,
        max_size=40,
    )
)
@pytest.mark.slow
def test_fuzzed_events_are_all_accounted_for_and_leave_other_customers_alone(
    rows: list[dict[str, str]], built: Path, tmp_path_factory: pytest.TempPathFactory
):
    # the simplest example Hypothesis tries first is one row 40 times: not a fuzz batch
    assume(len({json.dumps(row) for row in rows}) > 30)
    from .test_sync import AS_OF

    root = tmp_path_factory.mktemp("fuzz_build")
    warehouse = Path(shutil.copyfile(built, root / "w.duckdb"))
    target = Target("duckdb", "duckdb", {"type": "duckdb", "path": str(warehouse), "schema": "main"})
    customers_sql = (
        "select * from main.onboarding_customers where customer_id not in ({}) order by customer_id"
    )
    untouched_sql = customers_sql.format(", ".join(f"'{c}'" for c in TOUCHED))
    before = query(target, untouched_sql)
    assert len(before) > 500
    (root / "raw").mkdir()
    # every field quoted: a bare carriage return in an unquoted field would end its row
    (root / "raw" / "events.csv").write_text(_csv_text(rows, list(COLUMNS), ",", csv.QUOTE_ALL, "\n"))
    env = {
        "ONBOARD_DUCKDB_PATH": str(warehouse),
        "DBT_TARGET_PATH": str(root / "target"),
        "DBT_LOG_PATH": str(root / "logs"),
    }
    loaded = run_onboard("load", str(root / "raw"), "--append", env=env)
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    latest = "select count(*) from raw.events where _loaded_at = (select max(_loaded_at) from raw.events)"
    assert query(target, latest) == [(len(rows),)]
    build = (
        "build",
        "--as-of",
        dbt_as_of(AS_OF),
        "--select",
        "+onboarding_customers stg_product__events_unusable",
        "--exclude",
        "test_type:unit test_type:data",  # the models only: a build is most of this test's time
    )
    done = run_onboard(*build, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]

    # every raw row with an event_id: its id is one staged row, kept or set aside with a reason,
    # and counts every copy received
    unaccounted = query(
        target,
        """
        with raw_ids as (
            select event_id, count(*) as copies from raw.events where event_id <> '' group by event_id
        ),
        staged as (
            select event_id, 'usable' as place, copies_received from main_staging.stg_product__events
            union all
            select unusable.event_id, unusable.reason, base.copies_received
            from main_staging.stg_product__events_unusable as unusable
            inner join main_staging.base_product__events as base using (event_id)
        )
        select raw_ids.event_id, raw_ids.copies, list(staged.place), list(staged.copies_received)
        from raw_ids
        left join staged using (event_id)
        group by all
        having count(staged.place) <> 1 or any_value(staged.copies_received) <> raw_ids.copies
        """,
    )
    assert unaccounted == []
    # a row without an event_id cannot be de-duplicated: each is an unusable row of its own
    without_id = query(
        target,
        """
        select
            (select count(*) from raw.events where event_id is null or event_id = ''),
            (select count(*) from main_staging.stg_product__events_unusable where event_id is null)
        """,
    )[0]
    assert without_id[0] == without_id[1] > 0
    reasons = query(target, "select distinct reason from main_staging.stg_product__events_unusable")
    assert {reason for (reason,) in reasons} <= set(UNUSABLE_REASONS)
    # the fuzzed rows reach staging: some usable, some set aside
    fuzz_staged = query(
        target,
        """
        select
            (select count(*) from main_staging.stg_product__events where event_id like 'fz%'),
            (select count(*) from main_staging.stg_product__events_unusable where event_id like 'fz%')
        """,
    )[0]
    assert fuzz_staged[0] > 0 and fuzz_staged[1] > 0
    # customers the fuzzed rows do not name: every column of their marts row as before
    assert query(target, untouched_sql) == before

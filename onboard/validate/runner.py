"""One validation run: read the window's rows in chunks, validate each with GX, combine the counts.

Per expectation the counts of every chunk are added up; the failing share is the failing
rows over the rows validated by that suite (for an event suite: the usable events of
that name). Outcome per expectation: `pass` (no failing row), `warning` (failing rows
within the tolerated share, i.e. GX's `mostly`, or severity warning), `blocking` (above
it, severity critical). A run with any blocking expectation failed.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from onboard.core.db import Database, database
from onboard.core.dbt import run_dbt
from onboard.core.errors import InputError, OnboardError, UsageError
from onboard.core.paths import PROJECT_DIR
from onboard.core.tracking_plan import load_tracking_plan
from onboard.core.warehouse import Target
from onboard.validate import volume
from onboard.validate.config import EXPECTATIONS_DIR, ValidationConfig, load_config
from onboard.validate.runs import RunRecord, default_since, ensure_table, insert_run, utc_now
from onboard.validate.source import (
    CHUNK_ROWS,
    chunks,
    dialect,
    event_frames,
    latest_loaded_at,
    table_sql,
    window_holds_every_load,
)
from onboard.validate.suites import EVENTS_SUITE, TABLE_SUITES

RESULTS_DIR = Path(os.environ.get("ONBOARD_VALIDATION_RESULTS_DIR", PROJECT_DIR / "results" / "validation"))
MAX_EXAMPLES = 5


class ValidationFailedError(OnboardError):
    """A validation run had a blocking failure: exit 1."""

    exit_code = 1


@dataclass
class ExpectationOutcome:
    """One expectation's combined result over every chunk."""

    suite: str
    expectation_type: str
    check: str
    event: str
    prop: str
    kind: str
    severity: str
    tolerated_share: float
    rows: int = 0
    failing: int = 0
    examples: list[str] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    floor_rows: int = 0

    @property
    def share(self) -> float:
        return self.failing / self.rows if self.rows else 0.0

    @property
    def outcome(self) -> str:
        if self.failing == 0:
            return "pass"
        # a share over fewer rows than floor_rows is taken over floor_rows, so one bad row of
        # a small daily window does not block; a zero tolerance blocks on any failing row
        allowed = self.tolerated_share * max(self.rows, self.floor_rows)
        if self.failing > allowed + 1e-9 and self.severity == "critical":
            return "blocking"
        return "warning"


@dataclass
class SuiteOutcome:
    """One suite's rows and expectations."""

    name: str
    rows: int = 0
    expectations: list[ExpectationOutcome] = field(default_factory=list)

    @property
    def status(self) -> str:
        outcomes = {e.outcome for e in self.expectations}
        return "failed" if "blocking" in outcomes else "warning" if "warning" in outcomes else "passed"


@dataclass
class ValidationOutcome:
    """A finished run."""

    run_id: str
    started_at: datetime
    finished_at: datetime
    since: datetime
    until: datetime
    suites: list[SuiteOutcome]
    results_file: Path | None
    notes: list[str] = field(default_factory=list)
    data_docs: Path | None = None

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.suites if s.name not in (EVENTS_SUITE, volume.SUITE))

    def expectations(self, outcome: str) -> list[ExpectationOutcome]:
        return [e for s in self.suites for e in s.expectations if e.outcome == outcome]

    @property
    def status(self) -> str:
        return "failed" if self.expectations("blocking") else "passed"

    @property
    def exit_code(self) -> int:
        return 1 if self.status == "failed" else 0

    def failure(self, event: str, prop: str) -> int:
        """Failing rows of every expectation on one event's property (or unusable reason)."""
        return sum(
            e.failing for s in self.suites for e in s.expectations if e.event == event and e.prop == prop
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "window": {"since": self.since.isoformat(), "until": self.until.isoformat()},
            "status": self.status,
            "notes": self.notes,
            "suites": [
                {
                    "name": s.name,
                    "rows": s.rows,
                    "status": s.status,
                    "expectations": [
                        {**asdict(e), "share": e.share, "outcome": e.outcome} for e in s.expectations
                    ],
                }
                for s in self.suites
            ],
        }


def _outcomes(name: str, suite_file: dict[str, Any], floor_rows: int) -> SuiteOutcome:
    outcome = SuiteOutcome(name)
    for item in suite_file["expectations"]:
        meta, kwargs = item["meta"], item["kwargs"]
        outcome.expectations.append(
            ExpectationOutcome(
                suite=name,
                expectation_type=item["type"],
                check=meta["check"],
                event=meta["event"],
                prop=meta["property"],
                kind=meta["kind"],
                severity=item.get("severity") or "critical",
                tolerated_share=round(1.0 - float(kwargs.get("mostly", 1.0)), 10),
                kwargs=kwargs,
                floor_rows=floor_rows,
            )
        )
    return outcome


def new_run_id(now: datetime) -> str:
    """A sortable, unique run id."""
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def validate(
    target: Target,
    since: datetime | None = None,
    suites_dir: Path = EXPECTATIONS_DIR,
    results_dir: Path | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ValidationOutcome:
    """Validate the raw rows loaded since the last good run (or since), record the run, return it."""
    plan = load_tracking_plan()
    started = utc_now()
    names = [*plan.event_names, EVENTS_SUITE, *TABLE_SUITES]
    files = {}
    for name in names:
        path = suites_dir / f"{name}.json"
        if not path.exists():
            raise InputError(f"{path}: suite missing; run python -m onboard.validate.suites --write")
        files[name] = json.loads(path.read_text())
    config = load_config()
    outcomes = {name: _outcomes(name, files[name], config.share_floor_rows) for name in names}
    with database(target) as db:
        ensure_table(db)
        window_since = since if since is not None else default_since(db)
        until = latest_loaded_at(db) or window_since
        if until > window_since:
            ensure_udfs(db)
        every_load = until > window_since and window_holds_every_load(db, window_since)
        validator = None
        gx_suites: dict[str, Any] = {}
        for table in ("events", *TABLE_SUITES):
            if until <= window_since:
                break
            frames = (
                event_frames(db, plan, window_since, until, every_load, chunk_rows)
                if table == "events"
                else chunks(db, table_sql(table), window_since, until, chunk_rows)
            )
            for frame in frames:
                if validator is None:
                    from onboard.validate import gx

                    validator = gx.Validator()
                    gx_suites = {n: gx.load_suite(suites_dir / f"{n}.json") for n in names}
                if table == "events":
                    _validate(validator, gx_suites[EVENTS_SUITE], outcomes[EVENTS_SUITE], frame, "event_id")
                    usable = frame[frame["unusable_reason"].isna()]
                    for event, rows in usable.groupby("event_name", sort=False):
                        name = str(event)
                        _validate(validator, gx_suites[name], outcomes[name], rows, "event_id")
                else:
                    key = "event_id" if table == "email_events" else "customer_id"
                    _validate(validator, gx_suites[table], outcomes[table], frame, key)
        notes: list[str] = []
        if until > window_since:
            checked = volume.check_volume(db, plan, dialect(db), window_since, until, config)
            outcomes[volume.SUITE] = _volume_outcome(checked, config)
            notes.extend(checked.notes)
        finished = utc_now()
        run_id = new_run_id(started)
        result = ValidationOutcome(
            run_id, started, finished, window_since, until, list(outcomes.values()), None, notes
        )
        folder = results_dir or RESULTS_DIR
        folder.mkdir(parents=True, exist_ok=True)
        result.results_file = folder / f"{run_id}.json"
        result.results_file.write_text(json.dumps(result.to_json(), indent=2) + "\n")
        if validator is not None:
            from onboard.validate.docs import write_data_docs

            result.data_docs = write_data_docs(result, folder / run_id)
        insert_run(
            db,
            RunRecord(
                run_id=run_id,
                started_at=started,
                finished_at=finished,
                window_since=window_since,
                window_until=until,
                suites=names,
                rows_validated=result.rows,
                expectations_failed=len(result.expectations("blocking")),
                expectations_warned=len(result.expectations("warning")),
                status=result.status,
                results_file=str(result.results_file),
            ),
        )
    return result


def _volume_outcome(checked: volume.VolumeResult, config: ValidationConfig) -> SuiteOutcome:
    """The volume verdicts as expectations: per event type, days judged, dropped and zero."""
    suite = SuiteOutcome(volume.SUITE, rows=max(checked.judged.values(), default=0))
    for kind, days, severity in (("drop", checked.drops, "warning"), ("zero", checked.zeros, "critical")):
        level = config.level(f"volume.{kind}", severity)
        for event, judged in checked.judged.items():
            failing = [d for d in days if d.event == event]
            suite.expectations.append(
                ExpectationOutcome(
                    suite=volume.SUITE,
                    expectation_type=volume.EXPECTATION_TYPE,
                    check=f"volume.{kind}",
                    event=event,
                    prop="daily volume",
                    kind=kind,
                    severity=level.severity,
                    tolerated_share=level.tolerated_share,
                    rows=judged,
                    failing=len(failing),
                    examples=[f"{d.day}: {d.count} vs median {d.median:g}" for d in failing[:MAX_EXAMPLES]],
                )
            )
    return suite


def ensure_udfs(db: Database) -> None:
    """On PostgreSQL, the dbt project's parsing functions (installed once with dbt run-operation)."""
    if db.kind != "postgres":
        return
    schema = str(db.target.settings["schema"])
    found = db.value(
        "select count(*) from information_schema.routines where routine_schema = ? "
        "and routine_name in ('onboard_try_timestamp', 'onboard_try_json_object')",
        [schema],
    )
    if found == 2:
        return
    if run_dbt("run-operation", db.target, None, ["install_udfs"], quiet=True) != 0:
        raise UsageError(
            f"could not install the parsing functions in schema {schema}: dbt run-operation failed"
        )


def _validate(validator: Any, suite: Any, outcome: SuiteOutcome, frame: Any, id_column: str) -> None:
    outcome.rows += len(frame)
    for expectation, counts in zip(
        outcome.expectations, validator.validate(suite, frame, id_column), strict=True
    ):
        expectation.rows += len(frame)
        expectation.failing += counts.unexpected_count
        room = MAX_EXAMPLES - len(expectation.examples)
        if room > 0:
            expectation.examples.extend(counts.examples[:room])

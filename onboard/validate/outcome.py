"""What a validation run found: per expectation, per suite and for the whole run.

Per expectation the counts of every chunk are added up; the failing share is the failing
rows over the rows validated by that suite (for an event suite: the usable events of
that name). Outcome per expectation: `pass` (no failing row), `warning` (failing rows
within the tolerated share, i.e. GX's `mostly`, or severity warning), `blocking` (above
it, severity critical). A run with any blocking expectation failed.

Its own module so that the runner, which fills these in, and the Data Docs and summary,
which read them, depend on it and not on each other.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from onboard.validate import volume
from onboard.validate.suites import EVENTS_SUITE


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

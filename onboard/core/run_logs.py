"""The run logs: the names one feature writes and another reads, and how a run row is kept.

`onboard validate` records its runs in validation.validation_runs and `onboard sync` in
sync.sync_runs; the dashboard shows both and the sync gate reads validation's. The names
live here, below every feature, so a reader needs no import of the writer's package (dbt
reads the same tables as sources: models/monitoring/_monitoring__sources.yml).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from onboard.core.db import Database

VALIDATION_SCHEMA = "validation"
VALIDATION_RUNS_TABLE = "validation_runs"

SYNC_SCHEMA = "sync"
SYNC_RUNS_TABLE = "sync_runs"

#: `onboard experiments` writes its readout here; the dashboard reads it
EXPERIMENTS_SCHEMA = "experiments"
EXPERIMENT_RESULTS_TABLE = "experiment_results"
EXPERIMENT_ROI_TABLE = "experiment_roi"


def save_run_row(db: Database, table: str, row: Any) -> None:
    """Insert or update a run row (a dataclass whose fields are the table's columns) by run_id.

    A run writes its row when it starts and again as it goes, so a killed run leaves a row
    that says how far it got.
    """
    db.upsert(table, {field.name: getattr(row, field.name) for field in fields(row)}, ("run_id",))


def mark_interrupted(db: Database, table: str, scope: dict[str, str] | None = None) -> int:
    """Runs left `running` by a killed process become `interrupted` (only those matching every
    column = value of `scope`); how many."""
    where = " and ".join(["status = 'running'", *(f"{column} = ?" for column in scope or {})])
    params = list((scope or {}).values()) or None
    stale = int(db.value(f"select count(*) from {table} where {where}", params) or 0)
    if stale:
        db.execute(f"update {table} set status = 'interrupted' where {where}", params)
    return stale

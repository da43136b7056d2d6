"""The readout's tables: experiments.experiment_results and experiments.experiment_roi.

Each run replaces the rows of the experiments it read (all of them, or the one of
`--experiment`) in one transaction, so the tables hold the latest readout. Declared as dbt
sources for BI in models/monitoring/_monitoring__sources.yml.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from onboard.core.db import Database
from onboard.core.run_logs import EXPERIMENT_RESULTS_TABLE, EXPERIMENT_ROI_TABLE, EXPERIMENTS_SCHEMA
from onboard.experiments.readout import ResultRow
from onboard.experiments.roi import Roi

RESULTS = f"{EXPERIMENTS_SCHEMA}.{EXPERIMENT_RESULTS_TABLE}"
ROI = f"{EXPERIMENTS_SCHEMA}.{EXPERIMENT_ROI_TABLE}"

RESULT_COLUMNS = {
    "experiment": "text not null",
    "arm": "text not null",
    "control_arm": "text not null",
    "metric": "text not null",
    "is_primary": "boolean not null",
    "customers": "bigint not null",
    "units": "bigint not null",
    "value": "double precision",
    "value_ci_low": "double precision",
    "value_ci_high": "double precision",
    "control_value": "double precision",
    "diff": "double precision",
    "diff_ci_low": "double precision",
    "diff_ci_high": "double precision",
    "relative_lift": "double precision",
    "p_value": "double precision",
    "mdd": "double precision",
    "srm_p_value": "double precision",
    "srm_flag": "boolean not null",
    "enough_sample": "boolean not null",
    "verdict": "text",
    "as_of": "timestamp not null",
    "computed_at": "timestamp not null",
}

ROI_COLUMNS = {
    "experiment": "text not null",
    "arm": "text not null",
    "control_arm": "text not null",
    "verdict": "text",
    "new_customers_per_year": "double precision not null",
    "new_customers_basis": "text not null",
    "lift": "double precision",
    "lift_ci_low": "double precision",
    "lift_ci_high": "double precision",
    "arpu": "double precision",
    "arpu_basis": "text not null",
    "csm_hours_per_year": "double precision not null",
    "loaded_hourly_cost": "double precision not null",
    "roi_low": "double precision",
    "roi": "double precision",
    "roi_high": "double precision",
    "is_estimate": "boolean not null",
    "as_of": "timestamp not null",
    "computed_at": "timestamp not null",
}


@dataclass(frozen=True)
class RoiRow:
    """One row of experiments.experiment_roi: an arm over its holdout control."""

    experiment: str
    arm: str
    control_arm: str
    verdict: str | None
    roi: Roi


def _ddl(table: str, columns: dict[str, str]) -> str:
    body = ",\n    ".join(f"{name} {kind}" for name, kind in columns.items())
    return f"create table if not exists {table} (\n    {body}\n)"


def ensure_tables(db: Database) -> None:
    """Create the experiments schema and its two tables if missing."""
    db.execute(f"create schema if not exists {EXPERIMENTS_SCHEMA}")
    db.execute(_ddl(RESULTS, RESULT_COLUMNS))
    db.execute(_ddl(ROI, ROI_COLUMNS))


def clear(db: Database) -> None:
    """Empty both tables when they exist (no experiment is configured any more)."""
    for table in (EXPERIMENT_RESULTS_TABLE, EXPERIMENT_ROI_TABLE):
        if db.table_exists(EXPERIMENTS_SCHEMA, table):
            db.execute(f"delete from {EXPERIMENTS_SCHEMA}.{table}")


def _plain(value: Any) -> Any:
    """numpy scalars as Python values (psycopg2 cannot adapt them)."""
    return value.item() if hasattr(value, "item") else value


def result_values(row: ResultRow, as_of: datetime, computed_at: datetime) -> list[Any]:
    """A result row's values in RESULT_COLUMNS order."""
    values = {**asdict(row), "as_of": as_of, "computed_at": computed_at}
    return [_plain(values[name]) for name in RESULT_COLUMNS]


def roi_values(row: RoiRow, as_of: datetime, computed_at: datetime) -> list[Any]:
    """An ROI row's values in ROI_COLUMNS order."""
    values = {
        "experiment": row.experiment,
        "arm": row.arm,
        "control_arm": row.control_arm,
        "verdict": row.verdict,
        **{field.name: getattr(row.roi, field.name) for field in fields(row.roi)},
        "is_estimate": True,
        "as_of": as_of,
        "computed_at": computed_at,
    }
    return [_plain(values[name]) for name in ROI_COLUMNS]


def save(
    db: Database,
    experiments: Sequence[str],
    results: Sequence[ResultRow],
    rois: Sequence[RoiRow],
    *,
    as_of: datetime,
    computed_at: datetime,
    replace_all: bool,
) -> None:
    """Replace the readout of `experiments` (every row when replace_all) in one transaction."""
    ensure_tables(db)
    names = ", ".join("?" for _ in experiments)
    with db.transaction():
        for table in (RESULTS, ROI):
            if replace_all:
                db.execute(f"delete from {table}")
            elif experiments:
                db.execute(f"delete from {table} where experiment in ({names})", list(experiments))
        db.executemany(
            f"insert into {RESULTS} ({', '.join(RESULT_COLUMNS)}) "
            f"values ({', '.join('?' for _ in RESULT_COLUMNS)})",
            [result_values(row, as_of, computed_at) for row in results],
        )
        db.executemany(
            f"insert into {ROI} ({', '.join(ROI_COLUMNS)}) values ({', '.join('?' for _ in ROI_COLUMNS)})",
            [roi_values(row, as_of, computed_at) for row in rois],
        )

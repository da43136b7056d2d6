"""Read what the dashboard plots from a target: the marts, and the run logs when they exist."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd

from onboard.core.errors import UsageError
from onboard.core.targets import Target
from onboard.core.warehouse import connect
from onboard.dashboard.queries import (
    EXPERIMENT_RESULTS,
    EXPERIMENT_ROI,
    MARTS,
    REPORTING_MODELS,
    SYNC_RUNS,
    VALIDATION_RUNS,
    TableQuery,
    checkpoint_columns,
    columns_sql,
    mart_queries,
    reporting_schema,
    tables_sql,
)
from onboard.dashboard.settings import ReportSettings


@dataclass(frozen=True)
class ReportData:
    """The frames the report is drawn from; a run log is None when its table does not exist.

    `marts` holds the marts and the reporting models, by model name.
    """

    marts: dict[str, pd.DataFrame]
    validation_runs: pd.DataFrame | None
    sync_runs: pd.DataFrame | None
    #: onboard experiments' readout and ROI (None when no readout has run)
    experiment_results: pd.DataFrame | None = None
    experiment_roi: pd.DataFrame | None = None

    @property
    def rows_read(self) -> dict[str, int]:
        """Rows read per table (models by name, run logs as schema.table)."""
        counts = {name: len(frame) for name, frame in self.marts.items()}
        for query, frame in ((VALIDATION_RUNS, self.validation_runs), (SYNC_RUNS, self.sync_runs)):
            if frame is not None:
                counts[query.name] = len(frame)
        return counts


def mart_schema(target: Target) -> str:
    """Where dbt builds the marts: the target's schema (main on DuckDB, $PGSCHEMA on PostgreSQL)."""
    return str(target.settings["schema"])


def _frame(cursor: Any, query: TableQuery) -> pd.DataFrame:
    """The rows of query as a frame; PostgreSQL's numeric (Decimal) columns become floats."""
    cursor.execute(query.sql)
    frame = pd.DataFrame.from_records(cursor.fetchall(), columns=list(query.columns))
    for column in frame.columns:
        if frame[column].dtype == object and frame[column].map(_is_decimal).any():
            frame[column] = frame[column].astype("float64")
    return frame


def _is_decimal(value: object) -> bool:
    return isinstance(value, Decimal)


def _existing_tables(cursor: Any, schemas: tuple[str, ...]) -> set[tuple[str, str]]:
    cursor.execute(tables_sql(schemas))
    return {(str(schema), str(table)) for schema, table in cursor.fetchall()}


def _columns(cursor: Any, schema: str, table: str) -> list[str]:
    cursor.execute(columns_sql(schema, table))
    return [str(name) for (name,) in cursor.fetchall()]


def read_report_data(target: Target, settings: ReportSettings) -> ReportData:
    """Every mart and reporting model the dashboard needs, plus the run logs when they exist.

    Raises UsageError when the warehouse, a mart or a reporting model is missing: the build
    has not run (or ran before the model existed).
    """
    if target.type == "duckdb" and not target.duckdb_path.exists():
        raise UsageError(f"no warehouse at {target.duckdb_path}: run `onboard demo` or `onboard build`")
    schema = mart_schema(target)
    reporting = reporting_schema(schema)
    with connect(target, read_only=True) as connection:
        cursor = connection.cursor()
        existing = _existing_tables(
            cursor, (schema, reporting, VALIDATION_RUNS.schema, SYNC_RUNS.schema, EXPERIMENT_RESULTS.schema)
        )
        missing = [
            f"{', '.join(absent)} in schema {where}"
            for where, models in ((schema, MARTS), (reporting, REPORTING_MODELS))
            if (absent := [name for name in models if (where, name) not in existing])
        ]
        if missing:
            raise UsageError(f"{target.describe()} has no {'; no '.join(missing)}: run `onboard build` first")
        states = checkpoint_columns(_columns(cursor, schema, "path_metrics"))
        marts = {
            name: _frame(cursor, query) for name, query in mart_queries(schema, settings, states).items()
        }
        optional = {
            query.table: _frame(cursor, query) if (query.schema, query.table) in existing else None
            for query in (VALIDATION_RUNS, SYNC_RUNS, EXPERIMENT_RESULTS, EXPERIMENT_ROI)
        }
    return ReportData(
        marts,
        optional[VALIDATION_RUNS.table],
        optional[SYNC_RUNS.table],
        optional[EXPERIMENT_RESULTS.table],
        optional[EXPERIMENT_ROI.table],
    )

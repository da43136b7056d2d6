"""`run_readout`: read the experiments' customers, compute the readout and ROI, write the tables.

The experiments come from var `experiments` (onboard.core.project_config.read_experiments,
with the overrides a build was given); the ROI settings from var `experiment_roi`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from onboard.core.db import database
from onboard.core.errors import UsageError
from onboard.core.project_config import ExperimentConfig, dbt_vars_as, read_experiments
from onboard.core.targets import Target
from onboard.experiments import source, store
from onboard.experiments.readout import PRIMARY_METRIC, Design, ResultRow, readout
from onboard.experiments.roi import Roi, RoiSettings, RoiVars, arpu, roi, yearly_signups


@dataclass(frozen=True)
class ReadoutResult:
    """What one `onboard experiments` computed and wrote."""

    designs: tuple[Design, ...]
    results: tuple[ResultRow, ...]
    rois: tuple[store.RoiRow, ...]
    as_of: datetime | None = None
    computed_at: datetime | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def configured(self) -> bool:
        return bool(self.designs)


def select_experiments(experiments: Sequence[ExperimentConfig], only: str | None) -> list[ExperimentConfig]:
    """Every configured experiment, or the one named; UsageError for a name not configured."""
    if only is None:
        return list(experiments)
    chosen = [experiment for experiment in experiments if experiment.name == only]
    if not chosen:
        known = ", ".join(experiment.name for experiment in experiments) or "none is configured"
        raise UsageError(f"--experiment {only}: no such experiment in var experiments ({known})")
    return chosen


def roi_rows(
    design: Design, results: Sequence[ResultRow], signups: Any, revenue: Any, settings: RoiSettings
) -> list[store.RoiRow]:
    """One ROI row per non-control arm when the control is a holdout arm (automation vs none)."""
    if design.control not in design.holdout_arms:
        return []
    rows = []
    for row in results:
        if row.experiment != design.name or row.metric != PRIMARY_METRIC or row.arm == design.control:
            continue
        estimate: Roi = roi(signups, revenue, settings, row.diff, row.diff_ci_low, row.diff_ci_high)
        rows.append(store.RoiRow(design.name, row.arm, design.control, row.verdict, estimate))
    return rows


def run_readout(
    target: Target,
    *,
    only: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> ReadoutResult:
    """Compute and write the readout of every configured experiment (or `only`)."""
    configured = read_experiments(overrides=overrides)
    chosen = select_experiments(configured, only)
    if not chosen:
        if target.type != "duckdb" or target.duckdb_path.exists():
            with database(target) as db:
                store.clear(db)  # a readout of experiments no longer configured is not current
        return ReadoutResult((), (), (), notes=("no experiment configured (var experiments is empty)",))
    settings = dbt_vars_as(RoiVars, overrides=overrides).experiment_roi
    designs = tuple(Design.of(experiment) for experiment in chosen)
    computed_at = (now or datetime.now(UTC)).replace(tzinfo=None)
    with database(target) as db:
        source.check_built(db)
        as_of = source.built_as_of(db)
        frame = source.customer_rows(db, [design.name for design in designs])
        inputs = source.roi_inputs(db, as_of)
        signups = yearly_signups(inputs.customers, inputs.last_365_days, inputs.first_signup_at, as_of)
        revenue = arpu(settings, inputs.mean_arr_of_activated)
        results: list[ResultRow] = []
        rois: list[store.RoiRow] = []
        notes: list[str] = []
        for design in designs:
            rows = readout(design, frame[frame["experiment"] == design.name])
            if not any(row.customers for row in rows):
                notes.append(f"{design.name}: no customer assigned yet (experiment_assignments has none)")
            results.extend(rows)
            rois.extend(roi_rows(design, rows, signups, revenue, settings))
        store.save(
            db,
            [design.name for design in designs],
            results,
            rois,
            as_of=as_of,
            computed_at=computed_at,
            replace_all=only is None,
        )
    return ReadoutResult(designs, tuple(results), tuple(rois), as_of, computed_at, tuple(notes))

"""The readout of one experiment from its per-customer rows: one row per arm x metric.

Pure: a pandas frame of the experiment's assigned customers in, result rows out
(docs/definitions.md#experiments-readout). The frame has one row per assigned customer:

    arm, age_hours, activated_within_7d, activated_within_14d, is_stalled,
    time_to_value_hours, support_tickets_14d

Metrics, each over the arm's customers (docs/definitions.md#experiment-metrics):
`activated_within_14d` (primary) and `activated_within_7d` over the customers matured for the
window; `stalled` over every assigned customer; `support_tickets_per_100_14d`, a mean over
the matured-14d customers (Welch); `median_time_to_value_hours` (value only).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from onboard.experiments import stats

PRIMARY_METRIC = "activated_within_14d"
METRICS = (
    "activated_within_14d",
    "activated_within_7d",
    "stalled",
    "support_tickets_per_100_14d",
    "median_time_to_value_hours",
)
#: the window of each windowed metric, in days (matured: age_hours >= days x 24, docs/definitions.md#matured)
WINDOW_DAYS = {
    "activated_within_14d": 14,
    "activated_within_7d": 7,
    "support_tickets_per_100_14d": 14,
}
FRAME_COLUMNS = (
    "arm",
    "age_hours",
    "activated_within_7d",
    "activated_within_14d",
    "is_stalled",
    "time_to_value_hours",
    "support_tickets_14d",
)


class ArmConfig(Protocol):
    """An arm as the experiments var configures it."""

    @property
    def name(self) -> str: ...

    @property
    def weight(self) -> float: ...


class ExperimentLike(Protocol):
    """An experiment as the experiments var configures it (onboard.core.project_config)."""

    @property
    def name(self) -> str: ...

    @property
    def control(self) -> str: ...

    @property
    def arms(self) -> Sequence[Any]: ...

    @property
    def min_customers_per_arm(self) -> int: ...


@dataclass(frozen=True)
class Design:
    """What the readout needs of an experiment: its arms in order, weights, control, minimum sample."""

    name: str
    control: str
    arms: tuple[tuple[str, float], ...]  # (name, weight) in config order
    min_customers_per_arm: int
    holdout_arms: tuple[str, ...] = ()

    @classmethod
    def of(cls, experiment: ExperimentLike) -> Design:
        """The design of a configured experiment."""
        return cls(
            name=experiment.name,
            control=experiment.control,
            arms=tuple((arm.name, float(arm.weight)) for arm in experiment.arms),
            min_customers_per_arm=int(experiment.min_customers_per_arm),
            holdout_arms=tuple(arm.name for arm in experiment.arms if getattr(arm, "holdout", False)),
        )

    @property
    def arm_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.arms)

    @property
    def weights(self) -> tuple[float, ...]:
        return tuple(weight for _, weight in self.arms)


@dataclass(frozen=True)
class ResultRow:
    """One row of experiments.experiment_results (without as_of and computed_at)."""

    experiment: str
    arm: str
    control_arm: str
    metric: str
    is_primary: bool
    customers: int
    units: int
    value: float | None
    value_ci_low: float | None
    value_ci_high: float | None
    control_value: float | None
    diff: float | None
    diff_ci_low: float | None
    diff_ci_high: float | None
    relative_lift: float | None
    p_value: float | None
    mdd: float | None
    srm_p_value: float | None
    srm_flag: bool
    enough_sample: bool
    verdict: str | None


@dataclass(frozen=True)
class ArmFigures:
    """One arm's per-customer values for each metric."""

    customers: int
    matured: dict[int, pd.DataFrame]  # window days -> the matured customers' rows
    frame: pd.DataFrame


def _arm_figures(frame: pd.DataFrame) -> ArmFigures:
    windows = sorted(set(WINDOW_DAYS.values()))
    return ArmFigures(
        customers=len(frame),
        matured={days: frame[frame["age_hours"] >= days * 24] for days in windows},
        frame=frame,
    )


def _units_and_values(metric: str, arm: ArmFigures) -> tuple[int, np.ndarray]:
    """The metric's denominator and its per-unit values (0/1 for a rate)."""
    if metric in ("activated_within_14d", "activated_within_7d"):
        rows = arm.matured[WINDOW_DAYS[metric]]
        return len(rows), rows[metric].astype(bool).to_numpy(dtype=np.int64)
    if metric == "stalled":
        return arm.customers, arm.frame["is_stalled"].astype(bool).to_numpy(dtype=np.int64)
    if metric == "support_tickets_per_100_14d":
        rows = arm.matured[WINDOW_DAYS[metric]]
        return len(rows), rows["support_tickets_14d"].to_numpy(dtype=np.float64) * 100.0
    values = arm.frame["time_to_value_hours"].dropna().to_numpy(dtype=np.float64)
    return len(values), values


def _value(metric: str, values: np.ndarray) -> float | None:
    if metric == "median_time_to_value_hours":
        return stats.median(values)
    return float(values.mean()) if len(values) else None


def _interval(metric: str, values: np.ndarray) -> tuple[float | None, float | None]:
    """The 95 % interval of the arm's own value: Wilson for a rate, t for a mean, none for a median."""
    if metric == "median_time_to_value_hours":
        return None, None
    if metric == "support_tickets_per_100_14d":
        return stats.mean_interval(values)
    return stats.rate_interval(int(values.sum()), len(values))


def _compare(metric: str, values: np.ndarray, control: np.ndarray) -> stats.Comparison:
    if metric == "median_time_to_value_hours":
        return stats.Comparison()
    if metric == "support_tickets_per_100_14d":
        return stats.compare_means(values, control)
    return stats.compare_rates(int(values.sum()), len(values), int(control.sum()), len(control))


def enough_sample(design: Design, arms: dict[str, ArmFigures]) -> bool:
    """Every arm has at least min_customers_per_arm customers matured for the primary window."""
    days = WINDOW_DAYS[PRIMARY_METRIC]
    return all(len(arms[name].matured[days]) >= design.min_customers_per_arm for name in design.arm_names)


def readout(design: Design, frame: pd.DataFrame) -> list[ResultRow]:
    """Every arm x metric row of one experiment; the control's rows carry null comparisons."""
    missing = [column for column in FRAME_COLUMNS if column not in frame.columns]
    if missing:
        raise ValueError(f"per-customer frame lacks {', '.join(missing)}")
    arms = {name: _arm_figures(frame[frame["arm"] == name]) for name in design.arm_names}
    srm_p = stats.srm_p_value([arms[name].customers for name in design.arm_names], design.weights)
    flag = stats.srm_flag(srm_p)
    enough = enough_sample(design, arms)
    rows: list[ResultRow] = []
    for metric in METRICS:
        _, control_values = _units_and_values(metric, arms[design.control])
        control_value = _value(metric, control_values)
        for name in design.arm_names:
            units, values = _units_and_values(metric, arms[name])
            is_control = name == design.control
            comparison = stats.Comparison() if is_control else _compare(metric, values, control_values)
            value_low, value_high = _interval(metric, values)
            rows.append(
                ResultRow(
                    experiment=design.name,
                    arm=name,
                    control_arm=design.control,
                    metric=metric,
                    is_primary=metric == PRIMARY_METRIC,
                    customers=arms[name].customers,
                    units=units,
                    value=_value(metric, values),
                    value_ci_low=value_low,
                    value_ci_high=value_high,
                    control_value=control_value,
                    diff=comparison.diff,
                    diff_ci_low=comparison.ci_low,
                    diff_ci_high=comparison.ci_high,
                    relative_lift=_relative(comparison.diff, control_value),
                    p_value=comparison.p_value,
                    mdd=comparison.mdd,
                    srm_p_value=srm_p,
                    srm_flag=flag,
                    enough_sample=enough,
                    verdict=(
                        stats.verdict(enough_sample=enough, srm=flag, comparison=comparison)
                        if metric == PRIMARY_METRIC and not is_control
                        else None
                    ),
                )
            )
    return rows


def _relative(diff: float | None, control_value: float | None) -> float | None:
    if diff is None or not control_value:
        return None
    return diff / control_value


def primary_rows(rows: Iterable[ResultRow]) -> list[ResultRow]:
    """The primary metric's rows, control first then the arms in order."""
    return [row for row in rows if row.is_primary]

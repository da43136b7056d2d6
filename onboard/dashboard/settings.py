"""The dbt vars the report reads, from dbt_project.yml: the same values the build used by default."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from onboard.core.paths import DBT_PROJECT_FILE


@dataclass(frozen=True)
class ReportSettings:
    """Vars of dbt_project.yml that shape the charts and the notes beside them."""

    tracks: tuple[str, ...]
    activation_windows_days: tuple[int, ...]
    routing_accuracy_threshold: float
    imbalance_min_cohort_size: int
    stall_threshold_hours: int
    checkpoint_day: int
    risk_window_days: int


def parse_settings(project: dict) -> ReportSettings:
    """ReportSettings from a parsed dbt_project.yml."""
    variables = project.get("vars") or {}
    return ReportSettings(
        tracks=tuple(str(track) for track in variables["tracks"]),
        activation_windows_days=tuple(int(days) for days in variables["activation_windows_days"]),
        routing_accuracy_threshold=float(variables["routing_accuracy_threshold"]),
        imbalance_min_cohort_size=int(variables["imbalance_min_cohort_size"]),
        stall_threshold_hours=int(variables["stall_threshold_hours"]),
        checkpoint_day=int(variables["checkpoint_day"]),
        risk_window_days=int(variables["risk_window_days"]),
    )


def load_settings(path: Path = DBT_PROJECT_FILE) -> ReportSettings:
    """ReportSettings from the project's dbt_project.yml."""
    with path.open() as handle:
        return parse_settings(yaml.safe_load(handle))

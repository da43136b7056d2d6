"""The dbt vars the report reads, from dbt_project.yml: the same values the build used by default.

Read through the project's one configuration reader (onboard/core/project_config.py), so a
wrong var is reported as `dbt_project.yml:line: vars.key: expected ..., got ...`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field

from onboard.core.paths import DBT_PROJECT_FILE
from onboard.core.project_config import ConfigModel, dbt_vars_as

Days = Annotated[int, Field(ge=1)]


class ReportSettings(ConfigModel):
    """Vars of dbt_project.yml that shape the charts and the notes beside them."""

    tracks: tuple[str, ...] = Field(min_length=1)
    activation_windows_days: tuple[Days, ...] = Field(min_length=1)
    routing_accuracy_threshold: float = Field(ge=0, le=1)
    imbalance_min_cohort_size: int = Field(ge=0)
    stall_threshold_hours: int = Field(ge=0)
    checkpoint_day: Days
    risk_window_days: Days
    #: customers this old count in score_vs_expansion; its later tier is as of this day
    expansion_window_days: Days
    #: checkpoint_state's names by role (before the checkpoint, activated, in recovery, after
    #: the last cycle, exited); the states themselves are path_metrics' customers_<state> columns
    checkpoint_states: tuple[str, str, str, str, str]
    #: risk_action by churn_risk_score bound, and the action below every bound
    risk_action_thresholds: dict[str, float]
    default_risk_action: str


def load_settings(path: Path = DBT_PROJECT_FILE) -> ReportSettings:
    """ReportSettings from the vars of a dbt_project.yml (the project's by default)."""
    return dbt_vars_as(ReportSettings, path)

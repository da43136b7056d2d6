"""Every SQL statement of the report, in one place: plain selects that DuckDB and PostgreSQL both run.

No aggregation and no rule: what the dashboard plots is computed by dbt (the marts, and the
reporting models of models/reporting/) and `shape` only orders and types it. Schema, table
and column names come from the project (profiles.yml schema, dbt vars, the columns a build
gave path_metrics), never from user input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from onboard.core.run_logs import (
    EXPERIMENT_RESULTS_TABLE,
    EXPERIMENT_ROI_TABLE,
    EXPERIMENTS_SCHEMA,
    SYNC_SCHEMA,
    VALIDATION_SCHEMA,
)
from onboard.dashboard.settings import ReportSettings

#: Marts the dashboard needs: without any of them there is no report.
MARTS = (
    "path_metrics",
    "cohort_routing_report",
    "onboarding_customers",
    "stall_alerts",
    "routing_accuracy",
    "milestone_funnel",
    "adoption_velocity",
    "score_vs_expansion",
)
#: Reporting models the dashboard needs (models/reporting/, built into <schema>_reporting).
REPORTING_MODELS = ("activation_by_cohort", "calls_today")
REPORTING_SCHEMA_SUFFIX = "_reporting"
#: path_metrics' checkpoint-state counts are its columns customers_<state>, in lifecycle order.
CHECKPOINT_PREFIX = "customers_"


@dataclass(frozen=True)
class TableQuery:
    """A plain select of some columns of one table."""

    schema: str
    table: str
    columns: tuple[str, ...]
    order_by: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """schema.table"""
        return f"{self.schema}.{self.table}"

    @property
    def sql(self) -> str:
        """The select statement."""
        select = f"select {', '.join(self.columns)} from {self.name}"
        return f"{select} order by {', '.join(self.order_by)}" if self.order_by else select


def reporting_schema(schema: str) -> str:
    """Where dbt builds models/reporting/: the marts' schema with the `reporting` suffix."""
    return f"{schema}{REPORTING_SCHEMA_SUFFIX}"


def checkpoint_columns(path_metrics_columns: Sequence[str]) -> tuple[str, ...]:
    """path_metrics' checkpoint-state columns, in column order (the states' lifecycle order)."""
    return tuple(column for column in path_metrics_columns if column.startswith(CHECKPOINT_PREFIX))


def mart_queries(
    schema: str, settings: ReportSettings, state_columns: Sequence[str]
) -> dict[str, TableQuery]:
    """The select of every mart and reporting model the dashboard reads, by model name.

    state_columns: path_metrics' customers_<state> columns, as the build made them.
    """
    return {
        "path_metrics": TableQuery(
            schema,
            "path_metrics",
            (
                "track",
                "is_all_tracks",
                "customers",
                *(
                    column
                    for days in settings.activation_windows_days
                    for column in (f"matured_{days}d", f"activation_rate_{days}d")
                ),
                "median_time_to_value_hours",
                "p75_time_to_value_hours",
                "p90_time_to_value_hours",
                "stalled_customers",
                "stall_rate",
                *state_columns,
            ),
            ("track",),
        ),
        "cohort_routing_report": TableQuery(
            schema,
            "cohort_routing_report",
            (
                "signup_cohort_week",
                "track",
                "customers",
                "cohort_customers",
                "share",
                "expected_min_share",
                "expected_max_share",
                "is_imbalanced",
            ),
            ("signup_cohort_week", "track"),
        ),
        "onboarding_customers": TableQuery(
            schema,
            "onboarding_customers",
            ("signup_at", "age_hours", "track", "churn_risk_score", "risk_action"),
        ),
        "stall_alerts": TableQuery(
            schema,
            "stall_alerts",
            ("alert_rank", "stall_severity", "stall_step", "milestones_missing", "track"),
            ("alert_rank",),
        ),
        "routing_accuracy": TableQuery(
            schema,
            "routing_accuracy",
            ("audit_month", "audited", "agreed", "accuracy", "below_threshold"),
            ("audit_month",),
        ),
        "milestone_funnel": TableQuery(
            schema,
            "milestone_funnel",
            (
                "track",
                "milestone",
                "step",
                "customers",
                "reached",
                "reach_rate",
                "median_hours_from_previous_step",
                "reached_previous_step",
                "drop_off_from_previous_step",
            ),
            ("track", "step"),
        ),
        "adoption_velocity": TableQuery(
            schema,
            "adoption_velocity",
            (
                "signup_cohort_week",
                "track",
                f"matured_{max(settings.activation_windows_days)}d",
                f"milestones_within_{max(settings.activation_windows_days)}d_mean",
            ),
            ("signup_cohort_week", "track"),
        ),
        "score_vs_expansion": TableQuery(
            schema,
            "score_vs_expansion",
            (
                "track",
                "score_band",
                "band_order",
                "min_score",
                "customers",
                "expanded",
                "expansion_rate",
                "contracted_rate",
                "churned_rate",
            ),
            ("track", "band_order"),
        ),
        "activation_by_cohort": TableQuery(
            reporting_schema(schema),
            "activation_by_cohort",
            (
                "window_days",
                "track",
                "signup_cohort_week",
                "matured_customers",
                "activated_customers",
                "activation_rate",
            ),
            ("window_days", "track", "signup_cohort_week"),
        ),
        "calls_today": TableQuery(
            reporting_schema(schema),
            "calls_today",
            (
                "call_rank",
                "reason",
                "customer_id",
                "company_name",
                "arr",
                "csm_owner",
                "detail",
                "days_stalled",
                "recovery_subject",
            ),
            ("call_rank",),
        ),
    }


#: onboard validate's run log; absent until a validation has run.
VALIDATION_RUNS = TableQuery(
    VALIDATION_SCHEMA,
    "validation_runs",
    ("run_id", "started_at", "rows_validated", "expectations_failed", "expectations_warned", "status"),
    ("started_at", "run_id"),
)

#: onboard sync's run log; absent until a sync has run.
SYNC_RUNS = TableQuery(
    SYNC_SCHEMA,
    "sync_runs",
    (
        "run_id",
        "destination",
        "started_at",
        "planned",
        "sent",
        "succeeded",
        "failed",
        "skipped_unchanged",
        "status",
        "forced",
        "dry_run",
    ),
    ("destination", "started_at", "run_id"),
)

#: onboard experiments' readout, primary metric only; absent until a readout has run.
EXPERIMENT_RESULTS = TableQuery(
    EXPERIMENTS_SCHEMA,
    EXPERIMENT_RESULTS_TABLE,
    (
        "experiment",
        "arm",
        "control_arm",
        "metric",
        "is_primary",
        "customers",
        "units",
        "value",
        "value_ci_low",
        "value_ci_high",
        "diff",
        "diff_ci_low",
        "diff_ci_high",
        "p_value",
        "mdd",
        "srm_p_value",
        "srm_flag",
        "enough_sample",
        "verdict",
        "as_of",
    ),
    ("experiment", "metric", "arm"),
)

#: onboard experiments' ROI estimates; absent until a readout has run.
EXPERIMENT_ROI = TableQuery(
    EXPERIMENTS_SCHEMA,
    EXPERIMENT_ROI_TABLE,
    (
        "experiment",
        "arm",
        "control_arm",
        "verdict",
        "new_customers_per_year",
        "new_customers_basis",
        "lift",
        "arpu",
        "arpu_basis",
        "csm_hours_per_year",
        "loaded_hourly_cost",
        "roi_low",
        "roi",
        "roi_high",
    ),
    ("experiment", "arm"),
)


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(f"'{name}'" for name in names)


def tables_sql(schemas: tuple[str, ...]) -> str:
    """The (schema, table) of every table and view in the given schemas."""
    return (
        "select table_schema, table_name from information_schema.tables "
        f"where table_schema in ({_quoted(schemas)})"
    )


def columns_sql(schema: str, table: str) -> str:
    """The column names of one table, in column order."""
    return (
        "select column_name from information_schema.columns "
        f"where table_schema = '{schema}' and table_name = '{table}' order by ordinal_position"
    )

"""Every SQL statement of the report, in one place: plain selects that DuckDB and PostgreSQL both run.

No aggregation, no dialect: the report reads the columns it plots and `shape` aggregates
them in pandas. Schema and column names come from the project (profiles.yml schema, dbt
vars), never from user input.
"""

from __future__ import annotations

from dataclasses import dataclass

from onboard.dashboard.settings import ReportSettings
from onboard.validate.runs import SCHEMA as VALIDATION_SCHEMA

#: Marts the dashboard needs: without any of them there is no report.
MARTS = ("path_metrics", "cohort_routing_report", "onboarding_customers", "stall_alerts", "routing_accuracy")

SYNC_SCHEMA = "sync"


@dataclass(frozen=True)
class TableQuery:
    """A plain select of some columns of one table."""

    schema: str
    table: str
    columns: tuple[str, ...]
    order_by: tuple[str, ...] = ()

    @property
    def sql(self) -> str:
        """The select statement."""
        select = f"select {', '.join(self.columns)} from {self.schema}.{self.table}"
        return f"{select} order by {', '.join(self.order_by)}" if self.order_by else select


def mart_queries(schema: str, settings: ReportSettings) -> dict[str, TableQuery]:
    """The select of every mart the dashboard reads, by mart name."""
    activation_flags = tuple(f"activated_within_{days}d" for days in settings.activation_windows_days)
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
                "customers_onboarding",
                "customers_activated",
                "customers_recovery_1",
                "customers_recovery_2",
                "customers_win_back",
                "customers_exited",
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
            (
                "signup_at",
                "age_hours",
                "signup_cohort_week",
                "track",
                *activation_flags,
                "churn_risk_score",
                "risk_action",
            ),
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
    }


#: onboard validate's run log (onboard/validate/runs.py); absent until a validation has run.
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


def tables_sql(schemas: tuple[str, ...]) -> str:
    """The (schema, table) of every table and view in the given schemas."""
    quoted = ", ".join(f"'{schema}'" for schema in schemas)
    return f"select table_schema, table_name from information_schema.tables where table_schema in ({quoted})"

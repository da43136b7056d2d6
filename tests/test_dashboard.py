"""`onboard report`: the data shaping (exact values), the page, and the dashboard in headless Chromium.

The browser tests open the rendered file in Debian's chromium through chromedriver (no
selenium-manager, no network: every host name fails to resolve), fail on any console
error, and count the marks Plotly drew in each chart against counts taken from the
warehouse with SQL.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

from onboard.core.as_of import dbt_as_of
from onboard.core.errors import UsageError
from onboard.core.project_config import ConfigError
from onboard.core.targets import Target, resolve_target
from onboard.dashboard import ReportResult, render_report, shape
from onboard.dashboard.charts import (
    BAD_COLOR,
    CALL_COLUMNS,
    IMBALANCED_COLOR,
    call_cells,
    checkpoint_colors,
    risk_action_colors,
)
from onboard.dashboard.panels import build_panels
from onboard.dashboard.queries import SYNC_RUNS, checkpoint_columns, columns_sql, mart_queries, tables_sql
from onboard.dashboard.read import ReportData, read_report_data
from onboard.dashboard.settings import ReportSettings, load_settings
from onboard.generate import GenerateOptions, generate
from onboard.load import load
from onboard.validate.runs import CREATE_SQL as VALIDATION_RUNS_DDL

from .conftest import query, run_onboard
from .postgres import dbt_build, require_server, sandbox

AS_OF = datetime(2026, 3, 16, 12, tzinfo=UTC)
CUSTOMERS = 500
GENERATED_AT = datetime(2026, 3, 16, 13, 30, tzinfo=UTC)
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
VIEWPORT = (1366, 900)
#: Set to a path (docs/dashboard.png) to write the docs' screenshot from the demo warehouse.
DEMO_SCREENSHOT_ENV = "ONBOARD_DASHBOARD_PNG"
SETTINGS = ReportSettings(
    tracks=("high_touch", "standard", "self_serve"),
    activation_windows_days=(7, 14),
    routing_accuracy_threshold=0.9,
    imbalance_min_cohort_size=20,
    stall_threshold_hours=48,
    checkpoint_day=14,
    risk_window_days=60,
    expansion_window_days=60,
    checkpoint_states=("onboarding", "activated", "recovery", "win_back", "exited"),
    risk_action_thresholds={"emergency_outreach": 0.7, "automated_nudge": 0.4},
    default_risk_action="normal_onboarding",
)
#: path_metrics' checkpoint-state columns as the default vars build them
STATE_COLUMNS = (
    "customers_onboarding",
    "customers_activated",
    "customers_recovery_1",
    "customers_recovery_2",
    "customers_win_back",
    "customers_exited",
)


def _target(path: Path) -> Target:
    return Target("duckdb", "duckdb", {"type": "duckdb", "path": str(path), "schema": "main"})


# --- settings and SQL -------------------------------------------------------------------------


PROJECT_VARS = """\
name: p
vars:
  as_of: null
  tracks: [a, b]
  activation_windows_days: [3, 30]
  routing_accuracy_threshold: 0.85
  imbalance_min_cohort_size: 10
  stall_threshold_hours: 24
  checkpoint_day: 21
  risk_window_days: 90
  expansion_window_days: 45
  checkpoint_states: [new, done, retry, lost, gone]
  risk_action_thresholds: {call: 0.5}
  default_risk_action: wait
"""


def test_settings_are_read_from_the_dbt_vars(tmp_path: Path):
    project = tmp_path / "dbt_project.yml"
    project.write_text(PROJECT_VARS)
    assert load_settings(project) == ReportSettings(
        tracks=("a", "b"),
        activation_windows_days=(3, 30),
        routing_accuracy_threshold=0.85,
        imbalance_min_cohort_size=10,
        stall_threshold_hours=24,
        checkpoint_day=21,
        risk_window_days=90,
        expansion_window_days=45,
        checkpoint_states=("new", "done", "retry", "lost", "gone"),
        risk_action_thresholds={"call": 0.5},
        default_risk_action="wait",
    )
    assert load_settings() == SETTINGS


def test_a_wrong_var_is_named_with_its_file_and_line(tmp_path: Path):
    project = tmp_path / "dbt_project.yml"
    project.write_text(PROJECT_VARS.replace("[3, 30]", "[3, 0]"))
    with pytest.raises(ConfigError) as caught:
        load_settings(project)
    assert str(caught.value).startswith(f"{project}:5: vars.activation_windows_days.1: expected ")
    assert str(caught.value).endswith(", got 0")


def test_report_sql_is_plain_selects_of_named_columns():
    queries = mart_queries("analytics", SETTINGS, STATE_COLUMNS)
    assert queries["routing_accuracy"].sql == (
        "select audit_month, audited, agreed, accuracy, below_threshold "
        "from analytics.routing_accuracy order by audit_month"
    )
    assert queries["onboarding_customers"].sql == (
        "select signup_at, age_hours, track, churn_risk_score, risk_action from analytics.onboarding_customers"
    )
    assert queries["activation_by_cohort"].sql == (
        "select window_days, track, signup_cohort_week, matured_customers, activated_customers, "
        "activation_rate from analytics_reporting.activation_by_cohort "
        "order by window_days, track, signup_cohort_week"
    )
    assert queries["calls_today"].sql == (
        "select call_rank, reason, customer_id, company_name, arr, csm_owner, detail, days_stalled, "
        "recovery_subject from analytics_reporting.calls_today order by call_rank"
    )
    assert queries["path_metrics"].columns[-len(STATE_COLUMNS) :] == STATE_COLUMNS
    assert SYNC_RUNS.sql == (
        "select run_id, destination, started_at, planned, sent, succeeded, failed, skipped_unchanged, "
        "status, forced, dry_run from sync.sync_runs order by destination, started_at, run_id"
    )
    assert tables_sql(("main", "sync")) == (
        "select table_schema, table_name from information_schema.tables where table_schema in ('main', 'sync')"
    )
    assert columns_sql("main", "path_metrics") == (
        "select column_name from information_schema.columns "
        "where table_schema = 'main' and table_name = 'path_metrics' order by ordinal_position"
    )


def test_checkpoint_states_are_the_customers_columns_of_path_metrics_in_order():
    columns = ["track", "customers", "matured_7d", *STATE_COLUMNS, "is_all_tracks"]
    assert checkpoint_columns(columns) == STATE_COLUMNS


def test_checkpoint_colours_follow_the_vars_roles_and_any_number_of_cycles():
    default = checkpoint_colors(
        [column.removeprefix("customers_") for column in STATE_COLUMNS], SETTINGS.checkpoint_states
    )
    assert default == {
        "onboarding": "#6baed6",
        "activated": "#2ca02c",
        "recovery_1": "#fdae6b",
        "recovery_2": "#f16913",
        "win_back": "#d62728",
        "exited": "#969696",
    }
    renamed = checkpoint_colors(
        ["new", "done", "retry_1", "retry_2", "retry_3", "lost", "gone"],
        ("new", "done", "retry", "lost", "gone"),
    )
    assert [renamed[state] for state in ("new", "done", "lost", "gone")] == [
        default[state] for state in ("onboarding", "activated", "win_back", "exited")
    ]
    assert [renamed[f"retry_{n}"] for n in (1, 2)] == [default["recovery_1"], default["recovery_2"]]
    assert len({renamed[f"retry_{n}"] for n in (1, 2, 3)}) == 3


def test_risk_action_colours_go_from_the_highest_bound_down_to_the_default():
    assert risk_action_colors(SETTINGS.risk_action_thresholds, SETTINGS.default_risk_action) == {
        "emergency_outreach": "#d62728",
        "automated_nudge": "#ff9f1c",
        "normal_onboarding": "#2ca02c",
    }
    assert list(risk_action_colors({"low": 0.2, "high": 0.9}, "none")) == ["high", "low", "none"]


# --- pure shaping: exact values -----------------------------------------------------------------


def test_ordered_puts_the_configured_values_first_then_the_others_sorted():
    values = ["standard", "zeta", "high_touch", "alpha", "standard"]
    assert shape.ordered(values, SETTINGS.tracks) == ["high_touch", "standard", "alpha", "zeta"]


def test_as_of_is_signup_plus_age_rounded_to_the_second():
    customers = pd.DataFrame(
        {
            "signup_at": [datetime(2026, 3, 1, 12), datetime(2026, 3, 10, 0, 30)],
            "age_hours": [360.0, 155.5 - 1e-7],
        }
    )
    assert shape.derive_as_of(customers) == datetime(2026, 3, 16, 12)
    assert shape.derive_as_of(customers.iloc[0:0]) is None


def test_activation_by_cohort_orders_the_models_rows_by_window_track_and_week():
    """Which customers count (matured only) is the model's: its dbt unit tests hold that rule."""
    week_1, week_2 = date(2026, 3, 2), date(2026, 3, 9)
    rows = pd.DataFrame(
        {
            "window_days": [14, 7, 7, 7],
            "track": ["standard", "standard", "high_touch", "standard"],
            "signup_cohort_week": [week_1, week_2, week_2, week_1],
            "matured_customers": [1, 3, 1, 2],
            "activated_customers": [1, 0, 1, 1],
            "activation_rate": [1.0, 0.0, 1.0, 0.5],
        }
    )
    rates = shape.activation_by_cohort(rows, SETTINGS.tracks)
    assert [tuple(row) for row in rates.itertuples(index=False)] == [
        (7, "high_touch", pd.Timestamp(week_2), 1, 1, 1.0),
        (7, "standard", pd.Timestamp(week_1), 2, 1, 0.5),
        (7, "standard", pd.Timestamp(week_2), 3, 0, 0.0),
        (14, "standard", pd.Timestamp(week_1), 1, 1, 1.0),
    ]


CALL_ROWS = pd.DataFrame(
    {
        "call_rank": [3, 1, 2],
        "reason": ["new_pql", "realtime_stall", "emergency_outreach"],
        "customer_id": ["pql", "p0", "Zed"],
        "company_name": ["Pql Co", "P0 Corp", None],
        "arr": [2000.0, 30000.0, None],
        "csm_owner": ["Dee Park", "Cass Mills", None],
        "detail": ["activated_pricing_interest", "P0", "0.70"],
        "days_stalled": [None, 2.0, None],
        "recovery_subject": [None, "P0 Corp: your data is one step away", None],
    }
)


def test_calls_today_keeps_the_models_rows_in_call_rank_order():
    """Who is listed, why and in which order is the model's: its dbt unit tests hold those rules."""
    calls = shape.calls_today(CALL_ROWS)
    assert calls["call_rank"].tolist() == [1, 2, 3]
    assert calls["customer_id"].tolist() == ["p0", "Zed", "pql"]
    assert calls["days_stalled"].tolist() == [2, pd.NA, pd.NA]
    assert str(calls["days_stalled"].dtype) == "Int64"


def test_the_calls_table_has_a_column_per_heading_and_a_text_per_call():
    assert list(CALL_COLUMNS) == [
        "rank",
        "reason",
        "customer",
        "company",
        "ARR",
        "CSM",
        "detail",
        "days stalled",
        "drafted subject",
    ]
    rows = list(zip(*call_cells(shape.calls_today(CALL_ROWS)), strict=True))
    assert rows == [
        ("1", "realtime_stall", "p0", "P0 Corp", "$30,000", "Cass Mills", "P0", "2",
         "P0 Corp: your data is one step away"),
        ("2", "emergency_outreach", "Zed", "", "", "", "0.70", "", ""),
        ("3", "new_pql", "pql", "Pql Co", "$2,000", "Dee Park", "activated_pricing_interest", "", ""),
    ]  # fmt: skip


def _path_metrics(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows)


def test_time_to_value_is_one_row_per_track_and_statistic_without_empty_tracks():
    metrics = _path_metrics(
        [
            {"track": "all", "is_all_tracks": True, "median_time_to_value_hours": 12.0,
             "p75_time_to_value_hours": 22.0, "p90_time_to_value_hours": 33.0},
            {"track": "standard", "is_all_tracks": False, "median_time_to_value_hours": 10.0,
             "p75_time_to_value_hours": 20.0, "p90_time_to_value_hours": 30.0},
            {"track": "high_touch", "is_all_tracks": False, "median_time_to_value_hours": None,
             "p75_time_to_value_hours": None, "p90_time_to_value_hours": None},
        ]
    )  # fmt: skip
    ttv = shape.time_to_value(metrics, SETTINGS.tracks)
    assert [tuple(row) for row in ttv.itertuples(index=False)] == [
        ("standard", "median", 10.0),
        ("all", "median", 12.0),
        ("standard", "p75", 20.0),
        ("all", "p75", 22.0),
        ("standard", "p90", 30.0),
        ("all", "p90", 33.0),
    ]


def test_funnel_velocity_and_expansion_frames_keep_the_marts_figures_in_order():
    funnel = pd.DataFrame(
        {
            "track": ["all", "all", "standard", "standard", "self_serve", "self_serve"],
            "milestone": ["a", "b"] * 3,
            "step": [1, 2] * 3,
            "customers": [4, 4, 4, 4, 0, 0],
            "reached": [3, 1, 3, 1, 0, 0],
            "reach_rate": [0.75, 0.25, 0.75, 0.25, None, None],
            "median_hours_from_previous_step": [None, 12.5, None, 12.5, None, None],
            "reached_previous_step": [None, 3, None, 3, None, 0],
            "drop_off_from_previous_step": [None, 2 / 3, None, 2 / 3, None, None],
        }
    )
    steps = shape.milestone_funnel(funnel, SETTINGS.tracks)
    assert steps[["track", "milestone", "reach_rate"]].values.tolist() == [
        ["standard", "a", 0.75],
        ["standard", "b", 0.25],
        ["all", "a", 0.75],
        ["all", "b", 0.25],
    ]
    assert steps["hours_from_previous"].tolist()[1] == 12.5

    velocity = pd.DataFrame(
        {
            "signup_cohort_week": [date(2026, 3, 9), date(2026, 3, 2), date(2026, 3, 2)],
            "track": ["all", "all", "standard"],
            "matured_14d": [0, 5, 5],
            "milestones_within_14d_mean": [None, 1.6, 1.6],
        }
    )
    means = shape.adoption_velocity(velocity, SETTINGS.tracks, 14)
    assert means[["track", "matured", "mean"]].values.tolist() == [["standard", 5, 1.6], ["all", 5, 1.6]]

    expansion = pd.DataFrame(
        {
            "track": ["all", "all", "standard"],
            "score_band": ["high", "critical", "critical"],
            "band_order": [2, 1, 1],
            "min_score": [20, 0, 0],
            "customers": [0, 10, 10],
            "expanded": [0, 1, 1],
            "expansion_rate": [None, 0.1, 0.1],
            "contracted_rate": [None, 0.0, 0.0],
            "churned_rate": [None, 0.3, 0.3],
        }
    )
    bands = shape.score_vs_expansion(expansion)
    assert bands[["score_band", "rate", "value", "customers"]].values.tolist() == [
        ["critical", "expanded", 0.1, 10],
        ["critical", "contracted", 0.0, 10],
        ["critical", "churned", 0.3, 10],
    ]


def test_checkpoint_states_are_shares_of_the_track_in_column_order():
    metrics = _path_metrics(
        [
            {"track": "self_serve", "is_all_tracks": False, "customers": 0,
             "customers_onboarding": 0, "customers_activated": 0},
            {"track": "all", "is_all_tracks": True, "customers": 4,
             "customers_onboarding": 1, "customers_activated": 3},
            {"track": "standard", "is_all_tracks": False, "customers": 4,
             "customers_onboarding": 1, "customers_activated": 3},
        ]
    )  # fmt: skip
    states = shape.checkpoint_states(metrics, SETTINGS.tracks)
    assert [tuple(row) for row in states.itertuples(index=False)] == [
        ("standard", "onboarding", 1, 0.25),
        ("self_serve", "onboarding", 0, 0.0),
        ("all", "onboarding", 1, 0.25),
        ("standard", "activated", 3, 0.75),
        ("self_serve", "activated", 0, 0.0),
        ("all", "activated", 3, 0.75),
    ]


def test_milestone_order_is_the_step_order_of_the_missing_lists():
    lists = [
        "ran_first_query,invited_teammate",
        None,
        "imported_first_data,ran_first_query,invited_teammate,created_integration,completed_tutorial",
        "created_integration",
        "",
    ]
    assert shape.milestone_order(lists) == [
        "imported_first_data",
        "ran_first_query",
        "invited_teammate",
        "created_integration",
        "completed_tutorial",
    ]


def test_stall_counts_order_severities_by_rank_with_no_rule_last_and_steps_by_step():
    alerts = pd.DataFrame(
        {
            "alert_rank": [1, 2, 3, 4, 5, 6],
            "stall_severity": ["P0", "P0", "P2", "P2", None, "P2"],
            "stall_step": [
                "ran_first_query",
                "imported_first_data",
                "ran_first_query",
                "ran_first_query",
                "imported_first_data",
                "imported_first_data",
            ],
            "milestones_missing": [
                "ran_first_query,invited_teammate",
                "imported_first_data,ran_first_query",
                "ran_first_query",
                "ran_first_query,completed_tutorial",
                "imported_first_data",
                "imported_first_data,ran_first_query,invited_teammate",
            ],
        }
    )
    counts = shape.stall_counts(alerts)
    assert [tuple(row) for row in counts.itertuples(index=False)] == [
        ("P0", "imported_first_data", 1),
        ("P0", "ran_first_query", 1),
        ("P2", "imported_first_data", 1),
        ("P2", "ran_first_query", 2),
        ("no rule", "imported_first_data", 1),
    ]


def test_risk_actions_are_counted_per_track_riskiest_first_and_unscored_apart():
    customers = pd.DataFrame(
        {
            "track": ["standard", "standard", "standard", "high_touch", "high_touch", "self_serve"],
            "churn_risk_score": [0.8, 0.1, 0.75, 0.5, None, None],
            "risk_action": [
                "emergency_outreach",
                "normal_onboarding",
                "emergency_outreach",
                "automated_nudge",
                None,
                None,
            ],
        }
    )
    assert shape.risk_action_order(customers) == [
        "emergency_outreach",
        "automated_nudge",
        "normal_onboarding",
    ]
    counts = shape.risk_actions(customers, SETTINGS.tracks)
    assert [tuple(row) for row in counts.itertuples(index=False)] == [
        ("high_touch", "automated_nudge", 1),
        ("standard", "emergency_outreach", 2),
        ("standard", "normal_onboarding", 1),
    ]
    assert shape.unscored_customers(customers) == 2


def test_cohort_shares_and_bands():
    report = pd.DataFrame(
        {
            "signup_cohort_week": [date(2026, 3, 9), date(2026, 3, 2), date(2026, 3, 2)],
            "track": ["standard", "standard", "high_touch"],
            "customers": [5, 18, 2],
            "cohort_customers": [5, 20, 20],
            "share": [1.0, 0.9, 0.1],
            "expected_min_share": [0.6, 0.6, 0.05],
            "expected_max_share": [0.7, 0.7, 0.2],
            "is_imbalanced": [False, True, False],
        }
    )
    shares = shape.cohort_shares(report, SETTINGS.tracks)
    assert [(row.track, row.signup_cohort_week, row.is_imbalanced) for row in shares.itertuples()] == [
        ("high_touch", pd.Timestamp(2026, 3, 2), False),
        ("standard", pd.Timestamp(2026, 3, 2), True),
        ("standard", pd.Timestamp(2026, 3, 9), False),
    ]
    assert shape.expected_bands(report) == {"high_touch": (0.05, 0.2), "standard": (0.6, 0.7)}


def test_headline_takes_the_all_row_and_the_longest_window():
    metrics = _path_metrics(
        [
            {"track": "standard", "is_all_tracks": False, "matured_14d": 8, "activation_rate_14d": 0.5,
             "median_time_to_value_hours": 9.0, "stall_rate": 0.5},
            {"track": "all", "is_all_tracks": True, "matured_14d": 10, "activation_rate_14d": 0.4,
             "median_time_to_value_hours": 12.5, "stall_rate": 0.25},
        ]
    )  # fmt: skip
    customers = pd.DataFrame({"track": ["standard"] * 12})
    alerts = pd.DataFrame({"alert_rank": [1, 2, 3]})
    assert shape.headline(metrics, customers, alerts, (7, 14)) == shape.Headline(
        customers=12,
        activation_window_days=14,
        matured=10,
        activation_rate=0.4,
        median_time_to_value_hours=12.5,
        stalled=3,
        stall_rate=0.25,
    )


def test_accuracy_by_month_is_oldest_first_with_a_month_label():
    months = shape.accuracy_by_month(
        pd.DataFrame(
            {
                "audit_month": [date(2026, 3, 1), date(2026, 1, 1)],
                "audited": [10, 4],
                "agreed": [9, 4],
                "accuracy": [0.9, 1.0],
                "below_threshold": [False, False],
            }
        )
    )
    assert months["month"].tolist() == ["2026-01", "2026-03"]
    assert months["accuracy"].tolist() == [1.0, 0.9]


def test_run_labels_are_distinct_within_a_minute():
    started = pd.Series(
        [
            datetime(2026, 3, 16, 12, 0, 5),
            datetime(2026, 3, 16, 12, 0, 40),
            datetime(2026, 3, 16, 12, 1),
            None,
        ]
    )
    assert shape.run_labels(started) == [
        "2026-03-16 12:00",
        "2026-03-16 12:00 #2",
        "2026-03-16 12:01",
        "unknown",
    ]


def test_an_empty_warehouse_gets_a_sentence_instead_of_each_chart():
    queries = mart_queries("main", SETTINGS, STATE_COLUMNS)
    marts = {name: pd.DataFrame(columns=list(q.columns)) for name, q in queries.items()}
    zeros = {  # what an empty build holds: zero counts, null rates and percentiles
        column: None if "rate" in column or "time_to_value" in column else 0
        for column in queries["path_metrics"].columns
    }
    marts["path_metrics"] = pd.DataFrame(
        [{**zeros, "track": track, "is_all_tracks": track == "all"} for track in (*SETTINGS.tracks, "all")]
    )
    panels = build_panels(ReportData(marts, validation_runs=None, sync_runs=None), SETTINGS)
    assert [(panel.key, panel.figure, panel.message) for panel in panels[:8]] == [
        ("path-distribution", None, "No signup cohorts yet."),
        ("activation", None, "No customer is 7 days old yet."),
        ("time-to-value", None, "No customer has activated yet."),
        ("checkpoint-states", None, "No customers yet."),
        ("stall-alerts", None, "No customer is stalled."),
        ("risk-actions", None, "No customer has a churn-risk score."),
        (
            "calls-today",
            None,
            "No one to call today: no realtime stall, no emergency outreach, no new PQL.",
        ),
        ("routing-accuracy", None, "No routing audit counted yet."),
    ]
    assert [(panel.key, panel.message) for panel in panels[8:11]] == [
        ("adoption-velocity", "No customer is 14 days old yet."),
        ("milestone-funnel", "No customers yet."),
        ("score-vs-expansion", "No customer is 60 days old yet."),
    ]
    empty_runs = ReportData(marts, validation_runs=pd.DataFrame(), sync_runs=pd.DataFrame())
    assert [panel.message for panel in build_panels(empty_runs, SETTINGS)[11:]] == [
        "validation.validation_runs holds no run yet.",
        "sync.sync_runs holds no run yet.",
    ]


# --- a built warehouse ----------------------------------------------------------------------------

VALIDATION_ROWS = [
    ("v1", datetime(2026, 3, 14, 6), 1200, 0, 2, "passed"),
    ("v2", datetime(2026, 3, 15, 6), 300, 2, 1, "failed"),
    ("v3", datetime(2026, 3, 16, 6), 450, 1, 0, "accepted"),
]
SYNC_ROWS = [
    ("s1", "hubspot", datetime(2026, 3, 15, 7), 120, 120, 118, 2, 380, "partial", False, False),
    ("s2", "hubspot", datetime(2026, 3, 16, 7), 10, 10, 10, 0, 490, "succeeded", False, False),
    ("s3", "customerio", datetime(2026, 3, 16, 7, 5), 50, 50, 45, 5, 450, "partial", True, False),
]
SYNC_DDL = """
create table sync.sync_runs (
    run_id text, destination text, started_at timestamp, finished_at timestamp, planned bigint,
    sent bigint, succeeded bigint, failed bigint, skipped_unchanged bigint, status text,
    forced boolean, dry_run boolean
)
"""


@pytest.fixture(scope="module")
def raw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """500 generated customers as of AS_OF."""
    folder = tmp_path_factory.mktemp("report") / "raw"
    generate(folder, GenerateOptions(customers=CUSTOMERS, seed=5, as_of=AS_OF))
    return folder


@pytest.fixture(scope="module")
def built(raw_dir: Path) -> Target:
    """raw_dir loaded and built as of AS_OF; no validation or sync run log."""
    target = _target(raw_dir.parent / "built.duckdb")
    load(raw_dir, target)
    result = run_onboard(
        "build",
        "--as-of",
        AS_OF.isoformat(),
        "--exclude",
        "test_type:unit",
        env={"ONBOARD_DUCKDB_PATH": str(target.duckdb_path)},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return target


@pytest.fixture(scope="module")
def with_run_logs(built: Target, tmp_path_factory: pytest.TempPathFactory) -> Target:
    """A copy of `built` with three validation runs and three sync runs (two destinations)."""
    path = tmp_path_factory.mktemp("logs") / "logs.duckdb"
    shutil.copy(built.duckdb_path, path)
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema validation")
        connection.execute(VALIDATION_RUNS_DDL)
        connection.executemany(
            "insert into validation.validation_runs (run_id, started_at, finished_at, window_since, "
            "window_until, suites, rows_validated, expectations_failed, expectations_warned, status) "
            "values (?, ?, ?, ?, ?, '[]', ?, ?, ?, ?)",
            [(run, started, started, started, started, *rest) for run, started, *rest in VALIDATION_ROWS],
        )
        connection.execute("create schema sync")
        connection.execute(SYNC_DDL)
        connection.executemany(
            "insert into sync.sync_runs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(run, dest, started, started, *rest) for run, dest, started, *rest in SYNC_ROWS],
        )
    return _target(path)


@pytest.fixture(scope="module")
def report(with_run_logs: Target, tmp_path_factory: pytest.TempPathFactory) -> ReportResult:
    out = tmp_path_factory.mktemp("html") / "onboarding.html"
    return render_report(with_run_logs, out, settings=SETTINGS, generated_at=GENERATED_AT)


def _one(target: Target, sql: str) -> Any:
    return query(target, sql)[0][0]


@pytest.mark.slow
def test_report_reads_every_mart_and_both_run_logs(report: ReportResult, with_run_logs: Target):
    def count(table: str) -> int:
        return int(_one(with_run_logs, f"select count(*) from {table}"))

    assert report.rows_read == {
        "path_metrics": 4,
        "cohort_routing_report": count("main.cohort_routing_report"),
        "onboarding_customers": CUSTOMERS,
        "stall_alerts": count("main.stall_alerts"),
        "routing_accuracy": count("main.routing_accuracy"),
        "activation_by_cohort": count("main_reporting.activation_by_cohort"),
        "calls_today": count("main_reporting.calls_today"),
        "milestone_funnel": 4 * 5,
        "adoption_velocity": count("main.adoption_velocity"),
        "score_vs_expansion": 4 * 4,
        "validation.validation_runs": 3,
        "sync.sync_runs": 3,
    }
    assert report.charts == (
        "chart-path-distribution",
        "chart-activation",
        "chart-time-to-value",
        "chart-checkpoint-states",
        "chart-stall-alerts",
        "chart-risk-actions",
        "chart-calls-today",
        "chart-routing-accuracy",
        "chart-adoption-velocity",
        "chart-milestone-funnel",
        "chart-score-vs-expansion",
        "chart-validation-runs",
        "chart-sync-runs",
    )
    assert report.messages == ("experiments",)  # no experiment readout in this warehouse


@pytest.mark.slow
def test_page_inlines_plotly_once_and_references_nothing_outside(report: ReportResult):
    html = report.path.read_text(encoding="utf-8")
    assert html.count("* plotly.js v") == 1
    assert html.count("Plotly.newPlot(") == len(report.charts)
    assert html.count("<script") == 1 + len(report.charts)
    assert "<script src" not in html
    assert "<link" not in html
    assert "@import" not in html


@pytest.mark.slow
def test_the_dashboards_activation_rates_match_the_cohort_report(built: Target):
    rows = read_report_data(built, SETTINGS).marts["activation_by_cohort"]
    rates = shape.activation_by_cohort(rows[rows["window_days"] == 14], SETTINGS.tracks)
    ours = {(row.track, row.signup_cohort_week.date()): row.rate for row in rates.itertuples()}
    theirs = dict(
        ((track, week), rate)
        for track, week, rate in query(
            built,
            "select track, signup_cohort_week, activation_rate_14d from main.cohort_routing_report "
            "where activation_rate_14d is not null",
        )
    )
    assert ours.keys() == theirs.keys()
    assert all(ours[key] == pytest.approx(theirs[key], abs=1e-12) for key in ours)


CALLS_SQL = (
    "select call_rank, reason, customer_id, company_name, arr, csm_owner, detail, days_stalled, "
    "recovery_subject from main_reporting.calls_today order by call_rank"
)


def _traces(html: str, chart: str) -> list[dict[str, Any]]:
    """The traces the page hands Plotly.newPlot for one chart."""
    call = re.search(r'Plotly\.newPlot\(\s*"' + re.escape(chart) + r'",\s*', html)
    assert call, f"{chart} is not on the page"
    traces, _ = json.JSONDecoder().raw_decode(html, call.end())
    return list(traces)


@pytest.mark.slow
def test_who_to_call_today_shows_exactly_the_models_rows_in_call_rank_order(
    report: ReportResult, with_run_logs: Target
):
    rows = query(with_run_logs, CALLS_SQL)
    assert [rank for rank, *_ in rows] == list(range(1, len(rows) + 1))
    assert {reason for _, reason, *_ in rows} == {"realtime_stall", "emergency_outreach", "new_pql"}
    (table,) = _traces(report.path.read_text(encoding="utf-8"), "chart-calls-today")
    assert table["type"] == "table"
    assert [head.removeprefix("<b>").removesuffix("</b>") for head in table["header"]["values"]] == list(
        CALL_COLUMNS
    )
    assert list(zip(*table["cells"]["values"], strict=True)) == [
        (
            str(rank),
            reason,
            customer,
            company or "",
            "" if arr is None else f"${float(arr):,.0f}",
            csm or "",
            detail or "",
            "" if days is None else str(days),
            subject or "",
        )
        for rank, reason, customer, company, arr, csm, detail, days, subject in rows
    ]


@pytest.mark.slow
def test_missing_run_logs_are_said_in_a_sentence(built: Target, tmp_path: Path):
    result = render_report(built, tmp_path / "r.html", settings=SETTINGS, generated_at=GENERATED_AT)
    assert result.messages == ("validation-runs", "sync-runs", "experiments")
    assert len(result.charts) == 11
    assert "validation.validation_runs" not in result.rows_read
    html = result.path.read_text(encoding="utf-8")
    assert (
        "No validation runs to show: the table validation.validation_runs does not exist in this "
        "warehouse yet; it is created by the first `onboard validate`."
    ) in html
    assert (
        "No sync runs to show: the table sync.sync_runs does not exist in this warehouse yet; "
        "it is created by the first `onboard sync`."
    ) in html


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns), kind="stable").reset_index(drop=True)


@pytest.mark.slow
@pytest.mark.postgres
def test_postgresql_gives_the_report_the_same_marts(raw_dir: Path, built: Target, tmp_path: Path):
    server = require_server()
    with sandbox(server) as box:
        load(raw_dir, box.target(), schema=box.raw_schema)
        build = dbt_build(
            box.target(),
            tmp_path,
            {"as_of": dbt_as_of(AS_OF), "raw_schema": box.raw_schema},
            box.environment,
            timeout=240,
        )
        assert build.returncode == 0, build.summary()
        on_postgres = read_report_data(box.target(), SETTINGS).marts
        result = render_report(box.target(), tmp_path / "pg.html", settings=SETTINGS)
    on_duckdb = read_report_data(built, SETTINGS).marts
    assert len(result.charts) == 11
    for name, frame in on_duckdb.items():
        pd.testing.assert_frame_equal(
            _sorted(on_postgres[name]), _sorted(frame), check_dtype=False, rtol=1e-9, obj=name
        )


def test_a_warehouse_without_marts_is_a_usage_error(tmp_path: Path):
    absent = tmp_path / "absent.duckdb"
    with pytest.raises(UsageError, match="no warehouse at"):
        render_report(_target(absent), tmp_path / "r.html", settings=SETTINGS)
    assert not absent.exists()
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(
        UsageError, match=r"has no path_metrics, cohort_routing_report, .* run `onboard build`"
    ):
        render_report(_target(empty), tmp_path / "r.html", settings=SETTINGS)
    assert not (tmp_path / "r.html").exists()


# --- the dashboard in headless Chromium -----------------------------------------------------------

MARKS_JS = """
const root = document.getElementById(arguments[0]);
const bars = [...root.querySelectorAll('.barlayer .point path')];
const drawn = (path) => { const box = path.getBBox(); return box.width > 0 && box.height > 0; };
const titles = [...root.querySelectorAll('text')].map(t => [t.getAttribute('class') || '', t.textContent]);
return {
  bars: bars.length,
  drawn_bars: bars.filter(drawn).length,
  fills: bars.map(path => path.style.fill),
  points: root.querySelectorAll('.scatterlayer .trace .points path').length,
  lines: [...root.querySelectorAll('.scatterlayer .js-line')]
    .filter(path => (path.getAttribute('d') || '').includes('L')).length,
  shapes: root.querySelectorAll('.shapelayer path').length,
  title: titles.filter(([cls]) => cls === 'gtitle').map(([, text]) => text).join(''),
  x_titles: titles.filter(([cls]) => /^x\\d*title$/.test(cls)).map(([, text]) => text),
  y_titles: titles.filter(([cls]) => /^y\\d*title$/.test(cls)).map(([, text]) => text),
};
"""
RENDERED_JS = """
return [...document.querySelectorAll('.plotly-graph-div')]
  .every(div => div._fullLayout && div.querySelector('.main-svg'));
"""


def _browser_unavailable() -> str | None:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if not missing:
        return None
    return f"headless Chromium is not installed ({', '.join(missing)} missing): apt-get install chromium chromium-driver"


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    """Headless Chromium from Debian, driven by its chromedriver; every host name fails to resolve."""
    reason = _browser_unavailable()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set: the browser tests must run)")
        pytest.skip(reason)
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}",
        "--host-resolver-rules=MAP * ~NOTFOUND",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SE_OFFLINE", "true")
        driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": VIEWPORT[0], "height": VIEWPORT[1], "deviceScaleFactor": 1, "mobile": False},
    )
    yield driver
    driver.quit()


def _open(driver: webdriver.Chrome, path: Path) -> list[dict[str, Any]]:
    """Load the page, wait until every chart is drawn; the console entries of the load."""
    driver.get_log("browser")
    driver.get(path.resolve().as_uri())
    WebDriverWait(driver, 30).until(lambda d: d.execute_script(RENDERED_JS))
    return list(driver.get_log("browser"))


@pytest.fixture(scope="module")
def page(browser: webdriver.Chrome, report: ReportResult) -> tuple[webdriver.Chrome, list[dict[str, Any]]]:
    return browser, _open(browser, report.path)


def _marks(page: tuple[webdriver.Chrome, list], chart: str) -> dict[str, Any]:
    driver, _ = page
    marks: dict[str, Any] = driver.execute_script(MARKS_JS, chart)
    assert marks["title"], f"{chart} has no title"
    assert marks["x_titles"] and all(marks["x_titles"]), f"{chart} lacks an x-axis title"
    assert marks["y_titles"] and all(marks["y_titles"]), f"{chart} lacks a y-axis title"
    return marks


def _rgb(hex_color: str) -> str:
    red, green, blue = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"


@pytest.mark.slow
def test_dashboard_loads_offline_without_console_errors(page):
    driver, entries = page
    assert [entry for entry in entries if entry["level"] == "SEVERE"] == []
    assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0
    assert driver.execute_script("return document.querySelectorAll('.plotly-graph-div').length") == 13


@pytest.mark.slow
def test_header_and_kpi_tiles_show_the_warehouse_figures(page, with_run_logs: Target):
    driver, _ = page

    def text(selector: str) -> str:
        return str(driver.execute_script(f"return document.querySelector('{selector}').textContent"))

    rate, median = query(
        with_run_logs,
        "select activation_rate_14d, median_time_to_value_hours from main.path_metrics where is_all_tracks",
    )[0]
    stalled = _one(with_run_logs, "select count(*) from main.stall_alerts")
    assert text('[data-field="as_of"]') == "2026-03-16 12:00 UTC"
    assert text('[data-field="customers"]') == "500"
    assert text('[data-field="generated"]') == "2026-03-16 13:30 UTC"
    assert text("#kpi-customers .value") == "500"
    assert text("#kpi-activation-rate .value") == f"{rate:.1%}"
    assert text("#kpi-median-ttv .value") == f"{median:,.1f} h"
    assert text("#kpi-stalled .value") == f"{stalled:,}"


@pytest.mark.slow
def test_two_columns_and_no_horizontal_scroll_on_a_laptop_screen(page):
    driver, _ = page
    boxes = driver.execute_script(
        "return ['time-to-value', 'checkpoint-states', 'path-distribution'].map(key => "
        "document.getElementById('panel-' + key).getBoundingClientRect().toJSON())"
    )
    ttv, states, distribution = boxes
    assert ttv["top"] == states["top"] and ttv["left"] < states["left"]
    assert distribution["width"] > ttv["width"] * 1.9
    assert driver.execute_script("return document.documentElement.scrollWidth") <= VIEWPORT[0]


@pytest.mark.slow
def test_path_distribution_has_a_bar_per_cohort_week_and_track_and_red_imbalanced_cells(page, with_run_logs):
    cells, filled, imbalanced, tracks = query(
        with_run_logs,
        "select count(*), count(*) filter (where customers > 0), count(*) filter (where is_imbalanced), "
        "count(distinct track) from main.cohort_routing_report",
    )[0]
    marks = _marks(page, "chart-path-distribution")
    assert (cells, filled, imbalanced) == (57, 52, 24)  # the generated data of the fixture
    assert marks["bars"] == cells
    assert marks["drawn_bars"] == filled
    assert marks["fills"].count(_rgb(IMBALANCED_COLOR)) == imbalanced
    assert marks["shapes"] == tracks  # one expected band per track


@pytest.mark.slow
def test_activation_has_a_point_per_matured_cell_and_a_line_per_track_and_window(page, with_run_logs):
    points = lines = 0
    for days in SETTINGS.activation_windows_days:
        weeks_per_track = query(
            with_run_logs,
            f"select track, count(distinct signup_cohort_week) from main.onboarding_customers "
            f"where age_hours >= {days * 24} group by track",
        )
        points += sum(weeks for _, weeks in weeks_per_track)
        lines += sum(1 for _, weeks in weeks_per_track if weeks >= 2)
    marks = _marks(page, "chart-activation")
    assert (marks["points"], marks["lines"], marks["bars"]) == (points, lines, 0)
    assert lines == 6


#: chart, the SQL counting the bars it draws (every one of them non-empty), and that count here
BAR_CHARTS = [
    (
        "chart-time-to-value",  # a bar per track and percentile
        "select count(median_time_to_value_hours) + count(p75_time_to_value_hours) "
        "+ count(p90_time_to_value_hours) from main.path_metrics",
        12,
    ),
    (
        "chart-stall-alerts",  # a bar per severity and step
        "select count(*) from (select distinct coalesce(stall_severity, 'no rule'), stall_step "
        "from main.stall_alerts)",
        None,
    ),
    (
        "chart-risk-actions",  # a bar per track and action
        "select count(*) from (select distinct track, risk_action from main.onboarding_customers "
        "where risk_action is not null)",
        9,
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("chart", "count_sql", "expected"), BAR_CHARTS, ids=[row[0] for row in BAR_CHARTS])
def test_bar_charts_draw_a_bar_per_cell(
    page, with_run_logs, chart: str, count_sql: str, expected: int | None
):
    bars = _one(with_run_logs, count_sql)
    marks = _marks(page, chart)
    assert expected in (None, bars)
    assert (marks["bars"], marks["drawn_bars"]) == (bars, bars)


@pytest.mark.slow
def test_checkpoint_states_have_a_segment_per_track_and_state(page, with_run_logs):
    columns = [name for (name,) in query(with_run_logs, columns_sql("main", "path_metrics"))]
    states = checkpoint_columns(columns)
    rows = query(with_run_logs, f"select {', '.join(states)} from main.path_metrics")
    marks = _marks(page, "chart-checkpoint-states")
    assert marks["bars"] == len(rows) * len(states) == 24
    assert marks["drawn_bars"] == sum(1 for row in rows for count in row if count)


@pytest.mark.slow
def test_routing_accuracy_has_a_bar_per_month_red_below_the_threshold_line(page, with_run_logs):
    months, below = query(
        with_run_logs, "select count(*), count(*) filter (where below_threshold) from main.routing_accuracy"
    )[0]
    marks = _marks(page, "chart-routing-accuracy")
    assert (months, below) == (5, 3)
    assert (marks["bars"], marks["drawn_bars"]) == (months, months)
    assert marks["fills"].count(_rgb(BAD_COLOR)) == below
    assert marks["shapes"] == 1
    driver, _ = page
    legend = driver.execute_script(
        "return [...document.querySelectorAll('#chart-routing-accuracy .legendtext')].map(t => t.textContent)"
    )
    assert legend == ["threshold 90% (routing_accuracy_threshold)"]


@pytest.mark.slow
def test_who_to_call_today_is_drawn_as_a_table_of_the_models_rows(page, with_run_logs):
    driver, _ = page
    drawn = driver.execute_script(
        "const chart = document.getElementById('chart-calls-today');"
        "return {type: chart._fullData[0].type, customers: chart.data[0].cells.values[2],"
        " columns: chart.querySelectorAll('.y-column').length};"
    )
    customers = [customer for _, _, customer, *_ in query(with_run_logs, CALLS_SQL)]
    assert drawn == {"type": "table", "customers": customers, "columns": len(CALL_COLUMNS)}


@pytest.mark.slow
def test_validation_runs_have_a_bar_and_a_point_per_run(page):
    marks = _marks(page, "chart-validation-runs")
    assert (marks["bars"], marks["drawn_bars"], marks["points"], marks["lines"]) == (3, 3, 3, 1)


@pytest.mark.slow
def test_sync_runs_have_succeeded_and_failed_bars_per_run_and_destination(page):
    marks = _marks(page, "chart-sync-runs")
    nonzero = sum(1 for row in SYNC_ROWS for count in row[5:7] if count)
    assert (marks["bars"], marks["drawn_bars"]) == (2 * len(SYNC_ROWS), nonzero)
    assert nonzero == 5


def _png_size(path: Path) -> tuple[int, int]:
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    return width, height


@pytest.mark.slow
def test_screenshot_at_laptop_size(page, tmp_path: Path):
    driver, _ = page
    driver.execute_script("window.scrollTo(0, 0)")
    shot = tmp_path / "dashboard.png"
    assert driver.save_screenshot(str(shot))
    assert _png_size(shot) == VIEWPORT


@pytest.mark.skipif(
    not os.environ.get(DEMO_SCREENSHOT_ENV),
    reason=f"writes the docs' screenshot from the demo warehouse: {DEMO_SCREENSHOT_ENV}=docs/dashboard.png",
)
def test_demo_dashboard_screenshot_for_the_docs(browser: webdriver.Chrome, tmp_path: Path):
    result = render_report(resolve_target("duckdb"), tmp_path / "demo.html")
    entries = _open(browser, result.path)
    assert [entry for entry in entries if entry["level"] == "SEVERE"] == []
    out = Path(os.environ[DEMO_SCREENSHOT_ENV])
    assert browser.save_screenshot(str(out))
    assert _png_size(out) == VIEWPORT
    assert out.stat().st_size < 400_000

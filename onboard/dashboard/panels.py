"""The dashboard's panels, in page order: what each shows, its figure, or a sentence saying why not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import pandas as pd
import plotly.graph_objects as go

from onboard.dashboard import charts, shape
from onboard.dashboard.queries import SYNC_RUNS, VALIDATION_RUNS, TableQuery
from onboard.dashboard.read import ReportData
from onboard.dashboard.settings import ReportSettings


@dataclass(frozen=True)
class Panel:
    """One card of the dashboard: a chart (id `chart-<key>`) or, when there is nothing to plot, a message."""

    key: str
    title: str
    note: str
    figure: go.Figure | None = None
    message: str | None = None
    wide: bool = False


def _tracks(data: ReportData, settings: ReportSettings) -> list[str]:
    """Every track: the `tracks` var's order, then any other track the marts hold."""
    seen = pd.concat(
        [data.marts["cohort_routing_report"]["track"], data.marts["onboarding_customers"]["track"]]
    )
    return shape.ordered([*settings.tracks, *seen.dropna()], settings.tracks)


def path_distribution(data: ReportData, settings: ReportSettings) -> Panel:
    """Each track's share of every signup cohort week against its expected band."""
    cohort = data.marts["cohort_routing_report"]
    panel = Panel(
        "path-distribution",
        "Path distribution per signup cohort week",
        f"Share of each weekly signup cohort routed to each track; the shaded band is the expected range "
        f"(seed expected_track_shares). Red, outlined bars are imbalanced: outside the band in a cohort of "
        f"at least {settings.imbalance_min_cohort_size} customers.",
        wide=True,
    )
    if cohort.empty:
        return _empty(panel, "No signup cohorts yet.")
    shares = shape.cohort_shares(cohort, settings.tracks)
    tracks = shape.ordered(shares["track"], _tracks(data, settings))
    return _with(panel, charts.path_distribution(shares, shape.expected_bands(cohort), tracks))


def activation(data: ReportData, settings: ReportSettings) -> Panel:
    """Activation rate within each window per track and cohort week, matured customers only."""
    windows = settings.activation_windows_days
    panel = Panel(
        "activation",
        "Activation rate per path and cohort",
        "Customers activated within N days of signup / customers at least N days old (matured); "
        "younger customers are left out, so the latest weeks have no point yet.",
        wide=True,
    )
    rates = shape.activation_by_cohort(data.marts["activation_by_cohort"], settings.tracks)
    if rates.empty:
        return _empty(panel, f"No customer is {min(windows)} days old yet.")
    return _with(panel, charts.activation_rates(rates, windows, _tracks(data, settings)))


def time_to_value(data: ReportData, settings: ReportSettings) -> Panel:
    """Median, p75 and p90 time to value per track (path_metrics)."""
    panel = Panel(
        "time-to-value",
        "Time to value per path",
        "Hours from signup to activation of the activated customers (path_metrics): median, "
        "75th and 90th percentile, interpolated.",
    )
    ttv = shape.time_to_value(data.marts["path_metrics"], _tracks(data, settings))
    if ttv.empty:
        return _empty(panel, "No customer has activated yet.")
    return _with(panel, charts.time_to_value(ttv))


def checkpoint_states(data: ReportData, settings: ReportSettings) -> Panel:
    """Share of each track's customers in each checkpoint state (path_metrics)."""
    panel = Panel(
        "checkpoint-states",
        "Checkpoint states per path",
        f"Where each track's customers are at the day-{settings.checkpoint_day} checkpoint: still "
        "onboarding, activated, in a recovery cycle, in win-back, or exited (globally suppressed).",
    )
    states = shape.checkpoint_states(data.marts["path_metrics"], _tracks(data, settings))
    if not states["customers"].any():
        return _empty(panel, "No customers yet.")
    colors = charts.checkpoint_colors(list(dict.fromkeys(states["state"])), settings.checkpoint_states)
    return _with(panel, charts.checkpoint_states(states, colors))


def stall_alerts(data: ReportData, settings: ReportSettings) -> Panel:
    """Stall alerts per severity and stalled step."""
    alerts = data.marts["stall_alerts"]
    panel = Panel(
        "stall-alerts",
        "Stall alerts by severity and step",
        f"Stalled customers (no progress for {settings.stall_threshold_hours} h, not activated) by the "
        "severity rule they match and the milestone they are stuck before.",
    )
    if alerts.empty:
        return _empty(panel, "No customer is stalled.")
    return _with(panel, charts.stall_alerts(shape.stall_counts(alerts)))


def risk_actions(data: ReportData, settings: ReportSettings) -> Panel:
    """Scored customers per track and churn-risk action."""
    customers = data.marts["onboarding_customers"]
    unscored = shape.unscored_customers(customers)
    panel = Panel(
        "risk-actions",
        "Churn-risk actions per track",
        f"Customers younger than {settings.risk_window_days} days without global suppression, by the "
        f"action their churn-risk score calls for; {unscored:,} customers outside the window or "
        "suppressed have no score and are not shown.",
    )
    counts = shape.risk_actions(customers, settings.tracks)
    if counts.empty:
        return _empty(panel, "No customer has a churn-risk score.")
    tracks = shape.ordered(counts["track"], _tracks(data, settings))
    colors = charts.risk_action_colors(settings.risk_action_thresholds, settings.default_risk_action)
    return _with(panel, charts.risk_actions(counts, tracks, colors))


def calls_today(data: ReportData, settings: ReportSettings) -> Panel:
    """Who a CSM should call today, as the calls_today model lists and ranks them."""
    panel = Panel(
        "calls-today",
        "Who to call today",
        "One row per customer and reason to act on as of as_of (calls_today): realtime stalls in "
        "alert order, then emergency outreach by churn-risk score, then customers product-qualified "
        "in the 24 hours up to as_of; globally suppressed customers are not listed.",
        wide=True,
    )
    calls = shape.calls_today(data.marts["calls_today"])
    if calls.empty:
        return _empty(panel, "No one to call today: no realtime stall, no emergency outreach, no new PQL.")
    return _with(panel, charts.calls_today(calls))


def routing_accuracy(data: ReportData, settings: ReportSettings) -> Panel:
    """Routing accuracy per audit month against routing_accuracy_threshold."""
    threshold = settings.routing_accuracy_threshold
    panel = Panel(
        "routing-accuracy",
        "Routing accuracy per month",
        f"Share of the month's hand audits that agree with the customer's track; red months are below "
        f"the threshold of {threshold:.0%} (var routing_accuracy_threshold).",
    )
    months = data.marts["routing_accuracy"]
    if months.empty:
        return _empty(panel, "No routing audit counted yet.")
    return _with(panel, charts.routing_accuracy(shape.accuracy_by_month(months), threshold))


def milestone_funnel(data: ReportData, settings: ReportSettings) -> Panel:
    """Reach rate per milestone and track, with the drop-off and hours between steps."""
    panel = Panel(
        "milestone-funnel",
        "Milestone funnel per path",
        "Share of each track's customers who reached each milestone by now (milestone_funnel); the "
        "label over a step is the share of those who reached the previous step but not this one, and "
        "the median hours between the two steps.",
        wide=True,
    )
    funnel = shape.milestone_funnel(data.marts["milestone_funnel"], settings.tracks)
    if funnel.empty:
        return _empty(panel, "No customers yet.")
    return _with(panel, charts.milestone_funnel(funnel))


def adoption_velocity(data: ReportData, settings: ReportSettings) -> Panel:
    """Mean milestones within the longest window per matured customer, per cohort week."""
    days = max(settings.activation_windows_days)
    panel = Panel(
        "adoption-velocity",
        "Adoption velocity per signup cohort",
        f"Milestones reached within {days} days of signup per customer at least {days} days old "
        "(adoption_velocity), per signup week: a rising line means newer cohorts move faster.",
    )
    velocity = shape.adoption_velocity(data.marts["adoption_velocity"], settings.tracks, days)
    if velocity.empty:
        return _empty(panel, f"No customer is {days} days old yet.")
    return _with(panel, charts.adoption_velocity(velocity, days))


def score_vs_expansion(data: ReportData, settings: ReportSettings) -> Panel:
    """Expansion, contraction and churn rates per band of the day-14 milestone score."""
    window, day = settings.expansion_window_days, settings.checkpoint_day
    panel = Panel(
        "score-vs-expansion",
        "Onboarding score vs expansion",
        f"Customers at least {window} days old, by their milestone score at day {day}: the share whose "
        f"plan tier by day {window} is above (expanded) or below (contracted) their day-{day} tier, and "
        "whose subscription is cancelled or deleted now (churned).",
    )
    bands = shape.score_vs_expansion(data.marts["score_vs_expansion"])
    if bands.empty:
        return _empty(panel, f"No customer is {window} days old yet.")
    return _with(panel, charts.score_vs_expansion(bands, window, day))


def _run_log_panel(
    panel: Panel,
    runs: pd.DataFrame | None,
    table: TableQuery,
    command: str,
    draw: Callable[[pd.DataFrame], go.Figure],
) -> Panel:
    """A run-log panel: its chart, or a sentence when the table is missing or holds no run."""
    if runs is None:
        return _empty(
            panel,
            f"No {table.schema} runs to show: the table {table.name} does not exist in this "
            f"warehouse yet; it is created by the first `{command}`.",
        )
    if runs.empty:
        return _empty(panel, f"{table.name} holds no run yet.")
    return _with(panel, draw(runs))


def validation_health(data: ReportData, settings: ReportSettings) -> Panel:
    """Validation runs over time, or why there are none."""
    panel = Panel(
        "validation-runs",
        "Validation health",
        "Each `onboard validate` run: rows checked, coloured by status, and blocking expectations "
        "that failed (a failed run blocks the sync until it is fixed or accepted).",
    )
    return _run_log_panel(
        panel,
        data.validation_runs,
        VALIDATION_RUNS,
        "onboard validate",
        lambda runs: charts.validation_runs(shape.validation_history(runs)),
    )


def sync_health(data: ReportData, settings: ReportSettings) -> Panel:
    """Sync runs per destination, or why there are none."""
    panel = Panel(
        "sync-runs",
        "Sync health",
        "Each `onboard sync` run per destination: records the destination accepted and records it "
        "refused (unchanged records are skipped and not shown).",
    )
    return _run_log_panel(
        panel,
        data.sync_runs,
        SYNC_RUNS,
        "onboard sync",
        lambda runs: charts.sync_runs(shape.sync_history(runs)),
    )


PANELS = (
    path_distribution,
    activation,
    time_to_value,
    checkpoint_states,
    stall_alerts,
    risk_actions,
    calls_today,
    routing_accuracy,
    adoption_velocity,
    milestone_funnel,
    score_vs_expansion,
    validation_health,
    sync_health,
)


def build_panels(data: ReportData, settings: ReportSettings) -> list[Panel]:
    """Every panel of the dashboard, in page order."""
    return [build(data, settings) for build in PANELS]


def _with(panel: Panel, figure: go.Figure) -> Panel:
    return replace(panel, figure=figure)


def _empty(panel: Panel, message: str) -> Panel:
    return replace(panel, message=message)

"""Pure pandas: the marts as read, turned into what each chart plots. No I/O, no Plotly.

Orders come from the project or the data, never from literals: tracks in the order of
the `tracks` var, checkpoint states in path_metrics' column order, severities in
stall_alerts' rank order, milestones in step order (as milestones_missing lists them),
risk actions from the riskiest down, calls in calls_today's call_rank.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from onboard.dashboard.queries import CHECKPOINT_PREFIX, checkpoint_columns

#: Label of a stalled customer no severity rule matches (still alerted: docs/definitions.md#stall-severity).
NO_SEVERITY_RULE = "no rule"
#: path_metrics' percentile columns, by the label the chart shows.
TIME_TO_VALUE_COLUMNS = {
    "median": "median_time_to_value_hours",
    "p75": "p75_time_to_value_hours",
    "p90": "p90_time_to_value_hours",
}

#: score_vs_expansion's rates, by the label the chart shows.
EXPANSION_RATES = {
    "expanded": "expansion_rate",
    "contracted": "contracted_rate",
    "churned": "churned_rate",
}


@dataclass(frozen=True)
class Headline:
    """The KPI tiles: customers, activation over the longest window, median time to value, stalls."""

    customers: int
    activation_window_days: int
    matured: int
    activation_rate: float | None
    median_time_to_value_hours: float | None
    stalled: int
    stall_rate: float | None


def ordered(values: Iterable[str], preferred: Sequence[str]) -> list[str]:
    """The distinct values: those of preferred first, in its order, then the others sorted."""
    present = set(values)
    return [value for value in preferred if value in present] + sorted(present - set(preferred))


def _sort_by(frame: pd.DataFrame, column: str, order: Sequence[str], *then: str) -> pd.DataFrame:
    """frame sorted by column in the given order (values not in it last), then by the other columns."""
    rank = {value: index for index, value in enumerate(order)}
    keyed = frame.assign(_rank=frame[column].map(lambda value: rank.get(value, len(rank))))
    return keyed.sort_values(["_rank", *then], kind="stable").drop(columns="_rank").reset_index(drop=True)


def _optional_float(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]


def derive_as_of(customers: pd.DataFrame) -> datetime | None:
    """as_of, to the second: signup_at + age_hours of any customer (the marts have no as_of column)."""
    if customers.empty:
        return None
    instants = pd.to_datetime(customers["signup_at"]) + pd.to_timedelta(
        customers["age_hours"].astype("float64"), unit="h"
    )
    moment: datetime = instants.max().round("s").to_pydatetime()
    return moment


def all_tracks_row(path_metrics: pd.DataFrame) -> pd.Series | None:
    """path_metrics' `all` row; None when the mart is empty."""
    rows = path_metrics[path_metrics["is_all_tracks"].astype(bool)]
    return None if rows.empty else rows.iloc[0]


def headline(
    path_metrics: pd.DataFrame, customers: pd.DataFrame, stall_alerts: pd.DataFrame, windows: Sequence[int]
) -> Headline:
    """The KPI figures; activation over the longest window of `activation_windows_days`."""
    window = max(windows)
    row = all_tracks_row(path_metrics)

    def metric(column: str) -> float | None:
        return None if row is None else _optional_float(row[column])

    return Headline(
        customers=len(customers),
        activation_window_days=window,
        matured=int(metric(f"matured_{window}d") or 0),
        activation_rate=metric(f"activation_rate_{window}d"),
        median_time_to_value_hours=metric("median_time_to_value_hours"),
        stalled=len(stall_alerts),
        stall_rate=metric("stall_rate"),
    )


def cohort_shares(cohort_report: pd.DataFrame, tracks: Sequence[str]) -> pd.DataFrame:
    """One row per cohort week and track (zero cells included), tracks in order, then weeks."""
    frame = cohort_report.assign(
        signup_cohort_week=pd.to_datetime(cohort_report["signup_cohort_week"]),
        share=cohort_report["share"].astype("float64"),
        is_imbalanced=cohort_report["is_imbalanced"].fillna(False).astype(bool),
        customers=cohort_report["customers"].astype("int64"),
        cohort_customers=cohort_report["cohort_customers"].astype("int64"),
    )
    return _sort_by(frame, "track", ordered(frame["track"], tracks), "signup_cohort_week")


def expected_bands(cohort_report: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """The expected share range of each track, (min, max); tracks without a band are left out."""
    known = cohort_report.dropna(subset=["expected_min_share", "expected_max_share"])
    grouped = known.groupby("track").agg(
        low=("expected_min_share", "min"), high=("expected_max_share", "max")
    )
    return {str(track): (float(row.low), float(row.high)) for track, row in grouped.iterrows()}


def activation_by_cohort(rows: pd.DataFrame, tracks: Sequence[str]) -> pd.DataFrame:
    """The activation_by_cohort model's rows, by window, then track in order, then cohort week.

    dbt computes the rates (models/reporting/activation_by_cohort.sql, over matured customers
    only, the rule path_metrics uses); cells without a matured customer have no row.
    Columns: window_days, track, signup_cohort_week, matured, activated, rate.
    """
    frame = pd.DataFrame(
        {
            "window_days": rows["window_days"].astype("int64"),
            "track": rows["track"],
            "signup_cohort_week": pd.to_datetime(rows["signup_cohort_week"]),
            "matured": rows["matured_customers"].astype("int64"),
            "activated": rows["activated_customers"].astype("int64"),
            "rate": rows["activation_rate"].astype("float64"),
        }
    )
    frame = _sort_by(frame, "track", ordered(frame["track"], tracks), "signup_cohort_week")
    return frame.sort_values("window_days", kind="stable").reset_index(drop=True)


def calls_today(rows: pd.DataFrame) -> pd.DataFrame:
    """The calls_today model's rows in call_rank order, typed; nothing added, nothing left out.

    dbt decides who is listed, for which reason and in which order
    (models/reporting/calls_today.sql, docs/definitions.md#calls-today). Columns: the model's,
    call_rank and days_stalled as (nullable) integers, arr as a float (null stays null).
    """
    frame = rows.assign(
        call_rank=rows["call_rank"].astype("int64"),
        arr=rows["arr"].astype("float64"),
        days_stalled=rows["days_stalled"].astype("Int64"),
    )
    return frame.sort_values("call_rank", kind="stable").reset_index(drop=True)


def _track_rows(path_metrics: pd.DataFrame, tracks: Sequence[str]) -> pd.DataFrame:
    """path_metrics with the tracks in order and the `all` row last."""
    is_all = path_metrics["is_all_tracks"].astype(bool)
    per_track = _sort_by(path_metrics[~is_all], "track", ordered(path_metrics[~is_all]["track"], tracks))
    return pd.concat([per_track, path_metrics[is_all]], ignore_index=True)


def time_to_value(path_metrics: pd.DataFrame, tracks: Sequence[str]) -> pd.DataFrame:
    """Median, p75 and p90 time to value per track and for all tracks; tracks without activations left out.

    Columns: track, statistic (median, p75, p90), hours.
    """
    rows = _track_rows(path_metrics, tracks)
    long = rows.melt(
        id_vars=["track"],
        value_vars=list(TIME_TO_VALUE_COLUMNS.values()),
        var_name="column",
        value_name="hours",
    )
    labels = {column: label for label, column in TIME_TO_VALUE_COLUMNS.items()}
    long = long.assign(statistic=long["column"].map(labels), hours=long["hours"].astype("float64"))
    return long.dropna(subset=["hours"]).reset_index(drop=True)[["track", "statistic", "hours"]]


def checkpoint_states(path_metrics: pd.DataFrame, tracks: Sequence[str]) -> pd.DataFrame:
    """Customers per track (and all tracks) and checkpoint state, with their share of the track.

    States are path_metrics' customers_<state> columns, in column order. Columns: track,
    state, customers, share (0 for a track without customers).
    """
    state_columns = list(checkpoint_columns(path_metrics.columns))
    rows = _track_rows(path_metrics, tracks)
    long = rows.melt(id_vars=["track", "customers"], value_vars=state_columns, var_name="column")
    long = long.rename(columns={"customers": "track_customers"}).assign(
        state=long["column"].str.removeprefix(CHECKPOINT_PREFIX),
        customers=long["value"].fillna(0).astype("int64"),
    )
    totals = long["track_customers"].fillna(0).astype("int64")
    long["share"] = (long["customers"] / totals.where(totals > 0)).fillna(0.0)
    return long[["track", "state", "customers", "share"]]


def milestone_funnel(rows: pd.DataFrame, tracks: Sequence[str]) -> pd.DataFrame:
    """The funnel of each track with customers, tracks in order and `all` last, steps in order.

    dbt computes every figure (models/marts/milestone_funnel.sql). Columns: track, milestone,
    step, customers, reached, reach_rate, drop_off (null on step 1), hours_from_previous.
    """
    frame = pd.DataFrame(
        {
            "track": rows["track"],
            "milestone": rows["milestone"],
            "step": rows["step"].astype("int64"),
            "customers": rows["customers"].astype("int64"),
            "reached": rows["reached"].astype("int64"),
            "reach_rate": rows["reach_rate"].astype("float64"),
            "drop_off": rows["drop_off_from_previous_step"].astype("float64"),
            "hours_from_previous": rows["median_hours_from_previous_step"].astype("float64"),
        }
    )
    frame = frame[frame["customers"] > 0]
    order = [*ordered(frame["track"][frame["track"] != "all"], tracks), "all"]
    return _sort_by(frame, "track", order, "step")


def adoption_velocity(rows: pd.DataFrame, tracks: Sequence[str], days: int) -> pd.DataFrame:
    """Mean milestones within `days` days per matured customer, per track and cohort week.

    Cells without a matured customer (null mean) are left out. Columns: track,
    signup_cohort_week, matured, mean.
    """
    frame = pd.DataFrame(
        {
            "track": rows["track"],
            "signup_cohort_week": pd.to_datetime(rows["signup_cohort_week"]),
            "matured": rows[f"matured_{days}d"].astype("int64"),
            "mean": rows[f"milestones_within_{days}d_mean"].astype("float64"),
        }
    ).dropna(subset=["mean"])
    order = [*ordered(frame["track"][frame["track"] != "all"], tracks), "all"]
    return _sort_by(frame, "track", order, "signup_cohort_week")


def score_vs_expansion(rows: pd.DataFrame) -> pd.DataFrame:
    """The `all` rows of score_vs_expansion as one row per band and rate, bands in score order.

    Columns: score_band, min_score, customers, expanded, rate (expansion, contraction,
    churn), value; a band without customers has no rows.
    """
    bands = rows[rows["track"] == "all"].sort_values("band_order")
    long = bands.melt(
        id_vars=["score_band", "min_score", "customers", "expanded"],
        value_vars=list(EXPANSION_RATES.values()),
        var_name="column",
    )
    labels = {column: label for label, column in EXPANSION_RATES.items()}
    return pd.DataFrame(
        {
            "score_band": long["score_band"],
            "min_score": long["min_score"].astype("int64"),
            "customers": long["customers"].astype("int64"),
            "expanded": long["expanded"].astype("int64"),
            "rate": long["column"].map(labels),
            "value": long["value"].astype("float64"),
        }
    ).dropna(subset=["value"])


def milestone_order(milestone_lists: Iterable[str | None]) -> list[str]:
    """Milestones in step order, from comma-joined lists that are each in step order.

    A milestone's rank is its largest position in any list (a customer missing every
    milestone lists them all); ties, which only arise when no list holds both, go by name.
    """
    rank: dict[str, int] = {}
    for text in milestone_lists:
        if not isinstance(text, str) or not text:
            continue
        for position, milestone in enumerate(text.split(",")):
            rank[milestone] = max(rank.get(milestone, position), position)
    return sorted(rank, key=lambda milestone: (rank[milestone], milestone))


def stall_counts(stall_alerts: pd.DataFrame) -> pd.DataFrame:
    """Stall alerts per severity and stall step; only combinations that occur.

    Severities in rank order (the severity rule's order, `no rule` last), steps in
    milestone step order. Columns: severity, stall_step, alerts.
    """
    frame = stall_alerts.assign(severity=stall_alerts["stall_severity"].fillna(NO_SEVERITY_RULE))
    severities = list(frame.groupby("severity")["alert_rank"].min().sort_values(kind="stable").index)
    steps = milestone_order(frame["milestones_missing"])
    counts = frame.groupby(["severity", "stall_step"], as_index=False).agg(alerts=("alert_rank", "size"))
    counts = _sort_by(counts, "stall_step", steps)
    counts = _sort_by(counts, "severity", [str(s) for s in severities])
    return counts.assign(alerts=counts["alerts"].astype("int64"))


def risk_action_order(customers: pd.DataFrame) -> list[str]:
    """risk_action values from the riskiest: by their lowest churn_risk_score, descending."""
    scored = customers.dropna(subset=["risk_action"])
    lowest = scored.groupby("risk_action")["churn_risk_score"].min().astype("float64")
    return [str(action) for action in lowest.sort_values(ascending=False, kind="stable").index]


def risk_actions(customers: pd.DataFrame, tracks: Sequence[str]) -> pd.DataFrame:
    """Scored customers per track and risk_action; only combinations that occur.

    Columns: track, risk_action, customers. Customers without a score (outside the risk
    window or globally suppressed) are counted by `unscored_customers`.
    """
    scored = customers.dropna(subset=["risk_action"])
    counts = scored.groupby(["track", "risk_action"], as_index=False).agg(customers=("risk_action", "size"))
    counts = _sort_by(counts, "risk_action", risk_action_order(customers))
    counts = _sort_by(counts, "track", ordered(counts["track"], tracks))
    return counts.assign(customers=counts["customers"].astype("int64"))


def unscored_customers(customers: pd.DataFrame) -> int:
    """Customers without a churn-risk action."""
    return int(customers["risk_action"].isna().sum())


def accuracy_by_month(routing_accuracy: pd.DataFrame) -> pd.DataFrame:
    """Routing accuracy per audit month, oldest first, with a YYYY-MM label."""
    frame = routing_accuracy.assign(
        audit_month=pd.to_datetime(routing_accuracy["audit_month"]),
        audited=routing_accuracy["audited"].astype("int64"),
        agreed=routing_accuracy["agreed"].astype("int64"),
        accuracy=routing_accuracy["accuracy"].astype("float64"),
        below_threshold=routing_accuracy["below_threshold"].fillna(False).astype(bool),
    ).sort_values("audit_month", kind="stable")
    frame["month"] = frame["audit_month"].dt.strftime("%Y-%m")
    return frame.reset_index(drop=True)


def run_labels(started_at: pd.Series) -> list[str]:
    """A distinct, readable label per run: its start to the minute, `#2`... when two share a minute."""
    labels: list[str] = []
    seen: dict[str, int] = {}
    for moment in pd.to_datetime(started_at):
        label = "unknown" if pd.isna(moment) else f"{moment:%Y-%m-%d %H:%M}"
        seen[label] = seen.get(label, 0) + 1
        labels.append(label if seen[label] == 1 else f"{label} #{seen[label]}")
    return labels


def validation_history(runs: pd.DataFrame) -> pd.DataFrame:
    """Validation runs, oldest first, with a label per run."""
    frame = runs.sort_values(["started_at", "run_id"], kind="stable").reset_index(drop=True)
    frame = frame.assign(
        rows_validated=frame["rows_validated"].astype("int64"),
        expectations_failed=frame["expectations_failed"].astype("int64"),
        expectations_warned=frame["expectations_warned"].astype("int64"),
    )
    frame["label"] = run_labels(frame["started_at"])
    return frame


def sync_history(runs: pd.DataFrame) -> pd.DataFrame:
    """Sync runs per destination, oldest first, with a label per run (distinct within a destination)."""
    frame = runs.sort_values(["destination", "started_at", "run_id"], kind="stable").reset_index(drop=True)
    counts = ["planned", "sent", "succeeded", "failed", "skipped_unchanged"]
    frame = frame.assign(**{column: frame[column].fillna(0).astype("int64") for column in counts})
    frame["label"] = ""
    for _, rows in frame.groupby("destination", sort=False):
        frame.loc[rows.index, "label"] = run_labels(rows["started_at"])
    return frame

"""One Plotly figure per panel, from the frames of `shape`: titles, axis titles and units on each.

Every mark a figure draws is one row of the frame it is given (the browser test counts
them): a bar per row, a point per row, a line per trace with two points or more.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
TRACK_PALETTE = ("#4c78a8", "#f58518", "#54a24b", "#b279a2", "#9d755d", "#72b7b2")
ALL_TRACKS_COLOR = "#6e7781"
ALL_TRACKS_LABEL = "all tracks"
IMBALANCED_COLOR = "#d62728"
IMBALANCED_OUTLINE = "#7f0000"
BAND_COLOR = "#2ca02c"
GOOD_COLOR = "#2ca02c"
BAD_COLOR = "#d62728"
NEUTRAL_COLOR = "#4c78a8"
THRESHOLD_COLOR = "#57606a"
STATISTIC_COLORS = {"median": "#9ecae1", "p75": "#4292c6", "p90": "#08519c"}
#: Checkpoint states by role, in the order of var checkpoint_states (before the checkpoint,
#: activated, in recovery, after the last cycle, exited); the recovery cycles take RECOVERY_RAMP.
CHECKPOINT_ROLE_COLORS = ("#6baed6", "#2ca02c", None, "#d62728", "#969696")
RECOVERY_RAMP = ("#fdae6b", "#f16913", "#d94801", "#a63603", "#7f2704")
#: Risk actions from the riskiest (var risk_action_thresholds, highest bound first); the
#: action below every bound (var default_risk_action) is DEFAULT_ACTION_COLOR.
RISK_RAMP = ("#d62728", "#ff9f1c", "#e7ba52", "#8c564b")
DEFAULT_ACTION_COLOR = "#2ca02c"
STATUS_COLORS = {"passed": "#2ca02c", "failed": "#d62728", "accepted": "#ff9f1c"}
SERIES_PALETTE = ("#08519c", "#3182bd", "#6baed6", "#9ecae1", "#c6dbef", "#fd8d3c", "#e6550d")
PERCENT = ".0%"
HEIGHT = 380


def track_colors(tracks: Sequence[str]) -> dict[str, str]:
    """A colour per track, stable for a given track order; `all` is grey."""
    colors = {track: TRACK_PALETTE[index % len(TRACK_PALETTE)] for index, track in enumerate(tracks)}
    return {**colors, "all": ALL_TRACKS_COLOR}


def checkpoint_colors(states: Sequence[str], roles: Sequence[str]) -> dict[str, str]:
    """A colour per checkpoint state: one per role of var checkpoint_states, a ramp over the cycles.

    `states` are the states path_metrics counts, in lifecycle order; every state that is not
    one of the named roles is a recovery cycle and takes the next colour of RECOVERY_RAMP.
    """
    fixed = {role: color for role, color in zip(roles, CHECKPOINT_ROLE_COLORS, strict=True) if color}
    cycles = [state for state in states if state not in fixed]
    ramp = {state: RECOVERY_RAMP[index % len(RECOVERY_RAMP)] for index, state in enumerate(cycles)}
    return {state: fixed.get(state) or ramp[state] for state in states}


def risk_action_colors(thresholds: Mapping[str, float], default_action: str) -> dict[str, str]:
    """A colour per risk action: RISK_RAMP from the highest bound down, the default action green."""
    riskiest_first = sorted(thresholds, key=lambda action: -thresholds[action])
    ramp = {action: RISK_RAMP[index % len(RISK_RAMP)] for index, action in enumerate(riskiest_first)}
    return {**ramp, default_action: DEFAULT_ACTION_COLOR}


def _color(palette: Mapping[str, str], key: str, index: int) -> str:
    return palette.get(key, SERIES_PALETTE[index % len(SERIES_PALETTE)])


def _bar_per_group(
    frame: pd.DataFrame, column: str, bar: Callable[[str, pd.DataFrame, int], go.Bar]
) -> go.Figure:
    """A figure with one bar trace per value of `column`, in the frame's order: bar(value, rows, index)."""
    figure = go.Figure()
    for index, (value, rows) in enumerate(frame.groupby(column, sort=False)):
        figure.add_trace(bar(str(value), rows, index))
    return figure


def _track_label(track: str) -> str:
    return ALL_TRACKS_LABEL if track == "all" else track


def _finish(figure: go.Figure, title: str, height: int = HEIGHT, legend_y: float = 1.0) -> go.Figure:
    """The shared look: title top left, legend above the plot in trace order, no fixed width.

    legend_y lifts the legend above subplot titles.
    """
    figure.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 15}},
        template="plotly_white",
        height=height,
        margin={"l": 64, "r": 24, "t": 88 if legend_y <= 1 else 104, "b": 64},
        font={"family": FONT_FAMILY, "size": 12},
        legend={
            "orientation": "h",
            "x": 0,
            "xanchor": "left",
            "y": legend_y,
            "yanchor": "bottom",
            "traceorder": "normal",
        },
        hoverlabel={"font": {"family": FONT_FAMILY}},
    )
    return figure


def _share_bars(cells: pd.DataFrame, track: str, color: str) -> go.Bar:
    """The bars of one track: its colour, or red, outlined and labelled when the cell is imbalanced."""
    imbalanced = cells["is_imbalanced"].tolist()
    return go.Bar(
        x=cells["signup_cohort_week"],
        y=cells["share"],
        name=track,
        showlegend=False,
        marker={
            "color": [IMBALANCED_COLOR if flag else color for flag in imbalanced],
            "line": {
                "color": [IMBALANCED_OUTLINE if flag else color for flag in imbalanced],
                "width": [2 if flag else 0 for flag in imbalanced],
            },
        },
        text=[f"{share:.0%}" if flag else "" for share, flag in zip(cells["share"], imbalanced, strict=True)],
        textposition="outside",
        textfont={"color": IMBALANCED_OUTLINE, "size": 10},
        constraintext="none",
        cliponaxis=False,
        customdata=list(
            zip(
                cells["customers"],
                cells["cohort_customers"],
                ["imbalanced" if flag else "in band or small cohort" for flag in imbalanced],
                strict=True,
            )
        ),
        hovertemplate=(
            "week of %{x|%Y-%m-%d}<br>share %{y:.1%} (%{customdata[0]} of %{customdata[1]})"
            "<br>%{customdata[2]}<extra>" + track + "</extra>"
        ),
    )


def path_distribution(
    shares: pd.DataFrame, bands: dict[str, tuple[float, float]], tracks: Sequence[str]
) -> go.Figure:
    """A subplot per track: a bar per cohort week (its share of the cohort), the expected band shaded.

    Imbalanced cells (share outside the band in a large enough cohort) are red, outlined and labelled.
    """
    colors = track_colors(tracks)

    def subtitle(track: str) -> str:
        band = bands.get(track)
        return f"{track} (expected {band[0]:.0%}-{band[1]:.0%})" if band else track

    figure = make_subplots(
        rows=1, cols=len(tracks), subplot_titles=[subtitle(t) for t in tracks], horizontal_spacing=0.06
    )
    for column, track in enumerate(tracks, start=1):
        cells = shares[shares["track"] == track]
        figure.add_trace(_share_bars(cells, track, colors[track]), row=1, col=column)
        low, high = bands.get(track, (None, None))
        if low is not None:
            figure.add_hrect(
                y0=low,
                y1=high,
                row=1,
                col=column,
                fillcolor=BAND_COLOR,
                opacity=0.15,
                line_width=0,
                layer="below",
            )
        top = max([*cells["share"].tolist(), high or 0.0, 0.05])
        figure.update_yaxes(range=[0, min(1.0, top * 1.15)], tickformat=PERCENT, row=1, col=column)
        figure.update_xaxes(title_text="signup cohort week (Monday, UTC)", row=1, col=column)
    figure.update_yaxes(title_text="share of the cohort's customers (%)", row=1, col=1)
    return _finish(figure, "Path distribution per signup cohort week against the expected band (%)")


def activation_rates(activation: pd.DataFrame, windows: Sequence[int], tracks: Sequence[str]) -> go.Figure:
    """Activation rate per cohort week, a line per track, a subplot per window (matured customers only)."""
    colors = track_colors(tracks)
    figure = make_subplots(
        rows=1,
        cols=len(windows),
        subplot_titles=[f"activated within {days} days" for days in windows],
        shared_yaxes=True,
        horizontal_spacing=0.05,
    )
    for column, days in enumerate(windows, start=1):
        for track in tracks:
            cells = activation[(activation["window_days"] == days) & (activation["track"] == track)]
            if cells.empty:
                continue
            figure.add_trace(
                go.Scatter(
                    x=cells["signup_cohort_week"],
                    y=cells["rate"],
                    mode="lines+markers",
                    name=track,
                    legendgroup=track,
                    showlegend=column == 1,
                    line={"color": colors[track], "width": 2},
                    marker={"size": 6},
                    customdata=list(zip(cells["activated"], cells["matured"], strict=True)),
                    hovertemplate=(
                        "week of %{x|%Y-%m-%d}<br>%{y:.1%} (%{customdata[0]} of %{customdata[1]} matured)"
                        f"<extra>{track}, {days} d</extra>"
                    ),
                ),
                row=1,
                col=column,
            )
        figure.update_xaxes(title_text="signup cohort week (Monday, UTC)", row=1, col=column)
    figure.update_xaxes(matches="x")
    figure.update_yaxes(range=[0, 1], tickformat=PERCENT)
    figure.update_yaxes(title_text="activation rate (% of matured customers)", row=1, col=1)
    return _finish(
        figure, "Activation rate per path and signup cohort (matured customers only, %)", legend_y=1.1
    )


def time_to_value(ttv: pd.DataFrame) -> go.Figure:
    """Grouped bars: median, p75 and p90 time to value per track, in hours."""

    def bar(statistic: str, rows: pd.DataFrame, index: int) -> go.Bar:
        return go.Bar(
            x=[_track_label(track) for track in rows["track"]],
            y=rows["hours"],
            name=statistic,
            marker_color=_color(STATISTIC_COLORS, statistic, index),
            text=[f"{hours:.0f} h" for hours in rows["hours"]],
            textposition="outside",
            cliponaxis=False,
            hovertemplate=f"%{{x}}<br>{statistic}: %{{y:.1f}} h (%{{customdata:.1f}} d)<extra></extra>",
            customdata=rows["hours"] / 24,
        )

    figure = _bar_per_group(ttv, "statistic", bar)
    figure.update_layout(barmode="group")
    figure.update_xaxes(title_text="track")
    figure.update_yaxes(title_text="time to value (hours from signup to activation)", rangemode="tozero")
    return _finish(figure, "Time to value per path: median, p75 and p90 (hours)")


def _funnel_label(drop_off: float, hours: float) -> str:
    """A step's label: the drop-off from the previous step and the median hours between them."""
    if pd.isna(drop_off):
        return ""
    between = "" if pd.isna(hours) else f", {hours:.0f} h"
    return f"-{drop_off:.0%}{between}"


def milestone_funnel(funnel: pd.DataFrame) -> go.Figure:
    """A subplot per track (tracks in the frame's order): a bar per milestone, its reach rate.

    Each bar after the first is labelled with the drop-off from the previous step and the
    median hours between the two steps.
    """
    tracks = list(dict.fromkeys(funnel["track"]))
    colors = track_colors([track for track in tracks if track != "all"])
    figure = make_subplots(
        rows=1,
        cols=len(tracks),
        subplot_titles=[_track_label(track) for track in tracks],
        shared_yaxes=True,
        horizontal_spacing=0.04,
    )
    for column, track in enumerate(tracks, start=1):
        steps = funnel[funnel["track"] == track]
        figure.add_trace(
            go.Bar(
                x=steps["milestone"],
                y=steps["reach_rate"],
                name=_track_label(track),
                showlegend=False,
                marker_color=colors[track],
                text=[
                    _funnel_label(drop, hours)
                    for drop, hours in zip(steps["drop_off"], steps["hours_from_previous"], strict=True)
                ],
                textposition="outside",
                textfont={"size": 10},
                cliponaxis=False,
                customdata=list(
                    zip(
                        steps["reached"],
                        steps["customers"],
                        steps["drop_off"].fillna(0),
                        steps["hours_from_previous"].fillna(0),
                        strict=True,
                    )
                ),
                hovertemplate=(
                    "%{x}<br>reached by %{y:.1%} (%{customdata[0]:,} of %{customdata[1]:,})"
                    "<br>drop-off from the previous step %{customdata[2]:.1%}"
                    "<br>median %{customdata[3]:.1f} h after the previous step"
                    f"<extra>{_track_label(track)}</extra>"
                ),
            ),
            row=1,
            col=column,
        )
        figure.update_xaxes(title_text="milestone (step order)", tickangle=-30, row=1, col=column)
    figure.update_yaxes(range=[0, 1.1], tickformat=PERCENT)
    figure.update_yaxes(title_text="reach rate (% of the track's customers)", row=1, col=1)
    return _finish(figure, "Milestone funnel per path: reach rate, drop-off and hours between steps")


def adoption_velocity(velocity: pd.DataFrame, days: int) -> go.Figure:
    """A line per track (the frame's order): mean milestones within `days` days per cohort week."""
    tracks = list(dict.fromkeys(velocity["track"]))
    colors = track_colors([track for track in tracks if track != "all"])
    figure = go.Figure()
    for track in tracks:
        cells = velocity[velocity["track"] == track]
        figure.add_trace(
            go.Scatter(
                x=cells["signup_cohort_week"],
                y=cells["mean"],
                mode="lines+markers",
                name=_track_label(track),
                line={"color": colors[track], "width": 3 if track == "all" else 2},
                marker={"size": 6},
                customdata=cells["matured"],
                hovertemplate=(
                    "week of %{x|%Y-%m-%d}<br>%{y:.2f} milestones per customer"
                    f" (%{{customdata:,}} matured)<extra>{_track_label(track)}</extra>"
                ),
            )
        )
    figure.update_xaxes(title_text="signup cohort week (Monday, UTC)")
    figure.update_yaxes(title_text=f"milestones reached within {days} days (mean)", rangemode="tozero")
    return _finish(figure, f"Adoption velocity: milestones within {days} days per matured customer")


def _band_labels(bands: pd.DataFrame) -> dict[str, str]:
    """Each band with its score range: `critical (0-19)` ... `low (80-100)`."""
    ordered_bands = bands.drop_duplicates("score_band").sort_values("min_score")
    lows = ordered_bands["min_score"].tolist()
    highs = [low - 1 for low in lows[1:]] + [100]
    return {
        band: f"{band} ({low}-{high})"
        for band, low, high in zip(ordered_bands["score_band"], lows, highs, strict=True)
    }


def score_vs_expansion(bands: pd.DataFrame, window_days: int, checkpoint_day: int) -> go.Figure:
    """Grouped bars per day-N score band: expansion, contraction and churn rates, with counts."""
    labels = _band_labels(bands)
    order = list(labels.values())
    palette = {"expanded": GOOD_COLOR, "contracted": "#ff9f1c", "churned": BAD_COLOR}

    def bar(rate: str, rows: pd.DataFrame, index: int) -> go.Bar:
        return go.Bar(
            x=[labels[band] for band in rows["score_band"]],
            y=rows["value"],
            name=rate,
            marker_color=_color(palette, rate, index),
            text=[f"{value:.0%}" for value in rows["value"]],
            textposition="outside",
            cliponaxis=False,
            customdata=rows["customers"],
            hovertemplate=f"%{{x}}<br>{rate}: %{{y:.1%}} of %{{customdata:,}} customers<extra></extra>",
        )

    figure = _bar_per_group(bands, "rate", bar)
    figure.update_layout(barmode="group")
    counts = bands.drop_duplicates("score_band")
    figure.update_xaxes(
        title_text=f"milestone score at day {checkpoint_day} (band, points)",
        categoryorder="array",
        categoryarray=order,
        type="category",
        tickvals=[labels[band] for band in counts["score_band"]],
        ticktext=[
            f"{labels[band]}<br>n={n:,}"
            for band, n in zip(counts["score_band"], counts["customers"], strict=True)
        ],
    )
    figure.update_yaxes(
        title_text=f"share of the band's customers (%), by day {window_days}",
        tickformat=PERCENT,
        rangemode="tozero",
    )
    return _finish(figure, f"Onboarding score at day {checkpoint_day} vs expansion by day {window_days} (%)")


def checkpoint_states(states: pd.DataFrame, colors: Mapping[str, str]) -> go.Figure:
    """Stacked horizontal bars: the share of each track's customers in each checkpoint state."""

    def bar(state: str, rows: pd.DataFrame, index: int) -> go.Bar:
        return go.Bar(
            y=[_track_label(track) for track in rows["track"]],
            x=rows["share"],
            name=state,
            orientation="h",
            marker_color=_color(colors, state, index),
            customdata=rows["customers"],
            hovertemplate=f"%{{y}}<br>{state}: %{{x:.1%}} (%{{customdata:,}} customers)<extra></extra>",
        )

    figure = _bar_per_group(states, "state", bar)
    figure.update_layout(barmode="stack")
    figure.update_xaxes(title_text="share of the track's customers (%)", tickformat=PERCENT, range=[0, 1])
    figure.update_yaxes(title_text="track", autorange="reversed")
    return _finish(figure, "Checkpoint state per path (% of the track's customers)")


def stall_alerts(counts: pd.DataFrame) -> go.Figure:
    """Stacked bars: stall alerts per severity, split by the step the customer is stalled at."""
    severities = list(dict.fromkeys(counts["severity"]))

    def bar(step: str, rows: pd.DataFrame, index: int) -> go.Bar:
        return go.Bar(
            x=rows["severity"],
            y=rows["alerts"],
            name=step,
            marker_color=SERIES_PALETTE[index % len(SERIES_PALETTE)],
            hovertemplate=f"%{{x}}<br>stalled at {step}: %{{y:,}} customers<extra></extra>",
        )

    figure = _bar_per_group(counts, "stall_step", bar)
    figure.update_layout(barmode="stack")
    figure.update_xaxes(
        title_text="severity (rule order)", categoryorder="array", categoryarray=severities, type="category"
    )
    figure.update_yaxes(title_text="stall alerts (customers)")
    return _finish(figure, "Stall alerts by severity and stalled step (customers)")


def risk_actions(counts: pd.DataFrame, tracks: Sequence[str], colors: Mapping[str, str]) -> go.Figure:
    """Grouped bars: scored customers per track and churn-risk action."""

    def bar(action: str, rows: pd.DataFrame, index: int) -> go.Bar:
        return go.Bar(
            x=rows["track"],
            y=rows["customers"],
            name=action,
            marker_color=_color(colors, action, index),
            hovertemplate=f"%{{x}}<br>{action}: %{{y:,}} customers<extra></extra>",
        )

    figure = _bar_per_group(counts, "risk_action", bar)
    figure.update_layout(barmode="group")
    figure.update_xaxes(
        title_text="track", categoryorder="array", categoryarray=list(tracks), type="category"
    )
    figure.update_yaxes(title_text="customers")
    return _finish(figure, "Churn-risk actions per track (customers in the risk window)")


def routing_accuracy(months: pd.DataFrame, threshold: float) -> go.Figure:
    """A bar per audit month (red below the threshold) and the threshold as a dashed line."""
    figure = go.Figure(
        go.Bar(
            x=months["month"],
            y=months["accuracy"],
            name="accuracy",
            showlegend=False,
            marker_color=[BAD_COLOR if below else NEUTRAL_COLOR for below in months["below_threshold"]],
            customdata=list(zip(months["agreed"], months["audited"], strict=True)),
            text=[f"{accuracy:.1%}" for accuracy in months["accuracy"]],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{x}<br>accuracy %{y:.1%} (%{customdata[0]} of %{customdata[1]} audits agree)"
            "<extra></extra>",
        )
    )
    figure.add_hline(
        y=threshold,
        line={"dash": "dash", "color": THRESHOLD_COLOR, "width": 2},
        name=f"threshold {threshold:.0%} (routing_accuracy_threshold)",
        showlegend=True,
    )
    figure.update_xaxes(title_text="audit month", type="category")
    figure.update_yaxes(title_text="audits agreeing with the track (%)", tickformat=PERCENT, range=[0, 1.12])
    return _finish(figure, "Routing accuracy per audit month against the threshold (%)")


def validation_runs(history: pd.DataFrame) -> go.Figure:
    """Per run: rows validated (bars, coloured by status) and blocking expectations failed (line)."""
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    for index, (status, rows) in enumerate(history.groupby("status", sort=False)):
        figure.add_trace(
            go.Bar(
                x=rows["label"],
                y=rows["rows_validated"],
                name=f"rows validated, {status}",
                marker_color=_color(STATUS_COLORS, str(status), index),
                customdata=list(zip(rows["run_id"], rows["expectations_warned"], strict=True)),
                hovertemplate="%{customdata[0]}<br>%{y:,} rows, " + str(status) + "<br>"
                "%{customdata[1]} warnings<extra></extra>",
            ),
            secondary_y=False,
        )
    figure.add_trace(
        go.Scatter(
            x=history["label"],
            y=history["expectations_failed"],
            name="blocking expectations failed",
            mode="lines+markers",
            line={"color": BAD_COLOR, "width": 2},
            hovertemplate="%{x}<br>%{y} blocking expectations failed<extra></extra>",
        ),
        secondary_y=True,
    )
    labels = history["label"].tolist()
    top_failed = max(1, int(history["expectations_failed"].max()))
    figure.update_layout(barmode="relative")
    figure.update_xaxes(
        title_text="validation run (start, UTC)", type="category", categoryorder="array", categoryarray=labels
    )
    figure.update_yaxes(title_text="rows validated", rangemode="tozero", secondary_y=False)
    figure.update_yaxes(
        title_text="blocking expectations failed",
        range=[0, top_failed * 1.2],
        dtick=max(1, top_failed // 5),
        showgrid=False,
        secondary_y=True,
    )
    return _finish(figure, "Validation runs: rows validated by status, blocking expectations failed")


def sync_runs(history: pd.DataFrame) -> go.Figure:
    """A subplot per destination: records succeeded and failed per run, stacked."""
    destinations = list(dict.fromkeys(history["destination"]))
    figure = make_subplots(
        rows=1,
        cols=len(destinations),
        subplot_titles=destinations,
        shared_yaxes=True,
        horizontal_spacing=0.05,
    )
    for column, destination in enumerate(destinations, start=1):
        runs = history[history["destination"] == destination]
        details = list(
            zip(
                runs["run_id"],
                runs["status"],
                runs["planned"],
                runs["skipped_unchanged"],
                ["dry run" if flag else ("forced" if forced else "") for flag, forced in _flags(runs)],
                strict=True,
            )
        )
        for outcome, color in (("succeeded", GOOD_COLOR), ("failed", BAD_COLOR)):
            figure.add_trace(
                go.Bar(
                    x=runs["label"],
                    y=runs[outcome],
                    name=outcome,
                    legendgroup=outcome,
                    showlegend=column == 1,
                    marker_color=color,
                    customdata=details,
                    hovertemplate="%{customdata[0]} (%{customdata[1]} %{customdata[4]})<br>"
                    f"{outcome}: %{{y:,}} records<br>planned %{{customdata[2]:,}}, "
                    "unchanged %{customdata[3]:,}<extra>" + str(destination) + "</extra>",
                ),
                row=1,
                col=column,
            )
        figure.update_xaxes(title_text="sync run (start, UTC)", type="category", row=1, col=column)
    figure.update_layout(barmode="stack")
    figure.update_yaxes(title_text="records", rangemode="tozero", row=1, col=1)
    return _finish(figure, "Sync runs: records succeeded and failed per run and destination", legend_y=1.1)


def _flags(runs: pd.DataFrame) -> list[tuple[bool, bool]]:
    dry = runs["dry_run"].fillna(False).astype(bool)
    forced = runs["forced"].fillna(False).astype(bool)
    return list(zip(dry, forced, strict=True))


#: calls_today's columns, by the heading the table gives them, in table order.
CALL_COLUMNS = {
    "rank": "call_rank",
    "reason": "reason",
    "customer": "customer_id",
    "company": "company_name",
    "ARR": "arr",
    "CSM": "csm_owner",
    "detail": "detail",
    "days stalled": "days_stalled",
    "drafted subject": "recovery_subject",
}
CALL_COLUMN_WIDTHS = (5, 14, 11, 14, 9, 12, 15, 7, 36)
#: the row fill of each reason, in the order the reasons first appear (call_rank order)
REASON_FILLS = ("#fde0dd", "#fff3cd", "#e5f5e0", "#deebf7", "#efedf5")
HEADER_FILL = "#eaeef2"
TABLE_ROW_HEIGHT = 26
#: rows shown before the table scrolls
TABLE_VISIBLE_ROWS = 15


def _text(value: object) -> str:
    """A cell as text: null is empty."""
    return "" if value is None or pd.isna(value) else str(value)


def _usd(value: object) -> str:
    """An amount in whole US dollars; null is empty."""
    return "" if value is None or pd.isna(value) else f"${float(value):,.0f}"  # type: ignore[arg-type]


def call_cells(calls: pd.DataFrame) -> list[list[str]]:
    """The table's cells, a list per column of CALL_COLUMNS, a text per row in the frame's order."""
    return [
        [_usd(value) if column == "arr" else _text(value) for value in calls[column]]
        for column in CALL_COLUMNS.values()
    ]


def calls_today(calls: pd.DataFrame) -> go.Figure:
    """A table, a row per call in call_rank order, filled by reason; it scrolls past TABLE_VISIBLE_ROWS."""
    reasons = list(dict.fromkeys(calls["reason"]))
    fills = {reason: REASON_FILLS[index % len(REASON_FILLS)] for index, reason in enumerate(reasons)}
    row_fills = [fills[reason] for reason in calls["reason"]]
    numeric = {"call_rank", "arr", "days_stalled"}
    figure = go.Figure(
        go.Table(
            columnwidth=list(CALL_COLUMN_WIDTHS),
            header={
                "values": [f"<b>{label}</b>" for label in CALL_COLUMNS],
                "fill_color": HEADER_FILL,
                "align": "left",
                "height": TABLE_ROW_HEIGHT + 4,
            },
            cells={
                "values": call_cells(calls),
                "fill_color": [row_fills] * len(CALL_COLUMNS),
                "align": ["right" if column in numeric else "left" for column in CALL_COLUMNS.values()],
                "height": TABLE_ROW_HEIGHT,
            },
        )
    )
    rows = TABLE_ROW_HEIGHT * min(len(calls), TABLE_VISIBLE_ROWS)
    title = "Who to call today: realtime stalls, emergency outreach, new PQLs"
    figure = _finish(figure, title, height=88 + (TABLE_ROW_HEIGHT + 4) + rows + 24)
    figure.update_layout(margin={"l": 8, "r": 8, "b": 16})
    return figure

"""The experiments panel: each arm's primary rate and its difference from the control, with CIs.

Reads what `onboard experiments` wrote (experiments.experiment_results / experiment_roi,
docs/definitions.md#experiments-readout); computes nothing of its own. Beside the chart, the
note gives per experiment the sample-ratio check, the verdict and the ROI estimate's range.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from onboard.dashboard import charts
from onboard.dashboard.panels import Panel
from onboard.dashboard.read import ReportData

KEY = "experiments"
PRIMARY = "activated_within_14d"
VERDICT_COLORS = {
    "better": charts.GOOD_COLOR,
    "worse": charts.BAD_COLOR,
    "invalid_srm": charts.BAD_COLOR,
    "collecting": charts.THRESHOLD_COLOR,
    "no_detectable_difference": charts.NEUTRAL_COLOR,
}


def primary_rows(results: pd.DataFrame) -> pd.DataFrame:
    """The primary metric's rows, a `label` (experiment / arm) each: by experiment, its control first."""
    rows = results[results["metric"] == PRIMARY].copy()
    rows["label"] = rows["experiment"] + " / " + rows["arm"]
    rows["is_control"] = rows["arm"] == rows["control_arm"]
    rows = rows.sort_values(["experiment", "is_control"], ascending=[True, False], kind="stable")
    return rows.reset_index(drop=True)


def _error(rows: pd.DataFrame, value: str, low: str, high: str) -> dict[str, object]:
    return {
        "type": "data",
        "symmetric": False,
        "array": (rows[high] - rows[value]).fillna(0).tolist(),
        "arrayminus": (rows[value] - rows[low]).fillna(0).tolist(),
    }


def figure(rows: pd.DataFrame) -> go.Figure:
    """Left: each arm's 14-day activation rate with its 95 % interval (a point per arm). Right:
    each non-control arm's difference from its control with its 95 % interval, against zero."""
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("14-day activation per arm (95% CI)", "difference from the control (95% CI)"),
        horizontal_spacing=0.14,
    )
    rated = rows[rows["value"].notna()]
    fig.add_trace(
        go.Scatter(
            x=rated["label"],
            y=rated["value"],
            mode="markers",
            name="arm's rate",
            marker={"size": 11, "color": charts.NEUTRAL_COLOR},
            error_y=_error(rated, "value", "value_ci_low", "value_ci_high"),
            customdata=list(zip(rated["units"], rated["customers"], strict=True)),
            hovertemplate="%{x}<br>%{y:.1%} of %{customdata[0]:,} matured (of %{customdata[1]:,})"
            "<extra></extra>",
        ),
        row=1,
        col=1,
    )
    compared = rows[rows["diff"].notna()]
    fig.add_trace(
        go.Scatter(
            x=compared["label"],
            y=compared["diff"],
            mode="markers",
            name="difference (verdict colour)",
            marker={
                "size": 11,
                "color": [VERDICT_COLORS.get(v, charts.NEUTRAL_COLOR) for v in compared["verdict"]],
            },
            error_y=_error(compared, "diff", "diff_ci_low", "diff_ci_high"),
            customdata=list(zip(compared["control_arm"], compared["verdict"], strict=True)),
            hovertemplate="%{x} vs %{customdata[0]}<br>%{y:+.1%}: %{customdata[1]}<extra></extra>",
        ),
        row=1,
        col=2,
    )
    fig.add_hline(y=0, line={"dash": "dash", "color": charts.THRESHOLD_COLOR, "width": 1}, row=1, col=2)
    fig.update_xaxes(type="category")
    fig.update_yaxes(title_text="activated within 14 days (%)", tickformat=charts.PERCENT, row=1, col=1)
    fig.update_yaxes(title_text="arm minus control (points)", tickformat="+.0%", row=1, col=2)
    return charts._finish(fig, "Experiments: primary metric per arm and lift over the control", legend_y=1.08)


def _money(value: object) -> str:
    return "-" if value is None or pd.isna(value) else f"{float(value):,.0f}"  # type: ignore[arg-type]


def summary(rows: pd.DataFrame, roi: pd.DataFrame | None) -> str:
    """Per experiment: SRM check, each arm's verdict, the ROI range; one sentence each."""
    parts = []
    for experiment, group in rows.groupby("experiment", sort=False):
        first = group.iloc[0]
        srm = "n/a" if pd.isna(first["srm_p_value"]) else f"{first['srm_p_value']:.3f}"
        check = "MISMATCH, results invalid" if first["srm_flag"] else "ok"
        verdicts = ", ".join(
            f"{row.arm} vs {row.control_arm}: {row.verdict}"
            for row in group.itertuples()
            if isinstance(row.verdict, str)
        )
        text = f"{experiment}: sample ratio p {srm} ({check}); {verdicts or 'no arm to compare'}"
        estimates = roi[roi["experiment"] == experiment] if roi is not None else pd.DataFrame()
        for row in estimates.itertuples():
            text += (
                f"; ROI estimate {row.arm} over {row.control_arm}: {_money(row.roi_low)} to "
                f"{_money(row.roi_high)} USD a year ({row.new_customers_per_year:,.0f} new customers a year "
                f"x lift x ARPU {_money(row.arpu)} + {row.csm_hours_per_year:g} CSM hours x "
                f"{row.loaded_hourly_cost:g} USD)"
            )
        parts.append(text + ".")
    return " ".join(parts)


def experiments_panel(data: ReportData) -> Panel:
    """The panel, or a sentence when no readout has run or nothing is configured."""
    note = (
        "Written by `onboard experiments` (also run by `onboard run`). 'collecting': an arm has fewer "
        "matured customers than min_customers_per_arm; 'invalid_srm': the arms are out of proportion "
        "(p < 0.001), read nothing; 'better' / 'worse': p < 0.05; 'no_detectable_difference': smaller "
        "than the test can see now. ROI is an estimate."
    )
    panel = Panel(KEY, "Experiments: holdout and A/B readout", note, wide=True)
    results = data.experiment_results
    if results is None:
        return Panel(
            KEY,
            panel.title,
            note,
            message="No experiment readout yet: configure var experiments and run `onboard experiments`.",
            wide=True,
        )
    rows = primary_rows(results)
    if rows.empty:
        return Panel(
            KEY, panel.title, note, message="No experiment configured (var experiments is empty).", wide=True
        )
    return Panel(KEY, panel.title, f"{summary(rows, data.experiment_roi)} {note}", figure(rows), wide=True)

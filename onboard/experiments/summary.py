"""The readout for people: a fixed-width table per experiment and a summary line per arm; and JSON.

How to read a verdict: docs/definitions.md#experiment-verdict.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from onboard.experiments.readout import METRICS, PRIMARY_METRIC, ResultRow
from onboard.experiments.runner import ReadoutResult
from onboard.experiments.store import RoiRow

#: metrics shown as percentages (their diff in percentage points)
RATES = ("activated_within_14d", "activated_within_7d", "stalled")
HEADER = ("arm", "metric", "customers", "units", "value", "diff [95% CI]", "p", "verdict")


def _number(value: float | None, metric: str, *, signed: bool = False) -> str:
    if value is None:
        return "-"
    sign = "+" if signed else ""
    if metric in RATES:
        return f"{value * 100:{sign}.1f}{' pp' if signed else '%'}"
    return f"{value:{sign},.2f}"


def _interval(row: ResultRow) -> str:
    if row.diff is None:
        return "-"
    text = _number(row.diff, row.metric, signed=True)
    if row.diff_ci_low is None or row.diff_ci_high is None:
        return text
    low, high = (
        _number(v, row.metric, signed=True).removesuffix(" pp") for v in (row.diff_ci_low, row.diff_ci_high)
    )
    return f"{text} [{low}, {high}]"


def _p(value: float | None) -> str:
    if value is None:
        return "-"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _cells(row: ResultRow) -> tuple[str, ...]:
    return (
        row.arm + (" (control)" if row.arm == row.control_arm else ""),
        row.metric,
        f"{row.customers:,}",
        f"{row.units:,}",
        _number(row.value, row.metric),
        _interval(row),
        _p(row.p_value),
        row.verdict or "",
    )


def table_lines(rows: list[ResultRow]) -> Iterator[str]:
    """The rows as an aligned text table, metric by metric."""
    ordered = sorted(rows, key=lambda row: METRICS.index(row.metric))
    cells = [HEADER, *(_cells(row) for row in ordered)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADER))]
    for index, line in enumerate(cells):
        yield "  " + "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        if index == 0:
            yield "  " + "  ".join("-" * width for width in widths)


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def roi_line(row: RoiRow) -> str:
    """The ROI range of an arm and its inputs, labelled an estimate."""
    r = row.roi
    if r.roi is None:
        return f"  ROI estimate {row.arm} over {row.control_arm}: not computable (no lift or no ARPU yet)"
    return (
        f"  ROI estimate {row.arm} over {row.control_arm}: {_money(r.roi)} USD a year "
        f"(range {_money(r.roi_low)} to {_money(r.roi_high)}) = {r.new_customers_per_year:,.0f} "
        f"new customers a year ({r.new_customers_basis}) x lift "
        f"{_number(r.lift, PRIMARY_METRIC, signed=True)} x ARPU {_money(r.arpu)} ({r.arpu_basis}) "
        f"+ {r.csm_hours_per_year:g} CSM hours x {r.loaded_hourly_cost:g} USD"
    )


def verdict_line(row: ResultRow) -> str:
    """One arm's verdict on the primary metric, in words."""
    mdd = _number(row.mdd, row.metric, signed=True) if row.mdd is not None else "-"
    return (
        f"  {row.arm} vs {row.control_arm}: {row.verdict} ({PRIMARY_METRIC} {_interval(row)}, "
        f"p {_p(row.p_value)}; detectable at 80% power: {mdd})"
    )


def summary_lines(result: ReadoutResult) -> Iterator[str]:
    """Everything `onboard experiments` prints: per experiment, the SRM check, table, verdicts, ROI."""
    for note in result.notes:
        yield f"experiments: {note}"
    if not result.configured:
        return
    for design in result.designs:
        rows = [row for row in result.results if row.experiment == design.name]
        first = rows[0]
        srm = "-" if first.srm_p_value is None else f"{first.srm_p_value:.4f}"
        state = "MISMATCH, results invalid" if first.srm_flag else "ok"
        sample = (
            "enough"
            if first.enough_sample
            else f"collecting (< {design.min_customers_per_arm} matured per arm)"
        )
        yield (
            f"experiment {design.name} (control {design.control}; as of {result.as_of:%Y-%m-%d %H:%M} UTC): "
            f"sample ratio p {srm} {state}; sample {sample}"
        )
        yield from table_lines(rows)
        for row in rows:
            if row.verdict is not None:
                yield verdict_line(row)
        for roi_row in result.rois:
            if roi_row.experiment == design.name:
                yield roi_line(roi_row)
    yield "written to experiments.experiment_results and experiments.experiment_roi"


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def to_json(result: ReadoutResult) -> str:
    """The readout as one JSON document: as_of, notes, and per experiment its rows and ROI."""
    document = {
        "as_of": _plain(result.as_of),
        "computed_at": _plain(result.computed_at),
        "notes": list(result.notes),
        "experiments": [
            {
                "experiment": design.name,
                "control_arm": design.control,
                "results": [asdict(row) for row in result.results if row.experiment == design.name],
                "roi": [
                    {
                        "arm": row.arm,
                        "control_arm": row.control_arm,
                        "verdict": row.verdict,
                        "is_estimate": True,
                        **{f.name: getattr(row.roi, f.name) for f in fields(row.roi)},
                    }
                    for row in result.rois
                    if row.experiment == design.name
                ],
            }
            for design in result.designs
        ],
    }
    return json.dumps(document, indent=2, default=_plain)

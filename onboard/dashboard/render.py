"""`render_report`: read the marts, draw the panels, write one self-contained HTML file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from onboard.core.logs import log
from onboard.core.paths import PROJECT_DIR
from onboard.core.targets import Target
from onboard.dashboard import shape
from onboard.dashboard.page import PageHeader, page_html
from onboard.dashboard.panels import build_panels
from onboard.dashboard.read import read_report_data
from onboard.dashboard.settings import ReportSettings, load_settings


@dataclass(frozen=True)
class ReportResult:
    """What render_report wrote: the file, the charts drawn (by id), the rows read per table."""

    path: Path
    charts: tuple[str, ...]
    messages: tuple[str, ...]
    rows_read: dict[str, int]

    @property
    def charts_rendered(self) -> int:
        """How many charts the page holds."""
        return len(self.charts)


def warehouse_label(target: Target) -> str:
    """Where the figures come from, without secrets; a DuckDB file inside the project by its relative path."""
    if target.type == "duckdb" and target.duckdb_path.is_relative_to(PROJECT_DIR):
        return f"duckdb file {target.duckdb_path.relative_to(PROJECT_DIR)}"
    return target.describe()


def render_report(
    target: Target,
    out: Path,
    *,
    settings: ReportSettings | None = None,
    generated_at: datetime | None = None,
) -> ReportResult:
    """Render the dashboard of target's marts to out (an HTML file that needs no network).

    settings default to dbt_project.yml's vars; generated_at to now (UTC). Raises
    onboard.core.errors.UsageError when the warehouse or one of its marts is missing.
    """
    settings = settings or load_settings()
    data = read_report_data(target, settings)
    customers = data.marts["onboarding_customers"]
    header = PageHeader(
        as_of=shape.derive_as_of(customers),
        customers=len(customers),
        generated_at=(generated_at or datetime.now(UTC)).astimezone(UTC),
        warehouse=warehouse_label(target),
    )
    headline = shape.headline(
        data.marts["path_metrics"], customers, data.marts["stall_alerts"], settings.activation_windows_days
    )
    panels = build_panels(data, settings)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page_html(header, headline, panels), encoding="utf-8")
    result = ReportResult(
        path=out,
        charts=tuple(f"chart-{panel.key}" for panel in panels if panel.figure is not None),
        messages=tuple(panel.key for panel in panels if panel.figure is None),
        rows_read=data.rows_read,
    )
    log("report.written", path=out, charts=result.charts_rendered, bytes=out.stat().st_size)
    return result

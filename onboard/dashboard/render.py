"""`render_report`: read the marts, draw the panels, write one self-contained HTML file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from onboard.core.errors import InputError
from onboard.core.logs import log
from onboard.core.paths import PROJECT_DIR
from onboard.core.targets import Target
from onboard.dashboard import shape
from onboard.dashboard.experiments import experiments_panel
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


def _prepare_folder(out: Path) -> None:
    """Create out's folder before the warehouse is read, so an unusable --out fails first, in one line."""
    if out.is_dir():
        raise InputError(
            f"cannot write {out}: it is a folder (name the HTML file, e.g. {out / 'dashboard.html'})"
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError(f"cannot write {out}: {_not_a_folder(out)} is not a folder") from None
    except OSError as error:
        raise InputError(f"cannot write {out}: {error.strerror or error}") from None


def _not_a_folder(out: Path) -> Path:
    """The first of out's ancestors that exists as something other than a folder."""
    return next((p for p in reversed(out.parents) if p.exists() and not p.is_dir()), out.parent)


def _write(out: Path, html: str) -> None:
    """Write the page; a file that cannot be written (no permission, a full disk) is one line."""
    try:
        out.write_text(html, encoding="utf-8")
    except OSError as error:
        raise InputError(f"cannot write {out}: {error.strerror or error}") from None


def render_report(
    target: Target,
    out: Path,
    *,
    settings: ReportSettings | None = None,
    generated_at: datetime | None = None,
) -> ReportResult:
    """Render the dashboard of target's marts to out (an HTML file that needs no network).

    settings default to dbt_project.yml's vars; generated_at to now (UTC). Raises
    onboard.core.errors.UsageError when the warehouse or one of its marts is missing, InputError
    when out cannot be written.
    """
    _prepare_folder(out)
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
    panels = [*build_panels(data, settings), experiments_panel(data)]
    _write(out, page_html(header, headline, panels))
    result = ReportResult(
        path=out,
        charts=tuple(f"chart-{panel.key}" for panel in panels if panel.figure is not None),
        messages=tuple(panel.key for panel in panels if panel.figure is None),
        rows_read=data.rows_read,
    )
    log("report.written", path=out, charts=result.charts_rendered, bytes=out.stat().st_size)
    return result

"""The steps a user runs, and the two jobs made of them: `demo` and the daily `run`.

Each step calls one feature (generate, load, validate, build, sync, alerts, dashboard) and
tells the user what happened through a `Reporter` (the CLI's is rich on stderr); the jobs
chain steps. This is the one module that wires features together: the sync's validation
gate, for one, is handed to the sync here (features never import one another).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal, Protocol

from onboard import build as building
from onboard.core.as_of import now_to_the_hour
from onboard.core.errors import OnboardError, UsageError
from onboard.core.logs import log
from onboard.core.targets import Target
from onboard.core.warehouse import check_writable
from onboard.validate import runs as validation_runs

#: advance(done, total): a progress bar's new position (total None while unknown)
Advance = Callable[[int, int | None], None]

DASHBOARD_FILE = Path("results/dashboard.html")


class Reporter(Protocol):
    """Where the steps tell the user what happened."""

    def line(self, text: str) -> None: ...

    def rule(self, title: str) -> None: ...

    def progress(self, description: str, total: int | None) -> AbstractContextManager[Advance]: ...


class StepFailedError(OnboardError):
    """A step that reported its own failure (dbt's output, a failed sync) and exits with its code."""

    def __init__(self, exit_code: int) -> None:
        super().__init__(f"exit code {exit_code}")
        self.exit_code = exit_code


def generate(
    out: Reporter,
    out_dir: Path,
    *,
    customers: int,
    seed: int,
    as_of: datetime | None,
    breaks: list[str] | None,
    fmt: str,
) -> None:
    """Realistic raw tables plus a manifest of the defects injected."""
    from onboard.generate import GenerateOptions, parse_break
    from onboard.generate import generate as run_generate

    if fmt not in ("parquet", "csv"):
        raise UsageError(f"--format {fmt}: expected parquet or csv")
    file_format: Literal["parquet", "csv"] = "parquet" if fmt == "parquet" else "csv"
    options = GenerateOptions(
        customers=customers,
        seed=seed,
        as_of=as_of or now_to_the_hour(),
        fmt=file_format,
        breaks=tuple(parse_break(text) for text in breaks or ()),
    )
    with out.progress("generate customers", customers) as advance:
        done = 0

        def step(n: int) -> None:
            nonlocal done
            done += n
            advance(done, customers)

        manifest = run_generate(out_dir, options, step)
    events = manifest["events"]
    log("generate.done", out_dir=out_dir, customers=customers, events=events["rows"])
    out.line(
        f"wrote {events['rows']:,} events for {customers:,} customers to {out_dir} "
        f"(unusable {sum(events['unusable'].values()):,}, "
        f"duplicates {events['duplicate_rows']:,}); "
        f"manifest: {out_dir / 'manifest.json'}"
    )


def load(
    out: Reporter, directory: Path, target: Target, *, append: bool, allow_duplicate: bool = False
) -> None:
    """Raw files into schema `raw`, as text, in one transaction."""
    from onboard.load import load as run_load

    with out.progress(f"load into {target.name}", None) as advance:
        done = 0

        def step(n: int) -> None:
            nonlocal done
            done += n
            advance(done, None)

        report = run_load(directory, target, append=append, progress=step, allow_duplicate=allow_duplicate)
        advance(report.rows, report.rows)
    for table in report.tables:
        log("load.table", table=table.table, file=table.file, rows=table.rows, mode=report.mode)
        for problem, count in table.bad_values.items():
            out.line(f"  {table.file}: {count:,} rows with {problem} (kept; staging sets them aside)")
        if table.extra_columns:
            out.line(f"  {table.file}: ignored columns {', '.join(table.extra_columns)}")
    for name in report.ignored_files:
        out.line(f"  ignored {name} (not a raw table)")
    out.line(
        f"loaded {report.rows:,} rows into {target.describe()} ({report.mode}, _loaded_at {report.loaded_at})"
    )


def validate(out: Reporter, target: Target, since: datetime | None = None, *, blocking: bool = False) -> None:
    """Validate the raw rows loaded since the last good run.

    A blocking failure raises when `blocking` (`onboard validate` exits 1); the jobs go on,
    and the sync's gate then refuses to push what the failed run covers.
    """
    from onboard.validate.runner import ValidationFailedError
    from onboard.validate.runner import validate as run_validate
    from onboard.validate.summary import summary_lines

    result = run_validate(target, since=since)
    for text in summary_lines(result):
        out.line(text)
    log("validate.done", run_id=result.run_id, status=result.status, rows=result.rows)
    if blocking and result.exit_code:
        raise ValidationFailedError(f"validation run {result.run_id} failed (blocking expectations above)")


def accept_validation(out: Reporter, target: Target, run_id: str, by: str | None, reason: str | None) -> None:
    """Accept a failed validation run (logged), so the gate lets the syncs through."""
    record = validation_runs.accept_run(target, run_id, by or os.environ.get("USER", ""), reason or "")
    out.line(f"accepted run {record.run_id} (by {record.accepted_by}: {record.accepted_reason})")


def build(
    target: Target,
    as_of: datetime | None,
    *,
    full_refresh: bool = False,
    select: str | None = None,
    exclude: str | None = None,
) -> None:
    """`dbt build` as of an instant; dbt prints its own failures, so a failure is only an exit code.

    A DuckDB file another process holds is one line first: dbt's own lock error is a page of log.
    One taken while dbt ran is named after dbt's output, as the last line.
    """
    check_writable(target)
    code = building.build(target, as_of, full_refresh=full_refresh, select=select, exclude=exclude)
    if code:
        check_writable(target)
        raise StepFailedError(code)


def sync(out: Reporter, target: Target, what: str, *, dry_run: bool, force: bool, setup: bool) -> int:
    """One destination, or every destination of the mappings; the worst exit code.

    Destinations are independent: one that fails (refused credentials, setup needed, a guard,
    an outage) is reported, and recorded by the sync as a failed run, and the next one still
    runs. With a single destination its error is raised as it is (one line at the CLI).
    """
    from sync.config import load_sync_config
    from sync.gate import ValidationGate
    from sync.runner import sync_destination
    from sync.status import summary_lines

    config = load_sync_config()
    names = list(config.destinations) if what == "all" else [what]
    gate = ValidationGate(validation_runs.require_passing_validation, validation_runs.gate_problem)
    code = 0
    outcomes: list[str] = []
    for name in names:
        try:
            with out.progress(f"sync {name}", None) as advance:
                result = sync_destination(
                    target,
                    name,
                    gate=gate,
                    dry_run=dry_run,
                    force=force,
                    setup=setup,
                    config=config,
                    progress=advance,
                )
        except OnboardError as error:
            if len(names) == 1:
                raise
            out.line(f"onboard: error: sync {name}: {error}")
            outcomes.append(f"{name} failed (exit {error.exit_code})")
            code = max(code, error.exit_code)
            continue
        for text in summary_lines(result):
            out.line(text)
        outcomes.append(f"{name} {result.run.status}")
        code = max(code, result.exit_code)
    if len(names) > 1:
        out.line(f"sync: {', '.join(outcomes)}; exit code {code}")
    return code


def sync_status(out: Reporter, target: Target) -> None:
    """The last runs of each destination and the records waiting for a retry."""
    from sync.status import status_lines

    for text in status_lines(target):
        out.line(text)


def alerts(out: Reporter, target: Target, *, dry_run: bool) -> int:
    """Stall alerts to Slack: realtime one by one, a daily digest of the rest; the exit code."""
    from onboard.alerts import run_alerts
    from onboard.alerts import summary_lines as alert_lines

    result = run_alerts(target, dry_run=dry_run)
    for text in alert_lines(result):
        out.line(text)
    return result.exit_code


def dashboard(out: Reporter, target: Target, path: Path) -> Path:
    """The offline HTML dashboard of the marts."""
    from onboard.dashboard import render_report

    result = render_report(target, path)
    for message in result.messages:
        out.line(f"  {message}")
    out.line(f"dashboard: {result.path} ({result.charts_rendered} charts)")
    return result.path


def demo(out: Reporter, target: Target, *, customers: int, seed: int, data_dir: Path) -> int:
    """Generate demo data, load, validate, build as of this hour, summarise, dashboard, sync dry run."""
    as_of = now_to_the_hour()
    generate(out, data_dir, customers=customers, seed=seed, as_of=as_of, breaks=None, fmt="parquet")
    load(out, data_dir, target, append=False)
    validate(out, target)
    build(target, as_of, full_refresh=True)
    out.rule("onboarding-paths demo")
    for text in _summary(target, as_of):
        out.line(text)
    from onboard.dashboard import render_report

    page = render_report(target, DASHBOARD_FILE)
    out.line(f"dashboard        {page.path} (open it in a browser; works offline)")
    out.line(
        f"next             .venv/bin/onboard build --as-of {as_of - timedelta(days=7):%Y-%m-%dT%H:%M:%SZ} "
        "(replay a week ago); .venv/bin/onboard sync status; .venv/bin/onboard --help"
    )
    out.rule("sync plan: a dry run, nothing is sent (set the env vars of sync/README.md to push)")
    return sync(out, target, "all", dry_run=True, force=False, setup=False)


def _summary(target: Target, as_of: datetime) -> Iterator[str]:
    summary = building.summarise(target)
    reasons = ", ".join(f"{reason} {count:,}" for reason, count in summary.unusable_by_reason.items())
    yield f"as of            {as_of:%Y-%m-%d %H:%M} UTC"
    yield f"customers        {summary.customers:,}"
    yield f"usable events    {summary.usable_events:,}"
    yield f"unusable events  {summary.unusable_events:,} ({reasons}) -> stg_product__events_unusable"
    yield f"warehouse        {target.describe()}"
    yield "marts            main.onboarding_customers, stall_alerts, path_metrics, cohort_routing_report, ..."


def daily_run(out: Reporter, target: Target, *, as_of: datetime | None, dry_run: bool, force: bool) -> int:
    """The daily job: validate the new raw rows, build, then sync every destination."""
    validate(out, target)
    build(target, as_of)
    return sync(out, target, "all", dry_run=dry_run, force=force, setup=False)

"""The steps a user runs, and the two jobs made of them: `demo` and the daily `run`.

Each step calls one feature (generate, load, validate, build, sync, alerts, dashboard) and
tells the user what happened through a `Reporter` (the CLI's is rich on stderr); the jobs
chain steps. This is the one module that wires features together: the sync's validation
gate, for one, is handed to the sync here (features never import one another).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol

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
#: the demo's known effect: the automated arm of its global holdout activates 15 points more in 14 days
#: (large enough for its 5 % holdout of 5,000 customers to detect: the MDD is about 9.5 points)
DEMO_LIFT = "global_holdout:automated:+0.15"


def demo_experiments(as_of: datetime) -> dict[str, Any]:
    """The vars the demo builds with over dbt_project.yml's: a global holdout (5 % withheld, 95 %
    automated) that starts a year before the demo data, so every generated customer is in it."""
    return {
        "experiments": [
            {
                "name": "global_holdout",
                "starts_at": f"{as_of - timedelta(days=365):%Y-%m-%d}",
                "ends_at": None,
                "control": "holdout",
                "arms": [
                    {"name": "holdout", "weight": 0.05, "holdout": True},
                    {"name": "automated", "weight": 0.95},
                ],
                "min_customers_per_arm": 100,
            }
        ]
    }


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
    lifts: list[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> None:
    """Realistic raw tables plus a manifest of the defects injected (and of the --lift effects:
    the experiments come from var experiments, with `overrides` over dbt_project.yml's)."""
    from onboard.core.project_config import read_experiments
    from onboard.generate import GenerateOptions, parse_break, parse_lift
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
        lifts=tuple(parse_lift(text) for text in lifts or ()),
        experiments=tuple(read_experiments(overrides=overrides)) if lifts else (),
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
    for lift in manifest["lifts"]:
        out.line(
            f"  lift {lift['experiment']}:{lift['arm']} {lift['delta']:+g} on 14-day activation: "
            f"{lift['changed']:,} of {lift['customers']:,} customers in the arm changed"
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
    out: Reporter,
    target: Target,
    as_of: datetime | None,
    *,
    full_refresh: bool = False,
    select: str | None = None,
    exclude: str | None = None,
    summary: bool = True,
    overrides: Mapping[str, Any] | None = None,
) -> None:
    """`dbt build` as of an instant (default: now), then its summary on `out` (build_summary).

    dbt runs quietly and prints its own failures, so a failure is only an exit code. A
    DuckDB file another process holds is one line first: dbt's own lock error is a page of
    log. One taken while dbt ran is named after dbt's output, as the last line.
    """
    check_writable(target)
    as_of = as_of or datetime.now(UTC).replace(microsecond=0)
    code = building.build(
        target, as_of, full_refresh=full_refresh, select=select, exclude=exclude, overrides=overrides
    )
    if code:
        check_writable(target)
        raise StepFailedError(code)
    if summary:
        for text in build_summary(target, as_of):
            out.line(text)


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


def experiments(
    out: Reporter,
    target: Target,
    *,
    only: str | None = None,
    as_json: bool = False,
    overrides: Mapping[str, Any] | None = None,
) -> str | None:
    """The experiments' readout (docs/definitions.md#experiments-readout): computed, written to
    experiments.experiment_results / experiment_roi, and printed; the JSON text when as_json."""
    from onboard.experiments import run_readout, summary_lines, to_json

    result = run_readout(target, only=only, overrides=overrides)
    log("experiments.done", experiments=len(result.designs), rows=len(result.results))
    if as_json:
        return to_json(result)
    for text in summary_lines(result):
        out.line(text)
    return None


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


def demo(
    out: Reporter,
    target: Target,
    *,
    customers: int,
    seed: int,
    data_dir: Path,
    summary: Reporter | None = None,
) -> int:
    """Generate demo data, load, validate, build as of this hour, summarise, dashboard, sync dry run.

    The summary (what was built, the dashboard, what to try next) goes to `summary` (default: out).
    """
    as_of = now_to_the_hour()
    # a global holdout through vars given to the build (dbt_project.yml's defaults unchanged),
    # and data generated with a known lift of its automated arm
    overrides = demo_experiments(as_of)
    generate(
        out,
        data_dir,
        customers=customers,
        seed=seed,
        as_of=as_of,
        breaks=None,
        fmt="parquet",
        lifts=[DEMO_LIFT],
        overrides=overrides,
    )
    load(out, data_dir, target, append=False)
    validate(out, target)
    build(out, target, as_of, full_refresh=True, summary=False, overrides=overrides)
    result = summary or out
    result.rule("onboarding-paths demo")
    for text in build_summary(target, as_of):
        result.line(text)
    result.rule(f"experiments: a global holdout, generated with a known lift ({DEMO_LIFT})")
    experiments(result, target, overrides=overrides)
    from onboard.dashboard import render_report

    page = render_report(target, DASHBOARD_FILE)
    result.line(f"dashboard        {page.path} (open it in a browser; works offline)")
    result.line(
        f"next             .venv/bin/onboard build --as-of {as_of - timedelta(days=7):%Y-%m-%dT%H:%M:%SZ} "
        "(replay a week ago); .venv/bin/onboard sync status; .venv/bin/onboard --help"
    )
    out.rule("sync plan: a dry run, nothing is sent (set the env vars of sync/README.md to push)")
    return sync(out, target, "all", dry_run=True, force=False, setup=False)


def build_summary(target: Target, as_of: datetime) -> Iterator[str]:
    """What a build made, as `onboard build` and the demo print it; a warning when the marts are
    empty because as_of is before every event (docs/definitions.md#as-of-before-data)."""
    summary = building.summarise(target)
    reasons = ", ".join(f"{reason} {count:,}" for reason, count in summary.unusable_by_reason.items())
    yield f"as of            {as_of:%Y-%m-%d %H:%M} UTC"
    yield f"customers        {summary.customers:,}"
    yield f"usable events    {summary.usable_events:,}"
    yield f"unusable events  {summary.unusable_events:,} ({reasons}) -> stg_product__events_unusable"
    yield f"warehouse        {target.describe()}"
    yield "marts            main.onboarding_customers, stall_alerts, path_metrics, cohort_routing_report, ..."
    problem = summary.as_of_problem(as_of)
    if problem:
        yield f"warning          {problem}"


def daily_run(out: Reporter, target: Target, *, as_of: datetime | None, dry_run: bool, force: bool) -> int:
    """The daily job: validate the new raw rows, build, read the experiments, then sync every destination."""
    validate(out, target)
    build(out, target, as_of)
    experiments(out, target)
    return sync(out, target, "all", dry_run=dry_run, force=force, setup=False)

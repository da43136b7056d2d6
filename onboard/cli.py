"""The `onboard` command line: parses arguments and calls the library; nothing else."""

from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from onboard.core.as_of import dbt_as_of, now_to_the_hour, parse_as_of
from onboard.core.dbt import run_dbt
from onboard.core.errors import OnboardError, UsageError
from onboard.core.logs import configure_logging, log
from onboard.core.warehouse import Target, resolve_target

app = typer.Typer(
    name="onboard",
    help="onboarding-paths: raw product events -> validated, modelled onboarding actions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True, soft_wrap=True)

TargetOption = Annotated[
    str | None,
    typer.Option("--target", "-t", help="profiles.yml target (default: duckdb, or $ONBOARD_TARGET)."),
]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="Compute every figure as of this UTC instant (ISO-8601). Default: now."),
]


class RateColumn(ProgressColumn):
    """Records per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f}/s" if speed else "-/s")


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    )


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logs.")] = False,
) -> None:
    """Logs go to stderr; ONBOARD_LOG_FORMAT=json makes them JSON lines."""
    configure_logging(verbose)


@app.command()
def generate(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write the raw tables and manifest.json to.")],
    customers: Annotated[int, typer.Option(min=1, help="Customers to generate.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 42,
    as_of: AsOfOption = None,
    breaks: Annotated[
        list[str] | None,
        typer.Option("--break", help="FIELD:SHARE, e.g. plan_tier:0.3 drops plan_tier from 30% of signups."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
) -> None:
    """Write realistic raw tables (SPEC section 3) plus a manifest of the defects injected."""
    from onboard.generate import GenerateOptions, parse_break
    from onboard.generate import generate as run_generate

    if fmt not in ("parquet", "csv"):
        raise UsageError(f"--format {fmt}: expected parquet or csv")
    options = GenerateOptions(
        customers=customers,
        seed=seed,
        as_of=parse_as_of(as_of) if as_of else now_to_the_hour(),
        fmt=fmt,  # type: ignore[arg-type]
        breaks=tuple(parse_break(text) for text in breaks or ()),
    )
    with _progress() as progress:
        task = progress.add_task("generate customers", total=customers)
        manifest = run_generate(out_dir, options, lambda n: progress.advance(task, n))
    events = manifest["events"]
    log("generate.done", out_dir=out_dir, customers=customers, events=events["rows"])
    console.print(
        f"wrote {events['rows']:,} events for {customers:,} customers to {out_dir} "
        f"(unusable {sum(events['unusable'].values()):,}, "
        f"duplicates {events['duplicate_rows']:,}); "
        f"manifest: {out_dir / 'manifest.json'}"
    )


@app.command()
def load(
    directory: Annotated[Path, typer.Argument(help="Folder of events/accounts/... .csv or .parquet files.")],
    append: Annotated[
        bool, typer.Option("--append", help="Add rows instead of replacing the tables.")
    ] = False,
    target: TargetOption = None,
) -> None:
    """Load raw files into schema `raw`, as text, in one transaction; refuse only the unreadable."""
    from onboard.load import load as run_load

    resolved = resolve_target(target)
    with _progress() as progress:
        task = progress.add_task(f"load into {resolved.name}", total=None)
        report = run_load(directory, resolved, append=append, progress=lambda n: progress.advance(task, n))
        progress.update(task, total=report.rows, completed=report.rows)
    for table in report.tables:
        log("load.table", table=table.table, file=table.file, rows=table.rows, mode=report.mode)
        for problem, count in table.bad_values.items():
            console.print(f"  {table.file}: {count:,} rows with {problem} (kept; staging sets them aside)")
        if table.extra_columns:
            console.print(f"  {table.file}: ignored columns {', '.join(table.extra_columns)}")
    for name in report.ignored_files:
        console.print(f"  ignored {name} (not a raw table)")
    console.print(
        f"loaded {report.rows:,} rows into {resolved.describe()} "
        f"({report.mode}, _loaded_at {report.loaded_at})"
    )


@app.command()
def build(
    as_of: AsOfOption = None,
    full_refresh: Annotated[bool, typer.Option("--full-refresh", help="Rebuild incremental models.")] = False,
    select: Annotated[str | None, typer.Option("--select", "-s", help="dbt node selection.")] = None,
    exclude: Annotated[
        str | None, typer.Option("--exclude", help="dbt nodes to leave out, e.g. test_type:unit.")
    ] = None,
    target: TargetOption = None,
) -> None:
    """Run `dbt build` (models, seeds, data and unit tests) as of an instant."""
    resolved = resolve_target(target)
    moment = parse_as_of(as_of) if as_of else None
    _build(resolved, as_of=moment, full_refresh=full_refresh, select=select, exclude=exclude)


def _build(
    target: Target,
    as_of: datetime | None,
    full_refresh: bool = False,
    select: str | None = None,
    exclude: str | None = None,
) -> None:
    variables: dict[str, object] = {"as_of": dbt_as_of(as_of)} if as_of else {}
    extra = ["--full-refresh"] if full_refresh else []
    if select or exclude:
        # the default selector (selectors.yml) leaves out unit tests that need a built table;
        # an explicit selection must too
        excluded = " ".join(filter(None, [exclude, "tag:needs_built_model"]))
        extra += ["--select", select or "fqn:*", "--exclude", excluded]
    code = run_dbt("build", target, variables, extra)
    if code != 0:
        raise typer.Exit(code)


@app.command()
def demo(
    customers: Annotated[int, typer.Option(min=1, help="Customers to generate.")] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    data_dir: Annotated[Path, typer.Option(help="Where the generated raw files go.")] = Path("data/demo"),
    target: TargetOption = None,
) -> None:
    """Generate demo data, load it, validate it, build the project, and summarise."""
    from onboard.dashboard import render_report
    from onboard.summary import summarise

    resolved = resolve_target(target)
    as_of = now_to_the_hour()
    generate(
        data_dir,
        customers=customers,
        seed=seed,
        as_of=as_of.isoformat(),
        breaks=None,
        fmt="parquet",
    )
    load(data_dir, append=False, target=target)
    from onboard.validate.runner import validate as run_validate
    from onboard.validate.summary import summary_lines

    for line in summary_lines(run_validate(resolved)):
        console.print(line, markup=False, highlight=False)
    _build(resolved, as_of=as_of, full_refresh=True)
    summary = summarise(resolved, as_of)
    console.rule("onboarding-paths demo")
    console.print(f"as of            {as_of:%Y-%m-%d %H:%M} UTC")
    console.print(f"customers        {summary.customers:,}")
    console.print(f"usable events    {summary.usable_events:,}")
    reasons = ", ".join(f"{reason} {count:,}" for reason, count in summary.unusable_by_reason.items())
    console.print(f"unusable events  {summary.unusable_events:,} ({reasons}) -> stg_product__events_unusable")
    console.print(f"warehouse        {resolved.describe()}")
    console.print(
        "marts            main.onboarding_customers, stall_alerts, path_metrics, cohort_routing_report, ..."
    )
    dashboard = render_report(resolved, Path("results/dashboard.html"))
    console.print(f"dashboard        {dashboard.path} (open it in a browser; works offline)")
    console.print(
        f"next             .venv/bin/onboard build --as-of {as_of - timedelta(days=7):%Y-%m-%dT%H:%M:%SZ} "
        "(replay a week ago); .venv/bin/onboard sync status; .venv/bin/onboard --help"
    )
    console.rule("sync plan: a dry run, nothing is sent (set the env vars of sync/README.md to push)")
    _sync(resolved, "all", dry_run=True, force=False, setup=False)


@app.command()
def bench(
    sizes: Annotated[
        list[int] | None,
        typer.Option("--customers", help="Sizes to run (repeatable). Default: 100000 and 1000000."),
    ] = None,
    work_dir: Annotated[Path, typer.Option(help="Scratch folder for data and warehouses.")] = Path(
        "data/bench"
    ),
    output: Annotated[Path, typer.Option(help="Markdown file to write the table into.")] = Path(
        "docs/benchmarks.md"
    ),
    section: Annotated[
        str, typer.Option(help="Which table of the file to replace (<!-- SECTION:start --> markers).")
    ] = "bench",
    target: Annotated[
        str, typer.Option("--target", help="duckdb, or spark (run from .venv-spark).")
    ] = "duckdb",
) -> None:
    """Generate, load, validate, build (full, then one day incremental) and plan a sync at scale."""
    from onboard.bench import render_markdown, run_bench

    if target not in ("duckdb", "spark"):
        raise UsageError(f"onboard bench --target {target}: expected duckdb or spark")
    results = run_bench(sizes or [100_000, 1_000_000], work_dir, output, section, target)
    console.print(render_markdown(results, target), markup=False, highlight=False)
    console.print(f"written to {output}")


@app.command()
def validate(
    since: Annotated[
        str | None,
        typer.Option(
            "--since", help="Validate rows loaded after this UTC instant (default: the last good run)."
        ),
    ] = None,
    accept: Annotated[
        str | None, typer.Option("--accept", help="Accept this failed run (logged) instead of validating.")
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who accepts (default: $USER).")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why the failed run is accepted.")] = None,
    target: TargetOption = None,
) -> None:
    """Validate the raw data against the tracking plan's GX suites; exit 1 on a blocking failure."""
    from onboard.validate.runner import ValidationFailedError
    from onboard.validate.runner import validate as run_validate
    from onboard.validate.runs import accept_run
    from onboard.validate.summary import summary_lines

    resolved = resolve_target(target)
    if accept is not None:
        if since is not None:
            raise UsageError("--accept and --since cannot be used together")
        record = accept_run(resolved, accept, by or os.environ.get("USER", ""), reason or "")
        console.print(f"accepted run {record.run_id} (by {record.accepted_by}: {record.accepted_reason})")
        return
    if by is not None or reason is not None:
        raise UsageError("--by and --reason go with --accept RUN_ID")
    try:
        moment = parse_as_of(since).replace(tzinfo=None) if since else None
    except UsageError:
        raise UsageError(
            f"--since {since!r}: expected an ISO-8601 time such as 2026-03-16T12:00:00Z"
        ) from None
    result = run_validate(resolved, since=moment)
    for line in summary_lines(result):
        console.print(line, markup=False, highlight=False)
    log("validate.done", run_id=result.run_id, status=result.status, rows=result.rows)
    if result.exit_code:
        raise ValidationFailedError(f"validation run {result.run_id} failed (blocking expectations above)")


SYNC_CHOICES = ("all", "hubspot", "customerio", "status")


@app.command()
def sync(
    what: Annotated[
        str,
        typer.Argument(help="hubspot, customerio, all (default), or status (last runs, pending retries)."),
    ] = "all",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Plan only: no network call; payloads written to a file.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Push despite a failed validation or the circuit breaker (logged)."),
    ] = False,
    setup: Annotated[
        bool, typer.Option("--setup", help="First create / update the destination's properties (HubSpot).")
    ] = False,
    target: TargetOption = None,
) -> None:
    """Push segments and suppression flags to HubSpot and Customer.io: diff-based, batched, resumable."""
    from sync.status import status_lines

    if what not in SYNC_CHOICES:
        raise UsageError(f"onboard sync {what}: expected one of {', '.join(SYNC_CHOICES)}")
    resolved = resolve_target(target)
    if what == "status":
        for line in status_lines(resolved):
            console.print(line, markup=False, highlight=False)
        return
    code = _sync(resolved, what, dry_run=dry_run, force=force, setup=setup)
    if code:
        raise typer.Exit(code)


def _sync(target: Target, what: str, dry_run: bool, force: bool, setup: bool) -> int:
    from sync.config import load_sync_config
    from sync.runner import sync_destination
    from sync.status import summary_lines

    config = load_sync_config()
    names = list(config.destinations) if what == "all" else [what]
    code = 0
    for name in names:
        with _progress() as progress:
            task = progress.add_task(f"sync {name}", total=None)

            def advance(done: int, total: int, task: TaskID = task) -> None:
                progress.update(task, completed=done, total=total)

            result = sync_destination(
                target, name, dry_run=dry_run, force=force, setup=setup, config=config, progress=advance
            )
        for line in summary_lines(result):
            console.print(line, markup=False, highlight=False)
        code = max(code, result.exit_code)
    return code


@app.command()
def run(
    as_of: AsOfOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan the syncs without sending.")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Sync despite a failed validation (logged).")
    ] = False,
    target: TargetOption = None,
) -> None:
    """The daily job: validate the new raw rows, build, then sync both destinations."""
    from onboard.validate.runner import validate as run_validate
    from onboard.validate.summary import summary_lines

    resolved = resolve_target(target)
    result = run_validate(resolved)
    for line in summary_lines(result):
        console.print(line, markup=False, highlight=False)
    _build(resolved, as_of=parse_as_of(as_of) if as_of else None)
    code = _sync(resolved, "all", dry_run=dry_run, force=force, setup=False)
    if code:
        raise typer.Exit(code)


@app.command()
def alerts(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the messages; post and record nothing.")
    ] = False,
    target: TargetOption = None,
) -> None:
    """Post stall alerts to Slack (SLACK_WEBHOOK_URL): realtime one by one, a daily digest of the rest."""
    from onboard.alerts import run_alerts
    from onboard.alerts import summary_lines as alert_lines

    result = run_alerts(resolve_target(target), dry_run=dry_run)
    for line in alert_lines(result):
        console.print(line, markup=False, highlight=False)
    if result.exit_code:
        raise typer.Exit(result.exit_code)


@app.command()
def report(
    out: Annotated[Path, typer.Option("--out", help="Where to write the HTML dashboard.")] = Path(
        "results/dashboard.html"
    ),
    target: TargetOption = None,
) -> None:
    """Render the offline HTML dashboard of the marts (path metrics, stalls, routing, health)."""
    from onboard.dashboard import render_report

    result = render_report(resolve_target(target), out)
    for message in result.messages:
        console.print(f"  {message}", markup=False, highlight=False)
    console.print(f"dashboard: {result.path} ({result.charts_rendered} charts)")


def main() -> None:
    """Console-script entry: user errors become one line and exit code 2, never a traceback.

    Typer's standalone mode handles usage errors (exit 2), --help and typer.Exit codes.
    """
    try:
        app()
    except OnboardError as error:
        console.print(f"onboard: error: {error}", style="red", markup=False, highlight=False)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        console.print("onboard: aborted")
        sys.exit(130)

"""The `onboard` command line: parses arguments and calls the library; nothing else."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

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
from typer.core import TyperGroup

from onboard import orchestrate
from onboard.core.as_of import parse_as_of
from onboard.core.errors import OnboardError, UsageError
from onboard.core.logs import configure_logging
from onboard.core.targets import resolve_target
from onboard.core.warehouse import check_environment, lock_problem

#: what an interrupted command leaves behind, and that re-running it is safe (docs/definitions.md#interrupted)
INTERRUPTED: dict[str, str] = {
    "generate": "files it had begun may be partial; re-running the same command rewrites them",
    "load": "the load was rolled back (one transaction): the warehouse is as it was; "
    "it is safe to re-run the same command",
    "build": "models dbt had finished are replaced whole, the others are as they were; "
    "re-run the same command to finish",
    "validate": "the run was not recorded, so the next `onboard validate` checks the same rows; "
    "it is safe to re-run",
    "sync": "the batches the destination acknowledged are recorded; re-running the same command "
    "sends only the rest",
    "run": "each step keeps only what it finished (a recorded validation, whole models, acknowledged "
    "sync batches); re-run the same command to finish",
    "demo": "re-run the same command: it generates, loads and builds again from the start",
    "alerts": "alerts already posted are logged and not posted again (the one being posted may "
    "repeat); re-run the same command",
}
INTERRUPTED_DEFAULT = "re-run the same command to finish"


class Interrupted(Exception):
    """Ctrl-C (or SIGINT) during `command`: main() says what state things are in, exit 130."""

    def __init__(self, command: str | None) -> None:
        super().__init__(command)
        self.command = command

    def message(self) -> str:
        return f"interrupted; {INTERRUPTED.get(self.command or '', INTERRUPTED_DEFAULT)}"


def _is_interrupt(error: BaseException) -> bool:
    """Whether error is Ctrl-C as a library reports it: DuckDB turns SIGINT into its own errors."""
    duckdb = sys.modules.get("duckdb")
    if duckdb is not None and isinstance(error, duckdb.InterruptException):
        return True
    # DuckDB's Python client: a SIGINT during a query is RuntimeError("Query interrupted")
    return type(error) is RuntimeError and str(error) == "Query interrupted"


class InterruptibleGroup(TyperGroup):
    """Typer turns Ctrl-C into a silent exit 130: raise it as Interrupted, naming the command."""

    def invoke(self, ctx: Any) -> Any:  # ctx: the vendored click Context typer passes
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as interrupt:
            raise Interrupted(ctx.invoked_subcommand) from interrupt
        except Exception as error:
            if _is_interrupt(error) or (error.__cause__ is not None and _is_interrupt(error.__cause__)):
                raise Interrupted(ctx.invoked_subcommand) from error
            raise


app = typer.Typer(
    name="onboard",
    cls=InterruptibleGroup,
    help="onboarding-paths: raw product events -> validated, modelled onboarding actions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True, soft_wrap=True)
result_console = Console(soft_wrap=True)

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


class RichReporter:
    """orchestrate's Reporter: plain lines, rules and progress bars on stderr."""

    def line(self, text: str) -> None:
        console.print(text, markup=False, highlight=False)

    def rule(self, title: str) -> None:
        console.rule(title)

    @contextmanager
    def progress(self, description: str, total: int | None) -> Iterator[orchestrate.Advance]:
        with _progress() as bar:
            task = bar.add_task(description, total=total)

            def advance(done: int, new_total: int | None, task: TaskID = task) -> None:
                bar.update(task, completed=done, total=new_total)

            yield advance


class ResultReporter(RichReporter):
    """A command's result (the build's summary) on stdout, apart from dbt's output and the logs."""

    def line(self, text: str) -> None:
        result_console.print(text, markup=False, highlight=False)

    def rule(self, title: str) -> None:
        result_console.rule(title)


OUT = RichReporter()
RESULT = ResultReporter()


def _exit(code: int) -> None:
    if code:
        raise typer.Exit(code)


#: set by --debug: main() prints the traceback of any failure, a user's mistake included
_debug = False


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logs.")] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of a failure (for a bug report).")
    ] = False,
) -> None:
    """Logs go to stderr; ONBOARD_LOG_FORMAT=json makes them JSON lines."""
    global _debug
    _debug = debug
    configure_logging(verbose)
    check_environment()


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
    lifts: Annotated[
        list[str] | None,
        typer.Option(
            "--lift",
            help="EXPERIMENT:ARM:DELTA, e.g. global_holdout:automated:+0.08 raises that arm's 14-day "
            "activation probability by 0.08 (the experiment comes from var experiments).",
        ),
    ] = None,
) -> None:
    """Write realistic raw tables (docs/definitions.md#raw-tables) plus a manifest of the defects injected."""
    orchestrate.generate(
        OUT,
        out_dir,
        customers=customers,
        seed=seed,
        as_of=parse_as_of(as_of) if as_of else None,
        breaks=breaks,
        fmt=fmt,
        lifts=lifts,
    )


@app.command()
def load(
    directory: Annotated[Path, typer.Argument(help="Folder of events/accounts/... .csv or .parquet files.")],
    append: Annotated[
        bool, typer.Option("--append", help="Add rows instead of replacing the tables.")
    ] = False,
    allow_duplicate: Annotated[
        bool,
        typer.Option(
            "--allow-duplicate",
            help="With --append: load a file even if the same content was loaded into its table before.",
        ),
    ] = False,
    target: TargetOption = None,
) -> None:
    """Load raw files into schema `raw`, as text, in one transaction; refuse only the unreadable."""
    orchestrate.load(OUT, directory, resolve_target(target), append=append, allow_duplicate=allow_duplicate)


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
    """Run `dbt build` (models, seeds, data and unit tests) as of an instant; a summary on stdout."""
    orchestrate.build(
        RESULT,
        resolve_target(target),
        parse_as_of(as_of) if as_of else None,
        full_refresh=full_refresh,
        select=select,
        exclude=exclude,
    )


@app.command()
def demo(
    customers: Annotated[int, typer.Option(min=1, help="Customers to generate.")] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    data_dir: Annotated[Path, typer.Option(help="Where the generated raw files go.")] = Path("data/demo"),
    target: TargetOption = None,
) -> None:
    """Generate demo data, load it, validate it, build the project, and summarise."""
    _exit(
        orchestrate.demo(
            OUT, resolve_target(target), customers=customers, seed=seed, data_dir=data_dir, summary=RESULT
        )
    )


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
    resolved = resolve_target(target)
    if accept is not None:
        if since is not None:
            raise UsageError("--accept and --since cannot be used together")
        orchestrate.accept_validation(OUT, resolved, accept, by, reason)
        return
    if by is not None or reason is not None:
        raise UsageError("--by and --reason go with --accept RUN_ID")
    try:
        moment = parse_as_of(since).replace(tzinfo=None) if since else None
    except UsageError:
        raise UsageError(
            f"--since {since!r}: expected an ISO-8601 time such as 2026-03-16T12:00:00Z"
        ) from None
    orchestrate.validate(OUT, resolved, since=moment, blocking=True)


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
        bool,
        typer.Option(
            "--setup",
            help="Create / update HubSpot's property group, properties and enumeration options, then run "
            "the full sync as usual: every changed record is sent (Customer.io needs no setup). "
            "With --dry-run nothing is created or sent.",
        ),
    ] = False,
    target: TargetOption = None,
) -> None:
    """Push segments and suppression flags to HubSpot and Customer.io: diff-based, batched, resumable."""
    if what not in SYNC_CHOICES:
        raise UsageError(f"onboard sync {what}: expected one of {', '.join(SYNC_CHOICES)}")
    resolved = resolve_target(target)
    if what == "status":
        orchestrate.sync_status(OUT, resolved)
        return
    _exit(orchestrate.sync(OUT, resolved, what, dry_run=dry_run, force=force, setup=setup))


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
    moment = parse_as_of(as_of) if as_of else None
    _exit(orchestrate.daily_run(OUT, resolve_target(target), as_of=moment, dry_run=dry_run, force=force))


@app.command()
def experiments(
    experiment: Annotated[
        str | None, typer.Option("--experiment", help="Read out this experiment only (default: every one).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the readout as JSON on stdout.")] = False,
    target: TargetOption = None,
) -> None:
    """Read out the experiments of var experiments: lift per arm, SRM check, verdict, ROI estimate."""
    text = orchestrate.experiments(OUT, resolve_target(target), only=experiment, as_json=as_json)
    if text is not None:
        typer.echo(text)


@app.command()
def alerts(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the messages; post and record nothing.")
    ] = False,
    target: TargetOption = None,
) -> None:
    """Post stall alerts to Slack (SLACK_WEBHOOK_URL): realtime one by one, a daily digest of the rest."""
    _exit(orchestrate.alerts(OUT, resolve_target(target), dry_run=dry_run))


@app.command()
def report(
    out: Annotated[Path, typer.Option("--out", help="Where to write the HTML dashboard.")] = Path(
        "results/dashboard.html"
    ),
    target: TargetOption = None,
) -> None:
    """Render the offline HTML dashboard of the marts (path metrics, stalls, routing, health)."""
    orchestrate.dashboard(OUT, resolve_target(target), out)


def _first_line(error: BaseException) -> str:
    """The first line of an exception's message (DuckDB's run to a page of hints)."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else "(no message)"


def _error(message: str) -> None:
    console.print(f"onboard: error: {message}", style="red", markup=False, highlight=False)


def _expected_failure(error: BaseException) -> str | None:
    """The one line for a failure that is the input's or the machine's, not a bug; None for a bug.

    Core raises OnboardError with the file and row where it knows them; this is the net for
    the rest: a file or folder that cannot be read or written, bytes that are not UTF-8, a
    DuckDB file another process holds, a memory limit too small for the data.
    """
    if isinstance(error, OnboardError):
        return str(error)
    if isinstance(error, OSError) and error.filename is not None:
        return f"cannot access {error.filename}: {error.strerror or error}"
    if isinstance(error, OSError):
        return _first_line(error) if str(error).strip() else type(error).__name__
    if isinstance(error, UnicodeDecodeError):
        return (
            f"an input is not valid {error.encoding}: byte 0x{error.object[error.start]:02x} at offset "
            f"{error.start} ({error.reason}); save it as UTF-8"
        )
    duckdb = sys.modules.get("duckdb")
    if duckdb is not None and isinstance(error, duckdb.IOException):
        return lock_problem(str(error)) or _first_line(error).removeprefix("IO Error: ")
    if duckdb is not None and isinstance(error, duckdb.OutOfMemoryException):
        return (
            f"{_first_line(error)}: give DuckDB more memory with ONBOARD_DUCKDB_MEMORY_LIMIT "
            "(e.g. 8GB; default 4GB) and re-run"
        )
    return None


def main() -> None:
    """Console-script entry, the one error boundary: expected failures are one line and exit 2.

    Typer's standalone mode handles usage errors (exit 2), --help and typer.Exit codes. A
    failure that is the input's or the machine's (OnboardError, I/O, encoding, a lock) is one
    line and exit 2; anything else is a bug: one line asking for a report, exit 1. --debug
    adds the traceback to either.
    """
    try:
        app()
    except orchestrate.StepFailedError as error:
        sys.exit(error.exit_code)
    except Interrupted as interrupt:
        if _debug:
            traceback.print_exc()
        console.print(f"onboard: {interrupt.message()}", markup=False, highlight=False)
        sys.exit(130)
    except KeyboardInterrupt:  # before a command started (while reading the arguments)
        console.print(f"onboard: interrupted; {INTERRUPTED_DEFAULT}", markup=False, highlight=False)
        sys.exit(130)
    except Exception as error:
        if _debug:
            traceback.print_exc()
        message = _expected_failure(error)
        if message is not None:
            _error(message)
            sys.exit(error.exit_code if isinstance(error, OnboardError) else 2)
        _error(
            f"unexpected {type(error).__name__}: {_first_line(error)}; this is a bug in onboard: please "
            "report it with the output of the same command run as `onboard --debug <command>`"
        )
        sys.exit(1)

"""One sync run for one destination: guards, plan, send in batches, record what was acknowledged.

Order: refuse marts built for a stale as_of; the validation gate, which the caller hands
in (sync/gate.py: refuse after a failed, unaccepted validation, unless --force); plan
against the state; the circuit breaker (unless --force); then either write the dry-run
plan, or send the records batch by batch and, as each batch completes, write the
acknowledged ones to sync_state and the refused ones to sync_errors (one transaction per
batch). A crash or kill loses at most the batch in flight, whose records are simply resent
next run (every call is an idempotent upsert). Whatever stops a run is recorded on its
sync_runs row (status `failed`, the one-line reason) before the error reaches the caller.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from onboard.core.db import Database, database
from onboard.core.errors import OnboardError
from onboard.core.http import ClientStats, DestinationUnavailableError
from onboard.core.logs import log
from onboard.core.paths import PROJECT_DIR
from onboard.core.project_config import ConfigError
from onboard.core.targets import Target
from sync.config import SyncConfig, load_sync_config
from sync.destinations import plugin
from sync.destinations.base import BatchOutcome, Destination, DestinationConfig
from sync.gate import ValidationGate
from sync.moments import (
    MomentCounts,
    MomentPlan,
    check_moments,
    plan_moments,
    record_plan,
    send_moments,
    write_moments_file,
)
from sync.moments import drop_scratch as drop_moments_scratch
from sync.plan import Plan, build_plan, drop_scratch, model_relation, pages
from sync.state import (
    ERRORS,
    Acknowledged,
    SyncRunRow,
    ensure_tables,
    mark_interrupted,
    record_acknowledged,
    record_errors,
    save_run,
    utc_now,
)

RESULTS_DIR = Path(os.environ.get("ONBOARD_SYNC_RESULTS_DIR", PROJECT_DIR / "results" / "sync"))
Progress = Callable[[int, int], None]
#: the column every synced model carries: the as_of it was built for (the stale-marts guard reads it)
AS_OF_COLUMN = "as_of"
#: the one-row model every build writes: the as_of of the marts, even empty ones
BUILD_AS_OF = "build_as_of"


class SyncRefusedError(OnboardError):
    """A guard refused the run (exit 2): stale marts, circuit breaker."""


@dataclass
class SyncResult:
    """What one run did."""

    run: SyncRunRow
    plan: Plan
    plan_file: Path | None = None
    setup_changes: list[str] = field(default_factory=list)
    errors: list[tuple[str, int | None, str]] = field(default_factory=list)
    stats: ClientStats | None = None
    warnings: list[str] = field(default_factory=list)
    #: the destination's moments (journey events, CSM tasks): the plan, a dry run's file, what was sent
    moment_plan: MomentPlan | None = None
    moments_file: Path | None = None
    moment_counts: MomentCounts | None = None

    @property
    def exit_code(self) -> int:
        return 1 if self.run.failed or self.run.moments_failed or self.run.status == "failed" else 0


def open_destination(config: DestinationConfig) -> Destination:
    """The destination's client, with credentials from the environment."""
    return plugin(config.name).open(config)


def build_as_of(db: Database) -> datetime | None:
    """The as_of of the latest build (model BUILD_AS_OF, one row), None before any build writes it.

    An empty mart carries no as_of of its own (docs/definitions.md#build-as-of).
    """
    schema = db.target.settings["schema"]
    if not db.table_exists(schema, BUILD_AS_OF):
        return None
    value = db.value(f"select max({AS_OF_COLUMN}) from {schema}.{BUILD_AS_OF}")
    return value if isinstance(value, datetime) else None


def check_as_of(db: Database, destination: DestinationConfig, config: SyncConfig) -> None:
    """Refuse marts built for an as_of older than max_as_of_age_hours.

    The as_of is the synced model's own; an empty model has none, so the build's (build_as_of):
    marts built as of a time before every event are a replay too.
    """
    relation = model_relation(db, destination)
    if not db.table_exists(db.target.settings["schema"], destination.model):
        raise SyncRefusedError(f"model {relation} not found: run `onboard build` first")
    check_columns(db, destination, config)
    as_of = db.value(f"select max({AS_OF_COLUMN}) from {relation}")
    if as_of is None:
        as_of = build_as_of(db)
    if as_of is None:
        return
    age = utc_now() - as_of
    if age > timedelta(hours=config.max_as_of_age_hours):
        raise SyncRefusedError(
            f"{relation} was built as of {as_of:%Y-%m-%d %H:%M} UTC, {age.total_seconds() / 3600:.0f} h ago "
            f"(max_as_of_age_hours is {config.max_as_of_age_hours:g}): a replay is not today's state; "
            "run `onboard build` first"
        )


def check_breaker(plan: Plan, config: SyncConfig, destination: DestinationConfig, force: bool) -> None:
    """Refuse a run that would change the guarded fields of too many records already synced."""
    if plan.guarded_share <= config.max_change_share:
        return
    message = (
        f"{plan.destination}: {plan.guarded_changes:,} of {plan.synced_before:,} records already synced "
        f"({plan.guarded_share:.1%}) would change {', '.join(destination.guarded)} or leave "
        f"(max_change_share {config.max_change_share:.0%}); a tracking break? check `onboard validate`, "
        "then re-run with --force if the change is real"
    )
    if force:
        log("sync.breaker_forced", destination=plan.destination, share=round(plan.guarded_share, 4))
        return
    raise SyncRefusedError(message)


def enumeration_values(db: Database, destination: DestinationConfig) -> dict[str, set[str]]:
    """The distinct values the model holds in each enumeration column."""
    relation = model_relation(db, destination)
    return {
        f.column: {
            str(row[0])
            for row in db.rows(f"select distinct {f.column} from {relation} where {f.column} is not null")
        }
        for f in destination.fields
        if f.type == "enumeration"
    }


def new_run_id(destination: str) -> str:
    return f"{utc_now():%Y%m%dT%H%M%SZ}-{destination}-{secrets.token_hex(3)}"


def write_plan_file(db: Database, plan: Plan, run_id: str, folder: Path) -> Path:
    """Every record the run would send, one JSON line each."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{run_id}-plan.jsonl"
    with path.open("w") as handle:
        for page in pages(db, plan.destination, 10_000):
            for record in page:
                handle.write(
                    json.dumps({"kind": record.kind, "key": record.key, "payload": record.payload}) + "\n"
                )
    return path


def model_columns(db: Database, destination: DestinationConfig) -> list[str]:
    """The columns of the destination's model as built, in order (none when it is not built)."""
    return db.columns(db.target.settings["schema"], destination.model)


def check_columns(db: Database, destination: DestinationConfig, config: SyncConfig) -> None:
    """Refuse a mapping that names a column the model lacks, as one line naming the key of mappings.yml.

    The configuration cannot know the model's columns; without this check the first query of the
    plan would fail with the database's own error.
    """
    relation = model_relation(db, destination)
    held = model_columns(db, destination)
    if not held:
        return
    where = ("destinations", destination.name)
    columns = f"(columns: {', '.join(held)})"
    if AS_OF_COLUMN not in held:
        expected = f"a model with an {AS_OF_COLUMN} column (the sync marts' build time); {relation} {columns}"
        raise ConfigError(config.describe((*where, "model"), expected, destination.model))
    wanted = [
        ((*where, "key"), destination.key),
        *(((*where, "fields", f.column), f.column) for f in destination.fields),
    ]
    for loc, column in wanted:
        if column not in held:
            raise ConfigError(config.describe(loc, f"a column of {relation} {columns}", column))


def sync_destination(
    target: Target,
    name: str,
    *,
    gate: ValidationGate,
    dry_run: bool = False,
    force: bool = False,
    setup: bool = False,
    config: SyncConfig | None = None,
    progress: Progress | None = None,
    results_dir: Path | None = None,
) -> SyncResult:
    """Plan and (unless dry_run) run one sync of one destination, behind the caller's validation gate.

    Whatever stops the run (a guard, the gate, the destination refusing the credentials or
    the setup, an outage) leaves a `failed` row in sync_runs with the one-line reason, so every
    destination's every run is on record even when another destination's run failed too.
    """
    config = config or load_sync_config()
    if name not in config.destinations:
        raise SyncRefusedError(f"{name}: not a destination of the sync configuration")
    run = SyncRunRow(new_run_id(name), name, utc_now(), forced=force, dry_run=dry_run)
    try:
        return _run(
            target,
            config,
            config.destinations[name],
            run,
            gate=gate,
            setup=setup,
            progress=progress,
            results_dir=results_dir,
        )
    except Exception as error:
        _record_failure(target, run, error)
        raise


def _run(
    target: Target,
    config: SyncConfig,
    destination: DestinationConfig,
    run: SyncRunRow,
    *,
    gate: ValidationGate,
    setup: bool,
    progress: Progress | None,
    results_dir: Path | None,
) -> SyncResult:
    """The run itself: guards, gate, lock, setup, plan, breaker, then the dry-run plan file or the sends."""
    name, dry_run, force = destination.name, run.dry_run, run.forced
    warnings: list[str] = []
    with database(target) as db:
        ensure_tables(db)
        # the columns a build adds by prefix (one per experiment: sync/mappings.yml column_prefixes)
        destination = destination.with_columns(model_columns(db, destination))
        check_as_of(db, destination, config)
        if destination.active_moments is not None:
            check_moments(db, destination, config.describe)
        if dry_run:
            problem = gate.problem(db)
            if problem:
                warnings.append(f"a real run would be blocked: {problem}")
    if not dry_run:
        gate.require(target, force)
    with database(target) as db, db.exclusive(f"onboard.sync.{name}") as mine:
        if not mine:
            raise SyncRefusedError(
                f"{name}: another sync of this destination is running on {target.describe()}; "
                "wait for it to finish (one run per destination at a time)"
            )
        client = None if dry_run else open_destination(destination)
        interrupted = mark_interrupted(db, name)
        if interrupted:
            warnings.append(
                f"{interrupted} earlier run(s) of {name} were interrupted; this run finishes their work"
            )
        try:
            setup_changes = client.setup() if (client is not None and setup) else []
            plan = build_plan(db, destination)
            run.as_of = plan.as_of
            run.planned, run.skipped_unchanged, run.removed = plan.to_send, plan.unchanged, plan.removals
            check_breaker(plan, config, destination, force)
            result = SyncResult(run, plan, setup_changes=setup_changes, warnings=warnings)
            if destination.active_moments is not None:
                result.moment_plan = plan_moments(db, destination)
            if client is None:
                folder = results_dir or RESULTS_DIR
                result.plan_file = write_plan_file(db, plan, run.run_id, folder)
                if result.moment_plan is not None:
                    result.moments_file = write_moments_file(db, name, run.run_id, folder)
                run.status, run.finished_at = "dry_run", utc_now()
                save_run(db, run)
                return result
            if plan.to_send:
                client.preflight(enumeration_values(db, destination))
            save_run(db, run)
            _send_all(db, client, destination, run, result, progress)
            return result
        finally:
            if client is not None:
                client.close()
            drop_scratch(db, name)
            drop_moments_scratch(db, name)


def _record_failure(target: Target, run: SyncRunRow, error: Exception) -> None:
    """Save the run as failed with its reason on one line; never hides the error that stopped it."""
    reason = str(error) if isinstance(error, OnboardError) else f"{type(error).__name__}: {error}"
    run.status, run.message = "failed", " ".join(reason.split())[:2000]
    run.finished_at = run.finished_at or utc_now()
    try:
        with database(target) as db:
            ensure_tables(db)
            save_run(db, run)
    except Exception as failure:  # the warehouse may be what failed: the first error is the one to report
        log(
            "sync.run_not_recorded",
            logging.DEBUG,
            destination=run.destination,
            run_id=run.run_id,
            error=str(failure),
        )


def _send_all(
    db: Database,
    client: Destination,
    destination: DestinationConfig,
    run: SyncRunRow,
    result: SyncResult,
    progress: Progress | None,
) -> None:
    """Send the work table batch by batch; state and errors written as each batch completes; then
    the moments, if the destination has them (the run is `running` until both are done).

    Refused credentials or a missing setup stop the run with one run-level failure and queue
    nothing: every record would fail the same way, and the fix is the user's, not a retry's.
    A destination that stayed unavailable queues the batch in flight, which may have landed.
    """
    size = destination.batch_size
    try:
        for page in pages(db, destination.name, size * 10):
            for start in range(0, len(page), size):
                batch = page[start : start + size]
                try:
                    outcome = client.send(batch)
                except DestinationUnavailableError as error:
                    _record_batch(
                        db, run, BatchOutcome(failed=[(r, None, str(error)) for r in batch]), result
                    )
                    raise
                _record_batch(db, run, outcome, result)
                if progress is not None:
                    progress(run.sent, run.planned)
            save_run(db, run)
        if result.moment_plan is not None:
            _deliver_moments(db, client, destination, run, result)
        run.status = "succeeded" if run.failed == 0 and run.moments_failed == 0 else "partial"
    except OnboardError as error:
        run.status, run.message = "failed", str(error)
        raise
    finally:
        run.finished_at = utc_now()
        result.stats = client.client.stats
        save_run(db, run)
        log(
            "sync.done",
            destination=run.destination,
            run_id=run.run_id,
            status=run.status,
            sent=run.sent,
            succeeded=run.succeeded,
            failed=run.failed,
        )


def _deliver_moments(
    db: Database, client: Destination, destination: DestinationConfig, run: SyncRunRow, result: SyncResult
) -> None:
    """After the records: the moments planned, each sent once (sync/moments.py), counted on the run.

    The moments of a record whose attributes this run could not update wait for the next run, so a
    campaign never triggers on a person whose attributes are stale.
    """
    assert result.moment_plan is not None
    record_plan(db, destination, run.run_id)
    run.moments_skipped_stale = result.moment_plan.stale
    run.moments_skipped_suppressed = result.moment_plan.suppressed
    held = {
        str(key)
        for (key,) in db.rows(f"select distinct record_key from {ERRORS} where run_id = ?", [run.run_id])
    }
    counts = result.moment_counts = MomentCounts()

    def counted() -> None:
        run.moments_sent, run.moments_failed = counts.sent, counts.failed
        save_run(db, run)

    try:
        send_moments(db, client, destination, run.run_id, held, counts, counted)
    finally:
        counted()
        log(
            "sync.moments_done",
            destination=run.destination,
            run_id=run.run_id,
            sent=counts.sent,
            failed=counts.failed,
            held=counts.held,
            skipped_stale=run.moments_skipped_stale,
            skipped_suppressed=run.moments_skipped_suppressed,
        )


def _record_batch(db: Database, run: SyncRunRow, outcome: BatchOutcome, result: SyncResult) -> None:
    acknowledged = [
        Acknowledged(
            r.key,
            r.payload_hash,
            r.guarded_hash,
            json.dumps(r.payload, sort_keys=True, separators=(",", ":")),
            "cleared" if r.kind == "remove" else "synced",
        )
        for r in outcome.acknowledged
    ]
    errors = [(r.key, status, message) for r, status, message in outcome.failed]
    with db.transaction():
        record_acknowledged(db, run.destination, run.run_id, acknowledged)
        record_errors(db, run.destination, run.run_id, errors)
    run.sent += len(outcome.acknowledged) + len(outcome.failed)
    run.succeeded += len(outcome.acknowledged)
    run.failed += len(outcome.failed)
    result.errors.extend(errors[: max(0, 20 - len(result.errors))])

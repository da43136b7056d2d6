"""What `onboard sync` and `onboard sync status` print."""

from __future__ import annotations

import json

from onboard.core.db import database
from onboard.core.targets import Target
from sync.runner import SyncResult
from sync.state import SCHEMA, pending_failures, recent_runs


def plan_lines(result: SyncResult) -> list[str]:
    """The plan: counts per kind, the breaker figure, sample diffs."""
    plan = result.plan
    as_of = f"{plan.as_of:%Y-%m-%d %H:%M} UTC" if plan.as_of else "unknown"
    lines = [
        f"{plan.destination}: {plan.model_rows:,} records in the model (as of {as_of}); "
        f"add {plan.adds:,}, change {plan.changes:,}, remove {plan.removals:,}, unchanged {plan.unchanged:,}"
        + (f", left the model and kept {plan.kept_leavers:,}" if plan.kept_leavers else ""),
        f"  guarded fields change for {plan.guarded_changes:,} of {plan.synced_before:,} records "
        f"synced before ({plan.guarded_share:.1%})",
    ]
    for sample in plan.samples:
        diff = json.dumps(sample["diff"], ensure_ascii=False)
        lines.append(f"  {sample['kind']} {sample['key']}: {diff[:300]}")
    return lines + moment_plan_lines(result)


def moment_plan_lines(result: SyncResult) -> list[str]:
    """The moments' plan (journey events, CSM tasks): counts per action, a few of each."""
    moments = result.moment_plan
    if moments is None:
        return []
    lines = [
        f"  moments of {moments.model}: {moments.in_model:,} in the model, "
        f"{moments.done_before:,} done before; send {moments.to_send:,}, "
        f"skipped stale {moments.stale:,}, skipped suppressed {moments.suppressed:,}"
        + (f", switched off {moments.disabled:,}" if moments.disabled else "")
    ]
    for action, samples in moments.samples.items():
        for sample in samples:
            lines.append(f"    {action} {sample['name']} {sample['key']} at {sample['occurred_at']}")
    return lines


def summary_lines(result: SyncResult) -> list[str]:
    """Plan, then what was sent, and the first errors."""
    lines = [f"  warning: {w}" for w in result.warnings]
    lines += [f"  setup: {change}" for change in result.setup_changes]
    lines += plan_lines(result)
    run = result.run
    if run.dry_run:
        lines.append(f"  dry run: nothing sent; payloads in {result.plan_file}")
        if result.moments_file is not None:
            lines.append(f"  moments in {result.moments_file}")
        return lines
    stats = result.stats
    http = (
        f"; {stats.requests:,} requests, {stats.retries:,} retries, {stats.rate_limited:,} rate-limited"
        if stats
        else ""
    )
    lines.append(
        f"  run {run.run_id}: {run.status}; sent {run.sent:,}, succeeded {run.succeeded:,}, "
        f"failed {run.failed:,}, skipped unchanged {run.skipped_unchanged:,}{http}"
    )
    counts = result.moment_counts
    if counts is not None:
        lines.append(
            f"  moments: sent {counts.sent:,}, failed {counts.failed:,}, "
            f"waiting for the next run {counts.held:,}, skipped stale {run.moments_skipped_stale:,}, "
            f"skipped suppressed {run.moments_skipped_suppressed:,}"
        )
    for key, status, message in [*result.errors, *(counts.errors if counts else [])][:5]:
        lines.append(f"  failed {key} ({status or 'no answer'}): {message[:200]}")
    if run.failed or run.moments_failed:
        lines.append("  failed records and moments are retried by the next run; see `onboard sync status`")
    return lines


def status_lines(target: Target) -> list[str]:
    """The latest runs and the records waiting for a retry."""
    with database(target, read_only=True) as db:
        if not {"sync_runs", "sync_errors", "sync_state"} <= db.tables(SCHEMA):
            return ["no sync has run on this warehouse yet"]
        runs = recent_runs(db, 10)
        pending = pending_failures(db)
    lines = ["latest sync runs:"] if runs else ["no sync has run on this warehouse yet"]
    for run in runs:
        finished = f"{run.finished_at:%Y-%m-%d %H:%M:%S}" if run.finished_at else "-"
        flags = " forced" if run.forced else ""
        lines.append(
            f"  {run.run_id:<40} {run.status:<11} finished {finished}  planned {run.planned:,} "
            f"sent {run.sent:,} ok {run.succeeded:,} failed {run.failed:,} "
            f"unchanged {run.skipped_unchanged:,}{flags}"
            + (
                f"; moments sent {run.moments_sent:,} stale {run.moments_skipped_stale:,} "
                f"suppressed {run.moments_skipped_suppressed:,} failed {run.moments_failed:,}"
                if run.moments_sent
                or run.moments_skipped_stale
                or run.moments_skipped_suppressed
                or run.moments_failed
                else ""
            )
        )
    lines.append(f"records waiting for a retry: {len(pending):,}")
    for destination, key, status, message in pending[:10]:
        lines.append(f"  {destination} {key} ({status or 'no answer'}): {message[:160]}")
    return lines

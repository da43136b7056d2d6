"""Demo data for onboarding-paths: raw SaaS product events and the tables beside them.

`generate(out_dir, options)` writes events, accounts, subscriptions, email_events and
routing_audits (docs/definitions.md#raw-tables; every column text, Parquet or CSV) plus manifest.json,
which counts exactly what was written, defects included (see `onboard.generate.manifest`).

The package reads as the data is made, chunk by chunk of customers:

- `customers`  profiles: signup, tier, ARR, company size, email, team, activity span
- `milestones` the onboarding funnel: when each milestone is first reached
- `events`     clean product events per event name, properties as JSON value texts
- `lift`       --lift: a known effect of an experiment's arm on 14-day activation
- `defects`    schema breaks, arrival times (late, future-dated), duplicates, unusable rows
- `rows`       event rows of a chunk and their text table
- `emails`     the ESP export of the onboarding campaign
- `tables`     accounts, subscriptions and routing audits
- `quality`    property checks and routing, as the manifest reports them
- `chunk`      one chunk from profiles to tables and counts
- `writer`     chunked Parquet / CSV files; `manifest` the counts; `text` vectorised text
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from onboard.core.errors import UsageError
from onboard.core.tracking_plan import load_tracking_plan
from onboard.generate.chunk import Run, build_chunk, chunk_numbers
from onboard.generate.emails import EMAIL_COLUMNS
from onboard.generate.lift import Lift, parse_lift
from onboard.generate.manifest import MANIFEST_FILE, TABLES, Tally, build_manifest, write_manifest
from onboard.generate.options import Break, GenerateOptions, check_options, parse_break
from onboard.generate.rows import EVENT_COLUMNS
from onboard.generate.tables import ACCOUNT_COLUMNS, AUDIT_COLUMNS, SUBSCRIPTION_COLUMNS
from onboard.generate.writer import TableWriter

__all__ = ["Break", "GenerateOptions", "Lift", "generate", "parse_break", "parse_lift"]

COLUMNS = {
    "events": EVENT_COLUMNS,
    "accounts": ACCOUNT_COLUMNS,
    "subscriptions": SUBSCRIPTION_COLUMNS,
    "email_events": EMAIL_COLUMNS,
    "routing_audits": AUDIT_COLUMNS,
}
FORMATS = ("parquet", "csv")


def _clear(out_dir: Path) -> None:
    """Remove a previous run's manifest and table files, so the folder holds one data set."""
    (out_dir / MANIFEST_FILE).unlink(missing_ok=True)
    for name in TABLES:
        for fmt in FORMATS:
            (out_dir / f"{name}.{fmt}").unlink(missing_ok=True)


def generate(
    out_dir: Path, options: GenerateOptions, progress: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """Write the demo data set and its manifest into `out_dir`; return the manifest.

    Calls `progress(customers)` after each chunk with the number of customers it held.
    The manifest is written last: a folder without one holds an unfinished run.
    """
    check_options(options)
    plan = load_tracking_plan()
    run = Run.from_options(options, plan)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir} exists and is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    _clear(out_dir)
    tally = Tally()
    writers = [TableWriter(out_dir, name, COLUMNS[name], options.fmt) for name in TABLES]
    try:
        for index, number in enumerate(chunk_numbers(options.customers)):
            result = build_chunk(run, index, number)
            for writer in writers:
                writer.write(result.tables[writer.path.stem])
            tally.add(result.tally)
            if progress is not None:
                progress(len(number))
    finally:
        for writer in writers:
            writer.close()
    manifest = build_manifest(options, run.as_of, plan, tally)
    write_manifest(out_dir / MANIFEST_FILE, manifest)
    return manifest

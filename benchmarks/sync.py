"""`python -m benchmarks sync`: sync throughput at HubSpot's rate limit; the cost of planning 1,000,000 rows.

Writes the `sync-bench` section of docs/benchmarks.md (`make bench-sync`).

1. **HubSpot throughput**: `onboard sync hubspot --setup` of N contacts (default 30,000)
   against the local FakeHubSpot (tests/fakes/hubspot.py) enforcing HubSpot's documented
   limit, 100 requests per rolling 10 s (429 beyond it). The fake runs in a process of its
   own, so the HTTP server shares neither the GIL nor the benchmark's memory with the sync,
   and hands over its request log at the end. Records/s are counted from that log over the
   batch upserts only (first to last upsert), so the one-off setup requests (property group,
   properties, preflight), the process start and the plan are excluded; the worst rolling
   10 s window and the end-to-end rate (records / wall time of the process) are given too.
   Target: at least 900 records/s (90 % of 100 requests x 100 records per 10 s) and no 429.
2. **Planning a 1,000,000-row diff**: `onboard sync hubspot --dry-run` and `onboard sync
   customerio --dry-run` over 1,000,000 rows of each destination's mart: the first plan
   (empty sync_state, every record an add), then the plan after sync_state holds every
   record as a full sync would have left it (the real build_plan's work table copied into
   sync_state) and 1 % of the rows' milestone_score changed. A dry run includes writing
   every planned payload to the plan file (JSON lines).

Each `onboard` run is its own process, measured by benchmarks/measure.py: wall time, and
peak RSS from os.wait4. A child starts with its parent's memory high-water mark, so the
benchmark process stays small: the data are made, state is seeded and results are read
in short-lived child processes. The marts hold synthetic customers computed by the
project's dbt models (benchmarks/synthetic_marts.py).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from benchmarks.fake_process import fake_process
from benchmarks.measure import ONBOARD, run_measured, write_section
from benchmarks.synthetic_marts import dbt_target, mart_relation
from onboard.core.paths import PROJECT_DIR

SECTION = "sync-bench"
DESCRIPTION = "HubSpot sync throughput at the rate limit; time and peak memory of 1,000,000-row plans."
WORK_DIR = PROJECT_DIR / "data" / "bench-sync"
OUTPUT = PROJECT_DIR / "docs" / "benchmarks.md"
DEFAULT_RECORDS = 30_000
DEFAULT_PLAN_ROWS = 1_000_000
#: HubSpot's documented limit (as in sync/mappings.yml): requests per window of seconds
HUBSPOT_LIMIT = (100, 10.0)
TARGET_RECORDS_PER_SECOND = 900
TOKEN = "pat-bench"
UPSERT_PATH = "/crm/v3/objects/contacts/batch/upsert"
DESTINATIONS = ("hubspot", "customerio")
#: one row in CHANGED_EVERY gets another milestone_score before the second plan (1 %)
CHANGED_EVERY = 100
#: env vars that would point a child at another configuration or warehouse
CLEARED_ENV = (
    "ONBOARD_SYNC_CONFIG",
    "ONBOARD_SYNC_RETRY_BASE_SECONDS",
    "ONBOARD_SYNC_MAX_ATTEMPTS",
    "HUBSPOT_BASE_URL",
    "HUBSPOT_ACCESS_TOKEN",
)

INTRO = """## Sync: HubSpot throughput and planning 1,000,000 rows

`make bench-sync` (or `.venv/bin/python -m benchmarks sync [--records N] [--plan-rows N]`)
runs `onboard sync` as its own process, the way a user runs it, and measures wall time and
peak resident memory with `os.wait4`, as above.

- **hubspot sync** — `onboard sync hubspot --setup` of 30,000 contacts against the local
  fake HubSpot (tests/fakes/hubspot.py, run as a separate process) enforcing HubSpot's
  documented limit of 100 requests per rolling 10 s. Records/s are counted from the fake's
  request log over the batch upserts only (first to last), so the one-off setup requests,
  process start and plan are left out; the worst rolling 10 s window and the end-to-end
  rate (records / wall time) are given too. The target is at least 900 records/s (90 % of
  100 requests x 100 records per 10 s) with no 429; the client paces itself at 95 % of the
  limit, so 950 records/s is the ceiling by design.
- **dry run, first plan** — `onboard sync <destination> --dry-run` over 1,000,000 rows of
  `crm_contacts` / `esp_people` with an empty `sync_state`: every record is an add. It
  includes writing every payload to the plan file.
- **dry run, 1 % changed** — the same after `sync_state` holds every record as a full sync
  would have left it, with `milestone_score` changed on 1 % of the rows.

The data are **synthetic**: building 1,000,000 customers from raw events is the pipeline
benchmark above and is not what is measured, since the sync reads only the two marts.
`benchmarks/synthetic_marts.py` builds the marts with the project's own dbt: the tables'
columns and types are the models', the suppression flags come out of
`int_customers_suppressed` run over drawn inputs, and the marts are computed from drawn
`onboarding_customers` rows, every coded value drawn from the values the models can produce
(`sync/enumerations.py`), `as_of` the current hour, and a passing row in
`validation.validation_runs` so the validation gate lets the sync through (no `--force`).
"""


@dataclass(frozen=True)
class Step:
    """One measured run."""

    step: str
    rows: int
    seconds: float
    peak_rss_mb: float
    notes: str
    problem: str = ""


@dataclass(frozen=True)
class Throughput:
    """What the fake saw of one sync."""

    records: int
    upserts: int
    setup_requests: int
    rate_limited: int
    sustained: float
    worst_window: float
    landed: int


# --- child processes --------------------------------------------------------------------------


def call_in_child(function: str, *args: Any) -> Any:
    """benchmarks.<function>(*args) in a child process, function as `module.name`; its JSON result."""
    module, name = function.rsplit(".", 1)
    code = f"import json; from benchmarks.{module} import {name} as f; print(json.dumps(f(*{args!r})))"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_DIR, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{function}{args!r} failed:\n{(done.stdout + done.stderr)[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def records_only_config(folder: Path) -> Path:
    """sync/mappings.yml with Customer.io's moments switched off (HubSpot's ship off): the synthetic
    warehouse holds the records' marts only; `python -m benchmarks moments` measures the moments."""
    journey = "    moments:\n      # the journey events"
    text = (PROJECT_DIR / "sync" / "mappings.yml").read_text()
    if text.count(journey) != 1:
        raise RuntimeError("sync/mappings.yml: Customer.io's moments block moved; update records_only_config")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "records-only.yml"
    path.write_text(text.replace(journey, "    moments:\n      enabled: false\n      # the journey events"))
    return path


def sync_env(warehouse: Path, results_dir: Path) -> dict[str, str]:
    """The environment of an `onboard sync` run on the synthetic warehouse."""
    env = {k: v for k, v in os.environ.items() if k not in CLEARED_ENV}
    env |= {
        "ONBOARD_TARGET": "duckdb",
        "ONBOARD_DUCKDB_PATH": str(warehouse),
        "ONBOARD_SYNC_RESULTS_DIR": str(results_dir),
        "ONBOARD_SYNC_CONFIG": str(records_only_config(results_dir)),
        "COLUMNS": "200",
    }
    return env


def sync_marts() -> list[str]:
    """The marts the destinations sync from (sync/mappings.yml), in DESTINATIONS order."""
    from sync.config import load_sync_config

    config = load_sync_config()
    return list(dict.fromkeys(config.destinations[d].model for d in DESTINATIONS))


# --- run in children on the synthetic warehouse -----------------------------------------------


def seed_state(path: str, destination: str) -> float:
    """sync_state as a full acknowledged sync leaves it: build_plan's work table copied in; seconds taken."""
    from onboard.core.db import database
    from sync.config import load_sync_config
    from sync.plan import build_plan, drop_scratch, work_table
    from sync.state import STATE, ensure_tables, utc_now

    started = time.perf_counter()
    config = load_sync_config().destinations[destination]
    with database(dbt_target(path)) as db:
        ensure_tables(db)
        build_plan(db, config)
        db.execute(
            f"insert into {STATE} (destination, record_key, payload_hash, guarded_hash, payload, status, "
            "acknowledged_at, run_id) "
            "select ?, record_key, payload_hash, guarded_hash, payload, 'synced', ?, ? "
            f"from {work_table(destination)} where kind <> 'remove'",
            [destination, utc_now(), "sync-bench-seed"],
        )
        drop_scratch(db, destination)
    return time.perf_counter() - started


def change_rows(path: str, marts: list[str]) -> int:
    """Another milestone_score on one row in CHANGED_EVERY of every mart; rows changed in the first."""
    matching = f"cast(substr(customer_id, 2) as bigint) % {CHANGED_EVERY} = 0"
    change = (
        "set milestone_score = case when milestone_score >= 50 then milestone_score - 10 "
        f"else milestone_score + 10 end where {matching}"
    )
    relations = [mart_relation(path, mart) for mart in marts]
    with duckdb.connect(path) as connection:
        for relation in relations:
            connection.execute(f"update {relation} {change}")
        row = connection.execute(f"select count(*) from {relations[0]} where {matching}").fetchone()
    return int(row[0]) if row else 0


def last_run(path: str, destination: str) -> dict[str, Any]:
    """The destination's latest row of sync.sync_runs."""
    columns = ("status", "planned", "skipped_unchanged", "removed", "sent", "succeeded", "failed")
    with duckdb.connect(path, read_only=True) as connection:
        row = connection.execute(
            f"select {', '.join(columns)} from sync.sync_runs where destination = ? "
            "order by started_at desc limit 1",
            [destination],
        ).fetchone()
    if row is None:
        raise RuntimeError(f"{path}: no sync run of {destination}")
    return dict(zip(columns, row, strict=True))


# --- the fake HubSpot (its own process) -------------------------------------------------------


def serve_fake_hubspot(token: str, max_requests: int, window_s: float) -> None:
    """Child: a FakeHubSpot at the limit; prints its URL, then its request log as JSON on a line on stdin."""
    from tests.fakes.hubspot import FakeHubSpot
    from tests.fakes.server import RateLimit

    with FakeHubSpot(token=token, rate_limit=RateLimit(max_requests, window_s)) as server:
        print(server.base_url, flush=True)
        sys.stdin.readline()
        log = [
            {"method": r.method, "path": r.path, "status": r.status, "time": r.time, "items": r.items}
            for r in server.requests
        ]
        report = {"requests": log, "rate_limited": server.rate_limited, "contacts": len(server.contacts)}
        sys.stdout.write(json.dumps(report) + "\n")
        sys.stdout.flush()


def fake_hubspot() -> AbstractContextManager[tuple[subprocess.Popen[str], str]]:
    """The fake HubSpot process and its base URL; killed on exit if still running."""
    requests, seconds = HUBSPOT_LIMIT
    return fake_process(
        f"from benchmarks.sync import serve_fake_hubspot as s; s({TOKEN!r}, {requests}, {seconds})", "HubSpot"
    )


def fake_report(process: subprocess.Popen[str]) -> dict[str, Any]:
    """Ask the fake for its request log; it exits after answering."""
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("report\n")
    process.stdin.flush()
    report: dict[str, Any] = json.loads(process.stdout.readline())
    process.wait(timeout=30)
    return report


def worst_window(times: list[float], items: list[int], window: float) -> float:
    """The lowest records/s over any window of `window` seconds starting at an upsert, inside the phase."""
    worst, end, inside = float("inf"), 0, 0
    for start, begun in enumerate(times):
        if begun + window > times[-1]:
            break
        while end < len(times) and times[end] < begun + window:
            inside += items[end]
            end += 1
        worst = min(worst, inside / window)
        inside -= items[start]
    return worst


def throughput(report: dict[str, Any]) -> Throughput:
    """Records/s over the upsert phase, setup requests and 429s, from the fake's log."""
    log = sorted(report["requests"], key=lambda r: r["time"])
    upserts = [r for r in log if r["path"] == UPSERT_PATH and r["status"] in (200, 207)]
    times, items = [float(r["time"]) for r in upserts], [int(r["items"]) for r in upserts]
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    sustained = sum(items[1:]) / span if span else 0.0
    worst = worst_window(times, items, HUBSPOT_LIMIT[1]) if span > HUBSPOT_LIMIT[1] else sustained
    limited = sum(1 for r in log if r["status"] == 429)
    return Throughput(
        records=sum(items),
        upserts=len(upserts),
        setup_requests=sum(1 for r in log if r["path"] != UPSERT_PATH),
        rate_limited=max(limited, int(report["rate_limited"])),
        sustained=sustained,
        worst_window=worst,
        landed=int(report["contacts"]),
    )


# --- the two benchmarks -----------------------------------------------------------------------


def make_warehouse(warehouse: Path, rows: int, as_of: datetime) -> None:
    """The synthetic warehouse, made in a child (benchmarks/synthetic_marts.py)."""
    call_in_child("synthetic_marts.make_warehouse", str(warehouse), rows, as_of.isoformat(), sync_marts())


def bench_throughput(records: int, work_dir: Path, as_of: datetime) -> tuple[Step, Throughput]:
    """`onboard sync hubspot --setup` of `records` contacts against the fake at HubSpot's limit."""
    warehouse = work_dir / f"throughput_{records}.duckdb"
    make_warehouse(warehouse, records, as_of)
    with fake_hubspot() as (process, url):
        env = sync_env(warehouse, work_dir / "results") | {
            "HUBSPOT_BASE_URL": url,
            "HUBSPOT_ACCESS_TOKEN": TOKEN,
        }
        seconds, rss = run_measured(
            [ONBOARD, "sync", "hubspot", "--setup"], env, work_dir / "hubspot-sync.log"
        )
        seen = throughput(fake_report(process))
    run = call_in_child("sync.last_run", str(warehouse), "hubspot")
    notes = (
        f"**{seen.sustained:,.0f} records/s** over {seen.upserts:,} batch upserts "
        f"(worst 10 s window {seen.worst_window:,.0f}); {seen.setup_requests} setup requests excluded; "
        f"{seen.rate_limited} responses 429; end to end {records / seconds:,.0f} records/s"
    )
    problem = ""
    if run["status"] != "succeeded" or seen.landed != records:
        problem = f"run {run['status']}, {seen.landed:,} of {records:,} contacts in the fake"
    step = Step("hubspot sync --setup (fake at 100 req / 10 s)", records, seconds, rss, notes, problem)
    return step, seen


def plan_file_mb(results_dir: Path, destination: str) -> float:
    """Size of the newest dry-run plan file of the destination, which is then removed (disk)."""
    files = sorted(results_dir.glob(f"*-{destination}-*-plan.jsonl"), key=lambda p: p.stat().st_mtime)
    if not files:
        return 0.0
    size = files[-1].stat().st_size / 1e6
    for path in files:
        path.unlink()
    return size


def bench_plan(destination: str, label: str, tag: str, warehouse: Path, work_dir: Path, rows: int) -> Step:
    """One measured `onboard sync <destination> --dry-run` over a model of `rows` rows."""
    results_dir = work_dir / "results"
    log_file = work_dir / f"{destination}-{tag}-dry-run.log"
    seconds, rss = run_measured(
        [ONBOARD, "sync", destination, "--dry-run"], sync_env(warehouse, results_dir), log_file
    )
    run = call_in_child("sync.last_run", str(warehouse), destination)
    planned = int(run["planned"]) + int(run["skipped_unchanged"])
    notes = (
        f"{run['planned']:,} to send, {run['skipped_unchanged']:,} unchanged; "
        f"plan file {plan_file_mb(results_dir, destination):,.1f} MB"
    )
    problem = "" if planned == rows else f"the plan covers {planned:,} of the model's {rows:,} rows"
    return Step(f"{destination} dry run, {label}", rows, seconds, rss, notes, problem)


def bench_plans(rows: int, work_dir: Path, as_of: datetime) -> list[Step]:
    """First plans, then seeded state, 1 % changed, and the plans again, for both destinations."""
    warehouse = work_dir / f"plan_{rows}.duckdb"
    make_warehouse(warehouse, rows, as_of)
    steps = [bench_plan(d, "first plan (all adds)", "first", warehouse, work_dir, rows) for d in DESTINATIONS]
    for destination in DESTINATIONS:
        call_in_child("sync.seed_state", str(warehouse), destination)
    call_in_child("sync.change_rows", str(warehouse), sync_marts())
    steps += [bench_plan(d, "1 % changed", "changed", warehouse, work_dir, rows) for d in DESTINATIONS]
    return steps


# --- the report -------------------------------------------------------------------------------


def machine() -> str:
    """The machine the figures come from."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, {memory:.0f} GiB, "
        f"Python {platform.python_version()}, DuckDB {duckdb.__version__}"
    )


def render_markdown(steps: list[Step], seen: Throughput | None, loads: tuple[float, float]) -> str:
    """The generated part of the section: when, where, the verdict, the table."""
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    lines = [
        f"Measured {when} on {machine()}; 1-minute load average {loads[0]:.1f} when the benchmark "
        f"started and {loads[1]:.1f} when it ended (other jobs running on the machine count in it).",
        "",
    ]
    lines += verdict(steps, seen)
    lines += [
        "| step | rows | time (s) | peak RSS (MB) | notes |",
        "|---|---:|---:|---:|---|",
    ]
    lines += [
        f"| {s.step} | {s.rows:,} | {s.seconds:.1f} | {s.peak_rss_mb:,.0f} | {s.notes}"
        + ("; **incomplete**" if s.problem else "")
        + " |"
        for s in steps
    ]
    return "\n".join(lines) + "\n"


def verdict(steps: list[Step], seen: Throughput | None) -> list[str]:
    """The result in words: the throughput target, the plans, and any run that did not do all its work."""
    lines = throughput_verdict(seen) + plans_verdict(steps)
    problems: dict[str, list[str]] = {}
    for step in steps:
        if step.problem:
            problems.setdefault(step.problem, []).append(step.step)
    for problem, names in problems.items():
        lines += [
            f"**Incomplete, so time and memory do not cover the whole job:** {problem} ({'; '.join(names)}).",
            "",
        ]
    return lines


def throughput_verdict(seen: Throughput | None) -> list[str]:
    """The HubSpot figure against the target."""
    if seen is None:
        return []
    fast = seen.sustained >= TARGET_RECORDS_PER_SECOND and seen.rate_limited == 0
    met = "met" if fast and seen.landed == seen.records else "NOT met"
    return [
        f"HubSpot: {seen.sustained:,.0f} records/s sustained, {seen.rate_limited} responses 429, "
        f"{seen.landed:,} of {seen.records:,} contacts landed: the target "
        f"(≥ {TARGET_RECORDS_PER_SECOND} records/s, no 429) is **{met}**.",
        "",
    ]


def plans_verdict(steps: list[Step]) -> list[str]:
    """The slowest and largest dry run, when every plan covered its whole model."""
    plans = [s for s in steps if "dry run" in s.step]
    if not plans or any(s.problem for s in plans):
        return []
    return [
        f"Planning {plans[0].rows:,} rows: the slowest dry run took {max(s.seconds for s in plans):.0f} s, "
        f"the largest peak RSS was {max(s.peak_rss_mb for s in plans):,.0f} MB.",
        "",
    ]


def write_report(path: Path, body: str, section: str) -> None:
    """The section between its markers; the intro is added above it the first time."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if f"<!-- {section}:start -->" not in text:
        path.write_text(text.rstrip() + "\n\n" + INTRO)
    write_section(path, body, section)


def run(records: int, plan_rows: int, work_dir: Path, output: Path | None, section: str = SECTION) -> str:
    """Both benchmarks; the section written into output (unless None). Returns the section."""
    work_dir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(work_dir / "results", ignore_errors=True)  # plan files of an earlier run
    as_of = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    load_start = os.getloadavg()[0]
    steps: list[Step] = []
    seen = None
    if records:
        step, seen = bench_throughput(records, work_dir, as_of)
        steps.append(step)
    if plan_rows:
        steps += bench_plans(plan_rows, work_dir, as_of)
    body = render_markdown(steps, seen, (load_start, os.getloadavg()[0]))
    if output is not None:
        write_report(output, body, section)
    return body

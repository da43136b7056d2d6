"""`python -m benchmarks moments`: journey events to Customer.io at its rate limit; planning a day's moments.

Writes the `moments` section of docs/benchmarks.md (`make bench-moments`).

1. **Events per second**: a real small warehouse (`onboard generate`, `load`, `build --as-of`
   the current hour) whose `main.journey_events` is then replaced by N synthetic fresh moments
   (default 20,000), two for each of N / 2 unsuppressed customers of `esp_people`, at times drawn
   over the 47 hours before the build's as_of, every other column copied from a real row of the
   model. `sync_destination(..., force=True)` runs in a child process against the fake
   Customer.io (tests/fakes/customerio.py, its own process) at the documented limit, 100 requests
   per second, with the client's own rate limit from sync/mappings.yml. Two runs: the first sync
   (people, then events), and the next day's, with N other fresh moments and the people
   unchanged, so only events go out.
2. **Planning a day's moments at 1,000,000 customers**: the small build's real `journey_events`
   copied until it covers 1,000,000 customers (ids made unique per copy, times kept), then
   `plan_moments` + `record_plan` (sync/moments.py) in a child: first with an empty
   `sync.moment_deliveries` (the first plan ever), then with it holding every moment older than
   a day, as yesterday's run would have left it.

Each measured step is its own process (benchmarks/measure.py: wall time, peak RSS).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from benchmarks.fake_process import fake_process
from benchmarks.measure import ONBOARD, run_measured, write_section
from benchmarks.sync import Step, call_in_child, machine
from onboard.core.as_of import dbt_as_of
from onboard.core.logs import log
from onboard.core.paths import PROJECT_DIR
from onboard.core.targets import Target, resolve_target

SECTION = "moments"
DESCRIPTION = "Journey events per second to Customer.io at its rate limit; planning a day's moments at 1M."
WORK_DIR = PROJECT_DIR / "data" / "bench-moments"
DEFAULT_EVENTS = 20_000
DEFAULT_PLAN_CUSTOMERS = 1_000_000
EVENTS_PER_PERSON = 2
#: customers generated per person the events go to (some are suppressed or not in esp_people)
CUSTOMERS_PER_PERSON = 1.4
#: the synthetic moments occurred within this many hours before as_of (max_age_hours is 48)
FRESH_HOURS = 47
#: Customer.io's documented limit (as in sync/mappings.yml): requests per window of seconds
CUSTOMERIO_LIMIT = (100, 1.0)
SITE_ID, API_KEY = "site-bench", "key-bench"
RESULT = "RESULT "
CLEARED_ENV = ("ONBOARD_SYNC_CONFIG", "ONBOARD_SYNC_RETRY_BASE_SECONDS", "ONBOARD_SYNC_MAX_ATTEMPTS")

INTRO = """## Moments: journey events to Customer.io, planning a day at 1,000,000 customers

`make bench-moments` (or `.venv/bin/python -m benchmarks moments [--events N] [--plan-customers N]`)
measures the moment engine (sync/moments.py). Each measured step is a process of its own, with
wall time and peak resident memory as above (benchmarks/measure.py).

- **customerio sync** — `sync_destination(target, "customerio", force=True)` (the validation gate
  bypassed: the data are partly synthetic) in a child process against the local fake Customer.io
  (tests/fakes/customerio.py, its own process) enforcing the documented limit, 100 requests per
  second (429 beyond it); the client paces itself at 95 % of the limit in mappings.yml. The
  warehouse is a real small build (`onboard generate`, `load`, `build --as-of` the current hour)
  whose `journey_events` is replaced by 20,000 synthetic fresh moments: two for each of 10,000
  unsuppressed people of its `esp_people`, at times drawn over the 47 hours before the build's
  as_of (so none is stale), every other column copied from a real row of the model. *First sync*
  sends the people and then the events; *next day* replaces the moments with 20,000 other fresh
  ones and runs again: the people are unchanged, so only events go out. **events/s (phase)** is
  the events sent over the moments phase: from the last attribute request the fake received to
  the return of `sync_destination` (recording the plan, reading the moments, sending them, marking
  each batch delivered); in the next-day run it is the whole `sync_destination` call (the records'
  diff and both plans included). **sustained** is the events of all but the first event request
  over the time from the first to the last (the fake's request log), and **per request** the
  mean events per `/api/v2/batch` request: a request holds at most one moment per person, so a
  batch of 100 is cut short when a person comes again. The ceiling by design is 95 requests x 100
  events = 9,500 events/s.
- **plan** — `plan_moments` + `record_plan` for Customer.io in a child process over a
  `journey_events` of the size a 1,000,000-customer warehouse has: the small build's real model
  copied until it covers at least 1,000,000 generated customers (event and customer ids made unique
  per copy, occurred_at and every other column kept, so the moments per customer and their spread
  in time are the real model's). *First plan* starts from an empty `sync.moment_deliveries`: every
  moment is classified and recorded, all but the last 48 h as skipped_stale. *A day's plan*
  starts from `moment_deliveries` holding every moment that occurred before as_of - 24 h as
  yesterday's run left it (delivered, skipped_stale or skipped_suppressed): only the last day's
  are open. The time of the two calls alone is given besides the process's wall time.
"""


@dataclass(frozen=True)
class Seen:
    """What the fake saw of one run's event requests."""

    events: int
    requests: int
    sustained: float
    rate_limited: int
    last_identify: float | None


# --- children ---------------------------------------------------------------------------------


def target_at(path: str) -> Target:
    """The CLI's DuckDB target (profiles.yml) on the warehouse file at path, whatever the environment says."""
    target = resolve_target("duckdb")
    return Target(target.name, target.type, {**target.settings, "path": path})


def run_child(function: str, env: dict[str, str], log_file: Path, *args: Any) -> tuple[float, float, Any]:
    """benchmarks.moments.<function>(*args) as a measured process: seconds, peak RSS MB, its JSON result."""
    code = (
        f"import json; from benchmarks.moments import {function} as f; "
        f"print({RESULT!r} + json.dumps(f(*{args!r})), flush=True)"
    )
    seconds, rss = run_measured([sys.executable, "-c", code], env, log_file)
    lines = [line for line in log_file.read_text().splitlines() if line.startswith(RESULT)]
    return seconds, rss, json.loads(lines[-1].removeprefix(RESULT))


def columns(connection: duckdb.DuckDBPyConnection, catalog: str, table: str) -> list[str]:
    """The columns of main.<table> in catalog, in order."""
    return [
        str(name)
        for (name,) in connection.execute(
            "select column_name from information_schema.columns where table_catalog = ? "
            "and table_schema = 'main' and table_name = ? order by ordinal_position",
            [catalog, table],
        ).fetchall()
    ]


def fresh_moments(path: str, events: int, generation: int) -> int:
    """Replace main.journey_events by `events` fresh moments, EVENTS_PER_PERSON per unsuppressed person
    of esp_people; the build's real model is kept as main.journey_events_real. Persons used."""
    persons = math.ceil(events / EVENTS_PER_PERSON)
    with duckdb.connect(path) as connection:
        catalog = connection.execute("select current_database()").fetchone()
        name = str(catalog[0]) if catalog else ""
        if "journey_events_real" not in {t for (t,) in connection.execute("show tables").fetchall()}:
            connection.execute("alter table main.journey_events rename to journey_events_real")
        seed = f"'bench:{generation}:' || draws.i"
        override = {
            "event_id": f"md5({seed})",
            "customer_id": "draws.customer_id",
            "occurred_at": f"model.as_of - to_seconds(cast(hash({seed}) % {FRESH_HOURS * 3600} as bigint))",
            "global_suppression": "false",
        }
        select = ", ".join(
            f"{override.get(c, f'model.{c}')} as {c}"
            for c in columns(connection, name, "journey_events_real")
        )
        connection.execute(
            f"""
            create or replace table main.journey_events as
            with
            model as (
                select *, row_number() over (order by event_id) - 1 as n, count(*) over () as total
                from main.journey_events_real
            ),
            persons as (
                select customer_id, row_number() over (order by customer_id) - 1 as p
                from main.esp_people where not global_suppression order by customer_id limit {persons}
            ),
            draws as (
                select persons.customer_id, persons.p * {EVENTS_PER_PERSON} + k.k as i
                from persons cross join range({EVENTS_PER_PERSON}) as k(k)
            )
            select {select} from draws inner join model on model.n = draws.i % model.total
            where draws.i < {events}
            """
        )
        row = connection.execute("select count(distinct customer_id) from main.journey_events").fetchone()
    used = int(row[0]) if row else 0
    if used < persons:
        raise RuntimeError(f"{path}: esp_people has {used:,} unsuppressed people, {persons:,} needed")
    return used


def sync_customerio(path: str) -> dict[str, Any]:
    """Child: one sync of Customer.io as `onboard sync customerio --force` runs it; what it did."""
    from onboard.core.logs import configure_logging
    from onboard.validate.runs import gate_problem, require_passing_validation
    from sync.gate import ValidationGate
    from sync.runner import sync_destination

    configure_logging()
    gate = ValidationGate(require=require_passing_validation, problem=gate_problem)
    started = time.monotonic()
    result = sync_destination(target_at(path), "customerio", gate=gate, force=True)
    ended = time.monotonic()
    counts, plan, stats = result.moment_counts, result.moment_plan, result.stats
    return {
        "status": result.run.status,
        "records_sent": result.run.sent,
        "records_failed": result.run.failed,
        "to_send": plan.to_send if plan else 0,
        "stale": plan.stale if plan else 0,
        "sent": counts.sent if counts else 0,
        "failed": counts.failed if counts else 0,
        "held": counts.held if counts else 0,
        "rate_limited": stats.rate_limited if stats else 0,
        "started": started,
        "ended": ended,
    }


def analysis(path: str, as_of: str) -> dict[str, float]:
    """The real model's size: moments per generated customer and the share of the last 24 h and 48 h."""
    at = datetime.fromisoformat(as_of).replace(tzinfo=None)
    with duckdb.connect(path, read_only=True) as connection:
        row = connection.execute(
            "select count(*), count(*) filter (where occurred_at >= ?), "
            "count(*) filter (where occurred_at >= ?) from main.journey_events",
            [at - timedelta(days=1), at - timedelta(hours=48)],
        ).fetchone()
    total, day, fresh = row if row else (0, 0, 0)
    return {"moments": total, "day": day, "fresh": fresh}


def scaled_warehouse(small: str, path: str, copies: int) -> int:
    """A warehouse whose main.journey_events is the small build's real model `copies` times over
    (event and customer ids unique per copy); its rows."""
    Path(path).unlink(missing_ok=True)
    with duckdb.connect(path) as connection:
        connection.execute(f"attach '{small}' as small (read_only)")
        override = {
            "event_id": "case when copy.n = 0 then model.event_id "
            "else md5(model.event_id || ':' || copy.n) end",
            "customer_id": "case when copy.n = 0 then model.customer_id "
            "else model.customer_id || '-' || copy.n end",
        }
        select = ", ".join(
            f"{override.get(c, f'model.{c}')} as {c}" for c in columns(connection, "small", "journey_events")
        )
        connection.execute(
            f"create table main.journey_events as select {select} "
            f"from small.main.journey_events as model cross join range({copies}) as copy(n)"
        )
        row = connection.execute("select count(*) from main.journey_events").fetchone()
    return int(row[0]) if row else 0


def seed_yesterday(path: str) -> int:
    """moment_deliveries as yesterday's run left it: every moment older than a day decided; rows."""
    from onboard.core.db import database
    from sync.state import DELIVERIES, ensure_tables

    with database(target_at(path)) as db:
        ensure_tables(db)
        yesterday = db.value("select max(as_of) - interval 1 day from main.journey_events")
        db.execute(f"delete from {DELIVERIES}")
        db.execute(
            f"""
            insert into {DELIVERIES} (destination, moment_id, record_key, name, occurred_at, status,
                first_seen_at, updated_at, run_id)
            select 'customerio', event_id, customer_id, name, occurred_at,
                case when occurred_at < cast(? as timestamp) - interval 48 hours then 'skipped_stale'
                    when global_suppression then 'skipped_suppressed' else 'delivered' end,
                ?, ?, 'bench-moments-yesterday'
            from main.journey_events where occurred_at < ?
            """,
            [yesterday, yesterday, yesterday, yesterday],
        )
        return int(db.value(f"select count(*) from {DELIVERIES}") or 0)


def plan_once(path: str) -> dict[str, Any]:
    """Child: plan_moments + record_plan for Customer.io, as a real run does them; counts and seconds."""
    from onboard.core.db import database
    from sync.config import load_sync_config
    from sync.moments import drop_scratch, plan_moments, record_plan
    from sync.state import DELIVERIES, ensure_tables

    destination = load_sync_config().destinations["customerio"]
    with database(target_at(path)) as db:
        ensure_tables(db)
        before = int(db.value(f"select count(*) from {DELIVERIES}") or 0)
        started = time.perf_counter()
        plan = plan_moments(db, destination)
        planned = time.perf_counter()
        record_plan(db, destination, "bench-moments")
        recorded = time.perf_counter()
        drop_scratch(db, destination.name)
        after = int(db.value(f"select count(*) from {DELIVERIES}") or 0)
    return {
        "in_model": plan.in_model,
        "done_before": plan.done_before,
        "to_send": plan.to_send,
        "stale": plan.stale,
        "suppressed": plan.suppressed,
        "plan_seconds": planned - started,
        "record_seconds": recorded - planned,
        "deliveries_before": before,
        "deliveries_after": after,
    }


# --- the fake Customer.io (its own process) ---------------------------------------------------


def serve_fake_customerio(max_requests: int, window_s: float) -> None:
    """Child: a FakeCustomerIO at the limit; prints its URL, then for each line on stdin its request
    log since the last one, as JSON on a line (empty line on stdin: exit)."""
    from tests.fakes.customerio import FakeCustomerIO
    from tests.fakes.server import RateLimit

    with FakeCustomerIO(
        site_id=SITE_ID, api_key=API_KEY, rate_limit=RateLimit(max_requests, window_s)
    ) as fake:
        print(fake.base_url, flush=True)
        while sys.stdin.readline().strip():
            log = [
                {"time": r.time, "status": r.status, "actions": _actions(r.body)}
                for r in fake.requests
                if r.path == "/api/v2/batch"
            ]
            fake.reset_log()
            landed = sum(len(events) for events in fake.events.values())
            report = {"requests": log, "landed": landed, "duplicates": fake.duplicate_events}
            sys.stdout.write(json.dumps(report) + "\n")
            sys.stdout.flush()


def _actions(body: Any) -> dict[str, int]:
    found: dict[str, int] = {}
    for item in body.get("batch", []) if isinstance(body, dict) else []:
        found[str(item.get("action"))] = found.get(str(item.get("action")), 0) + 1
    return found


def fake_customerio() -> AbstractContextManager[tuple[subprocess.Popen[str], str]]:
    """The fake's process and base URL; stopped on exit."""
    requests, seconds = CUSTOMERIO_LIMIT
    return fake_process(
        f"from benchmarks.moments import serve_fake_customerio as s; s({requests}, {seconds})", "Customer.io"
    )


def fake_report(process: subprocess.Popen[str]) -> dict[str, Any]:
    """The fake's request log since the last report."""
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("report\n")
    process.stdin.flush()
    report: dict[str, Any] = json.loads(process.stdout.readline())
    return report


def seen(report: dict[str, Any]) -> Seen:
    """Events, requests, sustained events/s of the event requests; when the last identify arrived."""
    log = sorted(report["requests"], key=lambda r: r["time"])
    ok = [r for r in log if r["status"] in (200, 207)]
    sends = [r for r in ok if r["actions"].get("event")]
    times, events = [float(r["time"]) for r in sends], [int(r["actions"]["event"]) for r in sends]
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    identifies = [float(r["time"]) for r in ok if r["actions"].get("identify")]
    return Seen(
        events=sum(events),
        requests=len(sends),
        sustained=sum(events[1:]) / span if span else 0.0,
        rate_limited=sum(1 for r in log if r["status"] == 429),
        last_identify=max(identifies) if identifies else None,
    )


# --- the two benchmarks -----------------------------------------------------------------------


def build_small(work_dir: Path, customers: int, as_of: datetime) -> Path:
    """A real warehouse of `customers` through the CLI (generate, load, build as of as_of); its file."""
    warehouse, raw = work_dir / "small.duckdb", work_dir / "raw"
    shutil.rmtree(raw, ignore_errors=True)
    warehouse.unlink(missing_ok=True)
    env = env_for(warehouse, work_dir)
    for args in (
        ["generate", str(raw), "--customers", str(customers), "--as-of", as_of.isoformat()],
        ["load", str(raw)],
        ["build", "--as-of", dbt_as_of(as_of), "--exclude", "test_type:unit"],
    ):
        seconds, _ = run_measured([ONBOARD, *args], env, work_dir / f"small-{args[0]}.log")
        log("bench.setup", step=args[0], customers=customers, seconds=round(seconds, 1))
    shutil.rmtree(raw)
    return warehouse


def env_for(warehouse: Path, work_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED_ENV}
    return env | {
        "ONBOARD_TARGET": "duckdb",
        "ONBOARD_DUCKDB_PATH": str(warehouse),
        "ONBOARD_VALIDATION_RESULTS_DIR": str(work_dir / "validation"),
        "ONBOARD_SYNC_RESULTS_DIR": str(work_dir / "results"),
    }


def bench_events(small: Path, events: int, work_dir: Path) -> tuple[list[Step], float]:
    """The first sync and the next day's against the fake at Customer.io's limit; the first's events/s."""
    warehouse = work_dir / "events.duckdb"
    shutil.copy(small, warehouse)
    steps, headline = [], 0.0
    with fake_customerio() as (process, url):
        env = env_for(warehouse, work_dir) | {
            "CUSTOMERIO_TRACK_URL": url,
            "CUSTOMERIO_SITE_ID": SITE_ID,
            "CUSTOMERIO_API_KEY": API_KEY,
        }
        for generation, label in ((1, "first sync (people, then events)"), (2, "next day (events only)")):
            persons = call_in_child("moments.fresh_moments", str(warehouse), events, generation)
            seconds, rss, run = run_child(
                "sync_customerio", env, work_dir / f"sync-{generation}.log", str(warehouse)
            )
            report = fake_report(process)
            fake = seen(report)
            start = fake.last_identify if fake.last_identify is not None else float(run["started"])
            phase = float(run["ended"]) - start
            rate = run["sent"] / phase if phase > 0 else 0.0
            headline = headline or rate
            notes = (
                f"{run['records_sent']:,} people sent, then **{rate:,.0f} events/s (phase)**: "
                f"{run['sent']:,} events to {persons:,} people in {phase:.1f} s; sustained "
                f"{fake.sustained:,.0f} events/s over {fake.requests} requests "
                f"({fake.events / max(1, fake.requests):.0f} per request); "
                f"{fake.rate_limited} responses 429; {report['duplicates']} duplicates"
            )
            problem = ""
            if run["status"] != "succeeded" or run["sent"] != events or fake.events != events:
                problem = f"run {run['status']}, {run['sent']:,} of {events:,} events acknowledged"
            steps.append(Step(f"customerio sync, {label}", events, seconds, rss, notes, problem))
    return steps, headline


def bench_plans(
    small: Path, customers: int, plan_customers: int, work_dir: Path, as_of: datetime
) -> tuple[list[Step], int]:
    """The first plan and a day's plan over the journey_events of a `plan_customers` warehouse."""
    real = call_in_child("moments.analysis", str(small), as_of.isoformat())
    copies = math.ceil(plan_customers / customers)
    warehouse = work_dir / "plan.duckdb"
    rows = call_in_child("moments.scaled_warehouse", str(small), str(warehouse), copies)
    env = env_for(warehouse, work_dir)
    scale = (
        f"{real['moments'] / customers:.2f} moments per customer as in the {customers:,}-customer build "
        f"({copies} copies: {customers * copies:,} customers; {real['day'] / max(1, real['moments']):.1%} "
        f"of the moments in the last 24 h, {real['fresh'] / max(1, real['moments']):.1%} in the last 48 h)"
    )
    steps = []
    for tag, label in (
        ("first", "first plan (empty deliveries)"),
        ("day", "a day's plan (yesterday decided)"),
    ):
        if tag == "day":
            call_in_child("moments.seed_yesterday", str(warehouse))
        seconds, rss, plan = run_child("plan_once", env, work_dir / f"plan-{tag}.log", str(warehouse))
        notes = (
            f"**{plan['to_send']:,} to send**, {plan['stale']:,} stale, {plan['suppressed']:,} suppressed, "
            f"{plan['done_before']:,} decided before; plan_moments {plan['plan_seconds']:.1f} s + "
            f"record_plan {plan['record_seconds']:.1f} s; deliveries {plan['deliveries_before']:,} → "
            f"{plan['deliveries_after']:,}"
        )
        if tag == "first":
            notes += f"; {scale}"
        problem = "" if plan["in_model"] == rows else f"the plan saw {plan['in_model']:,} of {rows:,} moments"
        steps.append(Step(f"plan, {label}", rows, seconds, rss, notes, problem))
    return steps, customers * copies


# --- the report -------------------------------------------------------------------------------


def render_markdown(steps: list[Step], headline: float, planned: int, loads: tuple[float, float]) -> str:
    """The generated part of the section: when, where, the figures in words, the table."""
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    lines = [
        f"Measured {when} on {machine()}; 1-minute load average {loads[0]:.1f} when the benchmark "
        f"started and {loads[1]:.1f} when it ended (other jobs running on the machine count in it).",
        "",
    ]
    syncs = [s for s in steps if s.step.startswith("customerio")]
    plans = [s for s in steps if s.step.startswith("plan")]
    if syncs:
        lines += [
            f"Customer.io at 100 requests/s: **{headline:,.0f} journey events/s** over the moments phase "
            f"of the first sync ({syncs[0].rows:,} events).",
            "",
        ]
    if plans:
        lines += [
            f"Planning the moments of a {planned:,}-customer warehouse ({plans[0].rows:,} moments): "
            f"the first plan took {plans[0].seconds:.0f} s, a day's plan {plans[-1].seconds:.0f} s; "
            f"the largest peak RSS was {max(s.peak_rss_mb for s in plans):,.0f} MB.",
            "",
        ]
    for step in steps:
        if step.problem:
            lines += [f"**Incomplete:** {step.step}: {step.problem}.", ""]
    lines += ["| step | moments | time (s) | peak RSS (MB) | notes |", "|---|---:|---:|---:|---|"]
    lines += [
        f"| {s.step} | {s.rows:,} | {s.seconds:.1f} | {s.peak_rss_mb:,.0f} | {s.notes} |" for s in steps
    ]
    return "\n".join(lines) + "\n"


def write_report(path: Path, body: str, section: str) -> None:
    """The section between its markers; the intro is added above it the first time."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if f"<!-- {section}:start -->" not in text:
        path.write_text(text.rstrip() + "\n\n" + INTRO)
    write_section(path, body, section)


def run(events: int, plan_customers: int, work_dir: Path, output: Path | None, section: str = SECTION) -> str:
    """Both benchmarks; the section written into output (unless None). Returns the section."""
    shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(parents=True)
    as_of = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    load_start = os.getloadavg()[0]
    needed = math.ceil(max(events, 2) / EVENTS_PER_PERSON * CUSTOMERS_PER_PERSON)
    # a size that copies evenly into plan_customers (give or take the rounding)
    customers = math.ceil(plan_customers / max(1, plan_customers // needed)) if plan_customers else needed
    small = build_small(work_dir, customers, as_of)
    steps: list[Step] = []
    headline, planned = 0.0, 0
    if events:
        more, headline = bench_events(small, events, work_dir)
        steps += more
    if plan_customers:
        more, planned = bench_plans(small, customers, plan_customers, work_dir, as_of)
        steps += more
    body = render_markdown(steps, headline, planned, (load_start, os.getloadavg()[0]))
    if output is not None:
        write_report(output, body, section)
    return body

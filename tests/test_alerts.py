"""`onboard alerts`: stall alerts posted to a local Slack webhook over loopback, exact values from the mart.

One warehouse of generated customers is built per module; each test runs on its own copy,
so every test starts with no alert state. Slack is `tests.fakes.slack.FakeSlack`: real
HTTP, its own rate limiter and faults; nothing is monkeypatched but environment variables.
"""

from __future__ import annotations

import math
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests

from onboard.alerts import AlertsResult, run_alerts, summary_lines
from onboard.alerts.config import AlertsConfig, WebhookRateLimit, load_alerts_config, parse_alerts_config
from onboard.alerts.messages import digest_messages, escape, realtime_message
from onboard.alerts.plan import Alert
from onboard.core.db import database
from onboard.core.errors import UsageError
from onboard.core.http import HttpClient
from onboard.core.project_config import ConfigError
from onboard.core.targets import Target
from onboard.generate import GenerateOptions, generate
from onboard.load import load
from tests.fakes import Fault, RateLimit
from tests.fakes.slack import WEBHOOK_PATH, FakeSlack, message_problem

from .conftest import query, run_onboard
from .postgres import connect as pg_connect
from .postgres import require_server, sandbox

pytestmark = pytest.mark.slow

AS_OF = datetime(2026, 3, 16, 12, tzinfo=UTC)
CUSTOMERS = 800
SEED = 11
#: Fast enough for tests: the client paces at 100/s and the fake allows as much.
FAST = AlertsConfig(rate_limit=WebhookRateLimit(requests=100, per_seconds=1.0))
FAST_LIMIT = RateLimit(100, 1.0)
EMOJI = {"P0": ":rotating_light:", "P1": ":warning:", "P2": ":large_orange_circle:"}
LINE_RANK = re.compile(r"^• #(\d+) ", re.MULTILINE)
MART_COLUMNS = (
    "alert_rank, customer_id, stall_severity, alert_delivery, arr, stall_hours, stall_step, stalled_since, "
    "milestones_reached, milestones_missing, last_progress_at, track, csm_owner, company_name, email, "
    "recovery_subject, recovery_body"
)


def _target(path: Path) -> Target:
    return Target("duckdb", "duckdb", {"type": "duckdb", "path": str(path), "schema": "main"})


def _build(path: Path, as_of: datetime) -> None:
    result = run_onboard(
        "build",
        "--as-of",
        as_of.isoformat(),
        "--exclude",
        "test_type:unit test_type:data",
        env={"ONBOARD_DUCKDB_PATH": str(path)},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse of generated customers, built as of AS_OF (models only)."""
    folder = tmp_path_factory.mktemp("alerts")
    generate(folder / "raw", GenerateOptions(customers=CUSTOMERS, seed=SEED, as_of=AS_OF))
    path = folder / "built.duckdb"
    load(folder / "raw", _target(path))
    _build(path, AS_OF)
    return path


@pytest.fixture
def target(built: Path, tmp_path: Path) -> Target:
    """This test's own copy of the built warehouse (no alert state yet)."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(built, path)
    return _target(path)


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlack]:
    """A fake Slack at test speed, SLACK_WEBHOOK_URL pointing at it, fast retries."""
    with FakeSlack(rate_limit=FAST_LIMIT) as srv:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", srv.webhook_url)
        monkeypatch.setenv("ONBOARD_SYNC_RETRY_BASE_SECONDS", "0.01")
        yield srv


# --- helpers: the mart, the log, the messages -------------------------------------------------


def mart(target: Target, where: str = "true") -> list[dict[str, Any]]:
    names = [name.strip() for name in MART_COLUMNS.split(",")]
    rows = query(target, f"select {MART_COLUMNS} from main.stall_alerts where {where} order by alert_rank")
    return [dict(zip(names, row, strict=True)) for row in rows]


def logged(target: Target) -> list[tuple]:
    return query(
        target,
        "select customer_id, stalled_since, severity, delivery from alerts.alert_log order by customer_id, stalled_since",
    )


def header(message: dict[str, Any]) -> str:
    return message["blocks"][0]["text"]["text"]


def is_digest(message: dict[str, Any]) -> bool:
    return header(message).startswith(":clipboard: Stall digest")


def realtime_ids(messages: list[dict[str, Any]]) -> list[str]:
    """The customer of each realtime message, from its section text (`id` in backticks)."""
    return [re.search(r"`([^`]+)`", m["blocks"][1]["text"]["text"])[1] for m in messages if not is_digest(m)]


def digest_ranks(messages: list[dict[str, Any]]) -> list[list[int]]:
    """The alert ranks listed by each digest message, in order."""
    ranks = []
    for message in filter(is_digest, messages):
        texts = [block["text"]["text"] for block in message["blocks"][1:] if block["type"] == "section"]
        ranks.append([int(rank) for text in texts for rank in LINE_RANK.findall(text)])
    return ranks


def fields(message: dict[str, Any]) -> dict[str, str]:
    pairs = (item["text"].split("\n", 1) for item in message["blocks"][2]["fields"])
    return {name.strip("*"): value for name, value in pairs}


def money(arr: Any) -> str:
    return "unknown" if arr is None else f"${float(arr):,.0f}"


def at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def run(target: Target, config: AlertsConfig = FAST, **kwargs: Any) -> AlertsResult:
    return run_alerts(target, now=kwargs.pop("now", AS_OF), config=config, **kwargs)


# --- realtime, overflow, digest ---------------------------------------------------------------


def test_realtime_alerts_are_posted_one_per_message_with_their_full_context(target: Target, slack: FakeSlack):
    expected = mart(target, "alert_delivery = 'realtime'")[:20]
    stalled = len(mart(target))

    result = run(target)

    realtime = [m for m in slack.messages if not is_digest(m)]
    assert realtime_ids(slack.messages) == [row["customer_id"] for row in expected]
    assert slack.messages[:20] == realtime  # realtime first, then the digest
    for message, row in zip(realtime, expected, strict=True):
        name = row["company_name"] or row["customer_id"]
        reached = row["milestones_reached"].split(",") if row["milestones_reached"] else []
        missing = row["milestones_missing"].split(",")
        total = len(reached) + len(missing)
        assert message["text"] == (
            f"{row['stall_severity']} stall: {name} ({row['customer_id']}) stuck at {row['stall_step']} "
            f"for {row['stall_hours']:,.1f} h · ARR {money(row['arr'])} · CSM {row['csm_owner'] or 'unassigned'}"
        )
        assert header(message) == f"{EMOJI[row['stall_severity']]} {row['stall_severity']} stall · {name}"
        assert message["blocks"][1]["text"]["text"] == (
            f"*{name}* · `{row['customer_id']}` · {row['email']}\n"
            f"Stuck at *{row['stall_step']}* since {at(row['stalled_since'])}."
        )
        assert fields(message) == {
            "Severity": f"{row['stall_severity']} (realtime)",
            "Stalled step": row["stall_step"],
            "Stalled since": at(row["stalled_since"]),
            "Stall hours": f"{row['stall_hours']:,.1f} h without progress",
            "Last progress": at(row["last_progress_at"]),
            "ARR": money(row["arr"]),
            "Track": row["track"],
            "CSM owner": row["csm_owner"] or "unassigned",
        }
        assert message["blocks"][3]["text"]["text"] == (
            f"*Reached ({len(reached)}/{total}):* {', '.join(reached) or 'none yet'}\n"
            f"*Missing ({len(missing)}/{total}):* {', '.join(missing)}"
        )
        assert message["blocks"][4]["text"]["text"] == (
            f"*Drafted recovery email:* {escape(row['recovery_subject'])}\n{escape(row['recovery_body'])}"
        )
        assert message["blocks"][5]["elements"][0]["text"] == (
            f"Alert #{row['alert_rank']} of {stalled} stalled customers "
            "(ranked by severity, then ARR x hours stalled) · onboarding-paths"
        )
    assert result.realtime_posted == 20
    assert result.exit_code == 0
    realtime_logged = [(c, s, sev) for c, s, sev, d in logged(target) if d == "realtime"]
    assert sorted(realtime_logged) == sorted(
        (row["customer_id"], row["stalled_since"], row["stall_severity"]) for row in expected
    )


def test_realtime_alerts_over_the_cap_join_the_digest_and_every_stall_is_posted_once(
    target: Target, slack: FakeSlack
):
    rows = mart(target)
    realtime_rows = [row for row in rows if row["alert_delivery"] == "realtime"]
    posted_realtime = {row["customer_id"] for row in realtime_rows[:20]}
    to_digest = [row for row in rows if row["customer_id"] not in posted_realtime]
    assert len(realtime_rows) > 20  # the cap is exercised

    result = run(target)

    ranks = digest_ranks(slack.messages)
    assert [rank for part in ranks for rank in part] == [row["alert_rank"] for row in to_digest]
    assert [len(part) for part in ranks] == [
        min(40, len(to_digest) - start) for start in range(0, len(to_digest), 40)
    ]
    digests = [m for m in slack.messages if is_digest(m)]
    assert len(digests) == math.ceil(len(to_digest) / 40)
    assert header(digests[0]) == f":clipboard: Stall digest 2026-03-16 (1/{len(digests)})"
    severities = Counter(row["stall_severity"] or "no rule" for row in to_digest)
    overflow = len(realtime_rows) - 20
    assert digests[0]["blocks"][1]["text"]["text"] == (
        f"*{len(to_digest)} stalled customers* to review: "
        + " · ".join(f"{name} {count}" for name, count in severities.items())
        + f"\n{overflow} realtime alerts over the cap of 20 per run are listed here instead of one message each."
    )
    assert (
        digests[0]["text"]
        == f"Stall digest 2026-03-16 (1/{len(digests)}): 40 of {len(to_digest)} stalled customers"
    )
    assert (result.plan.overflow, result.digest_alerts_posted, result.digest_messages_posted) == (
        overflow,
        len(to_digest),
        len(digests),
    )
    assert summary_lines(result) == [
        f"alerts run {result.run_id}: posted realtime 20, digest {len(to_digest)} alerts in {len(digests)} "
        f"messages, skipped already alerted 0, overflow {overflow}"
    ]
    log = logged(target)
    assert sorted((c, s) for c, s, _, _ in log) == sorted(
        (row["customer_id"], row["stalled_since"]) for row in rows
    )
    assert Counter(d for *_, d in log) == {"realtime": 20, "digest": len(to_digest)}
    assert all(message_problem(message) is None for message in slack.messages)


def test_the_same_stall_is_never_alerted_twice_across_runs_and_builds(target: Target, slack: FakeSlack):
    first = run(target)
    posted = len(slack.messages)

    again = run(target, now=AS_OF + timedelta(hours=1))

    assert len(slack.messages) == posted and again.outcomes == []
    assert (again.plan.skipped, again.exit_code) == (len(mart(target)), 0)
    assert summary_lines(again)[0].endswith(
        f"posted realtime 0, digest 0 alerts in 0 messages, skipped already alerted {first.plan.stalled}, overflow 0"
    )

    # the next day's build over the same warehouse: stall_hours move, stalled_since does not
    later = AS_OF + timedelta(days=1)
    _build(target.duckdb_path, later)
    before = set(logged(target))
    new = [
        row
        for row in mart(target)
        if (row["customer_id"], row["stalled_since"]) not in {k[:2] for k in before}
    ]
    assert new  # the later build has stalls that began since AS_OF

    next_day = run(target, now=later)

    fresh = slack.messages[posted:]
    assert (
        realtime_ids(fresh) == [row["customer_id"] for row in new if row["alert_delivery"] == "realtime"][:20]
    )
    assert [rank for part in digest_ranks(fresh) for rank in part] == [
        row["alert_rank"] for row in new if row["alert_delivery"] != "realtime"
    ]
    assert next_day.plan.skipped == len(mart(target)) - len(new)
    assert set(logged(target)) - before == {
        (
            row["customer_id"],
            row["stalled_since"],
            row["stall_severity"],
            "digest" if row["alert_delivery"] != "realtime" else "realtime",
        )
        for row in new
    }


def test_a_new_stall_of_the_same_customer_is_alerted_again_and_digests_go_once_per_utc_day(
    target: Target, slack: FakeSlack
):
    run(target)
    posted = len(slack.messages)
    realtime_row = mart(target, "alert_delivery = 'realtime'")[0]
    digest_row = mart(target, "alert_delivery = 'daily_digest'")[0]
    # the next build saw both customers progress, then stall again five days later
    with duckdb.connect(str(target.duckdb_path)) as connection:
        connection.execute(
            "update main.stall_alerts set stalled_since = stalled_since + interval 5 day, "
            "last_progress_at = last_progress_at + interval 5 day, stall_hours = stall_hours - 120 "
            "where customer_id in (?, ?)",
            [realtime_row["customer_id"], digest_row["customer_id"]],
        )
    new_since = realtime_row["stalled_since"] + timedelta(days=5)

    same_day = run(target, now=AS_OF + timedelta(hours=3))

    assert realtime_ids(slack.messages[posted:]) == [realtime_row["customer_id"]]
    assert fields(slack.messages[posted])["Stalled since"] == at(new_since)
    assert [alert.customer_id for alert in same_day.plan.waiting] == [digest_row["customer_id"]]
    assert summary_lines(same_day)[1] == (
        "  1 alerts wait for the next digest (the digest of 2026-03-16 went out already: one per UTC day)"
    )
    assert len(slack.messages) == posted + 1
    assert [row[1] for row in logged(target) if row[0] == realtime_row["customer_id"]] == [
        realtime_row["stalled_since"],
        new_since,
    ]

    next_day = run(target, now=AS_OF + timedelta(days=1))

    assert digest_ranks(slack.messages[posted + 1 :]) == [[digest_row["alert_rank"]]]
    assert (next_day.realtime_posted, next_day.digest_alerts_posted, next_day.plan.waiting) == (0, 1, ())
    assert [row[1] for row in logged(target) if row[0] == digest_row["customer_id"]] == [
        digest_row["stalled_since"],
        digest_row["stalled_since"] + timedelta(days=5),
    ]


def test_the_digest_waits_for_digest_hour_utc(target: Target, slack: FakeSlack):
    config = FAST.model_copy(update={"digest_hour_utc": 13})

    early = run(target, config, now=AS_OF)  # 12:00 UTC

    assert digest_ranks(slack.messages) == [] and early.realtime_posted == 20
    assert len(early.plan.waiting) == len(mart(target)) - 20
    assert summary_lines(early)[1].endswith("(the digest goes out from 13:00 UTC)")

    due = run(target, config, now=AS_OF + timedelta(hours=1))

    assert due.realtime_posted == 20  # the overflow got its realtime turn first
    assert due.digest_alerts_posted == len(mart(target)) - 40
    assert len(logged(target)) == len(mart(target))


# --- Slack's rate limit, faults and failures --------------------------------------------------


def test_rate_limit_of_one_message_per_second_is_paced_and_a_429_retry_after_is_honoured(
    target: Target, monkeypatch: pytest.MonkeyPatch
):
    config = AlertsConfig(max_realtime_per_run=3, digest_hour_utc=23)  # Slack's 1/s; no digest at 12:00
    monkeypatch.setenv("ONBOARD_SYNC_RETRY_BASE_SECONDS", "0.01")
    with FakeSlack() as srv:  # 1 message per rolling second, 429 Retry-After: 1
        monkeypatch.setenv("SLACK_WEBHOOK_URL", srv.webhook_url)
        paced = run(target, config)
        answers = srv.requests
    # about 1 message per second (with the client's 5 % margin), never a burst
    assert all(b.time - a.time >= 0.95 for a, b in pairwise(answers))
    assert [r.status for r in answers if r.status != 429] == [200, 200, 200]
    assert paced.realtime_posted == 3 and len(srv.messages) == 3

    # a client told to go 10 times faster than Slack allows: Slack's 429s hold it back
    with FakeSlack() as srv:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", srv.webhook_url)
        hurried = run(target, config.model_copy(update={"rate_limit": WebhookRateLimit(requests=10)}))
        answers = srv.requests
    assert [r.status for r in answers if r.status == 200] == [200, 200, 200]
    assert srv.rate_limited == 2  # the 2nd and 3rd messages came 0.1 s after the one before
    for limited, retried in pairwise(answers):
        if limited.status == 429:
            assert retried.time - limited.time >= 1.0  # Retry-After: 1
    assert hurried.realtime_posted == 3 and hurried.exit_code == 0
    assert len(srv.messages) == 3


def test_the_shared_client_paces_slack_with_its_safety_margin():
    client = HttpClient("https://hooks.slack.com/services/T000/B000/XXXX", "slack", rate_limit=(1, 1.0))
    assert client.pacer.interval == pytest.approx(1 / 0.95)


def test_429_storms_and_5xx_lose_nothing_and_duplicate_nothing(target: Target, slack: FakeSlack):
    slack.add_fault(Fault("rate_limit", times=4, retry_after=0))
    slack.add_fault(Fault("status", status=503, times=2, after=3))
    slack.add_fault(Fault("rate_limit", times=3, after=5, retry_after=0.05))
    slack.add_fault(Fault("status", status=500, times=1, after=10))
    slack.add_fault(Fault("drop_before_apply", times=1, after=2))
    rows = mart(target)

    result = run(target)

    assert result.exit_code == 0 and result.failed == []
    statuses = Counter(request.status for request in slack.requests)
    assert (statuses[429], statuses[503], statuses[500], statuses[None]) == (7, 2, 1, 1)
    posted_ids = realtime_ids(slack.messages)
    posted_ranks = [rank for part in digest_ranks(slack.messages) for rank in part]
    by_rank = {row["alert_rank"]: row["customer_id"] for row in rows}
    everyone = posted_ids + [by_rank[rank] for rank in posted_ranks]
    assert sorted(everyone) == sorted(row["customer_id"] for row in rows)  # each exactly once
    assert len(logged(target)) == len(rows)


def test_a_message_slack_refuses_fails_alone_and_is_retried_next_run(target: Target, slack: FakeSlack):
    second = mart(target, "alert_delivery = 'realtime'")[1]
    slack.add_fault(Fault("status", status=400, times=1, after=1))

    first = run(target)

    assert first.exit_code == 1
    assert [o.message.label for o in first.failed] == [
        f"realtime #{second['alert_rank']} {second['customer_id']}"
    ]
    assert first.failed[0].error == "Slack answered 400 injected fault: HTTP 400"
    assert second["customer_id"] not in realtime_ids(slack.messages)
    assert len(logged(target)) == len(mart(target)) - 1
    assert summary_lines(first)[-1] == (
        "  FAILED: 1 messages (1 alerts) not posted, not logged; the next run retries them. "
        "First error: Slack answered 400 injected fault: HTTP 400"
    )
    posted = len(slack.messages)

    retry = run(target, now=AS_OF + timedelta(hours=1))

    assert realtime_ids(slack.messages[posted:]) == [second["customer_id"]]
    assert (retry.exit_code, retry.realtime_posted, retry.digest_messages_posted) == (0, 1, 0)
    assert len(logged(target)) == len(mart(target))


def test_slack_unavailable_stops_the_run_and_the_next_run_completes_it_without_duplicates(
    target: Target, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("ONBOARD_SYNC_MAX_ATTEMPTS", "3")
    slack.add_fault(Fault("status", status=503, times=3, after=3))  # the 4th message fails 3 times
    rows = mart(target)

    first = run(target)

    assert first.exit_code == 1
    assert (first.realtime_posted, first.digest_messages_posted) == (3, 0)
    assert first.stopped == "slack: POST  answered 503 3 times"
    assert len(first.failed) == len(first.outcomes) - 3  # the failed one and every unsent one
    assert len(logged(target)) == 3
    assert query(target, "select status, digest_date, digest_complete from alerts.alert_runs") == [
        ("failed", None, False)
    ]

    second = run(target, now=AS_OF + timedelta(hours=1))  # same UTC day: the digest is not done yet

    assert second.exit_code == 0 and second.plan.skipped == 3
    by_rank = {row["alert_rank"]: row["customer_id"] for row in rows}
    everyone = realtime_ids(slack.messages) + [
        by_rank[r] for part in digest_ranks(slack.messages) for r in part
    ]
    assert sorted(everyone) == sorted(row["customer_id"] for row in rows)
    assert len(logged(target)) == len(rows)
    assert query(
        target, "select status, digest_date, digest_complete from alerts.alert_runs order by started_at"
    ) == [
        ("failed", None, False),
        ("ok", date(2026, 3, 16), True),
    ]


def test_a_wrong_webhook_stops_at_the_first_404_and_logs_nothing(
    target: Target, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SLACK_WEBHOOK_URL", f"{slack.base_url}/services/T000/B000/WRONG")

    result = run(target)

    assert [(r.path, r.status) for r in slack.requests] == [("/services/T000/B000/WRONG", 404)]
    assert result.stopped == "Slack answered 404 no_service" and result.exit_code == 1
    assert logged(target) == []


def test_a_connection_dropped_after_slack_posted_shows_the_message_twice_but_logs_it_once(
    target: Target, slack: FakeSlack
):
    """At least once: the client resends after a dropped connection, and Slack cannot deduplicate."""
    first = mart(target, "alert_delivery = 'realtime'")[0]
    slack.add_fault(Fault("drop_after_apply", times=1))

    result = run(target)

    assert result.exit_code == 0
    assert realtime_ids(slack.messages)[:2] == [first["customer_id"], first["customer_id"]]
    assert len(slack.messages) == len(result.outcomes) + 1
    assert [row for row in logged(target) if row[0] == first["customer_id"]] == [
        (first["customer_id"], first["stalled_since"], first["stall_severity"], "realtime")
    ]


@pytest.mark.postgres
def test_postgresql_posts_the_same_messages_and_keeps_the_same_state(target: Target, slack: FakeSlack):
    """The mart's rows copied into a PostgreSQL sandbox (with dbt's column types): same run, same log."""
    server = require_server()
    rows = query(target, f"select {MART_COLUMNS} from main.stall_alerts")
    with sandbox(server) as box:
        _, existing = box.query("select count(*) from pg_namespace where nspname = 'alerts'")
        if existing[0][0]:
            pytest.skip("this database already has a schema `alerts`: the test would write into it")
        try:
            with closing(pg_connect(server)) as connection, connection.cursor() as cursor:
                cursor.execute(f"create schema {box.schema}")
                cursor.execute(
                    f"create table {box.schema}.stall_alerts (alert_rank bigint, customer_id text, "
                    "stall_severity text, alert_delivery text, arr numeric, stall_hours double precision, "
                    "stall_step text, stalled_since timestamp, milestones_reached text, milestones_missing text, "
                    "last_progress_at timestamp, track text, csm_owner text, company_name text, email text, "
                    "recovery_subject text, recovery_body text)"
                )
                cursor.executemany(
                    f"insert into {box.schema}.stall_alerts values ({', '.join(['%s'] * 17)})", rows
                )
            with database(box.target()) as other_run, other_run.exclusive("onboard.alerts") as held:
                assert held
                with pytest.raises(UsageError) as refused:
                    run(box.target())
                assert str(refused.value) == (
                    f"another `onboard alerts` run is posting from {box.target().describe()}; "
                    "wait for it to finish (one run at a time)"
                )
                assert slack.messages == []
            on_postgres = run(box.target())
            posted_by_postgres = list(slack.messages)
            _, postgres_log = box.query(
                "select customer_id, stalled_since, severity, delivery from alerts.alert_log "
                "order by customer_id, stalled_since"
            )
            again = run(box.target(), now=AS_OF + timedelta(hours=1))
        finally:
            with closing(pg_connect(server)) as connection, connection.cursor() as cursor:
                cursor.execute("drop schema if exists alerts cascade")
    assert again.outcomes == [] and again.plan.skipped == len(rows)
    slack.messages.clear()
    on_duckdb = run(target)
    assert posted_by_postgres == slack.messages
    assert postgres_log == logged(target)
    assert (on_postgres.realtime_posted, on_postgres.digest_alerts_posted) == (
        on_duckdb.realtime_posted,
        on_duckdb.digest_alerts_posted,
    )


# --- dry run and usage errors -----------------------------------------------------------------


def test_dry_run_posts_nothing_writes_nothing_and_prints_every_message(
    target: Target, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("SLACK_WEBHOOK_URL")  # not needed for a dry run
    rows = mart(target)

    result = run(target, dry_run=True)

    assert slack.requests == []
    assert query(target, "select count(*) from information_schema.schemata where schema_name = 'alerts'") == [
        (0,)
    ]
    lines = summary_lines(result)
    digests = math.ceil((len(rows) - 20) / 40)
    overflow = len([row for row in rows if row["alert_delivery"] == "realtime"]) - 20
    assert lines[-1] == (
        f"dry run (nothing posted): would post realtime 20, digest {len(rows) - 20} alerts in {digests} "
        f"messages, skipped already alerted 0, overflow {overflow}"
    )
    top = rows[0]
    assert lines[0] == f"--- realtime #1 {top['customer_id']} (1 alerts) ---"
    name = top["company_name"] or top["customer_id"]
    assert lines[1] == f"{EMOJI[top['stall_severity']]} {top['stall_severity']} stall · {name}"
    assert sum(line.startswith("--- digest ") for line in lines) == digests


def test_missing_or_unsafe_webhook_url_is_a_one_line_usage_error_that_never_prints_the_url(
    target: Target, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    with pytest.raises(UsageError) as missing:
        run(target)
    assert (
        str(missing.value)
        == "environment variable SLACK_WEBHOOK_URL is not set (the Slack incoming-webhook URL)"
    )
    assert missing.value.exit_code == 2

    for url, expected in (
        (
            "http://hooks.example.com/services/T1/B1/SECRET",
            "plain http is refused except on loopback; use https",
        ),
        ("hooks.slack.com/services/T1/B1/SECRET", "expected an incoming-webhook URL"),
        ("https://hooks.slack.com", "expected an incoming-webhook URL"),
    ):
        monkeypatch.setenv("SLACK_WEBHOOK_URL", url)
        with pytest.raises(UsageError) as refused:
            run(target)
        assert expected in str(refused.value) and "SECRET" not in str(refused.value)
        assert "\n" not in str(refused.value)
    assert query(target, "select count(*) from information_schema.schemata where schema_name = 'alerts'") == [
        (0,)
    ]


def test_no_mart_is_a_usage_error(tmp_path: Path, slack: FakeSlack):
    empty = _target(tmp_path / "empty.duckdb")
    with pytest.raises(UsageError, match="no warehouse at"):
        run(empty)
    duckdb.connect(str(empty.duckdb_path)).close()
    with pytest.raises(UsageError, match="has no stall_alerts in schema main: run `onboard build` first"):
        run(empty)


# --- configuration ----------------------------------------------------------------------------


def test_the_shipped_config_is_the_default_and_onboard_alerts_config_overrides_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("ONBOARD_ALERTS_CONFIG", raising=False)
    assert load_alerts_config() == AlertsConfig()
    custom = tmp_path / "alerts.yml"
    custom.write_text(
        "alerts:\n  max_realtime_per_run: 5\n  digest_hour_utc: 8\n  rate_limit: {requests: 2, per_seconds: 3}\n"
    )
    monkeypatch.setenv("ONBOARD_ALERTS_CONFIG", str(custom))
    assert load_alerts_config() == AlertsConfig(
        max_realtime_per_run=5, digest_hour_utc=8, rate_limit=WebhookRateLimit(requests=2, per_seconds=3.0)
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"alerts": {"max_realtime_per_run": -1}},
            "alerts.max_realtime_per_run: expected a whole number >= 0, got -1",
        ),
        ({"alerts": {"max_realtime_per_run": True}}, "alerts.max_realtime_per_run: expected a whole number"),
        ({"alerts": {"digest_hour_utc": 24}}, "alerts.digest_hour_utc: expected a whole number 0-23 or null"),
        (
            {"alerts": {"digest_alerts_per_message": 48}},
            "alerts.digest_alerts_per_message: expected a whole number 1-47, got 48",
        ),
        ({"alerts": {"max_digest_messages": 0}}, "alerts.max_digest_messages: expected a whole number >= 1"),
        ({"alerts": {"max_realtime": 3}}, "alerts.max_realtime: expected no such key (unknown)"),
        (
            {"alerts": {"rate_limit": {"per_seconds": 0}}},
            "alerts.rate_limit.per_seconds: expected a number > 0, got 0",
        ),
        (
            {"alerts": {"rate_limit": {"requests": 0}}},
            "alerts.rate_limit.requests: expected a whole number >= 1",
        ),
        ({"alerts": {"rate_limit": [1, 1]}}, "alerts.rate_limit: expected a valid dictionary"),
        ({"other": {}}, "alerts: expected a value (the key is missing)"),
    ],
)
def test_a_bad_config_names_the_key(raw: Any, message: str):
    with pytest.raises(ConfigError, match="^alerts.yml: " + re.escape(message)):
        parse_alerts_config(raw, "alerts.yml")


def test_a_bad_config_file_is_named_with_the_line_of_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    custom = tmp_path / "alerts.yml"
    custom.write_text(
        "alerts:\n  max_realtime_per_run: 5\n  rate_limit:\n    requests: 1\n    per_seconds: -2\n"
    )
    monkeypatch.setenv("ONBOARD_ALERTS_CONFIG", str(custom))
    with pytest.raises(
        ConfigError, match=re.escape(f"{custom}:5: alerts.rate_limit.per_seconds: expected a number > 0")
    ):
        load_alerts_config()
    custom.unlink()
    with pytest.raises(ConfigError, match=re.escape(f"{custom}: configuration file not found")):
        load_alerts_config()


# --- Block Kit limits (pure) ------------------------------------------------------------------


def _alert(rank: int, **changes: Any) -> Alert:
    base = Alert(
        alert_rank=rank,
        customer_id=f"c{rank:07d}",
        stall_severity="P2",
        alert_delivery="daily_digest",
        arr=12000.0,
        stall_hours=130.25,
        stall_step="ran_first_query",
        stalled_since=datetime(2026, 3, 10, 14),
        milestones_reached=("imported_first_data",),
        milestones_missing=(
            "ran_first_query",
            "invited_teammate",
            "created_integration",
            "completed_tutorial",
        ),
        last_progress_at=datetime(2026, 3, 8, 14),
        track="standard",
        csm_owner="Alice <Moreno> & co",
        company_name="Acme",
        email=None,
    )
    return replace(base, **changes)


def test_messages_stay_within_slack_limits_even_with_huge_names():
    huge = _alert(
        1, company_name="A" * 5000, csm_owner="B" * 5000, stall_severity=None, alert_delivery=None, arr=None
    )
    message = realtime_message(huge, stalled=1).payload
    assert message_problem(message) is None
    assert len(header(message)) == 150 and header(message).endswith("…")
    assert fields(message)["Severity"] == "no rule (no delivery rule)"
    assert fields(message)["ARR"] == "unknown"

    alerts = [_alert(rank, company_name="N" * 400) for rank in range(1, 501)]
    parts = digest_messages(alerts, date(2026, 3, 16), per_message=47, held=7)
    assert [len(part.alerts) for part in parts] == [47] * 10 + [30]
    for part in parts:
        assert message_problem(part.payload) is None
        assert len(part.payload["blocks"]) <= 50
    assert [
        rank
        for part in parts
        for rank in LINE_RANK.findall(
            "\n".join(b["text"]["text"] for b in part.payload["blocks"] if b["type"] == "section")
        )
    ] == [str(rank) for rank in range(1, 501)]
    assert (
        parts[-1].payload["blocks"][-1]["elements"][1]["text"]
        == "…and 7 more stalled customers wait for the next digest"
    )


def test_names_are_escaped_for_mrkdwn():
    line = digest_messages([_alert(3)], date(2026, 3, 16), per_message=40)[0].payload["blocks"][2]["text"][
        "text"
    ]
    assert line == (
        "• #3 *P2* Acme (`c0000003`): stuck at ran_first_query since 2026-03-10 14:00 UTC (130.2 h) · ARR $12,000 · "
        "standard · CSM Alice &lt;Moreno&gt; &amp; co · 1/5 milestones"
    )


def test_the_digest_is_truncated_with_a_count_past_max_digest_messages(target: Target, slack: FakeSlack):
    config = FAST.model_copy(update={"max_digest_messages": 2, "digest_alerts_per_message": 10})
    rows = mart(target)

    result = run(target, config)

    assert [len(part) for part in digest_ranks(slack.messages)] == [10, 10]
    held = len(rows) - 20 - 20
    assert len(result.plan.held) == held
    assert (
        slack.messages[-1]["blocks"][-1]["elements"][1]["text"]
        == f"…and {held} more stalled customers wait for the next digest"
    )
    assert (
        summary_lines(result)[1]
        == f"  {held} alerts over the digest's size (max_digest_messages) wait for the next one"
    )
    assert len(logged(target)) == 40


# --- the fake itself --------------------------------------------------------------------------


def test_fake_slack_answers_like_slack():
    with FakeSlack(rate_limit=RateLimit(1, 1.0)) as srv:
        ok = requests.post(srv.webhook_url, json={"text": "hi"}, timeout=5)
        limited = requests.post(srv.webhook_url, json={"text": "again"}, timeout=5)
    assert (ok.status_code, ok.text, ok.headers["Content-Type"]) == (200, "ok", "text/plain; charset=utf-8")
    assert (limited.status_code, limited.text, limited.headers["Retry-After"]) == (429, "rate_limited", "1")
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}
    cases = [
        ("/services/T000/B000/NOPE", {"text": "hi"}, 404, "no_service"),
        (WEBHOOK_PATH, {"username": "bot"}, 400, "no_text"),
        (WEBHOOK_PATH, {"text": "hi", "block": []}, 400, "invalid_payload"),
        (WEBHOOK_PATH, {"blocks": [section] * 51}, 400, "invalid_blocks"),
        (
            WEBHOOK_PATH,
            {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]},
            400,
            "invalid_blocks",
        ),
        (
            WEBHOOK_PATH,
            {"blocks": [{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}]},
            400,
            "invalid_blocks",
        ),
        (
            WEBHOOK_PATH,
            {"blocks": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}]},
            400,
            "invalid_blocks",
        ),
        (WEBHOOK_PATH, {"text": "fallback", "blocks": [section] * 50}, 200, "ok"),
    ]
    with FakeSlack(rate_limit=None) as srv:
        for path, body, status, text in cases:
            answer = requests.post(f"{srv.base_url}{path}", json=body, timeout=5)
            assert (answer.status_code, answer.text) == (status, text), body
        bad_json = requests.post(
            srv.webhook_url, data=b"{", headers={"Content-Type": "application/json"}, timeout=5
        )
        assert (bad_json.status_code, bad_json.text) == (400, "invalid_payload")
        assert len(srv.messages) == 1

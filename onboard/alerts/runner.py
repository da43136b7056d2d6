"""One alerts run: read the mart and the state, plan, post message by message, log what Slack accepted.

Order: the webhook URL is checked first (a usage error before any work); then the
stall_alerts rows are read with the alerts already logged, the run is planned
(`plan.plan_alerts`), and the messages go out realtime first, then the digest, through the
shared `onboard.core.http.HttpClient` (paced at Slack's 1 message per second, 429 Retry-After
honoured, 5xx and connection errors retried). Each accepted message's alerts are written to
alert_log at once. A message Slack refuses with 400 fails alone and the run goes on; any
other refusal (404 no_service, 403, 410 channel_is_archived ...) or exhausted retries mean
the webhook itself is broken, so the run stops there. Failed and unsent messages are not
logged: the next run tries their alerts again. A dry run reads, plans and renders, and
writes and posts nothing.

A connection dropped after Slack received a message is retried by the client, so Slack
may show that message twice (at least once, never lost); a 5xx or 429 never duplicates.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from onboard.alerts.config import AlertsConfig, load_alerts_config, webhook_url
from onboard.alerts.messages import Message, digest_messages, preview_lines, realtime_message
from onboard.alerts.plan import AlertsPlan, digest_is_due, plan_alerts
from onboard.alerts.state import (
    AlertRunRow,
    digest_done,
    ensure_tables,
    mark_interrupted,
    read_alerts,
    record_posted,
    save_run,
)
from onboard.core.db import Database, database
from onboard.core.errors import UsageError
from onboard.core.http import DestinationUnavailableError, HttpClient, RetryPolicy
from onboard.core.logs import log
from onboard.core.targets import Target

POSTED, FAILED, NOT_SENT, DRY_RUN = "posted", "failed", "not_sent", "dry_run"


@dataclass
class Outcome:
    """A message and what became of it."""

    message: Message
    status: str = NOT_SENT
    error: str | None = None


@dataclass
class AlertsResult:
    """What one run did (or, for a dry run, would do)."""

    run_id: str
    dry_run: bool
    plan: AlertsPlan
    outcomes: list[Outcome] = field(default_factory=list)
    stopped: str | None = None  # why the run stopped posting early
    waiting_reason: str = ""  # why the digest is not due, when it is not

    def _count(self, delivery: str, status: str) -> tuple[int, int]:
        chosen = [o for o in self.outcomes if o.message.delivery == delivery and o.status == status]
        return len(chosen), sum(len(o.message.alerts) for o in chosen)

    @property
    def realtime_posted(self) -> int:
        return self._count("realtime", POSTED)[0]

    @property
    def digest_messages_posted(self) -> int:
        return self._count("digest", POSTED)[0]

    @property
    def digest_alerts_posted(self) -> int:
        return self._count("digest", POSTED)[1]

    @property
    def failed(self) -> list[Outcome]:
        """Messages that failed or were not sent (the run stopped): their alerts are not logged."""
        return [o for o in self.outcomes if o.status in (FAILED, NOT_SENT)]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _messages(plan: AlertsPlan, config: AlertsConfig, now: datetime) -> list[Message]:
    messages = [realtime_message(alert, plan.stalled) for alert in plan.realtime]
    messages += digest_messages(
        plan.digest,
        now.date(),
        config.digest_alerts_per_message,
        held=len(plan.held),
        realtime_cap=config.max_realtime_per_run,
    )
    return messages


def _post(client: HttpClient, outcome: Outcome) -> str | None:
    """Send one message; None to go on, else why the run must stop."""
    try:
        response = client.request("POST", "", outcome.message.payload)
    except DestinationUnavailableError as error:
        outcome.status, outcome.error = FAILED, str(error)
        return outcome.error
    if 200 <= response.status_code < 300:
        outcome.status = POSTED
        return None
    outcome.status = FAILED
    outcome.error = f"Slack answered {response.status_code} {response.text.strip()[:200]}"
    return None if response.status_code == 400 else outcome.error


def _send(
    db: Database,
    client: HttpClient,
    result: AlertsResult,
    run: AlertRunRow,
    clock: datetime,
    now: datetime | None,
) -> None:
    for outcome in result.outcomes:
        if result.stopped is not None:
            continue
        if outcome.message.delivery == "digest":
            run.digest_date = clock.date()
        result.stopped = _post(client, outcome)
        message = outcome.message
        if outcome.status == POSTED:
            posted_at = _naive_utc(now or datetime.now(UTC))
            record_posted(db, message.alerts, message.delivery, result.run_id, posted_at)
            log("alerts.posted", run_id=result.run_id, message=message.label, alerts=len(message.alerts))
        else:
            log("alerts.failed", run_id=result.run_id, message=message.label, error=outcome.error)


def run_alerts(
    target: Target, dry_run: bool = False, now: datetime | None = None, config: AlertsConfig | None = None
) -> AlertsResult:
    """Post the pending stall alerts to Slack (SLACK_WEBHOOK_URL); see the module docstring.

    `now` is the run's clock (UTC; default the wall clock): it decides the digest's day and
    hour and stamps started_at / posted_at. `config` defaults to load_alerts_config().
    """
    config = config or load_alerts_config()
    url = None if dry_run else webhook_url()
    if target.type == "duckdb" and not target.duckdb_path.exists():
        raise UsageError(f"no warehouse at {target.duckdb_path}: run `onboard build` first")
    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=UTC)  # a naive clock is UTC, like the warehouse's timestamps
    clock = (now or datetime.now(UTC)).astimezone(UTC)
    run_id = f"{clock:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    # a dry run (or no webhook) only reads: read-only, beside other readers of the file
    with database(target, read_only=url is None) as db, db.exclusive("onboard.alerts") as mine:
        if not mine and not (dry_run or url is None):
            raise UsageError(
                f"another `onboard alerts` run is posting from {target.describe()}; "
                "wait for it to finish (one run at a time)"
            )
        alerts = read_alerts(db)
        done_today = digest_done(db, clock.date())
        plan = plan_alerts(alerts, config, digest_is_due(clock, config.digest_hour_utc, done_today))
        result = AlertsResult(run_id, dry_run, plan)
        if done_today:
            result.waiting_reason = f"the digest of {clock:%Y-%m-%d} went out already: one per UTC day"
        elif not plan.digest_due:
            result.waiting_reason = f"the digest goes out from {config.digest_hour_utc:02d}:00 UTC"
        result.outcomes = [Outcome(message) for message in _messages(plan, config, clock)]
        if dry_run or url is None:
            for outcome in result.outcomes:
                outcome.status = DRY_RUN
            return result
        ensure_tables(db)
        if mark_interrupted(db):
            log("alerts.interrupted_runs_marked")
        run = AlertRunRow(
            run_id,
            started_at=_naive_utc(clock),
            stalled=plan.stalled,
            skipped=plan.skipped,
            overflow=plan.overflow,
            waiting=len(plan.waiting) + len(plan.held),
        )
        save_run(db, run)
        client = HttpClient(
            url,
            "slack",
            rate_limit=(config.rate_limit.requests, config.rate_limit.per_seconds),
            policy=RetryPolicy.from_env(),
        )
        try:
            _send(db, client, result, run, clock, now)
        finally:
            client.close()
            run.finished_at = _naive_utc(now or datetime.now(UTC))
            run.realtime_posted = result.realtime_posted
            run.digest_alerts = result.digest_alerts_posted
            run.digest_messages = result.digest_messages_posted
            run.failed_messages = len(result.failed)
            run.digest_complete = run.digest_date is not None and not any(
                o.message.delivery == "digest" for o in result.failed
            )
            run.status = "failed" if result.failed else "ok"
            run.message = result.stopped or next((o.error for o in result.failed if o.error), None)
            save_run(db, run)
    log(
        "alerts.done",
        run_id=run_id,
        realtime=result.realtime_posted,
        digest_alerts=result.digest_alerts_posted,
        failed=len(result.failed),
    )
    return result


def summary_lines(result: AlertsResult) -> list[str]:
    """What the CLI prints: the dry run's messages, then the summary and what is left."""
    plan = result.plan
    lines: list[str] = []
    if result.dry_run:
        for outcome in result.outcomes:
            lines += preview_lines(outcome.message)
        realtime = sum(o.message.delivery == "realtime" for o in result.outcomes)
        digest = [o for o in result.outcomes if o.message.delivery == "digest"]
        lines.append(
            f"dry run (nothing posted): would post realtime {realtime}, digest "
            f"{sum(len(o.message.alerts) for o in digest)} alerts in {len(digest)} messages, "
            f"skipped already alerted {plan.skipped}, overflow {plan.overflow}"
        )
    else:
        lines.append(
            f"alerts run {result.run_id}: posted realtime {result.realtime_posted}, digest "
            f"{result.digest_alerts_posted} alerts in {result.digest_messages_posted} messages, "
            f"skipped already alerted {plan.skipped}, overflow {plan.overflow}"
        )
    if plan.withheld:
        lines.append(
            f"  {plan.withheld} stalled customers in a holdout arm of a running experiment: "
            "no alert (the experiment withholds onboarding from them)"
        )
    if plan.waiting:
        lines.append(f"  {len(plan.waiting)} alerts wait for the next digest ({result.waiting_reason})")
    if plan.held:
        lines.append(
            f"  {len(plan.held)} alerts over the digest's size (max_digest_messages) wait for the next one"
        )
    if result.failed:
        alerts = sum(len(o.message.alerts) for o in result.failed)
        lines.append(
            f"  FAILED: {len(result.failed)} messages ({alerts} alerts) not posted, not logged; "
            f"the next run retries them. First error: {result.failed[0].error or result.stopped}"
        )
    return lines

"""What a run posts: pure planning from the stall_alerts rows, the run's clock and the state.

- A stalled customer in a holdout arm of a running experiment (`is_holdout`) gets no alert:
  the experiment withholds onboarding from it (docs/definitions.md#holdout-suppression). It
  is only counted (`withheld`).

- An alert is one stall: (customer_id, stalled_since). One already in alerts.alert_log is
  skipped, whatever its severity now.
- Realtime: the alerts whose alert_delivery is `realtime`, best-ranked first, at most
  `max_realtime_per_run`; the rest of them are the overflow.
- Digest: the overflow, the `daily_digest` alerts and the alerts no severity rule matched
  (they still get an alert: docs/definitions.md#stall-severity), in alert_rank order. It
  goes out when due: at most one complete digest per UTC day, from `digest_hour_utc` on.
  When it is not due, those alerts wait (they are not logged, so a later run picks them
  up; an overflow alert may then go out realtime if the cap leaves room). At most
  `digest_alerts_per_message` x `max_digest_messages` alerts per digest; the rest are held
  for the next day's digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from onboard.alerts.config import AlertsConfig

#: How a message went out (alert_log.delivery, Message.delivery).
REALTIME = "realtime"
DIGEST = "digest"
#: The alert_delivery of seeds/stall_severity_rules.csv that is posted one message per alert;
#: every other value (daily_digest), and no rule, goes into the daily digest.
REALTIME_DELIVERY = "realtime"


@dataclass(frozen=True)
class Alert:
    """One row of the stall_alerts mart, plus whether this stall was already alerted."""

    alert_rank: int
    customer_id: str
    stall_severity: str | None
    alert_delivery: str | None
    arr: float | None
    stall_hours: float
    stall_step: str | None
    stalled_since: datetime
    milestones_reached: tuple[str, ...]
    milestones_missing: tuple[str, ...]
    last_progress_at: datetime
    track: str | None
    csm_owner: str | None
    company_name: str | None
    email: str | None
    #: the drafted recovery email for the step stalled at (seed recovery_templates)
    recovery_subject: str | None = None
    recovery_body: str | None = None
    is_holdout: bool = False
    already_alerted: bool = False

    @property
    def key(self) -> tuple[str, datetime]:
        """What identifies the stall: the customer and when the stall began."""
        return (self.customer_id, self.stalled_since)

    @property
    def is_realtime(self) -> bool:
        return self.alert_delivery == REALTIME_DELIVERY


@dataclass(frozen=True)
class AlertsPlan:
    """The alerts of one run, each in exactly one group (skipped ones only counted)."""

    stalled: int
    skipped: int
    realtime: tuple[Alert, ...]
    digest: tuple[Alert, ...]
    held: tuple[Alert, ...]
    waiting: tuple[Alert, ...]
    overflow: int
    digest_due: bool
    #: stalled customers in a holdout arm: never posted
    withheld: int = 0


def digest_is_due(now: datetime, digest_hour_utc: int | None, digest_done_today: bool) -> bool:
    """Whether this run may post the digest: none completed today (UTC) and past digest_hour_utc."""
    if digest_done_today:
        return False
    return digest_hour_utc is None or now.hour >= digest_hour_utc


def plan_alerts(alerts: list[Alert], config: AlertsConfig, digest_due: bool) -> AlertsPlan:
    """Split the mart's rows into realtime, digest, held (over the digest's size) and waiting."""
    ranked = sorted(alerts, key=lambda alert: alert.alert_rank)
    withheld = sum(alert.is_holdout for alert in ranked)
    pending = [alert for alert in ranked if not alert.already_alerted and not alert.is_holdout]
    realtime_pending = [alert for alert in pending if alert.is_realtime]
    realtime = realtime_pending[: config.max_realtime_per_run]
    posted_now = {alert.key for alert in realtime}
    to_digest = [alert for alert in pending if alert.key not in posted_now]
    if not digest_due:
        digest, held, waiting = [], [], to_digest
    else:
        room = config.digest_alerts_per_message * config.max_digest_messages
        digest, held, waiting = to_digest[:room], to_digest[room:], []
    return AlertsPlan(
        stalled=len(ranked),
        skipped=sum(alert.already_alerted and not alert.is_holdout for alert in ranked),
        realtime=tuple(realtime),
        digest=tuple(digest),
        held=tuple(held),
        waiting=tuple(waiting),
        overflow=len(realtime_pending) - len(realtime),
        digest_due=digest_due,
        withheld=withheld,
    )

"""`onboard alerts`: stall alerts to Slack, realtime one by one and a daily digest of the rest.

- `config`    alerts.yml (or $ONBOARD_ALERTS_CONFIG) and SLACK_WEBHOOK_URL, checked
- `plan`      pure: which pending stalls go realtime, into the digest, or wait
- `messages`  pure: the Block Kit messages, within Slack's limits
- `state`     the warehouse side: read stall_alerts, alerts.alert_log and alerts.alert_runs
- `runner`    `run_alerts(target, dry_run, now)`: plan -> post -> log; `summary_lines(result)`

Posting goes through the syncs' one HTTP client (`onboard.core.http`). See docs/alerts.md.
"""

from onboard.alerts.runner import AlertsResult, run_alerts, summary_lines

__all__ = ["AlertsResult", "run_alerts", "summary_lines"]

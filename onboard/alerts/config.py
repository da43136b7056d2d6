"""The alerts' configuration: onboard/alerts/alerts.yml (or $ONBOARD_ALERTS_CONFIG) and SLACK_WEBHOOK_URL.

The webhook URL is a secret (whoever holds it can post to the channel): it comes only from
the environment, and no message, log or error ever prints it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from onboard.core.errors import InputError, UsageError
from sync.config import LOOPBACK_HOSTS

CONFIG_FILE = Path(__file__).resolve().parent / "alerts.yml"
CONFIG_ENV = "ONBOARD_ALERTS_CONFIG"
WEBHOOK_ENV = "SLACK_WEBHOOK_URL"
#: Blocks of a digest message that are not alert lines: header, summary, context.
DIGEST_FRAME_BLOCKS = 3
MAX_BLOCKS = 50


@dataclass(frozen=True)
class AlertsConfig:
    """The `alerts:` section of alerts.yml."""

    max_realtime_per_run: int = 20
    digest_hour_utc: int | None = None
    digest_alerts_per_message: int = 40
    max_digest_messages: int = 10
    rate_limit_requests: int = 1
    rate_limit_per_seconds: float = 1.0


def _whole(raw: dict[str, Any], key: str, default: int, low: int, high: int | None, where: str) -> int:
    value = raw.get(key, default)
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        bounds = f"{low}-{high}" if high is not None else f">= {low}"
        raise InputError(f"{where}: alerts.{key} must be a whole number {bounds}, got {value!r}")
    return value


def parse_alerts_config(raw: Any, where: str) -> AlertsConfig:
    """An AlertsConfig from the parsed YAML document; InputError names the key that is wrong."""
    if not isinstance(raw, dict) or not isinstance(raw.get("alerts"), dict):
        raise InputError(f"{where}: expected an `alerts:` mapping")
    section: dict[str, Any] = raw["alerts"]
    known = {
        "max_realtime_per_run",
        "digest_hour_utc",
        "digest_alerts_per_message",
        "max_digest_messages",
        "rate_limit",
    }
    unknown = sorted(set(section) - known)
    if unknown:
        raise InputError(f"{where}: unknown keys alerts.{', alerts.'.join(unknown)}")
    hour = section.get("digest_hour_utc")
    if hour is not None:
        hour = _whole(section, "digest_hour_utc", 0, 0, 23, where)
    limit = section.get("rate_limit") or {}
    if not isinstance(limit, dict):
        raise InputError(f"{where}: alerts.rate_limit must be a mapping of requests and per_seconds")
    requests = _whole(limit, "requests", 1, 1, None, f"{where} (rate_limit)")
    per_seconds = limit.get("per_seconds", 1)
    if isinstance(per_seconds, bool) or not isinstance(per_seconds, int | float) or per_seconds <= 0:
        raise InputError(f"{where}: alerts.rate_limit.per_seconds must be a number > 0, got {per_seconds!r}")
    return AlertsConfig(
        max_realtime_per_run=_whole(section, "max_realtime_per_run", 20, 0, None, where),
        digest_hour_utc=hour,
        digest_alerts_per_message=_whole(
            section, "digest_alerts_per_message", 40, 1, MAX_BLOCKS - DIGEST_FRAME_BLOCKS, where
        ),
        max_digest_messages=_whole(section, "max_digest_messages", 10, 1, None, where),
        rate_limit_requests=requests,
        rate_limit_per_seconds=float(per_seconds),
    )


def load_alerts_config(path: Path | None = None) -> AlertsConfig:
    """The alerts configuration ($ONBOARD_ALERTS_CONFIG, else onboard/alerts/alerts.yml)."""
    path = path or Path(os.environ.get(CONFIG_ENV) or CONFIG_FILE)
    if not path.exists():
        raise InputError(f"{path}: alerts configuration not found")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise InputError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
    return parse_alerts_config(raw, str(path))


def webhook_url() -> str:
    """SLACK_WEBHOOK_URL, checked: https (plain http only on loopback) and a webhook path.

    Errors name the variable, never its value (the URL is the webhook's secret).
    """
    url = os.environ.get(WEBHOOK_ENV, "").strip()
    if not url:
        raise UsageError(f"environment variable {WEBHOOK_ENV} is not set (the Slack incoming-webhook URL)")
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.path in ("", "/"):
        raise UsageError(
            f"{WEBHOOK_ENV}: expected an incoming-webhook URL such as https://hooks.slack.com/services/T…/B…/…"
        )
    if parsed.scheme == "http" and parsed.hostname not in LOOPBACK_HOSTS:
        raise UsageError(f"{WEBHOOK_ENV}: plain http is refused except on loopback; use https")
    return url

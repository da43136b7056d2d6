"""The alerts' configuration: onboard/alerts/alerts.yml (or $ONBOARD_ALERTS_CONFIG) and SLACK_WEBHOOK_URL.

alerts.yml is read through the project's one configuration reader
(onboard/core/project_config.py): a mistake is one line, `alerts.yml:line: alerts.key:
expected ..., got ...`. The webhook URL is a secret (whoever holds it can post to the
channel): it comes only from the environment, and no message, log or error ever prints it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlparse

from pydantic import BeforeValidator, field_validator

from onboard.core.endpoints import LOOPBACK_HOSTS
from onboard.core.errors import UsageError
from onboard.core.project_config import ConfigModel, load_yaml, validate

CONFIG_FILE = Path(__file__).resolve().parent / "alerts.yml"
CONFIG_ENV = "ONBOARD_ALERTS_CONFIG"
WEBHOOK_ENV = "SLACK_WEBHOOK_URL"
#: Blocks of a digest message that are not alert lines: header, summary, context.
DIGEST_FRAME_BLOCKS = 3
MAX_BLOCKS = 50


def _whole_number(low: int, high: int | None = None, *, optional: bool = False) -> BeforeValidator:
    """A whole number within [low, high] (a bool or 2.0 is not one); None too when optional."""
    bounds = f"{low}-{high}" if high is not None else f">= {low}"

    def check(value: Any) -> Any:
        if value is None and optional:
            return value
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < low
            or (high is not None and value > high)
        ):
            raise ValueError(f"expected a whole number {bounds}{' or null' if optional else ''}")
        return value

    return BeforeValidator(check)


def _positive_number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError("expected a number > 0")
    return value


class WebhookRateLimit(ConfigModel):
    """At most `requests` messages per `per_seconds` seconds."""

    requests: Annotated[int, _whole_number(1)] = 1
    per_seconds: Annotated[float, BeforeValidator(_positive_number)] = 1.0


class AlertsConfig(ConfigModel):
    """The `alerts:` section of alerts.yml (the file's comments say what each key does)."""

    max_realtime_per_run: Annotated[int, _whole_number(0)] = 20
    digest_hour_utc: Annotated[int | None, _whole_number(0, 23, optional=True)] = None
    #: a digest message is its frame blocks plus one block per alert line, within Slack's MAX_BLOCKS
    digest_alerts_per_message: Annotated[int, _whole_number(1, MAX_BLOCKS - DIGEST_FRAME_BLOCKS)] = 40
    max_digest_messages: Annotated[int, _whole_number(1)] = 10
    rate_limit: WebhookRateLimit = WebhookRateLimit()

    @field_validator("rate_limit", mode="before")
    @classmethod
    def _null_rate_limit_is_the_default(cls, value: Any) -> Any:
        return {} if value is None else value


class AlertsFile(ConfigModel):
    """alerts.yml: one `alerts:` mapping."""

    alerts: AlertsConfig


def parse_alerts_config(raw: Any, where: str) -> AlertsConfig:
    """An AlertsConfig from an already-parsed alerts.yml; ConfigError names the key that is wrong."""
    return validate(raw, AlertsFile, where).alerts


def load_alerts_config(path: Path | None = None) -> AlertsConfig:
    """The alerts configuration ($ONBOARD_ALERTS_CONFIG, else onboard/alerts/alerts.yml)."""
    return load_yaml(path or Path(os.environ.get(CONFIG_ENV) or CONFIG_FILE), AlertsFile).alerts


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

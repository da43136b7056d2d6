"""Structured logs on stderr: readable lines by default, JSON lines with ONBOARD_LOG_FORMAT=json."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime

LOGGER_NAME = "onboard"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, event and the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        return json.dumps(payload, default=str)


class KeyValueFormatter(logging.Formatter):
    """`time level event key=value ...`."""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{k}={v}" for k, v in getattr(record, "fields", {}).items())
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S")
        return f"{stamp} {record.levelname.lower():7} {record.getMessage()} {fields}".rstrip()


def configure_logging(verbose: bool = False) -> None:
    """Send the `onboard` logger to stderr in the format ONBOARD_LOG_FORMAT asks for."""
    handler = logging.StreamHandler()
    json_format = os.environ.get("ONBOARD_LOG_FORMAT", "text").lower() == "json"
    handler.setFormatter(JsonFormatter() if json_format else KeyValueFormatter())
    logger = logging.getLogger(LOGGER_NAME)
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = False


def log(event: str, level: int = logging.INFO, **fields: object) -> None:
    """Log one event with structured fields."""
    logging.getLogger(LOGGER_NAME).log(level, event, extra={"fields": fields})

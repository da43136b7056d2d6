"""Customer.io (Track API): people identified by customer_id through `POST /api/v2/batch`.

Items are `{"type": "person", "identifiers": {"id": ...}, "action": "identify",
"attributes": {...}}`, and journey events as `"action": "event"` items (events.py). A request
stays under 500 KB and each item under 32 KB (an item
over it is recorded as failed, never sent); attribute names are at most 150 bytes and
values 1000 bytes (checked before sending, same way). A 2xx means accepted — except the
items listed in its `errors` (by `batch_index`; Customer.io answers 207, and has been
seen answering 200, with them). A 400 whose `errors` list items refuses those items;
any other 400 refuses the batch. 401/403 (credentials) and 404/405 (CUSTOMERIO_TRACK_URL)
stop the run: every record would fail alike. Suppression travels as attributes: the `/suppress`
endpoint deletes the person and is never called.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import requests

from onboard.core.http import HttpClient, RetryPolicy
from onboard.core.logs import log
from sync.destinations.base import (
    BatchOutcome,
    Credentials,
    DestinationConfig,
    Moment,
    MomentOutcome,
    Record,
    check_auth,
    check_endpoint,
    error_message,
)
from sync.destinations.customerio.config import API_KEY_ENV, SITE_ID_ENV, URL_ENV
from sync.destinations.customerio.events import event_item

T = TypeVar("T")

BATCH_PATH = "/api/v2/batch"
MAX_REQUEST_BYTES = 500_000
MAX_ITEM_BYTES = 32_000
MAX_NAME_BYTES = 150
MAX_VALUE_BYTES = 1000
MAX_ATTRIBUTES = 300
ENVELOPE_BYTES = len('{"batch":[]}')


def item(record: Record) -> dict[str, Any]:
    """The batch item of a record."""
    return {
        "type": "person",
        "identifiers": {"id": record.key},
        "action": "identify",
        "attributes": record.payload,
    }


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def item_problem(record: Record) -> str | None:
    """Why Customer.io would refuse the item, or None."""
    if len(record.payload) > MAX_ATTRIBUTES:
        return f"{len(record.payload)} attributes (at most {MAX_ATTRIBUTES})"
    for name, value in record.payload.items():
        if len(name.encode()) > MAX_NAME_BYTES:
            return f"attribute name {name[:40]}... longer than {MAX_NAME_BYTES} bytes"
        size = len(value.encode()) if isinstance(value, str) else _size(value)
        if size > MAX_VALUE_BYTES:
            return f"value of attribute {name} longer than {MAX_VALUE_BYTES} bytes"
    if _size(item(record)) > MAX_ITEM_BYTES:
        return f"item larger than {MAX_ITEM_BYTES} bytes"
    return None


def split_by_size(
    records: Sequence[T], max_items: int, as_item: Callable[[T], dict[str, Any]] | None = None
) -> list[list[T]]:
    """Consecutive requests of at most max_items items and MAX_REQUEST_BYTES bytes (`as_item` makes
    an item of each: identify items of records by default)."""
    to_item: Callable[[Any], dict[str, Any]] = as_item or item
    requests_: list[list[T]] = []
    current: list[T] = []
    size = ENVELOPE_BYTES
    for record in records:
        item_size = _size(to_item(record)) + 1  # the comma
        if current and (len(current) >= max_items or size + item_size > MAX_REQUEST_BYTES):
            requests_.append(current)
            current, size = [], ENVELOPE_BYTES
        current.append(record)
        size += item_size
    if current:
        requests_.append(current)
    return requests_


class CustomerIO:
    """The Customer.io destination, open for one run."""

    name = "customerio"

    def __init__(
        self, config: DestinationConfig, creds: Credentials, policy: RetryPolicy | None = None
    ) -> None:
        self.config = config
        self.client = HttpClient(
            creds.base_url,
            self.name,
            (config.rate_limit.requests, config.rate_limit.per_seconds),
            auth=(creds.user, creds.token),
            policy=policy,
        )

    def close(self) -> None:
        self.client.close()

    def setup(self) -> list[str]:
        """Customer.io needs no setup: attributes are created by the first identify."""
        return []

    def preflight(self, values: dict[str, set[str]]) -> None:
        """Nothing to check: attributes take any value."""

    def send(self, records: list[Record]) -> BatchOutcome:
        """Identify records in as many requests as the size limits need."""
        outcome = BatchOutcome()
        sendable = []
        for record in records:
            problem = item_problem(record)
            if problem:
                outcome.failed.append((record, None, f"not sent: {problem}"))
            else:
                sendable.append(record)
        for chunk in split_by_size(sendable, self.config.batch_size):
            self._send(chunk, outcome)
        return outcome

    def send_moments(self, moments: list[Moment]) -> MomentOutcome:
        """Journey events as person events (`action: event`), each with its de-duplication id."""
        outcome = MomentOutcome()
        for chunk in split_by_size(moments, self.config.batch_size, event_item):
            for moment, answer in zip(chunk, self._post([event_item(m) for m in chunk]), strict=True):
                if answer is None:
                    outcome.acknowledged.append(moment)
                else:
                    outcome.failed.append((moment, *answer))
        return outcome

    def _send(self, records: list[Record], outcome: BatchOutcome) -> None:
        for record, answer in zip(records, self._post([item(r) for r in records]), strict=True):
            if answer is None:
                outcome.acknowledged.append(record)
            else:
                outcome.failed.append((record, *answer))

    def _post(self, items: list[dict[str, Any]]) -> list[tuple[int | None, str] | None]:
        """One batch request: per item None (accepted) or (status, why it was refused)."""
        response = self.client.request("POST", BATCH_PATH, {"batch": items})
        check_auth(response, self.name, f"{SITE_ID_ENV} / {API_KEY_ENV}")
        check_endpoint(response, self.name, BATCH_PATH, URL_ENV)
        status = response.status_code
        errors = _item_errors(response)
        accepted = 200 <= status < 300
        if not (accepted or (status == 400 and errors)):
            message = error_message(response)
            return [(status, message) for _ in items]
        if errors:
            log("sync.items_refused", destination=self.name, count=len(errors), status=status)
        answers: list[tuple[int | None, str] | None] = []
        for index in range(len(items)):
            if index in errors:
                answers.append((status, errors[index]))
            else:
                answers.append(None if accepted else (status, "batch refused (400) with other items' errors"))
        return answers


def _item_errors(response: requests.Response) -> dict[int, str]:
    """batch_index -> message of the `errors` of a batch answer."""
    try:
        body = response.json()
    except ValueError:
        return {}
    if not isinstance(body, dict):
        return {}
    found: dict[int, str] = {}
    for error in body.get("errors") or []:
        if isinstance(error, dict) and isinstance(error.get("batch_index"), int):
            found[error["batch_index"]] = (
                f"{error.get('field', '')}: {error.get('message') or error.get('reason')}"
            )
    return found

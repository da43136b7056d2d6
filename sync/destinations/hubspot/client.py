"""HubSpot (CRM v3): contact upserts by email in batches of at most 100.

Each input carries `objectWriteTraceId` = its email, which is how HubSpot maps the errors
of a 207 multi-status answer back to inputs (results are not in input order). HubSpot may
instead refuse a whole batch with 400 for one bad input (an unknown enumeration option, a
malformed value): the batch is then split in halves, as Census does, until the bad inputs
are isolated and recorded, and the rest land. 401/403 stop the run (the token is wrong),
as do 404/405 (HUBSPOT_BASE_URL is). Moments are CSM tasks, each created once (tasks.py).
Shapes: ../shared/api-specs/hubspot-crm-contacts-v3.json.
"""

from __future__ import annotations

from typing import Any

from onboard.core.http import HttpClient, RetryPolicy
from onboard.core.logs import log
from sync.destinations.base import (
    BatchOutcome,
    Credentials,
    Moment,
    MomentOutcome,
    Record,
    SetupNeededError,
    check_auth,
    check_endpoint,
    error_message,
)
from sync.destinations.hubspot import setup as properties
from sync.destinations.hubspot.config import TOKEN_ENV, URL_ENV, HubSpotConfig
from sync.destinations.hubspot.rate_limit import wait_hint
from sync.destinations.hubspot.tasks import TaskSender

UPSERT_PATH = "/crm/v3/objects/contacts/batch/upsert"


class HubSpot:
    """The HubSpot destination, open for one run."""

    name = "hubspot"

    def __init__(self, config: HubSpotConfig, creds: Credentials, policy: RetryPolicy | None = None) -> None:
        self.config = config
        self.client = HttpClient(
            creds.base_url,
            self.name,
            (config.rate_limit.requests, config.rate_limit.per_seconds),
            headers={"Authorization": f"Bearer {creds.token}"},
            policy=policy,
            wait_hint=wait_hint,
        )
        self.tasks = TaskSender(self.client)  # keeps the owners it lists for the run

    def close(self) -> None:
        self.client.close()

    def setup(self) -> list[str]:
        """Create the property group and every mapped property; keep enumeration options in step."""
        return properties.setup(self.client, self.config)

    def preflight(self, values: dict[str, set[str]]) -> None:
        """Refuse to send when a mapped property, or an option of a value the model holds, is missing."""
        properties.preflight(self.client, self.config, values)

    def send(self, records: list[Record]) -> BatchOutcome:
        """Upsert records (at most batch_size); split whole-batch 400s until the bad inputs are isolated."""
        outcome = BatchOutcome()
        self._send(records, outcome)
        return outcome

    def send_moments(self, moments: list[Moment]) -> MomentOutcome:
        """Create each moment's CSM task once, owned by its csm_owner, with the contact (tasks.py)."""
        return self.tasks.send(moments)

    def _send(self, records: list[Record], outcome: BatchOutcome) -> None:
        body = {
            "inputs": [
                {"idProperty": "email", "id": r.key, "objectWriteTraceId": r.key, "properties": r.payload}
                for r in records
            ]
        }
        response = self.client.request("POST", UPSERT_PATH, body)
        check_auth(response, self.name, TOKEN_ENV)
        check_endpoint(response, self.name, UPSERT_PATH, URL_ENV)
        status = response.status_code
        if status in (200, 201, 207):
            answer = response.json()
            landed = _acknowledged_keys(answer)
            failed = _multi_status_errors(answer)
            for record in records:
                if record.key in landed:
                    outcome.acknowledged.append(record)
                else:
                    message = failed.get(record.key, "not in HubSpot's results: not acknowledged")
                    outcome.failed.append((record, status, message))
            return
        if status == 400 and "PROPERTY_DOESNT_EXIST" in response.text:
            raise SetupNeededError(f"hubspot: {error_message(response)[:300]}; {properties.SETUP_HINT}")
        if status == 400 and len(records) > 1:
            middle = len(records) // 2
            log("sync.batch_split", destination=self.name, size=len(records))
            self._send(records[:middle], outcome)
            self._send(records[middle:], outcome)
            return
        message = error_message(response)
        if "INVALID_OPTION" in response.text:
            message = f"{message} ({properties.SETUP_HINT})"
        outcome.failed.extend((record, status, message) for record in records)


def _acknowledged_keys(body: dict[str, Any]) -> set[str]:
    """Emails HubSpot reports as written: each result's objectWriteTraceId or email property."""
    keys: set[str] = set()
    for result in body.get("results") or []:
        if result.get("objectWriteTraceId"):
            keys.add(str(result["objectWriteTraceId"]))
        email = (result.get("properties") or {}).get("email")
        if email:
            keys.add(str(email).lower())
    return keys


def _multi_status_errors(body: dict[str, Any]) -> dict[str, str]:
    """objectWriteTraceId (= email) -> message, for each error of a 207 body."""
    failed: dict[str, str] = {}
    for error in body.get("errors") or []:
        context = error.get("context") or {}
        for trace in context.get("objectWriteTraceId") or []:
            failed[str(trace)] = str(error.get("message") or error)[:1000]
    return failed

"""HubSpot (CRM v3): property setup, and contact upserts by email in batches of at most 100.

Each input carries `objectWriteTraceId` = its email, which is how HubSpot maps the errors
of a 207 multi-status answer back to inputs (results are not in input order). HubSpot may
instead refuse a whole batch with 400 for one bad input (an unknown enumeration option, a
malformed value): the batch is then split in halves, as Census does, until the bad inputs
are isolated and recorded, and the rest land. 401/403 stop the run (the token is wrong).
Shapes: ../shared/api-specs/hubspot-crm-contacts-v3.json and hubspot-crm-properties-v3.json.
"""

from __future__ import annotations

from typing import Any

from onboard.core.errors import UsageError
from onboard.core.http import HttpClient, RetryPolicy
from onboard.core.logs import log
from sync.config import Credentials, DestinationConfig, FieldMapping
from sync.destination import BatchOutcome, SetupNeededError, check_auth, error_message
from sync.plan import Record
from sync.values import column_values

UPSERT_PATH = "/crm/v3/objects/contacts/batch/upsert"
PROPERTIES_PATH = "/crm/v3/properties/contacts"
GROUPS_PATH = "/crm/v3/properties/contacts/groups"
#: mapping type -> HubSpot (type, fieldType)
PROPERTY_TYPES = {
    "string": ("string", "text"),
    "number": ("number", "number"),
    "bool": ("bool", "booleancheckbox"),
    "enumeration": ("enumeration", "select"),
    "datetime": ("datetime", "date"),
    "date": ("date", "date"),
}
SETUP_HINT = "run `onboard sync hubspot --setup` to create the properties and options"


class HubSpot:
    """The HubSpot destination."""

    name = "hubspot"

    def __init__(
        self, config: DestinationConfig, creds: Credentials, policy: RetryPolicy | None = None
    ) -> None:
        self.config = config
        self.client = HttpClient(
            creds.base_url,
            "hubspot",
            (config.rate_limit.requests, config.rate_limit.per_seconds),
            headers={"Authorization": f"Bearer {creds.token}"},
            policy=policy,
        )

    def close(self) -> None:
        self.client.close()

    # --- setup ----------------------------------------------------------------------------

    def _definition(self, mapping: FieldMapping) -> dict[str, Any]:
        kind, field_type = PROPERTY_TYPES[mapping.type]
        definition: dict[str, Any] = {
            "name": mapping.property,
            "label": mapping.label,
            "type": kind,
            "fieldType": field_type,
            "groupName": self.config.property_group["name"],
        }
        if mapping.type == "bool":
            definition["options"] = [
                {"label": "Yes", "value": "true", "hidden": False, "displayOrder": 0},
                {"label": "No", "value": "false", "hidden": False, "displayOrder": 1},
            ]
        elif mapping.type == "enumeration":
            values = column_values().get(mapping.column)
            if values is None:
                raise UsageError(f"{mapping.column}: no known values for an enumeration (sync/values.py)")
            definition["options"] = [
                {"label": value, "value": value, "hidden": False, "displayOrder": n}
                for n, value in enumerate(values)
            ]
        return definition

    def setup(self) -> list[str]:
        """Create the property group and every mapped property; keep enumeration options in step."""
        done: list[str] = []
        group = self.config.property_group
        response = self.client.request("GET", f"{GROUPS_PATH}/{group['name']}")
        check_auth(response, self.name, "HUBSPOT_ACCESS_TOKEN")
        if response.status_code == 404:
            created = self.client.request(
                "POST", GROUPS_PATH, {"name": group["name"], "label": group["label"]}
            )
            if created.status_code not in (200, 201, 409):
                raise UsageError(
                    f"hubspot: creating group {group['name']}: {created.status_code} {error_message(created)}"
                )
            done.append(f"created property group {group['name']}")
        for mapping in self.config.fields:
            if mapping.column == self.config.key:
                continue
            wanted = self._definition(mapping)
            current = self.client.request("GET", f"{PROPERTIES_PATH}/{mapping.property}")
            if current.status_code == 404:
                created = self.client.request("POST", PROPERTIES_PATH, wanted)
                if created.status_code not in (200, 201):
                    problem = f"{created.status_code} {error_message(created)}"
                    raise UsageError(f"hubspot: creating property {mapping.property}: {problem}")
                done.append(f"created property {mapping.property} ({wanted['type']})")
                continue
            if current.status_code != 200:
                raise UsageError(f"hubspot: reading property {mapping.property}: {current.status_code}")
            existing = current.json()
            if existing.get("type") != wanted["type"]:
                raise UsageError(
                    f"hubspot: property {mapping.property} exists with type {existing.get('type')}, "
                    f"the mapping needs {wanted['type']}: rename it in sync/mappings.yml"
                )
            if "options" in wanted:
                have = [o.get("value") for o in existing.get("options") or []]
                want = [o["value"] for o in wanted["options"]]
                if have != want:
                    # keep options HubSpot has that we no longer produce (records may hold them), hidden
                    kept = [
                        {**o, "hidden": True, "displayOrder": len(want) + n}
                        for n, o in enumerate(existing.get("options") or [])
                        if o.get("value") not in want
                    ]
                    update = {"options": wanted["options"] + kept}
                    patched = self.client.request("PATCH", f"{PROPERTIES_PATH}/{mapping.property}", update)
                    if patched.status_code != 200:
                        problem = f"{patched.status_code} {error_message(patched)}"
                        raise UsageError(f"hubspot: updating options of {mapping.property}: {problem}")
                    done.append(f"updated options of {mapping.property} ({len(want)} values)")
        log("sync.setup", destination=self.name, changes=len(done))
        return done

    def preflight(self, values: dict[str, set[str]]) -> None:
        """Refuse to send when a mapped property, or an option of a value the model holds, is missing."""
        response = self.client.request("GET", PROPERTIES_PATH)
        check_auth(response, self.name, "HUBSPOT_ACCESS_TOKEN")
        if response.status_code != 200:
            raise UsageError(
                f"hubspot: reading contact properties: {response.status_code} {error_message(response)}"
            )
        existing = {p["name"]: p for p in response.json().get("results") or []}
        problems = []
        for mapping in self.config.fields:
            if mapping.column == self.config.key:
                continue
            found = existing.get(mapping.property)
            if found is None:
                problems.append(f"property {mapping.property} does not exist")
            elif mapping.type == "enumeration":
                options = {str(o.get("value")) for o in found.get("options") or []}
                lacking = sorted(values.get(mapping.column, set()) - options)
                if lacking:
                    problems.append(f"property {mapping.property} lacks options {', '.join(lacking[:5])}")
        if problems:
            raise SetupNeededError(f"hubspot: {'; '.join(problems[:5])}; {SETUP_HINT}")

    # --- upserts --------------------------------------------------------------------------

    def send(self, records: list[Record]) -> BatchOutcome:
        """Upsert records (at most batch_size); split whole-batch 400s until the bad inputs are isolated."""
        outcome = BatchOutcome()
        self._send(records, outcome)
        return outcome

    def _send(self, records: list[Record], outcome: BatchOutcome) -> None:
        body = {
            "inputs": [
                {"idProperty": "email", "id": r.key, "objectWriteTraceId": r.key, "properties": r.payload}
                for r in records
            ]
        }
        response = self.client.request("POST", UPSERT_PATH, body)
        check_auth(response, self.name, "HUBSPOT_ACCESS_TOKEN")
        status = response.status_code
        if status in (200, 201, 207):
            body = response.json()
            landed = self._acknowledged_keys(body)
            failed = self._multi_status_errors(body)
            for record in records:
                if record.key in landed:
                    outcome.acknowledged.append(record)
                else:
                    message = failed.get(record.key, "not in HubSpot's results: not acknowledged")
                    outcome.failed.append((record, status, message))
            return
        if status == 400 and "PROPERTY_DOESNT_EXIST" in response.text:
            raise SetupNeededError(f"hubspot: {error_message(response)[:300]}; {SETUP_HINT}")
        if status == 400 and len(records) > 1:
            middle = len(records) // 2
            log("sync.batch_split", destination=self.name, size=len(records))
            self._send(records[:middle], outcome)
            self._send(records[middle:], outcome)
            return
        message = error_message(response)
        if "INVALID_OPTION" in response.text:
            message = f"{message} ({SETUP_HINT})"
        outcome.failed.extend((record, status, message) for record in records)

    @staticmethod
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

    @staticmethod
    def _multi_status_errors(body: dict[str, Any]) -> dict[str, str]:
        """objectWriteTraceId (= email) -> message, for each error of a 207 body."""
        failed: dict[str, str] = {}
        for error in body.get("errors") or []:
            context = error.get("context") or {}
            for trace in context.get("objectWriteTraceId") or []:
                failed[str(trace)] = str(error.get("message") or error)[:1000]
        return failed

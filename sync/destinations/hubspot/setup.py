"""HubSpot's properties: `--setup` creates them, and every run first checks they are there.

`setup` creates the property group and every mapped contact property, and keeps the
options of enumeration properties in step with the values the marts can produce
(sync/enumerations.py, read from the dbt project): options HubSpot has that the marts no longer
produce are kept, hidden, since records may still hold them. `preflight` refuses to send
when a property, or an option of a value the model holds, is missing: HubSpot would
refuse those records one by one. With `moments:` (the CSM tasks, tasks.py), `setup` also creates
the task property `onboarding_task_id` in a task property group of the same name, and
`preflight_tasks` refuses to create tasks without it. Shapes:
../shared/api-specs/hubspot-crm-properties-v3.json.
"""

from __future__ import annotations

from typing import Any

from onboard.core.errors import UsageError
from onboard.core.http import HttpClient
from onboard.core.logs import log
from sync.destinations.base import FieldMapping, SetupNeededError, check_auth, error_message
from sync.destinations.hubspot.config import TOKEN_ENV, HubSpotConfig
from sync.enumerations import column_values

NAME = "hubspot"
PROPERTIES_PATH = "/crm/v3/properties/contacts"
GROUPS_PATH = "/crm/v3/properties/contacts/groups"
TASK_PROPERTIES_PATH = "/crm/v3/properties/tasks"
TASK_GROUPS_PATH = "/crm/v3/properties/tasks/groups"
#: the task property holding csm_tasks.task_id: how a task is found before it is created again
TASK_ID = FieldMapping("task_id", "onboarding_task_id", "string", "Onboarding task id")
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


def definition(config: HubSpotConfig, mapping: FieldMapping) -> dict[str, Any]:
    """The HubSpot property a mapped column needs."""
    kind, field_type = PROPERTY_TYPES[mapping.type]
    wanted: dict[str, Any] = {
        "name": mapping.property,
        "label": mapping.label,
        "type": kind,
        "fieldType": field_type,
        "groupName": config.property_group.name,
    }
    if mapping.type == "bool":
        wanted["options"] = [
            {"label": "Yes", "value": "true", "hidden": False, "displayOrder": 0},
            {"label": "No", "value": "false", "hidden": False, "displayOrder": 1},
        ]
    elif mapping.type == "enumeration":
        values = column_values().get(mapping.column)
        if values is None:
            raise UsageError(f"{mapping.column}: no known values for an enumeration (sync/enumerations.py)")
        wanted["options"] = [
            {"label": value, "value": value, "hidden": False, "displayOrder": n}
            for n, value in enumerate(values)
        ]
    return wanted


def _ensure_group(client: HttpClient, config: HubSpotConfig, groups_path: str = GROUPS_PATH) -> list[str]:
    group = config.property_group
    kind = "task " if groups_path == TASK_GROUPS_PATH else ""
    response = client.request("GET", f"{groups_path}/{group.name}")
    check_auth(response, NAME, TOKEN_ENV)
    if response.status_code != 404:
        return []
    created = client.request("POST", groups_path, {"name": group.name, "label": group.label})
    if created.status_code not in (200, 201, 409):
        problem = f"{created.status_code} {error_message(created)}"
        raise UsageError(f"hubspot: creating {kind}group {group.name}: {problem}")
    return [f"created {kind}property group {group.name}"]


def _ensure_property(
    client: HttpClient, config: HubSpotConfig, mapping: FieldMapping, properties_path: str = PROPERTIES_PATH
) -> list[str]:
    wanted = definition(config, mapping)
    kind = "task " if properties_path == TASK_PROPERTIES_PATH else ""
    current = client.request("GET", f"{properties_path}/{mapping.property}")
    if current.status_code == 404:
        created = client.request("POST", properties_path, wanted)
        if created.status_code not in (200, 201):
            problem = f"{created.status_code} {error_message(created)}"
            raise UsageError(f"hubspot: creating {kind}property {mapping.property}: {problem}")
        return [f"created {kind}property {mapping.property} ({wanted['type']})"]
    if current.status_code != 200:
        raise UsageError(f"hubspot: reading property {mapping.property}: {current.status_code}")
    existing = current.json()
    if existing.get("type") != wanted["type"]:
        raise UsageError(
            f"hubspot: property {mapping.property} exists with type {existing.get('type')}, "
            f"the mapping needs {wanted['type']}: rename it in sync/mappings.yml"
        )
    if "options" not in wanted:
        return []
    have = [o.get("value") for o in existing.get("options") or []]
    want = [o["value"] for o in wanted["options"]]
    if have == want:
        return []
    # keep options HubSpot has that we no longer produce (records may hold them), hidden
    kept = [
        {**o, "hidden": True, "displayOrder": len(want) + n}
        for n, o in enumerate(existing.get("options") or [])
        if o.get("value") not in want
    ]
    update = {"options": wanted["options"] + kept}
    patched = client.request("PATCH", f"{PROPERTIES_PATH}/{mapping.property}", update)
    if patched.status_code != 200:
        problem = f"{patched.status_code} {error_message(patched)}"
        raise UsageError(f"hubspot: updating options of {mapping.property}: {problem}")
    return [f"updated options of {mapping.property} ({len(want)} values)"]


def setup(client: HttpClient, config: HubSpotConfig) -> list[str]:
    """Create the property group and every mapped property; keep enumeration options in step.
    With moments (the CSM tasks), the task property group and onboarding_task_id too."""
    done = _ensure_group(client, config)
    for mapping in config.fields:
        if mapping.column != config.key:
            done += _ensure_property(client, config, mapping)
    if config.active_moments is not None:
        done += _ensure_group(client, config, TASK_GROUPS_PATH)
        done += _ensure_property(client, config, TASK_ID, TASK_PROPERTIES_PATH)
    log("sync.setup", destination=NAME, changes=len(done))
    return done


def preflight_tasks(client: HttpClient) -> None:
    """Refuse to create tasks when onboarding_task_id is missing: without it a task cannot be found
    again, so a retried create could make it twice."""
    response = client.request("GET", f"{TASK_PROPERTIES_PATH}/{TASK_ID.property}")
    check_auth(response, NAME, TOKEN_ENV)
    if response.status_code == 404:
        raise SetupNeededError(f"hubspot: task property {TASK_ID.property} does not exist; {SETUP_HINT}")
    if response.status_code != 200:
        problem = f"{response.status_code} {error_message(response)}"
        raise UsageError(f"hubspot: reading task property {TASK_ID.property}: {problem}")


def preflight(client: HttpClient, config: HubSpotConfig, values: dict[str, set[str]]) -> None:
    """Refuse to send when a mapped property, or an option of a value the model holds, is missing."""
    response = client.request("GET", PROPERTIES_PATH)
    check_auth(response, NAME, TOKEN_ENV)
    if response.status_code != 200:
        problem = f"{response.status_code} {error_message(response)}"
        raise UsageError(f"hubspot: reading contact properties: {problem}")
    existing = {p["name"]: p for p in response.json().get("results") or []}
    problems = []
    for mapping in config.fields:
        if mapping.column == config.key:
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

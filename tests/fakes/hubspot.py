"""A local HubSpot (CRM v3 contacts and properties) as strict as the real API.

Shapes follow HubSpot's own OpenAPI documents in ``/work/shared/api-specs/``
(``hubspot-crm-contacts-v3.json``, ``hubspot-crm-properties-v3.json``); behaviour the specs do not
state follows HubSpot's documentation and error bodies seen in public bug reports, cited below.
Where both are silent the fake takes the stricter plausible behaviour and says so here.

Authentication (https://developers.hubspot.com/docs/api-reference/error-handling):
- ``Authorization: Bearer <token>`` exactly, else 401 ``{"status": "error", "message",
  "correlationId", "category": "INVALID_AUTHENTICATION"}``.

Errors are the spec's ``Error`` schema (``status``, ``message``, ``correlationId``, ``category``):
400 ``VALIDATION_ERROR``, 404 ``OBJECT_NOT_FOUND``, 409 ``OBJECT_ALREADY_EXISTS``; a body that is
not ``application/json`` gets 415, invalid JSON 400 ``Invalid input JSON ...``.

Rate limiting (https://developers.hubspot.com/docs/guides/apps/api-usage/usage-details and the
2018-11-06 changelog "rate limit information headers"):
- with a ``RateLimit``, every answer carries ``X-HubSpot-RateLimit-Max``,
  ``X-HubSpot-RateLimit-Remaining`` and ``X-HubSpot-RateLimit-Interval-Milliseconds``;
- beyond the limit: 429 ``{"status": "error", "message": "You have reached your
  ten_secondly_rolling limit.", "errorType": "RATE_LIMIT", "correlationId", "policyName":
  "TEN_SECONDLY_ROLLING", "requestId"}`` with ``Remaining: 0`` and no ``Retry-After`` (real HubSpot
  often omits it). A ``rate_limit`` fault sends the same body, ``Retry-After`` only if asked.

Properties (``/crm/v3/properties/contacts``; spec ``PropertyCreate`` / ``PropertyUpdate``):
- ``srv.properties`` starts with HubSpot defaults (email, firstname, lastname, company, phone,
  lifecyclestage) in group ``contactinformation``; ``srv.groups`` holds the groups.
- create needs ``name``, ``label``, ``type``, ``fieldType``, ``groupName`` (the group must exist);
  ``name`` must match ``^[a-z][a-z0-9_]*$`` (stricter choice); accepted type/fieldType pairs:
  string/text|textarea, number/number, bool/booleancheckbox (options exactly "true" and "false"),
  enumeration/select|radio|checkbox (at least one option), date/date, datetime/date. Options need
  ``label``, ``value`` (unique) and ``hidden`` (spec ``OptionInput``). Keys outside the spec's schema
  are refused (400), stricter than the docs say. An existing name gets 409; success is 201.
- update (PATCH) takes the ``PropertyUpdate`` keys, re-validates the result, 404 for an unknown
  property; HubSpot's own properties are read-only here (400), as their definitions are in HubSpot.
- groups: list, create (``name``, ``label``; 409 if it exists; 201), read one (404 if missing).

Batch upsert (``POST /crm/v3/objects/contacts/batch/upsert``; spec
``BatchInputSimplePublicObjectBatchInputUpsert``). Checked in this order, each refusal a whole-batch
400 with nothing applied:
1. The body is exactly ``{"inputs": [...]}``, a list of 1..100 objects with only the spec's keys: ``id`` (string),
   ``idProperty`` (must be ``"email"``: the only unique property this fake upserts by),
   ``properties`` (object) and optional ``objectWriteTraceId`` (string, unique in the batch:
   it is how errors are mapped back, see below).
2. Every property value is a JSON string (the spec's ``additionalProperties: {type: string}``);
   numbers, booleans and null are refused. ``""`` is allowed and clears the property.
3. No two inputs share an id (compared lower-cased, as HubSpot stores emails), message as HubSpot's
   ``Duplicate IDs found in batch input: [...]``; a ``properties.email`` different from ``id`` is
   refused too.
4. Every property exists and every non-empty value is valid for its type. HubSpot rejects the whole
   batch for one bad value, with this body (shape from public reports, e.g.
   https://github.com/Atlas-Authority/marketing-automation/issues/206)::

       {"status": "error", "category": "VALIDATION_ERROR", "correlationId": "...",
        "message": "Property values were not valid: [{\\"isValid\\":false,\\"message\\":...,
                    \\"error\\":\\"INVALID_OPTION\\",\\"name\\":\\"lifecyclestage\\",...}]",
        "errors": [{"message": "...", "code": "INVALID_OPTION",
                    "context": {"propertyName": ["lifecyclestage"]}}]}

   Codes: ``PROPERTY_DOESNT_EXIST``; enumeration/bool value not an option (checkbox values are
   ``;``-separated) ``INVALID_OPTION``; number not ``^-?\\d+(\\.\\d+)?$`` (HubSpot refuses exponent
   notation such as ``1e-14``) ``INVALID_INTEGER``; date not ``YYYY-MM-DD`` or epoch ms at UTC
   midnight ``INVALID_DATE`` ("... is at 4:0:0.0 UTC, not midnight!"); datetime not epoch ms or
   ISO-8601 with time and zone ``INVALID_LONG``. Leading/trailing spaces are refused for every
   non-string type (HubSpot changelog "enhanced validations for non-string properties", 2025).
Then each input on its own: an ``id`` that is not an email (``^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$``) or is
in ``srv.reject_emails`` fails alone and the rest are applied: **207** with the spec's
``BatchResponseSimplePublicUpsertObjectWithErrors``; each ``errors[]`` item is a full
``StandardError``: ``status: "error"``, ``category: "VALIDATION_ERROR"``, ``message``, ``errors``
(``code: "INVALID_EMAIL"``), ``links``, and ``context: {"objectWriteTraceId": [<the input's>]}``.
HubSpot maps multi-status errors to inputs by ``objectWriteTraceId`` only
(https://developers.hubspot.com/docs/api-reference/error-handling, "Multi-status errors"); an input
sent without one gets ``context: {}`` (stricter: the client must send trace ids to map errors).
All applied: 200 ``{"status": "COMPLETE", "results", "startedAt", "completedAt"}``. Each result has
``id`` (a stable numeric string per contact), ``properties`` (stored values plus ``hs_object_id``,
``createdate``, ``lastmodifieddate``), ``createdAt``, ``updatedAt``, ``archived: false``, ``new``
and the input's ``objectWriteTraceId``. Results are NOT in input order (HubSpot does not promise an
order; the fake returns them reversed), so clients must map by ``objectWriteTraceId`` or email.

Stores: ``srv.contacts`` (lower-cased email -> property values, ``email`` included),
``srv.contact_ids`` (email -> id), ``srv.upserts`` (inputs applied, all requests).
"""

from __future__ import annotations

import argparse
import json
import re
from datetime import UTC, date, datetime
from itertools import count
from typing import Any

from .server import FakeServer, RateLimit, Request, Response, Router, new_id, now_iso, serve_from_command_line

UPSERT_PATH = "/crm/v3/objects/contacts/batch/upsert"
PROPERTIES_PATH = "/crm/v3/properties/contacts"
MAX_INPUTS = 100
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
PROPERTY_NAME = re.compile(r"[a-z][a-z0-9_]*")
NUMBER = re.compile(r"-?\d+(\.\d+)?")
EPOCH_MS = re.compile(r"-?\d+")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})")
DAY_MS = 86_400_000
FIELD_TYPES = {
    "string": {"text", "textarea"},
    "number": {"number"},
    "bool": {"booleancheckbox"},
    "enumeration": {"select", "radio", "checkbox"},
    "date": {"date"},
    "datetime": {"date"},
}
UPSERT_INPUT_KEYS = {"id", "idProperty", "objectWriteTraceId", "properties"}
# PropertyCreate / PropertyUpdate / OptionInput / PropertyGroupCreate keys in hubspot-crm-properties-v3.json
PROPERTY_CREATE_KEYS = {
    "calculationFormula", "currencyPropertyName", "dataSensitivity", "description", "displayOrder",
    "externalOptions", "fieldType", "formField", "groupName", "hasUniqueValue", "hidden", "label", "name",
    "numberDisplayHint", "options", "referencedObjectType", "showCurrencySymbol", "textDisplayHint", "type",
}  # fmt: skip
PROPERTY_UPDATE_KEYS = {
    "calculationFormula", "currencyPropertyName", "description", "displayOrder", "fieldType", "formField",
    "groupName", "hidden", "label", "numberDisplayHint", "options", "showCurrencySymbol", "textDisplayHint", "type",
}  # fmt: skip
OPTION_KEYS = {"description", "displayOrder", "hidden", "label", "value"}
GROUP_CREATE_KEYS = {"displayOrder", "label", "name"}
LIFECYCLE_STAGES = [
    ("subscriber", "Subscriber"),
    ("lead", "Lead"),
    ("marketingqualifiedlead", "Marketing Qualified Lead"),
    ("salesqualifiedlead", "Sales Qualified Lead"),
    ("opportunity", "Opportunity"),
    ("customer", "Customer"),
    ("evangelist", "Evangelist"),
    ("other", "Other"),
]
ERROR_CATEGORIES = {
    400: "VALIDATION_ERROR",
    401: "INVALID_AUTHENTICATION",
    404: "OBJECT_NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "OBJECT_ALREADY_EXISTS",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITS",
}
MISSING_AUTH = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find "
    "more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)


class FakeHubSpot(FakeServer):
    """HubSpot CRM v3: contact properties, property groups and contact batch upsert by email."""

    def __init__(
        self,
        token: str = "pat-test",
        rate_limit: RateLimit | None = None,
        latency_s: float = 0.0,
        port: int = 0,
    ) -> None:
        super().__init__(rate_limit=rate_limit, latency_s=latency_s, port=port)
        self.token = token
        self.groups: dict[str, dict[str, Any]] = {
            "contactinformation": _group("contactinformation", "Contact information")
        }
        self.properties: dict[str, dict[str, Any]] = _default_properties()
        self.contacts: dict[str, dict[str, str]] = {}
        self.contact_ids: dict[str, str] = {}
        self.reject_emails: set[str] = set()
        self.upserts = 0
        self._created_at: dict[str, str] = {}
        self._updated_at: dict[str, str] = {}
        self._next_id = count(151)
        self._router = Router()
        self._router.add(UPSERT_PATH, "POST", self._batch_upsert)
        self._router.add(PROPERTIES_PATH, "GET", self._list_properties)
        self._router.add(PROPERTIES_PATH, "POST", self._create_property)
        self._router.add(f"{PROPERTIES_PATH}/groups", "GET", self._list_groups)
        self._router.add(f"{PROPERTIES_PATH}/groups", "POST", self._create_group)
        self._router.add(f"{PROPERTIES_PATH}/groups/(?P<name>[^/]+)", "GET", self._get_group)
        self._router.add(f"{PROPERTIES_PATH}/(?P<name>[^/]+)", "GET", self._get_property)
        self._router.add(f"{PROPERTIES_PATH}/(?P<name>[^/]+)", "PATCH", self._update_property)

    # -- the API's own answers -------------------------------------------------------------------

    def authenticate(self, request: Request) -> Response | None:
        given = request.header("authorization")
        if given == f"Bearer {self.token}":
            return None
        message = MISSING_AUTH if given is None else "The access token provided is invalid or expired."
        return self.error_response(401, message)

    def error_response(self, status: int, message: str) -> Response:
        category = ERROR_CATEGORIES.get(status, "INTERNAL_ERROR" if status >= 500 else "ERROR")
        return Response(
            status, {"status": "error", "message": message, "correlationId": new_id(), "category": category}
        )

    def invalid_json_response(self, request: Request) -> Response:
        return self.error_response(400, f"Invalid input JSON on line 1: {request.json_error}")

    def rate_limited_response(self, retry_after: int | float | None) -> Response:
        body = {
            "status": "error",
            "message": "You have reached your ten_secondly_rolling limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": new_id(),
            "policyName": "TEN_SECONDLY_ROLLING",
            "requestId": new_id(),
        }
        headers = {} if retry_after is None else {"Retry-After": _seconds(retry_after)}
        return Response(429, body, headers)

    def rate_limit_headers(self, remaining: int | None) -> dict[str, str]:
        if remaining is None:
            return {}
        limit = self.rate_limit or RateLimit(max_requests=100, window_s=10.0)
        return {
            "X-HubSpot-RateLimit-Max": str(limit.max_requests),
            "X-HubSpot-RateLimit-Remaining": str(remaining),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(round(limit.window_s * 1000)),
        }

    def count_items(self, request: Request) -> int:
        body = request.body
        if request.path == UPSERT_PATH and isinstance(body, dict) and isinstance(body.get("inputs"), list):
            return len(body["inputs"])
        return 0

    def handle_api(self, request: Request) -> Response:
        if request.path.startswith("/crm/v3/properties/") and not request.path.startswith(PROPERTIES_PATH):
            return self.error_response(404, "This fake only serves the contacts object type")
        return self.dispatch(self._router, request)

    # -- properties and groups -------------------------------------------------------------------

    def _list_properties(self, request: Request) -> Response:
        with self.lock:
            return Response(200, {"results": [p for p in self.properties.values() if not p["archived"]]})

    def _get_property(self, request: Request, name: str) -> Response:
        with self.lock:
            found = self.properties.get(name)
            if found is None or found["archived"]:
                return self.error_response(
                    404, f"Unable to find property with name {name} for objectType contacts"
                )
            return Response(200, found)

    def _create_property(self, request: Request) -> Response:
        spec = request.body
        with self.lock:
            problem = _property_create_problem(spec, self.groups)
            if problem is not None:
                return self.error_response(400, problem)
            if spec["name"] in self.properties:
                return self.error_response(409, f"Property named '{spec['name']}' already exists.")
            created = _property(spec, hubspot_defined=False)
            self.properties[spec["name"]] = created
            return Response(201, created)

    def _update_property(self, request: Request, name: str) -> Response:
        changes = request.body
        with self.lock:
            current = self.properties.get(name)
            if current is None or current["archived"]:
                return self.error_response(
                    404, f"Unable to find property with name {name} for objectType contacts"
                )
            if current["hubspotDefined"]:
                return self.error_response(
                    400, f"Property {name} is a HubSpot default: its definition is read-only"
                )
            problem = _property_update_problem(name, changes, current, self.groups)
            if problem is not None:
                return self.error_response(400, problem)
            updated = _property({**current, **changes, "name": name}, hubspot_defined=False)
            updated["createdAt"] = current["createdAt"]
            self.properties[name] = updated
            return Response(200, updated)

    def _list_groups(self, request: Request) -> Response:
        with self.lock:
            return Response(200, {"results": list(self.groups.values())})

    def _get_group(self, request: Request, name: str) -> Response:
        with self.lock:
            found = self.groups.get(name)
            if found is None:
                return self.error_response(
                    404, f"Unable to find property group {name} for objectType contacts"
                )
            return Response(200, found)

    def _create_group(self, request: Request) -> Response:
        spec = request.body
        problem = _group_create_problem(spec)
        if problem is not None:
            return self.error_response(400, problem)
        with self.lock:
            if spec["name"] in self.groups:
                return self.error_response(409, f"Property group named '{spec['name']}' already exists.")
            created = _group(spec["name"], spec["label"], spec.get("displayOrder", -1))
            self.groups[spec["name"]] = created
            return Response(201, created)

    # -- batch upsert ----------------------------------------------------------------------------

    def _batch_upsert(self, request: Request) -> Response:
        inputs = _upsert_inputs(request.body)
        if isinstance(inputs, str):
            return self.error_response(400, inputs)
        started = now_iso()
        with self.lock:
            invalid = [v for item in inputs for v in _invalid_values(item["properties"], self.properties)]
            if invalid:
                return _invalid_values_response(invalid)
            results: list[dict[str, Any]] = []
            errors: list[dict[str, Any]] = []
            for item in inputs:
                if self._is_rejected(item["id"]):
                    errors.append(_input_error(item))
                else:
                    results.append(self._apply(item))
        body: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results[::-1],
            "startedAt": started,
            "completedAt": now_iso(),
        }
        if not errors:
            return Response(200, body)
        return Response(207, {**body, "numErrors": len(errors), "errors": errors})

    def _is_rejected(self, email: str) -> bool:
        rejected = {e.lower() for e in self.reject_emails}
        return EMAIL.fullmatch(email) is None or email.lower() in rejected

    def _apply(self, item: dict[str, Any]) -> dict[str, Any]:
        email = item["id"].lower()
        stamp = now_iso()
        is_new = email not in self.contacts
        if is_new:
            self.contacts[email] = {"email": email}
            self.contact_ids[email] = str(next(self._next_id))
            self._created_at[email] = stamp
        stored = self.contacts[email]
        for name, value in item["properties"].items():
            if name == "email":
                continue
            if value == "":
                stored.pop(name, None)
            else:
                stored[name] = value
        self._updated_at[email] = stamp
        self.upserts += 1
        return self._result(email, is_new, item.get("objectWriteTraceId"))

    def _result(self, email: str, is_new: bool, trace_id: str | None) -> dict[str, Any]:
        contact_id, created, updated = (
            self.contact_ids[email],
            self._created_at[email],
            self._updated_at[email],
        )
        properties = {
            **self.contacts[email],
            "hs_object_id": contact_id,
            "createdate": created,
            "lastmodifieddate": updated,
        }
        result: dict[str, Any] = {
            "id": contact_id,
            "properties": properties,
            "createdAt": created,
            "updatedAt": updated,
            "archived": False,
            "new": is_new,
        }
        if trace_id is not None:
            result["objectWriteTraceId"] = trace_id
        return result


# -- upsert validation ---------------------------------------------------------------------------


def _upsert_inputs(body: Any) -> list[dict[str, Any]] | str:
    """The batch's inputs, or why the whole batch is refused (rules 1-3 of the module docstring)."""
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list) or set(body) != {"inputs"}:
        return 'Invalid input JSON: expected {"inputs": [...]}'
    inputs = body["inputs"]
    if not 1 <= len(inputs) <= MAX_INPUTS:
        return f"Batch input must hold between 1 and {MAX_INPUTS} inputs, got {len(inputs)}"
    for index, item in enumerate(inputs):
        problem = _input_shape_problem(item)
        if problem is not None:
            return f"Invalid input JSON: inputs[{index}]: {problem}"
    return _duplicates_problem(inputs) or inputs


def _input_shape_problem(item: Any) -> str | None:
    if not isinstance(item, dict):
        return "each input must be an object"
    unknown = sorted(set(item) - UPSERT_INPUT_KEYS)
    if unknown:
        return f"unknown field(s) {unknown}; allowed: {sorted(UPSERT_INPUT_KEYS)}"
    if not isinstance(item.get("id"), str):
        return "id is required and must be a string"
    if item.get("idProperty") != "email":
        return 'idProperty must be "email" (this fake upserts contacts by email only)'
    if "objectWriteTraceId" in item and not isinstance(item["objectWriteTraceId"], str):
        return "objectWriteTraceId must be a string"
    properties = item.get("properties")
    if not isinstance(properties, dict):
        return "properties is required and must be an object"
    for name, value in properties.items():
        if not isinstance(value, str):
            return (
                f"property {name!r}: value {json.dumps(value)} is not a string (property values are strings)"
            )
    email = properties.get("email")
    if email is not None and email.lower() != item["id"].lower():
        return f"properties.email {email!r} differs from id {item['id']!r}"
    return None


def _duplicates_problem(inputs: list[dict[str, Any]]) -> str | None:
    ids = [item["id"].lower() for item in inputs]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        return f"Duplicate IDs found in batch input: {repeated}. IDs must be unique"
    traces = [item["objectWriteTraceId"] for item in inputs if "objectWriteTraceId" in item]
    repeated = sorted({t for t in traces if traces.count(t) > 1})
    if repeated:
        return f"Duplicate objectWriteTraceId values in batch input: {repeated}. They must be unique"
    return None


def _invalid_values(values: dict[str, str], properties: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """HubSpot's validation results for the invalid values of one input (empty: all valid)."""
    found = []
    for name, value in values.items():
        definition = properties.get(name)
        if definition is None or definition["archived"]:
            problem: tuple[str, str] | None = ("PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist')
        else:
            problem = _value_problem(definition, value)
        if problem is not None:
            code, message = problem
            found.append(
                {
                    "isValid": False,
                    "message": message,
                    "error": code,
                    "name": name,
                    "localizedErrorMessage": message,
                    "propertyValue": value,
                }
            )
    return found


def _value_problem(definition: dict[str, Any], value: str) -> tuple[str, str] | None:
    """(error code, message) when ``value`` is not valid for the property, else None."""
    kind = definition["type"]
    if value == "" or kind == "string":
        return None
    if value != value.strip():
        return _TYPE_ERRORS[kind], f"{value!r} has leading or trailing whitespace"
    if kind == "number":
        return None if NUMBER.fullmatch(value) else ("INVALID_INTEGER", f"{value} was not a valid number.")
    if kind == "date":
        return _date_problem(value)
    if kind == "datetime":
        return None if _is_datetime(value) else ("INVALID_LONG", f"{value} was not a valid long.")
    allowed = ["true", "false"] if kind == "bool" else [o["value"] for o in definition["options"]]
    chosen = value.split(";") if definition["fieldType"] == "checkbox" else [value]
    for option in chosen:
        if option not in allowed:
            return "INVALID_OPTION", f"{option} was not one of the allowed options: [{', '.join(allowed)}]"
    return None


_TYPE_ERRORS = {
    "number": "INVALID_INTEGER",
    "bool": "INVALID_OPTION",
    "enumeration": "INVALID_OPTION",
    "date": "INVALID_DATE",
    "datetime": "INVALID_LONG",
}


def _date_problem(value: str) -> tuple[str, str] | None:
    if ISO_DATE.fullmatch(value):
        try:
            date.fromisoformat(value)
        except ValueError:
            return "INVALID_DATE", f"{value} is not a valid date"
        return None
    if EPOCH_MS.fullmatch(value):
        at = datetime.fromtimestamp(int(value) / 1000, UTC)
        if int(value) % DAY_MS == 0:
            return None
        clock = f"{at.hour}:{at.minute}:{at.second}.{at.microsecond // 1000}"
        return "INVALID_DATE", f"{value} is at {clock} UTC, not midnight!"
    return "INVALID_DATE", f"{value} is not a valid date"


def _is_datetime(value: str) -> bool:
    if EPOCH_MS.fullmatch(value):
        return True
    if not ISO_DATETIME.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _invalid_values_response(invalid: list[dict[str, Any]]) -> Response:
    body = {
        "status": "error",
        "message": "Property values were not valid: " + json.dumps(invalid, separators=(",", ":")),
        "correlationId": new_id(),
        "errors": [
            {"message": v["message"], "code": v["error"], "context": {"propertyName": [v["name"]]}}
            for v in invalid
        ],
        "category": "VALIDATION_ERROR",
    }
    return Response(400, body)


def _input_error(item: dict[str, Any]) -> dict[str, Any]:
    """The spec's ``StandardError`` for one input that failed on its own."""
    message = f"Email address {item['id']} is invalid"
    trace_id = item.get("objectWriteTraceId")
    return {
        "status": "error",
        "category": "VALIDATION_ERROR",
        "message": message,
        "context": {"objectWriteTraceId": [trace_id]} if trace_id is not None else {},
        "errors": [{"message": message, "code": "INVALID_EMAIL", "context": {"propertyName": ["email"]}}],
        "links": {},
    }


# -- property definitions ------------------------------------------------------------------------


def _property_create_problem(spec: Any, groups: dict[str, Any]) -> str | None:
    if not isinstance(spec, dict):
        return "Invalid input JSON: expected a property object"
    unknown = sorted(set(spec) - PROPERTY_CREATE_KEYS)
    if unknown:
        return f"Invalid input JSON: unknown field(s) {unknown}"
    for required in ("name", "label", "type", "fieldType", "groupName"):
        if not isinstance(spec.get(required), str) or not spec[required]:
            return f"{required} is required and must be a non-empty string"
    if not PROPERTY_NAME.fullmatch(spec["name"]):
        return (
            f"Property name {spec['name']!r} must start with a lowercase letter and hold only a-z, 0-9 and _"
        )
    return _definition_problem(spec, groups)


def _property_update_problem(
    name: str, changes: Any, current: dict[str, Any], groups: dict[str, Any]
) -> str | None:
    if not isinstance(changes, dict):
        return "Invalid input JSON: expected a property update object"
    if changes.get("name", name) != name:
        return f"name cannot be changed ({name!r} -> {changes['name']!r})"
    unknown = sorted(set(changes) - PROPERTY_UPDATE_KEYS - {"name"})
    if unknown:
        return f"Invalid input JSON: unknown field(s) {unknown}"
    for key in ("label", "type", "fieldType", "groupName"):
        if key in changes and (not isinstance(changes[key], str) or not changes[key]):
            return f"{key} must be a non-empty string"
    return _definition_problem({**current, **changes}, groups)


def _definition_problem(spec: dict[str, Any], groups: dict[str, Any]) -> str | None:
    """Type/fieldType pair, group, options and the simple optional fields of a property."""
    kind, field_type = spec["type"], spec["fieldType"]
    if field_type not in FIELD_TYPES.get(kind, set()):
        return f"Invalid type/fieldType combination: {kind}/{field_type}"
    if spec["groupName"] not in groups:
        return f"Property group {spec['groupName']} does not exist"
    for key, expected in (("description", str), ("displayOrder", int), ("hidden", bool), ("formField", bool)):
        if key in spec and not isinstance(spec[key], expected):
            return f"{key} must be a {expected.__name__}"
    return _options_problem(kind, spec.get("options", []))


def _options_problem(kind: str, options: Any) -> str | None:
    if not isinstance(options, list):
        return "options must be a list"
    for index, option in enumerate(options):
        problem = _option_problem(option)
        if problem is not None:
            return f"options[{index}]: {problem}"
    values = [option["value"] for option in options]
    if len(set(values)) != len(values):
        return f"Option values must be unique, got {values}"
    if kind == "enumeration" and not options:
        return "Enumeration properties need at least one option"
    if kind == "bool" and sorted(values) != ["false", "true"]:
        return 'Bool properties need exactly two options with values "true" and "false"'
    if kind not in ("enumeration", "bool") and options:
        return f"Properties of type {kind} take no options"
    return None


def _option_problem(option: Any) -> str | None:
    if not isinstance(option, dict):
        return "each option must be an object"
    unknown = sorted(set(option) - OPTION_KEYS)
    if unknown:
        return f"unknown field(s) {unknown}"
    if (
        not isinstance(option.get("label"), str)
        or not isinstance(option.get("value"), str)
        or not option["value"]
    ):
        return "label and value are required strings (value non-empty)"
    if not isinstance(option.get("hidden"), bool):
        return "hidden is required and must be a boolean"
    return None


def _group_create_problem(spec: Any) -> str | None:
    if not isinstance(spec, dict):
        return "Invalid input JSON: expected a property group object"
    unknown = sorted(set(spec) - GROUP_CREATE_KEYS)
    if unknown:
        return f"Invalid input JSON: unknown field(s) {unknown}"
    for required in ("name", "label"):
        if not isinstance(spec.get(required), str) or not spec[required]:
            return f"{required} is required and must be a non-empty string"
    if not PROPERTY_NAME.fullmatch(spec["name"]):
        return f"Group name {spec['name']!r} must start with a lowercase letter and hold only a-z, 0-9 and _"
    if "displayOrder" in spec and not isinstance(spec["displayOrder"], int):
        return "displayOrder must be an integer"
    return None


def _property(spec: dict[str, Any], *, hubspot_defined: bool) -> dict[str, Any]:
    """A stored property in the spec's ``Property`` shape."""
    stamp = now_iso()
    options = [
        {
            "label": option["label"],
            "value": option["value"],
            "hidden": option["hidden"],
            "displayOrder": option.get("displayOrder", index),
            "description": option.get("description", ""),
        }
        for index, option in enumerate(spec.get("options", []))
    ]
    return {
        "name": spec["name"],
        "label": spec["label"],
        "type": spec["type"],
        "fieldType": spec["fieldType"],
        "groupName": spec["groupName"],
        "description": spec.get("description", ""),
        "options": options,
        "displayOrder": spec.get("displayOrder", -1),
        "hasUniqueValue": spec.get("hasUniqueValue", False),
        "hidden": spec.get("hidden", False),
        "formField": spec.get("formField", False),
        "calculated": False,
        "externalOptions": False,
        "hubspotDefined": hubspot_defined,
        "archived": False,
        "createdAt": stamp,
        "updatedAt": stamp,
        "modificationMetadata": {
            "archivable": not hubspot_defined,
            "readOnlyDefinition": hubspot_defined,
            "readOnlyOptions": False,
            "readOnlyValue": False,
        },
    }


def _default_properties() -> dict[str, dict[str, Any]]:
    def text(name: str, label: str) -> dict[str, Any]:
        spec = {
            "name": name,
            "label": label,
            "type": "string",
            "fieldType": "text",
            "groupName": "contactinformation",
        }
        return _property(spec, hubspot_defined=True)

    stages = [
        {"label": label, "value": value, "hidden": False, "displayOrder": index}
        for index, (value, label) in enumerate(LIFECYCLE_STAGES)
    ]
    lifecycle = {
        "name": "lifecyclestage",
        "label": "Lifecycle Stage",
        "type": "enumeration",
        "fieldType": "radio",
        "groupName": "contactinformation",
        "options": stages,
    }
    defaults = [
        text("email", "Email"),
        text("firstname", "First Name"),
        text("lastname", "Last Name"),
        text("company", "Company Name"),
        text("phone", "Phone Number"),
        _property(lifecycle, hubspot_defined=True),
    ]
    return {p["name"]: p for p in defaults}


def _group(name: str, label: str, display_order: int = -1) -> dict[str, Any]:
    return {"name": name, "label": label, "displayOrder": display_order, "archived": False}


def _seconds(value: int | float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def main(argv: list[str] | None = None) -> None:
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--token", default="pat-test", help="the only Bearer token accepted")

    def build(
        args: argparse.Namespace, rate_limit: RateLimit | None, latency_s: float, port: int
    ) -> FakeServer:
        return FakeHubSpot(token=args.token, rate_limit=rate_limit, latency_s=latency_s, port=port)

    serve_from_command_line(build, "A strict local fake of HubSpot's CRM v3 API.", add_arguments, argv)


if __name__ == "__main__":
    main()

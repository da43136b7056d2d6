"""A local HubSpot (CRM v3 contacts, tasks, owners and properties) as strict as the real API.

Shapes follow HubSpot's own OpenAPI documents in ``/work/shared/api-specs/``
(``hubspot-crm-contacts-v3.json``, ``hubspot-crm-properties-v3.json``) and, for tasks, the Tasks v3
document of HubSpot/HubSpot-public-api-spec-collection (``PublicApiSpecs/CRM/Tasks/Rollouts/424/
v3/tasks.json``, "the tasks spec" below); behaviour the specs do not state follows HubSpot's
documentation and error bodies seen in public bug reports, cited below.
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

Properties (``/crm/v3/properties/{contacts|tasks}``; spec ``PropertyCreate`` / ``PropertyUpdate``),
one code path for both object types; any other object type is 404:
- ``srv.properties`` starts with HubSpot defaults (email, firstname, lastname, company, phone,
  lifecyclestage) in group ``contactinformation``; ``srv.groups`` holds the groups.
- ``srv.task_properties`` / ``srv.task_groups`` are the same for tasks, starting with the task
  properties of https://developers.hubspot.com/docs/api/crm/tasks in group ``taskinformation``
  (the fake's name: create your own group, as the sync does for contacts): ``hs_timestamp``
  (datetime), ``hs_task_subject``, ``hs_task_body``, ``hs_task_status`` / ``hs_task_priority`` /
  ``hs_task_type`` (enumerations holding only the values that guide lists: COMPLETED and
  NOT_STARTED; LOW, MEDIUM and HIGH; EMAIL, CALL and TODO; a portal has more, which the fake
  refuses as the stricter reading), ``hs_task_reminders`` (a number: "You must use Unix timestamp
  in milliseconds") and ``hubspot_owner_id`` (HubSpot's is an enumeration of the owners; the fake
  stores a string and checks it against ``srv.owners``, see *Tasks*).
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

Batch read of contacts (``POST /crm/v3/objects/contacts/batch/read``; spec
``BatchReadInputSimplePublicObjectId``; https://developers.hubspot.com/docs/api/crm/contacts,
"Retrieve contacts by record ID, email, or custom unique value property"):
- the body is ``inputs`` (1..100 objects, each exactly ``{"id": <string>}``), ``properties`` and
  ``propertiesWithHistory`` (lists of strings; the spec makes all three required, and so does the
  fake, the stricter reading) and optional ``idProperty``: ``"email"``
  (ids are emails, matched case-insensitively, as HubSpot stores them lower-cased) or absent (ids
  are contact ids); any other ``idProperty``, other keys, a history asked for (not kept by the fake)
  or a query string other than ``archived=false`` (the fake archives nothing) is a 400.
- each found contact once, as a ``SimplePublicObject``: ``id``, ``properties`` = each requested
  contact property (null when unset; unknown names ignored) plus ``hs_object_id``, ``createdate``
  and ``lastmodifieddate``, nothing else (stricter: a client mapping results back by email must ask
  for ``email``, as HubSpot names no input in a batch read's results), ``createdAt``,
  ``updatedAt``, ``archived: false``; in no promised order (reversed here).
- all found: 200 ``{"status": "COMPLETE", "results", "startedAt", "completedAt"}``; some not: 207
  with ``numErrors: 1`` and one ``errors[]`` entry, the body HubSpot answers (as quoted in public
  client tests): ``{"status": "error", "category": "OBJECT_NOT_FOUND", "message": "Could not get
  some CONTACT objects, they may be deleted or not exist. Check that ids are valid.", "context":
  {"ids": [<the ids not found, as sent>]}, "errors": [], "links": {}}``. Reads change no store.

Owners (``GET /crm/v3/owners``, https://developers.hubspot.com/docs/api/crm/owners, read-only):
- the test seeds them: ``srv.add_owner(email, first_name, last_name, archived=False)`` appends to
  ``srv.owners`` a ``PublicOwner`` (``id`` a numeric string, ``email``, ``type: "PERSON"``,
  ``firstName``, ``lastName``, ``userId`` (an integer different from ``id``: "userId ... will result
  in an error if it is used to assign ownership"), ``userIdIncludingInactive``, ``createdAt``,
  ``updatedAt``, ``archived``, ``teams``); an archived owner keeps its ``id`` but has ``userId``
  null ("For archived users ... the userId value will be null").
- query parameters ``email`` (case-insensitive exact match), ``limit`` (default 100, the spec's;
  the bound 1..500 is the fake's, the page size HubSpot's own clients ask for at most), ``after``
  (the ``paging.next.after`` cursor of the previous page) and ``archived`` (``true``:
  only archived owners; default ``false``). Any other parameter or a bad value is 400 (stricter:
  HubSpot ignores unknown parameters, which hides a typo). Answer: ``{"results", "paging":
  {"next": {"after", "link"}}}``, ``paging`` only when there is a next page.
- ``GET /crm/v3/owners/{ownerId}``: the owner, or 404.

Tasks (the tasks spec; https://developers.hubspot.com/docs/api/crm/tasks):
- ``POST /crm/v3/objects/tasks/batch/create`` ``{"inputs": [...]}`` (spec
  ``BatchInputSimplePublicObjectBatchInputForCreate``), each input only ``properties``,
  ``associations`` and ``objectWriteTraceId``. Refused whole (400, nothing applied), in this order:
  the envelope and 1..100 inputs (as for upserts; HubSpot's batch limit); an input's shape:
  property values are strings (as for upserts), ``properties.hs_timestamp`` is required ("Required.
  This field marks the task's due date"); each association is ``{"to": {"id": <string>},
  "types": [{"associationCategory", "associationTypeId"}]}`` (spec ``PublicAssociationsForObject``
  and ``AssociationSpec``) and its type must be the HubSpot-defined task-to-contact type,
  ``HUBSPOT_DEFINED`` 204 (HubSpot's list of default association type ids); duplicate
  ``objectWriteTraceId`` values; then every property value, exactly as for contacts (the
  ``Property values were not valid`` body; ``hs_timestamp`` is a datetime: epoch ms or ISO-8601
  with zone, else ``INVALID_LONG``), plus ``hubspot_owner_id`` must be the ``id`` of a
  non-archived owner, else ``INVALID_OWNER_ID`` "<value> is not a valid owner id" (the code
  HubSpot gives for an unknown owner, as reported on the HubSpot Community; the wording is the
  fake's).
- Then each input alone: an associated contact id that is not in ``srv.contact_ids`` fails that
  input only (HubSpot does not document this case; the fake takes the answer that forces errors to
  be mapped back by ``objectWriteTraceId``): its ``errors[]`` entry is a ``StandardError`` with
  ``category: "OBJECT_NOT_FOUND"``, ``errors[0].code`` ``OBJECT_NOT_FOUND`` and ``context:
  {"objectWriteTraceId": [...]}`` (``{}`` without one), the other inputs are created.
- Answers mirror the upserts: all created **201** (HubSpot's batch create answers 201 Created;
  the spec writes 200) ``{"status": "COMPLETE", "results", "startedAt", "completedAt"}``, some
  failed **207** with ``numErrors`` and ``errors``. Each result is a ``SimplePublicObject``: ``id``
  (numeric string, never equal to a contact id), ``properties`` (the values sent plus
  ``hs_object_id``, ``hs_createdate``, ``hs_lastmodifieddate``), ``createdAt``, ``updatedAt``,
  ``archived: false`` and the input's ``objectWriteTraceId``. Results come in reverse input order.
- ``POST /crm/v3/objects/tasks`` creates one (spec ``SimplePublicObjectInputForCreate``:
  ``properties`` and ``associations``), same rules: 201 with the object, 400 as above, 404
  ``OBJECT_NOT_FOUND`` for a missing contact.
- ``hasUniqueValue`` is stored but never enforced, so a retried create makes a second task: after
  an uncertain outcome a client must search for its own key before creating again.
- ``POST /crm/v3/objects/tasks/search`` (spec ``PublicObjectSearchRequest``; limits from
  https://developers.hubspot.com/docs/api/crm/search and the 2024-08-26 changelog "Expanded
  Filtering Capabilities"): keys ``filterGroups``, ``properties``, ``limit`` (1..200, default 10),
  ``after`` (a cursor string); ``sorts`` and ``query`` are refused as unsupported by the fake. At
  most 5 filter groups, 10 filters a group, 25 in all, each group at least one filter; groups are
  OR-ed, a group's filters AND-ed. A filter is ``{"propertyName", "operator", "value" | "values"}``
  on a task property or ``hs_object_id`` / ``hs_createdate`` / ``hs_lastmodifieddate``; operators
  ``EQ`` / ``NEQ`` (``value``), ``IN`` / ``NOT_IN`` (``values``), ``HAS_PROPERTY`` /
  ``NOT_HAS_PROPERTY``; the spec's other operators are refused as unsupported. Values compare as
  exact strings (case-sensitive, stricter). Paging past 10,000 results is 400 (HubSpot's search
  cap). The answer is ``{"total", "results", "paging"?}`` (spec
  ``CollectionResponseWithTotalSimplePublicObject``), oldest task first; each result carries
  ``hs_createdate``, ``hs_lastmodifieddate`` and ``hs_object_id`` (the tasks' default search
  properties) plus each requested property (null when unset; unknown names are ignored). Every
  malformed search is a 400 ``VALIDATION_ERROR`` saying what is wrong.
- Real HubSpot search is eventually consistent: a task just created can be missing from search for
  a few seconds. The fake is consistent (a created task is found at once), so it cannot prove that
  a client waits or retries its search; it counts search requests in the one rate-limit window
  (HubSpot exempts search from the ten-secondly limit and gives it its own per-second limit).

Faults target the new routes like any other: ``Fault(kind=..., path_prefix=TASKS_CREATE_PATH)``
(or ``TASKS_SEARCH_PATH``, ``OWNERS_PATH``); ``drop_after_apply`` creates the tasks and drops the
answer, the case a client resolves by searching.

Stores: ``srv.contacts`` (lower-cased email -> property values, ``email`` included),
``srv.contact_ids`` (email -> id), ``srv.upserts`` (inputs applied, all requests);
``srv.owners`` (list of owners); ``srv.tasks`` (task id -> ``{"properties": <values sent, empty
values dropped>, "associations": {"contacts": [contact ids]}}``, in creation order),
``srv.task_creates`` (tasks created, all requests).
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import count
from typing import Any, Unpack
from urllib.parse import parse_qsl

from .server import (
    FakeServer,
    RateLimit,
    Request,
    Response,
    Router,
    ServerOptions,
    new_id,
    now_iso,
    serve_from_command_line,
)

UPSERT_PATH = "/crm/v3/objects/contacts/batch/upsert"
CONTACTS_READ_PATH = "/crm/v3/objects/contacts/batch/read"
PROPERTIES_PATH = "/crm/v3/properties/contacts"
OBJECT_TYPES = ("contacts", "tasks")
PROPERTIES_ROUTE = "/crm/v3/properties/(?P<object_type>contacts|tasks)"
OWNERS_PATH = "/crm/v3/owners"
TASKS_PATH = "/crm/v3/objects/tasks"
TASKS_CREATE_PATH = f"{TASKS_PATH}/batch/create"
TASKS_SEARCH_PATH = f"{TASKS_PATH}/search"
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
# BatchReadInputSimplePublicObjectId keys in hubspot-crm-contacts-v3.json (all but idProperty required)
BATCH_READ_KEYS = {"idProperty", "inputs", "properties", "propertiesWithHistory"}
CONTACTS_NOT_FOUND = (
    "Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid."
)
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
# SimplePublicObjectBatchInputForCreate / SimplePublicObjectInputForCreate / PublicAssociationsForObject /
# AssociationSpec / PublicObjectSearchRequest / Filter keys in the tasks spec
TASK_CREATE_KEYS = {"associations", "objectWriteTraceId", "properties"}
TASK_SINGLE_CREATE_KEYS = {"associations", "properties"}
ASSOCIATION_KEYS = {"to", "types"}
ASSOCIATION_TYPE_KEYS = {"associationCategory", "associationTypeId"}
ASSOCIATION_CATEGORIES = {"HUBSPOT_DEFINED", "USER_DEFINED", "INTEGRATOR_DEFINED"}
TASK_TO_CONTACT = ("HUBSPOT_DEFINED", 204)
SEARCH_KEYS = {"after", "filterGroups", "limit", "properties", "query", "sorts"}
FILTER_KEYS = {"highValue", "operator", "propertyName", "value", "values"}
OPERATORS = {
    "EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY",
    "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN",
}  # fmt: skip
VALUE_OPERATORS = {"EQ", "NEQ"}
VALUES_OPERATORS = {"IN", "NOT_IN"}
PRESENCE_OPERATORS = {"HAS_PROPERTY", "NOT_HAS_PROPERTY"}
MAX_FILTER_GROUPS, MAX_GROUP_FILTERS, MAX_FILTERS = 5, 10, 25
MAX_SEARCH_LIMIT, DEFAULT_SEARCH_LIMIT, MAX_SEARCH_RESULTS = 200, 10, 10_000
TASK_READ_ONLY = ("hs_createdate", "hs_lastmodifieddate", "hs_object_id")
OWNER_QUERY_KEYS = {"after", "archived", "email", "limit"}
MAX_OWNERS_LIMIT, DEFAULT_OWNERS_LIMIT = 500, 100
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
TASK_STATUSES = [("NOT_STARTED", "Not started"), ("COMPLETED", "Completed")]
TASK_PRIORITIES = [("LOW", "Low"), ("MEDIUM", "Medium"), ("HIGH", "High")]
TASK_TYPES = [("EMAIL", "Email"), ("CALL", "Call"), ("TODO", "To-do")]
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
    """HubSpot CRM v3: contact and task properties, property groups, contact batch upsert by email,
    owners, task creation and task search."""

    def __init__(self, token: str = "pat-test", **options: Unpack[ServerOptions]) -> None:
        super().__init__(**options)
        self.token = token
        self.groups: dict[str, dict[str, Any]] = {
            "contactinformation": _group("contactinformation", "Contact information")
        }
        self.properties: dict[str, dict[str, Any]] = _default_properties()
        self.task_groups: dict[str, dict[str, Any]] = {
            "taskinformation": _group("taskinformation", "Task information")
        }
        self.task_properties: dict[str, dict[str, Any]] = _default_task_properties()
        self.contacts: dict[str, dict[str, str]] = {}
        self.contact_ids: dict[str, str] = {}
        self.reject_emails: set[str] = set()
        self.upserts = 0
        self.owners: list[dict[str, Any]] = []
        self.tasks: dict[str, dict[str, Any]] = {}
        self.task_creates = 0
        self._created_at: dict[str, str] = {}
        self._updated_at: dict[str, str] = {}
        self._task_stamps: dict[str, str] = {}
        self._next_id = count(151)
        self._next_owner = count(1)
        self._router = Router()
        self._router.add(UPSERT_PATH, "POST", self._batch_upsert)
        self._router.add(CONTACTS_READ_PATH, "POST", self._batch_read_contacts)
        self._router.add(PROPERTIES_ROUTE, "GET", self._list_properties)
        self._router.add(PROPERTIES_ROUTE, "POST", self._create_property)
        self._router.add(f"{PROPERTIES_ROUTE}/groups", "GET", self._list_groups)
        self._router.add(f"{PROPERTIES_ROUTE}/groups", "POST", self._create_group)
        self._router.add(f"{PROPERTIES_ROUTE}/groups/(?P<name>[^/]+)", "GET", self._get_group)
        self._router.add(f"{PROPERTIES_ROUTE}/(?P<name>[^/]+)", "GET", self._get_property)
        self._router.add(f"{PROPERTIES_ROUTE}/(?P<name>[^/]+)", "PATCH", self._update_property)
        self._router.add(f"{OWNERS_PATH}/?", "GET", self._list_owners)
        self._router.add(f"{OWNERS_PATH}/(?P<owner_id>[^/]+)", "GET", self._get_owner)
        self._router.add(TASKS_CREATE_PATH, "POST", self._batch_create_tasks)
        self._router.add(TASKS_SEARCH_PATH, "POST", self._search_tasks)
        self._router.add(TASKS_PATH, "POST", self._create_task)

    def add_owner(
        self, email: str, first_name: str = "", last_name: str = "", *, archived: bool = False
    ) -> dict[str, Any]:
        """Seed one owner (HubSpot's owners are read-only over the API) and return it."""
        with self.lock:
            number = next(self._next_owner)
            stamp = now_iso()
            user_id = 9_000 + number  # never equal to the owner id, as in HubSpot
            owner: dict[str, Any] = {
                "id": str(70_000 + number),
                "email": email,
                "type": "PERSON",
                "firstName": first_name,
                "lastName": last_name,
                "userId": None if archived else user_id,
                "userIdIncludingInactive": user_id,
                "createdAt": stamp,
                "updatedAt": stamp,
                "archived": archived,
                "teams": [],
            }
            self.owners.append(owner)
            return owner

    def _schema(self, object_type: str) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        """The (properties, groups) stores of an object type."""
        if object_type == "tasks":
            return self.task_properties, self.task_groups
        return self.properties, self.groups

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
        batch = request.path in (UPSERT_PATH, TASKS_CREATE_PATH)
        if batch and isinstance(body, dict) and isinstance(body.get("inputs"), list):
            return len(body["inputs"])
        return 1 if request.method == "POST" and request.path == TASKS_PATH else 0

    def handle_api(self, request: Request) -> Response:
        segments = request.path.split("/")
        if request.path.startswith("/crm/v3/properties/") and segments[4] not in OBJECT_TYPES:
            return self.error_response(404, "This fake only serves the contacts and tasks object types")
        return self.dispatch(self._router, request)

    # -- properties and groups -------------------------------------------------------------------

    def _list_properties(self, request: Request, object_type: str) -> Response:
        properties, _ = self._schema(object_type)
        with self.lock:
            return Response(200, {"results": [p for p in properties.values() if not p["archived"]]})

    def _get_property(self, request: Request, object_type: str, name: str) -> Response:
        with self.lock:
            found = self._live_property(object_type, name)
            return self._no_property(object_type, name) if found is None else Response(200, found)

    def _live_property(self, object_type: str, name: str) -> dict[str, Any] | None:
        found = self._schema(object_type)[0].get(name)
        return None if found is None or found["archived"] else found

    def _no_property(self, object_type: str, name: str) -> Response:
        return self.error_response(
            404, f"Unable to find property with name {name} for objectType {object_type}"
        )

    def _create_property(self, request: Request, object_type: str) -> Response:
        spec = request.body
        properties, groups = self._schema(object_type)
        with self.lock:
            problem = _property_create_problem(spec, groups)
            if problem is not None:
                return self.error_response(400, problem)
            if spec["name"] in properties:
                return self.error_response(409, f"Property named '{spec['name']}' already exists.")
            created = _property(spec, hubspot_defined=False)
            properties[spec["name"]] = created
            return Response(201, created)

    def _update_property(self, request: Request, object_type: str, name: str) -> Response:
        changes = request.body
        properties, groups = self._schema(object_type)
        with self.lock:
            current = self._live_property(object_type, name)
            if current is None:
                return self._no_property(object_type, name)
            if current["hubspotDefined"]:
                return self.error_response(
                    400, f"Property {name} is a HubSpot default: its definition is read-only"
                )
            problem = _property_update_problem(name, changes, current, groups)
            if problem is not None:
                return self.error_response(400, problem)
            updated = _property({**current, **changes, "name": name}, hubspot_defined=False)
            updated["createdAt"] = current["createdAt"]
            properties[name] = updated
            return Response(200, updated)

    def _list_groups(self, request: Request, object_type: str) -> Response:
        _, groups = self._schema(object_type)
        with self.lock:
            return Response(200, {"results": list(groups.values())})

    def _get_group(self, request: Request, object_type: str, name: str) -> Response:
        _, groups = self._schema(object_type)
        with self.lock:
            found = groups.get(name)
            if found is None:
                return self.error_response(
                    404, f"Unable to find property group {name} for objectType {object_type}"
                )
            return Response(200, found)

    def _create_group(self, request: Request, object_type: str) -> Response:
        spec = request.body
        _, groups = self._schema(object_type)
        problem = _group_create_problem(spec)
        if problem is not None:
            return self.error_response(400, problem)
        with self.lock:
            if spec["name"] in groups:
                return self.error_response(409, f"Property group named '{spec['name']}' already exists.")
            created = _group(spec["name"], spec["label"], spec.get("displayOrder", -1))
            groups[spec["name"]] = created
            return Response(201, created)

    # -- owners ----------------------------------------------------------------------------------

    def _list_owners(self, request: Request) -> Response:
        query = _owners_query(request.query)
        if isinstance(query, str):
            return self.error_response(400, query)
        email, archived, offset, limit = query
        with self.lock:
            found = [
                owner
                for owner in self.owners
                if owner["archived"] == archived and (email is None or owner["email"].lower() == email)
            ]
        return Response(200, _page(found, offset, limit))

    def _get_owner(self, request: Request, owner_id: str) -> Response:
        with self.lock:
            for owner in self.owners:
                if owner["id"] == owner_id:
                    return Response(200, owner)
        return self.error_response(404, f"Unable to find owner with id {owner_id}")

    def _owner_ids(self) -> set[str]:
        return {owner["id"] for owner in self.owners if not owner["archived"]}

    # -- tasks -----------------------------------------------------------------------------------

    def _batch_create_tasks(self, request: Request) -> Response:
        inputs = _batch_inputs(request.body, _task_input_problem)
        if isinstance(inputs, str):
            return self.error_response(400, inputs)
        started = now_iso()
        created = self._create_tasks(inputs)
        if isinstance(created, Response):
            return created
        return _batch_response(started, *created, status=201)

    def _create_task(self, request: Request) -> Response:
        problem = _task_input_problem(request.body, TASK_SINGLE_CREATE_KEYS)
        if problem is not None:
            return self.error_response(400, f"Invalid input JSON: {problem}")
        created = self._create_tasks([request.body])
        if isinstance(created, Response):
            return created
        results, errors = created
        if errors:
            return Response(404, {**errors[0], "correlationId": new_id()})
        return Response(201, results[0])

    def _create_tasks(self, inputs: list[dict[str, Any]]) -> tuple[list[Any], list[Any]] | Response:
        """Validate the values of every input (whole-request 400), then create each input whose
        contacts exist: (results, errors)."""
        with self.lock:
            invalid = [v for item in inputs for v in self._invalid_task_values(item["properties"])]
            if invalid:
                return _invalid_values_response(invalid)
            results: list[dict[str, Any]] = []
            errors: list[dict[str, Any]] = []
            known = set(self.contact_ids.values())
            for item in inputs:
                missing = [i for i in _associated_contacts(item) if i not in known]
                if missing:
                    errors.append(_missing_contacts_error(item, missing))
                else:
                    results.append(self._store_task(item))
        return results, errors

    def _invalid_task_values(self, values: dict[str, str]) -> list[dict[str, Any]]:
        found = _invalid_values(values, self.task_properties)
        owner = values.get("hubspot_owner_id", "")
        if owner and owner not in self._owner_ids():
            found.append(
                _validation_result(
                    "hubspot_owner_id", owner, "INVALID_OWNER_ID", f"{owner} is not a valid owner id"
                )
            )
        return found

    def _store_task(self, item: dict[str, Any]) -> dict[str, Any]:
        task_id = str(next(self._next_id))
        self.tasks[task_id] = {
            "properties": {name: value for name, value in item["properties"].items() if value != ""},
            "associations": {"contacts": _associated_contacts(item)},
        }
        self._task_stamps[task_id] = now_iso()
        self.task_creates += 1
        return self._task_result(task_id, item.get("objectWriteTraceId"))

    def _task_values(self, task_id: str) -> dict[str, str]:
        """The task's stored values plus the read-only ones HubSpot adds."""
        stamp = self._task_stamps[task_id]
        read_only = dict(zip(TASK_READ_ONLY, (stamp, stamp, task_id), strict=True))
        return {**self.tasks[task_id]["properties"], **read_only}

    def _task_result(
        self, task_id: str, trace_id: str | None, requested: Sequence[str] | None = None
    ) -> dict[str, Any]:
        values: dict[str, str | None] = dict(self._task_values(task_id))
        if requested is not None:
            values = {name: values.get(name) for name in (*requested, *TASK_READ_ONLY)}
        stamp = self._task_stamps[task_id]
        return _simple_object(task_id, values, stamp, stamp, trace_id)

    def _search_tasks(self, request: Request) -> Response:
        with self.lock:
            search = _search_request(request.body, {*self.task_properties, *TASK_READ_ONLY})
            if isinstance(search, str):
                return self.error_response(400, search)
            matched = [
                task_id
                for task_id in self.tasks
                if _matches(self._task_values(task_id), search.filter_groups)
            ]
            page = _page(matched, search.offset, search.limit)
            page["results"] = [
                self._task_result(task_id, None, search.properties) for task_id in page["results"]
            ]
        return Response(200, {"total": len(matched), **page})

    # -- batch read of contacts ------------------------------------------------------------------

    def _batch_read_contacts(self, request: Request) -> Response:
        read = _batch_read_request(request.query, request.body)
        if isinstance(read, str):
            return self.error_response(400, read)
        by_email, ids, requested = read
        started = now_iso()
        with self.lock:
            emails_by_id = {contact_id: email for email, contact_id in self.contact_ids.items()}
            found: dict[str, str] = {}  # email -> contact id, each contact once
            missing: list[str] = []
            for given in ids:
                email = given.lower() if by_email else emails_by_id.get(given)
                if email is None or email not in self.contact_ids:
                    missing.append(given)
                else:
                    found.setdefault(email, self.contact_ids[email])
            results = [self._read_result(email, requested) for email in found]
        body: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results[::-1],
            "startedAt": started,
            "completedAt": now_iso(),
        }
        if not missing:
            return Response(200, body)
        error = {
            "status": "error",
            "category": "OBJECT_NOT_FOUND",
            "message": CONTACTS_NOT_FOUND,
            "context": {"ids": missing},
            "errors": [],
            "links": {},
        }
        return Response(207, {**body, "numErrors": 1, "errors": [error]})

    def _read_result(self, email: str, requested: list[str]) -> dict[str, Any]:
        contact_id, created, updated = (
            self.contact_ids[email],
            self._created_at[email],
            self._updated_at[email],
        )
        stored = self.contacts[email]
        values: dict[str, Any] = {name: stored.get(name) for name in requested if name in self.properties}
        values |= {"hs_object_id": contact_id, "createdate": created, "lastmodifieddate": updated}
        return _simple_object(contact_id, values, created, updated, None)

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
        return _batch_response(started, results, errors, status=200)

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
        return {**_simple_object(contact_id, properties, created, updated, trace_id), "new": is_new}


# -- batch read validation -----------------------------------------------------------------------


def _batch_read_request(query: str, body: Any) -> tuple[bool, list[str], list[str]] | str:
    """(by email, the ids in order, the properties asked for) of a contacts batch read, or why not."""
    if dict(parse_qsl(query, keep_blank_values=True)) not in ({}, {"archived": "false"}):
        return f"Unsupported query {query!r}: this fake reads live contacts only (archived=false)"
    problem = _shape_problem(
        body,
        BATCH_READ_KEYS,
        "Invalid input JSON: expected a batch read object",
        "Invalid input JSON: unknown field(s) {}",
    )
    if problem is not None:
        return problem
    for required in ("inputs", "properties", "propertiesWithHistory"):
        if required not in body:
            return f"Invalid input JSON: {required} is required"
    if body.get("idProperty", "email") != "email":
        return 'idProperty must be "email" or absent (this fake reads contacts by email or id only)'
    inputs = body["inputs"]
    if not isinstance(inputs, list) or not 1 <= len(inputs) <= MAX_INPUTS:
        count = len(inputs) if isinstance(inputs, list) else inputs
        return f"Batch input must hold between 1 and {MAX_INPUTS} inputs, got {count}"
    for index, item in enumerate(inputs):
        if not isinstance(item, dict) or set(item) != {"id"} or not isinstance(item["id"], str):
            return f'Invalid input JSON: inputs[{index}] must be {{"id": "<string>"}}'
    for key in ("properties", "propertiesWithHistory"):
        names = body[key]
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            return f"Invalid input JSON: {key} must be a list of property names"
    if body["propertiesWithHistory"]:
        return "propertiesWithHistory is not supported by this fake (it keeps no history): send []"
    return "idProperty" in body, [item["id"] for item in inputs], list(dict.fromkeys(body["properties"]))


# -- upsert validation ---------------------------------------------------------------------------


def _batch_inputs(body: Any, input_problem: Callable[[Any], str | None]) -> list[dict[str, Any]] | str:
    """The batch's inputs, or why the whole batch is refused: the envelope, 1..100 inputs, each
    input's shape (``input_problem``), then no objectWriteTraceId twice."""
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list) or set(body) != {"inputs"}:
        return 'Invalid input JSON: expected {"inputs": [...]}'
    inputs = body["inputs"]
    if not 1 <= len(inputs) <= MAX_INPUTS:
        return f"Batch input must hold between 1 and {MAX_INPUTS} inputs, got {len(inputs)}"
    problem = _each_problem(inputs, input_problem, "Invalid input JSON: inputs")
    return problem or _trace_duplicates_problem(inputs) or inputs


def _each_problem(items: list[Any], problem_of: Callable[[Any], str | None], label: str) -> str | None:
    """``label[index]: problem`` for the first item ``problem_of`` refuses, or None."""
    for index, item in enumerate(items):
        problem = problem_of(item)
        if problem is not None:
            return f"{label}[{index}]: {problem}"
    return None


def _upsert_inputs(body: Any) -> list[dict[str, Any]] | str:
    """The batch's inputs, or why the whole batch is refused (rules 1-3 of the module docstring)."""
    inputs = _batch_inputs(body, _input_shape_problem)
    return inputs if isinstance(inputs, str) else _duplicates_problem(inputs) or inputs


def _input_shape_problem(item: Any) -> str | None:
    problem = _shape_problem(
        item,
        UPSERT_INPUT_KEYS,
        "each input must be an object",
        f"unknown field(s) {{}}; allowed: {sorted(UPSERT_INPUT_KEYS)}",
    )
    if problem is not None:
        return problem
    if not isinstance(item.get("id"), str):
        return "id is required and must be a string"
    if item.get("idProperty") != "email":
        return 'idProperty must be "email" (this fake upserts contacts by email only)'
    problem = _properties_problem(item)
    if problem is not None:
        return problem
    email = item["properties"].get("email")
    if email is not None and email.lower() != item["id"].lower():
        return f"properties.email {email!r} differs from id {item['id']!r}"
    return None


def _properties_problem(item: dict[str, Any]) -> str | None:
    """A write input's ``objectWriteTraceId`` (optional string) and ``properties`` (string values)."""
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
    return None


def _duplicates_problem(inputs: list[dict[str, Any]]) -> str | None:
    ids = [item["id"].lower() for item in inputs]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        return f"Duplicate IDs found in batch input: {repeated}. IDs must be unique"
    return None


def _trace_duplicates_problem(inputs: list[dict[str, Any]]) -> str | None:
    traces = [item["objectWriteTraceId"] for item in inputs if "objectWriteTraceId" in item]
    repeated = sorted({t for t in traces if traces.count(t) > 1})
    if repeated:
        return f"Duplicate objectWriteTraceId values in batch input: {repeated}. They must be unique"
    return None


def _shape_problem(
    value: Any, allowed: set[str], not_object: str, unknown_message: str = "unknown field(s) {}"
) -> str | None:
    """``not_object`` when ``value`` is not a JSON object; ``unknown_message`` filled with the keys
    outside ``allowed`` when there are any; else None."""
    if not isinstance(value, dict):
        return not_object
    unknown = sorted(set(value) - allowed)
    return unknown_message.format(unknown) if unknown else None


def _batch_response(
    started: str, results: list[dict[str, Any]], errors: list[dict[str, Any]], status: int
) -> Response:
    """``status`` when every input was applied, else 207 with the errors; results reversed."""
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results[::-1],
        "startedAt": started,
        "completedAt": now_iso(),
    }
    if not errors:
        return Response(status, body)
    return Response(207, {**body, "numErrors": len(errors), "errors": errors})


def _simple_object(
    object_id: str, properties: dict[str, Any], created: str, updated: str, trace_id: str | None
) -> dict[str, Any]:
    """The spec's ``SimplePublicObject``."""
    result: dict[str, Any] = {
        "id": object_id,
        "properties": properties,
        "createdAt": created,
        "updatedAt": updated,
        "archived": False,
    }
    if trace_id is not None:
        result["objectWriteTraceId"] = trace_id
    return result


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
            found.append(_validation_result(name, value, *problem))
    return found


def _validation_result(name: str, value: str, code: str, message: str) -> dict[str, Any]:
    """One entry of HubSpot's "Property values were not valid" list."""
    return {
        "isValid": False,
        "message": message,
        "error": code,
        "name": name,
        "localizedErrorMessage": message,
        "propertyValue": value,
    }


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
    """The spec's ``StandardError`` for one upsert input that failed on its own."""
    message = f"Email address {item['id']} is invalid"
    detail = {"message": message, "code": "INVALID_EMAIL", "context": {"propertyName": ["email"]}}
    return _standard_error(item, "VALIDATION_ERROR", detail)


def _missing_contacts_error(item: dict[str, Any], missing: list[str]) -> dict[str, Any]:
    """The ``StandardError`` of a task input associated with contacts that do not exist."""
    message = f"No contact exists with id(s) {missing}: the task cannot be associated with them"
    detail = {"message": message, "code": "OBJECT_NOT_FOUND", "context": {"toObjectId": missing}}
    return _standard_error(item, "OBJECT_NOT_FOUND", detail)


def _standard_error(item: dict[str, Any], category: str, detail: dict[str, Any]) -> dict[str, Any]:
    """The spec's ``StandardError`` for one input, mapped back by its ``objectWriteTraceId``."""
    trace_id = item.get("objectWriteTraceId")
    return {
        "status": "error",
        "category": category,
        "message": detail["message"],
        "context": {"objectWriteTraceId": [trace_id]} if trace_id is not None else {},
        "errors": [detail],
        "links": {},
    }


# -- tasks ---------------------------------------------------------------------------------------


def _task_input_problem(item: Any, allowed: set[str] = TASK_CREATE_KEYS) -> str | None:
    """A task create input's shape: keys, string values, ``hs_timestamp``, associations."""
    problem = _shape_problem(item, allowed, "each input must be an object") or _properties_problem(item)
    if problem is not None:
        return problem
    if not item["properties"].get("hs_timestamp"):
        return "properties.hs_timestamp is required (the task's due date: epoch milliseconds or ISO-8601)"
    associations = item.get("associations", [])
    if not isinstance(associations, list):
        return "associations must be a list"
    return _each_problem(associations, _association_problem, "associations")


def _association_problem(association: Any) -> str | None:
    problem = _shape_problem(association, ASSOCIATION_KEYS, "each association must be an object")
    if problem is not None:
        return problem
    target = association.get("to")
    if not isinstance(target, dict) or set(target) != {"id"} or not isinstance(target["id"], str):
        return 'to must be {"id": "<record id>"} (a string)'
    types = association.get("types")
    if not isinstance(types, list) or not types:
        return "types must be a non-empty list of association types"
    for spec in types:
        problem = _shape_problem(spec, ASSOCIATION_TYPE_KEYS, "each association type must be an object")
        if problem is not None:
            return problem
        category, type_id = spec.get("associationCategory"), spec.get("associationTypeId")
        if category not in ASSOCIATION_CATEGORIES:
            return f"associationCategory must be one of {sorted(ASSOCIATION_CATEGORIES)}, got {category!r}"
        if type(type_id) is not int:
            return f"associationTypeId must be an integer, got {json.dumps(type_id)}"
        if (category, type_id) != TASK_TO_CONTACT:
            return (
                f"association type {category} {type_id} is not supported: this fake associates tasks "
                f"with contacts only ({TASK_TO_CONTACT[0]} {TASK_TO_CONTACT[1]})"
            )
    return None


def _associated_contacts(item: dict[str, Any]) -> list[str]:
    """The contact ids a valid task input is associated with, each once, in order."""
    return list(dict.fromkeys(a["to"]["id"] for a in item.get("associations", [])))


@dataclass(frozen=True)
class _Search:
    filter_groups: list[list[dict[str, Any]]]
    properties: list[str]
    offset: int
    limit: int


def _search_request(body: Any, searchable: set[str]) -> _Search | str:
    """The parsed search, or why it is refused (module docstring, *Tasks*)."""
    problem = _shape_problem(
        body,
        SEARCH_KEYS,
        "Invalid input JSON: expected a search request object",
        "Invalid input JSON: unknown field(s) {}",
    )
    if problem is not None:
        return problem
    for unsupported in ("query", "sorts"):
        if body.get(unsupported):
            return f"{unsupported} is not supported by this fake (filter with filterGroups)"
    groups = _filter_groups(body.get("filterGroups", []), searchable)
    if isinstance(groups, str):
        return groups
    requested = body.get("properties", [])
    if not isinstance(requested, list) or not all(isinstance(name, str) for name in requested):
        return "properties must be a list of property names"
    limit = body.get("limit", DEFAULT_SEARCH_LIMIT)
    if type(limit) is not int or not 1 <= limit <= MAX_SEARCH_LIMIT:
        return f"limit must be an integer between 1 and {MAX_SEARCH_LIMIT}, got {json.dumps(limit)}"
    after = body.get("after", "0")
    if not isinstance(after, str) or not after.isdigit():
        return f"after must be the paging cursor string of paging.next.after, got {json.dumps(after)}"
    if int(after) + limit > MAX_SEARCH_RESULTS:
        return f"Search results are limited to {MAX_SEARCH_RESULTS}: after + limit cannot exceed it"
    properties = [
        name for name in dict.fromkeys(requested) if name in searchable and name not in TASK_READ_ONLY
    ]
    return _Search(groups, properties, int(after), limit)


def _filter_groups(groups: Any, searchable: set[str]) -> list[list[dict[str, Any]]] | str:
    if not isinstance(groups, list) or len(groups) > MAX_FILTER_GROUPS:
        return f"filterGroups must be a list of at most {MAX_FILTER_GROUPS} filter groups"
    parsed: list[list[dict[str, Any]]] = []
    for index, group in enumerate(groups):
        where = f"filterGroups[{index}]"
        problem = _shape_problem(group, {"filters"}, f"{where} must be an object")
        if problem is not None:
            return problem
        filters = group.get("filters")
        if not isinstance(filters, list) or not 1 <= len(filters) <= MAX_GROUP_FILTERS:
            return f"{where}.filters must be a list of 1 to {MAX_GROUP_FILTERS} filters"
        for position, flt in enumerate(filters):
            problem = _filter_problem(flt, searchable, f"{where}.filters[{position}]")
            if problem is not None:
                return problem
        parsed.append(filters)
    if sum(len(filters) for filters in parsed) > MAX_FILTERS:
        return f"A search can hold at most {MAX_FILTERS} filters in all"
    return parsed


def _filter_problem(flt: Any, searchable: set[str], where: str) -> str | None:
    problem = _shape_problem(
        flt, FILTER_KEYS, f"{where} must be an object", f"{where}: unknown field(s) {{}}"
    )
    if problem is not None:
        return problem
    name, operator = flt.get("propertyName"), flt.get("operator")
    if name not in searchable:
        return f"{where}: propertyName {json.dumps(name)} is not a task property"
    if operator not in OPERATORS:
        return f"{where}: operator {json.dumps(operator)} is not one of {sorted(OPERATORS)}"
    supported = VALUE_OPERATORS | VALUES_OPERATORS | PRESENCE_OPERATORS
    if operator not in supported:
        return f"{where}: operator {operator} is not supported by this fake (supported: {sorted(supported)})"
    wanted = (
        {"value"} if operator in VALUE_OPERATORS else {"values"} if operator in VALUES_OPERATORS else set()
    )
    given = set(flt) & {"value", "values", "highValue"}
    if given != wanted:
        return f"{where}: operator {operator} takes {sorted(wanted) or 'no value'}, got {sorted(given)}"
    if "value" in wanted and not isinstance(flt["value"], str):
        return f"{where}: value must be a string"
    values = flt.get("values")
    if "values" in wanted and (
        not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values)
    ):
        return f"{where}: values must be a non-empty list of strings"
    return None


def _matches(values: dict[str, str], groups: list[list[dict[str, Any]]]) -> bool:
    """Groups OR-ed, a group's filters AND-ed; no groups: everything."""
    return not groups or any(all(_filter_matches(values, flt) for flt in group) for group in groups)


def _filter_matches(values: dict[str, str], flt: dict[str, Any]) -> bool:
    operator, actual = flt["operator"], values.get(flt["propertyName"])
    if operator in PRESENCE_OPERATORS:
        return (actual is not None) == (operator == "HAS_PROPERTY")
    hit = actual == flt["value"] if operator in VALUE_OPERATORS else actual in flt["values"]
    return hit == (operator in ("EQ", "IN"))


# -- owners and paging ---------------------------------------------------------------------------


def _owners_query(query: str) -> tuple[str | None, bool, int, int] | str:
    """(email lower-cased or None, archived, offset, limit) of a ``GET /crm/v3/owners``, or why not."""
    params = dict(parse_qsl(query, keep_blank_values=True))
    unknown = sorted(set(params) - OWNER_QUERY_KEYS)
    if unknown:
        return f"Unknown query parameter(s) {unknown}; allowed: {sorted(OWNER_QUERY_KEYS)}"
    limit = params.get("limit", str(DEFAULT_OWNERS_LIMIT))
    if not limit.isdigit() or not 1 <= int(limit) <= MAX_OWNERS_LIMIT:
        return f"limit must be an integer between 1 and {MAX_OWNERS_LIMIT}, got {limit!r}"
    after = params.get("after", "0")
    if not after.isdigit():
        return f"after must be the paging cursor of paging.next.after, got {after!r}"
    archived = params.get("archived", "false")
    if archived not in ("true", "false"):
        return f"archived must be true or false, got {archived!r}"
    email = params.get("email")
    return (None if email is None else email.lower()), archived == "true", int(after), int(limit)


def _page(items: list[Any], offset: int, limit: int) -> dict[str, Any]:
    """``{"results", "paging"}`` of one page; ``paging.next`` only when more items follow."""
    page: dict[str, Any] = {"results": items[offset : offset + limit]}
    if offset + limit < len(items):
        after = str(offset + limit)
        page["paging"] = {"next": {"after": after, "link": f"?after={after}"}}
    return page


# -- property definitions ------------------------------------------------------------------------


def _property_create_problem(spec: Any, groups: dict[str, Any]) -> str | None:
    problem = _shape_problem(
        spec,
        PROPERTY_CREATE_KEYS,
        "Invalid input JSON: expected a property object",
        "Invalid input JSON: unknown field(s) {}",
    )
    if problem is not None:
        return problem
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
    problem = _each_problem(options, _option_problem, "options")
    if problem is not None:
        return problem
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
    problem = _shape_problem(option, OPTION_KEYS, "each option must be an object")
    if problem is not None:
        return problem
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
    problem = _shape_problem(
        spec,
        GROUP_CREATE_KEYS,
        "Invalid input JSON: expected a property group object",
        "Invalid input JSON: unknown field(s) {}",
    )
    if problem is not None:
        return problem
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


def _defined(
    group: str, name: str, label: str, kind: str = "string", field_type: str = "text",
    options: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:  # fmt: skip
    """A HubSpot-defined property; ``options`` are (value, label) pairs."""
    spec = {
        "name": name,
        "label": label,
        "type": kind,
        "fieldType": field_type,
        "groupName": group,
        "options": [
            {"label": text, "value": value, "hidden": False, "displayOrder": index}
            for index, (value, text) in enumerate(options)
        ],
    }
    return _property(spec, hubspot_defined=True)


def _default_properties() -> dict[str, dict[str, Any]]:
    group = "contactinformation"
    defaults = [
        _defined(group, "email", "Email"),
        _defined(group, "firstname", "First Name"),
        _defined(group, "lastname", "Last Name"),
        _defined(group, "company", "Company Name"),
        _defined(group, "phone", "Phone Number"),
        _defined(group, "lifecyclestage", "Lifecycle Stage", "enumeration", "radio", LIFECYCLE_STAGES),
    ]
    return {p["name"]: p for p in defaults}


def _default_task_properties() -> dict[str, dict[str, Any]]:
    group = "taskinformation"
    defaults = [
        _defined(group, "hs_timestamp", "Due date", "datetime", "date"),
        _defined(group, "hs_task_subject", "Task Title"),
        _defined(group, "hs_task_body", "Notes", "string", "textarea"),
        _defined(group, "hs_task_status", "Task Status", "enumeration", "select", TASK_STATUSES),
        _defined(group, "hs_task_priority", "Priority", "enumeration", "select", TASK_PRIORITIES),
        _defined(group, "hs_task_type", "Task Type", "enumeration", "select", TASK_TYPES),
        _defined(group, "hs_task_reminders", "Reminder", "number", "number"),
        _defined(group, "hubspot_owner_id", "Assigned to"),
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

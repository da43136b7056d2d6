"""A local Customer.io Track API as strict as the real one.

Customer.io publishes no machine-readable spec; the rules below come from its documentation and its
own SDK code, cited per rule. Where they are silent the fake takes the stricter plausible behaviour
and says so here.

Authentication: HTTP Basic ``site_id:api_key`` (https://docs.customer.io/api/track/), else 401
``{"meta": {"error": "Unauthorized request"}}``.

Errors: 400 with ``{"meta": {"error": "<message>"}}`` for a request the API refuses as a whole
(https://docs.customer.io/journeys/invalid-api-requests/, which lists the messages reused here).
A body that is not ``Content-Type: application/json`` gets 415 (the docs mark the header required).

Limits (the docs above; docs/definitions.md#customerio; api-specs/README.md), checked per identify:
- at most 300 attributes ("cannot identify more than 300 attributes in one request");
- attribute names at most 150 bytes ("attribute name cannot be longer than 150 bytes");
- values at most 1000 bytes ("value for attribute 'NAME' cannot be longer than 1000 bytes"):
  UTF-8 bytes of a string, compact JSON of a number, boolean, list or object (stricter choice);
- the person ``id`` is a non-empty string of at most 150 characters (reserved attribute ``id``:
  https://docs.customer.io/messaging/people/reserved-attributes/).

``POST /api/v2/batch`` ``{"batch": [{"type": "person", "identifiers": {"id": ...}, "action":
"identify", "attributes": {...}}]}``:
- a body larger than 500 KB (read as 500,000 bytes, the stricter reading of "Your request must be
  smaller than 500kb") gets 413 before it is parsed; a body that is not ``{"batch": [non-empty
  list]}`` gets 400 ``{"meta": {"error": ...}}``; nothing is applied.
- each item is checked alone. An invalid item gets one entry in ``errors``; the valid items are
  applied. The entry shape is the one in Customer.io's own SDK (``io.customer.shared.tracking``
  ``TrackingError``: ``batch_index``, ``reason`` in ``invalid`` / ``parse_error`` / ``required``,
  ``field``, ``message``), e.g. ``{"batch_index": 1, "reason": "invalid", "field":
  "attributes.plan", "message": "value for attribute 'plan' cannot be longer than 1000 bytes"}``.
- some items invalid: **207** ``{"errors": [...]}`` (Multi-Status, as the Track API and clients
  such as healthjoy/async-customerio and segmentio/action-destinations#3816 describe). Customer.io
  has also been seen answering **200** with a non-empty ``errors`` array, so a client must read
  ``errors`` on every 2xx: ``partial_status=200`` makes the fake do that.
- every item invalid: 400 ``{"errors": [...]}`` with the same entries (stricter choice); nothing
  applied. All valid: 200 ``{}``.
- item rules: an object of at most 32 KB (compact JSON, the stricter measure); ``type`` must be
  ``"person"`` (``object`` and ``delivery`` exist in the real API but not in this fake);
  ``action`` one of ``identify``, ``event``, ``delete``, ``suppress``, ``unsuppress`` (other real
  person actions are refused as unsupported, unknown ones as invalid); ``identifiers`` exactly
  ``{"id": <string>}`` (the sync identifies by customer id; ``email`` / ``cio_id`` are refused);
  ``attributes`` an object within the limits above (identify).
- ``event`` items have the Track v2 ``person_event`` shape (Customer.io's Track v2 OpenAPI,
  ``components/schemas/person_event``; the same shape segmentio/action-destinations' Customer.io
  ``trackEvent`` batches): ``name`` (required), ``id`` (the de-duplication ULID, see *Events*),
  ``timestamp`` (unix seconds) and ``attributes`` (the event's data), each checked by the event
  rules below with ``field`` naming the key. Keys outside that shape are refused (``invalid``, the
  key as ``field``), stricter than Customer.io, so a v1-style ``data`` cannot be lost unnoticed.

``PUT /api/v1/customers/{id}``: a JSON object of attributes, same limits; 400 ``{"meta":
{"error": ...}}`` when over a limit, else 200 ``{}``.

Events (``POST /api/v1/customers/{id}/events`` and the v2 ``event`` action). The v1 body is the
Track API's ``eventsRequest`` "Standard event" (https://docs.customer.io/integrations/api/track/,
"Track a customer event"): ``{"name", "data", "timestamp", "id", "type"}``; other keys are refused
(stricter), and ``type`` may only be ``"event"`` (page and screen events are not in this fake).
Each rule is a 400 ``{"meta": {"error": ...}}`` (v1) or an ``errors[]`` entry (v2), with the
messages of https://docs.customer.io/journeys/invalid-api-requests/ where it lists one:
- ``name`` required, a string, not blank: "event name must not be blank"; at most 100 UTF-8 bytes
  after trimming: "event name cannot be longer than 100 bytes" (the docs also list "must be less
  than 500 characters"; 100 bytes is the stricter). Customer.io trims leading and trailing spaces
  from event names ("Track a customer event"); the fake stores the trimmed name.
- ``data`` (v2 ``attributes``) an object: 'event data must be a hash (e.g., send "data":{}
  instead of "data":"")'; at most 100,000 bytes of compact JSON: "event data cannot be longer
  than 100000 bytes".
- ``timestamp`` an integer of unix *seconds* (the schema's ``integer``, "unix timestamp"); the fake
  also refuses negatives, booleans and values above 9,999,999,999 (year 2286: milliseconds sent by
  mistake), the stricter choice: "timestamp must be a unix timestamp in seconds (an integer)".
- ``id`` de-duplicates: "If two events contain the same id, we won't process the event multiple
  times. The id must be a ULID" (https://customer.io/docs/journeys/events/#deduplicating-events;
  the v2 schema: "A valid ULID used to deduplicate events"). The fake takes the strict reading: a
  canonical ULID, 26 upper-case Crockford base32 characters (no I, L, O, U) whose first is 0-7
  (https://github.com/ulid/spec), else "id must be a ULID: 26 characters of Crockford base32 (0-9
  and A-Z without I, L, O, U), the first 0-7". A deterministic id is fine as long as it is a
  ULID; Customer.io does not read the time part (its community answer "Why ULID ids are required
  for deduplicating events").
An accepted event is appended, in request order (and batch order), to ``srv.events[person_id]``
as ``{"name", "data", "timestamp", "id"}`` (``data`` ``{}``, ``timestamp`` / ``id`` None when not
sent). An event whose ``id`` was already accepted is answered like any other (200, or no
``errors`` entry) but not recorded again, and counted in ``srv.duplicate_events``. The docs do not
scope the id to a person, so the fake de-duplicates across the workspace: an id reused for another
person is dropped too (stricter: a client must make ids unique per person and event). Events for a
suppressed person are accepted and ignored, like identifies; an event neither creates nor changes
``srv.people``.

``POST /api/v1/customers/{id}/suppress`` (and the v2 ``suppress`` action): deletes the person, keeps
the id suppressed and records it in ``srv.suppress_calls`` so tests can prove it never happens.
Identifying a suppressed id is accepted (200) but ignored, as Customer.io documents that suppression
"prevents the identifier from being re-added". ``DELETE /api/v1/customers/{id}`` (and the v2
``delete`` action) deletes the person and is recorded in ``srv.delete_calls``.

Identify merges into ``srv.people[id]`` keeping JSON types (booleans stay booleans, numbers stay
numbers). An attribute sent as ``null`` or ``""`` is removed from the person (Customer.io removes an
attribute sent with an empty value; null is treated the same). ``srv.identifies`` counts identifies
applied. A 2xx means accepted; for the batch endpoint, accepted except the items in ``errors``.

Rate limiting (docs/definitions.md#rate-limits: about 100 requests per second): beyond a ``RateLimit``, 429
``{"meta": {"error": "Too Many Requests"}}`` without ``Retry-After``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import re
from typing import Any, Unpack

from .server import FakeServer, RateLimit, Request, Response, Router, ServerOptions, serve_from_command_line

BATCH_PATH = "/api/v2/batch"
CUSTOMER_PATH = "/api/v1/customers/(?P<person_id>[^/]+)"
MAX_BATCH_BYTES = 500_000
MAX_ITEM_BYTES = 32_000
MAX_ATTRIBUTES = 300
MAX_NAME_BYTES = 150
MAX_VALUE_BYTES = 1000
MAX_ID_CHARS = 150
ENTITY_TYPES = {"person", "object", "delivery"}
PERSON_ACTIONS = {
    "identify", "delete", "event", "screen", "page", "add_relationships", "delete_relationships",
    "add_device", "delete_device", "merge", "suppress", "unsuppress",
}  # fmt: skip
SUPPORTED_ACTIONS = {"identify", "event", "delete", "suppress", "unsuppress"}
V1_EVENT_KEYS = {"name", "data", "timestamp", "id", "type"}
V2_EVENT_KEYS = {"type", "identifiers", "action", "name", "id", "timestamp", "attributes"}
MAX_EVENT_NAME_BYTES = 100
MAX_EVENT_DATA_BYTES = 100_000
MAX_TIMESTAMP_S = 9_999_999_999  # 2286-11-20: anything larger is milliseconds
ULID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")
NOT_A_HASH = 'event data must be a hash (e.g., send "data":{} instead of "data":"")'
NOT_A_ULID = (
    "id must be a ULID: 26 characters of Crockford base32 (0-9 and A-Z without I, L, O, U), the first 0-7"
)


class FakeCustomerIO(FakeServer):
    """Customer.io Track API: v2 batch, v1 identify, v1 events, v1 suppress and delete."""

    def __init__(
        self,
        site_id: str = "site-test",
        api_key: str = "key-test",
        partial_status: int = 207,
        **options: Unpack[ServerOptions],
    ) -> None:
        super().__init__(**options)
        self.site_id = site_id
        self.api_key = api_key
        self.partial_status = partial_status
        self.people: dict[str, dict[str, Any]] = {}
        self.suppressed: set[str] = set()
        self.suppress_calls: list[str] = []
        self.delete_calls: list[str] = []
        self.identifies = 0
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.duplicate_events = 0
        self._event_ids: set[str] = set()
        self._router = Router()
        self._router.add(BATCH_PATH, "POST", self._batch)
        self._router.add(CUSTOMER_PATH, "PUT", self._identify_v1)
        self._router.add(CUSTOMER_PATH, "DELETE", self._delete_v1)
        self._router.add(f"{CUSTOMER_PATH}/suppress", "POST", self._suppress_v1)
        self._router.add(f"{CUSTOMER_PATH}/events", "POST", self._track_v1)

    # -- the API's own answers -------------------------------------------------------------------

    def authenticate(self, request: Request) -> Response | None:
        if _basic_credentials(request.header("authorization")) == (self.site_id, self.api_key):
            return None
        return Response(401, {"meta": {"error": "Unauthorized request"}})

    def error_response(self, status: int, message: str) -> Response:
        return Response(status, {"meta": {"error": message}})

    def rate_limited_response(self, retry_after: int | float | None) -> Response:
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        return Response(429, {"meta": {"error": "Too Many Requests"}}, headers)

    def reject_before_parsing(self, request: Request) -> Response | None:
        if request.path == BATCH_PATH and len(request.raw) > MAX_BATCH_BYTES:
            return self.error_response(413, f"request body cannot be larger than {MAX_BATCH_BYTES} bytes")
        return None

    def count_items(self, request: Request) -> int:
        body = request.body
        if request.path == BATCH_PATH and isinstance(body, dict) and isinstance(body.get("batch"), list):
            return len(body["batch"])
        if not request.path.startswith("/api/v1/customers/"):
            return 0
        return 1 if request.method == "PUT" or request.path.endswith("/events") else 0

    def handle_api(self, request: Request) -> Response:
        return self.dispatch(self._router, request)

    # -- v2 batch --------------------------------------------------------------------------------

    def _batch(self, request: Request) -> Response:
        body = request.body
        if not isinstance(body, dict) or not isinstance(body.get("batch"), list) or not body["batch"]:
            return self.error_response(400, 'request body must be {"batch": [...]} with at least one item')
        items = body["batch"]
        with self.lock:
            errors = [e for index, item in enumerate(items) if (e := _item_error(index, item)) is not None]
            if len(errors) == len(items):
                return Response(400, {"errors": errors})
            failed = {e["batch_index"] for e in errors}
            for index, item in enumerate(items):
                if index not in failed:
                    self._apply(item)
        if errors:
            return Response(self.partial_status, {"errors": errors})
        return Response(200, {})

    def _apply(self, item: dict[str, Any]) -> None:
        person_id, action = item["identifiers"]["id"], item["action"]
        if action == "identify":
            self._identify(person_id, item.get("attributes") or {})
        elif action == "event":
            self._track(person_id, _event(item, "attributes"))
        elif action == "delete":
            self._delete(person_id)
        elif action == "suppress":
            self._suppress(person_id)
        else:  # unsuppress
            self.suppressed.discard(person_id)

    # -- v1 --------------------------------------------------------------------------------------

    def _identify_v1(self, request: Request, person_id: str) -> Response:
        problem = _id_problem(person_id) or _v1_attributes_problem(request.body)
        if problem is not None:
            return self.error_response(400, problem)
        with self.lock:
            self._identify(person_id, request.body)
        return Response(200, {})

    def _track_v1(self, request: Request, person_id: str) -> Response:
        problem = _id_problem(person_id) or _v1_event_problem(request.body)
        if problem is not None:
            return self.error_response(400, problem)
        with self.lock:
            self._track(person_id, _event(request.body, "data"))
        return Response(200, {})

    def _suppress_v1(self, request: Request, person_id: str) -> Response:
        with self.lock:
            self._suppress(person_id)
        return Response(200, {})

    def _delete_v1(self, request: Request, person_id: str) -> Response:
        with self.lock:
            self._delete(person_id)
        return Response(200, {})

    # -- the stores ------------------------------------------------------------------------------

    def _identify(self, person_id: str, attributes: dict[str, Any]) -> None:
        if person_id in self.suppressed:
            return
        person = self.people.setdefault(person_id, {})
        for name, value in attributes.items():
            if value is None or value == "":
                person.pop(name, None)
            else:
                person[name] = value
        self.identifies += 1

    def _track(self, person_id: str, event: dict[str, Any]) -> None:
        if person_id in self.suppressed:
            return
        event_id = event["id"]
        if event_id is not None:
            if event_id in self._event_ids:
                self.duplicate_events += 1
                return
            self._event_ids.add(event_id)
        self.events.setdefault(person_id, []).append(event)

    def _suppress(self, person_id: str) -> None:
        self.people.pop(person_id, None)
        self.suppressed.add(person_id)
        self.suppress_calls.append(person_id)

    def _delete(self, person_id: str) -> None:
        self.people.pop(person_id, None)
        self.delete_calls.append(person_id)


# -- validation ----------------------------------------------------------------------------------


def _item_error(index: int, item: Any) -> dict[str, Any] | None:
    """The ``errors[]`` entry for an invalid batch item, or None when it is valid."""
    problem = _item_problem(item)
    if problem is None:
        return None
    reason, field, message = problem
    return {"batch_index": index, "reason": reason, "field": field, "message": message}


def _item_problem(item: Any) -> tuple[str, str, str] | None:
    """(reason, field, message) for the first rule the item breaks."""
    if not isinstance(item, dict):
        return "invalid", "", "each batch item must be an object"
    size = len(_compact(item))
    if size > MAX_ITEM_BYTES:
        return "invalid", "", f"batch item cannot be larger than {MAX_ITEM_BYTES} bytes (got {size})"
    return (
        _choice_problem(item, "type", ENTITY_TYPES, {"person"})
        or _choice_problem(item, "action", PERSON_ACTIONS, SUPPORTED_ACTIONS)
        or _identifiers_problem(item.get("identifiers"))
        or _action_problem(item)
    )


def _action_problem(item: dict[str, Any]) -> tuple[str, str, str] | None:
    """The rules of the item's own action (identify: its attributes; event: the event rules)."""
    if item["action"] == "identify":
        return _attributes_item_problem(item)
    if item["action"] == "event":
        unknown = sorted(set(item) - V2_EVENT_KEYS)
        if unknown:
            message = f"unknown field(s) {unknown} for action 'event' (allowed: {sorted(V2_EVENT_KEYS)})"
            return "invalid", unknown[0], message
        return _event_problem(item, "attributes")
    return None


def _choice_problem(
    item: dict[str, Any], key: str, known: set[str], supported: set[str]
) -> tuple[str, str, str] | None:
    value = item.get(key)
    if value is None:
        return "required", key, f"{key} is required"
    if value not in known:
        return "invalid", key, f"unknown {key} {value!r}"
    if value not in supported:
        return (
            "invalid",
            key,
            f"{key} {value!r} is not supported by this fake (supported: {sorted(supported)})",
        )
    return None


def _identifiers_problem(identifiers: Any) -> tuple[str, str, str] | None:
    if identifiers is None:
        return "required", "identifiers", "identifiers are required"
    if not isinstance(identifiers, dict):
        return "invalid", "identifiers", "identifiers must be an object"
    if set(identifiers) - {"id"}:
        return (
            "invalid",
            "identifiers",
            'identifiers must be exactly {"id": ...} (the fake identifies people by id)',
        )
    if "id" not in identifiers:
        return "required", "identifiers.id", "id attribute must be present"
    person_id = identifiers["id"]
    problem = (
        "id attribute must be a string value" if not isinstance(person_id, str) else _id_problem(person_id)
    )
    return None if problem is None else ("invalid", "identifiers.id", problem)


def _id_problem(person_id: str) -> str | None:
    if person_id == "":
        return "id attribute cannot be an empty string"
    if len(person_id) > MAX_ID_CHARS:
        return f"id attribute cannot be longer than {MAX_ID_CHARS} characters"
    return None


def _attributes_item_problem(item: dict[str, Any]) -> tuple[str, str, str] | None:
    attributes = item.get("attributes", {})
    if not isinstance(attributes, dict):
        return "invalid", "attributes", "attributes must be an object"
    problem = _attributes_problem(attributes)
    return None if problem is None else ("invalid", *problem)


def _v1_attributes_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "request body must be a JSON object of attributes"
    problem = _attributes_problem(body)
    return None if problem is None else problem[1]


def _attributes_problem(attributes: dict[str, Any]) -> tuple[str, str] | None:
    """(field, message) for the first attribute limit broken, or None."""
    if len(attributes) > MAX_ATTRIBUTES:
        return "attributes", f"cannot identify more than {MAX_ATTRIBUTES} attributes in one request"
    for name, value in attributes.items():
        if len(name.encode()) > MAX_NAME_BYTES:
            return f"attributes.{name}", f"attribute name cannot be longer than {MAX_NAME_BYTES} bytes"
        if _value_bytes(value) > MAX_VALUE_BYTES:
            return (
                f"attributes.{name}",
                f"value for attribute '{name}' cannot be longer than {MAX_VALUE_BYTES} bytes",
            )
    return None


def _v1_event_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "request body must be a JSON object"
    unknown = sorted(set(body) - V1_EVENT_KEYS)
    if unknown:
        return f"unknown field(s) {unknown}: an event takes {sorted(V1_EVENT_KEYS)}"
    if body.get("type", "event") != "event":
        return 'type must be "event" (page and screen events are not supported by this fake)'
    problem = _event_problem(body, "data")
    return None if problem is None else problem[2]


def _event_problem(event: dict[str, Any], data_key: str) -> tuple[str, str, str] | None:
    """(reason, field, message) for the first event rule broken (module docstring, *Events*)."""
    name = event.get("name")
    if name is None:
        return "required", "name", "event name must not be blank"
    if not isinstance(name, str) or not name.strip():
        return "invalid", "name", "event name must not be blank"
    if len(name.strip().encode()) > MAX_EVENT_NAME_BYTES:
        return "invalid", "name", f"event name cannot be longer than {MAX_EVENT_NAME_BYTES} bytes"
    data = event.get(data_key, {})
    if not isinstance(data, dict):
        return "invalid", data_key, NOT_A_HASH
    if len(_compact(data)) > MAX_EVENT_DATA_BYTES:
        return "invalid", data_key, f"event data cannot be longer than {MAX_EVENT_DATA_BYTES} bytes"
    timestamp = event.get("timestamp")
    if timestamp is not None and (type(timestamp) is not int or not 0 <= timestamp <= MAX_TIMESTAMP_S):
        return "invalid", "timestamp", "timestamp must be a unix timestamp in seconds (an integer)"
    event_id = event.get("id")
    if event_id is not None and (not isinstance(event_id, str) or ULID.fullmatch(event_id) is None):
        return "invalid", "id", NOT_A_ULID
    return None


def _event(body: dict[str, Any], data_key: str) -> dict[str, Any]:
    """What ``srv.events`` records of a valid event."""
    return {
        "name": body["name"].strip(),
        "data": body.get(data_key, {}),
        "timestamp": body.get("timestamp"),
        "id": body.get("id"),
    }


def _value_bytes(value: Any) -> int:
    if value is None:
        return 0
    return len(value.encode()) if isinstance(value, str) else len(_compact(value))


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    scheme, _, encoded = (header or "").partition(" ")
    if scheme != "Basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None


def main(argv: list[str] | None = None) -> None:
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--site-id", default="site-test", help="Basic auth user")
        parser.add_argument("--api-key", default="key-test", help="Basic auth password")
        parser.add_argument(
            "--partial-status", type=int, default=207, help="status of a partly invalid batch"
        )

    def build(
        args: argparse.Namespace, rate_limit: RateLimit | None, latency_s: float, port: int
    ) -> FakeServer:
        return FakeCustomerIO(
            site_id=args.site_id,
            api_key=args.api_key,
            rate_limit=rate_limit,
            latency_s=latency_s,
            port=port,
            partial_status=args.partial_status,
        )

    serve_from_command_line(build, "A strict local fake of Customer.io's Track API.", add_arguments, argv)


if __name__ == "__main__":
    main()

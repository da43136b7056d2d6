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
  ``action`` one of ``identify``, ``delete``, ``suppress``, ``unsuppress`` (other real person
  actions are refused as unsupported, unknown ones as invalid); ``identifiers`` exactly
  ``{"id": <string>}`` (the sync identifies by customer id; ``email`` / ``cio_id`` are refused);
  ``attributes`` an object within the limits above.

``PUT /api/v1/customers/{id}``: a JSON object of attributes, same limits; 400 ``{"meta":
{"error": ...}}`` when over a limit, else 200 ``{}``.

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
from typing import Any

from .server import FakeServer, RateLimit, Request, Response, Router, serve_from_command_line

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
SUPPORTED_ACTIONS = {"identify", "delete", "suppress", "unsuppress"}


class FakeCustomerIO(FakeServer):
    """Customer.io Track API: v2 batch, v1 identify, v1 suppress and delete."""

    def __init__(
        self,
        site_id: str = "site-test",
        api_key: str = "key-test",
        rate_limit: RateLimit | None = None,
        latency_s: float = 0.0,
        port: int = 0,
        partial_status: int = 207,
    ) -> None:
        super().__init__(rate_limit=rate_limit, latency_s=latency_s, port=port)
        self.site_id = site_id
        self.api_key = api_key
        self.partial_status = partial_status
        self.people: dict[str, dict[str, Any]] = {}
        self.suppressed: set[str] = set()
        self.suppress_calls: list[str] = []
        self.delete_calls: list[str] = []
        self.identifies = 0
        self._router = Router()
        self._router.add(BATCH_PATH, "POST", self._batch)
        self._router.add(CUSTOMER_PATH, "PUT", self._identify_v1)
        self._router.add(CUSTOMER_PATH, "DELETE", self._delete_v1)
        self._router.add(f"{CUSTOMER_PATH}/suppress", "POST", self._suppress_v1)

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
        return 1 if request.method == "PUT" and request.path.startswith("/api/v1/customers/") else 0

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
        or (_attributes_item_problem(item) if item["action"] == "identify" else None)
    )


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

"""The fakes' journey routes: Customer.io person events, HubSpot owners, task properties, tasks and
task search, each rule over HTTP (the contracts the journey sync is tested against)."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests import test_fakes
from tests.fakes import FakeCustomerIO, FakeHubSpot, Fault, RateLimit
from tests.fakes.hubspot import OWNERS_PATH, TASKS_CREATE_PATH, TASKS_PATH, TASKS_SEARCH_PATH
from tests.test_fakes import (
    BATCH,
    CIO_AUTH,
    HS_AUTH,
    batch,
    contact,
    hs_get,
    person,
    property_messages,
    upsert,
)

cio = test_fakes.cio  # the fakes' own fixtures: a started FakeCustomerIO / FakeHubSpot per test
hubspot = test_fakes.hubspot

ULID_A = "01BX5ZZKBKACTAV9WEVGEMMVRY"  # the example of Customer.io's docs
ULID_B = "01J0000000000000000000000B"
ULID_C = "01J0000000000000000000000C"
NOT_A_HASH = 'event data must be a hash (e.g., send "data":{} instead of "data":"")'
NOT_A_ULID = (
    "id must be a ULID: 26 characters of Crockford base32 (0-9 and A-Z without I, L, O, U), the first 0-7"
)
NOT_SECONDS = "timestamp must be a unix timestamp in seconds (an integer)"
DUE = "2026-03-01T10:00:00Z"
TASK_PROPERTIES = "/crm/v3/properties/tasks"
TASK_TO_CONTACT = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 204}


def track(srv: FakeCustomerIO, person_id: str, body: Any, session: Any = requests) -> requests.Response:
    return session.post(f"{srv.base_url}/api/v1/customers/{person_id}/events", auth=CIO_AUTH, json=body)


def event_item(person_id: str, name: str | None, event_id: str | None = None, **rest: Any) -> dict[str, Any]:
    """A v2 batch ``event`` item; ``rest`` holds ``timestamp`` / ``attributes`` / extra keys."""
    item = {"type": "person", "identifiers": {"id": person_id}, "action": "event", **rest}
    if name is not None:
        item["name"] = name
    if event_id is not None:
        item["id"] = event_id
    return item


def recorded(name: str, event_id: str | None = None, data: Any = None, timestamp: int | None = None) -> dict:
    return {"name": name, "data": data or {}, "timestamp": timestamp, "id": event_id}


# -- Customer.io: v1 events ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Basic " + base64.b64encode(b"site-test:nope").decode()}]
)
def test_v1_event_needs_the_track_credentials(cio, headers):
    url = f"{cio.base_url}/api/v1/customers/c1/events"
    answer = requests.post(url, headers=headers, json={"name": "step_reached", "id": ULID_A})
    assert (answer.status_code, answer.json()) == (401, {"meta": {"error": "Unauthorized request"}})
    assert (cio.events, cio.duplicate_events) == ({}, 0)


def test_v1_event_is_recorded_with_its_name_trimmed(cio):
    body = {"name": "  step_reached ", "data": {"step": 2, "track": "self_serve"}, "timestamp": 1772359200}
    answer = track(cio, "c1", {**body, "id": ULID_A})
    assert (answer.status_code, answer.json()) == (200, {})
    assert cio.events == {
        "c1": [recorded("step_reached", ULID_A, {"step": 2, "track": "self_serve"}, 1772359200)]
    }
    assert cio.people == {}  # an event neither creates nor changes a person
    assert [(r.path, r.items) for r in cio.requests] == [("/api/v1/customers/c1/events", 1)]


def test_v1_events_without_an_id_are_never_de_duplicated(cio):
    assert [track(cio, "c1", {"name": "ping"}).status_code for _ in range(2)] == [200, 200]
    assert cio.events == {"c1": [recorded("ping"), recorded("ping")]}
    assert cio.duplicate_events == 0


def test_an_event_id_sent_twice_is_accepted_twice_and_recorded_once(cio):
    first = track(cio, "c1", {"name": "step_reached", "id": ULID_A, "data": {"n": 1}})
    again = track(cio, "c1", {"name": "step_reached", "id": ULID_A, "data": {"n": 2}})
    assert [(a.status_code, a.json()) for a in (first, again)] == [(200, {}), (200, {})]
    assert cio.events == {"c1": [recorded("step_reached", ULID_A, {"n": 1})]}
    assert cio.duplicate_events == 1


def test_de_duplication_spans_v1_v2_and_the_whole_workspace(cio):
    track(cio, "c1", {"name": "step_reached", "id": ULID_A})
    answer = batch(cio, [event_item("c1", "step_reached", ULID_A), event_item("c2", "other", ULID_A)])
    assert (answer.status_code, answer.json()) == (200, {})
    assert cio.events == {"c1": [recorded("step_reached", ULID_A)]}
    assert cio.duplicate_events == 2


def test_events_keep_the_order_of_requests_and_of_batch_items(cio):
    track(cio, "c1", {"name": "e1", "id": ULID_A})
    batch(cio, [event_item("c1", "e2"), event_item("c2", "e3", ULID_B), event_item("c1", "e4")])
    track(cio, "c1", {"name": "e5", "id": ULID_C})
    assert {who: [e["name"] for e in events] for who, events in cio.events.items()} == {
        "c1": ["e1", "e2", "e4", "e5"],
        "c2": ["e3"],
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"data": {}}, "event name must not be blank"),
        ({"name": "   "}, "event name must not be blank"),
        ({"name": 7}, "event name must not be blank"),
        ({"name": "é" * 51}, "event name cannot be longer than 100 bytes"),
        ({"name": "x", "data": ""}, NOT_A_HASH),
        ({"name": "x", "data": ["a"]}, NOT_A_HASH),
        ({"name": "x", "data": {"d": "v" * 99_993}}, "event data cannot be longer than 100000 bytes"),
        ({"name": "x", "timestamp": 1772359200000}, NOT_SECONDS),  # milliseconds
        ({"name": "x", "timestamp": "1772359200"}, NOT_SECONDS),
        ({"name": "x", "timestamp": 1772359200.5}, NOT_SECONDS),
        ({"name": "x", "timestamp": -1}, NOT_SECONDS),
        ({"name": "x", "timestamp": True}, NOT_SECONDS),
        ({"name": "x", "id": ULID_A.lower()}, NOT_A_ULID),
        ({"name": "x", "id": ULID_A[:-1]}, NOT_A_ULID),
        ({"name": "x", "id": ULID_A[:-1] + "I"}, NOT_A_ULID),
        ({"name": "x", "id": "8" + ULID_A[1:]}, NOT_A_ULID),  # beyond 128 bits
        ({"name": "x", "id": str(uuid.UUID(int=1))}, NOT_A_ULID),
        ({"name": "x", "id": 42}, NOT_A_ULID),
        (
            {"name": "x", "type": "page"},
            'type must be "event" (page and screen events are not supported by this fake)',
        ),
        (
            {"name": "x", "properties": {}},
            "unknown field(s) ['properties']: an event takes ['data', 'id', 'name', 'timestamp', 'type']",
        ),
        (["x"], "request body must be a JSON object"),
    ],
)
def test_v1_event_rules_are_400_meta_errors(cio, body, message):
    answer = track(cio, "c1", body)
    assert (answer.status_code, answer.json()) == (400, {"meta": {"error": message}})
    assert cio.events == {}


def test_v1_event_limits_at_the_boundary_are_accepted(cio):
    bodies = [
        {"name": "é" * 50, "data": {"d": "v" * 99_992}},  # 100 bytes; 100,000 bytes of data
        {"name": "x", "timestamp": 0, "id": "00000000000000000000000000"},
        {"name": "x", "timestamp": 9_999_999_999, "id": "7ZZZZZZZZZZZZZZZZZZZZZZZZZ"},
        {"name": "x", "type": "event"},
    ]
    assert [track(cio, "c1", body).status_code for body in bodies] == [200] * 4
    assert [e["name"] for e in cio.events["c1"]] == ["é" * 50, "x", "x", "x"]


def test_v1_event_person_id_is_checked_like_identify(cio):
    answer = track(cio, "x" * 151, {"name": "x"})
    assert answer.json() == {"meta": {"error": "id attribute cannot be longer than 150 characters"}}


# -- Customer.io: v2 event items -------------------------------------------------------------------


def test_batch_event_items_are_recorded_with_attributes_as_data(cio):
    items = [
        event_item("c1", "step_reached", ULID_A, timestamp=1772359200, attributes={"step": 3}),
        person("c1", plan="pro"),
        event_item("c2", " stalled "),
    ]
    answer = batch(cio, items)
    assert (answer.status_code, answer.json()) == (200, {})
    assert cio.events == {
        "c1": [recorded("step_reached", ULID_A, {"step": 3}, 1772359200)],
        "c2": [recorded("stalled")],
    }
    assert (cio.people, cio.identifies, cio.requests[0].items) == ({"c1": {"plan": "pro"}}, 1, 3)


@pytest.mark.parametrize(
    ("item", "reason", "field", "message"),
    [
        (event_item("c1", None), "required", "name", "event name must not be blank"),
        (event_item("c1", ""), "invalid", "name", "event name must not be blank"),
        (
            event_item("c1", "x", data={"step": 1}),
            "invalid",
            "data",
            "unknown field(s) ['data'] for action 'event' (allowed: "
            "['action', 'attributes', 'id', 'identifiers', 'name', 'timestamp', 'type'])",
        ),
        (event_item("c1", "x", attributes="step"), "invalid", "attributes", NOT_A_HASH),
        (event_item("c1", "x", "not-a-ulid"), "invalid", "id", NOT_A_ULID),
        (event_item("c1", "x", timestamp=1772359200000), "invalid", "timestamp", NOT_SECONDS),
        (
            {**event_item("c1", "x"), "identifiers": {"email": "a@x.io"}},
            "invalid",
            "identifiers",
            'identifiers must be exactly {"id": ...} (the fake identifies people by id)',
        ),
    ],
)
def test_each_batch_event_item_is_checked_alone(cio, item, reason, field, message):
    answer = batch(cio, [event_item("ok", "fine", ULID_A), item])
    assert answer.status_code == 207
    [error] = answer.json()["errors"]
    assert (error["batch_index"], error["reason"], error["field"]) == (1, reason, field)
    assert error["message"] == message
    assert cio.events == {"ok": [recorded("fine", ULID_A)]}


def test_batch_of_only_invalid_event_items_is_400_and_records_nothing(cio):
    answer = batch(cio, [event_item("c1", None), event_item("c2", "x", "bad")])
    assert answer.status_code == 400
    assert [(e["batch_index"], e["field"]) for e in answer.json()["errors"]] == [(0, "name"), (1, "id")]
    assert (cio.events, cio.duplicate_events) == ({}, 0)


def test_partial_status_200_lists_event_errors_too():
    with FakeCustomerIO(partial_status=200) as srv:
        answer = batch(srv, [event_item("c1", "x"), event_item("c2", None)])
        assert (answer.status_code, [e["field"] for e in answer.json()["errors"]]) == (200, ["name"])
        assert srv.events == {"c1": [recorded("x")]}


def test_events_of_a_suppressed_person_are_accepted_and_ignored(cio):
    requests.post(f"{cio.base_url}/api/v1/customers/c1/suppress", auth=CIO_AUTH)
    assert track(cio, "c1", {"name": "x", "id": ULID_A}).status_code == 200
    assert batch(cio, [event_item("c1", "y", ULID_B)]).status_code == 200
    assert (cio.events, cio.duplicate_events) == ({}, 0)


# -- Customer.io: faults and limits on events ------------------------------------------------------


def test_event_applied_then_dropped_is_recorded_once_after_the_retry(cio):
    cio.add_fault(Fault(kind="drop_after_apply", path_prefix="/api/v1/customers/c1/events"))
    body = {"name": "step_reached", "id": ULID_A}
    with requests.Session() as session:
        with pytest.raises(requests.ConnectionError):
            track(cio, "c1", body, session)
        assert track(cio, "c1", body, session).status_code == 200
    assert cio.events == {"c1": [recorded("step_reached", ULID_A)]}
    assert cio.duplicate_events == 1
    assert [(r.status, r.fault) for r in cio.requests] == [(None, "drop_after_apply"), (200, None)]


def test_event_5xx_and_429_faults_record_nothing(cio):
    cio.add_fault(Fault(kind="status", status=503, path_prefix=BATCH))
    cio.add_fault(Fault(kind="rate_limit", retry_after=2, path_prefix=BATCH))
    failed, limited = (batch(cio, [event_item("c1", "x", ULID_A)]) for _ in range(2))
    assert (failed.status_code, failed.json()) == (503, {"meta": {"error": "injected fault: HTTP 503"}})
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "2")
    assert cio.events == {}
    assert batch(cio, [event_item("c1", "x", ULID_A)]).status_code == 200
    assert (len(cio.events["c1"]), cio.duplicate_events) == (1, 0)


def test_events_share_the_track_rate_limit():
    with FakeCustomerIO(rate_limit=RateLimit(max_requests=1, window_s=5)) as srv:
        first, second = (track(srv, "c1", {"name": "x"}) for _ in range(2))
        assert (first.status_code, second.status_code) == (200, 429)
        assert second.json() == {"meta": {"error": "Too Many Requests"}}
        assert srv.events == {"c1": [recorded("x")]}


# -- HubSpot: a portal with an owner, a contact and a task property --------------------------------


@dataclass
class Portal:
    srv: FakeHubSpot
    owner: dict[str, Any]
    contact_id: str

    def task(self, key: str, trace: str | None = None, **properties: str) -> dict[str, Any]:
        """A batch create input: a CSM task for the contact, keyed by our own ``journey_key``."""
        values = {"hs_timestamp": DUE, "hs_task_subject": "Call", "hubspot_owner_id": self.owner["id"]}
        item: dict[str, Any] = {
            "properties": {**values, "journey_key": key, **properties},
            "associations": [{"to": {"id": self.contact_id}, "types": [TASK_TO_CONTACT]}],
        }
        if trace is not None:
            item["objectWriteTraceId"] = trace
        return item

    def create(self, inputs: list[Any], session: Any = requests) -> requests.Response:
        return session.post(
            f"{self.srv.base_url}{TASKS_CREATE_PATH}", headers=HS_AUTH, json={"inputs": inputs}
        )

    def search(self, body: Any) -> requests.Response:
        return requests.post(f"{self.srv.base_url}{TASKS_SEARCH_PATH}", headers=HS_AUTH, json=body)


def post(srv: FakeHubSpot, path: str, body: Any) -> requests.Response:
    return requests.post(f"{srv.base_url}{path}", headers=HS_AUTH, json=body)


def eq(name: str, value: str) -> dict[str, Any]:
    return {"propertyName": name, "operator": "EQ", "value": value}


@pytest.fixture
def portal(hubspot) -> Portal:
    owner = hubspot.add_owner("csm@acme.io", "Cass", "Mills")
    [created] = upsert(hubspot, [contact("ann@acme.io")]).json()["results"]
    group = post(hubspot, f"{TASK_PROPERTIES}/groups", {"name": "onboarding_paths", "label": "Onboarding"})
    spec = {"name": "journey_key", "label": "Journey key", "type": "string", "fieldType": "text"}
    answer = post(hubspot, TASK_PROPERTIES, {**spec, "groupName": "onboarding_paths", "hasUniqueValue": True})
    assert (group.status_code, answer.status_code) == (201, 201)
    hubspot.reset_log()
    return Portal(hubspot, owner, created["id"])


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", OWNERS_PATH, None),
        ("GET", TASK_PROPERTIES, None),
        ("POST", TASKS_CREATE_PATH, {"inputs": []}),
        ("POST", TASKS_PATH, {"properties": {}}),
        ("POST", TASKS_SEARCH_PATH, {}),
    ],
)
def test_new_hubspot_routes_need_the_bearer_token(hubspot, method, path, body):
    answer = requests.request(
        method, f"{hubspot.base_url}{path}", headers={"Authorization": "Bearer nope"}, json=body
    )
    assert answer.status_code == 401
    assert (answer.json()["category"], answer.json()["message"]) == (
        "INVALID_AUTHENTICATION",
        "The access token provided is invalid or expired.",
    )


# -- HubSpot: owners -------------------------------------------------------------------------------


def test_owners_are_listed_as_seeded_in_hubspots_shape(hubspot):
    cass, dan = hubspot.add_owner("csm@acme.io", "Cass", "Mills"), hubspot.add_owner("dan@acme.io")
    answer = hs_get(hubspot, OWNERS_PATH)
    assert (answer.status_code, answer.json()) == (200, {"results": [cass, dan]})
    assert (cass["id"], cass["userId"], cass["type"], cass["archived"]) == ("70001", 9001, "PERSON", False)
    assert hs_get(hubspot, f"{OWNERS_PATH}/").json() == {"results": [cass, dan]}  # the spec's own path


def test_owner_lookup_by_email_ignores_case(hubspot):
    hubspot.add_owner("dan@acme.io")
    cass = hubspot.add_owner("Csm@Acme.io", "Cass", "Mills")
    assert hs_get(hubspot, f"{OWNERS_PATH}?email=csm%40acme.IO").json() == {"results": [cass]}
    assert hs_get(hubspot, f"{OWNERS_PATH}?email=nobody%40acme.io").json() == {"results": []}


def test_owners_are_paged_by_limit_and_after(hubspot):
    ids = [hubspot.add_owner(f"o{i}@acme.io")["id"] for i in range(5)]
    first = hs_get(hubspot, f"{OWNERS_PATH}?limit=2").json()
    assert ([o["id"] for o in first["results"]], first["paging"]) == (
        ids[:2],
        {"next": {"after": "2", "link": "?after=2"}},
    )
    second = hs_get(hubspot, f"{OWNERS_PATH}?limit=2&after={first['paging']['next']['after']}").json()
    last = hs_get(hubspot, f"{OWNERS_PATH}?limit=2&after={second['paging']['next']['after']}").json()
    assert [o["id"] for o in second["results"]] == ids[2:4]
    assert last == {"results": [hubspot.owners[4]]}  # no paging: the last page


def test_archived_owners_are_listed_only_when_asked(hubspot):
    active = hubspot.add_owner("csm@acme.io")
    gone = hubspot.add_owner("left@acme.io", archived=True)
    assert (gone["userId"], gone["userIdIncludingInactive"], gone["archived"]) == (None, 9002, True)
    assert hs_get(hubspot, OWNERS_PATH).json() == {"results": [active]}
    assert hs_get(hubspot, f"{OWNERS_PATH}?archived=true").json() == {"results": [gone]}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0", "limit must be an integer between 1 and 500, got '0'"),
        ("limit=501", "limit must be an integer between 1 and 500, got '501'"),
        ("after=abc", "after must be the paging cursor of paging.next.after, got 'abc'"),
        ("archived=yes", "archived must be true or false, got 'yes'"),
        (
            "emails=a%40x.io",
            "Unknown query parameter(s) ['emails']; allowed: ['after', 'archived', 'email', 'limit']",
        ),
    ],
)
def test_owner_query_refusals_are_400(hubspot, query, message):
    answer = hs_get(hubspot, f"{OWNERS_PATH}?{query}")
    assert (answer.status_code, answer.json()["category"], answer.json()["message"]) == (
        400,
        "VALIDATION_ERROR",
        message,
    )


def test_owner_by_id(hubspot):
    owner = hubspot.add_owner("csm@acme.io")
    assert hs_get(hubspot, f"{OWNERS_PATH}/{owner['id']}").json() == owner
    missing = hs_get(hubspot, f"{OWNERS_PATH}/{owner['userId']}")  # a user id is not an owner id
    assert (missing.status_code, missing.json()["message"]) == (404, "Unable to find owner with id 9001")


# -- HubSpot: task properties ----------------------------------------------------------------------


def test_task_properties_start_with_hubspots_task_fields(hubspot):
    listed = {p["name"]: p for p in hs_get(hubspot, TASK_PROPERTIES).json()["results"]}
    assert sorted(listed) == [
        "hs_task_body",
        "hs_task_priority",
        "hs_task_reminders",
        "hs_task_status",
        "hs_task_subject",
        "hs_task_type",
        "hs_timestamp",
        "hubspot_owner_id",
    ]
    assert [o["value"] for o in listed["hs_task_status"]["options"]] == ["NOT_STARTED", "COMPLETED"]
    assert (listed["hs_timestamp"]["type"], listed["hs_timestamp"]["hubspotDefined"]) == ("datetime", True)
    assert [g["name"] for g in hs_get(hubspot, f"{TASK_PROPERTIES}/groups").json()["results"]] == [
        "taskinformation"
    ]


def test_task_properties_follow_the_contact_property_rules(portal):
    srv = portal.srv
    created = hs_get(srv, f"{TASK_PROPERTIES}/journey_key").json()
    assert (created["groupName"], created["hasUniqueValue"], created["hubspotDefined"]) == (
        "onboarding_paths",
        True,
        False,
    )
    assert "journey_key" in srv.task_properties
    assert "journey_key" not in srv.properties and "onboarding_paths" not in srv.groups
    spec = {
        "name": "journey_key",
        "label": "K",
        "type": "string",
        "fieldType": "text",
        "groupName": "onboarding_paths",
    }
    assert post(srv, TASK_PROPERTIES, spec).status_code == 409
    assert post(srv, TASK_PROPERTIES, {**spec, "name": "Journey-Key"}).status_code == 400
    assert (
        post(srv, TASK_PROPERTIES, {**spec, "name": "other", "groupName": "contactinformation"}).json()[
            "message"
        ]
        == "Property group contactinformation does not exist"
    )
    patched = requests.patch(
        f"{srv.base_url}{TASK_PROPERTIES}/journey_key", headers=HS_AUTH, json={"label": "Key"}
    )
    assert (patched.status_code, srv.task_properties["journey_key"]["label"]) == (200, "Key")
    missing = hs_get(srv, f"{TASK_PROPERTIES}/nope")
    assert missing.json()["message"] == "Unable to find property with name nope for objectType tasks"


# -- HubSpot: batch create -------------------------------------------------------------------------


def test_batch_create_makes_each_task_once_and_answers_201(portal):
    answer = portal.create([portal.task("k1", "t1"), portal.task("k2", "t2", hs_task_priority="HIGH")])
    assert answer.status_code == 201
    body = answer.json()
    assert (body["status"], {"startedAt", "completedAt"} <= set(body), "errors" in body) == (
        "COMPLETE",
        True,
        False,
    )
    assert [r["objectWriteTraceId"] for r in body["results"]] == ["t2", "t1"]  # not in input order
    second, first = body["results"]
    assert first["properties"] == {
        "hs_timestamp": DUE,
        "hs_task_subject": "Call",
        "hubspot_owner_id": portal.owner["id"],
        "journey_key": "k1",
        "hs_createdate": first["createdAt"],
        "hs_lastmodifieddate": first["createdAt"],
        "hs_object_id": first["id"],
    }
    assert (first["archived"], first["updatedAt"]) == (False, first["createdAt"])
    assert portal.srv.tasks == {
        first["id"]: {
            "properties": portal.task("k1")["properties"],
            "associations": {"contacts": [portal.contact_id]},
        },
        second["id"]: {
            "properties": portal.task("k2", hs_task_priority="HIGH")["properties"],
            "associations": {"contacts": [portal.contact_id]},
        },
    }
    assert portal.contact_id not in portal.srv.tasks
    assert (portal.srv.task_creates, portal.srv.requests[0].items) == (2, 2)


def test_empty_values_are_not_stored(portal):
    portal.create([portal.task("k1", hs_task_body="")])
    [stored] = portal.srv.tasks.values()
    assert "hs_task_body" not in stored["properties"]


@pytest.mark.parametrize("count", [0, 101])
def test_batch_create_needs_between_1_and_100_inputs(portal, count):
    answer = portal.create([portal.task(f"k{i}") for i in range(count)])
    assert (answer.status_code, answer.json()["message"]) == (
        400,
        f"Batch input must hold between 1 and 100 inputs, got {count}",
    )
    assert portal.srv.tasks == {}


def test_batch_create_takes_exactly_100_inputs(portal):
    assert portal.create([portal.task(f"k{i}") for i in range(100)]).status_code == 201
    assert len(portal.srv.tasks) == portal.srv.task_creates == 100


def without(mapping: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k != key}


def bad_association(**changes: Any) -> list[dict[str, Any]]:
    return [{"to": {"id": "151"}, "types": [TASK_TO_CONTACT], **changes}]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda t: {**t, "properties": without(t["properties"], "hs_timestamp")},
            "properties.hs_timestamp is required (the task's due date: epoch milliseconds or ISO-8601)",
        ),
        (
            lambda t: {**t, "properties": {**t["properties"], "hs_timestamp": ""}},
            "properties.hs_timestamp is required (the task's due date: epoch milliseconds or ISO-8601)",
        ),
        (
            lambda t: {**t, "properties": {**t["properties"], "hs_timestamp": 1772359200000}},
            "property 'hs_timestamp': value 1772359200000 is not a string (property values are strings)",
        ),
        (lambda t: {**t, "id": "1"}, "unknown field(s) ['id']"),
        (lambda t: {**t, "objectWriteTraceId": 7}, "objectWriteTraceId must be a string"),
        (lambda t: {**t, "associations": {}}, "associations must be a list"),
        (
            lambda t: {**t, "associations": bad_association(to={"id": 151})},
            'associations[0]: to must be {"id": "<record id>"} (a string)',
        ),
        (
            lambda t: {**t, "associations": bad_association(types=[])},
            "associations[0]: types must be a non-empty list of association types",
        ),
        (
            lambda t: {**t, "associations": bad_association(label="x")},
            "associations[0]: unknown field(s) ['label']",
        ),
        (
            lambda t: {
                **t,
                "associations": bad_association(types=[{**TASK_TO_CONTACT, "associationTypeId": 280}]),
            },
            "associations[0]: association type HUBSPOT_DEFINED 280 is not supported: this fake associates "
            "tasks with contacts only (HUBSPOT_DEFINED 204)",
        ),
        (
            lambda t: {
                **t,
                "associations": bad_association(types=[{**TASK_TO_CONTACT, "associationTypeId": "204"}]),
            },
            'associations[0]: associationTypeId must be an integer, got "204"',
        ),
        (
            lambda t: {
                **t,
                "associations": bad_association(types=[{**TASK_TO_CONTACT, "associationCategory": "X"}]),
            },
            "associations[0]: associationCategory must be one of ['HUBSPOT_DEFINED', 'INTEGRATOR_DEFINED', "
            "'USER_DEFINED'], got 'X'",
        ),
    ],
)
def test_a_malformed_input_refuses_the_whole_batch(portal, change, message):
    answer = portal.create([portal.task("ok"), change(portal.task("bad"))])
    assert (answer.status_code, answer.json()["category"], answer.json()["message"]) == (
        400,
        "VALIDATION_ERROR",
        f"Invalid input JSON: inputs[1]: {message}",
    )
    assert portal.srv.tasks == {}


def test_duplicate_trace_ids_refuse_the_whole_batch(portal):
    answer = portal.create([portal.task("k1", "t"), portal.task("k2", "t")])
    assert answer.json()["message"] == (
        "Duplicate objectWriteTraceId values in batch input: ['t']. They must be unique"
    )
    assert portal.srv.tasks == {}


def test_unknown_task_property_refuses_the_whole_batch(portal):
    answer = portal.create([portal.task("k1"), portal.task("k2", favourite_colour="red")])
    assert answer.status_code == 400
    assert answer.json()["message"].startswith("Property values were not valid: ")
    assert property_messages(answer) == [("PROPERTY_DOESNT_EXIST", "favourite_colour")]
    assert portal.srv.tasks == {}


@pytest.mark.parametrize(
    ("name", "value", "code"),
    [
        ("hs_task_status", "NOT_STARTED", None),
        ("hs_task_status", "IN_PROGRESS", "INVALID_OPTION"),  # exists in portals, not in the guide
        ("hs_task_priority", "URGENT", "INVALID_OPTION"),
        ("hs_task_type", "TODO", None),
        ("hs_task_type", "MEETING", "INVALID_OPTION"),
        ("hs_timestamp", "1772359200000", None),
        ("hs_timestamp", "2026-03-01T10:00:00.000+01:00", None),
        ("hs_timestamp", "2026-03-01", "INVALID_LONG"),
        ("hs_task_reminders", "1772355600000", None),
        ("hs_task_reminders", DUE, "INVALID_INTEGER"),
    ],
)
def test_task_values_are_checked_against_their_property_types(portal, name, value, code):
    answer = portal.create([portal.task("k1", **{name: value})])
    if code is None:
        assert answer.status_code == 201, answer.text
        [stored] = portal.srv.tasks.values()
        assert stored["properties"][name] == value
    else:
        assert (answer.status_code, property_messages(answer)) == (400, [(code, name)])
        assert portal.srv.tasks == {}


@pytest.mark.parametrize("owner", ["424242", "user", "archived"])
def test_the_owner_must_be_an_active_owners_id(portal, owner):
    value = {
        "424242": "424242",
        "user": str(portal.owner["userId"]),  # the user id is not the owner id
        "archived": portal.srv.add_owner("left@acme.io", archived=True)["id"],
    }[owner]
    answer = portal.create([portal.task("k1", hubspot_owner_id=value)])
    assert answer.status_code == 400
    [error] = answer.json()["errors"]
    assert error == {
        "message": f"{value} is not a valid owner id",
        "code": "INVALID_OWNER_ID",
        "context": {"propertyName": ["hubspot_owner_id"]},
    }
    assert portal.srv.tasks == {}


def test_a_missing_contact_fails_only_its_input_with_207(portal):
    lost = {**portal.task("k2", "t-lost"), "associations": bad_association(to={"id": "999"})}
    answer = portal.create([portal.task("k1", "t-ok"), lost])
    assert answer.status_code == 207
    body = answer.json()
    assert ([r["objectWriteTraceId"] for r in body["results"]], body["numErrors"]) == (["t-ok"], 1)
    message = "No contact exists with id(s) ['999']: the task cannot be associated with them"
    assert body["errors"] == [
        {
            "status": "error",
            "category": "OBJECT_NOT_FOUND",
            "message": message,
            "context": {"objectWriteTraceId": ["t-lost"]},
            "errors": [{"message": message, "code": "OBJECT_NOT_FOUND", "context": {"toObjectId": ["999"]}}],
            "links": {},
        }
    ]
    assert [t["properties"]["journey_key"] for t in portal.srv.tasks.values()] == ["k1"]


def test_a_missing_contact_without_trace_id_cannot_be_mapped_by_context(portal):
    answer = portal.create([{**portal.task("k1"), "associations": bad_association(to={"id": "999"})}])
    assert (answer.status_code, answer.json()["results"], answer.json()["errors"][0]["context"]) == (
        207,
        [],
        {},
    )
    assert portal.srv.task_creates == 0


def test_single_create_answers_201_with_the_task(portal):
    answer = post(portal.srv, TASKS_PATH, portal.task("k1"))
    assert answer.status_code == 201
    created = answer.json()
    assert (created["properties"]["journey_key"], "objectWriteTraceId" in created) == ("k1", False)
    assert list(portal.srv.tasks) == [created["id"]]
    refused = post(portal.srv, TASKS_PATH, portal.task("k2", "t"))
    assert refused.json()["message"] == "Invalid input JSON: unknown field(s) ['objectWriteTraceId']"
    lost = post(
        portal.srv, TASKS_PATH, {**portal.task("k3"), "associations": bad_association(to={"id": "999"})}
    )
    assert (lost.status_code, lost.json()["category"], lost.json()["correlationId"] != "") == (
        404,
        "OBJECT_NOT_FOUND",
        True,
    )
    assert len(portal.srv.tasks) == 1


# -- HubSpot: task search --------------------------------------------------------------------------


def created_ids(portal: Portal, *keys: str, **properties: str) -> list[str]:
    """Create one task per key (oldest first) and return their ids in key order."""
    results = portal.create([portal.task(key, key, **properties) for key in keys]).json()["results"]
    by_trace = {r["objectWriteTraceId"]: r["id"] for r in results}
    return [by_trace[key] for key in keys]


def test_search_by_our_own_key_finds_the_one_task(portal):
    ids = created_ids(portal, "k1", "k2", "k3")
    body = {
        "filterGroups": [{"filters": [eq("journey_key", "k2")]}],
        "properties": ["journey_key", "hs_task_body", "nope"],
    }
    answer = portal.search(body)
    assert answer.status_code == 200
    found = answer.json()
    assert (found["total"], "paging" in found) == (1, False)
    [task] = found["results"]
    stamp = task["createdAt"]
    assert task == {
        "id": ids[1],
        "properties": {
            "journey_key": "k2",
            "hs_task_body": None,  # requested, unset; unknown names are ignored
            "hs_createdate": stamp,
            "hs_lastmodifieddate": stamp,
            "hs_object_id": ids[1],
        },
        "createdAt": stamp,
        "updatedAt": stamp,
        "archived": False,
    }


def test_search_without_properties_returns_the_task_defaults(portal):
    [task_id] = created_ids(portal, "k1")
    [task] = portal.search({"filterGroups": [{"filters": [eq("hs_object_id", task_id)]}]}).json()["results"]
    assert sorted(task["properties"]) == ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"]


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        ([[{"propertyName": "journey_key", "operator": "IN", "values": ["k1", "k3", "k9"]}]], [0, 2]),
        ([[eq("journey_key", "k1")], [eq("journey_key", "k2")]], [0, 1]),  # groups OR-ed
        ([[eq("journey_key", "k1"), eq("hs_task_type", "CALL")]], [0]),  # filters AND-ed
        ([[eq("journey_key", "k1"), eq("hs_task_type", "EMAIL")]], []),
        ([[{"propertyName": "journey_key", "operator": "NEQ", "value": "k1"}]], [1, 2]),
        ([[{"propertyName": "journey_key", "operator": "NOT_IN", "values": ["k1", "k2"]}]], [2]),
        ([[{"propertyName": "hs_task_type", "operator": "HAS_PROPERTY"}]], [0]),
        ([[{"propertyName": "hs_task_type", "operator": "NOT_HAS_PROPERTY"}]], [1, 2]),
        ([[eq("journey_key", "K1")]], []),  # exact, case-sensitive
        ([], [0, 1, 2]),
    ],
)
def test_search_filters(portal, groups, expected):
    ids = created_ids(portal, "k1") + created_ids(portal, "k2", "k3")
    portal.srv.tasks[ids[0]]["properties"]["hs_task_type"] = "CALL"
    body = {"filterGroups": [{"filters": filters} for filters in groups]}
    found = portal.search(body).json()
    assert ([r["id"] for r in found["results"]], found["total"]) == (
        [ids[i] for i in expected],
        len(expected),
    )


def test_search_pages_oldest_first(portal):
    ids = created_ids(portal, *(f"k{i}" for i in range(5)))
    first = portal.search({"limit": 2}).json()
    assert ([r["id"] for r in first["results"]], first["total"]) == (sorted(ids, key=int)[:2], 5)
    assert first["paging"] == {"next": {"after": "2", "link": "?after=2"}}
    last = portal.search({"limit": 2, "after": "4"}).json()
    assert ([r["id"] for r in last["results"]], "paging" in last) == (sorted(ids, key=int)[4:], False)
    assert len(portal.search({}).json()["results"]) == 5  # default limit 10


def many_groups(count: int, filters: int = 1) -> list[dict[str, Any]]:
    return [{"filters": [eq("journey_key", f"k{i}")] * filters} for i in range(count)]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "Invalid input JSON: expected a search request object"),
        ({"filters": []}, "Invalid input JSON: unknown field(s) ['filters']"),
        ({"sorts": ["hs_createdate"]}, "sorts is not supported by this fake (filter with filterGroups)"),
        ({"query": "k1"}, "query is not supported by this fake (filter with filterGroups)"),
        ({"filterGroups": many_groups(6)}, "filterGroups must be a list of at most 5 filter groups"),
        ({"filterGroups": many_groups(1, 11)}, "filterGroups[0].filters must be a list of 1 to 10 filters"),
        ({"filterGroups": [{"filters": []}]}, "filterGroups[0].filters must be a list of 1 to 10 filters"),
        ({"filterGroups": many_groups(3, 9)}, "A search can hold at most 25 filters in all"),
        (
            {"filterGroups": [{"filters": [eq("colour", "red")]}]},
            'filterGroups[0].filters[0]: propertyName "colour" is not a task property',
        ),
        (
            {"filterGroups": [{"filters": [{**eq("journey_key", "k1"), "operator": "LT"}]}]},
            "filterGroups[0].filters[0]: operator LT is not supported by this fake (supported: "
            "['EQ', 'HAS_PROPERTY', 'IN', 'NEQ', 'NOT_HAS_PROPERTY', 'NOT_IN'])",
        ),
        (
            {"filterGroups": [{"filters": [{**eq("journey_key", "k1"), "operator": "EQUALS"}]}]},
            'filterGroups[0].filters[0]: operator "EQUALS" is not one of ['
            "'BETWEEN', 'CONTAINS_TOKEN', 'EQ', 'GT', 'GTE', 'HAS_PROPERTY', 'IN', 'LT', 'LTE', 'NEQ', "
            "'NOT_CONTAINS_TOKEN', 'NOT_HAS_PROPERTY', 'NOT_IN']",
        ),
        (
            {
                "filterGroups": [
                    {"filters": [{"propertyName": "journey_key", "operator": "EQ", "values": ["k1"]}]}
                ]
            },
            "filterGroups[0].filters[0]: operator EQ takes ['value'], got ['values']",
        ),
        (
            {
                "filterGroups": [
                    {"filters": [{"propertyName": "journey_key", "operator": "IN", "values": []}]}
                ]
            },
            "filterGroups[0].filters[0]: values must be a non-empty list of strings",
        ),
        (
            {"filterGroups": [{"filters": [{**eq("journey_key", "k1"), "value": 1}]}]},
            "filterGroups[0].filters[0]: value must be a string",
        ),
        ({"properties": "journey_key"}, "properties must be a list of property names"),
        ({"limit": 201}, "limit must be an integer between 1 and 200, got 201"),
        ({"after": 10}, "after must be the paging cursor string of paging.next.after, got 10"),
        (
            {"after": "9990", "limit": 11},
            "Search results are limited to 10000: after + limit cannot exceed it",
        ),
    ],
)
def test_malformed_searches_are_400(portal, body, message):
    answer = portal.search(body)
    assert (answer.status_code, answer.json()["category"], answer.json()["message"]) == (
        400,
        "VALIDATION_ERROR",
        message,
    )


# -- HubSpot: faults on the new routes -------------------------------------------------------------


def test_a_create_applied_then_dropped_is_found_by_search_not_made_twice(portal):
    portal.srv.add_fault(Fault(kind="drop_after_apply", path_prefix=TASKS_CREATE_PATH))
    with requests.Session() as session, pytest.raises(requests.ConnectionError):
        portal.create([portal.task("k1", "t1")], session)
    found = portal.search({"filterGroups": [{"filters": [eq("journey_key", "k1")]}]}).json()
    assert found["total"] == 1  # the client's check after the uncertain outcome: no second create
    assert [t["properties"]["journey_key"] for t in portal.srv.tasks.values()] == ["k1"]
    assert [(r.path, r.status, r.fault) for r in portal.srv.requests] == [
        (TASKS_CREATE_PATH, None, "drop_after_apply"),
        (TASKS_SEARCH_PATH, 200, None),
    ]


def test_a_retried_create_without_a_search_makes_a_second_task(portal):
    portal.create([portal.task("k1")])
    assert portal.create([portal.task("k1")]).status_code == 201  # hasUniqueValue is not enforced
    assert [t["properties"]["journey_key"] for t in portal.srv.tasks.values()] == ["k1", "k1"]


def test_5xx_429_and_drop_before_apply_on_tasks_create_nothing(portal):
    portal.srv.add_fault(Fault(kind="status", status=502, path_prefix=TASKS_PATH))
    portal.srv.add_fault(Fault(kind="rate_limit", path_prefix=TASKS_PATH))
    portal.srv.add_fault(Fault(kind="drop_before_apply", path_prefix=TASKS_PATH))
    failed, limited = portal.create([portal.task("k1")]), portal.create([portal.task("k1")])
    assert (failed.status_code, failed.json()["category"]) == (502, "INTERNAL_ERROR")
    assert (limited.status_code, limited.json()["policyName"]) == (429, "TEN_SECONDLY_ROLLING")
    with pytest.raises(requests.ConnectionError):
        portal.create([portal.task("k1")])
    assert (portal.srv.tasks, portal.srv.task_creates) == ({}, 0)


def test_owners_and_search_count_in_the_one_rate_window():
    with FakeHubSpot(rate_limit=RateLimit(max_requests=2, window_s=5)) as srv:
        srv.add_owner("csm@acme.io")
        answers = [hs_get(srv, OWNERS_PATH), post(srv, TASKS_SEARCH_PATH, {}), hs_get(srv, OWNERS_PATH)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert answers[2].headers["X-HubSpot-RateLimit-Remaining"] == "0"

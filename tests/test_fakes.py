"""The HubSpot and Customer.io fakes are as strict as the real APIs: each rule and fault, over HTTP."""

from __future__ import annotations

import base64
import json
import selectors
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import requests

from tests.fakes import FakeCustomerIO, FakeHubSpot, Fault, RateLimit
from tests.fakes.server import parse_rate_limit

PROJECT_DIR = Path(__file__).resolve().parent.parent
UPSERT = "/crm/v3/objects/contacts/batch/upsert"
PROPERTIES = "/crm/v3/properties/contacts"
BATCH = "/api/v2/batch"
HS_AUTH = {"Authorization": "Bearer pat-test"}
CIO_AUTH = ("site-test", "key-test")


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    with FakeHubSpot() as srv:
        yield srv


@pytest.fixture
def cio() -> Iterator[FakeCustomerIO]:
    with FakeCustomerIO() as srv:
        yield srv


def contact(email: str, trace: str | None = None, **properties: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"id": email, "idProperty": "email", "properties": properties}
    if trace is not None:
        item["objectWriteTraceId"] = trace
    return item


def upsert(srv: FakeHubSpot, inputs: list[Any], session: Any = requests) -> requests.Response:
    return session.post(f"{srv.base_url}{UPSERT}", headers=HS_AUTH, json={"inputs": inputs}, timeout=5)


def hs_get(srv: FakeHubSpot, path: str) -> requests.Response:
    return requests.get(f"{srv.base_url}{path}", headers=HS_AUTH, timeout=5)


def person(person_id: Any, action: str = "identify", **attributes: Any) -> dict[str, Any]:
    return {"type": "person", "identifiers": {"id": person_id}, "action": action, "attributes": attributes}


def batch(srv: FakeCustomerIO, items: list[Any], session: Any = requests) -> requests.Response:
    return session.post(f"{srv.base_url}{BATCH}", auth=CIO_AUTH, json={"batch": items}, timeout=5)


def property_messages(response: requests.Response) -> list[tuple[str, str]]:
    """(code, property name) of each entry in a HubSpot whole-batch 400."""
    return [(e["code"], e["context"]["propertyName"][0]) for e in response.json()["errors"]]


# -- shared machinery ------------------------------------------------------------------------------


def test_base_url_is_loopback_with_the_bound_port(hubspot):
    assert hubspot.base_url == f"http://127.0.0.1:{hubspot.port}"
    assert hubspot.port > 0


def test_session_reuses_one_keep_alive_connection(hubspot):
    with requests.Session() as session:
        answers = [session.get(f"{hubspot.base_url}{PROPERTIES}/email", headers=HS_AUTH) for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert all(int(a.headers["Content-Length"]) == len(a.content) for a in answers)
    assert hubspot.connections_opened == 1


def test_keep_alive_requests_cost_well_under_ten_milliseconds(hubspot):
    # two writes per answer (headers, body): with Nagle's algorithm on, each would wait ~40 ms for an ACK
    with requests.Session() as session:
        started = time.perf_counter()
        for _ in range(50):
            session.get(f"{hubspot.base_url}{PROPERTIES}/email", headers=HS_AUTH)
        elapsed = time.perf_counter() - started
    assert elapsed < 0.5


def test_request_log_records_the_request_and_redacts_authorization(hubspot):
    upsert(hubspot, [contact("a@x.io"), contact("b@x.io")])
    [entry] = hubspot.requests
    assert (entry.method, entry.path, entry.status, entry.items, entry.fault) == (
        "POST",
        UPSERT,
        200,
        2,
        None,
    )
    assert entry.body == {"inputs": [contact("a@x.io"), contact("b@x.io")]}
    assert entry.headers["authorization"] == "REDACTED"
    assert "pat-test" not in json.dumps(entry.headers)
    hubspot.reset_log()
    assert hubspot.requests == []


def test_status_fault_answers_the_status_and_applies_nothing(hubspot):
    hubspot.add_fault(Fault(kind="status", status=502))
    first = upsert(hubspot, [contact("a@x.io")])
    assert first.status_code == 502
    assert first.json()["status"] == "error"
    assert hubspot.contacts == {}
    assert upsert(hubspot, [contact("a@x.io")]).status_code == 200
    assert hubspot.upserts == 1
    assert [r.fault for r in hubspot.requests] == ["status", None]


def test_fault_times_after_and_path_prefix(hubspot):
    hubspot.add_fault(Fault(kind="status", status=500, times=2, after=1, path_prefix=UPSERT))
    assert hs_get(hubspot, PROPERTIES).status_code == 200  # other path: not counted, not failed
    statuses = [upsert(hubspot, [contact(f"u{i}@x.io")]).status_code for i in range(4)]
    assert statuses == [200, 500, 500, 200]
    assert sorted(hubspot.contacts) == ["u0@x.io", "u3@x.io"]


def test_faults_are_consumed_in_order(hubspot):
    hubspot.add_fault(Fault(kind="status", status=503))
    hubspot.add_fault(Fault(kind="status", status=504))
    statuses = [hs_get(hubspot, PROPERTIES).status_code for _ in range(3)]
    assert statuses == [503, 504, 200]


def test_rate_limit_fault_sends_hubspots_429_with_retry_after_only_when_asked(hubspot):
    hubspot.add_fault(Fault(kind="rate_limit", retry_after=2))
    hubspot.add_fault(Fault(kind="rate_limit"))
    with_header, without = hs_get(hubspot, PROPERTIES), hs_get(hubspot, PROPERTIES)
    assert (with_header.status_code, without.status_code) == (429, 429)
    assert with_header.headers["Retry-After"] == "2"
    assert "Retry-After" not in without.headers
    assert without.json()["policyName"] == "TEN_SECONDLY_ROLLING"
    assert without.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert without.headers["X-HubSpot-RateLimit-Max"] == "100"
    assert without.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"


def test_drop_after_apply_applies_the_write_then_closes_without_answer(hubspot):
    hubspot.add_fault(Fault(kind="drop_after_apply"))
    with requests.Session() as session, pytest.raises(requests.ConnectionError):
        upsert(hubspot, [contact("a@x.io", firstname="Ann")], session)
    assert hubspot.contacts == {"a@x.io": {"email": "a@x.io", "firstname": "Ann"}}
    assert hubspot.upserts == 1
    assert [(r.status, r.fault) for r in hubspot.requests] == [(None, "drop_after_apply")]


def test_drop_before_apply_closes_without_applying(hubspot):
    hubspot.add_fault(Fault(kind="drop_before_apply"))
    with pytest.raises(requests.ConnectionError):
        upsert(hubspot, [contact("a@x.io")])
    assert hubspot.contacts == {}
    assert hubspot.upserts == 0


def test_outage_503_fails_every_request_until_turned_off(hubspot):
    hubspot.set_outage(True)
    assert [upsert(hubspot, [contact("a@x.io")]).status_code for _ in range(3)] == [503] * 3
    assert hubspot.contacts == {}
    hubspot.set_outage(False)
    assert upsert(hubspot, [contact("a@x.io")]).status_code == 200


def test_outage_refuse_refuses_connections_then_recovers_on_the_same_url(hubspot):
    url = hubspot.base_url
    with requests.Session() as session:
        assert session.get(f"{url}{PROPERTIES}", headers=HS_AUTH).status_code == 200
        hubspot.set_outage(True, mode="refuse")
        with pytest.raises(requests.ConnectionError):
            session.get(f"{url}{PROPERTIES}", headers=HS_AUTH)
        hubspot.set_outage(False)
        assert session.get(f"{url}{PROPERTIES}", headers=HS_AUTH).status_code == 200
    assert hubspot.base_url == url


def test_refuse_outage_set_before_start_and_after_stop():
    srv = FakeHubSpot()
    srv.set_outage(True, mode="refuse")
    with srv:
        with pytest.raises(requests.ConnectionError):
            hs_get(srv, PROPERTIES)
        srv.set_outage(False)
        assert hs_get(srv, PROPERTIES).status_code == 200
        srv.set_outage(True, mode="refuse")
    srv.set_outage(False)  # stopped: must not start listening again
    with pytest.raises(requests.ConnectionError):
        hs_get(srv, PROPERTIES)


def test_bad_fault_and_outage_arguments_are_refused():
    with pytest.raises(ValueError):
        Fault(kind=cast(Any, "explode"))
    with pytest.raises(ValueError):
        Fault(kind="status", times=0)
    with FakeHubSpot() as srv, pytest.raises(ValueError):
        srv.set_outage(True, mode=cast(Any, "maybe"))


def test_parse_rate_limit():
    assert parse_rate_limit("100/10") == RateLimit(max_requests=100, window_s=10.0)
    assert parse_rate_limit("5/0.5") == RateLimit(max_requests=5, window_s=0.5)
    with pytest.raises(ValueError):
        parse_rate_limit("100 per 10")


def test_hubspot_rate_limiter_429_has_policy_headers_and_no_retry_after():
    with FakeHubSpot(rate_limit=RateLimit(max_requests=3, window_s=0.5)) as srv:
        answers = [hs_get(srv, PROPERTIES) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert [a.headers["X-HubSpot-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
        limited = answers[3]
        assert limited.headers["X-HubSpot-RateLimit-Max"] == "3"
        assert limited.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "500"
        assert "Retry-After" not in limited.headers
        body = limited.json()
        assert (body["status"], body["errorType"], body["policyName"]) == (
            "error",
            "RATE_LIMIT",
            "TEN_SECONDLY_ROLLING",
        )
        assert srv.rate_limited == 1
        time.sleep(0.55)
        assert hs_get(srv, PROPERTIES).status_code == 200


@pytest.mark.parametrize(("count_rejected", "last_status"), [(True, 429), (False, 200)])
def test_rejected_requests_occupy_the_window_only_when_counted(count_rejected, last_status):
    limit = RateLimit(max_requests=2, window_s=0.6, count_rejected=count_rejected)
    with FakeHubSpot(rate_limit=limit) as srv:
        assert [hs_get(srv, PROPERTIES).status_code for _ in range(2)] == [200, 200]
        time.sleep(0.3)
        assert hs_get(srv, PROPERTIES).status_code == 429  # t=0.3: the window is full
        time.sleep(0.4)  # t=0.7: the first two have left the window
        assert hs_get(srv, PROPERTIES).status_code == 200
        # counted, the 429 at t=0.3 is still in the window with the one just admitted: full
        assert hs_get(srv, PROPERTIES).status_code == last_status


def test_auth_failures_and_faults_do_not_use_the_rate_window():
    with FakeHubSpot(rate_limit=RateLimit(max_requests=1, window_s=5)) as srv:
        srv.add_fault(Fault(kind="status", status=500))
        assert hs_get(srv, PROPERTIES).status_code == 500
        assert requests.get(f"{srv.base_url}{PROPERTIES}", timeout=5).status_code == 401
        assert hs_get(srv, PROPERTIES).status_code == 200
        assert hs_get(srv, PROPERTIES).status_code == 429


def test_concurrent_sessions_are_applied_exactly_once():
    with FakeHubSpot() as srv:

        def worker(n: int) -> list[int]:
            with requests.Session() as session:
                return [upsert(srv, [contact(f"w{n}-{i}@x.io")], session).status_code for i in range(25)]

        results: list[list[int]] = []
        threads = [threading.Thread(target=lambda n=n: results.append(worker(n))) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(s for r in results for s in r) == [200] * 200
        assert len(srv.contacts) == 200
        assert srv.upserts == 200
        assert len(set(srv.contact_ids.values())) == 200
        assert len(srv.requests) == 200
        assert srv.connections_opened == 8


def test_latency_is_added_to_every_request():
    with FakeHubSpot(latency_s=0.15) as srv:
        started = time.perf_counter()
        assert hs_get(srv, PROPERTIES).status_code == 200
        assert time.perf_counter() - started >= 0.15


@pytest.mark.parametrize(
    ("module", "path", "auth"), [("hubspot", PROPERTIES, HS_AUTH), ("customerio", BATCH, None)]
)
def test_standalone_server_prints_its_base_url(module, path, auth):
    command = [sys.executable, "-m", f"tests.fakes.{module}", "--port", "0", "--rate-limit", "5/1"]
    process = subprocess.Popen(command, cwd=PROJECT_DIR, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            assert selector.select(timeout=15), "the fake printed nothing"
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        if auth is None:
            answer = requests.post(
                f"{base_url}{path}", auth=CIO_AUTH, json={"batch": [person("c1")]}, timeout=5
            )
        else:
            answer = requests.get(f"{base_url}{path}", headers=auth, timeout=5)
        assert answer.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=5)


# -- HubSpot: authentication and bodies ------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "bearer pat-test"},
        {"Authorization": "pat-test"},
    ],
)
def test_hubspot_needs_the_exact_bearer_token(hubspot, headers):
    answer = requests.post(
        f"{hubspot.base_url}{UPSERT}", headers=headers, json={"inputs": [contact("a@x.io")]}
    )
    assert answer.status_code == 401
    body = answer.json()
    assert (body["status"], body["category"]) == ("error", "INVALID_AUTHENTICATION")
    assert body["message"] and body["correlationId"]
    assert hubspot.contacts == {}


def test_hubspot_refuses_a_body_that_is_not_json_content_type(hubspot):
    answer = requests.post(
        f"{hubspot.base_url}{UPSERT}", headers={**HS_AUTH, "Content-Type": "text/plain"}, data="{}"
    )
    assert answer.status_code == 415
    assert answer.json()["category"] == "UNSUPPORTED_MEDIA_TYPE"


def test_hubspot_refuses_invalid_json(hubspot):
    headers = {**HS_AUTH, "Content-Type": "application/json"}
    answer = requests.post(f"{hubspot.base_url}{UPSERT}", headers=headers, data='{"inputs": [')
    assert answer.status_code == 400
    assert answer.json()["category"] == "VALIDATION_ERROR"
    assert answer.json()["message"].startswith("Invalid input JSON")


def test_hubspot_unknown_path_is_404_and_wrong_method_405(hubspot):
    assert hs_get(hubspot, "/crm/v3/objects/deals").status_code == 404
    assert hs_get(hubspot, "/crm/v3/properties/deals").status_code == 404
    assert hs_get(hubspot, UPSERT).status_code == 405


# -- HubSpot: batch upsert -------------------------------------------------------------------------


def test_upsert_creates_then_updates_the_same_contact(hubspot):
    first = upsert(hubspot, [contact("Ann@Acme.io", "t1", firstname="Ann", lifecyclestage="lead")])
    assert first.status_code == 200
    body = first.json()
    assert body["status"] == "COMPLETE"
    assert {"startedAt", "completedAt"} <= set(body)
    [created] = body["results"]
    assert created["new"] is True
    assert created["archived"] is False
    assert created["objectWriteTraceId"] == "t1"
    assert created["id"].isdigit()
    assert created["properties"]["email"] == "ann@acme.io"
    assert created["properties"]["hs_object_id"] == created["id"]
    assert {"createdAt", "updatedAt"} <= set(created)
    assert hubspot.contacts == {
        "ann@acme.io": {"email": "ann@acme.io", "firstname": "Ann", "lifecyclestage": "lead"}
    }

    second = upsert(hubspot, [contact("ann@acme.io", "t2", lastname="Lee")])
    [updated] = second.json()["results"]
    assert (updated["id"], updated["new"]) == (created["id"], False)
    assert hubspot.contacts["ann@acme.io"] == {
        "email": "ann@acme.io",
        "firstname": "Ann",
        "lifecyclestage": "lead",
        "lastname": "Lee",
    }
    assert hubspot.contact_ids == {"ann@acme.io": created["id"]}
    assert hubspot.upserts == 2


def test_upsert_empty_string_clears_a_property(hubspot):
    upsert(hubspot, [contact("a@x.io", firstname="Ann", lastname="Lee")])
    assert upsert(hubspot, [contact("a@x.io", firstname="")]).status_code == 200
    assert hubspot.contacts["a@x.io"] == {"email": "a@x.io", "lastname": "Lee"}


def test_upsert_results_are_not_in_input_order(hubspot):
    inputs = [contact(f"c{i}@x.io", f"t{i}") for i in range(3)]
    results = upsert(hubspot, inputs).json()["results"]
    assert [r["objectWriteTraceId"] for r in results] == ["t2", "t1", "t0"]
    assert [r["properties"]["email"] for r in results] == ["c2@x.io", "c1@x.io", "c0@x.io"]


@pytest.mark.parametrize("count", [0, 101])
def test_upsert_needs_between_1_and_100_inputs(hubspot, count):
    answer = upsert(hubspot, [contact(f"c{i}@x.io") for i in range(count)])
    assert answer.status_code == 400
    assert answer.json()["category"] == "VALIDATION_ERROR"
    assert hubspot.contacts == {}
    assert hubspot.upserts == 0


def test_upsert_accepts_exactly_100_inputs(hubspot):
    assert upsert(hubspot, [contact(f"c{i}@x.io") for i in range(100)]).status_code == 200
    assert hubspot.upserts == 100
    assert hubspot.requests[0].items == 100


@pytest.mark.parametrize("value", [42, 1.5, True, None, ["a"]])
def test_upsert_refuses_property_values_that_are_not_strings(hubspot, value):
    answer = upsert(hubspot, [contact("a@x.io", firstname="Ann"), contact("b@x.io", firstname=value)])
    assert answer.status_code == 400
    assert "is not a string" in answer.json()["message"]
    assert hubspot.contacts == {}


@pytest.mark.parametrize(
    ("item", "fragment"),
    [
        ({"id": "a@x.io", "properties": {}}, "idProperty"),
        ({"id": "a@x.io", "idProperty": "hs_object_id", "properties": {}}, "idProperty"),
        ({"idProperty": "email", "properties": {}}, "id is required"),
        ({"id": "a@x.io", "idProperty": "email"}, "properties is required"),
        ({"id": "a@x.io", "idProperty": "email", "properties": {}, "associations": []}, "unknown field"),
        ({"id": "a@x.io", "idProperty": "email", "properties": {"email": "b@x.io"}}, "differs from id"),
    ],
)
def test_upsert_refuses_malformed_inputs_whole_batch(hubspot, item, fragment):
    answer = upsert(hubspot, [contact("ok@x.io"), item])
    assert answer.status_code == 400
    assert fragment in answer.json()["message"]
    assert hubspot.contacts == {}


def test_upsert_refuses_duplicate_ids_whole_batch(hubspot):
    answer = upsert(hubspot, [contact("a@x.io"), contact("b@x.io"), contact("A@X.io")])
    assert answer.status_code == 400
    assert answer.json()["message"] == "Duplicate IDs found in batch input: ['a@x.io']. IDs must be unique"
    assert hubspot.contacts == {}


def test_upsert_refuses_duplicate_trace_ids_whole_batch(hubspot):
    answer = upsert(hubspot, [contact("a@x.io", "t"), contact("b@x.io", "t")])
    assert answer.status_code == 400
    assert "objectWriteTraceId" in answer.json()["message"]


def test_upsert_unknown_property_rejects_the_whole_batch(hubspot):
    answer = upsert(hubspot, [contact("a@x.io", firstname="Ann"), contact("b@x.io", favourite_colour="red")])
    assert answer.status_code == 400
    body = answer.json()
    assert body["category"] == "VALIDATION_ERROR"
    assert body["message"].startswith("Property values were not valid: ")
    assert 'Property \\"favourite_colour\\" does not exist' in body["message"]
    assert property_messages(answer) == [("PROPERTY_DOESNT_EXIST", "favourite_colour")]
    assert hubspot.contacts == {}
    assert hubspot.upserts == 0


def test_upsert_one_bad_enumeration_value_rejects_the_whole_batch(hubspot):
    inputs = [
        contact("a@x.io", lifecyclestage="lead"),
        contact("b@x.io", lifecyclestage="vip"),
        contact("c@x.io"),
    ]
    answer = upsert(hubspot, inputs)
    assert answer.status_code == 400
    [error] = answer.json()["errors"]
    assert error["code"] == "INVALID_OPTION"
    assert error["context"] == {"propertyName": ["lifecyclestage"]}
    assert error["message"].startswith("vip was not one of the allowed options: [subscriber, lead,")
    embedded = json.loads(answer.json()["message"].removeprefix("Property values were not valid: "))
    assert embedded[0]["name"] == "lifecyclestage"
    assert embedded[0]["propertyValue"] == "vip"
    assert hubspot.contacts == {}


TYPED_PROPERTIES: list[dict[str, Any]] = [
    {"name": "p_number", "label": "N", "type": "number", "fieldType": "number"},
    {
        "name": "p_bool",
        "label": "B",
        "type": "bool",
        "fieldType": "booleancheckbox",
        "options": [
            {"label": "Yes", "value": "true", "hidden": False},
            {"label": "No", "value": "false", "hidden": False},
        ],
    },
    {"name": "p_date", "label": "D", "type": "date", "fieldType": "date"},
    {"name": "p_datetime", "label": "DT", "type": "datetime", "fieldType": "date"},
    {
        "name": "p_multi",
        "label": "M",
        "type": "enumeration",
        "fieldType": "checkbox",
        "options": [{"label": x, "value": x, "hidden": False} for x in ("a", "b")],
    },
]


@pytest.fixture
def typed_hubspot(hubspot):
    for spec in TYPED_PROPERTIES:
        created = requests.post(
            f"{hubspot.base_url}{PROPERTIES}",
            headers=HS_AUTH,
            json={**spec, "groupName": "contactinformation"},
        )
        assert created.status_code == 201, created.text
    return hubspot


@pytest.mark.parametrize(
    ("name", "value", "code"),
    [
        ("p_number", "12", None),
        ("p_number", "-12.50", None),
        ("p_number", "1e3", "INVALID_INTEGER"),
        ("p_number", "1.4210854715202004e-14", "INVALID_INTEGER"),
        ("p_number", " 5", "INVALID_INTEGER"),
        ("p_number", "abc", "INVALID_INTEGER"),
        ("p_bool", "true", None),
        ("p_bool", "false", None),
        ("p_bool", "True", "INVALID_OPTION"),
        ("p_bool", "yes", "INVALID_OPTION"),
        ("p_date", "2026-03-01", None),
        ("p_date", "1772323200000", None),  # 2026-03-01T00:00:00Z
        ("p_date", "1772337600000", "INVALID_DATE"),  # 04:00 UTC
        ("p_date", "2026-3-1", "INVALID_DATE"),
        ("p_date", "2026-02-30", "INVALID_DATE"),
        ("p_date", "2026-03-01T00:00:00Z", "INVALID_DATE"),
        ("p_datetime", "2026-03-01T10:00:00Z", None),
        ("p_datetime", "2026-03-01T10:00:00.123+02:00", None),
        ("p_datetime", "1772359200000", None),
        ("p_datetime", "2026-03-01", "INVALID_LONG"),
        ("p_datetime", "2026-03-01T10:00:00", "INVALID_LONG"),
        ("p_multi", "a;b", None),
        ("p_multi", "a;c", "INVALID_OPTION"),
        ("p_number", "", None),  # empty clears, for every type
        ("p_date", "", None),
    ],
)
def test_upsert_validates_each_value_against_its_property_type(typed_hubspot, name, value, code):
    answer = upsert(typed_hubspot, [contact("a@x.io", **{name: value})])
    if code is None:
        assert answer.status_code == 200, answer.text
        assert typed_hubspot.contacts["a@x.io"].get(name) == (value or None)
    else:
        assert answer.status_code == 400
        assert property_messages(answer) == [(code, name)]
        assert typed_hubspot.contacts == {}


def test_upsert_date_error_says_when_the_epoch_is_not_midnight(typed_hubspot):
    answer = upsert(typed_hubspot, [contact("a@x.io", p_date="1772337600000")])
    assert answer.json()["errors"][0]["message"] == "1772337600000 is at 4:0:0.0 UTC, not midnight!"


def test_upsert_per_input_rejections_give_207_and_apply_the_rest(hubspot):
    hubspot.reject_emails = {"Blocked@x.io"}
    inputs = [
        contact("a@x.io", "t-a", firstname="A"),
        contact("blocked@x.io", "t-blocked", firstname="B"),
        contact("not-an-email", "t-bad", firstname="C"),
        contact("d@x.io", "t-d", firstname="D"),
    ]
    answer = upsert(hubspot, inputs)
    assert answer.status_code == 207
    body = answer.json()
    assert (body["status"], body["numErrors"]) == ("COMPLETE", 2)
    assert sorted(r["objectWriteTraceId"] for r in body["results"]) == ["t-a", "t-d"]
    assert sorted(e["context"]["objectWriteTraceId"][0] for e in body["errors"]) == ["t-bad", "t-blocked"]
    for error in body["errors"]:
        assert (error["status"], error["category"]) == ("error", "VALIDATION_ERROR")
        assert error["errors"][0]["code"] == "INVALID_EMAIL"
        assert error["links"] == {}
    assert sorted(hubspot.contacts) == ["a@x.io", "d@x.io"]
    assert hubspot.upserts == 2


def test_upsert_error_without_trace_id_cannot_be_mapped_by_context(hubspot):
    answer = upsert(hubspot, [contact("a@x.io"), contact("nope")])
    assert answer.status_code == 207
    assert answer.json()["errors"][0]["context"] == {}


def test_upsert_all_inputs_rejected_is_still_207_with_no_results(hubspot):
    hubspot.reject_emails = {"a@x.io"}
    answer = upsert(hubspot, [contact("a@x.io", "t")])
    assert answer.status_code == 207
    assert (answer.json()["results"], answer.json()["numErrors"]) == ([], 1)
    assert hubspot.upserts == 0


# -- HubSpot: properties and groups ----------------------------------------------------------------


def test_default_properties_and_group_are_listed(hubspot):
    names = {p["name"] for p in hs_get(hubspot, PROPERTIES).json()["results"]}
    assert {"email", "firstname", "lastname", "lifecyclestage"} <= names
    lifecycle = hs_get(hubspot, f"{PROPERTIES}/lifecyclestage").json()
    assert (lifecycle["type"], lifecycle["groupName"], lifecycle["hubspotDefined"]) == (
        "enumeration",
        "contactinformation",
        True,
    )
    groups = hs_get(hubspot, f"{PROPERTIES}/groups").json()["results"]
    assert [g["name"] for g in groups] == ["contactinformation"]


def test_get_missing_property_is_404(hubspot):
    answer = hs_get(hubspot, f"{PROPERTIES}/onboarding_track")
    assert answer.status_code == 404
    assert answer.json()["category"] == "OBJECT_NOT_FOUND"


def create_group(srv: FakeHubSpot, name: str = "onboarding") -> requests.Response:
    return requests.post(
        f"{srv.base_url}{PROPERTIES}/groups", headers=HS_AUTH, json={"name": name, "label": "Onboarding"}
    )


def create_property(srv: FakeHubSpot, **overrides: Any) -> requests.Response:
    spec = {
        "name": "onboarding_track",
        "label": "Onboarding track",
        "type": "enumeration",
        "fieldType": "select",
        "groupName": "onboarding",
        "options": [{"label": "Self serve", "value": "self_serve", "hidden": False}],
        **overrides,
    }
    return requests.post(f"{srv.base_url}{PROPERTIES}", headers=HS_AUTH, json=spec)


def test_group_create_read_and_conflict(hubspot):
    created = create_group(hubspot)
    assert created.status_code == 201
    assert created.json() == {
        "name": "onboarding",
        "label": "Onboarding",
        "displayOrder": -1,
        "archived": False,
    }
    assert hs_get(hubspot, f"{PROPERTIES}/groups/onboarding").json()["label"] == "Onboarding"
    assert create_group(hubspot).status_code == 409
    assert hs_get(hubspot, f"{PROPERTIES}/groups/missing").status_code == 404
    assert set(hubspot.groups) == {"contactinformation", "onboarding"}


def test_created_property_is_usable_in_upserts(hubspot):
    create_group(hubspot)
    created = create_property(hubspot)
    assert created.status_code == 201
    body = created.json()
    assert (body["name"], body["type"], body["fieldType"], body["hubspotDefined"]) == (
        "onboarding_track",
        "enumeration",
        "select",
        False,
    )
    assert hs_get(hubspot, f"{PROPERTIES}/onboarding_track").json()["options"][0]["value"] == "self_serve"
    assert upsert(hubspot, [contact("a@x.io", onboarding_track="self_serve")]).status_code == 200
    assert upsert(hubspot, [contact("a@x.io", onboarding_track="sales_led")]).status_code == 400
    assert create_property(hubspot).status_code == 409


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"label": None}, "label is required"),
        ({"type": None}, "type is required"),
        ({"groupName": "missing"}, "does not exist"),
        ({"name": "Onboarding-Track"}, "must start with a lowercase letter"),
        ({"type": "string", "fieldType": "select", "options": []}, "combination"),
        ({"type": "number", "fieldType": "text", "options": []}, "combination"),
        ({"options": []}, "at least one option"),
        ({"options": [{"label": "A", "value": "a"}]}, "hidden is required"),
        ({"options": [{"label": "A", "value": "a", "hidden": False}] * 2}, "unique"),
        ({"type": "bool", "fieldType": "booleancheckbox", "options": []}, '"true" and "false"'),
        ({"type": "string", "fieldType": "text"}, "take no options"),
        ({"colour": "red"}, "unknown field"),
    ],
)
def test_property_create_validation(hubspot, overrides, fragment):
    create_group(hubspot)
    answer = create_property(hubspot, **overrides)
    assert answer.status_code == 400
    assert fragment in answer.json()["message"]
    assert "onboarding_track" not in hubspot.properties


@pytest.mark.parametrize(
    ("kind", "field_type", "options"),
    [
        ("string", "text", []),
        ("string", "textarea", []),
        ("number", "number", []),
        ("date", "date", []),
        ("datetime", "date", []),
        ("enumeration", "radio", [{"label": "A", "value": "a", "hidden": False}]),
        ("enumeration", "checkbox", [{"label": "A", "value": "a", "hidden": False}]),
    ],
)
def test_property_create_accepts_the_valid_type_pairs(hubspot, kind, field_type, options):
    create_group(hubspot)
    answer = create_property(hubspot, type=kind, fieldType=field_type, options=options)
    assert answer.status_code == 201, answer.text
    assert hubspot.properties["onboarding_track"]["type"] == kind


def test_property_update_changes_label_and_options(hubspot):
    create_group(hubspot)
    create_property(hubspot)
    options = [
        {"label": "Self serve", "value": "self_serve", "hidden": False},
        {"label": "Sales led", "value": "sales_led", "hidden": False},
    ]
    url = f"{hubspot.base_url}{PROPERTIES}/onboarding_track"
    answer = requests.patch(url, headers=HS_AUTH, json={"label": "Track", "options": options})
    assert answer.status_code == 200
    assert answer.json()["label"] == "Track"
    assert [o["value"] for o in hubspot.properties["onboarding_track"]["options"]] == [
        "self_serve",
        "sales_led",
    ]
    assert upsert(hubspot, [contact("a@x.io", onboarding_track="sales_led")]).status_code == 200


def test_property_update_refusals(hubspot):
    create_group(hubspot)
    create_property(hubspot)
    base = f"{hubspot.base_url}{PROPERTIES}"
    assert requests.patch(f"{base}/missing", headers=HS_AUTH, json={"label": "X"}).status_code == 404
    assert (
        requests.patch(f"{base}/onboarding_track", headers=HS_AUTH, json={"options": []}).status_code == 400
    )
    assert (
        requests.patch(f"{base}/onboarding_track", headers=HS_AUTH, json={"name": "other"}).status_code == 400
    )
    assert (
        requests.patch(f"{base}/lifecyclestage", headers=HS_AUTH, json={"label": "Stage"}).status_code == 400
    )
    assert hubspot.properties["onboarding_track"]["label"] == "Onboarding track"


# -- Customer.io: authentication and requests ------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic " + base64.b64encode(b"site-test:wrong").decode()},
        {"Authorization": "Basic " + base64.b64encode(b"site-test").decode()},
        {"Authorization": "Bearer key-test"},
        {"Authorization": "Basic not-base64!"},
    ],
)
def test_customerio_needs_basic_site_id_and_api_key(cio, headers):
    answer = requests.post(f"{cio.base_url}{BATCH}", headers=headers, json={"batch": [person("c1")]})
    assert answer.status_code == 401
    assert answer.json() == {"meta": {"error": "Unauthorized request"}}
    assert cio.people == {}


def test_customerio_refuses_non_json_and_invalid_json(cio):
    text = requests.post(
        f"{cio.base_url}{BATCH}", auth=CIO_AUTH, data="{}", headers={"Content-Type": "text/plain"}
    )
    assert text.status_code == 415
    broken = requests.post(
        f"{cio.base_url}{BATCH}", auth=CIO_AUTH, data="{", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    assert "error" in broken.json()["meta"]


@pytest.mark.parametrize("body", [{"batch": []}, {"batch": "x"}, {"items": [person("c1")]}, [person("c1")]])
def test_customerio_batch_needs_a_non_empty_batch_list(cio, body):
    answer = requests.post(f"{cio.base_url}{BATCH}", auth=CIO_AUTH, json=body)
    assert answer.status_code == 400
    assert set(answer.json()) == {"meta"}


# -- Customer.io: v2 batch -------------------------------------------------------------------------


def test_batch_identify_stores_attributes_keeping_json_types(cio):
    answer = batch(
        cio, [person("c1", is_stalled=True, milestones=3, score=0.25, track="self_serve"), person("c2")]
    )
    assert answer.status_code == 200
    assert answer.json() == {}
    assert cio.people == {
        "c1": {"is_stalled": True, "milestones": 3, "score": 0.25, "track": "self_serve"},
        "c2": {},
    }
    assert cio.identifies == 2
    assert cio.requests[0].items == 2


def test_identify_merges_and_null_or_empty_removes_attributes(cio):
    batch(cio, [person("c1", a=1, b="x", c=False)])
    batch(cio, [person("c1", a=None, b="", d="new")])
    assert cio.people == {"c1": {"c": False, "d": "new"}}
    assert cio.identifies == 2


def test_batch_with_some_invalid_items_is_207_and_applies_the_valid_ones(cio):
    items = [person("c1", plan="pro"), person("c2", plan="x" * 1001), person("c3", plan="team")]
    answer = batch(cio, items)
    assert answer.status_code == 207
    assert answer.json() == {
        "errors": [
            {
                "batch_index": 1,
                "reason": "invalid",
                "field": "attributes.plan",
                "message": "value for attribute 'plan' cannot be longer than 1000 bytes",
            }
        ]
    }
    assert cio.people == {"c1": {"plan": "pro"}, "c3": {"plan": "team"}}
    assert cio.identifies == 2


def test_partial_status_200_still_lists_the_errors():
    with FakeCustomerIO(partial_status=200) as srv:
        answer = batch(srv, [person("c1"), person("")])
        assert answer.status_code == 200
        assert [e["batch_index"] for e in answer.json()["errors"]] == [1]
        assert set(srv.people) == {"c1"}


def test_batch_with_only_invalid_items_is_400_and_applies_nothing(cio):
    answer = batch(cio, [person(""), person(7)])
    assert answer.status_code == 400
    assert [(e["batch_index"], e["field"]) for e in answer.json()["errors"]] == [
        (0, "identifiers.id"),
        (1, "identifiers.id"),
    ]
    assert cio.people == {}
    assert cio.identifies == 0


def big_attributes(count: int) -> dict[str, Any]:
    return {f"a{i}": i for i in range(count)}


@pytest.mark.parametrize(
    ("item", "reason", "field", "message"),
    [
        (
            person("c1", **{"n" * 151: cast(Any, 1)}),
            "invalid",
            "attributes." + "n" * 151,
            "attribute name cannot be longer",
        ),
        (person("c1", bio="é" * 501), "invalid", "attributes.bio", "cannot be longer than 1000 bytes"),
        (
            person("c1", tags=["x" * 600, "y" * 600]),
            "invalid",
            "attributes.tags",
            "cannot be longer than 1000",
        ),
        (person("c1", **big_attributes(301)), "invalid", "attributes", "more than 300 attributes"),
        ({**person("c1"), "type": "object"}, "invalid", "type", "not supported"),
        ({**person("c1"), "type": "company"}, "invalid", "type", "unknown type"),
        ({**person("c1"), "action": "screen"}, "invalid", "action", "not supported"),
        ({**person("c1"), "action": "upsert"}, "invalid", "action", "unknown action"),
        ({"type": "person", "identifiers": {"id": "c1"}}, "required", "action", "action is required"),
        ({"type": "person", "action": "identify"}, "required", "identifiers", "identifiers are required"),
        ({**person("c1"), "identifiers": {}}, "required", "identifiers.id", "id attribute must be present"),
        ({**person("c1"), "identifiers": {"email": "a@x.io"}}, "invalid", "identifiers", "exactly"),
        (person(12), "invalid", "identifiers.id", "id attribute must be a string value"),
        (person(""), "invalid", "identifiers.id", "id attribute cannot be an empty string"),
        (person("x" * 151), "invalid", "identifiers.id", "cannot be longer than 150 characters"),
        ({**person("c1"), "attributes": ["a"]}, "invalid", "attributes", "must be an object"),
        ("c1", "invalid", "", "must be an object"),
    ],
)
def test_batch_item_rules(cio, item, reason, field, message):
    answer = batch(cio, [person("ok"), item])
    assert answer.status_code == 207
    [error] = answer.json()["errors"]
    assert (error["batch_index"], error["reason"], error["field"]) == (1, reason, field)
    assert message in error["message"]
    assert cio.people == {"ok": {}}


def test_limits_at_the_boundary_are_accepted(cio):
    at_limits = person("x" * 150, **{"n" * 150: "é" * 500}, **big_attributes(299))
    assert batch(cio, [at_limits]).status_code == 200
    assert len(cio.people["x" * 150]) == 300


def test_item_larger_than_32kb_is_refused_alone(cio):
    attributes = {f"attr_{i}": "v" * 900 for i in range(40)}  # each value fine, item about 37 KB
    answer = batch(cio, [person("ok"), person("big", **attributes)])
    assert answer.status_code == 207
    [error] = answer.json()["errors"]
    assert (error["batch_index"], error["field"]) == (1, "")
    assert "32000 bytes" in error["message"]
    assert set(cio.people) == {"ok"}


def test_request_larger_than_500kb_is_413_and_applies_nothing(cio):
    items = [person(f"c{i}", note="n" * 900) for i in range(600)]  # about 600 KB
    answer = batch(cio, items)
    assert answer.status_code == 413
    assert "error" in answer.json()["meta"]
    assert cio.people == {}


def test_v2_delete_suppress_and_unsuppress_actions(cio):
    batch(cio, [person("c1", a=1), person("c2", a=2)])
    assert batch(cio, [person("c1", action="delete"), person("c2", action="suppress")]).status_code == 200
    assert cio.people == {}
    assert (cio.delete_calls, cio.suppress_calls) == (["c1"], ["c2"])
    batch(cio, [person("c2", a=3)])
    assert cio.people == {}  # suppressed: the identify is accepted but ignored
    batch(cio, [person("c2", action="unsuppress"), person("c2", a=4)])
    assert cio.people == {"c2": {"a": 4}}


# -- Customer.io: v1 -------------------------------------------------------------------------------


def test_v1_identify_merges_attributes(cio):
    url = f"{cio.base_url}/api/v1/customers/c1"
    assert requests.put(url, auth=CIO_AUTH, json={"plan": "pro", "active": True}).json() == {}
    answer = requests.put(url, auth=CIO_AUTH, json={"plan": "", "seats": 5})
    assert answer.status_code == 200
    assert cio.people == {"c1": {"active": True, "seats": 5}}
    assert cio.identifies == 2
    assert cio.requests[0].items == 1


def test_v1_identify_url_decodes_the_id(cio):
    requests.put(f"{cio.base_url}/api/v1/customers/cust%2F1%20a", auth=CIO_AUTH, json={"a": 1})
    assert cio.people == {"cust/1 a": {"a": 1}}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"bio": "x" * 1001}, "value for attribute 'bio' cannot be longer than 1000 bytes"),
        ({"n" * 151: 1}, "attribute name cannot be longer than 150 bytes"),
        (big_attributes(301), "cannot identify more than 300 attributes in one request"),
        (["not", "an", "object"], "request body must be a JSON object of attributes"),
    ],
)
def test_v1_identify_limits_are_400_meta_errors(cio, body, message):
    answer = requests.put(f"{cio.base_url}/api/v1/customers/c1", auth=CIO_AUTH, json=body)
    assert answer.status_code == 400
    assert answer.json() == {"meta": {"error": message}}
    assert cio.people == {}


def test_v1_identify_refuses_an_id_longer_than_150(cio):
    answer = requests.put(f"{cio.base_url}/api/v1/customers/{'x' * 151}", auth=CIO_AUTH, json={})
    assert answer.status_code == 400


def test_v1_suppress_deletes_records_and_blocks_re_identify(cio):
    requests.put(f"{cio.base_url}/api/v1/customers/c1", auth=CIO_AUTH, json={"a": 1})
    answer = requests.post(f"{cio.base_url}/api/v1/customers/c1/suppress", auth=CIO_AUTH)
    assert (answer.status_code, answer.json()) == (200, {})
    assert cio.people == {}
    assert cio.suppress_calls == ["c1"]
    requests.put(f"{cio.base_url}/api/v1/customers/c1", auth=CIO_AUTH, json={"a": 2})
    assert cio.people == {}
    assert cio.identifies == 1


def test_v1_delete_is_recorded(cio):
    requests.put(f"{cio.base_url}/api/v1/customers/c1", auth=CIO_AUTH, json={"a": 1})
    assert requests.delete(f"{cio.base_url}/api/v1/customers/c1", auth=CIO_AUTH).status_code == 200
    assert (cio.people, cio.delete_calls, cio.suppress_calls) == ({}, ["c1"], [])


def test_customerio_rate_limit_429_without_retry_after():
    with FakeCustomerIO(rate_limit=RateLimit(max_requests=2, window_s=0.5)) as srv:
        answers = [batch(srv, [person(f"c{i}")]) for i in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert answers[2].json() == {"meta": {"error": "Too Many Requests"}}
        assert "Retry-After" not in answers[2].headers
        assert not any(h.lower().startswith("x-hubspot") for h in answers[2].headers)
        assert srv.rate_limited == 1
        assert set(srv.people) == {"c0", "c1"}


def test_customerio_faults_use_its_error_shape(cio):
    cio.add_fault(Fault(kind="status", status=500))
    cio.add_fault(Fault(kind="rate_limit", retry_after=1.5))
    failed, limited = batch(cio, [person("c1")]), batch(cio, [person("c1")])
    assert (failed.status_code, set(failed.json())) == (500, {"meta"})
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "1.5")
    assert cio.people == {}
    cio.add_fault(Fault(kind="drop_after_apply", path_prefix="/api/v2"))
    with pytest.raises(requests.ConnectionError):
        batch(cio, [person("c1", a=1)])
    assert cio.people == {"c1": {"a": 1}}

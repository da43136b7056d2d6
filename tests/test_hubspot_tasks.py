"""HubSpot CSM tasks (sync/destinations/hubspot/tasks.py): `send_moments` over loopback against the
strict fake, with hand-made moments (no warehouse): owners, contacts, the task's properties, and
each task created exactly once through dropped answers, 5xx and 429s."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
import requests

from onboard.core.http import DestinationUnavailableError, RetryPolicy
from sync.destinations import PLUGINS
from sync.destinations.base import AuthenticationError, Credentials, Destination, Moment, SetupNeededError
from sync.destinations.hubspot import tasks
from sync.destinations.hubspot.config import HubSpotConfig
from tests import test_fakes
from tests.fakes import FakeHubSpot, Fault
from tests.fakes.hubspot import CONTACTS_READ_PATH, OWNERS_PATH, TASKS_CREATE_PATH, TASKS_SEARCH_PATH
from tests.test_fakes import contact, upsert

hubspot = test_fakes.hubspot  # a started FakeHubSpot per test (token pat-test)

TASK_PROPERTY = "/crm/v3/properties/tasks/onboarding_task_id"
AS_OF = datetime(2026, 3, 16, 12, 0)
FAST = RetryPolicy(max_attempts=4, base_seconds=0.01, cap_seconds=0.08)
CONFIG = HubSpotConfig.model_validate(
    {
        "model": "crm_contacts",
        "key": "email",
        "rate_limit": {"requests": 200, "per_seconds": 1},
        "property_group": {"name": "onboarding_paths", "label": "Onboarding paths"},
        "fields": {"customer_id": {"property": "onboarding_customer_id", "label": "Onboarding customer id"}},
        "moments": {
            "model": "csm_tasks",
            "id_column": "task_id",
            "send": {"day_30_checkin": True, "stall_recovery": True, "emergency_outreach": True},
        },
    }
).named("hubspot")


def task_id(customer: str, name: str, key: str = "") -> str:
    """csm_tasks.task_id: md5 of customer_id:name:task_key."""
    return hashlib.md5(f"{customer}:{name}:{key}".encode()).hexdigest()


def moment(customer: str, name: str = "day_30_checkin", owner: Any = "Cass Mills", **data: Any) -> Moment:
    """A csm_tasks row as the sync engine hands it over (its columns but task_id, customer_id, name,
    occurred_at in `data`)."""
    occurred = data.pop("occurred_at", datetime(2026, 3, 1, 10, 30))
    row: dict[str, Any] = {
        "task_key": "",
        "due_at": datetime(2026, 3, 31, 10, 30),
        "contact_email": f"{customer}@corp.io",
        "csm_owner": owner,
        "company_name": f"{customer.capitalize()} Inc",
        "track": "high_touch",
        "arr": Decimal("30000.000000"),
        "milestones_reached": "imported_first_data",
        "milestones_missing": "ran_first_query,invited_teammate",
        "stall_step": None,
        "stall_hours": None,
        "stall_severity": None,
        "recovery_subject": None,
        "recovery_body": None,
        "time_to_value_hours": None,
        "churn_risk_score": Decimal("0.1000"),
        **data,
    }
    return Moment(task_id(customer, name, row["task_key"]), customer, name, occurred, row)


def stall(customer: str, severity: str = "P1", owner: Any = "Cass Mills") -> Moment:
    return moment(
        customer,
        "stall_recovery",
        owner,
        task_key="1773475200",
        occurred_at=datetime(2026, 3, 14, 8, 0),
        due_at=AS_OF,
        stall_step="ran_first_query",
        stall_hours=52.26,
        stall_severity=severity,
        recovery_subject=f"{customer}: run your first query",
        recovery_body="Hi <team>,\nyour data is in.",
    )


@dataclass
class Portal:
    srv: FakeHubSpot
    cass: dict[str, Any]
    dan: dict[str, Any]
    contact_ids: dict[str, str]

    def open(self, config: HubSpotConfig = CONFIG) -> Destination:
        """A client for one run, as the sync opens it."""
        return PLUGINS["hubspot"].open(config, Credentials(self.srv.base_url, token="pat-test"), FAST)

    def tasks_by_id(self) -> dict[str, dict[str, Any]]:
        """Our task id -> the task HubSpot holds (the test fails if any id is there twice)."""
        held = Counter(t["properties"]["onboarding_task_id"] for t in self.srv.tasks.values())
        assert [key for key, count in held.items() if count > 1] == []
        return {t["properties"]["onboarding_task_id"]: t for t in self.srv.tasks.values()}

    def calls(self) -> list[tuple[str, str, int | None]]:
        return [(r.method, r.path, r.status) for r in self.srv.requests]


CUSTOMERS = ("acme", "bolt", "cora", "dune", "echo")


@pytest.fixture
def portal(hubspot: FakeHubSpot) -> Iterator[Portal]:
    """Two owners, a contact per customer, and `--setup` run (task property included)."""
    cass = hubspot.add_owner("Cass@Acme.io", "Cass", "Mills")
    dan = hubspot.add_owner("dan@acme.io", "Dan", "Ortiz")
    assert upsert(hubspot, [contact(f"{c}@corp.io") for c in CUSTOMERS]).status_code == 200
    client = PLUGINS["hubspot"].open(CONFIG, Credentials(hubspot.base_url, token="pat-test"), FAST)
    client.setup()
    client.close()
    hubspot.reset_log()
    yield Portal(hubspot, cass, dan, dict(hubspot.contact_ids))


def send(portal: Portal, moments: list[Moment]) -> Any:
    client = portal.open()
    try:
        return client.send_moments(moments)
    finally:
        client.close()


# --- the task ----------------------------------------------------------------------------------


def test_each_kind_of_task_is_created_with_its_properties_owner_and_contact(portal):
    checkin = moment("acme", time_to_value_hours=48.26)
    recovery = stall("bolt", "P1", owner="CASS@acme.io")
    outreach = moment(
        "cora", "emergency_outreach", " dan   ortiz ", occurred_at=AS_OF, due_at=AS_OF, arr=None
    )

    outcome = send(portal, [checkin, recovery, outreach])

    assert (outcome.acknowledged, outcome.failed) == ([checkin, recovery, outreach], [])
    held = portal.tasks_by_id()
    assert held[checkin.moment_id] == {
        "properties": {
            "hs_timestamp": "2026-03-31T10:30:00.000Z",
            "hs_task_subject": "Day-30 check-in: Acme Inc",
            "hs_task_body": (
                "<p>Activated 2026-03-01 10:30 UTC: check in on the first 30 days.</p>\n<ul>\n"
                "<li>Company: Acme Inc</li>\n<li>Track: high_touch</li>\n"
                "<li>Milestones reached: imported_first_data</li>\n"
                "<li>Milestones missing: ran_first_query,invited_teammate</li>\n"
                "<li>ARR (USD): 30000</li>\n<li>Time to value (hours): 48.3</li>\n"
                "<li>Churn-risk score: 0.1</li>\n</ul>"
            ),
            "hs_task_status": "NOT_STARTED",
            "hs_task_priority": "MEDIUM",
            "hs_task_type": "TODO",
            "hubspot_owner_id": portal.cass["id"],
            "onboarding_task_id": checkin.moment_id,
        },
        "associations": {"contacts": [portal.contact_ids["acme@corp.io"]]},
    }
    stalled = held[recovery.moment_id]["properties"]
    assert (stalled["hs_task_subject"], stalled["hs_timestamp"], stalled["hs_task_priority"]) == (
        "Stalled at ran_first_query (P1): Bolt Inc",
        "2026-03-16T12:00:00.000Z",
        "MEDIUM",
    )
    assert stalled["hs_task_body"] == (
        "<p>Stalled at ran_first_query since 2026-03-14 08:00 UTC (P1).</p>\n<ul>\n"
        "<li>Company: Bolt Inc</li>\n<li>Track: high_touch</li>\n"
        "<li>Milestones reached: imported_first_data</li>\n"
        "<li>Milestones missing: ran_first_query,invited_teammate</li>\n"
        "<li>ARR (USD): 30000</li>\n<li>Stalled for (hours): 52.3</li>\n"
        "<li>Churn-risk score: 0.1</li>\n</ul>\n"
        "<p><strong>Drafted recovery email</strong></p>\n"
        "<p>Subject: bolt: run your first query</p>\n"
        "<p>Hi &lt;team&gt;,<br>your data is in.</p>"
    )
    assert stalled["hubspot_owner_id"] == portal.cass["id"]  # by email, case-insensitively
    urgent = held[outreach.moment_id]["properties"]
    assert (urgent["hs_task_subject"], urgent["hs_task_priority"], urgent["hubspot_owner_id"]) == (
        "Emergency outreach: Cora Inc",
        "HIGH",
        portal.dan["id"],  # by name, case and spaces aside
    )
    assert "ARR" not in urgent["hs_task_body"]  # a null is left out, not written "None"
    assert held[outreach.moment_id]["associations"] == {"contacts": [portal.contact_ids["cora@corp.io"]]}
    assert portal.calls() == [
        ("GET", OWNERS_PATH, 200),
        ("GET", TASK_PROPERTY, 200),
        ("POST", CONTACTS_READ_PATH, 200),
        ("POST", TASKS_SEARCH_PATH, 200),
        ("POST", TASKS_CREATE_PATH, 201),
    ]


def test_a_p0_stall_is_high_priority(portal):
    send(portal, [stall("acme", "P0")])
    [task] = portal.srv.tasks.values()
    assert task["properties"]["hs_task_priority"] == "HIGH"


@pytest.mark.parametrize(
    ("csm_owner", "who", "problem"),
    [
        ("Cass Mills", "cass", ""),
        ("  cass   MILLS ", "cass", ""),
        ("cass@ACME.IO", "cass", ""),
        ("Dan Ortiz", "dan", ""),
        ("dan@acme.io", "dan", ""),
        ("Cass", None, "no HubSpot owner matches csm_owner 'Cass'"),
        ("cass.mills@acme.io", None, "no HubSpot owner matches csm_owner 'cass.mills@acme.io'"),
        ("Ghost Person", None, "no HubSpot owner matches csm_owner 'Ghost Person'"),
        (None, None, "no HubSpot owner matches csm_owner None"),
        ("", None, "no HubSpot owner matches csm_owner ''"),
        ("Ann Lee", None, "csm_owner 'Ann Lee' names 2 HubSpot owners: give the owner's email"),
        ("ann.b@acme.io", "ann_b", ""),
    ],
)
def test_an_owner_matches_by_email_with_an_at_sign_else_by_first_and_last_name(
    portal, csm_owner, who, problem
):
    portal.srv.add_owner("ann.a@acme.io", "Ann", "Lee")
    ann_b = portal.srv.add_owner("ann.b@acme.io", "Ann", "Lee")
    portal.srv.add_owner("gone@acme.io", "Ghost", "Person", archived=True)  # archived: never an owner
    client = portal.open()
    owners = tasks.list_owners(client.client)
    ids = {"cass": portal.cass["id"], "dan": portal.dan["id"], "ann_b": ann_b["id"], None: None}
    assert owners.match(csm_owner) == (ids[who], problem)


def test_owners_are_listed_once_a_run_page_by_page(portal):
    for n in range(150):
        portal.srv.add_owner(f"csm{n}@acme.io", "Csm", f"Number{n}")
    client = portal.open()
    first = client.send_moments([moment("acme", owner="Csm Number149")])
    second = client.send_moments([moment("bolt", owner="csm0@acme.io")])

    assert (len(first.acknowledged), len(second.acknowledged)) == (1, 1)
    owners = [(r.path, r.query) for r in portal.srv.requests if r.path == OWNERS_PATH]
    assert owners == [(OWNERS_PATH, "limit=100"), (OWNERS_PATH, "limit=100&after=100")]


# --- what fails alone --------------------------------------------------------------------------


def test_an_unknown_owner_fails_its_task_with_one_line_and_the_others_are_created(portal):
    unknown, known = moment("acme", owner="Pat Nobody"), moment("bolt")
    missing = moment("cora", owner=None)

    outcome = send(portal, [unknown, known, missing])

    assert outcome.acknowledged == [known]
    assert outcome.failed == [
        (unknown, None, "no HubSpot owner matches csm_owner 'Pat Nobody'"),
        (missing, None, "no HubSpot owner matches csm_owner None"),
    ]
    assert list(portal.tasks_by_id()) == [known.moment_id]


def test_a_missing_contact_fails_its_task(portal):
    stranger, known = moment("zed"), moment("acme")

    outcome = send(portal, [stranger, known])

    assert outcome.acknowledged == [known]
    assert outcome.failed == [(stranger, None, "no HubSpot contact has the email 'zed@corp.io'")]
    assert list(portal.tasks_by_id()) == [known.moment_id]
    [read] = [r for r in portal.srv.requests if r.path == CONTACTS_READ_PATH]
    assert (read.status, read.body["inputs"]) == (207, [{"id": "acme@corp.io"}, {"id": "zed@corp.io"}])


def test_a_207_fails_only_the_inputs_its_errors_name(portal, monkeypatch):
    real = tasks.contact_ids
    monkeypatch.setattr(
        tasks, "contact_ids", lambda client, emails: {**real(client, emails), "acme@corp.io": "1"}
    )
    gone, known = moment("acme"), moment("bolt")

    outcome = send(portal, [gone, known])

    assert outcome.acknowledged == [known]
    [(failed, status, message)] = outcome.failed
    assert (failed, status) == (gone, 207)
    assert message == "No contact exists with id(s) ['1']: the task cannot be associated with them"
    assert list(portal.tasks_by_id()) == [known.moment_id]


def test_an_owner_archived_mid_run_fails_only_its_task_after_the_batch_is_split(portal):
    client = portal.open()
    client.send_moments([moment("acme")])  # lists the owners
    portal.srv.owners[1]["archived"] = True  # Dan leaves
    kept, left, also = moment("bolt"), moment("cora", owner="Dan Ortiz"), moment("dune")

    outcome = client.send_moments([kept, left, also])

    assert outcome.acknowledged == [kept, also]
    [(failed, status, message)] = outcome.failed
    assert (failed, status) == (left, 400)
    assert f"{portal.dan['id']} is not a valid owner id" in message
    assert len(portal.tasks_by_id()) == 3


# --- exactly once ------------------------------------------------------------------------------


def test_sending_the_same_moments_again_creates_nothing_new(portal):
    moments = [moment("acme"), stall("bolt"), moment("cora", "emergency_outreach")]
    send(portal, moments)
    creates = portal.srv.task_creates
    portal.srv.reset_log()

    again = send(portal, moments)  # a new run: the state lost, say

    assert (again.acknowledged, again.failed) == (moments, [])
    assert portal.srv.task_creates == creates == 3
    assert [path for _, path, _ in portal.calls()] == [
        OWNERS_PATH,
        TASK_PROPERTY,
        CONTACTS_READ_PATH,
        TASKS_SEARCH_PATH,
    ]


def test_a_create_applied_then_dropped_is_found_by_search_and_never_made_twice(portal):
    portal.srv.add_fault(Fault("drop_after_apply", path_prefix=TASKS_CREATE_PATH))
    moments = [moment(c) for c in CUSTOMERS]

    outcome = send(portal, moments)

    assert (outcome.acknowledged, outcome.failed) == (moments, [])
    assert sorted(portal.tasks_by_id()) == sorted(m.moment_id for m in moments)
    assert portal.srv.task_creates == 5
    assert [(path, status) for _, path, status in portal.calls()][3:] == [
        (TASKS_SEARCH_PATH, 200),
        (TASKS_CREATE_PATH, None),
        (TASKS_SEARCH_PATH, 200),
    ]


def test_a_create_answered_5xx_that_did_not_land_is_created_once_after_a_search(portal):
    portal.srv.add_fault(Fault("status", status=502, path_prefix=TASKS_CREATE_PATH))
    moments = [moment("acme"), moment("bolt")]

    outcome = send(portal, moments)

    assert (outcome.acknowledged, outcome.failed) == (moments, [])
    assert (len(portal.tasks_by_id()), portal.srv.task_creates) == (2, 2)
    assert [(path, status) for _, path, status in portal.calls()][3:] == [
        (TASKS_SEARCH_PATH, 200),
        (TASKS_CREATE_PATH, 502),
        (TASKS_SEARCH_PATH, 200),
        (TASKS_CREATE_PATH, 201),
    ]


def test_no_clear_answer_max_attempts_times_is_unavailable_and_the_next_run_creates_once(portal):
    portal.srv.add_fault(Fault("status", status=503, times=3, path_prefix=TASKS_CREATE_PATH))
    portal.srv.add_fault(Fault("drop_after_apply", path_prefix=TASKS_CREATE_PATH))  # the 4th lands
    moments = [moment("acme"), moment("bolt")]

    with pytest.raises(DestinationUnavailableError, match=r"got no answer .*no clear answer 4 times"):
        send(portal, moments)

    creates = [status for _, path, status in portal.calls() if path == TASKS_CREATE_PATH]
    assert creates == [503, 503, 503, None]
    assert len(portal.tasks_by_id()) == 2  # the last attempt landed unseen
    again = send(portal, moments)
    assert (again.acknowledged, again.failed) == (moments, [])
    assert (len(portal.tasks_by_id()), portal.srv.task_creates) == (2, 2)


def test_5xx_storms_dropped_answers_and_429s_create_every_task_exactly_once(portal):
    customers = [f"c{n:03d}" for n in range(250)]
    for start in range(0, 250, 100):
        upsert(portal.srv, [contact(f"{c}@corp.io") for c in customers[start : start + 100]])
    srv = portal.srv
    srv.reset_log()
    # Retry-After given: without it the client waits out HubSpot's 10-second window
    srv.add_fault(Fault("rate_limit", times=2, retry_after=0.01, path_prefix=TASKS_CREATE_PATH))
    srv.add_fault(Fault("drop_after_apply", after=1, path_prefix=TASKS_CREATE_PATH))
    srv.add_fault(Fault("rate_limit", times=2, retry_after=0.01, path_prefix=TASKS_SEARCH_PATH))
    for n in range(40):  # then 1 request in 20 answered 5xx (5 %), whatever its path
        srv.add_fault(Fault("status", status=(500, 502, 503, 504)[n % 4], after=19))
    moments = [moment(c, owner=("Cass Mills", "dan@acme.io")[n % 2]) for n, c in enumerate(customers)]
    client = portal.open()  # one run, in batches of 10 (a mappings.yml batch_size)

    outcomes = [client.send_moments(moments[start : start + 10]) for start in range(0, 250, 10)]

    assert [m for outcome in outcomes for m in outcome.acknowledged] == moments
    assert [f for outcome in outcomes for f in outcome.failed] == []
    assert sorted(portal.tasks_by_id()) == sorted(m.moment_id for m in moments)
    assert srv.task_creates == 250
    # what the faults hit (the run's requests come in a fixed order): two creates answered 5xx and
    # one dropped after it applied, each resolved by a search; the read and search 5xx resent
    assert Counter((r.path, r.status, r.fault) for r in srv.requests if r.fault) == {
        (TASKS_CREATE_PATH, 429, "rate_limit"): 2,
        (TASKS_CREATE_PATH, None, "drop_after_apply"): 1,
        (TASKS_CREATE_PATH, 503, "status"): 1,
        (TASKS_CREATE_PATH, 504, "status"): 1,
        (TASKS_SEARCH_PATH, 429, "rate_limit"): 2,
        (TASKS_SEARCH_PATH, 502, "status"): 1,
        (CONTACTS_READ_PATH, 500, "status"): 1,
    }


# --- setup and refusals ------------------------------------------------------------------------


def test_setup_creates_the_task_id_property_once(hubspot):
    client = PLUGINS["hubspot"].open(CONFIG, Credentials(hubspot.base_url, token="pat-test"), FAST)
    first = client.setup()
    hubspot.reset_log()
    second = client.setup()

    assert first[-2:] == [
        "created task property group onboarding_paths",
        "created task property onboarding_task_id (string)",
    ]
    assert second == []
    assert {r.method for r in hubspot.requests} == {"GET"}
    made = hubspot.task_properties["onboarding_task_id"]
    assert (made["type"], made["fieldType"], made["groupName"], made["label"]) == (
        "string",
        "text",
        "onboarding_paths",
        "Onboarding task id",
    )
    assert list(hubspot.task_groups) == ["taskinformation", "onboarding_paths"]


def test_setup_without_moments_creates_no_task_property(hubspot):
    plain = CONFIG.model_copy(update={"moments": None})
    done = PLUGINS["hubspot"].open(plain, Credentials(hubspot.base_url, token="pat-test"), FAST).setup()
    assert not [line for line in done if "task" in line]
    assert "onboarding_task_id" not in hubspot.task_properties


def test_without_the_task_property_nothing_is_created_and_setup_is_named(hubspot):
    hubspot.add_owner("cass@acme.io", "Cass", "Mills")
    upsert(hubspot, [contact("acme@corp.io")])
    client = PLUGINS["hubspot"].open(CONFIG, Credentials(hubspot.base_url, token="pat-test"), FAST)

    with pytest.raises(
        SetupNeededError, match=r"task property onboarding_task_id does not exist; run .*--setup"
    ):
        client.send_moments([moment("acme")])
    assert (hubspot.tasks, hubspot.task_creates) == ({}, 0)


def test_a_refused_token_stops_at_the_first_answer(hubspot):
    client = PLUGINS["hubspot"].open(CONFIG, Credentials(hubspot.base_url, token="wrong"), FAST)
    with pytest.raises(AuthenticationError, match=r"hubspot answered 401.*HUBSPOT_ACCESS_TOKEN"):
        client.send_moments([moment("acme")])
    assert [r.path for r in hubspot.requests] == [OWNERS_PATH]


# --- the fake's contacts batch read (the route the task sender resolves contacts by) -----------


def read(srv: FakeHubSpot, body: Any, query: str = "") -> Any:
    return requests.post(f"{srv.base_url}{CONTACTS_READ_PATH}{query}", headers=test_fakes.HS_AUTH, json=body)


def test_the_fakes_batch_read_finds_contacts_by_email_or_id_and_names_the_missing(hubspot):
    upsert(hubspot, [contact("ann@acme.io", firstname="Ann")])
    ann = hubspot.contact_ids["ann@acme.io"]
    by_email = {
        "idProperty": "email",
        "properties": ["email", "firstname", "nosuch"],
        "propertiesWithHistory": [],
    }

    found = read(hubspot, {**by_email, "inputs": [{"id": "ANN@acme.io"}, {"id": "ann@acme.io"}]})
    partly = read(hubspot, {**by_email, "inputs": [{"id": "Bob@acme.io"}, {"id": "ann@acme.io"}]})
    by_id = read(hubspot, {"inputs": [{"id": ann}], "properties": [], "propertiesWithHistory": []})

    assert found.status_code == 200
    [result] = found.json()["results"]  # each contact once
    assert (result["id"], result["archived"]) == (ann, False)
    assert set(result["properties"]) == {
        "email",
        "firstname",
        "hs_object_id",
        "createdate",
        "lastmodifieddate",
    }
    assert (result["properties"]["email"], result["properties"]["firstname"]) == ("ann@acme.io", "Ann")
    assert partly.status_code == 207
    body = partly.json()
    assert ([r["id"] for r in body["results"]], body["numErrors"]) == ([ann], 1)
    assert body["errors"] == [
        {
            "status": "error",
            "category": "OBJECT_NOT_FOUND",
            "message": "Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.",
            "context": {"ids": ["Bob@acme.io"]},
            "errors": [],
            "links": {},
        }
    ]
    [plain] = by_id.json()["results"]
    assert "email" not in plain["properties"]  # stricter than HubSpot: only what was asked for
    assert hubspot.upserts == 1  # a read changes nothing


@pytest.mark.parametrize(
    ("body", "query", "message"),
    [
        ({"inputs": [{"id": "a@b.io"}], "properties": []}, "", "propertiesWithHistory is required"),
        (
            {"inputs": [], "properties": [], "propertiesWithHistory": []},
            "",
            "between 1 and 100 inputs, got 0",
        ),
        (
            {
                "inputs": [{"id": f"{n}@b.io"} for n in range(101)],
                "properties": [],
                "propertiesWithHistory": [],
            },
            "",
            "between 1 and 100 inputs, got 101",
        ),
        (
            {"inputs": [{"id": 7}], "properties": [], "propertiesWithHistory": []},
            "",
            'inputs[0] must be {"id"',
        ),
        (
            {"idProperty": "phone", "inputs": [{"id": "1"}], "properties": [], "propertiesWithHistory": []},
            "",
            'idProperty must be "email" or absent',
        ),
        (
            {"inputs": [{"id": "1"}], "properties": [], "propertiesWithHistory": ["email"]},
            "",
            "propertiesWithHistory is not supported",
        ),
        (
            {"inputs": [{"id": "1"}], "properties": [], "propertiesWithHistory": [], "limit": 1},
            "",
            "unknown field",
        ),
        (
            {"inputs": [{"id": "1"}], "properties": [], "propertiesWithHistory": []},
            "?archived=true",
            "archived=false",
        ),
    ],
)
def test_the_fakes_batch_read_refuses_what_the_spec_does_not_allow(hubspot, body, query, message):
    answer = read(hubspot, body, query)
    assert (answer.status_code, answer.json()["category"]) == (400, "VALIDATION_ERROR")
    assert message in answer.json()["message"]

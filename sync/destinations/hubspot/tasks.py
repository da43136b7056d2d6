"""HubSpot CSM tasks (CRM v3 tasks): each row of csm_tasks created once, in its CSM's queue.

`TaskSender.send` takes moments (sync/moments.py; `Moment.data` holds the csm_tasks columns) in
batches of at most 100, HubSpot's batch limit, and for each batch:

- **owner**: every owner is listed once a run (`GET /crm/v3/owners`, paged) and kept; csm_owner
  matches an owner by email when it holds an '@', else by "firstName lastName", both
  case-insensitively. No match (or two by name): that task fails with one line, the rest go on.
- **contact**: read by email (contacts batch read, idProperty=email); none: that task fails.
- **exactly once**: every task carries our task_id in the task property onboarding_task_id
  (`--setup` creates it; setup.py). The batch's ids are searched first (IN filters of at most
  100 values, pages of 200): those found are acknowledged, never created again. The rest are
  created once (`idempotent=False`: no blind resend). After a 5xx or a dropped connection
  (UncertainOutcomeError) the write may have landed, so the ids still pending are searched
  again, what exists is acknowledged and only the rest is created: at most
  policy.max_attempts rounds, then DestinationUnavailableError (the next run searches first, so
  it creates nothing twice either). HubSpot's search lags writes by a few seconds, so each
  search after an uncertain create waits base x 2^round seconds first.
- **answers**: a 207 fails only the inputs its errors name (objectWriteTraceId = task_id); a
  whole-batch 400 is halved until the bad input is isolated, as contacts are; 401/403 and
  404/405 stop the run (check_auth / check_endpoint).

A task: hs_timestamp = due_at, a subject and an HTML body per kind, status
NOT_STARTED, type TODO, priority HIGH for a P0 stall and an emergency outreach (else MEDIUM),
hubspot_owner_id, onboarding_task_id, and an association to the contact (type 204,
HUBSPOT_DEFINED): `task_input`, `task_subject`, `task_body`. Shapes: the Tasks v3 spec of
HubSpot/HubSpot-public-api-spec-collection and https://developers.hubspot.com/docs/api/crm/tasks,
/owners and /search.
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from onboard.core.errors import UsageError
from onboard.core.http import DestinationUnavailableError, HttpClient, UncertainOutcomeError
from onboard.core.logs import log
from sync.destinations.base import (
    FieldMapping,
    Moment,
    MomentOutcome,
    SetupNeededError,
    check_auth,
    check_endpoint,
    error_message,
)
from sync.destinations.hubspot import setup as properties
from sync.destinations.hubspot.config import TOKEN_ENV, URL_ENV
from sync.destinations.hubspot.values import plain_number, property_value

NAME = "hubspot"
OWNERS_PATH = "/crm/v3/owners"
CONTACTS_READ_PATH = "/crm/v3/objects/contacts/batch/read"
CREATE_PATH = "/crm/v3/objects/tasks/batch/create"
SEARCH_PATH = "/crm/v3/objects/tasks/search"
TASK_ID = properties.TASK_ID.property
BATCH_LIMIT = 100  # inputs of a batch create or a batch read
IN_VALUES = 100  # values of one IN filter
SEARCH_PAGE = 200  # search results per page, HubSpot's maximum
OWNERS_PAGE = 100  # owners per page (the API's default)
TASK_TO_CONTACT = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 204}
DUE = FieldMapping("due_at", "hs_timestamp", "datetime", "Due date")
NOT_ACKNOWLEDGED = "not in HubSpot's results: not acknowledged"
#: a task waiting to be created: the moment and its batch create input, by task id
Item = tuple[Moment, dict[str, Any]]
Pending = dict[str, Item]


@dataclass(frozen=True)
class Owners:
    """HubSpot's active owners: id by lower-cased email, ids by lower-cased "first last"."""

    by_email: dict[str, str]
    by_name: dict[str, list[str]]

    def match(self, csm_owner: Any) -> tuple[str | None, str]:
        """(owner id, '') for the owner csm_owner names, else (None, why not)."""
        text = " ".join(str(csm_owner or "").split()).lower()
        if "@" in text and text in self.by_email:
            return self.by_email[text], ""
        found = self.by_name.get(text, []) if "@" not in text else []
        if len(found) == 1:
            return found[0], ""
        if len(found) > 1:
            return None, f"csm_owner {csm_owner!r} names {len(found)} HubSpot owners: give the owner's email"
        return None, f"no HubSpot owner matches csm_owner {csm_owner!r}"


@dataclass
class TaskSender:
    """Creates CSM tasks for one run; lists the owners and checks the task property once."""

    client: HttpClient
    owners: Owners | None = None

    def send(self, moments: list[Moment]) -> MomentOutcome:
        """Create each moment's task once (module docstring): acknowledged, or failed with a reason."""
        outcome = MomentOutcome()
        for start in range(0, len(moments), BATCH_LIMIT):
            self._send_batch(moments[start : start + BATCH_LIMIT], outcome)
        return outcome

    def _owners(self) -> Owners:
        if self.owners is None:
            self.owners = list_owners(self.client)
            properties.preflight_tasks(self.client)
        return self.owners

    def _send_batch(self, moments: Sequence[Moment], outcome: MomentOutcome) -> None:
        owners = self._owners()
        contacts = contact_ids(self.client, sorted({contact_email(m) for m in moments} - {""}))
        pending: Pending = {}
        for moment in moments:
            owner_id, problem = owners.match(moment.data.get("csm_owner"))
            contact_id = contacts.get(contact_email(moment))
            if not problem and contact_id is None:
                problem = f"no HubSpot contact has the email {contact_email(moment)!r}"
            if not problem and moment.moment_id in pending:
                problem = "the same task id twice in one batch"
            if problem or owner_id is None or contact_id is None:
                log("sync.task_refused", destination=NAME, task_id=moment.moment_id, reason=problem)
                outcome.failed.append((moment, None, problem))
            else:
                pending[moment.moment_id] = (moment, task_input(moment, owner_id, contact_id))
        _acknowledge(pending, existing_tasks(self.client, list(pending)), outcome)
        attempts = self.client.policy.max_attempts
        for attempt in range(1, attempts + 1):
            if not pending:
                return
            try:
                self._create(list(pending.values()), pending, outcome)
                return
            except UncertainOutcomeError as error:
                log("sync.task_create_uncertain", destination=NAME, tasks=len(pending), attempt=attempt)
                if attempt == attempts:
                    raise DestinationUnavailableError(
                        f"{error}: no clear answer {attempts} times; the next run searches before creating"
                    ) from None
            self._settle(attempt)
            _acknowledge(pending, existing_tasks(self.client, list(pending)), outcome)

    def _settle(self, attempt: int) -> None:
        """Wait before searching again: HubSpot's search index lags its writes by seconds."""
        policy = self.client.policy
        wait = min(policy.cap_seconds, policy.base_seconds * 2**attempt)
        self.client.stats.waited_seconds += wait
        time.sleep(wait)

    def _create(self, items: list[Item], pending: Pending, outcome: MomentOutcome) -> None:
        """One batch create: each answered input leaves `pending`, acknowledged or failed; a
        whole-batch 400 is split in halves until the bad inputs are isolated."""
        request = {"inputs": [task for _, task in items]}
        response = self.client.request("POST", CREATE_PATH, request, idempotent=False)
        check_auth(response, NAME, TOKEN_ENV)
        check_endpoint(response, NAME, CREATE_PATH, URL_ENV)
        status = response.status_code
        if status == 400 and "PROPERTY_DOESNT_EXIST" in response.text:
            raise SetupNeededError(f"hubspot: {error_message(response)[:300]}; {properties.SETUP_HINT}")
        if status == 400 and len(items) > 1:
            middle = len(items) // 2
            log("sync.batch_split", destination=NAME, size=len(items))
            self._create(items[:middle], pending, outcome)
            self._create(items[middle:], pending, outcome)
            return
        answered = status in (200, 201, 207)
        answer = response.json() if answered else {}
        created = {str(result.get("objectWriteTraceId")) for result in answer.get("results") or []}
        errors = _errors_by_trace(answer)
        for moment, _ in items:
            del pending[moment.moment_id]
            if moment.moment_id in created:
                outcome.acknowledged.append(moment)
            elif answered:
                outcome.failed.append((moment, status, errors.get(moment.moment_id, NOT_ACKNOWLEDGED)))
            else:
                outcome.failed.append((moment, status, error_message(response)))


def _acknowledge(pending: Pending, found: set[str], outcome: MomentOutcome) -> None:
    """The pending tasks HubSpot already has: acknowledged, never created again."""
    for task_id in [task_id for task_id in pending if task_id in found]:
        outcome.acknowledged.append(pending.pop(task_id)[0])


# --- reads -------------------------------------------------------------------------------------


def _read(client: HttpClient, method: str, path: str, body: Any, what: str) -> Any:
    """A read's JSON answer (200, or 207 for a partial batch read); UsageError for anything else."""
    response = client.request(method, path, body)
    check_auth(response, NAME, TOKEN_ENV)
    check_endpoint(response, NAME, path.split("?")[0], URL_ENV)
    if response.status_code not in (200, 207):
        raise UsageError(f"hubspot: {what}: {response.status_code} {error_message(response)}")
    return response.json()


def list_owners(client: HttpClient) -> Owners:
    """Every active owner, page by page."""
    by_email: dict[str, str] = {}
    by_name: dict[str, list[str]] = {}
    after: str | None = None
    while True:
        query = f"?limit={OWNERS_PAGE}" + (f"&after={after}" if after else "")
        answer = _read(client, "GET", OWNERS_PATH + query, None, "listing owners")
        for owner in answer.get("results") or []:
            owner_id = str(owner["id"])
            if owner.get("email"):
                by_email.setdefault(str(owner["email"]).lower(), owner_id)
            name = " ".join(f"{owner.get('firstName') or ''} {owner.get('lastName') or ''}".split()).lower()
            if name:
                by_name.setdefault(name, []).append(owner_id)
        after = _next_page(answer)
        if after is None:
            log("sync.owners_listed", destination=NAME, owners=len(by_email))
            return Owners(by_email, by_name)


def contact_ids(client: HttpClient, emails: list[str]) -> dict[str, str]:
    """Contact id by lower-cased email, for the emails HubSpot has (at most BATCH_LIMIT)."""
    if not emails:
        return {}
    body = {
        "idProperty": "email",
        "inputs": [{"id": email} for email in emails],
        "properties": ["email"],
        "propertiesWithHistory": [],
    }
    answer = _read(client, "POST", CONTACTS_READ_PATH, body, "reading contacts by email")
    found = {}
    for result in answer.get("results") or []:
        email = (result.get("properties") or {}).get("email")
        if email:
            found[str(email).lower()] = str(result["id"])
    return found


def existing_tasks(client: HttpClient, task_ids: list[str]) -> set[str]:
    """Which of `task_ids` a task in HubSpot already carries in onboarding_task_id."""
    found: set[str] = set()
    for start in range(0, len(task_ids), IN_VALUES):
        values = task_ids[start : start + IN_VALUES]
        after: str | None = None
        while True:
            among = {"propertyName": TASK_ID, "operator": "IN", "values": values}
            search: dict[str, Any] = {
                "filterGroups": [{"filters": [among]}],
                "properties": [TASK_ID],
                "limit": SEARCH_PAGE,
            }
            if after is not None:
                search["after"] = after
            answer = _read(client, "POST", SEARCH_PATH, search, "searching tasks by onboarding_task_id")
            found |= {
                str(value)
                for result in answer.get("results") or []
                if (value := (result.get("properties") or {}).get(TASK_ID))
            }
            after = _next_page(answer)
            if after is None:
                break
    return found


def _next_page(answer: dict[str, Any]) -> str | None:
    after = ((answer.get("paging") or {}).get("next") or {}).get("after")
    return None if after is None else str(after)


def _errors_by_trace(answer: dict[str, Any]) -> dict[str, str]:
    """objectWriteTraceId (= task_id) -> message, for each error of a 207 body."""
    failed: dict[str, str] = {}
    for error in answer.get("errors") or []:
        for trace in (error.get("context") or {}).get("objectWriteTraceId") or []:
            failed[str(trace)] = str(error.get("message") or error)[:1000]
    return failed


# --- the task ----------------------------------------------------------------------------------


def contact_email(moment: Moment) -> str:
    """The contact the task goes with: csm_tasks.contact_email (else the moment's key), lower-cased."""
    return str(moment.data.get("contact_email") or moment.key or "").strip().lower()


def task_input(moment: Moment, owner_id: str, contact_id: str) -> dict[str, Any]:
    """A batch create input: the task's properties, its association with the contact, our id."""
    data = moment.data
    urgent = moment.name == "emergency_outreach" or (
        moment.name == "stall_recovery" and data.get("stall_severity") == "P0"
    )
    values = {
        "hs_timestamp": property_value(DUE, data.get("due_at") or moment.occurred_at),
        "hs_task_subject": task_subject(moment),
        "hs_task_body": task_body(moment),
        "hs_task_status": "NOT_STARTED",
        "hs_task_priority": "HIGH" if urgent else "MEDIUM",
        "hs_task_type": "TODO",
        "hubspot_owner_id": owner_id,
        TASK_ID: moment.moment_id,
    }
    return {
        "objectWriteTraceId": moment.moment_id,
        "properties": values,
        "associations": [{"to": {"id": contact_id}, "types": [TASK_TO_CONTACT]}],
    }


def task_subject(moment: Moment) -> str:
    """`Day-30 check-in: Acme`, `Stalled at ran_first_query (P1): Acme`, `Emergency outreach: Acme`."""
    data = moment.data
    company = data.get("company_name") or moment.key
    if moment.name == "day_30_checkin":
        return f"Day-30 check-in: {company}"
    if moment.name == "stall_recovery":
        return f"Stalled at {data.get('stall_step')} ({data.get('stall_severity')}): {company}"
    if moment.name == "emergency_outreach":
        return f"Emergency outreach: {company}"
    return f"{moment.name.replace('_', ' ').capitalize()}: {company}"


def task_body(moment: Moment) -> str:
    """The task's notes in HTML: why now, the customer's context, and a stall's drafted recovery email."""
    data = moment.data
    lines = [f"<p>{html.escape(_reason(moment))}</p>", "<ul>"]
    lines += [f"<li>{html.escape(label)}: {html.escape(value)}</li>" for label, value in _context(moment)]
    lines.append("</ul>")
    if moment.name == "stall_recovery" and (data.get("recovery_subject") or data.get("recovery_body")):
        text = html.escape(str(data.get("recovery_body") or "")).replace("\n", "<br>")
        lines += [
            "<p><strong>Drafted recovery email</strong></p>",
            f"<p>Subject: {html.escape(str(data.get('recovery_subject') or ''))}</p>",
            f"<p>{text}</p>",
        ]
    return "\n".join(lines)


def _reason(moment: Moment) -> str:
    at = f"{moment.occurred_at:%Y-%m-%d %H:%M} UTC"
    data = moment.data
    if moment.name == "day_30_checkin":
        return f"Activated {at}: check in on the first 30 days."
    if moment.name == "stall_recovery":
        return f"Stalled at {data.get('stall_step')} since {at} ({data.get('stall_severity')})."
    if moment.name == "emergency_outreach":
        return f"At churn risk as of {at}: reach out now."
    return f"{moment.name} at {at}."


def _context(moment: Moment) -> Iterator[tuple[str, str]]:
    """(label, value) of each context line the task's row holds."""
    data = moment.data
    numbers = {
        "ARR (USD)": data.get("arr"),
        "Stalled for (hours)": _hours(data.get("stall_hours")),
        "Time to value (hours)": _hours(data.get("time_to_value_hours")),
        "Churn-risk score": data.get("churn_risk_score"),
    }
    yield "Company", str(data.get("company_name") or "unknown")
    yield "Track", str(data.get("track") or "unknown")
    yield "Milestones reached", str(data.get("milestones_reached") or "none")
    yield "Milestones missing", str(data.get("milestones_missing") or "none")
    for label, number in numbers.items():
        if number is not None:
            yield label, plain_number(number)


def _hours(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)

"""A DuckDB warehouse whose sync-facing marts hold N synthetic customers, built by the project's own dbt.

The sync benchmark measures the sync, which reads only the marts; building N customers
from raw events through generate, load, validate and the whole dbt project is another
benchmark (benchmarks/pipeline.py). So nothing here restates a model:

1. **Schemas from dbt.** Empty raw tables (onboard/core/raw_tables.py), then `dbt build` of
   the marts the sync reads (sync/mappings.yml) and everything upstream of them, which
   creates every table with the columns and types the models give it. The relations'
   names come from dbt's manifest.
2. **Suppression by the project's rule.** The inputs of int_customers_suppressed (signups,
   raw subscriptions, email summaries, activation) are filled with drawn rows and dbt runs
   that model, so suppression_reason, suppress_onboarding, global_suppression and
   frequency_capped are what the model derives from them.
3. **The customers, then the marts.** onboarding_customers (the marts' one input) gets one
   drawn row per customer, its suppression columns taken from step 2; dbt then runs the
   marts themselves (e-mail keys, shared flags, as_of).

Every coded value is drawn, deterministically (a hash of the row number), from the values
the marts can hold (sync/enumerations.py `column_values()`), so HubSpot accepts every option.
Columns neither drawn nor derived stay null; a mart column that would be left null that
way is an error, so a new mart column needs a draw here. Distributions are plausible, not
realistic: activated customers are in checkpoint state `activated` and never stalled, and
stall columns are set only for customers the rule does not suppress globally, but the
rest is drawn independently. Payload shapes and sizes are those of real rows.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from onboard.core.as_of import dbt_as_of
from onboard.core.db import database
from onboard.core.dbt import run_dbt
from onboard.core.project_config import dbt_vars
from onboard.core.raw_tables import LOADED_AT_COLUMN, RAW_TABLES, SUBSCRIPTION_STATUSES
from onboard.core.sql_literal import quote_literal
from onboard.core.targets import Target
from onboard.validate.runs import EPOCH, RunRecord, insert_run
from sync.enumerations import column_values

#: the model every sync-facing mart is computed from; the marts themselves are run by dbt
CUSTOMERS_MODEL = "onboarding_customers"
#: the model that holds the suppression rule (reasons in order, and the flags derived from them)
SUPPRESSION_MODEL = "int_customers_suppressed"
#: the raw table behind the subscription status the suppression rule reads
SUBSCRIPTIONS_SOURCE = ("billing", "subscriptions")
DRAWS = "main.bench_draws"
#: percent of customers drawn as activated / stalled / with a subscription row / opted out / capped
ACTIVATED, STALLED, BILLED, OPTED_OUT, CAPPED = 40, 50, 20, 5, 10


def dbt_target(path: str) -> Target:
    """The duckdb target of profiles.yml, pointed at path."""
    return Target("duckdb", "duckdb", {"type": "duckdb", "path": path, "schema": "main"})


# --- SQL of the draws -------------------------------------------------------------------------


def _draw(salt: str, modulo: int) -> str:
    """A deterministic draw in 0..modulo-1 for row i."""
    return f"cast(hash(i, {quote_literal(salt)}) % {modulo} as bigint)"


def _pick(values: Sequence[str], salt: str) -> str:
    """One of values for row i."""
    return f"([{', '.join(quote_literal(v) for v in values)}])[1 + {_draw(salt, len(values))}]"


def _around(as_of: str, salt: str, days_before: int, days_after: int = 0) -> str:
    """A timestamp from `days_before` days before as_of to `days_after` after it, to the second."""
    span = (days_before + days_after) * 86_400
    return f"{as_of} - to_seconds({_draw(salt, span)}) + to_seconds({days_after * 86_400})"


def _timestamp(as_of: datetime) -> str:
    """as_of as a SQL timestamp literal (naive UTC, as the warehouse keeps times)."""
    return f"timestamp '{as_of.astimezone(UTC):%Y-%m-%d %H:%M:%S}'"


def _iso_text(timestamp: str) -> str:
    """A timestamp as raw data carries it: ISO-8601 text in UTC."""
    return f"strftime({timestamp}, '%Y-%m-%dT%H:%M:%SZ')"


def draws_sql(rows: int) -> str:
    """The per-row draws every table's columns are derived from, one row per customer."""
    return f"""
        create or replace table {DRAWS} as
        select
            i,
            'c' || lpad(cast(i as varchar), 8, '0') as customer_id,
            'person' || i || '@company' || (i % 50000) || '.example.com' as email,
            {_draw("activated", 100)} < {ACTIVATED} as activated,
            {_draw("stalled", 100)} < {STALLED} as stalled
        from range(1, {int(rows)} + 1) as t(i)
    """


def customer_expressions(as_of: datetime, values: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Column -> SQL over the draws, for every per-customer column a drawn table may have."""
    stamp = _timestamp(as_of)
    expressions = {column: _pick(options, column) for column, options in values.items()}
    activated_state = "activated"
    if activated_state not in values["checkpoint_state"]:
        raise RuntimeError(f"checkpoint_state has no {activated_state!r}: {values['checkpoint_state']}")
    pending = [s for s in values["checkpoint_state"] if s != activated_state]
    expressions |= {
        "customer_id": "customer_id",
        "email": "email",
        "signup_at": _around(stamp, "signup_at", 120),
        "milestone_score": f"10 * {_draw('milestone_score', 11)}",
        "is_activated": "activated",
        "activated_at": f"case when activated then {_around(stamp, 'activated_at', 60)} end",
        "checkpoint_state": (
            f"case when activated then {quote_literal(activated_state)} else {_pick(pending, 'state')} end"
        ),
        # product-qualified (int_customers_product_qualified): one customer in ten, qualified lately
        "is_product_qualified": f"{_draw('qualified', 10)} = 0",
        "pql_reason": f"case when {_draw('qualified', 10)} = 0 then 'activated_pricing_interest' end",
        "pql_at": f"case when {_draw('qualified', 10)} = 0 then {_around(stamp, 'pql_at', 30)} end",
        # inputs of the suppression rule (int_customer_emails_summarised)
        "has_opted_out": f"{_draw('opted_out', 100)} < {OPTED_OUT}",
        "is_frequency_capped": f"{_draw('frequency_capped', 100)} < {CAPPED}",
    }
    return expressions


def stall_expressions(
    as_of: datetime, values: Mapping[str, Sequence[str]], suppressed: str
) -> dict[str, str]:
    """onboarding_customers' stall columns: set for stalled customers neither activated nor suppressed."""
    stamp = _timestamp(as_of)
    stalled = f"(stalled and not activated and not {suppressed}.global_suppression)"
    return {
        "is_stalled": stalled,
        "stall_step": f"case when {stalled} then {_pick(values['stall_step'], 'stall_step')} end",
        "stall_severity": f"case when {stalled} then {_pick(values['stall_severity'], 'severity')} end",
        "stalled_since": f"case when {stalled} then {_around(stamp, 'stalled_since', 30)} end",
    }


def subscription_expressions(as_of: datetime) -> dict[str, str]:
    """Raw subscription rows (text, as loaded): a status for one customer in BILLED of a hundred."""
    stamp = _timestamp(as_of)
    return {
        "customer_id": "customer_id",
        "status": _pick(SUBSCRIPTION_STATUSES, "status"),
        "trial_ends_at": _iso_text(_around(stamp, "trial_ends_at", 14, 14)),
        "updated_at": _iso_text(_around(stamp, "subscription_updated_at", 30)),
        LOADED_AT_COLUMN: stamp,
    }


# --- dbt --------------------------------------------------------------------------------------


class DbtProject:
    """dbt for one synthetic warehouse, with a target folder of its own (the repo's target/ is left alone)."""

    def __init__(self, path: str, as_of: datetime) -> None:
        self.target = dbt_target(path)
        self.as_of = as_of
        self.target_path = Path(f"{path}.dbt")
        shutil.rmtree(self.target_path, ignore_errors=True)

    def run(self, command: str, *args: str) -> None:
        """`dbt COMMAND ARGS` at the warehouse's as_of; an error if dbt fails."""
        extra = ["--target-path", str(self.target_path), "--log-path", str(self.target_path / "logs"), *args]
        code = run_dbt(command, self.target, {"as_of": dbt_as_of(self.as_of)}, extra, quiet=True)
        if code != 0:
            raise RuntimeError(f"dbt {command} {' '.join(args)} exited with {code}")

    def manifest(self) -> dict[str, Any]:
        manifest: dict[str, Any] = json.loads((self.target_path / "manifest.json").read_text())
        return manifest


def _model(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    found = [n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["name"] == name]
    if len(found) != 1:
        raise RuntimeError(f"dbt's manifest has {len(found)} models called {name}")
    node: dict[str, Any] = found[0]
    return node


def _relation(manifest: dict[str, Any], unique_id: str) -> str:
    node = manifest["nodes"].get(unique_id) or manifest["sources"][unique_id]
    return str(node["relation_name"])


def _source_id(manifest: dict[str, Any], source: str, table: str) -> str:
    for unique_id, node in manifest["sources"].items():
        if node["source_name"] == source and node["name"] == table:
            return str(unique_id)
    raise RuntimeError(f"dbt's manifest has no source {source}.{table}")


def _columns(connection: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    """Column -> DuckDB type of a relation dbt built, in its order."""
    return {str(row[0]): str(row[1]) for row in connection.execute(f"describe {relation}").fetchall()}


def _fill(
    connection: duckdb.DuckDBPyConnection,
    relation: str,
    expressions: Mapping[str, str],
    joins: str = "",
    where: str = "",
) -> list[str]:
    """One row per draw into relation, each column that has an expression filled; returns those left null."""
    columns = _columns(connection, relation)
    filled = [c for c in columns if c in expressions]
    select = ", ".join(f"cast({expressions[c]} as {columns[c]})" for c in filled)
    connection.execute(
        f"insert into {relation} ({', '.join(filled)}) "
        f"select {select} from {DRAWS} as draws {joins} {f'where {where}' if where else ''}"
    )
    return [c for c in columns if c not in expressions]


# --- the warehouse ----------------------------------------------------------------------------


def create_raw_tables(path: str) -> None:
    """The raw tables of the raw contract, empty: every column text, plus the load time."""
    schema = str(dbt_vars()["raw_schema"])
    with duckdb.connect(path) as connection:
        connection.execute(f"create schema if not exists {schema}")
        for table, columns in RAW_TABLES.items():
            text = ", ".join(f"{column} text" for column in columns)
            connection.execute(
                f"create table {schema}.{table} ({text}, {LOADED_AT_COLUMN} timestamp not null)"
            )


def fill_suppression_inputs(path: str, manifest: dict[str, Any], as_of: datetime, rows: int) -> None:
    """Drawn rows in every input of the suppression model, so dbt can derive the flags from them."""
    expressions = customer_expressions(as_of, column_values())
    subscriptions = _source_id(manifest, *SUBSCRIPTIONS_SOURCE)
    with duckdb.connect(path) as connection:
        connection.execute(draws_sql(rows))
        for parent in _model(manifest, SUPPRESSION_MODEL)["depends_on"]["nodes"]:
            node = manifest["nodes"][parent]
            if node["config"]["materialized"] == "view":
                if subscriptions not in node["depends_on"]["nodes"]:
                    raise RuntimeError(f"{SUPPRESSION_MODEL} reads the view {node['name']}: nothing fills it")
                _fill(
                    connection,
                    _relation(manifest, subscriptions),
                    subscription_expressions(as_of),
                    where=f"{_draw('billed', 100)} < {BILLED}",
                )
            else:
                _fill(connection, _relation(manifest, parent), expressions)


def fill_customers(path: str, manifest: dict[str, Any], as_of: datetime, marts: Sequence[str]) -> None:
    """One drawn row per customer in the marts' input model, its suppression columns from the rule's model."""
    values = column_values()
    customers = _model(manifest, CUSTOMERS_MODEL)
    for mart in marts:
        if _model(manifest, mart)["depends_on"]["nodes"] != [customers["unique_id"]]:
            raise RuntimeError(f"{mart} no longer reads only {CUSTOMERS_MODEL}: fill its inputs here")
    relation = customers["relation_name"]
    with duckdb.connect(path) as connection:
        suppression_relation = _model(manifest, SUPPRESSION_MODEL)["relation_name"]
        suppression = _columns(connection, suppression_relation)
        expressions = customer_expressions(as_of, values) | stall_expressions(as_of, values, "suppressed")
        expressions |= {c: f"suppressed.{c}" for c in suppression if c != "customer_id"}
        join = f"inner join {suppression_relation} as suppressed using (customer_id)"
        left_null = set(_fill(connection, relation, expressions, joins=join))
        for mart in marts:
            unfilled = sorted(set(_columns(connection, _model(manifest, mart)["relation_name"])) & left_null)
            if unfilled:
                raise RuntimeError(
                    f"{mart} reads {', '.join(unfilled)} of {CUSTOMERS_MODEL}; nothing draws it"
                )
        connection.execute(f"drop table {DRAWS}")


def pass_validation(path: str, as_of: datetime) -> None:
    """One passing validation run, so the sync's validation gate lets it through without --force."""
    record = RunRecord(
        run_id="sync-bench-synthetic",
        started_at=as_of,
        finished_at=as_of,
        window_since=EPOCH,
        window_until=as_of,
        suites=[],
        rows_validated=0,
        expectations_failed=0,
        expectations_warned=0,
        status="passed",
    )
    with database(dbt_target(path)) as db:
        insert_run(db, record)


def mart_relation(path: str, mart: str) -> str:
    """The relation dbt built for a mart in the warehouse at path (from that build's manifest)."""
    manifest: dict[str, Any] = json.loads(Path(f"{path}.dbt", "manifest.json").read_text())
    return str(_model(manifest, mart)["relation_name"])


def make_warehouse(path: str, rows: int, as_of_iso: str, marts: Sequence[str]) -> int:
    """A fresh DuckDB file in which the marts hold `rows` synthetic customers, computed by dbt."""
    for stale in (Path(path), Path(f"{path}.wal")):
        stale.unlink(missing_ok=True)
    as_of = datetime.fromisoformat(as_of_iso).astimezone(UTC)
    dbt = DbtProject(path, as_of)
    create_raw_tables(path)
    upstream = [f"+{mart}" for mart in marts]
    dbt.run("build", "--select", *upstream, "--resource-type", "model", "--resource-type", "seed")
    manifest = dbt.manifest()
    fill_suppression_inputs(path, manifest, as_of, rows)
    dbt.run("run", "--select", SUPPRESSION_MODEL)
    fill_customers(path, manifest, as_of, marts)
    dbt.run("run", "--select", *marts)
    pass_validation(path, as_of.replace(tzinfo=None))
    return rows

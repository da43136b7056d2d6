"""One way to open the warehouse of a profiles.yml target: DuckDB, PostgreSQL or Spark's state store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from onboard.core.errors import UsageError
from onboard.core.spark_state_store import open_state_store
from onboard.core.targets import Target


@contextmanager
def connect(target: Target) -> Iterator[Any]:
    """A DB-API connection to the target (duckdb or psycopg2), closed on exit.

    On Spark, a DuckDB connection to the state store beside it, which reads Spark's files
    (onboard/core/spark_state_store.py); Spark itself is reached through its session
    (onboard/core/spark_session.py).
    """
    if target.type == "spark":
        connection = open_state_store(target)
    elif target.type == "duckdb":
        import duckdb

        target.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
        connection = duckdb.connect(str(target.duckdb_path))
        # the profile's DuckDB settings (TimeZone, memory_limit) hold for our connections too
        for name, value in (target.settings.get("settings") or {}).items():
            connection.execute(f"set {name} = '{value}'")
        connection.execute("set TimeZone = 'UTC'")
    else:
        import psycopg2

        s = target.settings
        try:
            connection = psycopg2.connect(
                host=s["host"],
                port=int(s["port"]),
                user=s["user"],
                password=s.get("password") or None,
                dbname=s["dbname"],
                connect_timeout=10,
                options="-c timezone=UTC",
            )
        except psycopg2.OperationalError as error:
            first_line = str(error).strip().splitlines()[0]
            raise UsageError(f"cannot connect to {target.describe()}: {first_line}") from None
    try:
        yield connection
    finally:
        connection.close()

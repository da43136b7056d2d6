"""One way to open the warehouse of a profiles.yml target: DuckDB, PostgreSQL or Spark's state store.

Opening is where a user meets the warehouse's own problems — a file another process holds,
a file or folder they may not write, a malformed memory limit — so each becomes one line
here (InputError / UsageError) naming the file and what to do, never a DuckDB traceback.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from onboard.core.errors import InputError, UsageError
from onboard.core.spark_state_store import MEMORY_LIMIT_VARIABLE, open_state_store, state_path
from onboard.core.targets import Target

#: DuckDB's lock message names the holder: `Conflicting lock is held in /usr/bin/python3 (PID 123)`
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")
_LOCK_FILE = re.compile(r'Could not set lock on file "([^"]+)"')
#: a memory size as DuckDB reads it: a number and a unit (KB, MB, GB, TB, or KiB … TiB)
_MEMORY_SIZE = re.compile(r"(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>[kmgt])(?P<binary>i?)b?", re.IGNORECASE)
#: below this DuckDB cannot run the project's queries at all (it fails with "Out of Memory")
_MEMORY_FLOOR_BYTES = 64 * 1000**2


def _memory_bytes(value: str) -> float | None:
    """Bytes of a memory size such as 4GB or 512MiB; None when it is not one."""
    match = _MEMORY_SIZE.fullmatch(value.strip())
    if not match:
        return None
    base = 1024 if match["binary"] else 1000
    return float(match["number"]) * base ** ("kmgt".index(match["unit"].lower()) + 1)


def check_environment() -> None:
    """Refuse a malformed $ONBOARD_DUCKDB_MEMORY_LIMIT before anything reads it.

    profiles.yml hands it to dbt and to our connections alike; unchecked, `lots` reaches
    DuckDB as a parser error deep in a command (or in dbt's log) instead of one line.
    """
    value = os.environ.get(MEMORY_LIMIT_VARIABLE)
    if value is None:
        return
    size = _memory_bytes(value)
    if size is None or size < _MEMORY_FLOOR_BYTES:
        raise UsageError(
            f"environment variable {MEMORY_LIMIT_VARIABLE}={value!r}: expected a memory size of at "
            "least 64MB such as 4GB (units KB, MB, GB, TB or KiB, MiB, GiB, TiB)"
        )


def lock_problem(message: str, path: Path | None = None) -> str | None:
    """One line for DuckDB's "Could not set lock" error: whose lock, and what to do; else None.

    path names the file when the caller knows it; otherwise it is read from the message.
    """
    if "Could not set lock" not in message:
        return None
    where = path or (match[1] if (match := _LOCK_FILE.search(message)) else "file")
    holder = _LOCK_HOLDER.search(message)
    if holder is None:
        return (
            f"warehouse {where} is in use by another process: close it or wait for it to finish, then re-run"
        )
    pid = holder["pid"]
    return (
        f"warehouse {where} is in use by another process (PID {pid}, {Path(holder['program']).name}): "
        f"close the other process (PID {pid}) or wait for it to finish, then re-run"
    )


def _open_problem(path: Path, message: str, *, read_only: bool) -> str:
    """One line for DuckDB's refusal to open path: who holds the lock, or what to check."""
    detail = message.strip().splitlines()[0].removeprefix("IO Error: ")
    locked = lock_problem(detail, path)
    if locked is not None:
        return locked
    if "Permission denied" in detail:
        if read_only:
            return f"cannot read warehouse {path}: permission denied"
        return (
            f"cannot write warehouse {path}: permission denied (check the file's and its folder's "
            "permissions, or point ONBOARD_DUCKDB_PATH at a file you may write)"
        )
    return f"cannot open warehouse {path}: {detail}"


@contextmanager
def _opening(path: Path, *, read_only: bool) -> Iterator[None]:
    """DuckDB's and the file system's refusals to open path, as InputError."""
    import duckdb

    try:
        yield
    except duckdb.IOException as error:
        raise InputError(_open_problem(path, str(error), read_only=read_only)) from None
    except FileExistsError as error:
        raise InputError(f"cannot create warehouse {path}: {error.filename} is not a folder") from None
    except OSError as error:
        raise InputError(
            f"cannot create warehouse {path}: {error.filename or path.parent}: {error.strerror}"
        ) from None


def _open_duckdb(target: Target, *, read_only: bool) -> Any:
    """A connection to the target's DuckDB file with the profile's settings, TimeZone UTC."""
    import duckdb

    path = target.duckdb_path
    if read_only and not path.exists():
        raise UsageError(f"no warehouse at {path}: run `onboard demo`, or `onboard load` and `onboard build`")
    with _opening(path, read_only=read_only):
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        connection = duckdb.connect(str(path), read_only=read_only)
    try:
        # the profile's DuckDB settings (TimeZone, memory_limit) hold for our connections too
        for name, value in (target.settings.get("settings") or {}).items():
            try:
                connection.execute(f"set {name} = '{value}'")
            except duckdb.Error as error:
                raise UsageError(
                    f"profiles.yml target {target.name}: DuckDB setting {name} = {value!r} is refused: "
                    f"{str(error).strip().splitlines()[0]}"
                ) from None
        connection.execute("set TimeZone = 'UTC'")
    except BaseException:
        connection.close()
        raise
    return connection


def _connect_postgres(target: Target) -> Any:
    import psycopg2

    s = target.settings
    try:
        return psycopg2.connect(
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


@contextmanager
def connect(target: Target, *, read_only: bool = False) -> Iterator[Any]:
    """A DB-API connection to the target (duckdb or psycopg2), closed on exit.

    read_only is for commands that only read (report, sync status): a DuckDB file is opened
    read-only, so it works on a file the user may not write and beside other readers.
    PostgreSQL ignores it (the role's grants decide), and so does Spark's state store, which
    re-creates its views on each open. On Spark, the connection is DuckDB's to the state
    store beside it, which reads Spark's files (onboard/core/spark_state_store.py); Spark
    itself is reached through its session (onboard/core/spark_session.py).

    Raises InputError (one line, naming the file and the holder's PID) when another process
    holds the DuckDB file or it cannot be written, instead of DuckDB's IOException.
    """
    if target.type == "spark":
        with _opening(state_path(target), read_only=False):
            connection = open_state_store(target)
    elif target.type == "duckdb":
        connection = _open_duckdb(target, read_only=read_only)
    else:
        connection = _connect_postgres(target)
    try:
        yield connection
    finally:
        connection.close()


def check_writable(target: Target) -> None:
    """Open and close a DuckDB warehouse for writing, so a lock or permission problem is one line.

    For steps that hand the file to another program (dbt), whose own lock error is a page of
    log and exit code 1; other targets are left to that program.
    """
    if target.type == "duckdb":
        with connect(target):
            pass

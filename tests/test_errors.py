"""The warehouse as a user meets its problems: held by another process, not writable, a bad output path.

Each case goes through the CLI and must end in one line and exit code 2 (or, for commands
that only read, work), quickly, with no traceback and the warehouse file unchanged.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .conftest import ONBOARD, PROJECT_DIR, run_onboard

AS_OF = "2026-03-20T00:00:00Z"
#: a command that waits on a lock would hit this; a refused one answers within a few seconds
QUICK = 60

HOLD = """
import sys, time
import duckdb
connection = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "read")
print("held", flush=True)
time.sleep(600)
"""


def _env(warehouse: Path, tmp: Path) -> dict[str, str]:
    return {
        "ONBOARD_DUCKDB_PATH": str(warehouse),
        "ONBOARD_SYNC_RESULTS_DIR": str(tmp / "sync-results"),
        "ONBOARD_VALIDATION_RESULTS_DIR": str(tmp / "validation-results"),
    }


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with raw files (no manifest) and a warehouse loaded and built from them as of AS_OF."""
    folder = tmp_path_factory.mktemp("errors")
    env = _env(folder / "built.duckdb", folder)
    generated = folder / "generated"
    assert run_onboard("generate", str(generated), "--customers", "50", "--as-of", AS_OF).returncode == 0
    (folder / "raw").mkdir()
    for table in generated.glob("*.parquet"):
        shutil.copy(table, folder / "raw" / table.name)
    for step in (("load", str(folder / "raw")), ("build", "--as-of", AS_OF, "--exclude", "test_type:unit")):
        done = run_onboard(*step, env=env)
        assert done.returncode == 0, done.stderr[-2000:]
    return folder


@pytest.fixture
def warehouse(built: Path, tmp_path: Path) -> Path:
    """A copy of the built warehouse for one test."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(built / "built.duckdb", path)
    return path


def _hold(path: Path, mode: str) -> subprocess.Popen[str]:
    """A Python child holding a DuckDB connection to path ("write" or "read"), once it holds it."""
    child = subprocess.Popen([sys.executable, "-c", HOLD, str(path), mode], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "held"
    return child


@contextmanager
def _held(path: Path, mode: str) -> Iterator[subprocess.Popen[str]]:
    child = _hold(path, mode)
    try:
        yield child
    finally:
        child.kill()
        child.wait()


@pytest.fixture
def held_for_writing(warehouse: Path) -> Iterator[subprocess.Popen[str]]:
    with _held(warehouse, "write") as child:
        yield child


@pytest.fixture
def held_for_reading(warehouse: Path) -> Iterator[subprocess.Popen[str]]:
    with _held(warehouse, "read") as child:
        yield child


def _lock_line(path: Path, pid: int) -> str:
    program = Path(os.path.realpath(f"/proc/{pid}/exe")).name
    return (
        f"onboard: error: warehouse {path} is in use by another process (PID {pid}, {program}): "
        f"close the other process (PID {pid}) or wait for it to finish, then re-run"
    )


@pytest.mark.parametrize(
    "command",
    [
        ("load", "{raw}"),
        ("build", "--as-of", AS_OF),
        ("validate",),
        ("sync", "hubspot", "--dry-run"),
        ("alerts", "--dry-run"),
        ("report", "--out", "{tmp}/dashboard.html"),
        ("sync", "status"),
    ],
    ids=lambda command: "-".join(command[:2]),
)
def test_a_warehouse_another_process_writes_is_one_line_and_exit_2_without_waiting(
    command: tuple[str, ...], built: Path, warehouse: Path, held_for_writing, tmp_path: Path
):
    before = _digest(warehouse)
    args = [part.format(raw=built / "raw", tmp=tmp_path) for part in command]
    done = run_onboard(*args, env=_env(warehouse, tmp_path), timeout=QUICK)
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.strip().splitlines()[-1] == _lock_line(warehouse, held_for_writing.pid)
    assert "Traceback" not in done.stderr
    assert _digest(warehouse) == before
    assert not (tmp_path / "dashboard.html").exists()


def test_report_and_sync_status_read_beside_another_reader(
    built: Path, warehouse: Path, held_for_reading, tmp_path: Path
):
    env = _env(warehouse, tmp_path)
    report = run_onboard("report", "--out", str(tmp_path / "dashboard.html"), env=env, timeout=QUICK)
    assert report.returncode == 0, report.stderr
    assert report.stderr.strip().splitlines()[-1].startswith(f"dashboard: {tmp_path / 'dashboard.html'} (")
    status = run_onboard("sync", "status", env=env, timeout=QUICK)
    assert (status.returncode, status.stderr.strip()) == (0, "no sync has run on this warehouse yet")
    # a writer still may not: the reader's lock is named like a writer's
    load = run_onboard("load", str(built / "raw"), env=env, timeout=QUICK)
    assert load.returncode == 2
    assert load.stderr.strip() == _lock_line(warehouse, held_for_reading.pid)


def _run_without_root_override(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """run_onboard as root without CAP_DAC_OVERRIDE: file permissions hold for it as for any user."""
    return subprocess.run(
        ["setpriv", "--bounding-set=-dac_override,-dac_read_search", ONBOARD, *args],
        cwd=PROJECT_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=QUICK,
        check=False,
    )


@pytest.mark.skipif(
    shutil.which("setpriv") is None, reason="needs setpriv (util-linux) to drop root's override"
)
def test_read_only_commands_work_on_a_warehouse_the_user_may_not_write(
    built: Path, warehouse: Path, tmp_path: Path
):
    warehouse.chmod(0o444)
    before = _digest(warehouse)
    env = _env(warehouse, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    report = _run_without_root_override("report", "--out", str(out / "dashboard.html"), env=env)
    assert report.returncode == 0, report.stderr
    assert "Traceback" not in report.stderr and (out / "dashboard.html").exists()
    status = _run_without_root_override("sync", "status", env=env)
    assert (status.returncode, status.stderr.strip()) == (0, "no sync has run on this warehouse yet")
    load = _run_without_root_override("load", str(built / "raw"), env=env)
    assert load.returncode == 2
    assert load.stderr.strip() == (
        f"onboard: error: cannot write warehouse {warehouse}: permission denied (check the file's and its "
        "folder's permissions, or point ONBOARD_DUCKDB_PATH at a file you may write)"
    )
    assert _digest(warehouse) == before


def test_a_warehouse_path_under_a_regular_file_is_one_line(built: Path, tmp_path: Path):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("not a folder")
    done = run_onboard("load", str(built / "raw"), env=_env(blocker / "warehouse.duckdb", tmp_path))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"onboard: error: cannot create warehouse {blocker / 'warehouse.duckdb'}: {blocker} is not a folder"
    )
    assert blocker.read_text() == "not a folder"


def test_report_out_under_a_regular_file_is_one_line_and_exit_2(warehouse: Path, tmp_path: Path):
    blocker = tmp_path / "some_file.txt"
    blocker.write_text("keep me")
    out = blocker / "dashboard.html"
    done = run_onboard("report", "--out", str(out), env=_env(warehouse, tmp_path))
    assert done.returncode == 2
    assert done.stderr.strip() == f"onboard: error: cannot write {out}: {blocker} is not a folder"
    assert blocker.read_text() == "keep me"


def test_report_out_naming_a_folder_is_one_line_and_exit_2(warehouse: Path, tmp_path: Path):
    done = run_onboard("report", "--out", str(tmp_path), env=_env(warehouse, tmp_path))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"onboard: error: cannot write {tmp_path}: it is a folder (name the HTML file, e.g. "
        f"{tmp_path / 'dashboard.html'})"
    )


def test_a_lock_taken_while_dbt_builds_is_named_last_with_exit_2(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    from onboard import build as building
    from onboard import cli

    holders: list[subprocess.Popen[str]] = []

    def dbt_meets_a_lock(*_: object, **__: object) -> int:
        holders.append(_hold(warehouse, "write"))
        print("dbt: IO Error: Could not set lock on file", file=sys.stderr)
        return 1

    for name, value in _env(warehouse, tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(building, "build", dbt_meets_a_lock)
    monkeypatch.setattr(sys, "argv", ["onboard", "build"])
    try:
        with pytest.raises(SystemExit) as exited:
            cli.main()
        assert exited.value.code == 2
        assert capsys.readouterr().err.strip().splitlines()[-1] == _lock_line(warehouse, holders[0].pid)
    finally:
        for holder in holders:
            holder.kill()
            holder.wait()


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("ONBOARD_SYNC_MAX_ATTEMPTS", "many", "a whole number >= 1 such as 6"),
        ("ONBOARD_SYNC_RETRY_BASE_SECONDS", "-1", "a number of seconds >= 0 such as 0.5"),
    ],
)
def test_a_malformed_retry_setting_is_one_line_naming_the_variable(
    variable: str, value: str, expected: str, monkeypatch: pytest.MonkeyPatch
):
    from onboard.core.errors import UsageError
    from onboard.core.http import RetryPolicy

    monkeypatch.setenv(variable, value)
    with pytest.raises(UsageError) as raised:
        RetryPolicy.from_env()
    assert str(raised.value) == f"environment variable {variable}={value!r}: expected {expected}"

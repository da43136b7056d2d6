"""Run dbt for a target with the project's vars, as a child process of the venv's dbt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from onboard.core.errors import UsageError
from onboard.core.paths import PROFILES_FILE, PROJECT_DIR
from onboard.core.targets import PROFILE_NAME, Target

#: Environment that keeps dbt (and Great Expectations) from phoning home.
NO_TRACKING_ENV = {
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DBT_VERSION_CHECK": "false",
    "GX_ANALYTICS_ENABLED": "false",
}


def dbt_executable() -> str:
    """The dbt of the running interpreter's environment."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def dbt_environment(target: Target) -> dict[str, str]:
    """The process environment for dbt: no tracking, profiles and project from the repo."""
    environment = {**os.environ, **NO_TRACKING_ENV}
    environment["DBT_PROFILES_DIR"] = str(PROJECT_DIR)
    environment["DBT_PROJECT_DIR"] = str(PROJECT_DIR)
    if target.type == "duckdb":
        environment["ONBOARD_DUCKDB_PATH"] = str(target.duckdb_path)
    if target.type == "spark":
        environment["ONBOARD_SPARK_DIR"] = str(target.spark_dir)
    return environment


def run_dbt(
    command: str,
    target: Target,
    variables: dict[str, object] | None = None,
    extra_args: list[str] | None = None,
    quiet: bool = False,
) -> int:
    """Run `dbt COMMAND` for target; returns dbt's exit code (0 ok, 1 failures, 2 errors)."""
    args = [dbt_executable(), command, "--target", target.name]
    if variables:
        args += ["--vars", json.dumps(variables)]
    if quiet:
        args += ["--quiet"]
    args += extra_args or []
    if target.type == "spark":
        return _run_in_process(args[1:], target)
    completed = subprocess.run(args, cwd=PROJECT_DIR, env=dbt_environment(target), check=False)
    return completed.returncode


def _run_in_process(args: list[str], target: Target) -> int:
    """dbt in this process: its Spark session is this process's one (onboard/core/spark_session.py)."""
    from dbt.cli.main import dbtRunner

    from onboard.core import spark_session

    os.environ.update(dbt_environment(target))
    spark_session.session(target)
    previous = Path.cwd()
    os.chdir(PROJECT_DIR)
    try:
        result = dbtRunner().invoke(args)
    finally:
        os.chdir(previous)
    if result.exception is not None:
        return 2
    return 0 if result.success else 1


#: Where render_inline's dbt keeps its parse between runs (partial parsing), apart from builds' target/.
RENDER_TARGET_PATH = Path("target") / "onboard_render"


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """os.environ with values set, restored on exit (dbt in this process reads its settings there)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def render_inline(target: Target, code: str, project_dir: Path = PROJECT_DIR) -> str:
    """Jinja rendered as dbt renders a model for target: the project's macros, vars and adapter.

    `dbt compile --inline` in this process, so callers run the SQL the models' own macros
    write instead of a copy of it. A DuckDB target renders against an in-memory database (the
    caller may hold the warehouse file open); other targets connect as dbt does.
    """
    from dbt.cli.main import dbtRunner

    with tempfile.TemporaryDirectory(prefix="onboard-render-") as scratch:
        profiles_dir, target_name = PROFILES_FILE.parent, target.name
        if target.type == "duckdb":
            schema = str(target.settings.get("schema", "main"))
            output = {"type": "duckdb", "path": ":memory:", "schema": schema}
            profile = {PROFILE_NAME: {"target": "render", "outputs": {"render": output}}}
            Path(scratch, "profiles.yml").write_text(json.dumps(profile))  # JSON is YAML
            profiles_dir, target_name = Path(scratch), "render"
        args = [
            "compile",
            "--inline",
            code,
            "--project-dir",
            str(project_dir),
            "--profiles-dir",
            str(profiles_dir),
            "--target",
            target_name,
            "--target-path",
            str(project_dir / RENDER_TARGET_PATH),
            "--log-path",
            scratch,
            "--log-level",
            "none",
            "--log-level-file",
            "none",
            "--no-introspect",
        ]
        with _environment(dbt_environment(target)):
            if target.type == "spark":
                from onboard.core import spark_session

                spark_session.session(target)
            result = dbtRunner().invoke(args)
    results = getattr(result.result, "results", None)
    if not result.success or not results:
        problem = " ".join(line.strip() for line in str(result.exception or "").splitlines() if line.strip())
        raise UsageError(f"dbt could not render {code}: {problem or 'compilation failed'}")
    return str(getattr(results[0].node, "compiled_code", ""))

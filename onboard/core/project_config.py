"""The one reader of the project's configuration: dbt vars, the seeds Python needs, YAML files.

Every configuration file is read into a typed pydantic model through `load_yaml` /
`parse_yaml`, so every file's mistakes are reported the same way, on one line:

    sync/mappings.yml:12: destinations.hubspot.batch_size: expected an integer >= 1, got 0

(file, line, key, what was expected). A model declares its own keys, types and bounds;
`extra="forbid"` on `ConfigModel` turns an unknown key into the same kind of line.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from onboard.core.errors import InputError
from onboard.core.paths import DBT_PROJECT_FILE, PROJECT_DIR

SEEDS_DIR = PROJECT_DIR / "seeds"

Model = TypeVar("Model", bound=BaseModel)


class ConfigModel(BaseModel):
    """Base of every configuration model: frozen, and unknown keys are an error, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ConfigError(InputError):
    """A configuration file breaks its model: `file:line: key: expected ..., got ...`."""


def read_text(path: Path) -> str:
    """A configuration file's text; one that is not UTF-8 is a ConfigError naming it."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        byte = error.object[error.start]
        found = f"found byte 0x{byte:02X} (save it as UTF-8)"
        raise ConfigError(f"{path}:{line}: expected UTF-8 text, {found}") from None


def _compose(text: str, source: str) -> tuple[Any, yaml.Node | None]:
    """The parsed document and its node tree (the node tree knows each key's line)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        return yaml.safe_load(text), node
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(f"{source}{line}: expected valid YAML ({problem})") from None


def _line(node: yaml.Node | None, path: Sequence[int | str]) -> int | None:
    """The 1-based line of the deepest node on `path` that the document has."""
    line = node.start_mark.line + 1 if node is not None else None
    for step in path:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if str(k.value) == str(step)), None)
            key = next((k for k, _ in node.value if str(k.value) == str(step)), None)
            if match is None:
                return line
            line, node = (key or match).start_mark.line + 1, match
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _expected(error: Mapping[str, Any]) -> str:
    """Pydantic's message for one error, phrased as what was expected."""
    message = str(error["msg"])
    for prefix in ("Input should be ", "Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
    if error["type"] == "missing":
        return "expected a value (the key is missing)"
    if error["type"] == "extra_forbidden":
        return "expected no such key (unknown)"
    return message if message.startswith("expected") else f"expected {message}"


def describe_error(error: ValidationError, source: str, node: yaml.Node | None, prefix: str = "") -> str:
    """The first error of a model's validation as one line: file:line: key: expected ..., got ..."""
    first = error.errors()[0]
    path = [step for step in first["loc"] if isinstance(step, int | str)]
    key = ".".join(str(step) for step in path) or "(document)"
    line = _line(node, path)
    where = f"{source}:{line}" if line is not None else source
    got = "" if first["type"] in ("missing", "extra_forbidden") else f", got {first['input']!r}"
    return f"{where}: {prefix}{key}: {_expected(first)}{got}"


def parse_yaml(text: str, model: type[Model], source: str) -> Model:
    """A YAML document's text read into `model`; ConfigError names file, line and key."""
    raw, node = _compose(text, source)
    return validate(raw if raw is not None else {}, model, source, node)


def validate(raw: Any, model: type[Model], source: str, node: yaml.Node | None = None) -> Model:
    """An already-parsed document read into `model`; ConfigError names file, line and key."""
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(describe_error(error, source, node)) from None


def load_yaml(path: Path, model: type[Model]) -> Model:
    """A YAML file read into `model`; a missing file is a ConfigError naming it."""
    if not path.exists():
        raise ConfigError(f"{path}: configuration file not found")
    return parse_yaml(read_text(path), model, str(path))


def read_yaml(path: Path) -> Any:
    """A YAML file's document as parsed, for a file whose shape another tool owns (profiles.yml is
    dbt's); a missing file or broken YAML is the same one-line ConfigError as everywhere."""
    if not path.exists():
        raise ConfigError(f"{path}: configuration file not found")
    return _compose(read_text(path), str(path))[0]


@cache
def _project(path: Path) -> dict[str, Any]:
    raw, _ = _compose(read_text(path), str(path))
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}:1: (document): expected a mapping")
    return raw


def dbt_vars(path: Path = DBT_PROJECT_FILE) -> dict[str, Any]:
    """The `vars:` of dbt_project.yml as written (the defaults a build uses)."""
    return dict(_project(path).get("vars") or {})


def dbt_vars_as(
    model: type[Model], path: Path = DBT_PROJECT_FILE, overrides: Mapping[str, Any] | None = None
) -> Model:
    """The vars a model declares, read from dbt_project.yml with `overrides` (what a build is given
    with --vars) over them; keys the model lacks are ignored."""
    raw, node = _compose(read_text(path), str(path))
    variables = {**((raw or {}).get("vars") or {}), **(overrides or {})}
    wanted = {name: variables[name] for name in model.model_fields if name in variables}
    try:
        return model.model_validate(wanted)
    except ValidationError as error:
        vars_node = next((v for k, v in node.value if k.value == "vars"), None) if node else None
        raise ConfigError(describe_error(error, str(path), vars_node, prefix="vars.")) from None


def read_seed(name: str, seeds: Path = SEEDS_DIR) -> list[dict[str, str]]:
    """The rows of seeds/<name>.csv as text, in file order."""
    with (seeds / f"{name}.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def seed_column(name: str, column: str, seeds: Path = SEEDS_DIR) -> tuple[str, ...]:
    """One column of a seed, in file order, each value once."""
    return tuple(dict.fromkeys(row[column] for row in read_seed(name, seeds)))

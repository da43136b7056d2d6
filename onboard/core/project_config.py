"""The one reader of the project's configuration: dbt vars, the seeds Python needs, YAML files.

Every configuration file is read into a typed pydantic model through `load_yaml` /
`parse_yaml`, so every file's mistakes are reported the same way, on one line:

    sync/mappings.yml:12: destinations.hubspot.batch_size: expected an integer >= 1, got 0

(file, line, key, what was expected). A model declares its own keys, types and bounds;
`extra="forbid"` on `ConfigModel` turns an unknown key into the same kind of line.
"""

from __future__ import annotations

import csv
import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

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


# ---------------------------------------------------------------- experiments (var `experiments`)

#: a starts_at / ends_at as written: a UTC date, or a date and time without an offset
EXPERIMENT_TIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?)?$"
EXPERIMENT_NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
#: the weights' sum may differ from 1 by this much (decimal weights are not exact in binary)
WEIGHT_SUM_TOLERANCE = 1e-9
#: u = int(first 8 hex digits of md5(name:customer_id), 16) / HASH_SCALE
HASH_SCALE = 2**32


def _experiment_time(value: Any) -> datetime:
    """A date or an offset-free date and time (UTC), as written or as YAML read it."""
    text = value.isoformat(sep=" ") if isinstance(value, datetime) else value
    text = text.isoformat() if isinstance(text, date) else text
    if not isinstance(text, str) or not re.match(EXPERIMENT_TIME_PATTERN, text):
        raise ValueError("expected a UTC date or date-time like '2026-09-01' or '2026-09-01 08:00:00'")
    return datetime.fromisoformat(text)


def _experiment_name(value: Any) -> str:
    if not isinstance(value, str) or not re.match(EXPERIMENT_NAME_PATTERN, value):
        raise ValueError("expected a name of lower-case letters, digits and _ starting with a letter")
    return value


def _non_empty_list(value: Any) -> Any:
    if not isinstance(value, list | tuple) or not value:
        raise ValueError("expected a non-empty list")
    return value


def _non_empty_text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("expected a non-empty text")
    return value


def _weight(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise ValueError("expected a number > 0 and <= 1")
    return float(value)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


def _at_least_one(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("expected an integer >= 1")
    return value


def _mapping_of(what: str) -> BeforeValidator:
    def check(value: Any) -> Any:
        if not isinstance(value, dict):
            raise ValueError(f"expected {what}")
        return value

    return BeforeValidator(check)


ExperimentTime = Annotated[datetime, BeforeValidator(_experiment_time)]
ExperimentName = Annotated[str, BeforeValidator(_experiment_name)]
NonEmptyNames = Annotated[
    tuple[Annotated[str, BeforeValidator(_non_empty_text)], ...], BeforeValidator(_non_empty_list)
]


class ExperimentArm(ConfigModel):
    """One arm of an experiment: its name, its share of the eligible customers, whether it is withheld."""

    name: ExperimentName
    weight: Annotated[float, BeforeValidator(_weight)]
    #: a holdout arm gets no onboarding sends while the experiment runs (suppression_reason holdout)
    holdout: Annotated[bool, BeforeValidator(_flag)] = False


class ExperimentEligibility(ConfigModel):
    """Who may enter, from what the first signup fixes (absent: everyone)."""

    plan_tiers: NonEmptyNames | None = None
    signup_sources: NonEmptyNames | None = None

    @field_validator("plan_tiers")
    @classmethod
    def _known_tiers(cls, tiers: tuple[str, ...] | None, info: ValidationInfo) -> tuple[str, ...] | None:
        known = tuple((info.context or {}).get("plan_tiers") or ())
        unknown = [tier for tier in tiers or () if known and tier not in known]
        if unknown:
            raise ValueError(f"expected tiers of var plan_tiers {list(known)}, got {unknown[0]!r}")
        return tiers


class ExperimentConfig(ConfigModel):
    """One entry of var `experiments` (docs/definitions.md#experiments-config)."""

    name: ExperimentName
    #: eligible: customers whose signup_at >= starts_at (UTC) ...
    starts_at: ExperimentTime
    #: ... and < ends_at when given
    ends_at: ExperimentTime | None = None
    eligible: Annotated[ExperimentEligibility, _mapping_of("a mapping of plan_tiers and signup_sources")] = (
        ExperimentEligibility()
    )
    #: in this order: the first arm whose cumulative weight exceeds u
    arms: Annotated[
        tuple[Annotated[ExperimentArm, _mapping_of("an arm (a mapping)")], ...],
        BeforeValidator(_non_empty_list),
    ]
    #: the arm every other arm is compared with
    control: Annotated[str, Field(strict=True)]
    #: matured customers per arm before any verdict
    min_customers_per_arm: Annotated[int, BeforeValidator(_at_least_one)] = 100

    @field_validator("ends_at")
    @classmethod
    def _after_start(cls, ends_at: datetime | None, info: ValidationInfo) -> datetime | None:
        starts_at = info.data.get("starts_at")
        if ends_at is not None and starts_at is not None and ends_at <= starts_at:
            raise ValueError(
                f"expected a time after starts_at ({starts_at:%Y-%m-%d %H:%M:%S}), got {ends_at}"
            )
        return ends_at

    @field_validator("arms")
    @classmethod
    def _arms(cls, arms: tuple[ExperimentArm, ...]) -> tuple[ExperimentArm, ...]:
        names = [arm.name for arm in arms]
        repeated = next((name for name in names if names.count(name) > 1), None)
        if repeated is not None:
            raise ValueError(f"expected unique arm names, got {repeated!r} twice")
        total = math.fsum(arm.weight for arm in arms)
        if abs(total - 1) > WEIGHT_SUM_TOLERANCE:
            raise ValueError(f"expected weights summing to 1, got {total:.12g}")
        holdouts = [arm.name for arm in arms if arm.holdout]
        if len(holdouts) > 1:
            raise ValueError(f"expected at most one arm with holdout: true, got {holdouts}")
        if len(holdouts) == len(arms):
            raise ValueError("expected at least one arm that is not a holdout, got only holdout arms")
        return arms

    @field_validator("control")
    @classmethod
    def _control_is_an_arm(cls, control: str, info: ValidationInfo) -> str:
        names = [arm.name for arm in info.data.get("arms") or ()]
        if names and control not in names:
            raise ValueError(f"expected one of the arms {names}, got {control!r}")
        return control

    def thresholds(self) -> tuple[int, ...]:
        """Each arm's upper bound on h = int(first 8 hex digits, 16): the arm holds h < its bound
        (u < cumulative weight, exactly, as integers); the last arm takes the rest."""
        bounds, cumulative = [], 0.0
        for arm in self.arms:
            cumulative += arm.weight
            bounds.append(math.ceil(cumulative * HASH_SCALE))
        return tuple(bounds)

    def arm_index(self, customer_id: str) -> int:
        """The index (config order) of the arm `customer_id` is assigned to if eligible
        (docs/definitions.md#experiment-assignment)."""
        h = int(hashlib.md5(f"{self.name}:{customer_id}".encode()).hexdigest()[:8], 16)
        return next((i for i, bound in enumerate(self.thresholds()) if h < bound), len(self.arms) - 1)

    def arm_for(self, customer_id: str) -> ExperimentArm:
        """The arm `customer_id` is assigned to if eligible (docs/definitions.md#experiment-assignment)."""
        return self.arms[self.arm_index(customer_id)]

    def is_running(self, as_of: datetime) -> bool:
        """starts_at <= as_of < ends_at (ends_at null: open); as_of naive UTC."""
        return self.starts_at <= as_of and (self.ends_at is None or as_of < self.ends_at)


class _ExperimentVars(ConfigModel):
    """The vars read_experiments needs (other vars are ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    experiments: Any = None
    plan_tiers: tuple[str, ...] = ()


def read_experiments(
    project_dir: Path = PROJECT_DIR, overrides: Mapping[str, Any] | None = None
) -> list[ExperimentConfig]:
    """Var `experiments` of <project_dir>/dbt_project.yml, with `overrides` (a build's --vars) over it.

    Every mistake is a ConfigError naming the experiment and the key, e.g.
    `dbt_project.yml:160: vars.experiments.global_holdout.arms: expected weights summing to 1, got 0.9`.
    """
    path = project_dir / "dbt_project.yml"
    raw, node = _compose(read_text(path), str(path))
    written = (raw or {}).get("vars") or {}
    from_overrides = overrides is not None and "experiments" in overrides
    variables = {**written, **(overrides or {})}
    source = "--vars" if from_overrides else str(path)
    vars_node = (
        next((v for k, v in node.value if k.value == "vars"), None) if node and not from_overrides else None
    )
    experiments_node = _child(vars_node, "experiments")
    entries = variables.get("experiments")
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        line = _line(vars_node, ["experiments"])
        where = f"{source}:{line}" if line is not None else source
        raise ConfigError(f"{where}: vars.experiments: expected a list of experiments, got {entries!r}")
    context = {"plan_tiers": tuple(variables.get("plan_tiers") or ())}
    experiments: list[ExperimentConfig] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            line = _line(experiments_node, [index])
            where = f"{source}:{line}" if line is not None else source
            raise ConfigError(
                f"{where}: vars.experiments.{index}: expected an experiment (a mapping), got {entry!r}"
            )
        label = entry.get("name") if isinstance(entry, dict) and isinstance(entry.get("name"), str) else index
        entry_node = _child(experiments_node, index)
        try:
            experiment = ExperimentConfig.model_validate(entry, context=context)
        except ValidationError as error:
            message = describe_error(error, source, entry_node, prefix=f"vars.experiments.{label}.")
            # a rule of ours names what it got itself: pydantic's `got <input>` would repeat it
            first = error.errors()[0]
            if first["type"] == "value_error" and ", got " in str(first["msg"]):
                message = message[: message.rindex(", got ")]
            raise ConfigError(message) from None
        if any(experiment.name == seen.name for seen in experiments):
            line = _line(entry_node, ["name"])
            where = f"{source}:{line}" if line is not None else source
            got = f"got {experiment.name!r} twice"
            raise ConfigError(f"{where}: vars.experiments.{label}.name: expected a unique name, {got}")
        experiments.append(experiment)
    return experiments


def _child(node: yaml.Node | None, step: int | str) -> yaml.Node | None:
    """The node under `node` at a key or index, if the document has it."""
    if isinstance(node, yaml.MappingNode):
        return next((v for k, v in node.value if str(k.value) == str(step)), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
        return node.value[step]
    return None

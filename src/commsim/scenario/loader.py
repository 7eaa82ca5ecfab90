"""Scenario files to typed objects: `extends`, dotted overrides, one clear error, TOML round trip."""

import hashlib
import json
import tomllib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w
from pydantic import BaseModel, ValidationError

from commsim.scenario import files as tomlfiles
from commsim.scenario.schema import INTERVENTION_TYPES, Scenario, error_key, error_text

MAX_EXTENDS = 16  # files in one `extends` chain; the shipped ones use 3


class ScenarioError(ValueError):
    """Bad scenario input; the message names the file, the key path and what is allowed."""


def scenario_dir() -> Path:
    """Where the shipped scenarios are (looked up when asked, not at import: see `files.shipped_dir`)."""
    return tomlfiles.shipped_dir("scenarios")


def shipped_scenarios() -> list[Path]:
    """The scenario files shipped in `scenarios/`, sorted by name."""
    return sorted(scenario_dir().glob("*.toml"))


def resolve_path(name: str | Path) -> Path:
    """A path as given, or a shipped scenario by bare name (`baseline`)."""
    return tomlfiles.find(name, scenario_dir(), "scenario", ScenarioError)


def _read_toml(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    """Read a file and merge it over its `extends` parent (relative to the file). A parent's mistakes are
    reported against the parent's file, after the referring file and its `extends` key."""
    data = tomlfiles.read(path, ScenarioError)
    data.setdefault("name", path.stem)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    named = tomlfiles.shown(parent) if isinstance(parent, str) else tomlfiles.shown_value(parent)
    where = f"{tomlfiles.shown(path)}: extends = {named}"
    if not isinstance(parent, str) or not parent.strip():
        raise ScenarioError(f"{where}: must name a scenario file (a non-empty string)")
    if len(chain) + 1 >= MAX_EXTENDS:
        raise ScenarioError(f"{where}: too many files in the extends chain (at most {MAX_EXTENDS})")
    try:
        parent_path = (path.parent / parent).resolve(strict=False)
    except (OSError, RuntimeError, ValueError) as err:  # a symlink loop, a NUL byte: say what stat says
        problem = tomlfiles.unreadable(path.parent / parent) or f"cannot read: {err}"
        raise ScenarioError(f"{where}: {problem}") from None
    if parent_path in (*chain, path):
        raise ScenarioError(f"{where}: cycle through {' -> '.join(str(p) for p in (*chain, path, parent_path))}")
    problem = tomlfiles.unreadable(parent_path)
    if problem:
        raise ScenarioError(f"{where}: {tomlfiles.shown(parent_path)}: {problem}")
    try:
        inherited = _read_toml(parent_path, (*chain, path))
        validate(inherited, tomlfiles.shown(parent_path))
    except ScenarioError as err:
        raise ScenarioError("\n".join(f"{where}: {line}" for line in str(err).split("\n"))) from None
    return deep_merge(inherited, data)


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; any other value in `over` replaces the one in `base`."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def parse_value(text: str) -> Any:
    """A `--set` value as TOML (numbers, booleans, strings); bare words are strings."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(data: dict[str, Any], overrides: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Set dotted keys (`groups.training_coverage`) or `__` keys (`groups__training_coverage`)."""
    out = deep_merge({}, data)
    for raw_key, value in overrides.items():
        parts = raw_key.replace("__", ".").split(".")
        node = out
        for depth, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif not isinstance(child, dict):
                path = ".".join(parts[: depth + 1])
                raise ScenarioError(f"{source}: {raw_key}: {path} is a value, not a table")
            node = child
        node[parts[-1]] = value.item() if isinstance(value, np.generic) else value
    return out


def _allowed(model: type[BaseModel] | None) -> str:
    return ", ".join(model.model_fields) if model else ""


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that owns the last element of a key path, to list its allowed keys."""
    model: type[BaseModel] = Scenario
    for part in loc[:-1]:
        if model is Scenario and part == "interventions":
            return None
        field = model.model_fields.get(str(part))
        if field is None or not (isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)):
            return None
        model = field.annotation
    return model


def _describe(err: dict[str, Any]) -> tuple[str, str]:
    """The key and the text of one error; an intervention's own keys are named for its type."""
    loc = list(err["loc"])
    if len(loc) >= 3 and loc[0] == "interventions" and loc[2] in INTERVENTION_TYPES:
        itype = INTERVENTION_TYPES[loc[2]]
        del loc[2]
        if err["type"] == "extra_forbidden":
            return error_key({**err, "loc": loc}), f"unknown key; allowed for {itype.__name__}: {_allowed(itype)}"
    key = error_key({**err, "loc": loc})
    if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
        return key, f"needs type = one of {', '.join(INTERVENTION_TYPES)}"
    model = _model_at(tuple(loc)) if err["type"] == "extra_forbidden" else None
    return key, error_text(err, list(model.model_fields) if model else ())


def validate(data: Mapping[str, Any], source: str) -> Scenario:
    """Validate a merged dictionary; raise ScenarioError naming the source and every bad key."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        lines = [f"{source}: {key}: {what}" for key, what in (_describe(e) for e in err.errors())]
        raise ScenarioError("\n".join(lines)) from None


def load_scenario(
    scenario: "str | Path | Scenario | Mapping[str, Any]",
    overrides: Mapping[str, Any] | None = None,
) -> Scenario:
    """A validated Scenario from a file, a shipped name, a dict or a Scenario, with dotted overrides."""
    if isinstance(scenario, Scenario):
        data, source = scenario.model_dump(mode="python"), f"scenario {scenario.name}"
    elif isinstance(scenario, Mapping):
        data, source = dict(scenario), "scenario dict"
    else:
        path = resolve_path(scenario)
        data, source = _read_toml(path.resolve(), ()), tomlfiles.shown(scenario)
    if overrides:
        data = apply_overrides(data, overrides, source)
    return validate(data, source)


def to_toml(scenario: Scenario) -> str:
    """The fully resolved scenario as TOML; `load_scenario` reads it back to an equal Scenario."""
    header = f"# commsim resolved scenario {scenario.name} (hash {scenario_hash(scenario)})\n"
    return header + tomli_w.dumps(scenario.model_dump(mode="json", exclude_none=True))


def scenario_hash(scenario: Scenario, *, with_seed: bool = True) -> str:
    """A short stable hash of every parameter (the name, description and calibration record excluded; the seed
    too if asked, so that replicates of one scenario share it)."""
    exclude = {"name", "description", "calibration"} | (set() if with_seed else {"seed"})
    payload = scenario.model_dump(mode="json", exclude=exclude)
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def whole_number_key(scenario: Scenario, key: str) -> bool:
    """Whether dotted `key` of `scenario` holds a whole number by the schema (an `int`, or an `int` that may be
    unset), whatever its value now."""
    node: Any = scenario
    *path, leaf = key.split(".")
    for part in path:
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    annotation = type(node).model_fields[leaf].annotation
    return annotation is int or (int in typing.get_args(annotation) and bool not in typing.get_args(annotation))


def flat_keys(scenario: Scenario) -> dict[str, Any]:
    """Every leaf as a dotted key: what sweeps, batch_run (`__` for dots) and sliders address."""
    out: dict[str, Any] = {}

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(f"{prefix}.{key}" if prefix else key, value)
        else:
            out[prefix] = node

    walk("", scenario.model_dump(mode="python"))
    return out

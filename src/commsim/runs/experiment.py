"""Experiment files (`experiments/*.toml`): a base scenario, parameters with values or ranges, a design (grid,
random, Latin hypercube or Sobol via SALib), replicates, months and the outputs of interest.

An experiment expands into design points (one dict of dotted scenario keys each) and runs: point x replicate,
replicate r on seed `seed + r` at every point (common random numbers across points). Errors name the file,
the key and what is allowed, as scenario errors do.
"""

import hashlib
import itertools
import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from commsim.errors import CommsimError
from commsim.model import metrics
from commsim.scenario import files as tomlfiles
from commsim.scenario.loader import ScenarioError, load_scenario, scenario_dir, scenario_hash
from commsim.scenario.schema import Scenario, check_name, error_key, error_text, inconsistent

Scalar = float | int | bool | str
MAX_POINTS = 1_000_000  # design points of one experiment (each is a dict in memory and a row per run in the store)
MAX_SEED = 2**63 - 1  # the scenario's seed bound: replicate r runs on seed + r


class ExperimentError(CommsimError):
    """Bad experiment input; the message names the file, the key and what is allowed."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class Parameter(Strict):
    """One swept scenario key: explicit `values`, or a `range` [low, high] (with `levels` for a grid)."""

    values: list[Scalar] | None = Field(
        None, min_length=1, max_length=10_000, description="The values to take (grid or random)."
    )
    range: Annotated[list[float], Field(min_length=2, max_length=2)] | None = Field(
        None, description="[low, high] for random, lhs and sobol designs, or a grid with `levels`."
    )
    levels: int | None = Field(None, ge=2, le=1000, description="Evenly spaced grid values over `range`.")
    integer: bool = Field(False, description="Round sampled values to whole numbers (months, counts).")

    @model_validator(mode="after")
    def _one_source(self) -> "Parameter":
        if (self.values is None) == (self.range is None):
            raise ValueError("give either values = [...] or range = [low, high]")
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError(f"range: low must be below high (got {self.range})")
        if self.range is not None and not math.isfinite(self.range[1] - self.range[0]):
            raise ValueError(f"range: too wide to sample (got {self.range}); high - low must be a finite number")
        if self.levels is not None and self.range is None:
            raise ValueError("levels needs range = [low, high]")
        return self

    def grid_values(self) -> list[Scalar]:
        """The values a grid takes."""
        if self.values is not None:
            return list(self.values)
        if self.levels is None:
            raise ValueError("a grid over a range needs levels = N")
        return [self._cast(v) for v in np.linspace(self.range[0], self.range[1], self.levels)]

    def _cast(self, value: float) -> Scalar:
        return int(np.rint(value)) if self.integer else float(value)


class Design(Strict):
    """How points are chosen."""

    kind: Literal["grid", "random", "lhs", "sobol"] = Field(description="grid | random | lhs | sobol.")
    samples: int | None = Field(
        None, ge=1, le=1_000_000, description="Points for random and lhs; base samples N for sobol."
    )
    second_order: bool = Field(False, description="Sobol: also estimate second-order indices (more runs).")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Seed of the design's own sampling (not of the runs).")

    @model_validator(mode="after")
    def _samples(self) -> "Design":
        if self.kind != "grid" and self.samples is None:
            raise ValueError(f"a {self.kind} design needs samples = N")
        if self.kind == "grid" and self.samples is not None:
            raise ValueError("a grid takes every combination: samples is not used")
        return self


class Experiment(Strict):
    """A sweep over scenario parameters."""

    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    scenario: str = Field(
        min_length=1, description="Base scenario: a shipped name or a file (relative to the experiment)."
    )
    months: int | None = Field(None, ge=1, le=1200, description="Months per run (default: the scenario's).")
    replicates: int = Field(1, ge=1, le=10_000, description="Runs per point; replicate r uses seed + r.")
    seed: int = Field(1, ge=0, le=MAX_SEED, description="Seed of replicate 0.")
    set: dict[str, Scalar] = Field(default_factory=dict, description="Fixed scenario keys for every run.")
    design: Design
    parameters: dict[str, Parameter] = Field(min_length=1, description="Swept scenario keys (dotted).")
    outputs: list[str] = Field(default_factory=lambda: ["mcpr"], min_length=1, description="Outcomes analysed.")

    @model_validator(mode="after")
    def _consistent(self) -> "Experiment":
        check_name("name", self.name)
        if self.seed + self.replicates - 1 > MAX_SEED:
            raise inconsistent(
                "seed",
                f"must be at most {MAX_SEED - self.replicates + 1} with {self.replicates} "
                f"replicates (replicate r runs on seed + r) (got {self.seed})",
            )
        for where, keys in (("parameters", self.parameters), ("set", self.set)):
            for key in keys:
                check_name(f"{where}.{key}", key)
                if key == "seed":
                    raise inconsistent(
                        f"{where}.seed",
                        "the seed is not swept or fixed here: replicates set the seeds (replicate r runs on "
                        "seed + r at every point, the same at all points); give seed = S and replicates = N at the "
                        "top of the file",
                    )
        points = expected_points(self)
        if points > MAX_POINTS:
            raise inconsistent(
                "design", f"{points:,} design points; at most {MAX_POINTS:,} (fewer values, levels or samples)"
            )
        unknown = [name for name in self.outputs if name not in metrics.COLUMNS or name == "month"]
        if unknown:
            raise ValueError(f"outputs: unknown {unknown}; allowed: {', '.join(metrics.COLUMNS[1:])}")
        if self.design.kind in ("lhs", "sobol"):
            listed = [key for key, p in self.parameters.items() if p.range is None]
            if listed:
                raise ValueError(f"a {self.design.kind} design needs range = [low, high] for {', '.join(listed)}")
        if self.design.kind == "grid":
            missing = [key for key, p in self.parameters.items() if p.values is None and p.levels is None]
            if missing:
                raise ValueError(f"a grid needs values or levels for {', '.join(missing)}")
        return self


class Plan:
    """A loaded experiment: its base scenario, its design points and the hash that identifies it."""

    def __init__(self, experiment: Experiment, base: Scenario, source: str) -> None:
        self.experiment = experiment
        self.base = base
        self.source = source
        self.keys = list(experiment.parameters)
        self.points = design_points(experiment)

    @property
    def n_runs(self) -> int:
        return len(self.points) * self.experiment.replicates

    def seeds(self) -> list[int]:
        """Seed of each replicate."""
        return [self.experiment.seed + r for r in range(self.experiment.replicates)]

    def overrides(self, point: int) -> dict[str, Scalar]:
        """Scenario keys of one design point (fixed keys and months included)."""
        out: dict[str, Scalar] = dict(self.experiment.set)
        if self.experiment.months is not None:
            out["months"] = self.experiment.months
        out.update(self.points[point])
        return out

    def key(self) -> str:
        """What identifies the experiment's runs: base scenario, design, points, replicates and seeds. Running
        the same experiment again resumes it; changing any of these starts a new sweep."""
        payload = {
            "base": scenario_hash(self.base, with_seed=False),
            "experiment": self.experiment.model_dump(mode="json", exclude={"description", "outputs", "name"}),
            "points": self.points,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def problem(self) -> dict[str, Any]:
        """The SALib problem of the ranged parameters."""
        return {
            "num_vars": len(self.keys),
            "names": self.keys,
            "bounds": [list(self.experiment.parameters[k].range or [0.0, 1.0]) for k in self.keys],
        }


def expected_points(experiment: Experiment) -> int:
    """How many points the design has, counted before they are drawn (a grid's product can be huge)."""
    params, design = experiment.parameters, experiment.design
    if design.kind == "grid":
        counts = [len(p.values) if p.values is not None else p.levels or 1 for p in params.values()]
        return int(np.prod(counts, dtype=object))
    if design.kind == "sobol":
        return (design.samples or 0) * ((2 if design.second_order else 1) * len(params) + 2)
    return design.samples or 0


def design_points(experiment: Experiment) -> list[dict[str, Scalar]]:
    """The design's points, in a fixed order (the same every time for the same file)."""
    params, design = experiment.parameters, experiment.design
    keys = list(params)
    if design.kind == "grid":
        combos = itertools.product(*(params[k].grid_values() for k in keys))
        return [dict(zip(keys, combo, strict=True)) for combo in combos]
    if design.kind == "random":
        generator = np.random.default_rng(design.seed)
        columns = []
        for key in keys:
            p = params[key]
            if p.values is not None:
                columns.append([p.values[i] for i in generator.integers(0, len(p.values), design.samples)])
            else:
                columns.append([p._cast(v) for v in generator.uniform(p.range[0], p.range[1], design.samples)])
        return [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)]
    problem = {"num_vars": len(keys), "names": keys, "bounds": [params[k].range for k in keys]}
    if design.kind == "lhs":
        from SALib.sample import latin

        matrix = latin.sample(problem, design.samples, seed=design.seed)
    else:
        from SALib.sample import sobol

        matrix = sobol.sample(problem, design.samples, calc_second_order=design.second_order, seed=design.seed)
    return [{k: params[k]._cast(v) for k, v in zip(keys, row, strict=True)} for row in matrix]


def resolve_experiment(name: str | Path) -> Path:
    """A path as given, or a shipped experiment by bare name."""
    return tomlfiles.find(name, tomlfiles.shipped_dir("experiments"), "experiment", ExperimentError)


def load_experiment(name: str | Path) -> Plan:
    """Read, validate and expand an experiment file; every error names the file and the key."""
    path = resolve_experiment(name)
    data = tomlfiles.read(path, ExperimentError)
    data.setdefault("name", path.stem)
    try:
        experiment = Experiment.model_validate(data)
    except ValidationError as err:
        raise ExperimentError("\n".join(f"{path}: {error_key(e)}: {error_text(e)}" for e in err.errors())) from None
    try:
        base = load_scenario(base_scenario(path, experiment.scenario), experiment.set)
    except ScenarioError as err:
        raise ExperimentError("\n".join(f"{path}: scenario / set: {line}" for line in str(err).split("\n"))) from None
    check_parameters(experiment, base, str(path))
    return Plan(experiment, base, str(path))


def base_scenario(path: Path, name: str) -> Path:
    """The experiment's base scenario: a file relative to the experiment, else a shipped one by bare name; never
    a file relative to the working directory, which the experiment did not name."""
    local = path.parent / name
    shipped = scenario_dir() / f"{Path(name).stem}.toml"
    bare = len(Path(name).parts) == 1 and Path(name).suffix in ("", ".toml")
    return shipped if not local.exists() and bare and shipped.is_file() else local


def check_parameters(experiment: Experiment, base: Scenario, source: str) -> None:
    """Every swept key must exist in the scenario and accept the ends of its range (or each listed value); a
    swept start month must fall within the runs (a later start would never take effect)."""
    horizon = experiment.months or base.months
    for key, p in experiment.parameters.items():
        probes = p.values if p.values is not None else [p._cast(p.range[0]), p._cast(p.range[1])]
        for value in probes:
            try:
                load_scenario(base, {key: value})
            except ScenarioError as err:
                reason = str(err).split("\n")[0].split(": ", 2)[-1]
                raise ExperimentError(
                    f"{source}: parameters.{key} = {tomlfiles.shown_value(value)}: {reason}"
                ) from None
            if key.endswith(".start_month") and value > horizon:
                raise ExperimentError(
                    f"{source}: parameters.{key} = {value!r}: after the last month of the runs (months = {horizon}); "
                    f"the intervention would never take effect: allowed up to {horizon} (at {horizon}: never)"
                )

"""Targets files (`targets/*.toml`): what a calibration fits a scenario to, and which parameters it may move.

```toml
name = "mali_dhs2018"        # default: the file name
months = 24                  # months of each run; the measures are taken at the last (default: the scenario's)
replicates = 3               # runs per trial; replicate r on seed + r (common random numbers)
seed = 1

[set]                        # fixed scenario keys for every run (e.g. a smaller district for speed)
"population.households" = 5000

[targets.mcpr]               # a measure of commsim.evidence.measures.MEASURES
value = 0.16
scale = 0.01                 # the tolerance the loss divides by, e.g. a survey's 95% CI half-width
weight = 1.0
source = "Mali DHS 2018"

[parameters."households.rate_awareness_per_month"]
low = 0.02
high = 0.30                  # integer = true for counts and months; log = true to search on a log scale
```

The scenario is not part of the file: `commsim calibrate SCENARIO --targets FILE` names it, so one targets
file calibrates any scenario of the district. Errors name the file, the key and what is allowed, as scenario
and experiment errors do; `check_targets` also checks every parameter against the scenario at both bounds.
"""

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from commsim.errors import CommsimError
from commsim.evidence.measures import COHORT_MONTHS, COHORT_START, FOLLOW_UP_MONTHS, MEASURES
from commsim.scenario import files as tomlfiles
from commsim.scenario.loader import ScenarioError, flat_keys, load_scenario, whole_number_key
from commsim.scenario.schema import Scenario, check_name, error_key, error_text

MIN_MONTHS = COHORT_START + COHORT_MONTHS - 1 + FOLLOW_UP_MONTHS  # a run shorter than this is lengthened
NOT_FITTED = ("name", "description", "seed", "months")  # set by the targets file itself, or not numbers
Scalar = float | int | bool | str


class TargetsError(CommsimError):
    """Bad targets input; the message names the file, the key and what is allowed."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class Target(Strict):
    """One measure to fit: its value, the tolerance the loss divides by, its weight and its source."""

    value: float = Field(ge=0.0, description="The target value of the measure.")
    scale: float = Field(gt=0.0, description="Tolerance the loss divides by (e.g. a survey's CI half-width).")
    weight: float = Field(1.0, ge=0.0, description="Weight in the loss (0: shown in the fit, not fitted).")
    source: str = Field(min_length=1, description="Where the value comes from (a citation).")


class Bounds(Strict):
    """The search range of one fitted scenario key."""

    low: float
    high: float
    integer: bool = Field(False, description="A whole-number key (counts, months).")
    log: bool = Field(False, description="Search on a log scale (needs low > 0).")

    @model_validator(mode="after")
    def _ordered(self) -> "Bounds":
        if not self.low < self.high:
            raise ValueError(f"low must be below high (got low = {self.low}, high = {self.high})")
        if self.log and self.low <= 0:
            raise ValueError(f"log = true needs low > 0 (got low = {self.low})")
        if self.integer and not (float(self.low).is_integer() and float(self.high).is_integer()):
            raise ValueError(f"integer = true needs whole-number bounds (got {self.low}, {self.high})")
        return self


class TargetsSpec(Strict):
    """A targets file."""

    name: str = Field(min_length=1, max_length=80)
    description: str = ""
    months: int | None = Field(
        None,
        ge=MIN_MONTHS,
        le=1200,
        description=f"Months of each run (default: the scenario's); at least {MIN_MONTHS}, which the 12-month "
        "discontinuation of the months-7-9 cohort needs.",
    )
    replicates: int = Field(3, ge=1, le=1000, description="Runs per trial; replicate r uses seed + r.")
    seed: int = Field(1, ge=0, le=2**62, description="Seed of replicate 0.")
    set: dict[str, Scalar] = Field(default_factory=dict, description="Fixed scenario keys for every run.")
    targets: dict[str, Target] = Field(min_length=1, description="Measures to fit, by name.")
    parameters: dict[str, Bounds] = Field(min_length=1, description="Scenario keys to fit (dotted), with bounds.")

    @model_validator(mode="after")
    def _names(self) -> "TargetsSpec":
        check_name("name", self.name)
        for where, keys in (("set", self.set), ("parameters", self.parameters)):
            for key in keys:
                check_name(f"{where}.{key}", key)
        return self


@dataclass(frozen=True)
class Targets:
    """A loaded targets file."""

    spec: TargetsSpec
    path: Path
    source: str  # as the user named it, for messages and the calibration record

    @property
    def name(self) -> str:
        return self.spec.name


def resolve_targets(name: str | Path) -> Path:
    """A path as given, or a shipped targets file by bare name (`mali_dhs2018`)."""
    return tomlfiles.find(name, tomlfiles.shipped_dir("targets"), "targets", TargetsError)


def load_targets(name: str | Path) -> Targets:
    """Read and validate a targets file; every error names the file and the key."""
    path = resolve_targets(name)
    data = tomlfiles.read(path, TargetsError)
    if "scenario" in data:
        raise TargetsError(
            f"{path}: scenario: not part of a targets file; name the scenario on the command line "
            "(commsim calibrate SCENARIO --targets FILE)"
        )
    data.setdefault("name", path.stem)
    try:
        spec = TargetsSpec.model_validate(data)
    except ValidationError as error:
        raise TargetsError("\n".join(f"{path}: {error_key(e)}: {_text(e)}" for e in _errors(error))) from None
    unknown = [measure for measure in spec.targets if measure not in MEASURES]
    if unknown:
        raise TargetsError(
            f"{path}: targets.{tomlfiles.shown_key(unknown[0])}: unknown measure; allowed: {', '.join(MEASURES)}"
        )
    if not any(target.weight > 0 for target in spec.targets.values()):
        raise TargetsError(f"{path}: targets: every weight is 0; at least one target must have weight > 0")
    for key in spec.set:
        if key in ("seed", "months"):
            raise TargetsError(f"{path}: set.{key}: give {key} = ... at the top of the file, not in [set]")
    for key in spec.parameters:
        if key in spec.set:
            raise TargetsError(f"{path}: parameters.{key}: also fixed in [set]; a key is either fitted or fixed")
        if key in NOT_FITTED:
            raise TargetsError(f"{path}: parameters.{key}: cannot be fitted; fit a numeric scenario parameter")
    return Targets(spec, path, str(name))


def check_targets(targets: Targets, scenario: Scenario) -> Scenario:
    """Check a targets file against the scenario it calibrates: the fixed keys apply, every fitted key is a
    number of this scenario and the scenario accepts both of its bounds. Returns the scenario with [set]."""
    where = targets.path
    try:
        base = load_scenario(scenario, targets.spec.set)
    except ScenarioError as error:
        raise TargetsError(f"{where}: set.{_reason(error, with_key=True)}") from None
    keys = flat_keys(base)
    for key, bounds in targets.spec.parameters.items():
        if key not in keys:
            hint = _near(key, keys)
            raise TargetsError(f"{where}: parameters.{key}: not a parameter of scenario {base.name}{hint}")
        current = keys[key]
        if isinstance(current, bool) or not isinstance(current, int | float | None):
            raise TargetsError(f"{where}: parameters.{key}: not a number (it is {current!r}); only numbers are fitted")
        if whole_number_key(base, key) and not bounds.integer:
            raise TargetsError(f"{where}: parameters.{key}: a whole number in the scenario; set integer = true")
        for end in ("low", "high"):
            value = cast(bounds, getattr(bounds, end))
            try:
                load_scenario(base, {key: value})
            except ScenarioError as error:
                raise TargetsError(f"{where}: parameters.{key}.{end} = {value!r}: {_reason(error)}") from None
    return base


def cast(bounds: Bounds, value: float) -> float | int:
    """A value as the scenario takes it: whole numbers for integer keys."""
    return round(value) if bounds.integer else float(value)


def _near(key: str, keys: dict[str, Any]) -> str:
    close = difflib.get_close_matches(key, list(keys), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _reason(error: ScenarioError, *, with_key: bool = False) -> str:
    """A scenario error without its source ("scenario baseline: groups.x: must be ..." -> "must be ...", or
    "groups.x: must be ..." with the key)."""
    first = str(error).split("\n")[0]
    return first.split(": ", 1)[-1] if with_key else first.split(": ", 2)[-1]


def _errors(error: ValidationError) -> list[dict[str, Any]]:
    """The errors to report: a misspelt key gives "unknown key" and "missing" for the key it meant; keep the
    first (it names the fix) and drop the second."""
    found = error.errors()
    misspelt = {e["loc"][:-1] for e in found if e["type"] == "extra_forbidden"}
    return [e for e in found if not (e["type"] == "missing" and e["loc"][:-1] in misspelt)]


def _text(error: dict[str, Any]) -> str:
    """An error's text (`error_text`), with the keys allowed where an unknown one was found."""
    return error_text(error, _allowed(error["loc"]) if error["type"] == "extra_forbidden" else ())


def _allowed(loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed where an unknown one was found."""
    if len(loc) == 1:
        return list(TargetsSpec.model_fields)
    if loc[0] == "targets":
        return list(Target.model_fields)
    if loc[0] == "parameters":
        return list(Bounds.model_fields)
    return []

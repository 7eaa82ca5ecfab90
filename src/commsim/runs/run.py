"""Running the model: one scenario for N months, returning its monthly outputs. The CLI, the UI, comparisons,
sweeps and calibration all call these functions.
"""

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from commsim.model.community import CommunityHealthModel
from commsim.scenario.loader import load_scenario
from commsim.scenario.schema import Scenario


@dataclass
class RunResult:
    """One finished run: the resolved scenario, its seed and backend, one row of outputs per month, what its
    facilities recorded (`model.services.long_table`), and each village's households and users at the end."""

    scenario: Scenario
    seed: int
    backend: str
    timeseries: pd.DataFrame
    phase_seconds: dict[str, float]
    service_statistics: pd.DataFrame
    villages: pd.DataFrame


def run_scenario(
    scenario: "str | Path | Scenario | Mapping[str, Any]",
    *,
    months: int | None = None,
    seed: int | None = None,
    backend: str = "numba",
    overrides: Mapping[str, Any] | None = None,
    on_month: Callable[[int, int], None] | None = None,
    check_memory: bool = True,
) -> RunResult:
    """Build and run a model; `on_month(done, total)` is called after each month (for progress bars);
    `check_memory=False` builds even a district that needs more memory than is free."""
    settings = dict(overrides or {})
    if months is not None:
        settings["months"] = months
    if seed is not None:
        settings["seed"] = seed  # the returned scenario then reproduces the run on its own
    config = load_scenario(scenario, settings)
    model = CommunityHealthModel(config, backend=backend, check_memory=check_memory)
    for done in range(1, config.months + 1):
        model.step()
        if on_month is not None:
            on_month(done, config.months)
    villages = model.district.villages
    at_end = pd.DataFrame({"households": villages.n_households, "users": villages.n_users})
    return RunResult(
        config, model.seed, backend, model.timeseries(), dict(model.phase_seconds), model.service_statistics(), at_end
    )


@dataclass
class RunOutput:
    """A finished run as executors return it: the resolved scenario, its outputs, its service statistics, when
    it ran, and each village's households and users at the end."""

    scenario: Scenario
    timeseries: pd.DataFrame
    started_at: datetime
    finished_at: datetime
    service_statistics: pd.DataFrame
    villages: pd.DataFrame


def run_task(base: Scenario, overrides: Mapping[str, Any], backend: str = "numba") -> RunOutput:
    """One run of `base` with dotted `overrides` (the seed among them): what a worker of a comparison or a
    sweep executes. The scenario is resolved in the worker, so the caller never validates 10,000 of them; the
    caller checked the memory all its workers need (`resources.check_memory`), so the worker does not again."""
    started = datetime.now(UTC)
    result = run_scenario(base, backend=backend, overrides=overrides, check_memory=False)
    finished = datetime.now(UTC)
    return RunOutput(result.scenario, result.timeseries, started, finished, result.service_statistics, result.villages)


def warm_up() -> int:
    """What each new worker of a pool runs first: load commsim and its compiled kernels (from the cache) with a
    tiny district, while the parent opens the store. Returns the worker's pid."""
    tiny = {"population": {"households": 200, "villages": 2, "facilities": 2}}
    CommunityHealthModel(tiny).step()
    return os.getpid()

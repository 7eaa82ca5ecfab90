"""Scenario comparisons with common random numbers: every scenario runs on the same N seeds, every run is
stored, and the long frame of all runs feeds `effects.summarise` and the report.

Runs go to a process pool (`executors`: one Numba thread per worker, so the cores are used once) and are stored
by this process as they finish: one writer, each run in its own transaction, so an interruption keeps every run
already finished.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from commsim.errors import CommsimError
from commsim.runs.executors import WorkerLost, default_workers, open_executor
from commsim.runs.run import run_task, warm_up
from commsim.scenario.loader import load_scenario
from commsim.scenario.schema import Scenario
from commsim.store import database as results_store


@dataclass
class Comparison:
    """What `compare` ran: the resolved scenarios by label, the seeds, the batch id, and every run's outputs."""

    scenarios: dict[str, Scenario]
    baseline: str
    seeds: list[int]
    batch_id: int | None
    frame: pd.DataFrame  # one row per scenario, replicate and month: scenario, replicate, seed, run_id, outputs
    run_ids: dict[tuple[str, int], int] = field(default_factory=dict)
    villages: dict[tuple[str, int], pd.DataFrame] = field(default_factory=dict)  # each run's villages at the end

    def exits(self) -> dict[str, int | None]:
        """Month the donor leaves, per scenario (None without a donor exit)."""
        return {label: scenario.donor_exit_month for label, scenario in self.scenarios.items()}


def resolve_arms(
    scenarios: Sequence[str | Path],
    baseline: str | None,
    overrides: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Scenario], str]:
    """Load every scenario with the same overrides; label each by its name (made unique). The baseline is
    `baseline` (a label, or a scenario to add), else the scenario named "baseline", else the first."""
    arms: dict[str, Scenario] = {}
    for source in scenarios:
        config = load_scenario(source, overrides)
        label, n = config.name, 1
        while label in arms:
            n += 1
            label = f"{config.name}-{n}"
        arms[label] = config
    if baseline is not None and baseline not in arms:
        config = load_scenario(baseline, overrides)
        arms = {config.name: config, **arms}
        baseline = config.name
    if baseline is None:
        baseline = "baseline" if "baseline" in arms else next(iter(arms))
    horizons = {label: config.months for label, config in arms.items()}
    if len(set(horizons.values())) > 1:
        listed = ", ".join(f"{label}: {months}" for label, months in horizons.items())
        raise CommsimError(f"scenarios run for different numbers of months ({listed}); set one with --months")
    return arms, baseline


def comparison_seeds(reps: int, first: int) -> list[int]:
    """Seeds first, first+1, ...: replicate r of every scenario uses seeds[r]."""
    return [first + r for r in range(reps)]


def run_comparison(
    arms: Mapping[str, Scenario],
    baseline: str,
    seeds: Sequence[int],
    *,
    store: results_store.Store | None,
    workers: int | None = None,
    backend: str = "numba",
    on_run: Callable[[int, int], None] | None = None,
) -> Comparison:
    """Run every scenario on every seed, store each run as it finishes, and return the Comparison.
    `on_run(done, total)` is called before the first run and after each (for progress bars)."""
    batch_id = None
    if store is not None:
        spec = {
            "scenarios": list(arms),
            "baseline": baseline,
            "seeds": list(seeds),
            "months": {label: config.months for label, config in arms.items()},
            "backend": backend,
        }
        batch_id = results_store.new_batch(store, "compare", " vs ".join(arms), spec)
    comparison = Comparison(dict(arms), baseline, list(seeds), batch_id, pd.DataFrame())
    parts: list[pd.DataFrame] = []
    tasks = (
        ((label, rep), run_task, (config, {"seed": seed}, backend))
        for rep, seed in enumerate(seeds)
        for label, config in arms.items()
    )
    total = len(arms) * len(seeds)
    if on_run is not None:
        on_run(0, total)
    try:
        with open_executor(min(workers or default_workers(), total), warm_up=warm_up) as executor:
            for (label, rep), output in executor.run(tasks):
                run_id = None
                if store is not None:
                    run_id = results_store.save_run(
                        store, output.scenario, output.timeseries, backend=backend, started_at=output.started_at,
                        finished_at=output.finished_at, replicate=rep, batch_id=batch_id,
                        service_statistics=output.service_statistics,
                    )  # fmt: skip
                    comparison.run_ids[(label, rep)] = run_id
                seed = output.scenario.seed
                comparison.villages[(label, rep)] = output.villages
                parts.append(output.timeseries.assign(scenario=label, replicate=rep, seed=seed, run_id=run_id))
                if on_run is not None:
                    on_run(len(parts), total)
    except WorkerLost as error:
        kept = "none stored"
        if store is not None:
            kept = f"{len(parts)} of {total} runs are stored as batch {batch_id} in {store.url}"
        raise WorkerLost(
            f"compare {' vs '.join(arms)}: {error}; {kept}; a comparison does not resume: run it again"
        ) from None
    frame = pd.concat(parts, ignore_index=True)
    lead = ["scenario", "replicate", "seed", "run_id"]
    frame = frame[lead + [c for c in frame.columns if c not in lead]]
    position = {label: n for n, label in enumerate(arms)}
    frame = frame.sort_values(
        ["scenario", "replicate", "month"], key=lambda c: c.map(position) if c.name == "scenario" else c
    )
    comparison.frame = frame.reset_index(drop=True)
    return comparison

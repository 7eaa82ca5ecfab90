"""Sweeps: every run of an experiment (design point x replicate) on an executor, each stored as it finishes.

A sweep is a batch keyed by the experiment's hash (`Plan.key`): running the same experiment again finds the
batch, skips the runs already stored and runs the rest, so killing a sweep at any moment loses no finished
run. Results stream: the parent stores each run and drops it, and the executor keeps only a few in flight.
"""

from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass

from commsim.runs.executors import Executor, Task
from commsim.runs.experiment import Plan
from commsim.runs.run import run_task
from commsim.store import database as results_store


@dataclass
class SweepOutcome:
    """What one invocation did: the batch, how many runs were already stored, and how many it added."""

    batch_id: int
    total: int
    already: int
    ran: int

    @property
    def complete(self) -> bool:
        return self.already + self.ran == self.total


def sweep_batch(plan: Plan, store: results_store.Store) -> tuple[int, set[tuple[int, int]]]:
    """The batch of this experiment (found by its key, else created) and the (point, replicate) runs it has."""
    batch_id = results_store.find_batch(store, "sweep", plan.key())
    if batch_id is None:
        spec = {
            "experiment": plan.experiment.model_dump(mode="json"),
            "source": plan.source,
            "keys": plan.keys,
            "points": len(plan.points),
            "point_values": plan.points,  # what each point index meant when it ran
            "replicates": plan.experiment.replicates,
        }
        batch_id = results_store.new_batch(store, "sweep", plan.experiment.name, spec, key=plan.key())
    return batch_id, results_store.finished_runs(store, batch_id)


def sweep_tasks(plan: Plan, done: set[tuple[int, int]], backend: str) -> Iterator[Task]:
    """The runs still to do, point by point; replicate r of every point uses the same seed."""
    for point in range(len(plan.points)):
        overrides = plan.overrides(point)
        for replicate, seed in enumerate(plan.seeds()):
            if (point, replicate) not in done:
                yield (point, replicate), run_task, (plan.base, {**overrides, "seed": seed}, backend)


def run_sweep(
    plan: Plan,
    store: results_store.Store,
    executor: Executor,
    *,
    backend: str = "numba",
    on_run: Callable[[int, int], None] | None = None,
) -> SweepOutcome:
    """Run what is missing of the experiment on `executor`, storing each run as it finishes.
    `on_run(done, total)` counts runs stored, those from earlier invocations included."""
    batch_id, done = sweep_batch(plan, store)
    outcome = SweepOutcome(batch_id, plan.n_runs, len(done), 0)
    if on_run is not None:
        on_run(outcome.already, outcome.total)
    for (point, replicate), output in executor.run(sweep_tasks(plan, done, backend)):
        # DuplicateRun: another process sweeping the same experiment stored it first (same seed, same result)
        with suppress(results_store.DuplicateRun):
            results_store.save_run(
                store,
                output.scenario,
                output.timeseries,
                backend=backend,
                started_at=output.started_at,
                finished_at=output.finished_at,
                replicate=replicate,
                point=point,
                batch_id=batch_id,
            )
        outcome.ran += 1
        if on_run is not None:
            on_run(outcome.already + outcome.ran, outcome.total)
    return outcome

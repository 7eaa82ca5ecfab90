"""`commsim sweep`: every run of an experiment file on local cores or a Dask cluster, stored as it finishes and
resumed where it stopped."""

import shlex
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from commsim.cli.common import DB_HELP, bad_input_exits, compile_first, fail, runs_progress, stderr, stdout
from commsim.model import BACKENDS
from commsim.model.resources import FORCE_HELP

if TYPE_CHECKING:
    from commsim.runs.experiment import Plan
    from commsim.store.database import Store

PASSWORD_NOTE = (
    "the password is shown as ***: type the real one in its place, or put the whole URL in $COMMSIM_DB "
    "and leave out --db"
)


def command_line(words: list[str], db: str | None) -> str:
    """A `commsim` command to paste: `words`, then `--db` with the URL's password shown as ***, and then a note
    saying so (such a line does not work pasted back as it is)."""
    from commsim.store.database import shown_url

    shown = shown_url(db) if db else None
    line = shlex.join(["commsim", *words, *(["--db", shown] if shown else [])])
    return line + (f" ({PASSWORD_NOTE})" if shown != db else "")


def sweep_words(
    experiment: str, workers: int | None, scheduler: str | None, dask_local: int | None, backend: str
) -> list[str]:
    """The words of this `commsim sweep` command (without --db): what runs it again, and so resumes it."""
    words = ["sweep", experiment]
    for flag, value in (("--workers", workers), ("--scheduler", scheduler), ("--dask-local", dask_local)):
        if value is not None:
            words += [flag, str(value)]
    return words + (["--backend", backend] if backend != "numba" else [])


def sweep(
    experiment: Annotated[str, typer.Argument(metavar="EXPERIMENT", help="An experiment file, or a shipped name.")],
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", min=1, help="Local worker processes (default: all cores).")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", metavar="tcp://HOST:PORT", help="Run on this Dask scheduler.")
    ] = None,
    dask_local: Annotated[
        int | None, typer.Option("--dask-local", metavar="N", min=1, help="Run on a local Dask cluster of N workers.")
    ] = None,
    backend: Annotated[str, typer.Option("--backend", "-b", help="numba or python.")] = "numba",
    db: Annotated[str | None, typer.Option("--db", metavar="URL", help=DB_HELP)] = None,
    force: Annotated[bool, typer.Option("--force", help=FORCE_HELP)] = False,
) -> None:
    """Run an experiment: every design point x replicate, each run stored as it finishes. Running the same
    experiment again skips the runs already stored and runs the rest. A worker process that dies (e.g. out of
    memory) ends the sweep with exit code 2 and the command that resumes it."""
    with bad_input_exits():
        if backend not in BACKENDS:
            raise ValueError(f"--backend: {backend!r} is not one of {', '.join(BACKENDS)}")
        from commsim.runs.executors import WorkerLost, default_workers, open_executor
        from commsim.runs.experiment import load_experiment
        from commsim.runs.run import warm_up
        from commsim.runs.sweep import run_sweep
        from commsim.store import database as store

        plan = load_experiment(experiment)
        if not force and scheduler is None:  # a remote cluster's memory is its own
            check_sweep_memory(plan, dask_local or workers or default_workers())
        resume = command_line(sweep_words(experiment, workers, scheduler, dask_local, backend), db)
        results = store.open_store(db)
        name = plan.experiment.name
        stdout().print(
            Text.assemble(
                ("sweep ", "bold"),
                (name, "bold"),
                f": {len(plan.points)} points x {plan.experiment.replicates} replicates = {plan.n_runs} runs "
                f"({plan.experiment.design.kind} design over {', '.join(plan.keys)})",
            ),
            soft_wrap=True,
        )
        if scheduler is None:  # a remote cluster's workers compile on their own machines
            compile_first(backend, *sweep_sizes(plan))
        with open_executor(workers, scheduler, dask_local, warm_up=warm_up) as executor, runs_progress(name) as on_run:
            stdout().print(f"on {executor.description}; storing in {results.url}", soft_wrap=True)
            try:
                outcome = run_sweep(plan, results, executor, backend=backend, on_run=on_run)
            except KeyboardInterrupt:
                stderr().print(
                    f"stopped: {stored(plan, results)}; run the same command again to resume: {resume}",
                    style="yellow",
                    soft_wrap=True,
                )
                raise typer.Exit(130) from None
            except WorkerLost as error:
                fail(f"sweep {name}: {error}; {stored(plan, results)}; resume with: {resume}")
    skipped = f", {outcome.already} were already stored" if outcome.already else ""
    stdout().print(
        Text.assemble(
            f"{outcome.ran} runs done{skipped}: {outcome.already + outcome.ran} of {outcome.total} stored as batch ",
            (str(outcome.batch_id), "bold"),
        ),
        soft_wrap=True,
    )
    stdout().print("next: " + command_line(["analyze", str(outcome.batch_id)], db), soft_wrap=True)


def sweep_sizes(plan: "Plan") -> set[int]:
    """The district sizes a sweep runs: the base scenario's and any its points set."""
    sizes = (plan.overrides(point).get("population.households") for point in range(len(plan.points)))
    return {plan.base.population.households, *(int(size) for size in sizes if size is not None)}


def check_sweep_memory(plan: "Plan", workers: int) -> None:
    """Refuse, before any run, a sweep whose largest district times its local workers needs more memory than is
    free (`--force` to try anyway)."""
    from commsim.model import resources
    from commsim.scenario.loader import load_scenario

    biggest = load_scenario(plan.base, {"population.households": max(sweep_sizes(plan))})
    resources.check_memory(biggest, copies=min(workers, plan.n_runs))


def stored(plan: "Plan", results: "Store") -> str:
    """How much of the sweep is stored, read from the database: `N of M runs are stored (batch B)`."""
    from commsim.runs.sweep import sweep_batch

    batch_id, done = sweep_batch(plan, results)
    return f"{len(done)} of {plan.n_runs} runs are stored (batch {batch_id})"

"""`commsim sweep`: every run of an experiment file on local cores or a Dask cluster, stored as it finishes and
resumed where it stopped."""

from typing import Annotated

import typer
from rich.text import Text

from commsim.cli_common import BACKENDS, DB_HELP, bad_input_exits, err, out, runs_progress


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
) -> None:
    """Run an experiment: every design point x replicate, each run stored as it finishes. Running the same
    experiment again skips the runs already stored and runs the rest."""
    with bad_input_exits():
        if backend not in BACKENDS:
            raise ValueError(f"--backend: {backend!r} is not one of {', '.join(BACKENDS)}")
        from commsim import store
        from commsim.executors import open_executor
        from commsim.experiment import load_experiment
        from commsim.sweep import run_sweep

        plan = load_experiment(experiment)
        results = store.open_store(db)
        name = plan.experiment.name
        out.print(
            Text.assemble(
                ("sweep ", "bold"),
                (name, "bold"),
                f": {len(plan.points)} points x {plan.experiment.replicates} replicates = {plan.n_runs} runs "
                f"({plan.experiment.design.kind} design over {', '.join(plan.keys)})",
            ),
            soft_wrap=True,
        )
        with open_executor(workers, scheduler, dask_local) as executor, runs_progress(name) as on_run:
            out.print(f"on {executor.description}; storing in {results.url}", soft_wrap=True)
            try:
                outcome = run_sweep(plan, results, executor, backend=backend, on_run=on_run)
            except KeyboardInterrupt:
                from commsim.sweep import sweep_batch

                batch_id, done = sweep_batch(plan, results)
                err.print(
                    f"stopped: {len(done)} of {plan.n_runs} runs are stored (batch {batch_id}); "
                    "run the same command again to resume",
                    style="yellow",
                    soft_wrap=True,
                )
                raise typer.Exit(130) from None
    skipped = f", {outcome.already} were already stored" if outcome.already else ""
    out.print(
        Text.assemble(
            f"{outcome.ran} runs done{skipped}: {outcome.already + outcome.ran} of {outcome.total} stored as batch ",
            (str(outcome.batch_id), "bold"),
        ),
        soft_wrap=True,
    )
    out.print(f"next: commsim analyze {outcome.batch_id}" + (f" --db {db}" if db else ""), soft_wrap=True)

"""`commsim calibrate`: fit a scenario's parameters to survey targets (Optuna, study kept in the results database,
resumable), write the calibrated scenario and print the fit."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from commsim.cli.common import DB_HELP, bad_input_exits, fail, stderr, stdout

if TYPE_CHECKING:
    from commsim.evidence.calibrate import CalibrationResult, TrialReport

CONTINUE = "finished trials are kept; run the same command again to continue"


@contextmanager
def trial_progress(label: str) -> Iterator[Callable[["TrialReport"], None]]:
    """An `on_trial` callback: a progress bar with the best loss so far on a terminal, else one line per trial."""
    if not stderr().is_terminal:

        def on_line(report: "TrialReport") -> None:
            stderr().print(
                f"trial {report.number}: loss {report.loss:.4g} (best {report.best:.4g}); "
                f"{report.finished}/{report.total} finished",
                soft_wrap=True,
            )

        yield on_line
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("best loss {task.fields[best]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=stderr(), transient=True) as progress:
        task = progress.add_task(label, total=None, best="-")

        def on_bar(report: "TrialReport") -> None:
            progress.update(task, completed=report.finished, total=report.total, best=f"{report.best:.4g}")

        yield on_bar


def _value(x: float) -> str:
    return "—" if x != x else f"{x:.3f}"


def fit_table(result: "CalibrationResult") -> Table:
    """Per target: the target (± scale), the model at the best trial (mean and range over replicates), the weight
    and the term of the loss."""
    table = Table(
        title=f"fit at the best trial (#{result.best_trial}): loss {result.loss:.4g}",
        caption=f"model: mean over {len(result.seeds)} replicates (seeds {result.seeds[0]}..{result.seeds[-1]}) at "
        f"month {result.months}, range: min-max over them; loss term: weight x ((model - value) / scale)^2",
    )
    for column, justify in (
        ("target", "left"),
        ("value ± scale", "right"),
        ("model", "right"),
        ("range", "right"),
        ("weight", "right"),
        ("loss term", "right"),
        ("source", "left"),
    ):
        table.add_column(column, justify=justify, overflow="fold")
    for row in result.fit:
        table.add_row(
            row.measure,
            f"{row.target:.3f} ± {row.scale:.3f}",
            _value(row.mean),
            f"{_value(row.low)}-{_value(row.high)}",
            f"{row.weight:g}",
            f"{row.contribution:.3g}",
            row.source,
        )
    return table


def parameter_table(result: "CalibrationResult") -> Table:
    """The fitted values with their bounds, and the spread of each over the trials that also met the targets
    (loss < 1): a rough guide to how tightly the targets pin a parameter, not a confidence interval."""
    from commsim.evidence.calibrate import PLAUSIBLE_LOSS

    table = Table(
        title="fitted parameters",
        caption=f"spread: min-max over the {result.n_plausible} trials with loss < {PLAUSIBLE_LOSS:g} (targets met to "
        "about one scale); a guide to how tightly the targets pin each parameter, not a confidence interval",
    )
    for column in ("parameter", "fitted", "bounds", "spread"):
        table.add_column(column, justify="left" if column == "parameter" else "right")
    for item in result.scenario.calibration.parameters:
        spread = result.plausible.get(item.key)
        shown = f"{spread[0]:.4g} - {spread[1]:.4g}" if spread else "—"
        table.add_row(item.key, f"{item.value:.4g}", f"{item.low:g} - {item.high:g}", shown)
    return table


def calibrate(
    scenario: Annotated[
        str, typer.Argument(metavar="SCENARIO", help="The scenario to calibrate: a file or a shipped name.")
    ],
    targets: Annotated[
        str,
        typer.Option(
            "--targets", "-t", metavar="FILE", help="Targets file (targets/*.toml), or a shipped name (mali_dhs2018)."
        ),
    ],
    trials: Annotated[
        int,
        typer.Option(
            "--trials", "-n", min=1, help="Finished trials the study should have (a re-run continues the study)."
        ),
    ] = 40,
    db: Annotated[str | None, typer.Option("--db", metavar="URL", help=DB_HELP)] = None,
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="FILE",
            help="Calibrated scenario (default results/<scenario>-calibrated-<targets>.toml).",
        ),
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", min=0, help="Seed of replicate 0 (default: the targets file's).")
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers", "-w", min=1, help="Processes for the replicates of a trial (default 1: runs are short)."
        ),
    ] = 1,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Replace an existing --out file that is not an earlier calibrated scenario (a re-run always "
            "updates its own calibrated scenario; the results database and the inputs are never replaced).",
        ),
    ] = False,
) -> None:
    """Fit a scenario's parameters to targets such as mCPR, unmet need and discontinuation: Optuna (TPE) minimises
    a weighted loss over replicate runs on common seeds. The study is kept in the results database, so running
    the same command again continues it. Writes a scenario that extends SCENARIO with the fitted values."""
    with bad_input_exits():
        from commsim.evidence.calibrate import calibrate as run_calibration
        from commsim.evidence.targets import load_targets
        from commsim.runs.executors import WorkerLost

        loaded = load_targets(targets)
        spec = loaded.spec
        stdout().print(
            Text.assemble(
                ("calibrate ", "bold"),
                (scenario, "bold"),
                f" to {loaded.name}: {len(spec.targets)} targets ({', '.join(spec.targets)}), "
                f"{len(spec.parameters)} parameters ({', '.join(spec.parameters)}), "
                f"{spec.replicates} replicates per trial",
            ),
            soft_wrap=True,
        )
        with trial_progress(loaded.name) as on_trial:
            try:
                result = run_calibration(
                    scenario,
                    loaded,
                    trials=trials,
                    db=db,
                    workers=workers,
                    seed=seed,
                    out=out_file,
                    on_trial=on_trial,
                    overwrite=overwrite,
                )
            except KeyboardInterrupt:
                stderr().print(f"stopped: {CONTINUE}", style="yellow")
                raise typer.Exit(130) from None
            except WorkerLost as error:
                fail(f"calibrate {scenario}: {error}; {CONTINUE}")
    already = result.trials - result.new_trials
    stdout().print(
        f"study {result.study}: {result.new_trials} new trials, {result.trials} finished"
        + (f" ({already} from before)" if already else ""),
        soft_wrap=True,
    )
    stdout().print(parameter_table(result))
    stdout().print(fit_table(result))
    stdout().print(
        Text.assemble("calibrated scenario: ", (str(result.out), "bold"), f" (extends {result.extends})"),
        soft_wrap=True,
    )

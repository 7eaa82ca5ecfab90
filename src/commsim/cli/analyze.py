"""`commsim analyze`: what the parameters of a stored sweep do to its outputs (Sobol indices or main effects,
a two-way table), as Rich tables, CSV or Parquet tables and PNG figures."""

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from commsim import outfiles
from commsim.cli.common import DB_HELP, MAX_ID, bad_input_exits, default_out_dir, stderr, stdout
from commsim.errors import CommsimError
from commsim.outfiles import OVERWRITE_HELP
from commsim.results.formats import format_output, output_label

if TYPE_CHECKING:
    import pandas as pd

    from commsim.results.sensitivity import Analysis
    from commsim.store.database import Store

POINT_FORMATS = ("csv", "parquet")


def analyze(
    sweep: Annotated[
        str,
        typer.Argument(
            metavar="SWEEP",
            help="A sweep's batch id (see `commsim results list`), or its experiment: a file or a shipped name.",
        ),
    ],
    outputs: Annotated[
        list[str] | None,
        typer.Option("--output", metavar="NAME", help="Output to analyse (repeatable; default: the experiment's)."),
    ] = None,
    db: Annotated[str | None, typer.Option("--db", metavar="URL", help=DB_HELP)] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output directory (default: results/analyze-<batch>-<date>-<time>)."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="Per-point table: csv or parquet.")] = "csv",
    overwrite: Annotated[bool, typer.Option("--overwrite", help=OVERWRITE_HELP)] = False,
) -> None:
    """Analyse a stored sweep's final-month outputs: Sobol indices for a sobol design, main effects for a grid
    (random and LHS designs: binned into quintiles), and the two-way table of the first two parameters. Writes
    points.<format> (mean, sd and n per point), the tables as CSV and the figures as PNG."""
    with bad_input_exits():
        if fmt not in POINT_FORMATS:
            raise ValueError(f"--format: {fmt!r} is not one of {', '.join(POINT_FORMATS)}")
        from commsim.results import sensitivity as analysis
        from commsim.store import database as store

        results = store.open_store(db, create=False)
        batch_id = resolve_sweep(results, sweep)
        data = analysis.load_sweep(results, batch_id, outputs or None)
        done = analysis.analyse(data)
        target = out_dir if out_dir is not None else default_out_dir(f"analyze-{batch_id}")
        files = output_files(done, fmt)
        outfiles.check_dir(target, files, overwrite=overwrite, protected=store.database_files(results))
        write_outputs(files, target)
    if data.complete:
        stdout().print(data.status(), soft_wrap=True)
    else:
        stderr().print(Text.assemble(("warning: ", "bold yellow"), data.status()), soft_wrap=True)
    print_tables(done)
    stdout().print(Text.assemble("points, tables and figures in ", (str(target), "bold")), soft_wrap=True)


def resolve_sweep(results: "Store", sweep: str) -> int:
    """A batch id as given, or the stored sweep of an experiment (found by the experiment's key)."""
    if sweep.strip().isdigit():
        if not 1 <= int(sweep) <= MAX_ID:
            raise CommsimError(f"SWEEP {sweep}: a batch id is a whole number from 1 to {MAX_ID}")
        return int(sweep)
    from commsim.runs.experiment import load_experiment
    from commsim.store import database as store

    plan = load_experiment(sweep)
    found = store.find_batch(results, "sweep", plan.key())
    if found is None:
        raise CommsimError(
            f"{plan.source}: no stored sweep of this experiment in {results.url} (a changed design, replicates or "
            f"seed is a new sweep): run `commsim sweep {sweep}` first"
        )
    return found


def output_files(done: "Analysis", fmt: str) -> dict[str, Callable[[Path], None]]:
    """Every file the analysis writes, by name, with the function that writes it to a path: points.<fmt>,
    main_effects.csv, sobol.csv or regression.csv, two_way-<output>.csv; per output main_effects-<output>.png,
    heatmap-<output>.png and (sobol designs) sobol-<output>.png."""
    from commsim.reports import sensitivity as charts
    from commsim.reports.run_summary import write_png
    from commsim.results.sensitivity import point_table

    points = point_table(done.data)
    files: dict[str, Callable[[Path], None]] = {
        f"points.{fmt}": (lambda p: points.to_csv(p, index=False))
        if fmt == "csv"
        else (lambda p: points.to_parquet(p, index=False)),
        "main_effects.csv": lambda p: done.main_effects.to_csv(p, index=False),
    }
    for name, table in (("sobol", done.sobol), ("regression", done.regression)):
        if table is not None:
            files[f"{name}.csv"] = lambda p, t=table: t.to_csv(p, index=False)
    for output, table in done.two_way.items():
        labelled = table.rename_axis(index=f"{table.index.name} \\ {table.columns.name}", columns=None)
        files[f"two_way-{output}.csv"] = lambda p, t=labelled: t.to_csv(p)
    name, binned = done.data.experiment.name, done.data.experiment.design.kind != "grid"
    for output in done.data.outputs:
        effects = done.main_effects[done.main_effects["output"] == output]
        title = f"{name}: main effects on final {output_label(output)}"
        files[f"main_effects-{output}.png"] = lambda p, e=effects, o=output, t=title: write_png(
            charts.main_effects_figure(e, o, t), p
        )
        if output in done.two_way:
            files[f"heatmap-{output}.png"] = lambda p, o=output: write_png(
                charts.heatmap_figure(done.two_way[o], o, f"{name}: final {o}", binned=binned), p
            )
        if done.sobol is not None:
            indices = done.sobol[done.sobol["output"] == output]
            files[f"sobol-{output}.png"] = lambda p, i=indices, o=output: write_png(
                charts.sensitivity_figure(i, o, f"{name}: Sobol indices of final {o}"), p
            )
    return files


def write_outputs(files: dict[str, Callable[[Path], None]], target: Path) -> None:
    """Write each file beside its place and rename it there (see `outfiles.replacing`)."""
    for name, write in files.items():
        with outfiles.replacing(target / name) as temporary:
            write(temporary)


def print_tables(done: "Analysis") -> None:
    """Per output: Sobol indices (sobol designs), else main effects, and a grid's two-way table."""
    kind = done.data.experiment.design.kind
    for output in done.data.outputs:
        if done.sobol is not None:
            stdout().print(sobol_table(done, output))
            continue
        stdout().print(effects_table(done, output))
        if kind == "grid" and output in done.two_way:
            stdout().print(two_way_table(done.two_way[output], output))


def sobol_table(done: "Analysis", output: str) -> Table:
    """Sobol indices of one output, with the regression coefficients beside them as a cross-check."""

    indices = done.sobol[done.sobol["output"] == output]
    regression = done.regression[done.regression["output"] == output].set_index("parameter")
    design, replicates = done.data.experiment.design, done.data.experiment.replicates
    r2 = format_output("r2", float(regression["R2"].iloc[0])) if len(regression) else "—"
    table = Table(
        title=f"Sobol indices of final {output_label(output)}",
        caption=f"N = {design.samples} base samples, {len(done.data.points)} points, mean of {replicates} "
        f"replicate(s) per point; ± 95% bootstrap; SRC: standardised regression coefficient (R² {r2})",
    )
    for name in ("parameter", "S1", "± 95%", "ST", "± 95% ", "SRC"):
        table.add_column(name, justify="left" if name == "parameter" else "right")
    for row in indices.itertuples():
        src = regression["SRC"].get(row.parameter, float("nan"))
        table.add_row(
            row.parameter,
            *(format_output("index", v) for v in (row.S1, row.S1_conf, row.ST, row.ST_conf, src)),
        )
    return table


def effects_table(done: "Analysis", output: str) -> Table:
    """Main effects of one output: per parameter and level, the mean with its 95% interval across points."""
    from commsim.results.sensitivity import format_level

    effects = done.main_effects[done.main_effects["output"] == output]
    binned = (effects["bin"] != "").any()
    caption = "mean over every point at the level (each point: mean over replicates); 95% interval across points"
    if binned:
        caption += "; sampled parameters binned into quintiles"
    table = Table(title=f"Main effects on final {output_label(output)}", caption=caption)
    for name in ("parameter", "level", f"final {output_label(output)}", "95% interval", "points", "runs"):
        table.add_column(name, justify="left" if name == "parameter" else "right")
    regression = _src(done, output)
    for parameter, rows in effects.groupby("parameter", sort=False):
        label = parameter + (f" (SRC {regression[parameter]})" if parameter in regression else "")
        for i, row in enumerate(rows.itertuples()):
            table.add_row(
                label if i == 0 else "",
                row.bin or format_level(row.level),
                format_output(output, row.mean),
                f"{format_output(output, row.ci_low)} to {format_output(output, row.ci_high)}",
                str(row.n_points),
                str(row.n_runs),
            )
        table.add_section()
    return table


def _src(done: "Analysis", output: str) -> dict[str, str]:
    """Standardised regression coefficients of one output, formatted, by parameter (sampled designs)."""
    if done.regression is None:
        return {}
    rows = done.regression[done.regression["output"] == output]
    return {row.parameter: f"{row.SRC:+.2f}" for row in rows.itertuples()}


def two_way_table(table: "pd.DataFrame", output: str) -> Table:
    """A two-way table of one output: rows are levels of the first parameter, columns of the second."""
    from commsim.results.sensitivity import format_level

    rich = Table(title=f"Final {output} by {table.index.name} (rows) and {table.columns.name} (columns)")
    rich.add_column(f"{table.index.name} \\ {table.columns.name}")
    for column in table.columns:
        rich.add_column(format_level(column), justify="right")
    for level, values in table.iterrows():
        rich.add_row(format_level(level), *(format_output(output, v) for v in values))
    return rich

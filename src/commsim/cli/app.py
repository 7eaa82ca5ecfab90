"""The `commsim` command line: run a scenario, compare scenarios, list and export stored runs, list scenarios,
show the monthly step.

Every command calls the same functions the UI and scripts use (`runs`, `compare`, `store`, `loader`). Bad
input ends in one message on stderr that names the file, the key and what is allowed, with exit code 2.
"""

import math
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from commsim import __version__, outfiles
from commsim.cli.analyze import analyze
from commsim.cli.calibrate import calibrate
from commsim.cli.common import (
    DB_HELP,
    bad_input_exits,
    build_overrides,
    compile_first,
    default_out_dir,
    month_progress,
    stderr,
    stdout,
    summary_table,
    warn_unreached,
)
from commsim.cli.district import district_app
from commsim.cli.results import compare, results_app
from commsim.cli.sweep import sweep
from commsim.cli.ui import ui
from commsim.cli.validate import validate
from commsim.model import BACKENDS, resources
from commsim.model.resources import FORCE_HELP
from commsim.outfiles import OVERWRITE_HELP
from commsim.scenario import loader
from commsim.scenario.loader import ScenarioError

if TYPE_CHECKING:
    import pandas as pd

    from commsim.scenario.schema import Scenario

__all__ = ["app"]

RUN_FILES = (
    "scenario.toml",
    "timeseries.csv",
    "service_statistics.csv",
    "summary.png",
    "routine_fit.csv",
    "routine_fit.png",
    "settlements.geojson",
    "facilities.geojson",
)

app = typer.Typer(
    name="commsim",
    help="commsim: an agent-based simulation of community health systems (women's groups, CHWs, facilities).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        stdout().print(f"commsim {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Simulate how capacity building of women's groups and their links to CHWs and facilities change uptake of
    family planning: for whom, at what cost, and whether it lasts.
    """


@app.command()
def run(
    scenario: Annotated[
        str, typer.Argument(metavar="SCENARIO", help="A scenario file, or the name of a shipped scenario (baseline).")
    ],
    months: Annotated[
        int | None, typer.Option("--months", "-m", help="Months to simulate (default: the scenario's).")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", "-s", help="Random seed (default: the scenario's).")] = None,
    households: Annotated[
        int | None, typer.Option("--households", "-n", help="Shorthand for --set population.households=H.")
    ] = None,
    backend: Annotated[
        str, typer.Option("--backend", "-b", help="numba (compiled kernels) or python (per-agent twin).")
    ] = "numba",
    sets: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="Set a scenario key, e.g. --set groups.training_coverage=0.6 (repeatable; wins over the "
            "options above).",
        ),
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output directory (default: results/<scenario>-<date>-<time>).")
    ] = None,
    db: Annotated[str | None, typer.Option("--db", metavar="URL", help=DB_HELP)] = None,
    no_store: Annotated[bool, typer.Option("--no-store", help="Do not store the run in the results database.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help=OVERWRITE_HELP)] = False,
    force: Annotated[bool, typer.Option("--force", help=FORCE_HELP)] = False,
) -> None:
    """Run one scenario; write timeseries.csv, service_statistics.csv, scenario.toml (the resolved scenario) and
    summary.png, and store the run in the results database."""
    run_id = None
    with bad_input_exits():
        if backend not in BACKENDS:
            raise ValueError(f"--backend: {backend!r} is not one of {', '.join(BACKENDS)}")
        overrides = build_overrides(months, seed, households, sets or [])
        config = loader.load_scenario(scenario, overrides)
        warn_unreached(config)
        if not force:
            resources.check_memory(config, hint="--force")
        from commsim.store import database as store

        observed = routine_data(config)  # bad routine data fails before the run too
        results = None if no_store else store.open_store(db)  # first: a bad database fails before the run
        protected = [loader.resolve_path(scenario), *(store.database_files(results) if results else [])]
        target = out_dir if out_dir is not None else default_out_dir(config.name)
        outfiles.check_dir(target, RUN_FILES, overwrite=overwrite, protected=protected)

        from commsim.runs.run import run_scenario

        clock, started = time.perf_counter(), datetime.now(UTC)
        compile_first(backend, config.population.households)  # within the wall time: it is the run's to wait for
        with month_progress() as on_month:
            result = run_scenario(config, backend=backend, on_month=on_month, check_memory=False)
        wall, finished = time.perf_counter() - clock, datetime.now(UTC)
        outfiles.write_text(target / "scenario.toml", loader.to_toml(result.scenario))
        ts = result.timeseries
        with outfiles.replacing(target / "timeseries.csv") as csv:
            ts.to_csv(csv, index=False)
        from commsim.model import services

        geo = None
        if config.population.district is not None:
            from commsim.results import geography
            from commsim.scenario.district import read_district

            geo = read_district(config.population.district, config.population.persons_per_household)
            geography.write_geojson(geography.settlements(geo, result.villages), target / "settlements.geojson")
            facilities = geography.facilities(geo, result.service_statistics)
            geography.write_geojson(facilities, target / "facilities.geojson")
        org_units = None if geo is None else list(geo.facility_ids)
        statistics = services.dhis2(result.service_statistics, result.scenario.start, org_units)
        with outfiles.replacing(target / "service_statistics.csv") as csv:
            statistics.to_csv(csv, index=False)
        fitted = None if observed is None else write_routine_fit(observed, statistics, target, config.name)

        from commsim.reports.run_summary import write_summary_png

        write_summary_png(ts, target / "summary.png", f"{config.name}: {config.population.households:,} households")
        if results is not None:
            run_id = store.save_run(
                results,
                result.scenario,
                ts,
                backend=result.backend,
                started_at=started,
                finished_at=finished,
                service_statistics=result.service_statistics,
            )

    header = {
        "scenario": config.name,
        "households": f"{config.population.households:,}",
        "months": str(config.months),
        "seed": str(result.seed),
        "backend": result.backend,
    }
    stdout().print(
        Text("  ").join(Text.assemble(f"{key} ", (value, "bold")) for key, value in header.items()), soft_wrap=True
    )
    stdout().print(summary_table(ts))
    if fitted is not None:
        stdout().print(routine_table(fitted))
    stdout().print(f"wall time {wall:.1f} s")
    stdout().print(Text.assemble("results in ", (str(target), "bold")), soft_wrap=True)
    if run_id is not None:
        stdout().print(Text.assemble("stored as run ", (str(run_id), "bold"), f" in {results.url}"), soft_wrap=True)


def routine_data(config: "Scenario") -> "pd.DataFrame | None":
    """The routine data of the scenario's district from files (None without one, or where it has none)."""
    if config.population.district is None:
        return None
    from commsim.model.services import DATA_ELEMENTS
    from commsim.scenario.district import read_district, read_routine

    population = config.population
    ids = read_district(population.district, population.persons_per_household).facility_ids
    return read_routine(population.district, DATA_ELEMENTS, ids)


def write_routine_fit(observed: "pd.DataFrame", statistics: "pd.DataFrame", target: Path, name: str) -> "pd.DataFrame":
    """Write routine_fit.csv (the model against the routine data per data element) and routine_fit.png (the
    district's monthly totals, observed and modelled); returns the fit per kind of element, methods summed."""
    from commsim.reports.routine import write_routine_png
    from commsim.results import routine

    pairs = routine.paired(observed, statistics)
    with outfiles.replacing(target / "routine_fit.csv") as csv:
        routine.fit(pairs).to_csv(csv, index=False)
    series = routine.district_series(pairs)
    write_routine_png(series, target / "routine_fit.png", f"{name}: model against the district's routine data")
    return routine.fit(pairs, by="kind")


def routine_table(fitted: "pd.DataFrame") -> Table:
    """The fit by kind of element (methods summed): facility-months, totals and the district's error."""
    table = Table(title="model against the district's routine data (facility-months it reported)")
    for column in ("data element (methods summed)", "facility-months", "observed", "model", "MAPE, district months"):
        table.add_column(column, justify="right" if table.columns else "left")
    for row in fitted.itertuples(index=False):
        error = "—" if math.isnan(row.mape_district_months) else f"{row.mape_district_months:.0%}"
        table.add_row(row.kind, f"{row.facility_months:,}", f"{row.observed:,.0f}", f"{row.model:,.0f}", error)
    return table


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    for end in (". ", "? ", "! "):
        if end in text:
            return text.split(end, 1)[0] + end.strip()
    return text


@app.command()
def scenarios() -> None:
    """List the shipped scenarios with the first sentence of each description."""
    paths = loader.shipped_scenarios()
    if not paths:
        stderr().print(f"no shipped scenarios in {loader.scenario_dir()}", soft_wrap=True)
        return
    width = max(len(p.stem) for p in paths)
    for path in paths:
        try:
            description = _first_sentence(loader.load_scenario(path).description) or "(no description)"
            style = None
        except ScenarioError as error:
            description, style = f"invalid: {str(error).splitlines()[0]}", "red"
        stdout().print(
            Text.assemble((path.stem.ljust(width), "bold"), "  ", (description, style or "")), soft_wrap=True
        )


@app.command()
def phases() -> None:
    """Show the order of the monthly step: what happens in each phase of one month and the state it writes."""
    from commsim.model.community import PHASES

    width = max(len(phase.name) for phase in PHASES)
    stdout().print("Each month (one model step), in this order:")
    for number, phase in enumerate(PHASES, start=1):
        stdout().print(
            Text.assemble(f"{number:>2}. ", (phase.name.ljust(width), "bold"), "  ", phase.does), soft_wrap=True
        )
        stdout().print(Text(f"{'':{width + 6}}writes {', '.join(phase.writes)}", style="dim"), soft_wrap=True)
    stdout().print("Then the month's outputs are collected (the columns of timeseries.csv).")


app.command()(compare)
app.command()(sweep)
app.command()(analyze)
app.command()(validate)
app.command()(calibrate)
app.command()(ui)
app.add_typer(results_app, name="results")
app.add_typer(district_app, name="district")

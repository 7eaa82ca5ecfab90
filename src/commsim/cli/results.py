"""`commsim compare` (scenarios on common seeds, stored, summarised, reported) and `commsim results`
(list, show and export stored runs)."""

import math
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from commsim import outfiles
from commsim.cli.common import (
    DB_HELP,
    MAX_ID,
    bad_input_exits,
    build_overrides,
    compile_first,
    default_out_dir,
    runs_progress,
    stdout,
    summary_table,
    warn_unreached,
)
from commsim.errors import CommsimError
from commsim.model import BACKENDS, resources
from commsim.model.resources import FORCE_HELP
from commsim.outfiles import OVERWRITE_HELP

if TYPE_CHECKING:
    import pandas as pd

results_app = typer.Typer(help="List, show and export stored runs.", no_args_is_help=True)
EXPORT_FORMATS = ("csv", "parquet")
COMPARE_FILES = ("report.html", "summary.csv", "decomposition.csv")


def _range(lo: float, hi: float, fmt: Callable[[float], str]) -> str:
    return "" if math.isnan(lo) else f" ({fmt(lo)} to {fmt(hi)})"


def comparison_table(summary: "pd.DataFrame", baseline: str, reps: int) -> Table:
    """The planner's table: one row per scenario (baseline first)."""
    table = Table(
        caption=f"{reps} replicates on common seeds; intervals 95% (paired for differences; for costs per outcome "
        "Fieller's, none where the gain's own interval reaches 0); gaps: nearest minus farthest distance band, "
        "richest minus poorest quintile (positive: the far or poor are behind)"
    )
    from commsim.results.effects import PER_OUTCOME, SUMMARY_LABELS

    table.add_column("scenario", no_wrap=True)
    table.add_column(SUMMARY_LABELS["mcpr"], justify="right")
    table.add_column(f"vs {baseline} (pp)", justify="right")
    columns = (
        "mcpr_married",
        "additional_users",
        "total_cost",
        *PER_OUTCOME,
        "distance_gap_pp",
        "wealth_gap_pp",
    )
    for column in columns:
        table.add_column(SUMMARY_LABELS[column], justify="right")
    table.add_column(SUMMARY_LABELS["sustainability"])
    from commsim.results.formats import fmt_pp, fmt_pp_bound, fmt_share, fmt_sustainability, fmt_usd, fmt_users

    for row in summary.to_dict("records"):
        is_base = row["scenario"] == baseline
        per_outcome = [
            fmt_usd(row[name]) + _range(row[f"{name}_lo"], row[f"{name}_hi"], fmt_usd) for name in PER_OUTCOME
        ]
        table.add_row(
            row["scenario"],
            fmt_share(row["mcpr"]) + _range(row["mcpr_lo"], row["mcpr_hi"], fmt_share),
            "(baseline)"
            if is_base
            else fmt_pp(row["diff_pp"]) + _range(row["diff_lo_pp"], row["diff_hi_pp"], fmt_pp_bound),
            fmt_share(row["mcpr_married"]),
            ""
            if is_base
            else fmt_users(row["additional_users"])
            + _range(row["additional_users_lo"], row["additional_users_hi"], fmt_users),
            fmt_usd(row["total_cost"]),
            *per_outcome,
            f"{row['distance_gap_pp']:+.1f}",
            f"{row['wealth_gap_pp']:+.1f}",
            # a verdict only where there is a donor exit
            fmt_sustainability(row["sustainability"])
            + (f" after the exit at month {int(row['donor_exit_month'])}" if row["sustainability"] else ""),
        )
    return table


def costs_table(summary: "pd.DataFrame", baseline: str, months: int) -> Table:
    """What each scenario costs over the baseline, by category, with paired intervals."""
    from commsim.model.metrics import COST_BREAKDOWN
    from commsim.results.effects import SUMMARY_LABELS
    from commsim.results.formats import fmt_usd

    columns = (*(f"incremental_{name}" for name in COST_BREAKDOWN), "incremental_cost")
    table = Table(caption=f"US$ over {months} months, paired against {baseline} on the same seeds; 95% intervals")
    table.add_column("scenario", no_wrap=True)
    for column in columns:
        table.add_column(SUMMARY_LABELS[column], justify="right")
    for row in summary.to_dict("records"):
        if row["scenario"] == baseline:
            table.add_row(row["scenario"], *["(baseline)"] * len(columns))
            continue
        cells = [fmt_usd(row[c]) + _range(row[f"{c}_lo"], row[f"{c}_hi"], fmt_usd) for c in columns]
        table.add_row(row["scenario"], *cells)
    return table


OUTCOME_COLUMNS = (  # the planner's key outcomes in the terminal; summary.csv and the report have them all
    "user_years",
    "fp2030_additional_users",
    "unintended_pregnancies",
    "unintended_averted",
    "track20_unintended_averted",
    "births_averted",
    "unsafe_abortions_averted",
    "maternal_deaths_averted",
    "track20_maternal_deaths_averted",
)


def outcomes_table(summary: "pd.DataFrame", baseline: str, months: int) -> Table:
    """What planners count over the horizon, and what each scenario averted against the baseline, by the model
    (with its paired interval) and by Track20's formula."""
    from commsim.results.effects import SUMMARY_LABELS, VERSUS_BASELINE
    from commsim.results.formats import fmt_count, fmt_deaths, fmt_users

    table = Table(
        caption=f"over {months} months; averted: the baseline's count minus the scenario's on the same seeds "
        "(model) or Track20's formula on the additional user-years; all columns in summary.csv and report.html"
    )
    table.add_column("scenario", no_wrap=True)
    for column in OUTCOME_COLUMNS:
        table.add_column(SUMMARY_LABELS[column], justify="right")
    shown = {"fp2030_additional_users": fmt_users, "maternal_deaths_averted": fmt_deaths}
    shown["track20_maternal_deaths_averted"] = fmt_deaths
    with_interval = ("unintended_averted", "births_averted")
    for row in summary.to_dict("records"):
        is_base = row["scenario"] == baseline
        cells = []
        for column in OUTCOME_COLUMNS:
            fmt = shown.get(column, fmt_count)
            text = fmt(row[column])
            if column in with_interval:
                text += _range(row[f"{column}_lo"], row[f"{column}_hi"], fmt)
            cells.append("(baseline)" if is_base and column in VERSUS_BASELINE else text)
        table.add_row(row["scenario"], *cells)
    return table


def compare(
    scenarios: Annotated[list[str], typer.Argument(metavar="SCENARIO...", help="Scenario files or shipped names.")],
    reps: Annotated[int, typer.Option("--reps", "-r", min=1, max=10_000, help="Replicates (seeds) per scenario.")] = 10,
    months: Annotated[int | None, typer.Option("--months", "-m", help="Months (default: each scenario's).")] = None,
    baseline: Annotated[
        str | None,
        typer.Option("--baseline", help="Scenario to compare against (default: 'baseline' if given, else the first)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", "-s", help="First seed; replicate r uses seed + r.")] = 1,
    households: Annotated[
        int | None, typer.Option("--households", "-n", help="Shorthand for --set population.households=H.")
    ] = None,
    sets: Annotated[
        list[str] | None, typer.Option("--set", metavar="KEY=VALUE", help="Set a key in every scenario (repeatable).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", min=1, help="Parallel runs (default: all cores).")
    ] = None,
    backend: Annotated[str, typer.Option("--backend", "-b", help="numba or python.")] = "numba",
    db: Annotated[str | None, typer.Option("--db", metavar="URL", help=DB_HELP)] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", help="Report directory (default: results/compare-<date>-<time>).")
    ] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help=OVERWRITE_HELP)] = False,
    force: Annotated[bool, typer.Option("--force", help=FORCE_HELP)] = False,
    decompose: Annotated[
        bool,
        typer.Option(
            "--decompose",
            help="Also run each scenario with each of its pathways (groups, CHWs, supply, voice, men and leaders) "
            "switched off, on the same seeds, and attribute its gain to them (decomposition.csv, a waterfall in "
            "the report).",
        ),
    ] = False,
) -> None:
    """Run scenarios on the same seeds and compare them with the baseline: prevalence, paired differences,
    additional users and user-years, unintended pregnancies, births, unsafe abortions and maternal deaths
    averted (the model's and Track20's), incremental cost by category, cost per additional user-year, per
    additional CYP and per unintended pregnancy averted, equity gaps and what lasts after a donor exit. Stores
    every run; writes report.html and summary.csv."""
    with bad_input_exits():
        if backend not in BACKENDS:
            raise ValueError(f"--backend: {backend!r} is not one of {', '.join(BACKENDS)}")
        from commsim.results import effects
        from commsim.runs import compare as comparisons
        from commsim.store import database as store

        overrides = build_overrides(months, None, households, sets or [])
        arms, base = comparisons.resolve_arms(scenarios, baseline, overrides)
        for config in arms.values():
            warn_unreached(config)
        if not force:
            from commsim.runs.executors import default_workers

            biggest = max(arms.values(), key=lambda config: config.population.households)
            resources.check_memory(biggest, copies=min(workers or default_workers(), len(arms) * reps))
        results = store.open_store(db)
        target = out_dir if out_dir is not None else default_out_dir("compare")
        outfiles.check_dir(target, COMPARE_FILES, overwrite=overwrite, protected=store.database_files(results))
        seeds = comparisons.comparison_seeds(reps, seed)
        compile_first(backend, *(config.population.households for config in arms.values()))
        with runs_progress("runs") as on_run:
            comparison = comparisons.run_comparison(
                arms, base, seeds, store=results, workers=workers, backend=backend, on_run=on_run
            )
        summary = effects.summarise_comparison(comparison)
        with outfiles.replacing(target / "summary.csv") as csv:
            summary.to_csv(csv, index=False)
        decomposition = None
        if decompose:
            decomposition = _decompose(comparison, results, workers, backend)
            with outfiles.replacing(target / "decomposition.csv") as csv:
                decomposition.to_csv(csv, index=False)

        from commsim.reports.comparison import write_report

        report = write_report(comparison, summary, target, command=_command_line(), decomposition=decomposition)

    stdout().print(comparison_table(summary, base, reps))
    horizon = int(comparison.frame["month"].max())
    stdout().print(outcomes_table(summary, base, horizon))
    stdout().print(costs_table(summary, base, horizon))
    if decomposition is not None:
        stdout().print(decomposition_table(decomposition, base))
    stdout().print(
        Text.assemble(
            f"{len(comparison.run_ids)} runs stored as batch ",
            (str(comparison.batch_id), "bold"),
            f" in {results.url}",
        ),
        soft_wrap=True,
    )
    stdout().print(
        Text.assemble("report ", (str(report), "bold"), "  table ", str(target / "summary.csv")), soft_wrap=True
    )


def _decompose(comparison, results, workers: int | None, backend: str) -> "pd.DataFrame":
    """Each non-baseline arm with each of its pathways switched off, on the comparison's seeds (stored as a batch
    of their own), attributed against the baseline (`attribution.attribute`), all arms' rows in one table."""
    import pandas as pd

    from commsim.results.attribution import attribute
    from commsim.runs import compare as comparisons
    from commsim.runs.decompose import knockouts, pathways_of

    base, tables = comparison.baseline, []
    for arm, config in comparison.scenarios.items():
        if arm == base or not pathways_of(config):
            continue
        arms = knockouts(arm, config)
        with runs_progress(f"{arm}: pathways off") as on_run:
            off = comparisons.run_comparison(
                arms, base, comparison.seeds, store=results, workers=workers, backend=backend, on_run=on_run
            )
        frame = pd.concat([comparison.frame, off.frame], ignore_index=True)
        tables.append(attribute(frame, base, arm, pathways_of(config)))
    if not tables:
        raise ValueError("--decompose: no scenario but the baseline has interventions to switch off")
    return pd.concat(tables, ignore_index=True)


def decomposition_table(decomposition: "pd.DataFrame", baseline: str) -> Table:
    """What each pathway of each arm adds to its mCPR gain over the baseline, and the cost it accounts for."""
    from commsim.results.attribution import LAST_MONTHS
    from commsim.results.formats import fmt_usd

    table = Table(
        caption=f"mCPR over the last {LAST_MONTHS} months against {baseline}: what each arm loses with a pathway "
        "switched off, same seeds, 95% intervals; 'together' is what the parts do not add up to"
    )
    for column in ("scenario", "pathway", "gain (pp)", "cost over the horizon"):
        table.add_column(column, justify="left" if column in ("scenario", "pathway") else "right")
    for row in decomposition.to_dict("records"):
        interval = _range(row["gain_pp_lo"], row["gain_pp_hi"], lambda v: f"{v:+.2f}")
        table.add_row(row["arm"], row["pathway"], f"{row['gain_pp']:+.2f}{interval}", fmt_usd(row["cost"]))
    return table


def _command_line() -> str:
    """The command as typed, for the report's footer, with any database URL's password masked."""
    import shlex
    import sys

    from commsim.store.database import shown_url

    return "commsim " + " ".join(shlex.quote(shown_url(arg)) for arg in sys.argv[1:])


@results_app.command("list")
def list_runs(
    scenario: Annotated[str | None, typer.Option("--scenario", help="Only runs of this scenario name.")] = None,
    batch: Annotated[
        int | None, typer.Option("--batch", min=1, max=MAX_ID, help="Only runs of this comparison or sweep.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=MAX_ID, help="At most this many (newest first).")] = 30,
    db: Annotated[str | None, typer.Option("--db", metavar="URL", help=DB_HELP)] = None,
) -> None:
    """Stored runs, newest first: id, batch, scenario, seed, size, final mCPR, cost, when."""
    with bad_input_exits():
        from commsim.store import database as store

        results = store.open_store(db, create=False)
        frame = store.list_runs(results, scenario=scenario, batch_id=batch, limit=limit)
    if frame.empty:
        stdout().print(
            f"no stored runs in {results.url}" + (f" match {_filters(scenario, batch)}" if scenario or batch else "")
        )
        return
    from commsim.results.formats import fmt_share, fmt_usd, output_label

    table = Table(caption=f"{len(frame)} run(s) in {results.url}")
    final = f"final {output_label('mcpr')}"
    for name in ("id", "batch", "scenario", "seed", "rep", "households", "months", final, "cost", "finished"):
        table.add_column(name, justify="left" if name in ("scenario", "finished") else "right")
    for row in frame.itertuples():
        table.add_row(
            str(row.id),
            "" if row.batch_id is None or row.batch_id != row.batch_id else str(int(row.batch_id)),
            row.scenario_name,
            str(row.seed),
            str(row.replicate),
            f"{row.households:,}",
            str(row.months),
            fmt_share(row.mcpr),
            fmt_usd(row.cost_cumulative),
            _when(row.finished_at),
        )
    stdout().print(table)


def _filters(scenario: str | None, batch: int | None) -> str:
    """The filters as the user gave them, for a message."""
    given = [f"--scenario {scenario}" if scenario is not None else "", f"--batch {batch}" if batch is not None else ""]
    return " ".join(part for part in given if part) or "(no filter)"


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""


@results_app.command("show")
def show_run(
    run_id: Annotated[
        int, typer.Argument(metavar="RUN", min=1, max=MAX_ID, help="Run id (see `commsim results list`).")
    ],
    toml: Annotated[bool, typer.Option("--toml", help="Print the run's resolved scenario as TOML instead.")] = False,
    db: Annotated[str | None, typer.Option("--db", metavar="URL", help=DB_HELP)] = None,
) -> None:
    """One stored run: where it came from and its outputs at the start and the end."""
    with bad_input_exits():
        from commsim.scenario import loader
        from commsim.store import database as store

        results = store.open_store(db, create=False)
        record, ts = store.get_run(results, run_id)
        scenario = loader.load_scenario(record["parameters"])
    if toml:
        typer.echo(loader.to_toml(scenario), nl=False)  # raw: no wrapping, so it parses back
        return
    header = {
        "run": str(record["id"]),
        "scenario": record["scenario_name"],
        "hash": record["scenario_hash"],
        "seed": str(record["seed"]),
        "replicate": str(record["replicate"]),
        "batch": "" if record["batch_id"] is None else str(record["batch_id"]),
        "backend": record["backend"],
        "commsim": record["version"],
        "finished": _when(record["finished_at"]),
        "wall": f"{record['wall_seconds']:.1f} s",
    }
    stdout().print(Text("  ").join(Text.assemble(f"{k} ", (v, "bold")) for k, v in header.items() if v), soft_wrap=True)
    stdout().print(summary_table(ts))
    stdout().print(f"re-run: commsim results show {run_id} --toml > run.toml && commsim run run.toml", soft_wrap=True)


def start_of(parameters: dict) -> str:
    """A stored run's calendar start (absent from its parameters at the default)."""
    from commsim.scenario.schema import DEFAULT_START

    return parameters.get("start", DEFAULT_START)


def org_units_of(parameters: dict) -> list[str] | None:
    """A stored run's facility ids where it ran on a district from files that is still there (else None: the
    synthetic codes)."""
    population = parameters.get("population", {})
    if not population.get("district"):
        return None
    from commsim.scenario.district import DistrictError, read_district
    from commsim.scenario.schema import Population

    per_household = population.get("persons_per_household", Population.model_fields["persons_per_household"].default)
    try:
        return list(read_district(population["district"], per_household).facility_ids)
    except DistrictError:
        return None


def _service_statistics(results, scenario: str | None, batch: int | None) -> "pd.DataFrame":
    """The selected runs' service statistics as DHIS2 data values, a run_id column first."""
    import pandas as pd

    from commsim.model import services
    from commsim.store import database as store

    frame, parameters = store.export_service_statistics(results, scenario=scenario, batch_id=batch)
    parts = [
        services.dhis2(rows, start_of(parameters[int(run_id)]), org_units_of(parameters[int(run_id)])).assign(
            run_id=int(run_id)
        )
        for run_id, rows in frame.groupby("run_id", sort=True)
    ]
    columns = ["run_id", *services.DHIS2_COLUMNS]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


@results_app.command("export")
def export_runs(
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv or parquet.")] = "csv",
    scenario: Annotated[str | None, typer.Option("--scenario", help="Only runs of this scenario name.")] = None,
    batch: Annotated[
        int | None, typer.Option("--batch", min=1, max=MAX_ID, help="Only runs of this comparison or sweep.")
    ] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output file (default: results/export-<date>-<time>.<format>).")
    ] = None,
    service_statistics: Annotated[
        bool,
        typer.Option(
            "--service-statistics",
            help="Write what the facilities recorded instead, as a DHIS2 data value table: run_id, org_unit, period "
            "(YYYYMM), data_element, value.",
        ),
    ] = False,
    db: Annotated[str | None, typer.Option("--db", metavar="URL", help=DB_HELP)] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help=OVERWRITE_HELP)] = False,
) -> None:
    """Every stored month of the selected runs, one row per run and month, with the run's scenario, hash, seed
    and replicate; or, with --service-statistics, their facilities' monthly records by method."""
    with bad_input_exits():
        if fmt not in EXPORT_FORMATS:
            raise ValueError(f"--format: {fmt!r} is not one of {', '.join(EXPORT_FORMATS)}")
        from commsim.store import database as store

        results = store.open_store(db, create=False)
        target = out_file if out_file is not None else default_out_dir("export").with_suffix(f".{fmt}")
        outfiles.check_file(target, overwrite=overwrite, protected=store.database_files(results))
        if batch is not None:
            store.get_batch(results, batch)  # an unknown batch is named, not exported as nothing
        if service_statistics:
            frame = _service_statistics(results, scenario, batch)
        else:
            frame = store.export(results, scenario=scenario, batch_id=batch)
        if frame.empty:
            what = "service statistics of " if service_statistics else ""
            raise CommsimError(
                f"no {what}stored runs in {results.url} match {_filters(scenario, batch)}: nothing written"
            )
        with outfiles.replacing(target) as temporary:
            if fmt == "csv":
                frame.to_csv(temporary, index=False)
            else:
                frame.to_parquet(temporary, index=False)
    runs = frame["run_id"].nunique() if not frame.empty else 0
    stdout().print(Text.assemble(f"{len(frame):,} rows from {runs} run(s) written to ", (str(target), "bold")))

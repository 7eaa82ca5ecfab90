"""The `commsim` command line: run a scenario, list scenarios, show the monthly step.

Every command calls the same functions the UI and scripts use (`runs.run_scenario`, `loader`). Bad input
ends in one message on stderr that names the file, the key and what is allowed, with exit code 2.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from commsim import __version__, loader
from commsim.loader import ScenarioError

if TYPE_CHECKING:
    import pandas as pd

BACKENDS = ("numba", "python")  # = model.BACKENDS (a test checks); importing the model costs ~1 s
EXIT_BAD_INPUT = 2

app = typer.Typer(
    name="commsim",
    help="commsim: an agent-based simulation of community health systems (women's groups, CHWs, facilities).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def fail(message: str) -> NoReturn:
    """One message on stderr, exit code 2, no traceback."""
    err.print(Text.assemble(("error: ", "bold red"), message), soft_wrap=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def _os_message(error: OSError) -> str:
    if error.filename is not None and error.strerror:
        return f"{error.filename}: {error.strerror}"
    return str(error)


@contextmanager
def bad_input_exits() -> Iterator[None]:
    """Turn scenario, value and file errors into `fail`; Ctrl-C into a short note and exit code 130."""
    try:
        yield
    except ScenarioError as error:
        fail(str(error))
    except OSError as error:
        fail(_os_message(error))
    except ValueError as error:
        fail(str(error))
    except KeyboardInterrupt:
        err.print("interrupted", style="yellow")
        raise typer.Exit(130) from None


def parse_sets(items: list[str]) -> dict[str, Any]:
    """`--set key=value` items as dotted overrides; values parsed as TOML (bare words are strings)."""
    overrides: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ScenarioError(
                f"--set {item}: expected KEY=VALUE with a dotted key, e.g. groups.training_coverage=0.6"
            )
        overrides[key] = loader.parse_value(value.strip())
    return overrides


def build_overrides(months: int | None, seed: int | None, households: int | None, sets: list[str]) -> dict[str, Any]:
    """The dotted overrides of one `run`: --months, --seed and --households first, then every --set."""
    overrides: dict[str, Any] = {}
    if months is not None:
        overrides["months"] = months
    if seed is not None:
        overrides["seed"] = seed  # into the scenario, so the written scenario.toml reproduces the run
    if households is not None:
        overrides["population.households"] = households
    overrides.update(parse_sets(sets))
    return overrides


def default_out_dir(name: str, now: datetime | None = None) -> Path:
    """`results/<name>-<YYYYmmdd-HHMMSS>`, with a numeric suffix if that directory already exists."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "run"
    base = Path("results") / f"{safe}-{(now or datetime.now()).strftime('%Y%m%d-%H%M%S')}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def prepare_out_dir(path: Path) -> None:
    """Create the output directory (and parents); a clear error if that is impossible."""
    if path.exists() and not path.is_dir():
        raise ValueError(f"--out {path}: exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(f"--out {path}: cannot create the directory: {error.strerror or error}") from None


@contextmanager
def month_progress() -> Iterator[Callable[[int, int], None] | None]:
    """An `on_month` callback that drives a transient progress bar on stderr when stderr is a terminal."""
    if not err.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("building district", total=None)

        def on_month(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total, description="months")

        yield on_month


def _fmt(column: str, value: float) -> str:
    if column == "mcpr" or column == "unmet_need" or column.startswith("mcpr_"):
        return f"{100 * value:.1f}%"
    if column.startswith("cost"):
        return f"${value:,.0f}"
    if column.startswith("mean_"):
        return f"{value:.3f}"
    return f"{value:,.0f}"


SUMMARY_STOCKS: tuple[tuple[str, str], ...] = (
    ("mcpr", "mCPR"),
    ("unmet_need", "unmet need"),
    ("users", "users"),
    ("active_groups", "active groups"),
    ("mean_group_capacity", "mean group capacity"),
    ("active_chws", "active CHWs"),
    ("mean_trust", "mean trust"),
    ("cost_cumulative", "cost, cumulative (US$)"),
)
SUMMARY_FLOWS: tuple[tuple[str, str], ...] = (
    ("new_users", "new users per year"),
    ("discontinued", "discontinued per year"),
)
BAND_NAMES = {"0_2km": "0-2 km", "2_5km": "2-5 km", "5_10km": "5-10 km", "10km_plus": "10+ km"}


def _per_year(series: "pd.Series") -> float:
    return float(series.sum()) * 12 / len(series) if len(series) else 0.0


def summary_table(ts: "pd.DataFrame") -> Table:
    """Key outputs at the start and the end of a run (flows: per year over the first and last 12 months)."""
    last = int(ts["month"].iloc[-1])
    table = Table(caption="flows: per year over the first and the last 12 months")
    table.add_column("output")
    table.add_column("start (month 0)", justify="right")
    table.add_column(f"end (month {last})", justify="right")
    start, end = ts.iloc[0], ts.iloc[-1]
    for column, label in SUMMARY_STOCKS:
        table.add_row(label, _fmt(column, start[column]), _fmt(column, end[column]))
    flows = ts[ts["month"] > 0]
    for column, label in SUMMARY_FLOWS:
        first, final = flows[column].iloc[:12], flows[column].iloc[-12:]
        table.add_row(label, _fmt(column, _per_year(first)), _fmt(column, _per_year(final)))
    table.add_section()
    from commsim.population import BAND_LABELS

    for band in BAND_LABELS:
        column = f"mcpr_{band}"
        table.add_row(
            f"mCPR {BAND_NAMES.get(band, band)} from facility", _fmt(column, start[column]), _fmt(column, end[column])
        )
    for q in range(1, 6):
        column = f"mcpr_q{q}"
        label = f"mCPR wealth Q{q}" + (" (poorest)" if q == 1 else " (richest)" if q == 5 else "")
        table.add_row(label, _fmt(column, start[column]), _fmt(column, end[column]))
    return table


def _version(value: bool) -> None:
    if value:
        out.print(f"commsim {__version__}")
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
) -> None:
    """Run one scenario; write timeseries.csv, scenario.toml (the resolved scenario) and summary.png."""
    with bad_input_exits():
        if backend not in BACKENDS:
            raise ValueError(f"--backend: {backend!r} is not one of {', '.join(BACKENDS)}")
        overrides = build_overrides(months, seed, households, sets or [])
        config = loader.load_scenario(scenario, overrides)
        target = out_dir if out_dir is not None else default_out_dir(config.name)
        prepare_out_dir(target)
        # Written before the run: checks the directory is writable, and the run can be repeated if it fails.
        (target / "scenario.toml").write_text(loader.to_toml(config), encoding="utf-8")

        from commsim.runs import run_scenario

        clock = time.perf_counter()
        with month_progress() as on_month:
            result = run_scenario(config, backend=backend, on_month=on_month)
        wall = time.perf_counter() - clock
        if result.scenario != config:
            (target / "scenario.toml").write_text(loader.to_toml(result.scenario), encoding="utf-8")
        ts = result.timeseries
        ts.to_csv(target / "timeseries.csv", index=False)

        from commsim.plots import write_summary_png

        write_summary_png(ts, target / "summary.png", f"{config.name}: {config.population.households:,} households")

    header = {
        "scenario": config.name,
        "households": f"{config.population.households:,}",
        "months": str(config.months),
        "seed": str(result.seed),
        "backend": result.backend,
    }
    out.print(
        Text("  ").join(Text.assemble(f"{key} ", (value, "bold")) for key, value in header.items()), soft_wrap=True
    )
    out.print(summary_table(ts))
    out.print(f"wall time {wall:.1f} s")
    out.print(Text.assemble("results in ", (str(target), "bold")), soft_wrap=True)


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
        err.print(f"no shipped scenarios in {loader.SCENARIO_DIR}", soft_wrap=True)
        return
    width = max(len(p.stem) for p in paths)
    for path in paths:
        try:
            description = _first_sentence(loader.load_scenario(path).description) or "(no description)"
            style = None
        except ScenarioError as error:
            description, style = f"invalid: {str(error).splitlines()[0]}", "red"
        out.print(Text.assemble((path.stem.ljust(width), "bold"), "  ", (description, style or "")), soft_wrap=True)


@app.command()
def phases() -> None:
    """Show the order of the monthly step: what happens in each phase of one month."""
    from commsim.model import PHASES

    width = max(len(name) for name, _ in PHASES)
    out.print("Each month (one model step), in this order:")
    for number, (name, description) in enumerate(PHASES, start=1):
        out.print(Text.assemble(f"{number:>2}. ", (name.ljust(width), "bold"), "  ", description), soft_wrap=True)
    out.print("Then the month's outputs are collected (the columns of timeseries.csv).")

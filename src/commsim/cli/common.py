"""What the `commsim` commands share: consoles, the one-message exit for bad input, option parsing, output
directories, progress bars and the summary table of a run."""

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from commsim.errors import CommsimError
from commsim.results.formats import format_output, output_label
from commsim.scenario import loader
from commsim.scenario.loader import ScenarioError

if TYPE_CHECKING:
    import pandas as pd

    from commsim.scenario.schema import Scenario

EXIT_BAD_INPUT = 2
MAX_ID = 2**63 - 1  # the largest run or batch id a database can hold (a signed 64-bit integer)
DB_HELP = "Results database, any SQLAlchemy URL (default: $COMMSIM_DB, else sqlite:///results/commsim.db)."

PIPED_WIDTH = 160  # tables written to a file or pipe: wide enough that no scenario name is cut


@cache
def stdout() -> Console:
    """The console of the commands' results (made on first use, not at import)."""
    return Console(highlight=False, width=None if sys.stdout.isatty() else PIPED_WIDTH)


@cache
def stderr() -> Console:
    """The console of messages, notes and progress bars (made on first use, not at import)."""
    return Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else PIPED_WIDTH)


def fail(message: str) -> NoReturn:
    """One message on stderr, exit code 2, no traceback."""
    stderr().print(Text.assemble(("error: ", "bold red"), message), soft_wrap=True)
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
    except (ScenarioError, CommsimError) as error:
        fail(str(error))
    except OSError as error:
        fail(_os_message(error))
    except ValueError as error:
        fail(str(error))
    except KeyboardInterrupt:
        stderr().print("interrupted", style="yellow")
        raise typer.Exit(130) from None


def warn_unreached(config: "Scenario") -> None:
    """A note on stderr for each intervention that starts after the run's last month: it is allowed (a longer
    run would reach it; start = months is how the UI says "never") but does nothing in this run."""
    for name, intervention in config.interventions.items():
        if intervention.start_month > config.months:
            stderr().print(
                f"note: {config.name}: interventions.{name} starts at month {intervention.start_month}, after the "
                f"run's {config.months} months: it has no effect in this run",
                style="yellow",
                soft_wrap=True,
            )


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


def compile_first(backend: str, *n_households: int) -> None:
    """Compile the kernels runs of these sizes need if the disk cache lacks them (a first run after an install or
    an update of the sources), saying so first on stderr: otherwise the wait would pass in silence. Workers on
    this machine then load them from the cache."""
    if backend != "numba":
        return
    from commsim.model import precompile
    from commsim.model.community import runs_parallel

    for parallel in sorted({runs_parallel(n) for n in n_households}):
        if precompile.to_compile(parallel):
            stderr().print(
                f"compiling the model's kernels (first run after install or an update, about "
                f"{precompile.COMPILE_SECONDS[parallel]} s; later runs start at once)",
                soft_wrap=True,
            )
            precompile.compile_kernels(parallel)


@contextmanager
def month_progress() -> Iterator[Callable[[int, int], None] | None]:
    """An `on_month` callback that drives a transient progress bar on stderr when stderr is a terminal."""
    if not stderr().is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=stderr(),
        transient=True,
    ) as progress:
        task = progress.add_task("building district", total=None)

        def on_month(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total, description="months")

        yield on_month


SUMMARY_STOCKS: tuple[str, ...] = (
    "mcpr",
    "unmet_need",
    "users",
    "active_groups",
    "mean_group_capacity",
    "active_chws",
    "mean_trust",
    "cost_cumulative",
)
SUMMARY_FLOWS: tuple[str, ...] = ("new_users", "discontinued")


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
    for column in SUMMARY_STOCKS:
        table.add_row(output_label(column), format_output(column, start[column]), format_output(column, end[column]))
    flows = ts[ts["month"] > 0]
    for column in SUMMARY_FLOWS:
        first, final = flows[column].iloc[:12], flows[column].iloc[-12:]
        table.add_row(
            f"{output_label(column)} per year",
            format_output(column, _per_year(first)),
            format_output(column, _per_year(final)),
        )
    table.add_section()
    from commsim.model.metrics import EQUITY

    for column in EQUITY:
        table.add_row(output_label(column), format_output(column, start[column]), format_output(column, end[column]))
    return table


@contextmanager
def runs_progress(name: str) -> Iterator[Callable[[int, int], None] | None]:
    """An `on_run(done, total)` callback for comparisons and sweeps: a progress bar with the rate and the time
    left on stderr (a terminal only). The first call may count runs already stored: those set the start, not
    the rate."""
    if not stderr().is_terminal:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn(name),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=stderr(), transient=True) as progress:
        task = progress.add_task(name, total=None, rate="")
        state = {"first": None}

        def on_run(done: int, total: int) -> None:
            if state["first"] is None:  # runs already stored count toward progress, not toward the rate
                state["first"] = done
                progress.reset(task, total=total, completed=done, rate="")
                return
            speed = progress.tasks[0].speed
            progress.update(task, completed=done, total=total, rate=f"{speed:.2f} runs/s" if speed else "")

        yield on_run

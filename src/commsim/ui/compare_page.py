"""The Compare page: a planner runs scenarios on common seeds (every run stored, with progress) or loads a stored
comparison, and sees prevalence over time with uncertainty bands, the report's tables (cost per additional
user-year, per additional CYP and per unintended pregnancy averted, equity gaps, what lasts after a donor exit; the
outcomes planners count, mechanistic and Track20 side by side; costs by input and over the baseline's), and
downloads the summary CSV and the HTML report.

The numbers and charts are those of `commsim compare` (`compare`, `effects.summarise`, `report`). Inputs are
checked before anything runs or is opened; a database that cannot be read or written gives a message here.
"""

import logging
import shlex
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape

import pandas as pd
import solara

from commsim.errors import CommsimError
from commsim.reports import comparison as report
from commsim.reports.charts import equity_figure, final_means, mcpr_figure
from commsim.results import effects
from commsim.runs.compare import Comparison, comparison_seeds, resolve_arms, run_comparison
from commsim.runs.executors import default_workers
from commsim.scenario.loader import ScenarioError
from commsim.store.database import open_store
from commsim.ui import stored
from commsim.ui.figures import png
from commsim.ui.levers import HOUSEHOLDS_RANGE, LeverError, parse_whole
from commsim.ui.scenarios import offered_file, scenario_names
from commsim.ui.widgets import Message, note, number_field

logger = logging.getLogger(__name__)
DEFAULT_ARMS = ("baseline", "hrh2030_groups", "donor_exit")
REPS_RANGE, MONTHS_RANGE = (1, 200), (1, 1200)


@dataclass(frozen=True)
class Request:
    """A comparison to run, checked: scenario names, baseline, replicates, households, months, first seed."""

    scenarios: tuple[str, ...]
    baseline: str
    reps: int
    households: int
    months: int
    seed: int
    serial: int = 0  # tells two clicks with the same inputs apart

    def overrides(self) -> dict[str, int]:
        return {"population.households": self.households, "months": self.months}

    def command(self) -> str:
        return "commsim compare " + " ".join(
            [
                *map(shlex.quote, self.scenarios),
                "--baseline",
                self.baseline,
                "--reps",
                str(self.reps),
                "--households",
                str(self.households),
                "--months",
                str(self.months),
                "--seed",
                str(self.seed),
            ]
        )


def make_request(
    scenarios: list[str], baseline: str, reps: str, households: str, months: str, seed: str, serial: int = 0
) -> Request:
    """Check the form; LeverError naming the field if something cannot be used (a scenario the page did not offer
    among them: the server opens no file a browser names)."""
    if not scenarios:
        raise LeverError("scenarios: choose at least one scenario besides the baseline")
    for name in (*scenarios, baseline):
        offered_file(name)
    return Request(
        tuple(scenarios),
        baseline,
        parse_whole("replicates", reps, *REPS_RANGE),
        parse_whole("households", households, *HOUSEHOLDS_RANGE),
        parse_whole("months", months, *MONTHS_RANGE),
        parse_whole("first seed", seed, 0, 2**31 - 1),
        serial,
    )


@dataclass
class Shown:
    """A comparison on the page: the runs, their summary, a title, and how it came about."""

    comparison: Comparison
    summary: pd.DataFrame
    title: str
    command: str
    charts: dict[str, bytes] = field(default_factory=dict)


def show(comparison: Comparison, title: str, command: str) -> Shown:
    summary = effects.summarise_comparison(comparison)
    order = list(summary["scenario"])
    charts = {
        "mcpr": png(mcpr_figure(comparison, order)),
        "equity": png(equity_figure(final_means(comparison.frame), order, comparison.baseline)),
    }
    return Shown(comparison, summary, title, command, charts)


def execute(request: Request, on_run: Callable[[int, int], None] | None = None) -> Shown:
    """Run a checked request: resolve the scenarios, open (or create) the database, run and store every run."""
    files = [offered_file(name) for name in request.scenarios]
    arms, base = resolve_arms(files, str(offered_file(request.baseline)), request.overrides())
    results = open_store(stored.database_url())
    seeds = comparison_seeds(request.reps, request.seed)
    workers = min(default_workers(), len(arms) * request.reps)
    comparison = run_comparison(arms, base, seeds, store=results, workers=workers, on_run=on_run)
    title = f"Comparison #{comparison.batch_id}: " + " vs ".join(arms)
    return show(comparison, title, request.command())


def load(batch_id: int) -> Shown:
    """A stored comparison."""
    comparison = stored.load_comparison(stored.open_for_reading(), batch_id)
    title = f"Comparison #{batch_id}: " + " vs ".join(comparison.scenarios)
    return show(comparison, title, f"stored comparison {batch_id} in {stored.shown_database()}")


CELL = "padding:4px 8px"


def _cell_html(cell: report.Cell, label: str, is_baseline: bool) -> str:
    """One value as a table cell: formatted, its interval below, exact in data attributes; what is measured
    against the baseline reads "(baseline)" in the baseline's own cell."""
    text = escape(cell.value.text)
    if cell.shown_interval:
        text += f'<br><span style="color:#666">({escape(cell.lo.text)} to {escape(cell.hi.text)})</span>'
    if is_baseline and cell.value.column in effects.VERSUS_BASELINE:
        text = "(baseline)"
    align = "right" if cell.numeric else "left"
    return (
        f'<td data-scenario="{escape(label)}" data-column="{cell.value.column}" '
        f'data-value="{escape(cell.value.raw)}" style="text-align:{align}; {CELL}">{text}</td>'
    )


def summary_html(summary: pd.DataFrame, baseline: str, table: report.Table = report.SUMMARY) -> str:
    """A table of the report as HTML, laid out as the report lays it out (a scenario a row, or for a
    transposed table an outcome a row under its group's heading), with the report's headings and formatting."""
    rows = report.table_rows(summary, baseline, table)

    def scenario(row: report.Row) -> str:
        return escape(row.label) + (" <em>(baseline)</em>" if row.is_baseline else "")

    if table.transposed:
        head = "".join(f'<th style="text-align:right; {CELL}">{scenario(row)}</th>' for row in rows)
        head = f'<tr><th style="text-align:left">Outcome</th>{head}</tr>'
        body = []
        for group in table.groups:
            body.append(
                f'<tr><th colspan="{len(rows) + 1}" style="text-align:left; background:#eef2f6; {CELL}">'
                f"{escape(group.title)}</th></tr>"
            )
            for column in group.columns:
                cells = "".join(_cell_html(row.cell(column.name), row.label, row.is_baseline) for row in rows)
                body.append(
                    f'<tr data-column="{column.name}"><th style="text-align:left; {CELL}">'
                    f"{escape(column.heading)}</th>{cells}</tr>"
                )
    else:
        head = "".join(f'<th style="{CELL}">{escape(column.heading)}</th>' for column in table.columns)
        head = f'<tr><th style="text-align:left">Scenario</th>{head}</tr>'
        body = [
            f'<tr data-scenario="{escape(row.label)}"><th style="text-align:left">{scenario(row)}</th>'
            + "".join(_cell_html(cell, row.label, row.is_baseline) for cell in row.cells)
            + "</tr>"
            for row in rows
        ]
    return (
        f'<table class="commsim-summary commsim-table-{table.id}" data-table="{table.id}" '
        'style="border-collapse:collapse; font-size:0.85rem">'
        f"<thead>{head}</thead><tbody>{''.join(body)}</tbody></table>"
    )


def _listing() -> tuple[pd.DataFrame | None, str | None]:
    try:
        return stored.listing("compare"), None
    except CommsimError as error:
        return None, str(error)


@solara.component
def ComparePage():
    names = solara.use_memo(scenario_names, [])
    chosen = solara.use_reactive([name for name in DEFAULT_ARMS if name in names and name != "baseline"])
    baseline = solara.use_reactive("baseline" if "baseline" in names else names[0])
    reps, households = solara.use_reactive("5"), solara.use_reactive("5000")
    months, seed = solara.use_reactive("60"), solara.use_reactive("1")
    message = solara.use_reactive(None)  # (kind, field, text)
    progress = solara.use_reactive(None)  # (done, total) while a comparison runs
    request = solara.use_reactive(None)
    shown = solara.use_reactive(None)
    refresh = solara.use_reactive(0)
    listing, listing_error = solara.use_memo(_listing, [refresh.value])

    def start() -> None:
        try:
            checked = make_request(
                chosen.value,
                baseline.value,
                reps.value,
                households.value,
                months.value,
                seed.value,
                (request.value.serial + 1) if request.value else 1,
            )
        except LeverError as error:
            message.set(("error", str(error).split(":", 1)[0], str(error)))
            return
        message.set(None)
        progress.set((0, len(set(checked.scenarios) | {checked.baseline}) * checked.reps))
        request.set(checked)

    def worker(cancel: threading.Event) -> None:
        if request.value is None or progress.value is None:
            return
        try:
            result = execute(request.value, on_run=lambda done, total: progress.set((done, total)))
        except (ScenarioError, CommsimError, ValueError, OSError) as error:
            message.set(("error", "", str(error)))
            progress.set(None)
            return
        except Exception as error:  # a bug must not take the page down: say so
            logger.exception("the comparison failed")
            message.set(("error", "", f"the comparison failed: {type(error).__name__}: {error}"))
            progress.set(None)
            return
        shown.set(result)
        progress.set(None)
        refresh.set(refresh.value + 1)
        message.set(
            (
                "success",
                "",
                f"{len(result.comparison.run_ids)} runs stored as comparison "
                f"#{result.comparison.batch_id} in {stored.shown_database()}",
            )
        )

    solara.use_thread(worker, dependencies=[request.value], intrusive_cancel=False)

    offered = [stored.batch_label(row) for row in listing.to_dict("records")] if listing is not None else []

    def open_stored(label: str | None) -> None:
        if label not in offered:  # only a comparison the list offered
            return
        batch_id = int(label.split()[0].lstrip("#"))
        try:
            shown.set(load(batch_id))
        except CommsimError as error:
            message.set(("error", "", str(error)))
            return
        except Exception as error:
            logger.exception("loading comparison %s failed", batch_id)
            message.set(("error", "", f"comparison {batch_id} cannot be shown: {type(error).__name__}: {error}"))
            return
        message.set(None)

    bad = message.value[1] if message.value and message.value[0] == "error" else ""
    running = progress.value is not None
    with solara.Column(gap="10px", classes=["commsim-compare"]):
        with solara.Columns([3, 2]):
            with solara.Card("Run a comparison", margin=0):
                solara.SelectMultiple("Scenarios", values=chosen.value, all_values=names, on_value=chosen.set)
                solara.Select("Baseline", values=names, value=baseline)
                with solara.Row():
                    for label, value in (
                        ("Replicates", reps),
                        ("Households", households),
                        ("Months", months),
                        ("First seed", seed),
                    ):
                        number_field(
                            label, value.value, value.set, error=message.value[2] if bad == label.lower() else None
                        )
                note("Every scenario runs on the same seeds (common random numbers); every run is stored.")
                solara.Button(
                    "Run comparison", on_click=start, disabled=running, color="primary", classes=["commsim-run"]
                )
                if running:
                    done, total = progress.value
                    solara.ProgressLinear(100 * done / max(total, 1))
                    solara.Text(f"{done} of {total} runs done", classes=["commsim-progress"])
            with solara.Card("Stored comparisons", margin=0):
                note(f"Database: {stored.shown_database()}")
                if listing_error:
                    Message(listing_error)
                elif listing is not None and listing.empty:
                    solara.Info("No stored comparisons yet: run one here or with `commsim compare`.", dense=True)
                elif listing is not None:
                    solara.Select("Load a stored comparison", values=offered, value=None, on_value=open_stored)
                solara.Button("Refresh list", on_click=lambda: refresh.set(refresh.value + 1), text=True)
        if message.value:
            Message(message.value[2], message.value[0])
        if shown.value is not None:
            ComparisonView(shown.value)


@solara.component
def ComparisonView(shown: Shown):
    comparison, summary = shown.comparison, shown.summary
    reps = len(comparison.seeds)
    months = int(comparison.frame["month"].max())
    households = report.households_text(comparison.scenarios)
    tables = solara.use_memo(
        lambda: [(table.title, summary_html(summary, comparison.baseline, table)) for table in report.TABLES], [shown]
    )
    csv = solara.use_memo(lambda: summary.to_csv(index=False), [shown])

    def report_html() -> str:
        return report.render(comparison, summary, title=shown.title, command=shown.command)

    with solara.Card(shown.title, margin=0, classes=["commsim-comparison"]):
        note(
            f"{reps} replicates on {report.seeds_text(comparison.seeds)}, {months} months, {households} households; "
            f"baseline {comparison.baseline}. Intervals 95% (paired for differences). Gaps: nearest minus farthest "
            "distance band, richest minus poorest quintile (positive: the far or poor are behind)."
        )
        with solara.Row():
            solara.FileDownload(csv, filename="summary.csv", label="Download summary.csv", mime_type="text/csv")
            solara.FileDownload(
                report_html, filename="report.html", label="Download report.html", mime_type="text/html"
            )
        for title, html in tables:
            solara.HTML(tag="h4", unsafe_innerHTML=escape(title), style="margin:8px 0 2px")  # no Markdown: offline
            solara.HTML(tag="div", unsafe_innerHTML=html, style="overflow-x:auto")
        note(report.METHODS_NOTE)
        with solara.Columns([1, 1]):
            solara.Image(shown.charts["mcpr"], width="100%", classes=["commsim-mcpr-bands"])
            solara.Image(shown.charts["equity"], width="100%", classes=["commsim-equity"])

"""The planner's report of a comparison: one self-contained HTML file (no external CSS, scripts, fonts or images)
that can be emailed and opened offline. It names what ran, describes every scenario in words, tabulates the
summary of `effects.summarise` and shows three charts embedded as base64 PNGs.

The tables (prevalence, cost and equity; the outcomes planners count, mechanistic and Track20 side by side; costs
by input and per outcome)
carry every value twice: formatted for people, and exact in `data-column`/`data-value`
attributes for machines and tests. Charts are `matplotlib.figure.Figure` without pyplot, imported lazily as in
`commsim.reports.run_summary`; the page is the Jinja2 template `commsim/templates/report.html.j2`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from commsim import __version__, outfiles
from commsim.model.metrics import COST_BREAKDOWN
from commsim.reports.charts import charts, decomposition_charts
from commsim.reports.text import scenario_text
from commsim.results import effects
from commsim.results import impacts as impacts_of
from commsim.results.formats import (
    fmt_count,
    fmt_deaths,
    fmt_month,
    fmt_pp,
    fmt_pp_bound,
    fmt_share,
    fmt_sustainability,
    fmt_usd,
    fmt_users,
    raw,
)
from commsim.runs.compare import Comparison
from commsim.scenario.schema import METHODS, Costs, Impacts, Method, Scenario

TEMPLATE = "report.html.j2"


@dataclass(frozen=True)
class Value:
    """One summary value: its column, exact text and formatted text."""

    column: str
    raw: str
    text: str


@dataclass(frozen=True)
class Cell:
    """A table cell: an estimate and, for some columns, its 95% interval."""

    value: Value
    lo: Value | None = None
    hi: Value | None = None
    numeric: bool = True

    @property
    def shown_interval(self) -> bool:
        """Whether people see its interval: both bounds are known (missing ones stay in the page for machines)."""
        return self.lo is not None and self.hi is not None and "nan" not in (self.lo.raw, self.hi.raw)


@dataclass(frozen=True)
class Column:
    """A column of a report table: a summary column, how it is shown, and its interval columns (if any), shown
    like the estimate unless `bound_fmt` says otherwise. Headings are effects.SUMMARY_LABELS."""

    name: str
    fmt: Callable[[Any], str]
    interval: bool = False
    bound_fmt: Callable[[Any], str] | None = None
    numeric: bool = True

    @property
    def bounds(self) -> tuple[str, str] | None:
        """The interval's columns: <name>_lo, <name>_hi (diff_pp's are diff_lo_pp, diff_hi_pp)."""
        if not self.interval:
            return None
        if self.name.endswith("_pp"):
            stem = self.name.removesuffix("_pp")
            return f"{stem}_lo_pp", f"{stem}_hi_pp"
        return f"{self.name}_lo", f"{self.name}_hi"

    @property
    def heading(self) -> str:
        """Its summary label, capitalised, with "(95% CI)" where it has an interval."""
        text = effects.SUMMARY_LABELS[self.name]
        return text[0].upper() + text[1:] + (" (95% CI)" if self.interval else "")


@dataclass(frozen=True)
class Group:
    """Columns under one heading ("" for none)."""

    title: str
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class Table:
    """A table of the report (and of the UI's Compare page): its id, title and column groups; one row per
    scenario, or, `transposed`, one row per column (an outcome) and one column per scenario, the groups as
    headings between the rows (a long list of outcomes stays readable, and printable)."""

    id: str
    title: str
    groups: tuple[Group, ...]
    transposed: bool = False

    @property
    def columns(self) -> tuple[Column, ...]:
        return tuple(column for group in self.groups for column in group.columns)


def _count(name: str) -> Column:
    return Column(name, fmt_count, interval=True)


def _deaths(name: str) -> Column:
    return Column(name, fmt_deaths, interval=True)


def _usd(name: str) -> Column:
    return Column(name, fmt_usd, interval=True)


SUMMARY = Table(
    "summary",
    "Prevalence, cost and equity",
    (
        Group(
            "",
            (
                Column("reps", str),
                Column("mcpr", fmt_share, interval=True),
                Column("diff_pp", fmt_pp, interval=True, bound_fmt=fmt_pp_bound),
                Column("additional_users", fmt_users, interval=True),
                Column("total_cost", fmt_usd),
                _usd("incremental_cost"),
                *(_usd(name) for name in effects.PER_OUTCOME),
                Column("distance_gap_pp", fmt_pp),
                Column("wealth_gap_pp", fmt_pp),
                Column("donor_exit_month", fmt_month),
                Column("sustainability", fmt_sustainability, numeric=False),
            ),
        ),
    ),
)
OUTCOMES = Table(
    "outcomes",
    "Outcomes planners count: mechanistic and Track20 side by side",
    (
        Group(
            "Each scenario: at the end, and over the horizon",
            (
                Column("mcpr_married", fmt_share, interval=True),
                _count("births"),
                _count("pregnancies"),
                _count("unintended_pregnancies"),
                _count("user_years"),
                _count("cyp"),
                Column("fp2030_additional_users", fmt_users, interval=True),
            ),
        ),
        Group(
            "Against the baseline, paired by replicate: the model and Track20's formula",
            (
                Column("additional_user_years", fmt_users, interval=True),
                Column("additional_cyp", fmt_users, interval=True),
                _count("births_averted"),
                _count("unintended_averted"),
                _count("track20_unintended_averted"),
                _count("unsafe_abortions_averted"),
                _count("track20_unsafe_abortions_averted"),
                _deaths("maternal_deaths_averted"),
                _deaths("track20_maternal_deaths_averted"),
            ),
        ),
        Group(
            "All of each scenario's users against no use (Track20, FP2030 core indicators 6–8)",
            (
                _count("track20_all_unintended_averted"),
                _count("track20_all_unsafe_abortions_averted"),
                _deaths("track20_all_maternal_deaths_averted"),
            ),
        ),
    ),
    transposed=True,
)
COSTS = Table(
    "costs",
    "Costs by input: what each scenario costs, and what it adds to the baseline's",
    (
        Group("Each scenario, over the horizon", tuple(_usd(name) for name in COST_BREAKDOWN)),
        Group(
            "Against the baseline, paired by replicate",
            tuple(_usd(f"incremental_{name}") for name in COST_BREAKDOWN),
        ),
    ),
    transposed=True,
)
TABLES: tuple[Table, ...] = (SUMMARY, OUTCOMES, COSTS)
METHODS_NOTE = (  # the two ways of counting, in a sentence each, for pages that show the tables without the report
    "Model: the baseline's births and unintended pregnancies minus the scenario's, on the same seeds. Track20: "
    "user-years × the pregnancies the same women would have without a method (31% a year) − the pregnancies on "
    "their methods (typical-use failure). Unsafe abortions and maternal deaths averted follow from both by the "
    "ratios of the scenario's impacts section; the report lists them with their sources."
)


@dataclass(frozen=True)
class Row:
    """One scenario's row of a table (its cells in the table's column order)."""

    label: str
    is_baseline: bool
    cells: list[Cell]

    def cell(self, column: str) -> Cell:
        """The cell of summary column `column`."""
        return next(cell for cell in self.cells if cell.value.column == column)


def table_rows(summary: pd.DataFrame, baseline: str, table: Table = SUMMARY) -> list[Row]:
    """The summary as rows of `table`: every value of its columns formatted and exact."""
    rows = []
    for record in summary.to_dict("records"):
        cells = []
        for column in table.columns:
            value = Value(column.name, raw(record[column.name]), column.fmt(record[column.name]))
            lo = hi = None
            if column.bounds is not None:
                bound_fmt = column.bound_fmt or column.fmt
                lo, hi = (Value(name, raw(record[name]), bound_fmt(record[name])) for name in column.bounds)
            cells.append(Cell(value, lo, hi, column.numeric))
        label = record["scenario"]
        rows.append(Row(label, label == baseline, cells))
    return rows


@dataclass(frozen=True)
class Stated:
    """One input as the report states it (an impact ratio, a unit cost): its key, the value used, and where it
    comes from."""

    key: str
    text: str
    source: str


def ratios_used(scenario: Scenario) -> list[Stated]:
    """The baseline's `impacts` ratios (every arm's averted outcomes use them), each with its value and its
    source: the schema field's description, declared there once."""
    impacts, fields = scenario.impacts, Impacts.model_fields
    shown = {
        "pregnancies_per_year_without_method": fmt_share(impacts.pregnancies_per_year_without_method) + " a year",
        "abortion_share_unintended": (
            fmt_share(scenario.women.abortion_share_unintended) + " (the model's own, women.abortion_share_unintended)"
            if impacts.abortion_share_unintended is None
            else fmt_share(impacts.abortion_share_unintended)
        ),
        "unsafe_share_abortions": fmt_share(impacts.unsafe_share_abortions),
        "loss_share_pregnancies": fmt_share(impacts.loss_share_pregnancies),
        "maternal_deaths_per_100k_births": f"{impacts.maternal_deaths_per_100k_births:,.0f} per 100,000 live births",
        "unsafe_abortion_deaths_per_100k": f"{impacts.unsafe_abortion_deaths_per_100k:,.0f} per 100,000 unsafe "
        "abortions",
    }
    if set(shown) != set(fields):
        raise ValueError(f"ratios_used does not show {', '.join(sorted(set(fields) - set(shown)))}")
    failure = ", ".join(f"{name} {fmt_share(f)} a year" for name, f in impacts_of.failure_per_year(scenario).items())
    return [Stated(f"impacts.{key}", text, fields[key].description or "") for key, text in shown.items()] + [
        Stated(
            "methods.*.failure_12m",
            f"typical-use failure for Track20's formula: {failure} (each scenario's own)",
            Method.model_fields["failure_12m"].description or "",
        )
    ]


def unit_costs_used(scenario: Scenario) -> list[Stated]:
    """The unit costs of `scenario` (its `costs` section, each method's price and provider minutes), each with its
    value and its source: the schema field's description, declared there once."""
    fields = Costs.model_fields
    listed = [
        Stated(f"costs.{key}", f"{getattr(scenario.costs, key):,.4g}", fields[key].description or "") for key in fields
    ]
    for key in ("unit_cost_usd", "provider_minutes_first", "provider_minutes_resupply"):
        values = ", ".join(
            f"{name} {getattr(method, key):,.4g}"
            for name, method in zip(METHODS, scenario.methods.table(), strict=True)
        )
        listed.append(Stated(f"methods.*.{key}", values, Method.model_fields[key].description or ""))
    return listed


# --- The page -----------------------------------------------------------------------------------------------


def seeds_text(seeds: list[int]) -> str:
    """The seeds in words: "seed 7", "seeds 1–5" when consecutive, else listed."""
    if len(seeds) == 1:
        return f"seed {seeds[0]}"
    if seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"seeds {seeds[0]}–{seeds[-1]}"
    return "seeds " + ", ".join(str(seed) for seed in seeds)


def households_text(scenarios: dict[str, Scenario]) -> str:
    """Households (index women) in the district: one number when all scenarios agree, else per scenario."""
    sizes = {label: scenario.population.households for label, scenario in scenarios.items()}
    if len(set(sizes.values())) == 1:
        return f"{next(iter(sizes.values())):,}"
    return ", ".join(f"{label} {size:,}" for label, size in sizes.items())


def render(
    comparison: Comparison,
    summary: pd.DataFrame,
    *,
    title: str | None,
    command: str | None,
    decomposition: pd.DataFrame | None = None,
) -> str:
    """The report as an HTML string; with a `decomposition` (`attribution.attribute` rows of one or more arms),
    a waterfall of what each pathway buys after the other charts."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    missing = [column for column in effects.SUMMARY_COLUMNS if column not in summary.columns]
    if missing:
        raise ValueError(f"summary lacks columns {', '.join(missing)} (expected effects.summarise output)")
    order = list(summary["scenario"])
    env = Environment(
        loader=PackageLoader("commsim.reports", "templates"),
        autoescape=select_autoescape(("html", "html.j2")),  # the default list misses "report.html.j2"
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template(TEMPLATE).render(
        title=title or "Scenario comparison: " + " vs ".join(order),
        today=date.today().isoformat(),
        version=__version__,
        reps=len(comparison.seeds),
        seeds=seeds_text(comparison.seeds),
        months=int(comparison.frame["month"].max()),
        households=households_text(comparison.scenarios),
        batch_id=comparison.batch_id,
        baseline=comparison.baseline,
        scenarios=[scenario_text(comparison, label) for label in order],
        tables=[(table, table_rows(summary, comparison.baseline, table)) for table in TABLES],
        ratios=ratios_used(comparison.scenarios[comparison.baseline]),
        unit_costs=unit_costs_used(comparison.scenarios[comparison.baseline]),
        no_method_rate=fmt_share(comparison.scenarios[comparison.baseline].impacts.pregnancies_per_year_without_method)
        + " a year",
        charts=charts(comparison, summary) + ([] if decomposition is None else decomposition_charts(decomposition)),
        command=command,
    )


def write_report(
    comparison: Comparison,
    summary: pd.DataFrame,
    out_dir: Path,
    *,
    title: str | None = None,
    command: str | None = None,
    decomposition: pd.DataFrame | None = None,
) -> Path:
    """Write the self-contained report of `comparison` and its `effects.summarise` table to
    `out_dir/report.html`; `command` (the line that reproduces it) goes in the footer, a `decomposition` adds its
    waterfalls. Returns the path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    page = render(comparison, summary, title=title, command=command, decomposition=decomposition)
    return outfiles.write_text(out_dir / "report.html", page)

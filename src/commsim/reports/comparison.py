"""The planner's report of a comparison: one self-contained HTML file (no external CSS, scripts, fonts or images)
that can be emailed and opened offline. It names what ran, describes every scenario in words, tabulates the
summary of `effects.summarise` and shows three charts embedded as base64 PNGs.

The summary table carries every value twice: formatted for people, and exact in `data-column`/`data-value`
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
from commsim.reports.charts import charts
from commsim.reports.text import scenario_text
from commsim.results import effects
from commsim.results.formats import (
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
from commsim.scenario.schema import Scenario

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


# (column, formatter, interval columns or None, numeric); headings are effects.SUMMARY_LABELS
TABLE: tuple[tuple[str, Callable[[Any], str], tuple[str, str] | None, bool], ...] = (
    ("reps", str, None, True),
    ("mcpr", fmt_share, ("mcpr_lo", "mcpr_hi"), True),
    ("diff_pp", fmt_pp, ("diff_lo_pp", "diff_hi_pp"), True),
    ("additional_users", fmt_users, ("additional_users_lo", "additional_users_hi"), True),
    ("total_cost", fmt_usd, None, True),
    ("incremental_cost", fmt_usd, None, True),
    ("cost_per_additional_user", fmt_usd, None, True),
    ("distance_gap_pp", fmt_pp, None, True),
    ("wealth_gap_pp", fmt_pp, None, True),
    ("donor_exit_month", fmt_month, None, True),
    ("sustainability", fmt_sustainability, None, False),
)


def heading(column: str, bounds: tuple[str, str] | None) -> str:
    """A column's heading in the report: its summary label, capitalised, with "(95% CI)" where it has bounds."""
    text = effects.SUMMARY_LABELS[column]
    return text[0].upper() + text[1:] + (" (95% CI)" if bounds else "")


_BOUND_FORMAT = {"mcpr": fmt_share, "diff_pp": fmt_pp_bound, "additional_users": fmt_users}


@dataclass(frozen=True)
class Row:
    """One scenario's row of the summary table."""

    label: str
    is_baseline: bool
    cells: list[Cell]


def table_rows(summary: pd.DataFrame, baseline: str) -> list[Row]:
    """The summary as table rows: every SUMMARY_COLUMNS value formatted and exact."""
    rows = []
    for record in summary.to_dict("records"):
        cells = []
        for column, fmt, bounds, numeric in TABLE:
            value = Value(column, raw(record[column]), fmt(record[column]))
            lo = hi = None
            if bounds is not None:
                bound_fmt = _BOUND_FORMAT[column]
                lo, hi = (Value(name, raw(record[name]), bound_fmt(record[name])) for name in bounds)
            cells.append(Cell(value, lo, hi, numeric))
        label = record["scenario"]
        rows.append(Row(label, label == baseline, cells))
    return rows


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


def render(comparison: Comparison, summary: pd.DataFrame, *, title: str | None, command: str | None) -> str:
    """The report as an HTML string."""
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
        headings=[heading(column, bounds) for column, _, bounds, _ in TABLE],
        rows=table_rows(summary, comparison.baseline),
        charts=charts(comparison, summary),
        command=command,
    )


def write_report(
    comparison: Comparison,
    summary: pd.DataFrame,
    out_dir: Path,
    *,
    title: str | None = None,
    command: str | None = None,
) -> Path:
    """Write the self-contained report of `comparison` and its `effects.summarise` table to
    `out_dir/report.html`; `command` (the line that reproduces it) goes in the footer. Returns the path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return outfiles.write_text(out_dir / "report.html", render(comparison, summary, title=title, command=command))

"""The report's charts: mCPR over time with uncertainty bands, final mCPR by distance band and wealth quintile,
cost, and, for a decomposition, what each pathway of a programme buys as a waterfall; each a
`matplotlib.figure.Figure` without pyplot (imported lazily), embedded as a base64 PNG with alt text that states
its numbers."""

import base64
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from commsim.model.metrics import BAND_LABELS, BAND_NAMES, COST_BREAKDOWN, LABELS
from commsim.results import effects
from commsim.results.attribution import LAST_MONTHS, TOGETHER
from commsim.results.formats import fmt_share, fmt_usd
from commsim.runs.compare import Comparison
from commsim.scenario.district import District, read_district

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FIGSIZE, DPI = (9.0, 4.5), 100  # 900 x 450 px: readable, and a few tens of kB per chart
BASELINE_COLOUR = "0.45"
QUINTILE_NAMES = {1: "Q1 poorest", 2: "Q2", 3: "Q3", 4: "Q4", 5: "Q5 richest"}


# --- Charts -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chart:
    """A chart embedded in the page: a heading, alt text, the PNG as base64, and a caption."""

    title: str
    alt: str
    png_base64: str
    caption: str


def colours(labels: list[str], baseline: str) -> dict[str, Any]:
    """One colour per scenario, the same in every chart: grey for the baseline, tab10 for the others."""
    from matplotlib import colormaps

    palette = colormaps["tab10"]
    others = [label for label in labels if label != baseline]
    return {label: BASELINE_COLOUR if label == baseline else palette(others.index(label) % 10) for label in labels}


def _percent_axis(axis) -> None:
    """Y ticks as percentages of a share (0.2 -> 20%)."""
    from matplotlib.ticker import PercentFormatter

    axis.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))


def _usd_axis(axis) -> None:
    """Few, short US$ ticks on the x axis ($50k, $1.2M), so long amounts do not overlap."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    def short(v: float, _) -> str:
        """A US$ tick label in k or M."""
        for size, suffix in ((1e6, "M"), (1e3, "k")):
            if abs(v) >= size:
                return f"${v / size:,.{0 if v % size == 0 else 1}f}{suffix}"
        return f"${v:,.0f}"

    axis.xaxis.set_major_locator(MaxNLocator(4))
    axis.xaxis.set_major_formatter(FuncFormatter(short))


def mcpr_figure(comparison: Comparison, order: list[str]) -> "Figure":
    """mCPR by month per scenario with its 95% band across replicates; donor exits as dashed vertical lines."""
    from matplotlib.figure import Figure

    band = effects.bands(comparison.frame, "mcpr")
    palette = colours(order, comparison.baseline)
    exits = comparison.exits()
    fig = Figure(figsize=FIGSIZE, layout="constrained")
    axis = fig.subplots()
    for label in order:
        mine = band[band["scenario"] == label]
        axis.plot(mine["month"], mine["mean"], color=palette[label], label=label)
        axis.fill_between(mine["month"], mine["lo"], mine["hi"], color=palette[label], alpha=0.15, linewidth=0)
        if exits.get(label) is not None:
            axis.axvline(exits[label], color=palette[label], linestyle="--", linewidth=1, label=f"donor exit ({label})")
    axis.set_xlabel("month")
    axis.set_ylabel("mCPR (share of index women)")
    axis.set_xlim(band["month"].min(), max(band["month"].max(), 1))
    _percent_axis(axis)
    axis.grid(alpha=0.3)
    fig.legend(*axis.get_legend_handles_labels(), loc="outside right upper", fontsize="small")
    return fig


def final_means(frame: pd.DataFrame) -> pd.DataFrame:
    """Final-month outputs averaged over replicates, one row per scenario."""
    return effects.final_rows(frame).groupby(level="scenario").mean(numeric_only=True)


def _grouped_bars(axis, table: pd.DataFrame, groups: dict[str, str], order: list[str], palette: dict) -> None:
    """Bars of table[column] for each group (x) and scenario (colour)."""
    width = 0.8 / len(order)
    for n, label in enumerate(order):
        xs = [g + (n - (len(order) - 1) / 2) * width for g in range(len(groups))]
        axis.bar(xs, [table.loc[label, column] for column in groups], width, color=palette[label], label=label)
    axis.set_xticks(range(len(groups)), list(groups.values()))
    _percent_axis(axis)
    axis.grid(axis="y", alpha=0.3)


def equity_figure(final: pd.DataFrame, order: list[str], baseline: str) -> "Figure":
    """Final mCPR (`final_means`) by distance band (left) and wealth quintile (right), grouped by scenario."""
    from matplotlib.figure import Figure

    palette = colours(order, baseline)
    fig = Figure(figsize=FIGSIZE, layout="constrained")
    distance, wealth = fig.subplots(1, 2, sharey=True)
    _grouped_bars(distance, final, {f"mcpr_{b}": BAND_NAMES.get(b, b) for b in BAND_LABELS}, order, palette)
    _grouped_bars(wealth, final, {f"mcpr_q{q}": name for q, name in QUINTILE_NAMES.items()}, order, palette)
    distance.set_title("by distance to the nearest facility")
    wealth.set_title("by wealth quintile")
    distance.set_ylabel("final mCPR")
    fig.legend(*distance.get_legend_handles_labels(), loc="outside right upper", fontsize="small")
    return fig


def _cost_bars(axis, labels: list[str], values: list[float], palette: dict[str, Any]) -> None:
    """Horizontal bars (long scenario names stay readable), first scenario on top, each labelled in US$."""
    bars = axis.barh(labels, values, color=[palette[label] for label in labels])
    axis.bar_label(bars, labels=[" " + fmt_usd(x) for x in values], fontsize="small")
    axis.invert_yaxis()
    _usd_axis(axis)
    axis.grid(axis="x", alpha=0.3)
    axis.margins(x=0.3)


def _category_bars(axis, summary: pd.DataFrame) -> None:
    """Each scenario's cost over the horizon as one horizontal bar stacked by category, first scenario on top."""
    from matplotlib import colormaps

    labels, left = list(summary["scenario"]), [0.0] * len(summary)
    for n, name in enumerate(COST_BREAKDOWN):
        widths = list(summary[name])
        axis.barh(labels, widths, left=left, color=colormaps["Set2"](n), label=LABELS[name].removeprefix("cost: "))
        left = [a + b for a, b in zip(left, widths, strict=True)]
    axis.bar_label(axis.containers[-1], labels=[" " + fmt_usd(x) for x in summary["total_cost"]], fontsize="small")
    axis.invert_yaxis()
    _usd_axis(axis)
    axis.grid(axis="x", alpha=0.3)
    axis.margins(x=0.3)
    axis.legend(fontsize="x-small", loc="lower right")


def cost_figure(summary: pd.DataFrame, baseline: str) -> "Figure":
    """Total cost per scenario, by category where the runs counted them (left), and cost per additional
    user-year against the baseline (right)."""
    from matplotlib.figure import Figure

    palette = colours(list(summary["scenario"]), baseline)
    fig = Figure(figsize=FIGSIZE, layout="constrained")
    total, per_user = fig.subplots(1, 2)
    if summary[list(COST_BREAKDOWN)].notna().all().all():
        _category_bars(total, summary)
    else:  # runs stored before the costs by category
        _cost_bars(total, list(summary["scenario"]), list(summary["total_cost"]), palette)
    total.set_title("total cost over the horizon")
    others = summary[(summary["scenario"] != baseline) & summary["cost_per_additional_user_year"].notna()]
    _cost_bars(per_user, list(others["scenario"]), list(others["cost_per_additional_user_year"]), palette)
    per_user.set_title("cost per additional user-year")
    if others.empty:
        per_user.text(0.5, 0.5, "no scenario adds user-years", ha="center", va="center", transform=per_user.transAxes)
    return fig


def png_base64(fig: "Figure") -> str:
    """The figure as a base64-encoded PNG, for a data: URI."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _mcpr_alt(summary: pd.DataFrame, exits: dict[str, int]) -> str:
    """Alt text of the mCPR chart: final mCPR per scenario and the donor exits."""
    finals = ", ".join(f"{row['scenario']} {fmt_share(row['mcpr'])}" for row in summary.to_dict("records"))
    text = f"Line chart of mCPR by month for each scenario with 95% bands. Final mCPR: {finals}."
    if exits:
        text += " Dashed lines: " + "; ".join(f"donor exit of {label} at month {m}" for label, m in exits.items()) + "."
    return text


def _equity_alt(final: pd.DataFrame, order: list[str]) -> str:
    """Alt text of the equity chart: final mCPR of the extreme bands and quintiles per scenario."""
    ends = {"nearest": effects.NEAREST_BAND, "farthest": effects.FARTHEST_BAND}
    ends |= {"poorest": effects.POOREST, "richest": effects.RICHEST}
    scenarios = "; ".join(
        f"{label}: " + ", ".join(f"{word} {fmt_share(final.loc[label, column])}" for word, column in ends.items())
        for label in order
    )
    return f"Grouped bar charts of final mCPR by distance band and by wealth quintile. {scenarios}."


def _cost_alt(summary: pd.DataFrame, baseline: str) -> str:
    """Alt text of the cost chart: total cost and cost per additional user-year per scenario."""
    rows = summary.to_dict("records")
    totals = ", ".join(f"{row['scenario']} {fmt_usd(row['total_cost'])}" for row in rows)
    per_user = ", ".join(
        f"{row['scenario']} {fmt_usd(row['cost_per_additional_user_year'])}"
        for row in rows
        if row["scenario"] != baseline
    )
    return f"Bar charts of total cost ({totals}) and cost per additional user-year ({per_user or 'none'})."


def charts(comparison: Comparison, summary: pd.DataFrame) -> list[Chart]:
    """The report's three charts, with alt text that states in numbers what each shows."""
    order = list(summary["scenario"])
    exits = {label: month for label, month in comparison.exits().items() if month is not None}
    final = final_means(comparison.frame)
    return [
        Chart(
            "mCPR over time",
            _mcpr_alt(summary, exits),
            png_base64(mcpr_figure(comparison, order)),
            "Mean over replicates; the shaded band is the 95% interval of the mean across replicates."
            + (" Dashed vertical lines mark a donor exit." if exits else ""),
        ),
        Chart(
            "Who is reached: final mCPR by distance and wealth",
            _equity_alt(final, order),
            png_base64(equity_figure(final, order, comparison.baseline)),
            "Final month, mean over replicates. Distance is to the nearest health facility.",
        ),
        Chart(
            "Cost",
            _cost_alt(summary, comparison.baseline),
            png_base64(cost_figure(summary, comparison.baseline)),
            "US$ over the whole horizon, by category where the runs counted them. Cost per additional user-year is "
            "the incremental cost over the baseline divided by the additional user-years (a woman using for a year "
            "counts once); it is not shown where no user-years are added.",
        ),
        *district_charts(comparison),
    ]


def settlement_mcpr(comparison: Comparison, label: str) -> pd.Series:
    """A scenario's mCPR in each settlement (village) at the end, mean over replicates (NaN where none live)."""
    runs = [frame for (arm, _), frame in comparison.villages.items() if arm == label]
    users = sum(frame["users"].to_numpy(float) for frame in runs) / len(runs)
    households = runs[0]["households"].to_numpy(float)
    return pd.Series(np.where(households > 0, users / np.maximum(households, 1.0), np.nan))


def district_figure(comparison: Comparison, district: District) -> "Figure":
    """Maps of the district from files: the baseline's mCPR in each settlement at the end, and each other
    scenario's gain over it (points) there; settlements sized by households, facilities as triangles."""
    from matplotlib.figure import Figure

    others = [label for label in comparison.scenarios if label != comparison.baseline]
    panels = [comparison.baseline, *others]
    fig = Figure(figsize=(4.6 * len(panels), 4.4), layout="constrained")
    base = settlement_mcpr(comparison, comparison.baseline)
    gains = {label: 100 * (settlement_mcpr(comparison, label) - base) for label in others}
    reach = max([float(np.nanmax(np.abs(g))) for g in gains.values()] + [0.1])
    sizes = 6.0 + 50.0 * np.sqrt(district.households / max(district.households.max(), 1))
    for n, label in enumerate(panels):
        axis = fig.add_subplot(1, len(panels), n + 1)
        for ring in district.boundary:
            axis.plot(ring[:, 0], ring[:, 1], color="0.5", linewidth=0.8)
        if label == comparison.baseline:
            dots = axis.scatter(district.sx, district.sy, s=sizes, c=100 * base, cmap="viridis")
            fig.colorbar(dots, ax=axis, shrink=0.8, label="mCPR at the end (%)")
            axis.set_title(f"{label}: mCPR by settlement", fontsize=10)
        else:
            dots = axis.scatter(district.sx, district.sy, s=sizes, c=gains[label], cmap="RdBu", vmin=-reach, vmax=reach)
            fig.colorbar(dots, ax=axis, shrink=0.8, label=f"gain over {comparison.baseline} (points)")
            axis.set_title(f"{label}: gain by settlement", fontsize=10)
        axis.scatter(district.fx, district.fy, marker="^", s=30, color="black")
        axis.set_aspect("equal")
        axis.set_xlabel("km east")
        axis.set_ylabel("km north")
    return fig


def district_charts(comparison: Comparison) -> list[Chart]:
    """The map chart of a comparison on a district from files (none on the synthetic district)."""
    population = comparison.scenarios[comparison.baseline].population
    if population.district is None or not comparison.villages:
        return []
    district = read_district(population.district, population.persons_per_household)
    base = settlement_mcpr(comparison, comparison.baseline)
    lows = ", ".join(str(district.settlement_names[k]) for k in np.argsort(base.fillna(np.inf).to_numpy())[:3])
    parts = [f"baseline mCPR at the end from {fmt_share(base.min())} to {fmt_share(base.max())}, lowest in {lows}"]
    for label in comparison.scenarios:
        if label != comparison.baseline:
            gain = 100 * (settlement_mcpr(comparison, label) - base)
            parts.append(
                f"{label}'s gain median {gain.median():+.1f} points, from {gain.min():+.1f} to {gain.max():+.1f}"
            )
    return [
        Chart(
            "Where the gains fall: the district by settlement",
            "Maps of the district by settlement: " + "; ".join(parts) + ".",
            png_base64(district_figure(comparison, district)),
            "Final month, mean over replicates; dots are settlements sized by households, triangles facilities. A "
            "small settlement's mCPR moves in steps of one woman.",
        )
    ]


def waterfall_figure(table: pd.DataFrame) -> "Figure":
    """One arm's gain over the baseline built up pathway by pathway (`attribution.attribute`): a floating bar per
    pathway and for the interaction, from where the one before ends, and the total from zero; 95% intervals."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=FIGSIZE, layout="constrained")
    axis = fig.add_subplot()
    parts = table[table["pathway"] != "total"]
    total = table[table["pathway"] == "total"].iloc[0]
    start, labels = 0.0, []
    for n, row in enumerate(parts.to_dict("records")):
        colour = "0.6" if row["pathway"] == TOGETHER else ("tab:green" if row["gain_pp"] >= 0 else "tab:red")
        axis.bar(n, row["gain_pp"], bottom=start, color=colour)
        axis.errorbar(n, start + row["gain_pp"], yerr=_yerr(row), color="0.2", capsize=3)
        start += row["gain_pp"]
        labels.append(row["pathway"])
    n = len(labels)
    axis.bar(n, total["gain_pp"], color="tab:blue")
    axis.errorbar(n, total["gain_pp"], yerr=_yerr(total), color="0.2", capsize=3)
    axis.axhline(0.0, color="0.3", linewidth=0.8)
    axis.set_xticks(range(n + 1), [*labels, "total"])
    axis.set_ylabel("mCPR gain over the baseline (points)")
    axis.set_title(f"{total['arm']}: what each pathway adds")
    return fig


def _yerr(row) -> list[list[float]]:
    """The interval of a row's gain as matplotlib's error bar (none where it has no interval)."""
    if pd.isna(row["gain_pp_lo"]):
        return [[0.0], [0.0]]
    return [[row["gain_pp"] - row["gain_pp_lo"]], [row["gain_pp_hi"] - row["gain_pp"]]]


def _waterfall_alt(table: pd.DataFrame) -> str:
    """Alt text of a waterfall: each pathway's gain and the total."""
    parts = "; ".join(f"{row['pathway']} {row['gain_pp']:+.2f}" for row in table.to_dict("records"))
    return f"Waterfall chart of the mCPR gain over the baseline in points, by pathway: {parts}."


def decomposition_charts(decomposition: pd.DataFrame) -> list[Chart]:
    """A waterfall for each decomposed arm."""
    return [
        Chart(
            f"What each pathway buys: {arm}",
            _waterfall_alt(table),
            png_base64(waterfall_figure(table)),
            "Each pathway's bar is what the programme loses when that pathway's interventions are switched off, on "
            f"the same seeds (mCPR over the last {LAST_MONTHS} months against the baseline, 95% intervals over "
            "replicates); the grey bar is what the pathways give together beyond their parts (negative: they "
            "overlap).",
        )
        for arm, table in decomposition.groupby("arm", sort=False)
    ]

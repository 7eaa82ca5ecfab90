"""Figures of the Compare and Sweeps pages as PNG bytes. The comparison charts are the report's
(`report_charts`) and the sweep charts `analyze_plots`'s, so the page, the report and `commsim analyze` show
the same thing; this module adds only the sensitivity bars of designs without Sobol indices."""

import io
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from commsim.results.formats import format_output

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DPI = 90


def png(fig: "Figure", dpi: int = DPI) -> bytes:
    """A figure as PNG bytes (Agg canvas, no pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def effect_ranges(effects: pd.DataFrame) -> pd.DataFrame:
    """Per parameter, from a `main_effects` table: the lowest and highest mean over its levels and the spread
    between them (how far the output moves across the parameter's range, other parameters averaged over),
    largest spread first."""
    grouped = effects.groupby("parameter", sort=False)["mean"]
    table = pd.DataFrame({"low": grouped.min(), "high": grouped.max()})
    table["spread"] = table["high"] - table["low"]
    return table.sort_values("spread", ascending=False).reset_index()


def spread_figure(effects: pd.DataFrame, output: str, title: str) -> "Figure":
    """Sensitivity bars: for each parameter, the spread of the mean `output` across its levels (main effects)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    ranges = effect_ranges(effects)
    fig = Figure(figsize=(8, 0.55 * len(ranges) + 1.8), layout="constrained")
    axis = fig.subplots()
    rows = np.arange(len(ranges))
    bars = axis.barh(rows, ranges["spread"], color="tab:blue")
    ends = zip(ranges["low"], ranges["high"], strict=True)
    axis.bar_label(
        bars, labels=[f" {format_output(output, lo)} to {format_output(output, hi)}" for lo, hi in ends], fontsize=8
    )
    axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: format_output(output, value)))
    axis.set_yticks(rows, ranges["parameter"])
    axis.invert_yaxis()
    axis.margins(x=0.45)
    axis.set_xlabel(f"spread of the mean final {output} across the parameter's levels")
    axis.grid(axis="x", alpha=0.3)
    axis.set_title(title)
    return fig

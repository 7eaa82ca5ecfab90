"""Figures of a sweep's analysis: a heatmap of an output over two parameters, Sobol indices as bars, and main
effects as one line panel per parameter.

Built on `matplotlib.figure.Figure` without pyplot (no display, no global state) and saved through the Agg
canvas; matplotlib is imported only when a figure is made.
"""

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from commsim.results.formats import format_output, output_label
from commsim.results.sensitivity import format_level

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PANELS_PER_ROW = 4


def heatmap_figure(table: pd.DataFrame, output: str, title: str, *, binned: bool = False) -> "Figure":
    """The mean of `output` over two parameters (a `two_way` table: rows on the y axis, columns on x), each
    cell annotated with its value; cells without runs are left blank. `binned`: levels are quintile bins."""
    from matplotlib.figure import Figure

    values = table.to_numpy(float)
    fig = Figure(figsize=(1.2 * len(table.columns) + 3, 0.6 * len(table.index) + 2.5), layout="constrained")
    axis = fig.subplots()
    image = axis.imshow(np.ma.masked_invalid(values), origin="lower", aspect="auto", cmap="viridis")
    axis.set_xticks(range(len(table.columns)), [format_level(v) for v in table.columns])
    axis.set_yticks(range(len(table.index)), [format_level(v) for v in table.index])
    note = " (quintile bins at their mean)" if binned else ""
    axis.set_xlabel(f"{table.columns.name}{note}")
    axis.set_ylabel(f"{table.index.name}{note}")
    finite = values[np.isfinite(values)]
    middle = (finite.min() + finite.max()) / 2 if finite.size else 0.0
    for (row, column), value in np.ndenumerate(values):
        if math.isfinite(value):
            color = "black" if value > middle else "white"
            axis.text(column, row, format_output(output, value), ha="center", va="center", color=color, fontsize=8)
    fig.colorbar(image, ax=axis, label=f"final {output_label(output)}", format=_formatter(output))
    axis.set_title(title)
    return fig


def sensitivity_figure(indices: pd.DataFrame, output: str, title: str) -> "Figure":
    """First-order (S1) and total (ST) Sobol indices per parameter, with their 95% bootstrap intervals."""
    from matplotlib.figure import Figure

    n = len(indices)
    fig = Figure(figsize=(9, 0.6 * n + 2), layout="constrained")
    axis = fig.subplots()
    rows = np.arange(n)
    height = 0.38
    for offset, name, color in ((-height / 2, "S1", "tab:blue"), (height / 2, "ST", "tab:orange")):
        axis.barh(
            rows + offset,
            indices[name],
            height,
            xerr=indices[f"{name}_conf"],
            label="first order (S1)" if name == "S1" else "total (ST)",
            color=color,
            capsize=3,
        )
    axis.set_yticks(rows, indices["parameter"])
    axis.invert_yaxis()
    axis.axvline(0, color="black", linewidth=0.8)
    axis.set_xlabel(f"share of the variance of final {output_label(output)}")
    axis.legend(loc="lower right")
    axis.grid(axis="x", alpha=0.3)
    axis.set_title(title)
    return fig


def main_effects_figure(effects: pd.DataFrame, output: str, title: str) -> "Figure":
    """One panel per parameter: the mean of `output` at each level with its 95% interval (shared y axis)."""
    from matplotlib.figure import Figure

    parameters = list(dict.fromkeys(effects["parameter"]))
    columns = min(len(parameters), PANELS_PER_ROW)
    rows = math.ceil(len(parameters) / columns)
    fig = Figure(figsize=(3.6 * columns + 0.6, 3.0 * rows + 0.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, columns, sharey=True, squeeze=False)).ravel()
    for axis, parameter in zip(axes, parameters, strict=False):
        _effect_panel(axis, effects[effects["parameter"] == parameter], output, parameter)
    for axis in axes[len(parameters) :]:
        axis.set_visible(False)
    fig.suptitle(title)
    return fig


def _effect_panel(axis, rows: pd.DataFrame, output: str, parameter: str) -> None:
    """One parameter's main effect: numeric levels on their own scale, others evenly spaced."""
    levels = list(rows["level"])
    numeric = all(pd.api.types.is_number(v) and not isinstance(v, bool | np.bool_) for v in levels)
    x = np.array(levels, dtype=float) if numeric else np.arange(len(levels))
    axis.plot(x, rows["mean"], marker="o", color="tab:blue")
    axis.fill_between(x, rows["ci_low"], rows["ci_high"], color="tab:blue", alpha=0.2, linewidth=0)
    if not numeric:
        axis.set_xticks(x, [format_level(v) for v in levels])
    axis.set_xlabel(parameter, fontsize=8)
    axis.set_ylabel(f"final {output_label(output)}")
    axis.yaxis.set_major_formatter(_formatter(output))
    axis.grid(alpha=0.3)


def _formatter(output: str):
    """Axis ticks in the output's own units (percent, US$)."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _: format_output(output, value))

"""The summary plot of one run: four panels over months (uptake, flows, equity, community system).

Built on `matplotlib.figure.Figure` without pyplot, so it needs no display and leaves no global state;
matplotlib is imported only when a figure is made (keeps `import commsim.cli.app` quick).
"""

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from commsim.model.metrics import BAND_LABELS, BAND_NAMES, QUINTILE_NAMES
from commsim.results.formats import output_label

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _percent(axis) -> None:
    from matplotlib.ticker import PercentFormatter

    axis.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))


def summary_figure(timeseries: pd.DataFrame, title: str) -> "Figure":
    """A 2x2 figure of one run's monthly outputs (columns as in `metrics.COLUMNS`)."""
    from matplotlib.figure import Figure

    ts = timeseries
    months = ts["month"]
    fig = Figure(figsize=(12, 8), layout="constrained")
    fig.suptitle(title)
    (uptake, flows), (equity, system) = fig.subplots(2, 2, sharex=True)

    uptake.plot(months, ts["mcpr"], label=output_label("mcpr"), color="tab:blue")
    uptake.plot(months, ts["unmet_need"], label=output_label("unmet_need"), color="tab:red")
    uptake.set_title("Uptake")
    uptake.set_ylabel("share of index women")
    uptake.set_ylim(bottom=0)
    _percent(uptake)
    uptake.legend(loc="best")

    flow_months = ts[months > 0]
    flows.plot(flow_months["month"], flow_months["new_users"], label=output_label("new_users"), color="tab:green")
    flows.plot(
        flow_months["month"], flow_months["discontinued"], label=output_label("discontinued"), color="tab:orange"
    )
    flows.set_title("Flows per month")
    flows.set_ylabel("women per month")
    flows.set_ylim(bottom=0)
    flows.legend(loc="best")

    from matplotlib import colormaps

    near_far, poor_rich = colormaps["viridis"], colormaps["Oranges"]
    for b, label in enumerate(BAND_LABELS):
        color = near_far(b / max(len(BAND_LABELS) - 1, 1) * 0.9)
        equity.plot(months, ts[f"mcpr_{label}"], label=BAND_NAMES[label], color=color)
    for q in range(1, 6):
        color = poor_rich(0.35 + 0.65 * (q - 1) / 4)
        equity.plot(months, ts[f"mcpr_q{q}"], label=QUINTILE_NAMES[q], color=color, linestyle="--")
    equity.set_title("mCPR by distance to facility (solid) and wealth quintile (dashed)")
    equity.set_ylabel("mCPR")
    equity.set_ylim(bottom=0)
    _percent(equity)
    equity.legend(loc="best", ncol=3, fontsize="small")

    system.plot(months, ts["active_groups"], label=output_label("active_groups"), color="tab:purple")
    system.plot(months, ts["active_chws"], label=output_label("active_chws"), color="tab:brown")
    system.set_title("Community system")
    system.set_ylabel("count")
    system.set_ylim(0, 1.15 * max(ts["active_groups"].max(), ts["active_chws"].max(), 1))
    capacity = system.twinx()
    capacity.plot(
        months, ts["mean_group_capacity"], label=output_label("mean_group_capacity"), color="tab:gray", linestyle=":"
    )
    capacity.set_ylabel("mean group capacity (0-1)")
    capacity.set_ylim(0, 1)
    lines = system.get_lines() + capacity.get_lines()
    system.legend(lines, [line.get_label() for line in lines], loc="best", fontsize="small")

    for axis in (equity, system):
        axis.set_xlabel("month")
    for axis in (uptake, flows, equity, system):
        axis.grid(alpha=0.3)
        axis.set_xlim(months.min(), max(months.max(), 1))
    return fig


def write_png(fig: "Figure", path: str | Path) -> Path:
    """Save a figure as a PNG through the Agg canvas, written beside `path` and renamed there; returns the path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from commsim.outfiles import replacing

    FigureCanvasAgg(fig)
    with replacing(Path(path)) as temporary:
        fig.savefig(temporary, format="png", dpi=100)
    return Path(path)


def write_summary_png(timeseries: pd.DataFrame, path: str | Path, title: str) -> Path:
    """Draw `summary_figure` and save it as a PNG at `path`; returns the path."""
    return write_png(summary_figure(timeseries, title), path)

"""The plot of a run against its district's routine data: one panel per kind of element (new acceptors,
continuing users, ...), observed and modelled district totals by month over the facility-months reported."""

from pathlib import Path

import pandas as pd

from commsim.reports.run_summary import write_png


def write_routine_png(series: pd.DataFrame, path: Path, title: str) -> Path:
    """`results.routine.district_series` as a PNG: a panel per element, observed as points, the model a line."""
    from matplotlib.figure import Figure

    elements = list(dict.fromkeys(series["kind"]))
    columns = min(2, len(elements))
    rows = -(-len(elements) // columns)
    figure = Figure(figsize=(6.0 * columns, 3.2 * rows), layout="constrained")
    figure.suptitle(title)
    for k, element in enumerate(elements):
        axis = figure.add_subplot(rows, columns, k + 1)
        part = series[series["kind"] == element]
        x = range(len(part))
        axis.plot(x, part["observed"], "o", label="observed (routine data)")
        axis.plot(x, part["model"], "-", label="model")
        axis.set_title(element, fontsize=10)
        axis.set_xticks(list(x)[:: max(1, len(part) // 6)], list(part["period"])[:: max(1, len(part) // 6)])
        axis.set_xlabel("period (YYYYMM)")
        axis.set_ylabel("district total a month")
        axis.legend(fontsize=8)
    return write_png(figure, path)

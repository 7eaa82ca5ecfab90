"""The Sweeps page: a researcher picks a stored sweep and an outcome, and sees a heatmap of the outcome over two
chosen parameters, sensitivity bars (Sobol indices for a Sobol design, else the spread of each parameter's main
effect) and the table of design points with their runs. The analysis is `commsim analyze`'s (`analyze`,
`analyze_plots`), read from the store only.
"""

import logging

import pandas as pd
import solara

from commsim.errors import CommsimError
from commsim.reports import sensitivity as plots
from commsim.results import sensitivity as analyze
from commsim.ui import stored
from commsim.ui.figures import png, spread_figure
from commsim.ui.widgets import Message, note

logger = logging.getLogger(__name__)


def _listing() -> tuple[pd.DataFrame | None, str | None]:
    try:
        return stored.listing("sweep"), None
    except CommsimError as error:
        return None, str(error)


def load(batch_id: int) -> analyze.SweepData:
    """A stored sweep with every output it recorded."""
    return analyze.load_sweep(stored.open_for_reading(), batch_id)


def heatmap_png(data: analyze.SweepData, output: str, rows: str, columns: str) -> bytes:
    """The mean final `output` over two swept parameters."""
    table = analyze.two_way(data, output, rows, columns)
    binned = data.experiment.design.kind != "grid"
    return png(plots.heatmap_figure(table, output, f"{data.experiment.name}: final {output}", binned=binned))


def sensitivity_png(data: analyze.SweepData, output: str) -> bytes:
    """Sobol indices (Sobol designs), else the spread of each parameter's main effect, as bars."""
    name = data.experiment.name
    if data.experiment.design.kind == "sobol":
        indices = analyze.sobol_indices(data, output)
        return png(plots.sensitivity_figure(indices, output, f"{name}: Sobol indices of final {output}"))
    effects = analyze.main_effects(data, output)
    return png(spread_figure(effects, output, f"{name}: how much each parameter moves final {output}"))


def effects_png(data: analyze.SweepData, output: str) -> bytes:
    """Main effects, one panel per parameter."""
    effects = analyze.main_effects(data, output)
    return png(plots.main_effects_figure(effects, output, f"{data.experiment.name}: main effects on final {output}"))


def runs_table(data: analyze.SweepData, output: str) -> pd.DataFrame:
    """One row per design point: its parameter values, and the mean, sd and number of runs of `output`."""
    table = analyze.point_table(data)
    keep = ["point", *data.keys, f"{output}_mean", f"{output}_sd", f"{output}_n"]
    return table[keep].round(4)


@solara.component
def SweepsPage():
    refresh = solara.use_reactive(0)
    listing, listing_error = solara.use_memo(_listing, [refresh.value])
    chosen = solara.use_reactive(None)
    labels = [stored.batch_label(row) for row in listing.to_dict("records")] if listing is not None else []

    with solara.Column(gap="10px", classes=["commsim-sweeps"]):
        with solara.Card("Stored sweeps", margin=0):
            note(f"Database: {stored.shown_database()}")
            if listing_error:
                Message(listing_error)
            elif not labels:
                solara.Info("No stored sweeps yet: run one with `commsim sweep EXPERIMENT`.", dense=True)
            else:
                solara.Select(
                    "Sweep", values=labels, value=chosen.value if chosen.value in labels else None, on_value=chosen.set
                )
            solara.Button("Refresh list", on_click=lambda: refresh.set(refresh.value + 1), text=True)
        if chosen.value in labels:
            SweepView(int(chosen.value.split()[0].lstrip("#")))


def _loaded(batch_id: int) -> tuple[analyze.SweepData | None, str | None]:
    try:
        return load(batch_id), None
    except CommsimError as error:
        return None, str(error)
    except Exception as error:  # a bug must not take the page down: say so
        logger.exception("loading sweep %s failed", batch_id)
        return None, f"sweep {batch_id} cannot be shown: {type(error).__name__}: {error}"


@solara.component
def SweepView(batch_id: int):
    data, error = solara.use_memo(lambda: _loaded(batch_id), [batch_id])
    output = solara.use_reactive(None)
    rows, columns = solara.use_reactive(None), solara.use_reactive(None)
    if error:
        return Message(error)
    outputs, keys = data.outputs, data.keys
    chosen_output = output.value if output.value in outputs else outputs[0]
    chosen_rows = rows.value if rows.value in keys else keys[0]
    others = [key for key in keys if key != chosen_rows]
    chosen_columns = columns.value if columns.value in others else (others[0] if others else None)
    with solara.Card(f"Sweep #{batch_id}: {data.experiment.name}", margin=0, classes=["commsim-sweep"]):
        note(data.experiment.description)
        Message(data.status(), "info" if data.complete else "warning")
        with solara.Row():
            solara.Select("Outcome (final month)", values=outputs, value=chosen_output, on_value=output.set)
            solara.Select("Rows", values=keys, value=chosen_rows, on_value=rows.set)
            if chosen_columns is not None:
                solara.Select("Columns", values=others, value=chosen_columns, on_value=columns.set)
        Figures(data, chosen_output, chosen_rows, chosen_columns)
        note(f"Design points: {len(data.points)} points x {data.experiment.replicates} replicates", "font-weight: 600")
        solara.DataFrame(runs_table(data, chosen_output), items_per_page=15)


@solara.component
def Figures(data: analyze.SweepData, output: str, rows: str, columns: str | None):
    def draw() -> tuple[dict[str, bytes], list[str]]:
        images, problems = {}, []
        for key, make in (
            ("heatmap", (lambda: heatmap_png(data, output, rows, columns)) if columns else None),
            ("sensitivity", lambda: sensitivity_png(data, output)),
            ("effects", lambda: effects_png(data, output)),
        ):
            if make is None:
                continue
            try:
                images[key] = make()
            except CommsimError as error:
                problems.append(str(error))
            except Exception as error:
                logger.exception("drawing the %s failed", key)
                problems.append(f"the {key} cannot be drawn: {type(error).__name__}: {error}")
        return images, problems

    images, problems = solara.use_memo(draw, [data, output, rows, columns])
    for problem in problems:
        Message(problem, "warning")
    if columns is None:
        note("One swept parameter: no heatmap; its main effect is below.")
    with solara.Columns([1, 1]):
        for key in ("heatmap", "sensitivity"):
            if key in images:
                solara.Image(images[key], width="100%", classes=[f"commsim-{key}"])
    if "effects" in images:
        solara.Image(images["effects"], width="100%", classes=["commsim-effects"])

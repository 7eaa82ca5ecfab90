"""One live run of the model for the live page: the model, the outputs of every month so far, the map, and the
charts drawn from them. No solara here: the page holds a LiveRun and asks it to step and to draw.

Redrawing is kept cheap so a step with its redraw stays interactive at 20k households: the map redraws only its
moving layers (`district_map`), and the charts are SVG text built from the few outputs they show, appended from
`model.latest` each month.
"""

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from commsim.model.community import CommunityHealthModel
from commsim.model.metrics import BAND_LABELS
from commsim.results.formats import output_label
from commsim.scenario.district import read_district
from commsim.scenario.schema import Scenario
from commsim.ui import charts
from commsim.ui.charts import Series
from commsim.ui.district_map import DistrictMap

QUINTILE_COLOURS = ("#d7191c", "#fdae61", "#a6a6a6", "#abd9e9", "#2c7bb6")
BAND_COLOURS = ("#1a9641", "#a6d96a", "#fdae61", "#d7191c")


@dataclass(frozen=True)
class ChartSpec:
    """A live chart: its key, title, (column, colour) of each line (labelled as the output), and whether values
    are shares."""

    key: str
    title: str
    lines: tuple[tuple[str, str], ...]
    percent: bool = False


CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec(
        "mcpr",
        "Modern contraceptive prevalence",
        (("mcpr", "#1a9850"), ("unmet_need", "#d73027")),
        percent=True,
    ),
    ChartSpec(
        "flows",
        "New users and discontinuations per month",
        (("new_users", "#1f77b4"), ("discontinued", "#ff7f0e")),
    ),
    ChartSpec(
        "community",
        "Active women's groups and CHWs",
        (("active_groups", "#7b3294"), ("active_chws", "#0571b0")),
    ),
    ChartSpec(
        "trust",
        "Mean trust in services and awareness",
        (("mean_trust", "#8c564b"), ("mean_awareness", "#17becf")),
        percent=True,
    ),
    ChartSpec(
        "distance",
        "mCPR by distance to the nearest facility",
        tuple((f"mcpr_{b}", c) for b, c in zip(BAND_LABELS, BAND_COLOURS, strict=True)),
        percent=True,
    ),
    ChartSpec(
        "wealth",
        "mCPR by wealth quintile",
        tuple((f"mcpr_q{q}", QUINTILE_COLOURS[q - 1]) for q in range(1, 6)),
        percent=True,
    ),
)
COLUMNS: tuple[str, ...] = tuple(
    dict.fromkeys(
        ["mcpr", "users", "new_users", "active_groups", "active_chws", "cost_cumulative"]
        + [column for spec in CHARTS for column, _ in spec.lines]
    )
)


@dataclass
class LiveRun:
    """A model of one resolved scenario stepped month by month, with its history and its map.

    `label` names the run on the page; `settings` are the dotted keys it was built with (for the command line
    that repeats it); `previous` is the mCPR of the run this one replaced, drawn dashed for comparison."""

    scenario: Scenario
    label: str = ""
    settings: Mapping[str, Any] = field(default_factory=dict)
    previous: tuple[str, list[float]] | None = None
    backend: str = "numba"

    def __post_init__(self) -> None:
        self.model = CommunityHealthModel(self.scenario, backend=self.backend)
        self.history: dict[str, list[float]] = {column: [self.model.latest[column]] for column in COLUMNS}
        population = self.scenario.population
        rings = (
            ()
            if population.district is None
            else read_district(population.district, population.persons_per_household).boundary
        )
        self.map = DistrictMap(self.model.district, population.district_side_km, boundary=rings)
        self.lock = threading.Lock()

    @property
    def month(self) -> int:
        return self.model.month

    @property
    def horizon(self) -> int:
        return self.scenario.months

    @property
    def finished(self) -> bool:
        return self.model.month >= self.horizon

    @property
    def latest(self) -> dict[str, Any]:
        return self.model.latest

    def step(self) -> bool:
        """Advance one month (nothing at the horizon); True if it stepped."""
        with self.lock:
            if self.finished:
                return False
            self.model.step()
            latest = self.model.latest
            for column, values in self.history.items():
                values.append(latest[column])
            return True

    def map_png(self) -> bytes:
        """The map of the district now."""
        with self.lock:
            return self.map.render()

    def chart(self, spec: ChartSpec) -> str:
        """One live chart as SVG (the mCPR chart also shows the previous run's mCPR, dashed)."""
        lines = [Series(output_label(column), self.history[column], colour) for column, colour in spec.lines]
        if spec.key == "mcpr" and self.previous is not None:
            label, values = self.previous
            lines.append(Series(f"{output_label('mcpr')}, {label}", values, "#555555", dashed=True))
        return charts.line_chart(
            spec.key, spec.title, lines, horizon=self.horizon, month=self.month, percent=spec.percent
        )

    def charts(self) -> list[str]:
        """Every live chart as SVG."""
        return [self.chart(spec) for spec in CHARTS]

"""The district map of the live page, drawn fast enough to redraw every month.

The still parts (the district square, villages, the legend and axes) are drawn once per district into a
background; each month only the moving layers are drawn over a copy of it (matplotlib's blitting on the Agg
canvas) and the image is encoded as a PNG with fast compression. The layers: households coloured by state, as
pixels written straight into the image (a fixed sample of at most MAP_POINTS stands for a bigger district), women's
groups as rings sized by capacity, CHW posts by status, and facilities (red in a month they are stocked out).
Uses matplotlib without pyplot.
"""

import io
from typing import Any, NamedTuple

import numpy as np

from commsim.model.population import District
from commsim.model.state import CHW_ACTIVE, CHW_VACANT, SOURCE_CHW, SOURCE_NONE

MAP_POINTS = 20_000  # households drawn at most (as 2 x 2 pixel dots written straight into the image)
FIGSIZE, DPI = (7.6, 5.6), 90  # 684 x 504 px
CHW_RING_KM = 1.8  # CHW posts stand on a ring around their village centre
GROUP_RING_KM = 0.8  # several groups of a village stand on a ring (one group: at the centre)


class HouseholdState(NamedTuple):
    label: str
    colour: str


HOUSEHOLD_STATES: tuple[HouseholdState, ...] = (
    HouseholdState("using, from a facility", "#1a9850"),
    HouseholdState("using, from a CHW", "#66bd63"),
    HouseholdState("wants to wait or stop, not using", "#d73027"),
    HouseholdState("no need now", "#c8c8c8"),
)
GROUP_ACTIVE, GROUP_INACTIVE = "#7b3294", "#9a9a9a"
CHW_FP, CHW_OTHER, CHW_LEFT = "#0571b0", "#92c5de", "#ca0020"
FACILITY_OK, FACILITY_STOCKOUT = "#202020", "#e31a1c"


def _rgba(colours: list[str]) -> np.ndarray:
    from matplotlib.colors import to_rgba_array

    return to_rgba_array(colours)


def household_states(source: np.ndarray, need: np.ndarray) -> np.ndarray:
    """Index into HOUSEHOLD_STATES for each household: user from a facility or a CHW, unmet need, no need."""
    return np.where(source == SOURCE_CHW, 1, np.where(source > SOURCE_NONE, 0, np.where(need == 1, 2, 3))).astype(
        np.intp
    )


def sample(n: int, points: int = MAP_POINTS) -> np.ndarray:
    """Indices of the households drawn: evenly spaced, so each village keeps its share (homes are sorted by
    village) and the same homes are drawn every month."""
    return np.unique(np.linspace(0, n - 1, min(n, points)).astype(np.int64)) if n else np.zeros(0, np.int64)


def _ring(centre_x, centre_y, owner: np.ndarray, radius: float, *, alone_at_centre: bool) -> tuple[np.ndarray, ...]:
    """Positions of items on a ring around their owner's centre, evenly spaced per owner; an owner's only item
    stands at the centre if `alone_at_centre`."""
    order = np.argsort(owner, kind="stable")
    counts = np.bincount(owner, minlength=len(centre_x))
    first = np.cumsum(counts) - counts
    rank = np.empty(owner.size, np.int64)
    rank[order] = np.arange(owner.size) - first[owner[order]]
    k = counts[owner]
    angle = 2 * np.pi * rank / np.maximum(k, 1) + np.pi / 4
    r = np.where(k > 1, radius, 0.0) if alone_at_centre else np.full(owner.size, radius)
    return centre_x[owner] + r * np.cos(angle), centre_y[owner] + r * np.sin(angle)


class DistrictMap:
    """A map of one district; `render()` returns the PNG of its current state."""

    def __init__(
        self, district: District, side_km: float, points: int = MAP_POINTS, boundary: tuple[np.ndarray, ...] = ()
    ) -> None:
        """`boundary`: a district from files' boundary rings in km, drawn in place of the square."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.district = district
        hh, grp, chw, fac, vil = district
        self.drawn = sample(hh.source.size, points)
        self.fig = Figure(figsize=FIGSIZE, dpi=DPI)
        self.canvas = FigureCanvasAgg(self.fig)
        ax = self.fig.add_axes((0.06, 0.08, 0.58, 0.9))
        self.ax = ax
        margin = 0.03 * side_km
        ax.set_xlim(-margin, side_km + margin)
        ax.set_ylim(-margin, side_km + margin)
        ax.set_aspect("equal")
        ax.set_xlabel("km east", fontsize=8)
        ax.set_ylabel("km north", fontsize=8)
        ax.tick_params(labelsize=7)
        if boundary:
            for ring in boundary:
                ax.fill(ring[:, 0], ring[:, 1], facecolor="#fbfbf6", edgecolor="#777777", linewidth=1.0, zorder=0)
        else:
            ax.add_patch(_square(side_km))
        ax.scatter(
            vil.x,
            vil.y,
            s=np.sqrt(np.maximum(vil.n_households, 1)) * 6,
            facecolor="none",
            edgecolor="#e0e0e0",
            linewidths=0.8,
            zorder=1,
        )
        self.state_colours = (255 * _rgba([state.colour for state in HOUSEHOLD_STATES])).astype(np.uint8)
        vx, vy = vil.x.astype(float), vil.y.astype(float)
        gx, gy = _ring(vx, vy, grp.village.astype(np.int64), GROUP_RING_KM, alone_at_centre=True)
        self.groups = ax.scatter(gx, gy, s=np.zeros(gx.size), facecolor="none", zorder=3, animated=True)
        cx, cy = _ring(vx, vy, chw.village.astype(np.int64), CHW_RING_KM, alone_at_centre=False)
        self.chws = ax.scatter(cx, cy, s=np.zeros(cx.size), marker="^", linewidths=0, zorder=4, animated=True)
        self.facilities = ax.scatter(
            fac.x,
            fac.y,
            s=np.where(fac.level == 2, 90.0, 45.0),
            marker="s",
            edgecolor="white",
            linewidths=0.8,
            zorder=5,
            animated=True,
        )
        self._legend(hh.source.size)
        self.group_colours = _rgba([GROUP_ACTIVE, GROUP_INACTIVE])
        self.chw_colours = _rgba(["none", CHW_FP, CHW_OTHER, CHW_LEFT])
        self.facility_colours = _rgba([FACILITY_OK, FACILITY_STOCKOUT])
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.fig.bbox)
        self.home_colours = self.state_colours[household_states(hh.source[self.drawn], hh.need[self.drawn])]
        self.pixels = _pixels(ax, hh.x[self.drawn], hh.y[self.drawn], self.canvas.get_width_height())

    def _legend(self, n: int) -> None:
        from matplotlib.lines import Line2D

        def marker(label: str, colour, shape: str = "o", size: float = 6, face=None) -> Line2D:
            return Line2D(
                [],
                [],
                linestyle="none",
                marker=shape,
                markersize=size,
                markerfacecolor=face or colour,
                markeredgecolor=colour,
                label=label,
            )

        shown = self.drawn.size
        homes = [marker(state.label, state.colour, "s", 5) for state in HOUSEHOLD_STATES]
        others = [
            marker("group meeting (size: capacity)", GROUP_ACTIVE, "o", 9, "none"),
            marker("group not meeting", GROUP_INACTIVE, "o", 6, "none"),
            Line2D(
                [],
                [],
                linestyle="none",
                marker="o",
                markersize=8,
                markerfacecolor="none",
                markeredgecolor=GROUP_ACTIVE,
                markeredgewidth=2.2,
                label="group linked to CHW / facility",
            ),
            marker("CHW, FP-trained", CHW_FP, "^"),
            marker("CHW, not FP-trained", CHW_OTHER, "^"),
            marker("CHW post vacant (left)", CHW_LEFT, "^"),
            marker("facility (large: referral)", FACILITY_OK, "s", 7),
            marker("facility out of a method", FACILITY_STOCKOUT, "s", 7),
            marker("village", "#d0d0d0", "o", 9, "none"),
        ]
        title = f"households ({shown:,} of {n:,} drawn)" if shown < n else "households"
        first = self.fig.legend(
            handles=homes,
            loc="upper left",
            bbox_to_anchor=(0.66, 0.95),
            fontsize=7.5,
            title=title,
            title_fontsize=8,
            alignment="left",
            frameon=False,
        )
        self.fig.add_artist(first)
        self.fig.legend(handles=others, loc="upper left", bbox_to_anchor=(0.66, 0.62), fontsize=7.5, frameon=False)

    def update(self) -> None:
        """Set the moving layers to the district's current state."""
        d = self.district
        hh, grp, chw, fac = d.households, d.groups, d.chws, d.facilities
        drawn = self.drawn
        self.home_colours = self.state_colours[household_states(hh.source[drawn], hh.need[drawn])]
        active = grp.active.astype(bool)
        self.groups.set_sizes(12.0 + 260.0 * grp.capacity)
        self.groups.set_edgecolor(self.group_colours[np.where(active, 0, 1)])
        self.groups.set_linewidths(np.where((grp.linked_chw | grp.linked_facility) > 0, 1.8, 0.8))
        kind = np.where(
            chw.status == CHW_ACTIVE, np.where(chw.fp_trained == 1, 1, 2), np.where(chw.status == CHW_VACANT, 3, 0)
        )
        self.chws.set_facecolor(self.chw_colours[kind])
        self.chws.set_sizes(np.where(kind > 0, 28.0, 0.0))
        self.facilities.set_facecolor(self.facility_colours[fac.stocked_out.astype(np.intp)])

    def render(self) -> bytes:
        """The map now, as PNG bytes."""
        from PIL import Image

        self.update()
        self.canvas.restore_region(self.background)
        width, height = self.canvas.get_width_height()
        rgba = np.asarray(self.canvas.buffer_rgba()).reshape(height * width, 4)
        for offset in self.pixels.offsets:
            rgba[self.pixels.index + offset] = self.home_colours
        for artist in (self.groups, self.chws, self.facilities):
            self.ax.draw_artist(artist)
        image = Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="PNG", compress_level=1)
        return buffer.getvalue()


class Pixels(NamedTuple):
    """Where the drawn households go in the image: flat pixel indices of each dot's corner, and the offsets of
    the dot's other pixels."""

    index: np.ndarray
    offsets: tuple[int, ...]


def _pixels(ax, x: np.ndarray, y: np.ndarray, size: tuple[int, int]) -> Pixels:
    """Flat indices into the RGBA image of 2 x 2 dots at data positions (x, y), kept inside the image."""
    width, height = size
    xy = ax.transData.transform(np.column_stack([x, y]).astype(float))
    col = np.clip(np.floor(xy[:, 0]).astype(np.int64), 0, width - 2)
    row = np.clip(np.floor(height - xy[:, 1]).astype(np.int64), 0, height - 2)
    return Pixels(row * width + col, (0, 1, width, width + 1))


def _square(side_km: float) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((0, 0), side_km, side_km, facecolor="#fbfbf6", edgecolor="#999999", linewidth=0.8, zorder=0)

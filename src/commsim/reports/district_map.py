"""The map `commsim district check` draws: settlements sized by their households, facilities by level, the
boundary, in the district's km with a scale bar (matplotlib, no display needed)."""

from pathlib import Path

import numpy as np

from commsim.reports.run_summary import write_png
from commsim.scenario.district import District

MARKERS = {1: ("^", "tab:blue", "first-level facility"), 2: ("s", "tab:red", "referral facility")}
NAMED_BELOW = 40  # facilities are named on the map when there are fewer than this


def write_district_map(district: District, path: Path) -> Path:
    """Draw the district and save it as a PNG at `path`; returns the path."""
    from matplotlib.figure import Figure

    aspect = max(district.height_km, 1.0) / max(district.width_km, 1.0)
    figure = Figure(figsize=(9.0, min(12.0, max(4.0, 9.0 * aspect))), layout="constrained")
    axis = figure.add_subplot()
    for ring in district.boundary:
        axis.plot(ring[:, 0], ring[:, 1], color="0.4", linewidth=1.0)
    sizes = 4.0 + 60.0 * np.sqrt(district.households / max(district.households.max(), 1))
    axis.scatter(district.sx, district.sy, s=sizes, color="tab:green", alpha=0.5, label="settlement (by households)")
    for level, (marker, colour, label) in MARKERS.items():
        mine = district.level == level
        axis.scatter(district.fx[mine], district.fy[mine], marker=marker, s=60, color=colour, label=label)
    if district.fx.size < NAMED_BELOW:
        for x, y, name in zip(district.fx, district.fy, district.facility_names, strict=True):
            axis.annotate(str(name), (x, y), fontsize=7, xytext=(4, 4), textcoords="offset points")
    bar = _scale_km(district.width_km)
    x0, y0 = 0.02 * district.width_km, -0.04 * max(district.height_km, 1.0)
    axis.plot([x0, x0 + bar], [y0, y0], color="black", linewidth=3)
    axis.annotate(f"{bar:g} km", (x0 + bar / 2, y0), xytext=(0, 4), textcoords="offset points", ha="center")
    axis.set_aspect("equal")
    axis.set_xlabel(f"km east ({district.crs})")
    axis.set_ylabel("km north")
    title = f"{district.name}: {district.sx.size:,} settlements, {int(district.households.sum()):,} households"
    axis.set_title(title + (" (ILLUSTRATIVE, not real data)" if district.illustrative else ""))
    axis.legend(fontsize=8, loc="upper right")
    return write_png(figure, path)


def _scale_km(width: float) -> float:
    """A round length about a fifth of the width: 1, 2 or 5 times a power of ten."""
    target = max(width / 5.0, 0.1)
    power = 10.0 ** np.floor(np.log10(target))
    return float(max(step * power for step in (1.0, 2.0, 5.0) if step * power <= target))

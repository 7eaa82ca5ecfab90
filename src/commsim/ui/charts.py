"""Small line charts as inline SVG text, for the live page: cheap to build every month (a few hundred points),
drawn by the browser itself (no chart library to load, so nothing to fetch offline), and easy to inspect in
tests (each series is a `<polyline data-series=...>`; the chart carries `data-chart` and `data-month`).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 400, 210
LEFT, RIGHT, TOP, BOTTOM = 46, 10, 40, 24


@dataclass(frozen=True)
class Series:
    """One line: its label, values by month (from month 0), colour, and whether it is dashed (a previous run)."""

    label: str
    values: Sequence[float]
    colour: str
    dashed: bool = False


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k at or above `value` (at least a tiny positive number)."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value * (1 - 1e-12):
            return step * power
    return 10 * power


def _tick_text(value: float, percent: bool) -> str:
    if percent:
        return f"{100 * value:.0f}%" if value * 100 >= 1 or value == 0 else f"{100 * value:.1f}%"
    if abs(value) >= 1000:
        return f"{value / 1000:.0f}k" if value % 1000 == 0 else f"{value / 1000:.1f}k"
    return f"{value:g}"


def _month_ticks(horizon: int) -> list[int]:
    step = next(s for s in (1, 2, 3, 6, 12, 24, 60, 120, 240) if horizon / s <= 8)
    return list(range(0, horizon + 1, step))


def line_chart(
    key: str,
    title: str,
    series: Sequence[Series],
    *,
    horizon: int,
    month: int,
    percent: bool = False,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> str:
    """An SVG line chart of `series` over months 0..horizon, the y axis from 0 to a round number above the
    largest value shown. `key` names the chart for pages and tests; `month` is the month it shows."""
    horizon = max(int(horizon), 1)
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    finite = [v for s in series for v in s.values if v is not None and math.isfinite(v)]
    top = 4 * nice_ceiling(max(finite, default=0.0) * 1.05 / 4)  # four round steps

    def x(m: float) -> float:
        return LEFT + plot_w * m / horizon

    def y(v: float) -> float:
        return TOP + plot_h * (1 - v / top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'class="commsim-chart" data-chart="{escape(key)}" data-month="{month}" aria-label="{escape(title)}" '
        'style="font-family: sans-serif; max-width: 520px">',
        f"<title>{escape(title)}</title>",
        f'<text x="{LEFT}" y="14" font-size="12" font-weight="bold">{escape(title)}</text>',
    ]
    for tick in (top * k / 4 for k in range(5)):
        ty = y(tick)
        parts.append(f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#e6e6e6"/>')
        parts.append(
            f'<text x="{LEFT - 4}" y="{ty + 3:.1f}" font-size="9" text-anchor="end" fill="#555">'
            f"{_tick_text(tick, percent)}</text>"
        )
    for m in _month_ticks(horizon):
        parts.append(
            f'<text x="{x(m):.1f}" y="{height - BOTTOM + 12}" font-size="9" text-anchor="middle" fill="#555">{m}</text>'
        )
    parts.append(f'<text x="{width - RIGHT}" y="{height - 2}" font-size="9" text-anchor="end" fill="#555">month</text>')
    parts.append(
        f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}" stroke="#999"/>'
        f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" stroke="#999"/>'
    )
    legend_x = LEFT
    for s in series:
        points = " ".join(
            f"{x(m):.1f},{y(v):.1f}" for m, v in enumerate(s.values) if v is not None and math.isfinite(v)
        )
        dash = ' stroke-dasharray="4 3" opacity="0.7"' if s.dashed else ""
        parts.append(
            f'<polyline data-series="{escape(s.label)}" points="{points}" fill="none" stroke="{s.colour}" '
            f'stroke-width="1.6"{dash}/>'
        )
        label = escape(s.label)
        parts.append(
            f'<line x1="{legend_x}" x2="{legend_x + 12}" y1="27" y2="27" stroke="{s.colour}" stroke-width="2"{dash}/>'
            f'<text x="{legend_x + 15}" y="30" font-size="9">{label}</text>'
        )
        legend_x += 22 + 5.2 * len(s.label)
    parts.append("</svg>")
    return "".join(parts)

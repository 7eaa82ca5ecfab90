"""The validation page: one self-contained HTML file with the table of facts, a small plot per fact and the table
of published numbers."""

import base64
import io
from datetime import date
from pathlib import Path

from commsim import __version__, outfiles
from commsim.evidence.facts import FactResult, Plot
from commsim.evidence.published import PublishedResult


def plot_png(plot: Plot, title: str) -> str:
    """A fact's plot as a base64 PNG (matplotlib without pyplot)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.0, 2.8), layout="constrained")
    axis = fig.subplots()
    if plot.kind == "line":
        for label, values in plot.series.items():
            axis.plot(plot.x, values, label=label)
    else:
        width = 0.8 / max(len(plot.series), 1)
        for n, (label, values) in enumerate(plot.series.items()):
            axis.bar([i + n * width for i in range(len(plot.x))], values, width=width, label=label)
        axis.set_xticks([i + width * (len(plot.series) - 1) / 2 for i in range(len(plot.x))], plot.x)
    axis.set_xlabel(plot.xlabel)
    axis.set_ylabel(plot.ylabel)
    axis.set_title(title, fontsize="small")
    axis.legend(fontsize="small")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def write_validation(
    results: list[FactResult],
    numbers: list[PublishedResult],
    path: Path,
    *,
    quick: bool,
    seeds: tuple[int, ...],
) -> Path:
    """Write the page to `path` (parents created); returns it."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("commsim.reports", "templates"), autoescape=select_autoescape(("html", "j2"))
    )
    html = env.get_template("validate.html.j2").render(
        facts=results,
        passed=sum(r.passed for r in results),
        numbers=numbers,
        numbers_passed=sum(n.passed for n in numbers),
        images=[plot_png(r.plot, f"{r.number}. {r.title}") for r in results],
        version=__version__,
        mode="quick" if quick else "full",
        seeds=f"seeds {seeds[0]}-{seeds[-1]}",
        today=date.today().isoformat(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    return outfiles.write_text(path, html)

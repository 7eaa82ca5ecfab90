"""What the benchmarks share: a row of the printed table, the table itself, and which source was measured."""

import hashlib
import subprocess
import sys
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Row:
    """One line of a benchmark's table: its group number, what is measured, the figure, a target and a note."""

    number: str
    measure: str
    figure: str
    target: str = ""
    ok: bool | None = None
    note: str = ""


def render(rows: list[Row], title: str, caption: str) -> None:
    """Print the rows as one Rich table, a section per group (170 columns wide when not on a terminal)."""
    width = None if sys.stdout.isatty() else 170
    console = Console(width=width, highlight=False)
    table = Table(title=title, caption=caption, show_lines=False, expand=False)
    table.add_column("#", justify="right", style="dim")
    table.add_column("measure")
    table.add_column("figure", justify="right")
    table.add_column("target", justify="right")
    table.add_column("ok", justify="center")
    table.add_column("notes", style="dim")
    last = None
    for row in rows:
        if last is not None and row.number != last:
            table.add_section()
        last = row.number
        ok = Text("") if row.ok is None else Text("yes", "green") if row.ok else Text("NO", "bold red")
        table.add_row(row.number.rstrip("p"), row.measure, row.figure, row.target, ok, row.note)
    console.print(table)


def source_state() -> str:
    """The commit measured, and a hash of uncommitted changes in src/ (tracked diffs and untracked files)."""
    spec = find_spec("commsim")
    package = Path(spec.origin).resolve().parent if spec and spec.origin else None
    if package is not None and not package.is_relative_to(ROOT / "src"):
        return f"source: commsim imported from {package}, not from this checkout"

    def git(*args: str) -> bytes:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, check=True).stdout

    try:
        head = git("rev-parse", "--short", "HEAD").decode().strip()
        diff = git("diff", "HEAD", "--", "src")
        untracked = git("ls-files", "--others", "--exclude-standard", "--", "src").decode().split()
    except (OSError, subprocess.CalledProcessError):
        return "source: unknown (no git)"
    digest = hashlib.sha1(diff)
    for name in sorted(untracked):
        digest.update(name.encode() + (ROOT / name).read_bytes())
    dirty = f" + uncommitted src/ changes (hash {digest.hexdigest()[:8]})" if diff.strip() or untracked else ""
    return f"source: {head}{dirty}"

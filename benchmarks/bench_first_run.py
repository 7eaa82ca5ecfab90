"""A newcomer's first run against a later one: `commsim run scenarios/baseline.toml` with an empty Numba cache
(a fresh NUMBA_CACHE_DIR), then the same command with the cache that run left, each as a subprocess.

    .venv/bin/python benchmarks/bench_first_run.py [--rounds N]

Prints one table (progress on stderr): the wall time the run prints (the kernels' compile is inside it) and the
process's own (start to exit, imports included), cold and warm, the best and the median of the rounds (cold and
warm alternate, so a busy neighbour hits both alike), and whether the cold run said it was compiling.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console

from benchtable import ROOT, Row, render, source_state

TARGET_COLD_S = 15.0
MESSAGE = "compiling the model's kernels"
progress = Console(stderr=True, highlight=False, log_path=False)


def run_cli(cache: Path, out: Path) -> tuple[float, float, bool]:
    """One `commsim run scenarios/baseline.toml` on the Numba cache `cache`: (the wall time it prints, the
    process's wall time, whether it said it was compiling)."""
    command = [sys.executable, "-m", "commsim", "run", "scenarios/baseline.toml"]
    command += ["--db", f"sqlite:///{out}.db", "--out", str(out)]
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    process = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"commsim run failed:\n{done.stderr[-2000:]}")
    printed = re.search(r"wall time ([0-9.]+) s", done.stdout)
    if printed is None:
        raise RuntimeError(f"no 'wall time' in the output:\n{done.stdout[-2000:]}")
    return float(printed.group(1)), process, MESSAGE in done.stderr


def figures(values: list[float]) -> str:
    return f"{min(values):.1f} s (median {statistics.median(values):.1f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="cold + warm pairs (default 3)")
    args = parser.parse_args(argv)
    load_start = os.getloadavg()
    source = source_state()
    cold: list[tuple[float, float, bool]] = []
    warm: list[tuple[float, float, bool]] = []
    for k in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="commsim-first-run-") as tmp:
            progress.log(f"round {k + 1} of {args.rounds}: cold, then warm")
            cold.append(run_cli(Path(tmp) / "cache", Path(tmp) / "cold"))
            warm.append(run_cli(Path(tmp) / "cache", Path(tmp) / "warm"))
    best_cold = min(wall for wall, _, _ in cold)
    rows = [
        Row(
            "1",
            "first run, empty cache: wall time it prints",
            figures([wall for wall, _, _ in cold]),
            f"< {TARGET_COLD_S:.0f} s",
            best_cold < TARGET_COLD_S,
            f"process {figures([p for _, p, _ in cold])}; said it was compiling in {sum(s for *_, s in cold)} of "
            f"{len(cold)} rounds",
        ),
        Row(
            "1",
            "later run, cache warm: wall time it prints",
            figures([wall for wall, _, _ in warm]),
            note=f"process {figures([p for _, p, _ in warm])}; said it was compiling in {sum(s for *_, s in warm)}",
        ),
    ]
    load_end = os.getloadavg()
    caption = (
        "`python -m commsim run scenarios/baseline.toml --db sqlite:///<tmp> --out <tmp>` with NUMBA_CACHE_DIR "
        f"a fresh directory (cold), then that directory again (warm); {args.rounds} rounds. Load average (1 min) "
        f"{load_start[0]:.2f} at start, {load_end[0]:.2f} at end; {source}."
    )
    render(rows, f"commsim first run ({os.cpu_count()} CPUs)", caption)
    return 0


if __name__ == "__main__":
    sys.exit(main())

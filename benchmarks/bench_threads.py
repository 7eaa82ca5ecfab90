"""How the model's threading policy fares on a quiet machine and next to a busy neighbour (one core held).

    .venv/bin/python benchmarks/bench_threads.py [--rounds 2] [--seconds 1.5] [--only NAME ...]

Each option runs in its own process (the threading layer and OpenMP's wait policy are fixed once the runtime
loads): a 1M-household model and the anchor (benchmarks/anchor.py) are timed serial and on the default thread
count, interleaved, in rounds that alternate the machine as found and with a busy neighbour that holds a core
(benchmarks/neighbour.py); each round notes the cores other processes kept busy, so a "quiet" round that was not
shows as such. The figure that matters is default / serial: above 1 on a quiet machine, and never below 0.9 next
to the neighbour. Options: the thread policy on (kernel_threads) or off (always numba's thread count), OpenMP's
spin count, the workqueue threading layer. See benchmarks/README.md for the figures measured.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console

from benchtable import ROOT, Row, render, source_state

HERE = Path(__file__).resolve().parent
OMP = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "NUMBA_THREADING_LAYER")

# name -> (environment set in the child, the model's own thread policy on): configure_threads keeps values
# that are set; with the policy off (OTHERS_SPARE = inf) the kernels always run on numba's thread count
OPTIONS: dict[str, tuple[dict[str, str], bool]] = {
    "model default": ({}, True),
    "policy, omp passive, spin 200000": ({"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "200000"}, True),
    "fixed threads, omp passive, spin 200000": ({"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "200000"}, False),
    "fixed threads, omp passive, spin 20000": ({"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "20000"}, False),
    "fixed threads, omp passive, spin 3000": ({"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "3000"}, False),
    "fixed threads, omp passive, spin 1000": ({"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "1000"}, False),
    "fixed threads, omp passive, spin 300": ({"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "300"}, False),
    "fixed threads, omp passive, spin 100": ({"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "100"}, False),
    "fixed threads, omp passive, spin 0": ({"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "0"}, False),
    "fixed threads, workqueue": ({"NUMBA_THREADING_LAYER": "workqueue"}, False),
}

CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
import numba
from anchor import Anchor
from bench_model import population
from neighbour import BusyNeighbour, OthersLoad
from commsim.model.community import CommunityHealthModel

rounds, seconds, policy = int(sys.argv[2]), float(sys.argv[3]), sys.argv[4] == "1"
import commsim.model.community as community
from contextlib import contextmanager
if not policy:
    community.OTHERS_SPARE = float("inf")
used = []
kernel_threads = community.kernel_threads


@contextmanager
def recording(n):  # the thread count each month's kernels ran on
    with kernel_threads(n):
        used.append(numba.get_num_threads())
        yield


community.kernel_threads = recording
default = numba.get_num_threads()
model = CommunityHealthModel(population(1_000_000), rng=1)
anchor = Anchor(1_000_000)
for _ in range(2):
    model.step()
    anchor.step()


def time_model():
    model.step()  # settle after a switch
    used.clear()
    months, start = 0, time.perf_counter()
    while months < 3 or time.perf_counter() - start < seconds:
        model.step()
        months += 1
    rate = 1_000_000 * months / (time.perf_counter() - start)
    return rate, sum(used) / len(used)


def time_anchor():
    anchor.step()
    months, seconds_ = anchor.time_steps(10, seconds / 2)
    return 1_000_000 * months / seconds_


out = {"layer": None, "default": default, "quiet": [], "busy": [], "cores": [], "others": {"quiet": [], "busy": []}}
for _ in range(rounds):
    for condition in ("quiet", "busy"):
        figures = {}
        neighbour = BusyNeighbour() if condition == "busy" else None
        if neighbour:
            neighbour.__enter__()
        try:
            with OthersLoad(neighbour) as load:
                for label, threads in (("serial", 1), ("default", default)):
                    numba.set_num_threads(threads)
                    figures[f"model {label}"], figures[f"threads {label}"] = time_model()
                    figures[f"anchor {label}"] = time_anchor()
        finally:
            if neighbour:
                neighbour.stop()
                out["cores"].append(neighbour.cores)
        out["others"][condition].append(load.cores)
        out[condition].append(figures)
out["layer"] = numba.threading_layer()
print(json.dumps(out))
"""


def run_option(name: str, rounds: int, seconds: float) -> dict:
    env_set, policy = OPTIONS[name]
    env = {k: v for k, v in os.environ.items() if k not in OMP}
    env.update(env_set)
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(HERE), str(rounds), str(seconds), "1" if policy else "0"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{name}: child failed: {proc.stderr.strip()[-600:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def ratios(rounds: list[dict[str, float]], kind: str) -> list[float]:
    return [r[f"{kind} default"] / r[f"{kind} serial"] for r in rounds]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="as-found/busy rounds per option (default 2)")
    parser.add_argument("--seconds", type=float, default=1.5, help="seconds per model timing (default 1.5)")
    parser.add_argument("--only", nargs="*", help="run only these options (by name)")
    args = parser.parse_args(argv)
    progress = Console(stderr=True, highlight=False, log_path=False)
    t_start = time.perf_counter()
    load_start = os.getloadavg()
    rows: list[Row] = []
    names = args.only or list(OPTIONS)
    for i, name in enumerate(names, 1):
        progress.log(f"{name} ({i}/{len(names)})")
        r = run_option(name, args.rounds, args.seconds)
        for condition in ("quiet", "busy"):
            for kind in ("model", "anchor"):
                values = ratios(r[condition], kind)
                figure = min(values) if condition == "busy" else max(values)
                target, ok = ("", None)
                if kind == "model":
                    target, ok = (">= 0.9", figure >= 0.9) if condition == "busy" else ("> 1", figure > 1)
                rates = [f"{x[f'{kind} serial'] / 1e6:.0f}/{x[f'{kind} default'] / 1e6:.0f}" for x in r[condition]]
                per_round = ", ".join(f"{v:.2f}" for v in values)
                note = f"per round {per_round}; M hh-months/s serial/default {', '.join(rates)}"
                if condition == "busy":
                    note += f"; neighbour held {', '.join(f'{c:.2f}' for c in r['cores'])} cores"
                note += f"; other processes {', '.join(f'{c:.2f}' for c in r['others'][condition])} cores"
                if kind == "model":
                    used = ", ".join(f"{x['threads default']:.2f}" for x in r[condition])
                    note += f"; threads the kernels ran on (default, mean) {used}"
                label = "busy neighbour, worst round" if condition == "busy" else "as found, best round"
                if condition == "quiet" and max(r["others"]["quiet"]) > 0.25:
                    note += " (NB the machine was not quiet: other processes held a core)"
                rows.append(
                    Row(
                        str(i),
                        f"{name} ({r['layer']}, {r['default']} threads): {kind} default/serial, {label}",
                        f"{figure:.2f}",
                        target,
                        ok,
                        note,
                    )
                )
    load_end = os.getloadavg()
    caption = (
        f"1M households; {args.rounds} rounds of as found (no neighbour of ours) then busy neighbour, "
        f"{args.seconds:g} s per model timing"
        f". Wall {time.perf_counter() - t_start:,.0f} s; load "
        f"average {load_start[0]:.2f} at start, {load_end[0]:.2f} at end; {source_state()}."
    )
    render(rows, "commsim threading policy: default / serial, as found and next to a busy neighbour", caption)
    return 0


if __name__ == "__main__":
    sys.exit(main())

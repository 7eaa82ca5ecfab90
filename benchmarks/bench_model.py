"""Benchmark the commsim model: throughput of a full month, scaling, compile time, memory, end-to-end run.

    .venv/bin/python benchmarks/bench_model.py [--quick] [--max-households N]

Prints one Rich table (progress goes to stderr). Serial and 2-thread figures are measured in the same process,
interleaved, because the machine is shared and noisy: compare figures of one run, not across runs. At 1M
households the model is measured against a machine anchor (benchmarks/anchor.py, timed right after each of the
model's timings) and, serial against the default thread count, next to a busy neighbour that holds a core
(benchmarks/neighbour.py). See benchmarks/README.md for what each row means.
"""

import argparse
import gc
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from rich.console import Console

from anchor import Anchor
from benchtable import ROOT, Row, render, source_state
from neighbour import BusyNeighbour, OthersLoad

BASELINE_TOML = ROOT / "scenarios" / "baseline.toml"
SIZES = (100_000, 1_000_000, 10_000_000)
TWIN_SIZE = 10_000
LONG_RUN_MONTHS = 120
LONG_RUN_BUDGET_S = 240.0  # full mode runs 10M x 120 months for real only if the estimate is below this

TARGET_RATIO = 100.0
TARGET_RATE_1M = 40e6
TARGET_ANCHOR_RATIO = 0.30  # the model's 1M rate on 2 threads / the anchor's on 2 threads
TARGET_LONG_RUN_S = 40.0
TARGET_BYTES = 96
TARGET_BASELINE_S = 4.0
TARGET_BUSY_RATIO = 0.9  # default threads / serial at 1M while a busy neighbour holds a core
ANCHOR_SIZE = 1_000_000

progress = Console(stderr=True, highlight=False, log_path=False)


def population(n: int) -> dict[str, Any]:
    """A district of n households at the shipped densities (the baseline's: 250 households per village, 2,500 per
    facility, 5.6 per km2), which the scenario now derives from the households alone."""
    return {"population": {"households": n}}


# --- subprocess children -------------------------------------------------------------------------------------

CHILD_COMPILE = """
import json, sys, time
t0 = time.perf_counter()
from commsim.model.community import CommunityHealthModel
t_import = time.perf_counter()
from numba.core import event


class TopLevel(event.Listener):
    # seconds per top-level compilation (a kernel's time includes the rules compiled into it)
    def __init__(self):
        self.depth, self.since, self.spans = 0, 0.0, {}

    def on_start(self, ev):
        self.depth += 1
        if self.depth == 1:
            self.since = time.perf_counter()

    def on_end(self, ev):
        self.depth -= 1
        if self.depth == 0:
            name = ev.data["dispatcher"].py_func.__name__
            self.spans[name] = self.spans.get(name, 0.0) + time.perf_counter() - self.since


listener = TopLevel()
event.register("numba:compile", listener)
pop = json.loads(sys.argv[1])
model = CommunityHealthModel(pop, rng=1)
model.step()
t_first = time.perf_counter()
model = CommunityHealthModel(pop, rng=1)
model.step()
t_second = time.perf_counter()
result = {"import": t_import - t0, "first": t_first - t_import, "second": t_second - t_first}
print(json.dumps({**result, "kernels": listener.spans}))
"""

CHILD_RSS = """
import gc, json, resource, sys
def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
from commsim.model.community import CommunityHealthModel
pop = json.loads(sys.argv[1])
warm = CommunityHealthModel(json.loads(sys.argv[2]), rng=1)
warm.step()  # load the kernels (and anything else imported lazily) before the baseline reading
del warm
gc.collect()
before = rss()
model = CommunityHealthModel(pop, rng=1)
built = rss()
model.step()
stepped = rss()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
gc.collect()
try:  # glibc keeps the freed build temporaries; malloc_trim hands them back
    import ctypes
    ctypes.CDLL(None).malloc_trim(0)
    trimmed = rss()
except (OSError, AttributeError):
    trimmed = None
out = {"before": before, "built": built, "stepped": stepped, "trimmed": trimmed, "peak": peak}
print(json.dumps(out))
"""


def run_child(code: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a child Python snippet; it prints one JSON line last."""
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({proc.returncode}): {proc.stderr.strip()[-400:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- rows ----------------------------------------------------------------------------------------------------


def rate_text(rate: float) -> str:
    if rate >= 1e6:
        return f"{rate / 1e6:,.2f} M hh-months/s"
    return f"{rate / 1e3:,.1f} k hh-months/s"


def size_text(n: int) -> str:
    return f"{n / 1e6:g}M" if n >= 1_000_000 else f"{n / 1e3:g}k"


def thread_label(k: int) -> str:
    return "serial" if k == 1 else f"{k} threads"


# --- timing --------------------------------------------------------------------------------------------------


@dataclass
class Timing:
    threads: int
    months: int
    seconds: float
    households: int
    phases: dict[str, float]

    @property
    def rate(self) -> float:
        return self.households * self.months / self.seconds

    @property
    def per_month(self) -> float:
        return self.seconds / self.months


def time_steps(model: Any, threads: int, min_months: int, min_seconds: float, max_months: int) -> Timing:
    """Step until both at least min_months and min_seconds are done (at most max_months)."""
    for phase in model.phase_seconds:
        model.phase_seconds[phase] = 0.0
    months = 0
    start = time.perf_counter()
    while True:
        model.step()
        months += 1
        elapsed = time.perf_counter() - start
        if months >= max_months or (months >= min_months and elapsed >= min_seconds):
            break
    n = int(model.district.households.source.size)
    return Timing(threads, months, elapsed, n, dict(model.phase_seconds))


def time_anchor(anchor: Anchor, threads: int, min_seconds: float) -> Timing:
    """The anchor's months after one untimed month (at least 10 months and min_seconds)."""
    anchor.step()
    months, seconds = anchor.time_steps(10, min_seconds)
    return Timing(threads, months, seconds, anchor.n, {})


def measure_numba(
    model: Any,
    thread_counts: list[int],
    rounds: int,
    min_months: int,
    min_seconds: float,
    max_months: int,
    settle: bool = True,
    anchor: Anchor | None = None,
    anchored: dict[int, list[Timing]] | None = None,
) -> dict[int, list[Timing]]:
    """Interleaved rounds: serial, 2 threads, serial, 2 threads... so that noise hits both alike. With an anchor,
    each model timing is followed by the anchor's on the same thread count (into `anchored`)."""
    import numba

    out: dict[int, list[Timing]] = {k: [] for k in thread_counts}
    for _ in range(rounds):
        for k in thread_counts:
            numba.set_num_threads(k)
            if settle:
                model.step()  # one untimed month after switching
            out[k].append(time_steps(model, k, min_months, min_seconds, max_months))
            if anchor is not None and anchored is not None:
                anchored.setdefault(k, []).append(time_anchor(anchor, k, min_seconds / 2))
    numba.set_num_threads(max(thread_counts))
    return out


@contextmanager
def fixed_threads() -> Iterator[None]:
    """The kernels run on the thread count set: the model's own choice, which leaves a core to other processes
    that keep one busy (kernel_threads, OTHERS_SPARE), is off; rows 1 and 2 measure thread counts, row 6 that
    choice."""
    import commsim.model.community as community

    spare = getattr(community, "OTHERS_SPARE", None)
    if spare is None:
        yield
        return
    community.OTHERS_SPARE = math.inf
    try:
        yield
    finally:
        community.OTHERS_SPARE = spare


@contextmanager
def thread_log() -> Iterator[list[int]]:
    """The thread count the model's kernels ran on, once per month (and per build), as kernel_threads set it."""
    import numba

    import commsim.model.community as community

    original, log = community.kernel_threads, []

    @contextmanager
    def logged(n_households: int) -> Iterator[None]:
        with original(n_households):
            log.append(numba.get_num_threads())
            yield

    community.kernel_threads = logged
    try:
        yield log
    finally:
        community.kernel_threads = original


def best(timings: list[Timing]) -> Timing:
    return max(timings, key=lambda t: t.rate)


def spread_note(timings: list[Timing]) -> str:
    b = best(timings)
    note = f"{b.months} months, {b.per_month * 1e3:,.1f} ms/month"
    if len(timings) > 1:
        note += (
            f"; best of {len(timings)} rounds (others {', '.join(rate_text(t.rate) for t in timings if t is not b)})"
        )
    return note


def serial_note(n: int) -> str:
    """The model may step small districts on one thread whatever numba.set_num_threads says."""
    import commsim.model.community

    limit = getattr(commsim.model.community, "SERIAL_BELOW", 0)
    return f"; NB the model steps districts below {limit:,} households on 1 thread (SERIAL_BELOW)" if n < limit else ""


def stage(text: str) -> None:
    progress.log(text)


# --- the benchmark -------------------------------------------------------------------------------------------


def bench_compile(rows: list[Row]) -> None:
    stage("compile: cold child (fresh NUMBA_CACHE_DIR), then cached child (same dir)")
    pop = json.dumps(population(20_000))
    with tempfile.TemporaryDirectory(prefix="commsim-numba-cache-") as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        try:
            cold = run_child(CHILD_COMPILE, pop, env=env)
            cached = run_child(CHILD_COMPILE, pop, env=env)
        except RuntimeError as error:
            rows.append(Row("3", "compile time", "failed", note=str(error)))
            return
    for label, result in (("cold (empty cache)", cold), ("cached (second process, same cache)", cached)):
        overhead = result["first"] - result["second"]
        total = result["import"] + result["first"]
        warm = result["import"] + result["second"]
        kernels = sorted(result["kernels"].items(), key=lambda kv: -kv[1])
        by_kernel = ", ".join(f"{name} {sec:.1f}" for name, sec in kernels[:4]) or "none compiled (cache hits)"
        rows.append(
            Row(
                "3",
                f"compile: {label}",
                f"{overhead:,.2f} s",
                note=f"import->end of first step {total:,.2f} s minus the same warm {warm:,.2f} s "
                f"(import {result['import']:.2f} s); 20k households; by kernel (s): {by_kernel}",
            )
        )


def bench_memory(rows: list[Row], max_households: int) -> None:
    from commsim.model.state import Households, bytes_per_row

    per_row = bytes_per_row(Households)
    rows.append(
        Row(
            "4",
            "state bytes per household (bytes_per_row(Households))",
            f"{per_row} B",
            f"<= {TARGET_BYTES} B",
            per_row <= TARGET_BYTES,
            f"{per_row * 10_000_000 / 2**20:,.0f} MiB of household state at 10M",
        )
    )
    n = 1_000_000
    if n > max_households or not Path("/proc/self/status").exists():
        rows.append(Row("4", "RSS growth per household at 1M", "skipped", note="--max-households or no /proc"))
        return
    stage("memory: RSS child at 1M households")
    try:
        r = run_child(CHILD_RSS, json.dumps(population(n)), json.dumps(population(TWIN_SIZE)))
    except RuntimeError as error:
        rows.append(Row("4", "RSS growth per household at 1M", "failed", note=str(error)))
        return
    untrimmed = (r["stepped"] - r["before"]) / n
    if r["trimmed"] is not None:
        figure = f"{(r['trimmed'] - r['before']) / n:,.0f} B"
        note = f"after build + 1 step and malloc_trim(0); without the trim {untrimmed:,.0f} B (glibc keeps freed build "
        note += "temporaries); includes the other tables, Mesa agents and outputs"
    else:
        figure, note = f"{untrimmed:,.0f} B", "after build + 1 step; includes allocator slack, Mesa agents, outputs"
    rows.append(Row("4", "RSS growth per household at 1M", figure, note=note))
    from commsim.model.resources import memory_needed
    from commsim.scenario.loader import load_scenario

    estimate = memory_needed(load_scenario(population(n)))
    ratio = estimate / r["peak"]
    rows.append(
        Row(
            "4",
            "memory check's estimate / measured peak RSS at 1M",
            f"{ratio:.2f}",
            ">= 1 and <= 1.5",
            1 <= ratio <= 1.5,
            f"estimate {estimate / 2**20:,.0f} MiB, peak {r['peak'] / 2**20:,.0f} MiB (commsim.model.resources refuses "
            "districts whose estimate exceeds the free memory)",
        )
    )


def bench_baseline(rows: list[Row], repeats: int) -> None:
    """Wall time of `commsim run scenarios/baseline.toml --out tmp` (or run_scenario('baseline')), storing the run
    in a temporary database as a user's run stores it in results/commsim.db."""
    script = Path(sys.executable).parent / "commsim"
    has_cli = find_spec("commsim.cli.app") is not None and (script.exists() or shutil.which("commsim") is not None)
    with tempfile.TemporaryDirectory(prefix="commsim-bench-run-") as tmp:
        if has_cli:
            exe = str(script) if script.exists() else str(shutil.which("commsim"))
            label = "commsim run scenarios/baseline.toml --out <tmp>"

            def command(i: int) -> list[str]:
                return [exe, "run", str(BASELINE_TOML.relative_to(ROOT)), "--out", str(Path(tmp) / f"run{i}")]
        else:
            label = "python -c run_scenario('baseline') (commsim.cli.app not importable)"

            def command(i: int) -> list[str]:
                code = "from commsim.runs.run import run_scenario; run_scenario('baseline')"
                return [sys.executable, "-c", code]

        walls = []
        for i in range(repeats):
            stage(f"baseline: {label} ({i + 1}/{repeats})")
            start = time.perf_counter()
            env = {**os.environ, "COMMSIM_DB": f"sqlite:///{Path(tmp) / 'runs.db'}"}  # stores, but not in results/
            proc = subprocess.run(command(i), cwd=ROOT, capture_output=True, text=True, check=False, env=env)
            walls.append(time.perf_counter() - start)
            if proc.returncode != 0:
                tail = (proc.stderr or proc.stdout).strip()[-300:]
                rows.append(Row("5", label, "failed", f"< {TARGET_BASELINE_S:g} s", False, tail))
                return
    wall = min(walls)
    rows.append(
        Row(
            "5",
            f"wall time: {label}",
            f"{wall:,.3f} s",
            f"< {TARGET_BASELINE_S:g} s",
            wall < TARGET_BASELINE_S,
            "20k households x 60 months, subprocess incl. start-up and outputs; "
            f"min of {', '.join(f'{w:.2f}' for w in walls)} s",
        )
    )


def warm_up_kernels() -> None:
    """Compile (or load from the package's cache) every kernel before any timing in this process."""
    from commsim.model.community import CommunityHealthModel

    stage("warm-up: load/compile kernels in this process")
    start = time.perf_counter()
    model = CommunityHealthModel(population(TWIN_SIZE), rng=1)
    model.step()
    model.step()
    Anchor(TWIN_SIZE).step()
    stage(f"warm-up done in {time.perf_counter() - start:.1f} s")


def bench_twin(rows: list[Row], thread_counts: list[int], quick: bool) -> None:
    from commsim.model.community import CommunityHealthModel

    n = TWIN_SIZE
    stage(f"10k: numba backend, {', '.join(map(thread_label, thread_counts))}")
    model = CommunityHealthModel(population(n), rng=1)
    model.step()
    model.step()
    with fixed_threads():
        numba = measure_numba(model, thread_counts, 1 if quick else 2, 5, 1.0 if quick else 3.0, 2000)
    del model
    stage("10k: python twin")
    twin = CommunityHealthModel(population(n), rng=1, backend="python")
    twin.step()  # warm-up
    t = time_steps(twin, 1, 2 if quick else 4, 1.0 if quick else 3.0, 60)
    del twin
    gc.collect()
    rows.append(
        Row(
            "1",
            "python twin (backend='python'), 10k households",
            rate_text(t.rate),
            note=f"{t.months} months, {t.per_month:,.3f} s/month, after 1 warm-up month",
        )
    )
    for k in thread_counts:
        b = best(numba[k])
        rows.append(
            Row(
                "1",
                f"numba, 10k households, {thread_label(k)}",
                rate_text(b.rate),
                note=spread_note(numba[k]) + (serial_note(n) if k > 1 else ""),
            )
        )
    for k in thread_counts:
        ratio = best(numba[k]).rate / t.rate
        rows.append(
            Row(
                "1",
                f"numba / python, 10k households, numba {thread_label(k)}",
                f"{ratio:,.1f}x",
                f">= {TARGET_RATIO:g}x",
                ratio >= TARGET_RATIO,
                "same run, steps only (model.step(): every kernel + outputs)",
            )
        )


def bench_scaling(
    rows: list[Row], phase_rows: list[Row], sizes: list[int], thread_counts: list[int], quick: bool
) -> None:
    from commsim.model.community import CommunityHealthModel

    for n in sizes:
        stage(f"{size_text(n)}: building")
        gc.collect()
        start = time.perf_counter()
        model = CommunityHealthModel(population(n), rng=1)
        build_s = time.perf_counter() - start
        if n >= 10_000_000:
            rows.append(
                Row(
                    "2",
                    f"build {size_text(n)} households (CommunityHealthModel(...))",
                    f"{build_s:,.1f} s",
                    note="district + Mesa agents; not part of the throughput",
                )
            )
        model.step()  # warm-up month
        anchor = Anchor(n) if n == ANCHOR_SIZE else None
        anchored: dict[int, list[Timing]] = {}
        if anchor is not None:
            anchor.step()
        stage(
            f"{size_text(n)}: built in {build_s:.1f} s, timing {', '.join(map(thread_label, thread_counts))}"
            + (" (model and anchor, interleaved)" if anchor else "")
        )
        if n >= 10_000_000:
            rounds, min_months, min_seconds = 1, 1 if quick else 2, 0.0
        else:
            rounds, min_months, min_seconds = (1, 3, 1.5) if quick else (2, 5, 4.0)
        with fixed_threads(), OthersLoad() as others:
            timings = measure_numba(
                model, thread_counts, rounds, min_months, min_seconds, 1000, n < 10_000_000, anchor, anchored
            )
        for k in thread_counts:
            b = best(timings[k])
            target, ok = ("", None)
            if n == 1_000_000:
                target, ok = f">= {TARGET_RATE_1M / 1e6:g} M/s", b.rate >= TARGET_RATE_1M
            note = spread_note(timings[k])
            if k == thread_counts[0] and n < 10_000_000:
                note += f"; build {build_s:.1f} s"
            if k == thread_counts[-1]:
                note += f"; other processes kept {others.cores:.2f} cores busy meanwhile"
            rows.append(
                Row("2", f"numba, {size_text(n)} households, {thread_label(k)}", rate_text(b.rate), target, ok, note)
            )
        if anchor is not None:
            rows.extend(anchor_rows(timings, anchored, thread_counts))
        if n == 1_000_000:
            phase_rows.extend(phase_table(timings, thread_counts))
            if anchor is not None and max(thread_counts) > 1:
                rows.extend(bench_busy(model, anchor, max(thread_counts), quick))
        if n >= 10_000_000:
            with fixed_threads():
                rows.append(long_run(model, timings, thread_counts, quick))
        del model, anchor
        gc.collect()


def anchor_rows(
    timings: dict[int, list[Timing]], anchored: dict[int, list[Timing]], thread_counts: list[int]
) -> list[Row]:
    """The anchor's rate, and the model's as a share of it, at each thread count (best rounds of one run)."""
    out = []
    for k in thread_counts:
        out.append(
            Row(
                "2a",
                f"anchor (benchmarks/anchor.py), {size_text(ANCHOR_SIZE)} households, {thread_label(k)}",
                rate_text(best(anchored[k]).rate),
                note=spread_note(anchored[k]) + "; timed right after each of the model's timings",
            )
        )
    for k in thread_counts:
        ratio = best(timings[k]).rate / best(anchored[k]).rate
        per_round = ", ".join(f"{m.rate / a.rate:.3f}" for m, a in zip(timings[k], anchored[k], strict=True))
        target, ok = (f">= {TARGET_ANCHOR_RATIO:.2f}", ratio >= TARGET_ANCHOR_RATIO) if k == 2 else ("", None)
        out.append(
            Row(
                "2a",
                f"model / anchor, {size_text(ANCHOR_SIZE)} households, {thread_label(k)}",
                f"{ratio:.3f}",
                target,
                ok,
                f"best / best; per round {per_round}",
            )
        )
    return out


def bench_busy(model: Any, anchor: Anchor, threads: int, quick: bool) -> list[Row]:
    """Serial vs the default thread count (numba's, with the model's own choice on) at 1M, as the machine is
    found and then next to a busy neighbour that holds a core; the anchor alike, for reference."""
    import numba

    slices, seconds = (3, 0.5) if quick else (5, 1.0)
    out = []
    for condition in ("as found", "busy neighbour"):
        stage(f"{size_text(ANCHOR_SIZE)}: serial vs default threads, {condition} ({slices} alternations)")
        model_t: dict[int, list[Timing]] = {1: [], threads: []}
        anchor_t: dict[int, list[Timing]] = {1: [], threads: []}
        used: list[int] = []
        neighbour = BusyNeighbour() if condition == "busy neighbour" else None
        try:
            if neighbour is not None:
                neighbour.__enter__()
            with OthersLoad(neighbour) as others, thread_log() as log:
                for _ in range(slices):
                    for k in (1, threads):
                        numba.set_num_threads(k)
                        model.step()
                        start = len(log)
                        model_t[k].append(time_steps(model, k, 2, seconds, 1000))
                        if k == threads:
                            used.extend(log[start:])
                for _ in range(slices):
                    for k in (1, threads):
                        numba.set_num_threads(k)
                        anchor_t[k].append(time_anchor(anchor, k, seconds / 2))
        finally:
            if neighbour is not None:
                neighbour.stop()
            numba.set_num_threads(threads)
        held = f"a neighbour held {neighbour.cores:.2f} cores; " if neighbour is not None else ""
        load = f"{held}other processes kept {others.cores:.2f} cores busy"
        if neighbour is not None and others.cores > 0.3:
            load += " (more than the one busy core this row is about: read with care)"
        for kind, timed in (("model", model_t), ("anchor", anchor_t)):
            rate = {k: pooled(timed[k]) for k in timed}
            ratio = rate[threads] / rate[1]
            pairs = ", ".join(f"{d.rate / s.rate:.2f}" for s, d in zip(timed[1], timed[threads], strict=True))
            target, ok = ("", None)
            note = f"{rate_text(rate[1])} serial, {rate_text(rate[threads])} default; per alternation {pairs}; {load}"
            if kind == "model":
                ones = sum(1 for u in used if u == 1)
                note += f"; on the default the kernels ran serial in {ones} of {len(used)} months"
                if neighbour is not None:
                    target, ok = f">= {TARGET_BUSY_RATIO:g}", ratio >= TARGET_BUSY_RATIO
            else:
                note += "; the anchor always runs on numba's thread count (reference)"
            out.append(
                Row(
                    "6",
                    f"{kind}, {size_text(ANCHOR_SIZE)}: default threads ({threads}) / serial, {condition}",
                    f"{ratio:.2f}",
                    target,
                    ok,
                    note,
                )
            )
    return out


def pooled(timings: list[Timing]) -> float:
    """Household-months per second over several timings together."""
    return sum(t.households * t.months for t in timings) / sum(t.seconds for t in timings)


def phase_table(timings: dict[int, list[Timing]], thread_counts: list[int]) -> list[Row]:
    from commsim.model.community import PHASES

    bests = {k: best(timings[k]) for k in thread_counts}
    out = []
    per_month = {k: {p: s / bests[k].months for p, s in bests[k].phases.items()} for k in thread_counts}
    names = [phase.name for phase in PHASES]
    rest = {k: bests[k].per_month - sum(per_month[k].values()) for k in thread_counts}
    for name in [*names, "other"]:
        values = {k: (rest[k] if name == "other" else per_month[k][name]) for k in thread_counts}
        figure = " | ".join(f"{values[k] * 1e3:,.1f}" for k in thread_counts)
        share = " | ".join(f"{values[k] / bests[k].per_month:.0%}" for k in thread_counts)
        label = "other: keys, outputs, DataCollector" if name == "other" else name
        out.append(
            Row(
                "2p",
                f"1M phase {label} (ms/month{'' if len(thread_counts) == 1 else ', serial | 2 threads'})",
                figure,
                note=f"share of the month {share}",
            )
        )
    return out


def long_run(model: Any, timings: dict[int, list[Timing]], thread_counts: list[int], quick: bool) -> Row:
    import numba

    k = max(thread_counts, key=lambda c: best(timings[c]).rate)
    b = best(timings[k])
    n = b.households
    estimate = LONG_RUN_MONTHS * b.per_month
    label = f"{size_text(n)} households x {LONG_RUN_MONTHS} months ({thread_label(k)})"
    target = f"< {TARGET_LONG_RUN_S:g} s"
    others = "; ".join(
        f"{thread_label(c)} est. {LONG_RUN_MONTHS * best(timings[c]).per_month:,.0f} s" for c in thread_counts if c != k
    )
    if quick or estimate > LONG_RUN_BUDGET_S:
        why = "--quick" if quick else f"estimate above the {LONG_RUN_BUDGET_S:g} s budget of this script"
        note = f"EXTRAPOLATED from {b.months} month(s) ({why})" + (f"; {others}" if others else "")
        return Row("2", label, f"~{estimate:,.1f} s", target, estimate < TARGET_LONG_RUN_S, note)
    stage(f"{size_text(n)}: running {LONG_RUN_MONTHS} months ({thread_label(k)}, estimate {estimate:.0f} s)")
    numba.set_num_threads(k)
    start = time.perf_counter()
    for _ in range(LONG_RUN_MONTHS):
        model.step()
    wall = time.perf_counter() - start
    note = f"measured: {LONG_RUN_MONTHS} model.step() calls, build excluded; estimate was {estimate:,.1f} s"
    return Row("2", label, f"{wall:,.1f} s", target, wall < TARGET_LONG_RUN_S, note + (f"; {others}" if others else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer months; extrapolate 10M x 120 months (~3 min)")
    parser.add_argument(
        "--max-households", type=int, default=max(SIZES), help="skip sizes above this (default: 10,000,000)"
    )
    args = parser.parse_args(argv)
    t_start = time.perf_counter()

    import numba

    max_threads = int(numba.config.NUMBA_NUM_THREADS)
    thread_counts = [1] if max_threads < 2 else [1, 2]
    sizes = [n for n in SIZES if n <= args.max_households]
    rows: list[Row] = []
    phase_rows: list[Row] = []

    steps: list[tuple[str, Callable[[], None]]] = [
        ("compile", lambda: bench_compile(rows)),
        ("warm-up", warm_up_kernels),
        ("baseline", lambda: bench_baseline(rows, 2)),
        ("memory", lambda: bench_memory(rows, args.max_households)),
        ("twin", lambda: bench_twin(rows, thread_counts, args.quick)),
        ("scaling", lambda: bench_scaling(rows, phase_rows, sizes, thread_counts, args.quick)),
    ]
    source_before = source_state()
    load_start = os.getloadavg()
    for _, run in steps:
        run()
    load_end = os.getloadavg()
    source = source_before if source_state() == source_before else f"{source_before} (src/ changed during the run)"
    try:
        layer = numba.threading_layer()
    except ValueError:
        layer = "none used"

    order = {"1": 0, "2": 1, "2p": 2, "2a": 3, "6": 4, "3": 5, "4": 6, "5": 7}
    ordered = sorted([*rows, *phase_rows], key=lambda r: order[r.number])  # stable: keeps order within a group
    mode = "quick" if args.quick else "full"
    title = (
        f"commsim benchmark ({mode}; numba {numba.__version__}, {os.cpu_count()} CPUs, NUMBA_NUM_THREADS={max_threads})"
    )
    omp = ", ".join(f"{name}={os.environ.get(name, '-')}" for name in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT"))
    caption = (
        "hh-months/s = households x months / seconds of model.step() (every kernel, outputs and DataCollector). "
        "Figures 'a | b' are serial | 2 threads. Rows 1-2 run on the thread count named; row 6 on the model's own "
        "choice (kernel_threads). "
        f"Benchmark wall time {time.perf_counter() - t_start:,.0f} s; "
        f"load average (1 min) {load_start[0]:.2f} at start, {load_end[0]:.2f} at end; threading layer {layer} "
        f"({omp}); "
        f"{source}."
    )
    render(ordered, title, caption)
    return 0


if __name__ == "__main__":
    sys.exit(main())

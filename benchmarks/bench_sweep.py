"""Benchmark sweeps: runs per second of 10k-household x 60-month baseline runs on each executor, and where a run's
time goes (build, steps, store, the rest).

    .venv/bin/python benchmarks/bench_sweep.py [--quick] [--runs N] [--rounds R] [--profile-out FILE]

Prints one Rich table (progress goes to stderr). The executors are measured in interleaved rounds (serial, pool,
Dask, kept-alive pool, then again) because the machine is shared and noisy: compare the ratios of one run, not
figures across runs. See benchmarks/README.md for what each row means.
"""

import argparse
import cProfile
import hashlib
import io
import logging
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from benchtable import Row, render, source_state

HOUSEHOLDS = 10_000
MONTHS = 60
WORKERS = 2
WARM_UP_RUNS = 2

TARGET_POOL_RATE = 20.0  # runs/s, process pool on 2 cores
TARGET_OVERHEAD = 0.25  # (model build + store) / run time, serial, in-process
TARGET_POOL_RATIO = 1.7  # pool on 2 cores / serial

progress = Console(stderr=True, highlight=False, log_path=False)

EXPERIMENT = """\
name = "{name}"
description = "bench_sweep: baseline at 10k households x {months} months over training coverage"
scenario = "baseline"
months = {months}
replicates = 1
seed = 1

[set]
"population.households" = {households}
"population.villages" = 40
"population.side_km" = 42.4
"population.facilities" = 8

[design]
kind = "grid"

[parameters."groups.training_coverage"]
range = [0.0, 1.0]
levels = {levels}
"""


def write_experiment(directory: Path, name: str, runs: int) -> Path:
    """An experiment of `runs` grid points (one replicate each) over groups.training_coverage."""
    path = directory / f"{name}.toml"
    text = EXPERIMENT.format(name=name, months=MONTHS, households=HOUSEHOLDS, levels=runs)
    path.write_text(text, encoding="utf-8")
    return path


# --- table ---------------------------------------------------------------------------------------------------


def stage(text: str) -> None:
    progress.log(text)


# --- executors -----------------------------------------------------------------------------------------------


@contextmanager
def kept_alive_pool(workers: int) -> Iterator[Any]:
    """What-if: a spawned process pool that lives as long as the executor (open_executor's pool is started anew
    by every `Executor.run` call, so a sweep pays for spawning workers and loading the kernels each time)."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    from commsim.runs.executors import IN_FLIGHT_PER_WORKER, Executor, one_thread

    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=one_thread)

    def run(tasks: Iterable[tuple[Hashable, Callable[..., Any], tuple[Any, ...]]]) -> Iterator[tuple[Hashable, Any]]:
        stream = iter(tasks)
        pending: dict[Any, Hashable] = {}
        limit = workers * IN_FLIGHT_PER_WORKER

        def top_up() -> None:
            for tag, function, args in stream:
                pending[pool.submit(function, *args)] = tag
                if len(pending) >= limit:
                    return

        top_up()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                tag = pending.pop(future)
                yield tag, future.result()
            top_up()

    try:
        yield Executor(run, f"kept-alive process pool of {workers} workers (bench-local)", workers)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class Sweep:
    """One timed sweep: wall seconds of run_sweep and when each run was stored (seconds from the start)."""

    runs: int
    wall: float
    stored_at: list[float]
    digest: str

    @property
    def rate(self) -> float:
        return self.runs / self.wall

    def steady_rate(self, workers: int) -> float | None:
        """Runs per second after the first `workers` runs are stored (start-up and the first wave excluded)."""
        if len(self.stored_at) <= workers:
            return None
        span = self.stored_at[-1] - self.stored_at[workers - 1]
        return (len(self.stored_at) - workers) / span if span > 0 else None


@dataclass
class Contender:
    key: str
    label: str
    open: Callable[[], Any]
    executor: Any = None
    sweeps: list[Sweep] = field(default_factory=list)
    warm_up_s: list[float] = field(default_factory=list)

    def best(self) -> Sweep:
        return max(self.sweeps, key=lambda s: s.rate)


def results_digest(store: Any, batch_id: int) -> str:
    """A digest of a sweep's stored outputs, by point and month (independent of the order runs finished)."""
    from commsim.store import database as results_store

    frame = results_store.export(store, batch_id=batch_id)
    frame = frame.drop(columns=["run_id", "batch_id"]).sort_values(["point", "month"]).reset_index(drop=True)
    return hashlib.sha1(frame.to_csv(index=False, float_format="%.12g").encode()).hexdigest()[:10]


def timed_sweep(contender: Contender, experiment: Path, warm_up: Path, workdir: Path, tag: str) -> Sweep:
    """Warm-up sweep then the timed sweep, on the same executor object, into a fresh SQLite store."""
    from commsim.runs.experiment import load_experiment
    from commsim.runs.sweep import run_sweep
    from commsim.store import database as results_store

    db = workdir / f"{contender.key}-{tag}.db"
    store = results_store.open_store(f"sqlite:///{db}")
    try:
        start = time.perf_counter()
        warm = run_sweep(load_experiment(warm_up), store, contender.executor)
        contender.warm_up_s.append(time.perf_counter() - start)
        if warm.ran != WARM_UP_RUNS:
            raise RuntimeError(f"{contender.label}: warm-up ran {warm.ran} runs, not {WARM_UP_RUNS}")
        plan = load_experiment(experiment)
        stamps: list[float] = []
        start = time.perf_counter()

        def on_run(done: int, total: int) -> None:
            if done:
                stamps.append(time.perf_counter() - start)

        outcome = run_sweep(plan, store, contender.executor, on_run=on_run)
        wall = time.perf_counter() - start
        if outcome.ran != plan.n_runs or not outcome.complete:
            raise RuntimeError(f"{contender.label}: ran {outcome.ran} of {plan.n_runs} runs")
        return Sweep(outcome.ran, wall, stamps, results_digest(store, outcome.batch_id))
    finally:
        store.engine.dispose()


def bench_executors(rows: list[Row], runs: int, rounds: int, workdir: Path) -> dict[str, Contender]:
    from commsim.runs.executors import open_executor
    from commsim.runs.run import warm_up as warm_worker

    logging.getLogger("distributed").setLevel(logging.ERROR)
    experiment = write_experiment(workdir, "bench_sweep", runs)
    warm_up = write_experiment(workdir, "bench_sweep_warmup", WARM_UP_RUNS)
    contenders = [
        Contender("serial", "serial (open_executor(1))", lambda: open_executor(1)),
        Contender(
            "pool", f"process pool (open_executor({WORKERS}))", lambda: open_executor(WORKERS, warm_up=warm_worker)
        ),
        Contender(
            "dask",
            f"Dask LocalCluster (open_executor(dask_local={WORKERS}))",
            lambda: open_executor(dask_local=WORKERS, warm_up=warm_worker),
        ),
        Contender("alive", f"what-if: process pool kept alive ({WORKERS} workers)", lambda: kept_alive_pool(WORKERS)),
    ]
    with ExitStack() as stack:
        for c in contenders:
            stage(f"opening {c.label}")
            start = time.perf_counter()
            c.executor = stack.enter_context(c.open())
            stage(f"  open in {time.perf_counter() - start:.1f} s: {c.executor.description}")
        for r in range(rounds):
            for c in contenders:
                stage(f"round {r + 1}/{rounds}: {c.label}: {WARM_UP_RUNS}-run warm-up, then {runs} runs")
                sweep = timed_sweep(c, experiment, warm_up, workdir, f"r{r}")
                c.sweeps.append(sweep)
                stage(f"  {sweep.rate:.2f} runs/s ({sweep.wall:.2f} s), warm-up {c.warm_up_s[-1]:.2f} s")
        stage("probing each executor's workers (Numba threads, process ids over two Executor.run calls)")
        threads, respawned = {}, {}
        for c in contenders:
            first, second = ([result for _, result in c.executor.run(probe_tasks(c.executor.workers))] for _ in "ab")
            threads[c.key] = max(n for n, _ in first)
            respawned[c.key] = not {pid for _, pid in first} & {pid for _, pid in second}
        stage("closing executors")
    by_key = {c.key: c for c in contenders}
    serial = by_key["serial"].best()
    digests = {s.digest for c in contenders for s in c.sweeps}
    same = "identical across executors" if len(digests) == 1 else f"DIFFER across executors: {sorted(digests)}"
    for c in contenders:
        b = c.best()
        workers = c.executor.workers
        steady = b.steady_rate(workers)
        note = f"{b.wall / b.runs * 1e3:,.0f} ms/run; first run stored after {b.stored_at[0]:.2f} s"
        if steady is not None:
            note += f"; after the first {workers}: {steady:,.1f} runs/s"
        if len(c.sweeps) > 1:
            others = ", ".join(f"{s.rate:.1f}" for s in c.sweeps if s is not b)
            note += f"; best of {len(c.sweeps)} rounds (others {others})"
        if respawned[c.key]:
            note += "; NB new worker processes for every Executor.run (seen by pid): worker start is inside the timing"
        target, ok = ("", None)
        if c.key == "pool":
            target, ok = f">= {TARGET_POOL_RATE:g} runs/s", b.rate >= TARGET_POOL_RATE
        rows.append(Row("1", f"{c.label}, {b.runs} runs", f"{b.rate:,.2f} runs/s", target, ok, note))
    for c in contenders[1:]:
        ratio = c.best().rate / serial.rate
        per_round = ", ".join(f"{s.rate / t.rate:.2f}" for s, t in zip(c.sweeps, by_key["serial"].sweeps, strict=True))
        target, ok = ("", None)
        if c.key == "pool":
            target, ok = f">= {TARGET_POOL_RATIO:g}x", ratio >= TARGET_POOL_RATIO
        note = f"best / best; per round {per_round}"
        rows.append(Row("1r", f"{c.key} / serial", f"{ratio:,.2f}x", target, ok, note))
    seen = ", ".join(f"{key} {n}" for key, n in threads.items())
    threads_note = "the model steps districts below SERIAL_BELOW households on 1 thread whatever this says"
    if threads.get("dask", 1) > 1:
        threads_note += (
            "; Dask tasks run on more than one: open_executor's client.run(one_thread) sets numba's thread-local "
            "count of the thread client.run uses, not of the worker's task threads"
        )
    rows.append(
        Row(
            "1r",
            "Numba threads a task sees (numba.get_num_threads() in the task)",
            seen,
            note=threads_note,
        )
    )
    warm = ", ".join(f"{c.key} {statistics.median(c.warm_up_s):.2f} s" for c in contenders)
    rows.append(
        Row(
            "1r",
            "stored outputs",
            "same" if len(digests) == 1 else "DIFFER",
            note=f"digest of every stored month by point: {same}; {WARM_UP_RUNS}-run warm-up sweeps (median) {warm}",
        )
    )
    return by_key


# --- one run, taken apart ------------------------------------------------------------------------------------


PARTS = ("resolve", "build", "steps", "frame", "store")


def instrumented_run(plan: Any, store: Any, batch_id: int, point: int) -> dict[str, float]:
    """The work of run_task + save_run for one point, with a clock around each part."""
    from commsim.model.community import CommunityHealthModel
    from commsim.scenario.loader import load_scenario
    from commsim.store import database as results_store

    t = {}
    started = datetime.now(UTC)
    clock = time.perf_counter()
    config = load_scenario(plan.base, {**plan.overrides(point), "seed": plan.seeds()[0]})
    now = time.perf_counter()
    t["resolve"], clock = now - clock, now
    model = CommunityHealthModel(config, backend="numba")
    now = time.perf_counter()
    t["build"], clock = now - clock, now
    for _ in range(config.months):
        model.step()
    now = time.perf_counter()
    t["steps"], clock = now - clock, now
    frame = model.timeseries()
    finished = datetime.now(UTC)
    now = time.perf_counter()
    t["frame"], clock = now - clock, now
    results_store.save_run(
        store, config, frame, backend="numba", started_at=started, finished_at=finished, point=point, batch_id=batch_id
    )
    t["store"] = time.perf_counter() - clock
    t["kernels"] = sum(model.phase_seconds.values())
    return t


def bench_breakdown(rows: list[Row], n_runs: int, workdir: Path, serial_ms: float | None) -> None:
    from commsim.runs.experiment import load_experiment
    from commsim.store import database as results_store

    plan = load_experiment(write_experiment(workdir, "bench_sweep_breakdown", n_runs))
    store = results_store.open_store(f"sqlite:///{workdir / 'breakdown.db'}")
    try:
        batch_id = results_store.new_batch(store, "sweep", "bench_breakdown", {}, key=plan.key())
        instrumented_run(plan, store, batch_id, 0)  # warm-up (not counted)
        stage(f"per-run breakdown: {n_runs - 1} instrumented runs in this process")
        samples = [instrumented_run(plan, store, batch_id, point) for point in range(1, n_runs)]
    finally:
        store.engine.dispose()
    med = {part: statistics.median(s[part] for s in samples) for part in (*PARTS, "kernels")}
    total = sum(med[part] for part in PARTS)
    totals = [sum(s[part] for part in PARTS) for s in samples]
    labels = {
        "resolve": "resolve the scenario (load_scenario: base + overrides + seed)",
        "build": "build the model (CommunityHealthModel(config): district, params, agents)",
        "steps": f"{MONTHS} x model.step()",
        "frame": "timeseries frame (model.timeseries())",
        "store": "store.save_run (1 run row + 61 month rows, SQLite WAL)",
    }
    for part in PARTS:
        note = f"{med[part] / total:.0%} of the run"
        if part == "steps":
            bookkeeping = med["steps"] - med["kernels"]
            note += (
                f"; kernels (phase_seconds) {med['kernels'] * 1e3:.1f} ms, the rest of step() (stream keys, "
                f"interventions, cost, outputs, DataCollector) {bookkeeping * 1e3:.1f} ms = "
                f"{bookkeeping / med['steps']:.0%} of the steps, {bookkeeping / MONTHS * 1e6:.0f} us/month"
            )
        rows.append(Row("2", labels[part], f"{med[part] * 1e3:,.1f} ms", note=note))
    note = (
        f"median of each part over {len(samples)} runs; run totals {min(totals) * 1e3:.1f}-{max(totals) * 1e3:.1f} ms"
    )
    if serial_ms is not None:
        note += f"; the serial sweep (row 1, best round) took {serial_ms:.1f} ms/run"
    rows.append(Row("2", "run total (the parts above)", f"{total * 1e3:,.1f} ms", note=note))
    overhead = (med["build"] + med["store"] + med["resolve"] + med["frame"]) / total
    build_store = (med["build"] + med["store"]) / total
    rows.extend(build_threads(plan))
    rows.append(
        Row(
            "2",
            "per-run overhead: (model build + store) / run (the issue's measure)",
            f"{build_store:.1%}",
            f"<= {TARGET_OVERHEAD:.0%}",
            build_store <= TARGET_OVERHEAD,
            f"with resolve + frame too {overhead:.1%}; compute (steps) {med['steps'] / total:.1%}; with the step() "
            f"bookkeeping counted as overhead {(total - med['kernels']) / total:.1%}",
        )
    )


def build_threads(plan: Any, repeats: int = 7) -> list[Row]:
    """Model build on the process's Numba threads (as the serial executor and Dask workers run it) and on one
    thread (as process-pool workers run it), interleaved. The first month's outputs (`_initial_outputs`) call
    the parallel serve kernel, outside the model's SERIAL_BELOW guard."""
    import numba

    from commsim.model.community import CommunityHealthModel
    from commsim.scenario.loader import load_scenario

    config = load_scenario(plan.base, {**plan.overrides(0), "seed": 1})
    default = numba.get_num_threads()
    counts = [default] if default == 1 else [default, 1]
    seconds: dict[int, list[float]] = {k: [] for k in counts}
    try:
        for _ in range(repeats):
            for k in counts:
                numba.set_num_threads(k)
                start = time.perf_counter()
                CommunityHealthModel(config)
                seconds[k].append(time.perf_counter() - start)
    finally:
        numba.set_num_threads(default)
    figure = " | ".join(f"{statistics.median(seconds[k]) * 1e3:,.1f}" for k in counts)
    spread = "; ".join(f"{k} thread(s) {min(seconds[k]) * 1e3:.1f}-{max(seconds[k]) * 1e3:.1f} ms" for k in counts)
    label = " | ".join(f"{k} thread{'s' if k > 1 else ''}" for k in counts)
    note = (
        f"median of {repeats}, interleaved; range {spread}. _initial_outputs runs the parallel serve_and_record on "
        "every Numba thread (no SERIAL_BELOW guard): slow when a neighbour holds the other core"
    )
    return [Row("2", f"build the model, Numba threads {label} (ms)", figure, note=note)]


def task_threads() -> tuple[int, int]:
    """What a task sees where it runs: numba.get_num_threads() and the process id."""
    import numba

    time.sleep(0.2)  # long enough for every worker to get one
    return int(numba.get_num_threads()), os.getpid()


def probe_tasks(workers: int) -> list[tuple[int, Callable[[], tuple[int, int]], tuple[()]]]:
    return [(i, task_threads, ()) for i in range(workers)]


def bench_profile(rows: list[Row], workdir: Path, top: int, out: Path | None) -> None:
    """cProfile of one run (run_task + save_run) in this process, warm."""
    from commsim.runs.experiment import load_experiment
    from commsim.runs.run import run_task
    from commsim.store import database as results_store

    plan = load_experiment(write_experiment(workdir, "bench_sweep_profile", 3))
    store = results_store.open_store(f"sqlite:///{workdir / 'profile.db'}")
    try:
        batch_id = results_store.new_batch(store, "sweep", "bench_profile", {}, key=plan.key())

        def one(point: int) -> None:
            output = run_task(plan.base, {**plan.overrides(point), "seed": plan.seeds()[0]}, "numba")
            results_store.save_run(
                store,
                output.scenario,
                output.timeseries,
                backend="numba",
                started_at=output.started_at,
                finished_at=output.finished_at,
                point=point,
                batch_id=batch_id,
            )

        one(0)  # warm
        stage("cProfile of one run (run_task + save_run)")
        profiler = cProfile.Profile()
        start = time.perf_counter()
        profiler.runcall(one, 1)
        wall = time.perf_counter() - start
    finally:
        store.engine.dispose()
    if out is not None:
        profiler.dump_stats(out)
    stats = pstats.Stats(profiler, stream=io.StringIO())
    entries = stats.stats  # type: ignore[attr-defined]
    total_tt = sum(v[2] for v in entries.values())

    def name(func: tuple[str, int, str]) -> str:
        path, line, fn = func
        if path == "~":
            return fn
        parts = Path(path).parts
        short = "/".join(parts[parts.index("site-packages") + 1 :] if "site-packages" in parts else parts[-2:])
        return f"{short}:{line}({fn})"

    by_own = sorted(entries.items(), key=lambda kv: -kv[1][2])[:top]
    where = f"; full profile in {out}" if out is not None else ""
    rows.append(
        Row(
            "3",
            "cProfile: one run (run_task + save_run), wall under the profiler",
            f"{wall * 1e3:,.0f} ms",
            note=f"profiled functions' own time {total_tt * 1e3:,.0f} ms; rows below: top {top} by own time{where}",
        )
    )
    for func, (cc, nc, tt, ct, _callers) in by_own:
        calls = f"{nc}" if cc == nc else f"{nc}/{cc}"
        rows.append(
            Row(
                "3",
                name(func),
                f"{tt * 1e3:,.1f} ms",
                note=f"{tt / total_tt:.0%} own; cumulative {ct * 1e3:,.1f} ms; {calls} calls",
            )
        )
    wanted = {
        "__init__": "commsim/model.py",
        "build_district": "population.py",
        "collect": "datacollection.py",
        "save_run": "store.py",
        "load_scenario": "loader.py",
        "timeseries": "commsim/model.py",
        "step": "commsim/model.py",
        "_run_kernels": "commsim/model.py",
    }
    cumulative = []
    for func, (_cc, _nc, _tt, ct, _callers) in entries.items():
        path, _line, fn = func
        if fn in wanted and path.endswith(wanted[fn]):
            cumulative.append((ct, f"{Path(path).stem}.{fn} {ct * 1e3:,.1f}"))
    if cumulative:
        listed = ", ".join(text for _, text in sorted(cumulative, reverse=True))
        rows.append(Row("3", "cumulative ms of selected functions (under the profiler)", "", note=listed))


# --- main ----------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="16 runs per sweep, 2 rounds (~1 min)")
    parser.add_argument("--runs", type=int, default=None, help="runs per timed sweep (default 40, --quick 16)")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 3, --quick 2)")
    parser.add_argument("--profile-out", type=Path, default=None, help="also write the cProfile stats here")
    args = parser.parse_args(argv)
    runs = args.runs or (16 if args.quick else 40)
    rounds = args.rounds or (2 if args.quick else 3)
    breakdown_runs = 9 if args.quick else 21
    t_start = time.perf_counter()

    import numba

    source_before = source_state()
    load_start = os.getloadavg()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="commsim-bench-sweep-") as tmp:
        workdir = Path(tmp)
        contenders = bench_executors(rows, runs, rounds, workdir)
        serial_ms = contenders["serial"].best().wall / runs * 1e3
        bench_breakdown(rows, breakdown_runs, workdir, serial_ms)
        bench_profile(rows, workdir, 12, args.profile_out)
    load_end = os.getloadavg()
    source = source_before if source_state() == source_before else f"{source_before} (src/ changed during the run)"

    mode = "quick" if args.quick else "full"
    title = (
        f"commsim sweep benchmark ({mode}; {HOUSEHOLDS:,} households x {MONTHS} months, baseline; "
        f"{os.cpu_count()} CPUs, numba {numba.__version__})"
    )
    caption = (
        f"runs/s = runs of the timed sweep / wall seconds of run_sweep (fresh SQLite store per executor and round, "
        f"after a {WARM_UP_RUNS}-run warm-up sweep on the same executor object). "
        f"Benchmark wall time {time.perf_counter() - t_start:,.0f} s; "
        f"load average (1 min) {load_start[0]:.2f} at start, {load_end[0]:.2f} at end; {source}."
    )
    render(rows, title, caption)
    return 0


if __name__ == "__main__":
    sys.exit(main())

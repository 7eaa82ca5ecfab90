"""Where runs execute: in this process, on a local process pool, or on a Dask cluster (an existing scheduler or
a local one). Each executor takes an iterator of tasks and yields `(tag, result)` as runs finish, with a
bounded number in flight, so a 10,000-run sweep never holds all its futures or results at once. Results do
not depend on the executor: every run draws from its own seed. Pool workers die with the process that started
them, and a worker that dies mid-way (e.g. out of memory) is a `WorkerLost` error, not a traceback.
"""

import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Hashable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from commsim.errors import CommsimError

Task = tuple[Hashable, Callable[..., Any], tuple[Any, ...]]  # (tag, function, arguments)
Runner = Callable[[Iterable[Task]], Iterator[tuple[Hashable, Any]]]
IN_FLIGHT_PER_WORKER = 2
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


class WorkerLost(CommsimError):
    """A worker process died while it held runs (killed, e.g. by the out-of-memory killer); runs already
    stored are kept, the runs it held are not."""


@dataclass(frozen=True)
class Executor:
    """A way to run tasks, and how to describe it to the user."""

    run: Runner
    description: str
    workers: int


def default_workers() -> int:
    """All cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def one_thread() -> None:
    """Worker start-up: one Numba thread per worker process, so the workers use the cores once."""
    import numba

    numba.set_num_threads(1)


def die_with_parent(parent: int) -> None:
    """Worker start-up: ask Linux to SIGKILL this worker when its parent dies (even by SIGKILL, which runs no
    clean-up), so no worker outlives a killed sweep. The signal is armed for the thread that started the
    worker, so a pool must be used and closed by the thread that opened it (`open_executor` does)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


def start_worker(parent: int) -> None:
    """Initializer of a pool worker: die with the parent, and one Numba thread."""
    die_with_parent(parent)
    one_thread()


def serial(tasks: Iterable[Task]) -> Iterator[tuple[Hashable, Any]]:
    """Run each task in this process, in order."""
    for tag, function, args in tasks:
        yield tag, function(*args)


def _bounded(submit: Callable[[Task], Any], tasks: Iterable[Task], limit: int, finished) -> Iterator:
    """Keep at most `limit` tasks in flight; `finished(pending)` yields (future, tag) pairs as they complete."""
    stream = iter(tasks)
    pending: dict[Any, Hashable] = {}
    for tag, function, args in stream:
        pending[submit((tag, function, args))] = tag
        if len(pending) >= limit:
            break
    while pending:
        for future, tag in finished(pending):
            del pending[future]
            yield tag, future.result()
            for next_tag, function, args in stream:
                pending[submit((next_tag, function, args))] = next_tag
                break


def process_pool(pool: ProcessPoolExecutor, workers: int) -> Runner:
    """A runner on a started pool of `workers` processes; the pool outlives each run of tasks."""

    def finished(pending: dict[Future, Hashable]) -> list[tuple[Future, Hashable]]:
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        return [(future, pending[future]) for future in done]

    def run(tasks: Iterable[Task]) -> Iterator[tuple[Hashable, Any]]:
        submitted: list[Future] = []

        def submit(task: Task) -> Future:
            future = pool.submit(task[1], *task[2])
            submitted.append(future)
            return future

        try:
            yield from _bounded(submit, tasks, workers * IN_FLIGHT_PER_WORKER, finished)
        except BrokenProcessPool:
            raise WorkerLost("a worker process died (killed, e.g. out of memory)") from None
        finally:
            for future in submitted:
                future.cancel()

    return run


def _one_thread_call(function: Callable[..., Any], *args: Any) -> Any:
    """A task on a Dask worker: Numba's thread count is per thread, so it is set in the thread that runs it."""
    one_thread()
    return function(*args)


def dask_runner(client) -> Runner:
    """A runner on a Dask distributed client; tasks are submitted with `pure=False` (each is its own run)."""
    from distributed import KilledWorker, as_completed

    def run(tasks: Iterable[Task]) -> Iterator[tuple[Hashable, Any]]:
        workers = max(1, len(client.scheduler_info()["workers"]))
        completed = as_completed()
        submitted: list = []

        def submit(task: Task):
            future = client.submit(_one_thread_call, task[1], *task[2], pure=False)
            completed.add(future)
            submitted.append(future)
            return future

        def finished(pending: dict) -> list:
            future = next(completed)
            return [(future, pending[future])]

        try:
            yield from _bounded(submit, tasks, workers * IN_FLIGHT_PER_WORKER, finished)
        except KilledWorker:
            raise WorkerLost(
                "Dask worker processes died running the same run, and Dask stopped retrying it "
                "(killed, e.g. out of memory)"
            ) from None
        finally:
            client.cancel([f for f in submitted if not f.done()])

    return run


@contextmanager
def open_executor(
    workers: int | None = None,
    scheduler: str | None = None,
    dask_local: int | None = None,
    *,
    warm_up: Callable[[], Any] | None = None,
) -> Iterator[Executor]:
    """The executor asked for: a Dask scheduler by address, a local Dask cluster of `dask_local` workers, or
    (default) a process pool of `workers` (all cores), run in this process when that is one worker. A pool's
    workers start at once and each runs `warm_up` first, so they load while the caller gets ready."""
    if scheduler is not None and dask_local is not None:
        raise CommsimError("--scheduler and --dask-local: choose one")
    if scheduler is not None or dask_local is not None:
        from distributed import Client, LocalCluster

        if scheduler is not None:
            try:
                client = Client(scheduler, timeout="10s")
            except (OSError, TimeoutError, ValueError) as error:
                raise CommsimError(f"--scheduler {scheduler}: cannot connect: {error}") from None
            description = f"Dask scheduler {scheduler}"
        else:
            cluster = LocalCluster(n_workers=dask_local, threads_per_worker=1, processes=True, dashboard_address=None)
            client = Client(cluster)
            description = f"Dask local cluster of {dask_local} workers"
        try:
            n = max(1, len(client.scheduler_info()["workers"]))
            yield Executor(dask_runner(client), description, n)
        finally:
            client.close()
            if dask_local is not None:
                cluster.close()
        return
    n = workers or default_workers()
    if n <= 1:
        yield Executor(serial, "this process", 1)
        return
    pool = ProcessPoolExecutor(
        n,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=start_worker,
        initargs=(os.getpid(),),
    )
    for _ in range(n if warm_up is not None else 0):
        pool.submit(warm_up)
    try:
        yield Executor(process_pool(pool, n), f"process pool of {n} workers", n)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)

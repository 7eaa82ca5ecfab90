"""A busy neighbour: a child process that keeps one core busy for as long as a `with` block lasts.

    with BusyNeighbour() as neighbour:
        ...                         # timings here share the machine with a pure-Python spin loop
    neighbour.cores                 # CPU seconds it got / wall seconds it ran (1.0 = a whole core)

The child is stopped when the block ends, whether it ends normally, by an exception or by Ctrl-C (SIGINT also
reaches the child, which is in the same process group). If this process dies without running its `finally`
(SIGKILL), the child notices that its parent changed and exits within a few milliseconds.
"""

import os
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

SPIN = """
import os, signal, sys
signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
parent = int(sys.argv[1])
print("spinning", flush=True)
while os.getppid() == parent:
    for _ in range(100_000):
        pass
"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc (0 where there is no /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat (zeros where there is none)."""
    try:
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:9]]
    except OSError:
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    total = sum(values)
    return (total - values[3] - values[4]) / tick, total / tick


class OthersLoad:
    """Cores kept busy by other processes while a `with` block ran: the machine's busy time (/proc/stat) minus
    this process's CPU time and the busy neighbour's, over the wall time.

        with OthersLoad() as load:
            ...
        load.cores
    """

    def __init__(self, neighbour: "BusyNeighbour | None" = None) -> None:
        self.neighbour = neighbour
        self.cores = float("nan")

    def _read(self) -> tuple[float, float, float, float]:
        own = sum(os.times()[:2])
        pid = self.neighbour.proc.pid if self.neighbour is not None and self.neighbour.proc is not None else None
        return time.perf_counter(), machine_busy()[0], own, cpu_seconds(pid) if pid else 0.0

    def __enter__(self) -> "OthersLoad":
        self._start = self._read()
        return self

    def __exit__(self, *exc: object) -> None:
        end = self._read()
        wall = end[0] - self._start[0]
        if wall > 0 and end[1] > 0:
            others = (end[1] - self._start[1]) - (end[2] - self._start[2]) - (end[3] - self._start[3])
            self.cores = max(0.0, others / wall)


class BusyNeighbour:
    """Context manager: a pure-Python spin loop in a child process, started on entry and always stopped."""

    def __init__(self, settle_s: float = 0.3) -> None:
        self.settle_s = settle_s
        self.proc: subprocess.Popen[str] | None = None
        self.cores = float("nan")
        self._start = self._cpu = 0.0

    def __enter__(self) -> "BusyNeighbour":
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SPIN, str(os.getpid())],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            if self.proc.stdout is None or self.proc.stdout.readline().strip() != "spinning":
                raise RuntimeError("the busy neighbour did not start")
            time.sleep(self.settle_s)  # let the scheduler place it
        except BaseException:
            self.stop()
            raise
        self._start, self._cpu = time.perf_counter(), cpu_seconds(self.proc.pid)
        return self

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            wall = time.perf_counter() - self._start
            if self._start and wall > 0:
                self.cores = (cpu_seconds(proc.pid) - self._cpu) / wall
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

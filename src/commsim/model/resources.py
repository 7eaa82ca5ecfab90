"""What a run needs from the machine, checked before a district is built: a district too big for the memory
left would build for minutes and then be killed by the kernel's out-of-memory killer, taking the machine's
other work with it."""

from pathlib import Path

from commsim.errors import CommsimError
from commsim.scenario.schema import Scenario

# Measured peak resident memory of a fresh process that builds a district and steps it once (2026-12-03, with the
# life course and methods): 455, 740 and 1231 MiB at 0.2M, 1M and 2M households, ~450 B per household on top of
# ~370 MiB for Python, NumPy, Numba and the compiled kernels; rounded up, so that the check errs on the safe side.
# `benchmarks/bench_model.py` (row 4) prints this estimate against a fresh process's measured peak.
BYTES_PER_HOUSEHOLD = 500
PROCESS_BYTES = 400 * 2**20
GB = 1e9
FORCE_HELP = "Build the districts even if they need more memory than is free."


class MemoryNeedError(CommsimError):
    """A district that needs more memory than the machine has free."""


def memory_needed(scenario: Scenario) -> int:
    """Bytes one run of `scenario` needs at its peak (building the district), in one process."""
    return PROCESS_BYTES + BYTES_PER_HOUSEHOLD * scenario.population.households


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


CGROUP_FILES = {  # per cgroup version: the mount of the memory controller, its limit file and its usage file
    "v1": (Path("/sys/fs/cgroup/memory"), "memory.limit_in_bytes", "memory.usage_in_bytes"),
    "v2": (Path("/sys/fs/cgroup"), "memory.max", "memory.current"),
}


def _cgroup_left(folder: Path, limit_file: str, usage_file: str) -> int | None:
    try:
        limit = (folder / limit_file).read_text().strip()
        if limit == "max" or int(limit) >= 2**62:  # no limit (v2 says max; v1 a page-rounded 2**63)
            return None
        return int(limit) - int((folder / usage_file).read_text().strip())
    except (OSError, ValueError):
        return None


def _cgroup_available() -> int | None:
    """What the tightest memory limit of this process's cgroup and its ancestors leaves (v1 or v2)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    left: list[int] = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        version = "v2" if controllers == "" else "v1" if "memory" in controllers.split(",") else None
        if version is None:
            continue
        mount, limit_file, usage_file = CGROUP_FILES[version]
        folder = mount / path.lstrip("/")
        for level in (folder, *folder.parents):
            if not level.is_relative_to(mount):
                break
            value = _cgroup_left(level, limit_file, usage_file)
            if value is not None:
                left.append(value)
    return min(left) if left else None


def memory_available() -> int | None:
    """Bytes this process can still get: the smaller of the kernel's MemAvailable and a cgroup's remaining limit
    (None where neither can be read, e.g. not Linux)."""
    known = [value for value in (_meminfo_available(), _cgroup_available()) if value is not None]
    return min(known) if known else None


def check_memory(scenario: Scenario, *, copies: int = 1, hint: str = "--force") -> None:
    """Refuse, before building, `copies` simultaneous runs of `scenario` that need more memory than is free;
    the message says how much is needed and has, and names `hint`, the way to try anyway."""
    needed, available = memory_needed(scenario) * copies, memory_available()
    if available is None or needed <= available:
        return
    runs = f" x {copies} parallel runs" if copies > 1 else ""
    raise MemoryNeedError(
        f"population.households = {scenario.population.households:,}{runs} needs about {needed / GB:.1f} GB of "
        f"memory; this machine has {available / GB:.1f} GB free. Use fewer households"
        + (" or fewer workers" if copies > 1 else "")
        + f", or {hint} to try anyway"
    )

"""A district too big for the memory left is refused before it is built, with how much it needs and has: against
this machine's real free memory, and inside a real memory-limited cgroup; and the Python API names a bad seed
or scenario instead of failing deep inside."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from commsim.model import resources
from commsim.model.community import CommunityHealthModel
from commsim.model.resources import MemoryNeedError
from commsim.scenario.loader import load_scenario

TINY = {"population__households": 200, "population__villages": 2, "population__facilities": 2}


def test_the_estimate_grows_with_households_at_the_measured_rate():
    small, big = (load_scenario("baseline", {"population.households": n}) for n in (10_000, 1_010_000))
    assert resources.memory_needed(big) - resources.memory_needed(small) == resources.BYTES_PER_HOUSEHOLD * 10**6
    assert resources.memory_needed(small) > resources.PROCESS_BYTES


def test_parallel_copies_of_the_largest_district_do_not_fit_and_say_so():
    available = resources.memory_available()
    assert available is not None and available > 0
    biggest = load_scenario("baseline", {"population.households": 50_000_000})
    # one more than fits, however big the machine, and at least two (one may already not fit)
    copies = max(2, int(available // resources.memory_needed(biggest)) + 1)
    with pytest.raises(MemoryNeedError) as caught:
        resources.check_memory(biggest, copies=copies, hint="--force")
    message = str(caught.value)
    assert "50,000,000" in message and f"x {copies} parallel runs" in message
    assert "GB of memory" in message and "GB free" in message and "--force" in message


def _memory_cgroup(limit: int) -> Path:
    """A child of this process's memory cgroup (v1 or v2) limited to `limit` bytes."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controllers == "" and Path("/sys/fs/cgroup/cgroup.controllers").exists():
            folder, limit_file = Path("/sys/fs/cgroup") / path.lstrip("/"), "memory.max"
        elif "memory" in controllers.split(","):
            folder, limit_file = Path("/sys/fs/cgroup/memory") / path.lstrip("/"), "memory.limit_in_bytes"
        else:
            continue
        child = Path(tempfile.mkdtemp(prefix="commsim-test-", dir=folder))
        (child / limit_file).write_text(str(limit))
        return child
    pytest.fail("no memory cgroup to make a limited child in (the test needs root on Linux, as CI has)")


@pytest.mark.slow
def test_a_run_in_a_memory_limited_cgroup_is_refused_before_it_builds(tmp_path):
    if os.geteuid() != 0:
        pytest.fail("the cgroup test needs root (CI runs as root)")
    group = _memory_cgroup(1 << 30)
    try:
        enter = f'echo $$ > {group / "cgroup.procs"} && exec "$@"'
        command = [sys.executable, "-m", "commsim", "run", "baseline", "-n", "5000000", "-m", "1", "--no-store"]
        result = subprocess.run(
            ["sh", "-c", enter, "sh", *command, "--out", str(tmp_path / "out")],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 2, (result.returncode, result.stderr)
        assert "Traceback" not in result.stderr
        needed = resources.memory_needed(load_scenario("baseline", {"population.households": 5_000_000}))
        assert f"5,000,000 needs about {needed / resources.GB:.1f} GB of memory" in result.stderr
        assert "--force" in result.stderr
        assert not (tmp_path / "out" / "timeseries.csv").exists()
    finally:
        group.rmdir()


@pytest.mark.parametrize(
    ("rng", "says"),
    [("abc", "valid integer"), (-1, "greater than or equal to 0"), (1.7, "valid integer"), (True, "valid integer")],
)
def test_a_bad_seed_is_named(rng, says):
    with pytest.raises(ValueError, match=rf"^rng: input should be .*{says}.* got {rng!r}$"):
        CommunityHealthModel("baseline", rng=rng, **TINY)


def test_a_numpy_seed_is_a_seed_and_none_is_not_a_scenario():
    model = CommunityHealthModel("baseline", rng=np.int64(7), **TINY)
    assert model.seed == 7 and type(model.seed) is int
    with pytest.raises(TypeError, match="config: a scenario file, a shipped scenario's name"):
        CommunityHealthModel(None)


def test_compare_checks_the_memory_of_all_its_parallel_runs_first(tmp_path):
    """More workers of the largest district than this machine has memory for: refused before any run."""
    available = resources.memory_available()
    biggest = load_scenario("baseline", {"population.households": 50_000_000})
    workers = max(2, int(available // resources.memory_needed(biggest)) + 1)  # one may already not fit
    from typer.testing import CliRunner

    from commsim.cli.app import app

    url = f"sqlite:///{tmp_path / 'c.db'}"
    args = ["compare", "baseline", "supply_fix", "-n", "50000000", "-r", str(workers), "-w", str(workers)]
    result = CliRunner().invoke(app, [*args, "--db", url, "--out", str(tmp_path / "c")])
    assert result.exit_code == 2, result.output
    assert f"x {workers} parallel runs needs about" in result.output and "--force" in result.output
    assert not (tmp_path / "c.db").exists()  # refused before the store was opened


def test_sweep_checks_its_largest_point_times_its_workers_first(tmp_path):
    """A design point of 50M households on more workers than fit: refused before the store is opened."""
    biggest = load_scenario("baseline", {"population.households": 50_000_000})
    workers = max(1, int(resources.memory_available() // resources.memory_needed(biggest)))  # runs workers + 1
    experiment = tmp_path / "huge.toml"
    experiment.write_text(
        'name = "huge"\nscenario = "baseline"\nmonths = 1\nreplicates = 8\n[design]\nkind = "grid"\n'
        '[parameters."population.households"]\nvalues = [1000, 50000000]\n',
        encoding="utf-8",
    )
    from typer.testing import CliRunner

    from commsim.cli.app import app

    url = f"sqlite:///{tmp_path / 's.db'}"
    result = CliRunner().invoke(app, ["sweep", str(experiment), "-w", str(workers + 1), "--db", url])
    assert result.exit_code == 2, result.output
    assert f"50,000,000 x {workers + 1} parallel runs needs about" in result.output and "--force" in result.output
    assert not (tmp_path / "s.db").exists()

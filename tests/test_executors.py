"""Worker processes of real `commsim sweep` and `commsim compare` processes: none outlives a SIGKILLed parent
(process pool and local Dask cluster), and a worker that dies mid-way ends the command in one message, exit
code 2, never a traceback, and the printed command resumes the sweep."""

import os
import shlex
import signal
import subprocess
import time
from pathlib import Path

import pytest

from commsim.errors import CommsimError
from commsim.runs.executors import open_executor
from commsim.runs.experiment import load_experiment
from commsim.store import database as store
from test_sweep import GRID, VENV_BIN, stored_frame, write

pytestmark = pytest.mark.slow  # real commands, their workers and signals

# runs long enough to be caught: a worker killed after every run had finished would break nothing
SLOW = GRID.replace("1200", "20000").replace("months = 12", "months = 60")
GONE_WITHIN_S = 20  # every worker of a killed parent must be gone by then


def process_table() -> dict[int, tuple[int, str]]:
    """Every process on the machine that is not a zombie: pid -> (parent pid, state)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:  # it ended while we looked
            continue
        if fields[0] != "Z":
            table[int(entry.name)] = (int(fields[1]), fields[0])
    return table


def descendants(pid: int) -> list[int]:
    """The living children of `pid`, their children, and so on."""
    table = process_table()
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, (ppid, _) in table.items() if ppid == parent]
        found += children
        frontier += children
    return found


def command_of(pid: int) -> str:
    """A process's command line ('' once it has ended)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def survivors(pids: list[int], seconds: float) -> list[int]:
    """Those of `pids` still alive (zombies count as gone) after waiting up to `seconds` for them to end."""
    deadline = time.monotonic() + seconds
    while True:
        living = set(process_table())
        left = [pid for pid in pids if pid in living]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def start(command: list[str], folder: Path) -> subprocess.Popen:
    """Start a real command, its output to files (out.txt, err.txt in `folder`): a pipe would stay open as long
    as any worker that inherited it lives."""
    with (folder / "out.txt").open("w") as stdout, (folder / "err.txt").open("w") as stderr:
        return subprocess.Popen(command, stdout=stdout, stderr=stderr)


def ended(process: subprocess.Popen, folder: Path, seconds: float) -> tuple[str, str]:
    """Wait for the process to end; its stdout and stderr."""
    process.wait(timeout=seconds)
    return (folder / "out.txt").read_text(), (folder / "err.txt").read_text()


def start_sweep(folder: Path, *options: str) -> tuple[subprocess.Popen, list[str], str]:
    """A real `commsim sweep` of 12 slow runs, storing in a new SQLite file: the process, its command, the URL."""
    url = f"sqlite:///{folder / 'procs.db'}"
    command = [str(VENV_BIN / "commsim"), "sweep", str(write(folder, SLOW, "slow.toml")), *options, "--db", url]
    return start(command, folder), command, url


def stored_runs(url: str) -> int:
    """How many runs the database at `url` holds (0 before it exists)."""
    if not Path(url.removeprefix("sqlite:///")).exists():
        return 0
    return len(store.list_runs(store.open_store(url), limit=10_000))


def wait_for_runs(process: subprocess.Popen, url: str, n: int, seconds: float = 180) -> None:
    """Wait until `n` runs are stored, the process still running."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None and stored_runs(url) < n:
        time.sleep(0.1)
    assert process.poll() is None, "the command ended before it could be killed"
    assert stored_runs(url) >= n, f"fewer than {n} runs stored in {seconds} s"


def kill_all(pids: list[int]) -> None:
    """Clean-up: SIGKILL the processes this test started that are still alive."""
    for pid in survivors(pids, 0):
        os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("options", [("--workers", "2"), ("--dask-local", "2")], ids=["pool", "dask-local"])
def test_no_worker_outlives_a_killed_sweep(tmp_path, options):
    """SIGKILL (no clean-up in the parent at all) of a sweep mid-run: its workers die with it."""
    process, _, url = start_sweep(tmp_path, *options)
    workers: list[int] = []
    try:
        wait_for_runs(process, url, 1)
        workers = descendants(process.pid)
        assert len(workers) >= 2, [command_of(pid) for pid in workers]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        left = survivors(workers, GONE_WITHIN_S)
        assert not left, f"still alive {GONE_WITHIN_S} s after the sweep was killed: {[command_of(p) for p in left]}"
    finally:
        process.kill()
        kill_all(workers)


def test_a_killed_worker_ends_the_sweep_in_one_message_and_the_printed_command_resumes(tmp_path):
    process, command, url = start_sweep(tmp_path, "--workers", "2")
    workers: list[int] = []
    try:
        wait_for_runs(process, url, 2)
        workers = [pid for pid in descendants(process.pid) if "spawn_main" in command_of(pid)]
        assert len(workers) == 2, [command_of(pid) for pid in descendants(process.pid)]
        os.kill(workers[0], signal.SIGKILL)
        _, stderr = ended(process, tmp_path, 120)
    finally:
        process.kill()
        kill_all(workers)
    assert process.returncode == 2, stderr
    assert "Traceback" not in stderr and stderr.count("error:") == 1, stderr
    plan = load_experiment(tmp_path / "slow.toml")
    kept = len(store.finished_runs(store.open_store(url), 1))
    assert 2 <= kept < 12
    message = " ".join(stderr.split())
    assert f"error: sweep grid: a worker process died (killed, e.g. out of memory); {kept} of 12 runs are stored " \
        f"(batch 1); resume with: " in message  # fmt: skip
    resume = shlex.split(stderr.partition("resume with: ")[2].strip())
    assert resume == ["commsim", *command[1:]]  # the exact command, pasteable
    again = subprocess.run([str(VENV_BIN / "commsim"), *resume[1:]], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"{kept} were already stored: 12 of 12" in " ".join(again.stdout.split())
    frame = stored_frame(url, store.find_batch(store.open_store(url), "sweep", plan.key()))
    assert not frame.index.duplicated().any() and len(frame) == 12 * 61  # every run once, months 0 to 60
    assert stored_runs(url) == 12


def test_a_killed_dask_worker_is_replaced_and_the_sweep_completes(tmp_path):
    """On a local Dask cluster the nanny restarts a killed worker and Dask runs its tasks again."""
    process, _, url = start_sweep(tmp_path, "--dask-local", "2")
    workers: list[int] = []
    try:
        wait_for_runs(process, url, 2)
        workers = descendants(process.pid)
        victim = next(pid for pid in workers if "spawn_main" in command_of(pid))
        os.kill(victim, signal.SIGKILL)
        stdout, stderr = ended(process, tmp_path, 300)
    finally:
        process.kill()
        kill_all(workers + descendants(process.pid))
    assert process.returncode == 0, stderr
    assert "12 of 12 stored" in " ".join(stdout.split())
    assert stored_runs(url) == 12


def test_a_killed_worker_ends_compare_in_one_message(tmp_path):
    url = f"sqlite:///{tmp_path / 'cmp.db'}"
    # runs long enough (~1 s each) that 12 of them are far from done when the first is stored: a worker killed
    # after every run had finished would break nothing, and the comparison would end well
    command = [str(VENV_BIN / "commsim"), "compare", "baseline", "hrh2030_groups", "--reps", "6", "--workers", "2",
               "--households", "20000", "--months", "48", "--db", url, "--out", str(tmp_path / "report")]  # fmt: skip
    process = start(command, tmp_path)
    workers: list[int] = []
    try:
        wait_for_runs(process, url, 1)
        workers = [pid for pid in descendants(process.pid) if "spawn_main" in command_of(pid)]
        os.kill(workers[0], signal.SIGKILL)
        _, stderr = ended(process, tmp_path, 120)
    finally:
        process.kill()
        kill_all(workers)
    assert process.returncode == 2, stderr
    assert "Traceback" not in stderr and stderr.count("error:") == 1, stderr
    kept = stored_runs(url)
    assert 1 <= kept < 12
    assert (
        f"error: compare baseline vs hrh2030_groups: a worker process died (killed, e.g. out of memory); "
        f"{kept} of 12 runs are stored as batch 1 in {url}; a comparison does not resume: run it again"
    ) in " ".join(stderr.split())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"workers": 2}, "a worker process died (killed, e.g. out of memory)"),
        ({"dask_local": 1}, "Dask worker processes died running the same run, and Dask stopped retrying it"),
    ],
    ids=["pool", "dask-local"],
)
def test_a_run_that_kills_its_worker_is_one_error(options, message):
    """A task that SIGKILLs the process running it: the pool breaks at once; Dask retries it on new workers
    (distributed.scheduler.allowed-failures) and then gives up (KilledWorker)."""
    with open_executor(**options) as executor, pytest.raises(CommsimError) as caught:
        list(executor.run([("killer", signal.raise_signal, (signal.SIGKILL,))]))
    assert str(caught.value).startswith(message)


def test_a_killed_worker_ends_calibrate_in_one_message(tmp_path):
    url = f"sqlite:///{tmp_path / 'cal.db'}"
    command = [str(VENV_BIN / "commsim"), "calibrate", "baseline", "--targets", "mali_dhs2018", "--trials", "30",
               "--workers", "2", "--db", url, "--out", str(tmp_path / "calibrated.toml")]  # fmt: skip
    process = start(command, tmp_path)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while len(workers) < 2 and time.monotonic() < deadline and process.poll() is None:
            workers = [pid for pid in descendants(process.pid) if "spawn_main" in command_of(pid)]
            time.sleep(0.1)
        assert len(workers) == 2, "calibrate never started its two workers"
        time.sleep(2)  # into the first trial's runs
        os.kill(workers[0], signal.SIGKILL)
        _, stderr = ended(process, tmp_path, 120)
    finally:
        process.kill()
        kill_all(workers)
    assert process.returncode == 2, stderr
    assert "Traceback" not in stderr and stderr.count("error:") == 1, stderr
    assert (
        "error: calibrate baseline: a worker process died (killed, e.g. out of memory); finished trials are kept; "
        "run the same command again to continue"
    ) in " ".join(stderr.split())
    assert not (tmp_path / "calibrated.toml").exists()


def test_the_warm_up_builds_and_steps_a_valid_district():
    """Workers run it once and nobody reads its result, so a warm-up the schema refuses would go unseen."""
    from commsim.runs.run import warm_up

    assert warm_up() == os.getpid()

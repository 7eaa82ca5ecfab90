"""The compiled kernels' disk cache follows the source: editing a rule that a kernel inlines from another file
(here `rng.uniform`'s compiled version) changes the next run, with nothing deleted by hand. Runs on a copy of the
package in a temporary directory, in fresh processes."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import commsim

PACKAGE = Path(commsim.__file__).resolve().parent
RUN = (
    "from commsim.model.community import CommunityHealthModel\n"
    "m = CommunityHealthModel({'population': {'households': 2000, 'villages': 8, 'facilities': 2}}, rng=3)\n"
    "m.run(6)\n"
    "print(m.latest['users'], m.latest['new_users'], m.latest['discontinued'])\n"
)
UNIFORM_RETURN = "        return np.float64(np.int64(z >> np.uint64(11))) * TO_UNIT\n"


def run_copy(tree: Path) -> str:
    env = {key: value for key, value in os.environ.items() if key != "NUMBA_CACHE_DIR"}  # the in-tree cache
    env["PYTHONPATH"] = str(tree)
    result = subprocess.run([sys.executable, "-c", RUN], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.slow
def test_editing_an_inlined_rule_changes_the_next_run_without_deleting_the_cache(tmp_path):
    shutil.copytree(PACKAGE, tmp_path / "commsim", ignore=shutil.ignore_patterns("__pycache__"))
    cache = tmp_path / "commsim" / "model" / "kernels" / "__pycache__"
    first = run_copy(tmp_path)
    indexes = sorted(cache.glob("*.nbi"))
    assert indexes, "the kernels were not cached"
    assert run_copy(tmp_path) == first  # from the cache: the same numbers

    rng = tmp_path / "commsim" / "model" / "rng.py"
    source = rng.read_text(encoding="utf-8")
    assert source.count(UNIFORM_RETURN) == 1
    rng.write_text(source.replace(UNIFORM_RETURN, UNIFORM_RETURN.replace("TO_UNIT", "TO_UNIT * 0.5")), "utf-8")
    edited = run_copy(tmp_path)
    assert edited != first, "the kernels ran the old compiled rule"
    assert sorted(cache.glob("*.nbi")) == indexes  # the same cache files, rewritten: nothing was deleted


def test_precompile_knows_the_kernels_and_types_a_run_calls():
    """`precompile` knows every kernel the kernel modules define, and after a run the disk cache holds each it
    names for the types it names: the one-row stand-ins type as the model's calls do (else a first run would
    compile again after `compile_kernels`)."""
    from numba.core.dispatcher import Dispatcher

    from commsim.model import precompile
    from commsim.model.community import CommunityHealthModel
    from commsim.model.kernels import chws, facilities, groups, households

    defined = {
        value
        for module in (chws, facilities, groups, households)
        for value in (*vars(module).values(), *households.SERIAL)
        if isinstance(value, Dispatcher)
    }
    known = {k for parallel in (False, True) for k, _ in precompile.kernel_signatures(parallel)}
    assert known == defined, "a kernel precompile does not know"
    CommunityHealthModel({"population": {"households": 300, "villages": 3, "facilities": 2}}, rng=1).step()
    assert precompile.to_compile(False) == []


def fresh_cache_env(cache: Path) -> dict[str, str]:
    """The environment of a child process whose Numba cache is `cache` and that imports this commsim."""
    return {**os.environ, "NUMBA_CACHE_DIR": str(cache), "PYTHONPATH": str(PACKAGE.parent)}


COMPILED_BY_A_RUN = """
import sys
from numba.core import event
from commsim.model.community import CommunityHealthModel

with event.install_recorder("numba:compile") as compiles:
    CommunityHealthModel({"population": {"households": int(sys.argv[1])}}, rng=1).step()
print(sorted({ev.data["dispatcher"].py_func.__name__ for _, ev in compiles.buffer if ev.is_start}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("households", [2000, 33000], ids=["one-thread", "threads"])
def test_compile_kernels_leaves_a_run_nothing_to_compile(tmp_path, households):
    """From an empty cache, `compile_kernels` (one kernel in a helper process, the rest here) fills it so that a
    run of that size then compiles nothing: every kernel, rule included, loads from the cache."""
    env = fresh_cache_env(tmp_path)
    parallel = households >= 32768
    code = f"from commsim.model import precompile; print(len(precompile.to_compile({parallel}))); "
    code += f"print(len(precompile.kernel_signatures({parallel}))); "
    code += f"precompile.compile_kernels({parallel}); print(precompile.to_compile({parallel}))"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    missing, kernels, left = done.stdout.split("\n")[:3]
    assert missing == kernels and int(kernels) > 0  # a cold cache lacks every kernel a run calls
    assert left == "[]"
    done = subprocess.run(
        [sys.executable, "-c", COMPILED_BY_A_RUN, str(households)], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", f"the run compiled {done.stdout.strip()}"


@pytest.mark.slow
def test_the_cli_says_it_compiles_only_when_it_does(tmp_path):
    """`commsim run` with an empty cache says it is compiling, before it does; with the cache then warm it does
    not. Both runs give the same results."""
    env = fresh_cache_env(tmp_path / "cache")
    outputs = []
    for out in ("cold", "warm"):
        command = [sys.executable, "-m", "commsim", "run", "baseline", "--households", "2000", "--months", "3"]
        command += ["--no-store", "--out", str(tmp_path / out)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        outputs.append((done.stderr, (tmp_path / out / "timeseries.csv").read_text()))
    (cold_err, cold_ts), (warm_err, warm_ts) = outputs
    assert "compiling the model's kernels (first run after install or an update" in cold_err
    assert "compiling" not in warm_err
    assert cold_ts == warm_ts


@pytest.mark.slow
def test_compare_says_it_compiles_before_its_workers_start(tmp_path):
    """`commsim compare` with an empty cache says once that it is compiling, in the parent, and its worker
    processes then load the kernels from the cache: the message comes before the runs and only once."""
    env = fresh_cache_env(tmp_path / "cache")
    command = [sys.executable, "-m", "commsim", "compare", "baseline", "chw_scale_up", "--reps", "2", "--months", "2"]
    command += ["--households", "2000", "--workers", "2", "--db", f"sqlite:///{tmp_path / 'runs.db'}"]
    command += ["--out", str(tmp_path / "compare")]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("compiling the model's kernels") == 1, done.stderr
    assert (tmp_path / "compare" / "summary.csv").is_file()

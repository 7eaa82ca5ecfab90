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
UNIFORM_RETURN = "        return np.float64(z >> np.uint64(11)) * TO_UNIT\n"


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

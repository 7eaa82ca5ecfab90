"""The two backends and reproducibility: the Numba kernels and the per-agent Python twin give the same outputs
and states for every shipped scenario; same seed, same results, on any number of threads; Mesa's batch_run
drives the model through flat keys; constructor overrides reach the scenario."""

import hashlib
import math
import os
import subprocess
import sys

import mesa
import numba
import numpy as np
import pandas as pd
import pytest

from commsim.model import community, metrics
from commsim.model.community import CommunityHealthModel
from commsim.model.kernels import households as household_kernels
from commsim.scenario import loader
from commsim.scenario.loader import ScenarioError

SMALL = {"population__households": 1200, "population__villages": 10, "population__facilities": 3}
SHIPPED = [p.stem for p in loader.shipped_scenarios()]
SEEDS = {"baseline": (1, 7, 2**40 + 3)}
DEFAULT_SEEDS = (1, 7)


@pytest.fixture(autouse=True, scope="module")
def one_numba_thread():
    """Districts below 8192 households are one parallel block, so the thread count cannot change their
    results (tested below); one thread keeps OpenMP from stalling on a busy 2-core machine."""
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(before)


def months_to_play_out(name: str) -> int:
    """At least 24 months, and 6 months past the last scheduled start or end."""
    sc = loader.load_scenario(name)
    events = [m for iv in sc.interventions.values() for m in (iv.start_month, iv.end_month) if m is not None]
    return max(24, max(events, default=0) + 6)


def run(name: str, seed: int, months: int, backend: str = "numba", **overrides) -> CommunityHealthModel:
    model = CommunityHealthModel(name, rng=seed, backend=backend, debug_checks=True, **{**SMALL, **overrides})
    model.run(months)
    return model


def assert_same_timeseries(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns) == list(metrics.COLUMNS)
    assert len(a) == len(b)
    for col in a.columns:
        x, y = a[col].to_numpy(), b[col].to_numpy()
        if np.issubdtype(x.dtype, np.integer) and np.issubdtype(y.dtype, np.integer):
            np.testing.assert_array_equal(x, y, err_msg=col)
        else:
            np.testing.assert_allclose(x.astype(float), y.astype(float), rtol=0, atol=1e-12, err_msg=col)


def assert_same_tables(a, b) -> None:
    for table_a, table_b, table in zip(a, b, a._fields, strict=True):
        for col in table_a._fields:
            x, y = getattr(table_a, col), getattr(table_b, col)
            assert x.dtype == y.dtype, f"{table}.{col}"
            np.testing.assert_array_equal(x, y, err_msg=f"{table}.{col}")


def fingerprint(model: CommunityHealthModel) -> str:
    digest = hashlib.sha256(model.timeseries().to_csv().encode())
    digest.update(model.service_statistics().to_csv().encode())
    for table in model.district:
        for col in table._fields:
            digest.update(np.ascontiguousarray(getattr(table, col)).tobytes())
    return digest.hexdigest()


# --- parity ------------------------------------------------------------------------------------------------

# Every shipped scenario on its first seed in the fast tier; its other seeds in the slow one.
PARITY_CASES = [
    pytest.param(name, seed, id=f"{name}-seed{seed}", marks=() if k == 0 else pytest.mark.slow)
    for name in SHIPPED
    for k, seed in enumerate(SEEDS.get(name, DEFAULT_SEEDS))
]


@pytest.mark.parametrize(("name", "seed"), PARITY_CASES)
def test_numba_and_python_twin_agree(name, seed):
    months = months_to_play_out(name)
    fast = run(name, seed, months, "numba")
    twin = run(name, seed, months, "python")
    ts = fast.timeseries()
    assert len(ts) == months + 1
    assert_same_timeseries(ts, twin.timeseries())
    hh_fast, hh_twin = fast.district.households, twin.district.households
    for col in hh_fast._fields:
        np.testing.assert_array_equal(getattr(hh_fast, col), getattr(hh_twin, col), err_msg=f"households.{col}")
    assert_same_tables(fast.district, twin.district)
    pd.testing.assert_frame_equal(fast.service_statistics(), twin.service_statistics(), check_exact=True)
    assert fast.cost_cumulative == pytest.approx(twin.cost_cumulative, rel=0, abs=1e-9)


def test_numba_and_python_twin_agree_across_parallel_blocks():
    """Above 8192 households the kernels sum per block; the twin sums in one pass: same outputs to 1e-12."""
    n = 2 * household_kernels.BLOCK + 100
    big = {"population__households": n, "population__villages": 30, "population__facilities": 4}
    fast = run("swasti_css", 5, 3, "numba", **big)
    twin = run("swasti_css", 5, 3, "python", **big)
    assert_same_timeseries(fast.timeseries(), twin.timeseries())
    assert_same_tables(fast.district, twin.district)
    pd.testing.assert_frame_equal(fast.service_statistics(), twin.service_statistics(), check_exact=True)


def test_parity_runs_exercise_the_dynamics():
    """The parity cases are not vacuous: users come and go, referrals are made and completed."""
    ts = run("hrh2030_groups", 1, 24).timeseries()
    assert ts["new_users"].iloc[1:].sum() > 0
    assert ts["discontinued"].iloc[1:].sum() > 0
    assert ts["referrals_made"].sum() > 0
    assert ts["referrals_completed"].sum() > 0
    assert ts["facility_visits"].sum() > 0
    assert ts["users_via_chw"].iloc[-1] > 0
    assert ts["switches"].sum() > 0
    assert ts["stockouts"].sum() > 0
    assert ts["chw_stockouts"].sum() > 0


# --- determinism -------------------------------------------------------------------------------------------


def test_same_seed_same_results_different_seed_different_results():
    a = run("swasti_css", 11, 18)
    b = run("swasti_css", 11, 18)
    c = run("swasti_css", 12, 18)
    pd.testing.assert_frame_equal(a.timeseries(), b.timeseries(), check_exact=True)
    assert_same_tables(a.district, b.district)
    assert fingerprint(a) == fingerprint(b)
    assert not a.timeseries().equals(c.timeseries())
    assert fingerprint(a) != fingerprint(c)


def test_default_seed_is_the_scenarios():
    sc = loader.load_scenario("baseline")
    a = CommunityHealthModel("baseline", **SMALL)
    b = CommunityHealthModel("baseline", rng=sc.seed, **SMALL)
    assert a.seed == b.seed == sc.seed
    a.run(6)
    b.run(6)
    assert fingerprint(a) == fingerprint(b)


THREAD_SCRIPT = """
import hashlib, numba, numpy as np
from commsim.model.community import CommunityHealthModel
m = CommunityHealthModel("baseline", rng=5, population__households=30000, population__villages=60)
m.run(12)
state = hashlib.sha256()
for table in m.district:
    for col in table._fields:
        state.update(np.ascontiguousarray(getattr(table, col)).tobytes())
print(numba.get_num_threads())
print(hashlib.sha256(m.timeseries().to_csv().encode()).hexdigest())
print(state.hexdigest())
"""


@pytest.mark.slow
def test_results_do_not_depend_on_numba_thread_count_across_processes():
    outputs = {}
    for threads in (1, 2):
        env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
        done = subprocess.run(
            [sys.executable, "-c", THREAD_SCRIPT], env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        lines = done.stdout.split()
        assert lines[0] == str(threads)
        outputs[threads] = lines[1:]
    assert outputs[1] == outputs[2]


def test_results_do_not_depend_on_numba_thread_count_in_process():
    assert numba.config.NUMBA_NUM_THREADS >= 2, "this test needs at least 2 Numba threads"
    prints = []
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            model = CommunityHealthModel("hrh2030_groups", rng=3, population__households=20000, population__villages=40)
            model.run(6)
            prints.append(fingerprint(model))
    finally:
        numba.set_num_threads(1)
    assert prints[0] == prints[1]


def test_parallel_districts_give_the_same_bits_on_any_thread_count_even_when_it_changes():
    """From SERIAL_BELOW households the kernels run in parallel, on numba's thread count less a thread for each
    core other processes keep busy (kernel_threads), so the count may change from one month to the next: one
    thread, two, and a count that alternates give the same bits."""
    n = community.SERIAL_BELOW + 1000
    sizes = {"population__households": n, "population__villages": n // 250, "population__facilities": 8}
    spare, prints = community.OTHERS_SPARE, []
    try:
        community.OTHERS_SPARE = math.inf  # the thread count asked for, however busy the machine
        for schedule in ([1] * 5, [2] * 5, [2, 1, 2, 1, 2]):
            numba.set_num_threads(schedule[0])
            model = CommunityHealthModel("baseline", rng=3, **sizes)
            for threads in schedule:
                numba.set_num_threads(threads)
                model.step()
            prints.append(fingerprint(model))
    finally:
        community.OTHERS_SPARE = spare
        numba.set_num_threads(1)
    assert prints[0] == prints[1] == prints[2]


def test_the_serial_household_loops_give_the_parallel_ones_bits(monkeypatch):
    """Districts below SERIAL_BELOW run the household loops compiled for one thread (household_loops): the same
    district through either variant, on one thread, gives the same bits."""
    n = community.SERIAL_BELOW + 1000
    sizes = {"population__households": n, "population__villages": n // 250, "population__facilities": 8}
    prints = []
    for serial_below in (community.SERIAL_BELOW, n + 1):
        monkeypatch.setattr(community, "SERIAL_BELOW", serial_below)
        model = CommunityHealthModel("baseline", rng=3, **sizes)
        model.run(4)
        prints.append((model.loops, fingerprint(model)))
    (parallel, first), (serial, second) = prints
    assert (parallel, serial) == (household_kernels.PARALLEL, household_kernels.SERIAL)
    assert first == second


def test_kernel_threads_leaves_a_core_to_other_processes(monkeypatch):
    assert community.free_threads(2, 0.1, 2) == 2
    assert community.free_threads(2, 0.3, 2) == 1
    assert community.free_threads(2, 1.9, 2) == 1
    assert community.free_threads(8, 2.5, 8) == 5
    assert community.free_threads(1, 0.0, 8) == 1
    monkeypatch.setattr(community.OTHERS, "update", lambda: 1.0)  # another process holds a core
    seen = []
    try:
        numba.set_num_threads(2)
        for n in (community.SERIAL_BELOW, community.SERIAL_BELOW - 1):
            with community.kernel_threads(n):
                seen.append(numba.get_num_threads())
        monkeypatch.setattr(community.OTHERS, "update", lambda: 0.05)
        with community.kernel_threads(community.SERIAL_BELOW):
            seen.append(numba.get_num_threads())
        seen.append(numba.get_num_threads())  # restored after each block
    finally:
        numba.set_num_threads(1)
    assert seen == [1, 1, 2, 2]


def test_others_load_reads_the_machine():
    load = community.OthersLoad()
    assert load.update() == 0.0  # not started
    load.restart()
    load._last = (load._last[0] - load.WINDOW_S, *load._last[1:])  # as if started a window ago
    cores = load.update()
    assert 0.0 <= cores <= community._cpus() + 0.5
    assert load.update() == cores  # within the window: the last reading


# --- Mesa batch_run ----------------------------------------------------------------------------------------

BATCH_PARAMETERS = {
    "config": "baseline",
    "population__households": 1000,
    "population__villages": 10,
    "population__facilities": 3,
    "groups__training_coverage": [0.0, 0.6],
}


def test_batch_run_over_flat_keys():
    rows = mesa.batch_run(
        CommunityHealthModel,
        parameters=BATCH_PARAMETERS,
        rng=[1, 2],
        max_steps=6,
        number_processes=1,
        data_collection_period=1,
        display_progress=False,
    )
    frame = pd.DataFrame(rows)
    reporters = [name for name in metrics.COLUMNS if name != "month"]
    for name in reporters:
        assert name in frame.columns, name
    runs = frame.groupby("RunId")
    assert runs.ngroups == 4
    combos = {(g["groups__training_coverage"].iloc[0], g["rng"].iloc[0]) for _, g in runs}
    assert combos == {(0.0, 1), (0.6, 1), (0.0, 2), (0.6, 2)}
    for _, g in runs:
        assert sorted(g["Step"]) == list(range(7))  # month 0 and six steps
        last = g.loc[g["Step"].idxmax()]
        direct = CommunityHealthModel(
            "baseline",
            rng=int(last["rng"]),
            population__households=1000,
            population__villages=10,
            population__facilities=3,
            groups__training_coverage=float(last["groups__training_coverage"]),
        )
        assert direct.config.groups.training_coverage == last["groups__training_coverage"]
        direct.run(6)
        ts = direct.timeseries()
        assert last["mcpr"] == ts["mcpr"].iloc[-1]
        for name in reporters:
            assert last[name] == pytest.approx(ts[name].iloc[-1], rel=0, abs=1e-12), name


# --- constructor overrides ---------------------------------------------------------------------------------


def test_constructor_overrides_reach_the_model():
    model = CommunityHealthModel(
        "baseline",
        rng=1,
        population__households=2000,
        population__villages=10,
        population__facilities=3,
        groups__training_coverage=0.6,
    )
    assert model.config.population.households == 2000
    assert model.district.households.source.size == 2000
    assert model.district.villages.x.size == 10
    assert model.district.facilities.stock.size == 3
    assert model.config.groups.training_coverage == 0.6
    assert model.seed == 1


def test_bad_constructor_kwarg_is_a_scenario_error():
    with pytest.raises(ScenarioError, match=r"groups\.nope"):
        CommunityHealthModel("baseline", rng=1, groups__nope=1)
    with pytest.raises(ScenarioError, match=r"groups\.training_coverage.*<= 1\.0"):
        CommunityHealthModel("baseline", rng=1, groups__training_coverage=2.0)


def test_unknown_backend_is_a_value_error():
    with pytest.raises(ValueError, match="gpu"):
        CommunityHealthModel("baseline", rng=1, backend="gpu", **SMALL)


def test_under_the_compiled_backend_agents_are_views_that_cannot_run_the_rules_twice():
    model = CommunityHealthModel("baseline", population__households=500, population__villages=8)
    assert model.group_agents and model.chw_agents and model.facility_agents
    before = model.district.groups.capacity.copy()
    for agent, method in (
        (model.group_agents[0], "step"),
        (model.chw_agents[0], "step"),
        (model.facility_agents[0], "update"),
    ):
        with pytest.raises(RuntimeError, match=rf"{type(agent).__name__}.{method}: the compiled kernels run"):
            getattr(agent, method)()
    with pytest.raises(RuntimeError):
        model.agents.do("step")
    assert (model.district.groups.capacity == before).all()
    model.step()  # the model itself still steps
    assert model.month == 1


def test_mesa_s_own_scenario_is_accepted_and_the_old_keyword_warns():
    """`scenario` is Mesa's Scenario (as SolaraViz's Reset passes it; its rng is the seed); the commsim scenario
    is `config`, and `scenario="baseline"` still works with a DeprecationWarning."""
    from mesa.experimental.scenarios import Scenario as MesaScenario

    tiny = {"population__households": 500, "population__villages": 8}
    seeded = CommunityHealthModel("baseline", scenario=MesaScenario(rng=11), **tiny)
    assert seeded.seed == 11 and seeded.config.name == "baseline"
    unseeded = CommunityHealthModel("baseline", scenario=MesaScenario(), **tiny)
    assert unseeded.seed == unseeded.config.seed
    with pytest.warns(DeprecationWarning, match="the commsim scenario is the first argument, `config`"):
        old = CommunityHealthModel(scenario="supply_fix", **tiny)
    assert old.config.name == "supply_fix"

"""Sweeps: experiment files and their designs, identical stored results on every executor (serial, process
pool, a Dask LocalCluster, and a Dask scheduler and workers started as separate processes), resuming after a
real kill, PostgreSQL, and agreement with Mesa's own batch_run."""

import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import mesa
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from commsim.cli.app import app
from commsim.cli.sweep import PASSWORD_NOTE, command_line, sweep_words
from commsim.model.community import CommunityHealthModel
from commsim.runs.executors import open_executor
from commsim.runs.experiment import ExperimentError, load_experiment
from commsim.runs.run import run_task
from commsim.runs.sweep import run_sweep
from commsim.store import database as store

VENV_BIN = Path(sys.executable).parent
DISTRICT = '"population.households" = 1200\n"population.villages" = 10\n"population.facilities" = 3\n'
GRID = f"""name = "grid"
scenario = "hrh2030_groups"
months = 12
replicates = 2
seed = 3
outputs = ["mcpr", "cost_cumulative"]
[set]
{DISTRICT}
[design]
kind = "grid"
[parameters."groups.training_coverage"]
range = [0.0, 1.0]
levels = 3
[parameters."interventions.monthly_follow_up.strength"]
values = [0.5, 2.0]
"""


def write(folder: Path, text: str, name: str = "exp.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def stored_frame(url: str, batch_id: int) -> pd.DataFrame:
    """A sweep's stored months keyed by (point, replicate, month), ids and hashes dropped."""
    frame = store.export(store.open_store(url), batch_id=batch_id)
    return frame.drop(columns=["run_id", "batch_id"]).set_index(["point", "replicate", "month"]).sort_index()


@pytest.fixture(scope="module")
def grid(tmp_path_factory) -> Path:
    return write(tmp_path_factory.mktemp("grid"), GRID)


@pytest.fixture(scope="module")
def serial_result(grid, tmp_path_factory) -> pd.DataFrame:
    url = f"sqlite:///{tmp_path_factory.mktemp('serial') / 's.db'}"
    plan = load_experiment(grid)
    with open_executor(1) as executor:
        outcome = run_sweep(plan, store.open_store(url), executor)
    assert outcome.complete and outcome.ran == 12
    return stored_frame(url, outcome.batch_id)


def test_shipped_experiments_expand():
    sizes = {}
    names = (
        "coverage_linkage_grid",
        "donor_exit_timing",
        "sobol_main",
        "group_persistence",
        "facilitator_staffing",
        "chw_hours",
        "men_and_leaders",
        "voice_accountability",
        "membership_and_trust",
    )
    for name in names:
        plan = load_experiment(name)
        sizes[name] = (len(plan.points), plan.n_runs)
    assert sizes["coverage_linkage_grid"] == (30, 90)
    assert sizes["donor_exit_timing"] == (6, 30)
    assert sizes["sobol_main"] == (64 * (7 + 2), 64 * (7 + 2))
    assert sizes["group_persistence"] == (12, 36)
    assert sizes["facilitator_staffing"] == (8, 24)
    assert sizes["chw_hours"] == (36, 108)
    assert sizes["men_and_leaders"] == (30, 60)
    assert sizes["voice_accountability"] == (108, 216)
    assert sizes["membership_and_trust"] == (40, 80)


def test_designs(tmp_path):
    plan = load_experiment(write(tmp_path, GRID))
    assert len(plan.points) == 6 and plan.n_runs == 12
    assert [p["groups.training_coverage"] for p in plan.points[::2]] == [0.0, 0.5, 1.0]
    assert plan.seeds() == [3, 4]
    for kind, samples, expected in (("random", 7, 7), ("lhs", 9, 9), ("sobol", 8, 8 * (2 + 2))):
        text = (
            GRID.replace('kind = "grid"', f'kind = "{kind}"\nsamples = {samples}')
            .replace("values = [0.5, 2.0]", "range = [0.5, 2.0]")
            .replace("levels = 3\n", "")
        )
        plan = load_experiment(write(tmp_path, text, f"{kind}.toml"))
        values = np.array([p["groups.training_coverage"] for p in plan.points])
        assert len(plan.points) == expected
        assert values.min() >= 0.0 and values.max() <= 1.0 and np.unique(values).size > 1
        assert load_experiment(tmp_path / f"{kind}.toml").points == plan.points  # the same design every time
    lhs = np.array([p["groups.training_coverage"] for p in load_experiment(tmp_path / "lhs.toml").points])
    assert sorted(np.floor(lhs * 9).astype(int).tolist()) == list(range(9))  # one sample per stratum


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('kind = "grid"', 'kind = "grid"\nsample = 3'), "design.sample: unknown key"),
        (('kind = "grid"', 'kind = "factorial"'), "design.kind"),
        (('kind = "grid"', 'kind = "sobol"\nsamples = 8'), "needs range = [low, high] for"),
        (("levels = 3", "levels = 1"), "levels"),
        (("range = [0.0, 1.0]\nlevels = 3", "range = [0.0, 2.0]\nlevels = 3"), "groups.training_coverage"),
        (('[parameters."groups.training_coverage"]', '[parameters."groups.no_such_key"]'), "groups.no_such_key"),
        (('outputs = ["mcpr", "cost_cumulative"]', 'outputs = ["happiness"]'), "outputs: unknown ['happiness']"),
        (('scenario = "hrh2030_groups"', 'scenario = "nowhere"'), "nowhere: no such scenario file"),
    ],
)
def test_bad_experiment_names_file_and_key(tmp_path, change, message):
    path = write(tmp_path, GRID.replace(*change))
    with pytest.raises(ExperimentError) as caught:
        load_experiment(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)
    result = CliRunner().invoke(app, ["sweep", str(path), "--db", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert not (tmp_path / "x.db").exists()


@pytest.mark.slow
def test_process_pool_stores_the_same_results(grid, serial_result, tmp_path):
    url = f"sqlite:///{tmp_path / 'pool.db'}"
    with open_executor(2) as executor:
        outcome = run_sweep(load_experiment(grid), store.open_store(url), executor)
    pd.testing.assert_frame_equal(stored_frame(url, outcome.batch_id), serial_result, check_exact=True)


@pytest.mark.slow
def test_dask_local_cluster_stores_the_same_results(grid, serial_result, tmp_path):
    url = f"sqlite:///{tmp_path / 'dask.db'}"
    with open_executor(dask_local=2) as executor:
        assert executor.workers == 2
        outcome = run_sweep(load_experiment(grid), store.open_store(url), executor)
    pd.testing.assert_frame_equal(stored_frame(url, outcome.batch_id), serial_result, check_exact=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_dask_scheduler_and_workers_in_their_own_processes(grid, serial_result, tmp_path, pg_url):
    """A real `dask scheduler` and two `dask worker` processes on 127.0.0.1, the CLI pointed at them, storing
    in PostgreSQL."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = (tmp_path / "dask.log").open("w")
    processes = [
        subprocess.Popen(
            [VENV_BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    ]
    try:
        processes += [
            subprocess.Popen(
                [VENV_BIN / "dask", "worker", address, "--nthreads", "1", "--no-dashboard", "--name", f"w{n}"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            for n in range(2)
        ]
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        result = CliRunner().invoke(app, ["sweep", str(grid), "--scheduler", address, "--db", pg_url])
        assert result.exit_code == 0, result.output
        assert f"Dask scheduler {address}" in result.output
        batch = store.find_batch(store.open_store(pg_url), "sweep", load_experiment(grid).key())
        stored = stored_frame(pg_url, batch)
        pd.testing.assert_frame_equal(stored, serial_result, check_exact=True, check_dtype=False)
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        log.close()


@pytest.mark.slow
def test_unreachable_scheduler_is_one_message(grid, tmp_path):
    port = _free_port()
    result = CliRunner().invoke(
        app, ["sweep", str(grid), "--scheduler", f"tcp://127.0.0.1:{port}", "--db", f"sqlite:///{tmp_path / 'u.db'}"]
    )
    assert result.exit_code == 2
    assert f"--scheduler tcp://127.0.0.1:{port}: cannot connect" in " ".join(result.output.split())


def expected_run(plan, point: int, replicate: int) -> pd.DataFrame:
    """What an uninterrupted sweep stores for one run, computed in this process."""
    output = run_task(plan.base, {**plan.overrides(point), "seed": plan.seeds()[replicate]})
    return output.timeseries.set_index("month")


@pytest.mark.slow
def test_killed_sweep_keeps_finished_runs_and_resumes(tmp_path):
    """Kill a real `commsim sweep` process mid-way (SIGKILL: no clean-up at all), then run it again. Runs of
    4,000 households x 24 months, so that a run takes long enough to be caught half-way."""
    # runs of ~1 s each, so that the ten left after the first two stored take several seconds: the signal has to
    # arrive while the sweep still runs (with runs of 0.1 s a loaded machine finished it first)
    slow = write(tmp_path, GRID.replace("1200", "20000").replace("months = 12", "months = 36"), "slow.toml")
    url = f"sqlite:///{tmp_path / 'killed.db'}"
    command = [str(VENV_BIN / "commsim"), "sweep", str(slow), "--workers", "1", "--db", url]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    plan = load_experiment(slow)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
        if not (tmp_path / "killed.db").exists():
            continue
        batch = store.find_batch(store.open_store(url), "sweep", plan.key())
        if batch is not None and len(store.finished_runs(store.open_store(url), batch)) >= 3:
            break
    assert process.poll() is None, "the sweep finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    results = store.open_store(url)
    batch = store.find_batch(results, "sweep", plan.key())
    kept = store.finished_runs(results, batch)
    assert 3 <= len(kept) < 12
    partial = stored_frame(url, batch)
    columns = list(partial.columns.drop(["scenario_name", "scenario_hash", "seed"]))
    for point, replicate in kept:  # every stored run is whole and right
        expected = expected_run(plan, point, replicate)
        pd.testing.assert_frame_equal(partial.loc[(point, replicate)][columns], expected[columns], check_dtype=False)

    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"{len(kept)} were already stored: 12 of 12" in " ".join(again.stdout.split())
    complete = stored_frame(url, batch)
    assert sorted(set(complete.index.droplevel("month"))) == [(p, r) for p in range(6) for r in range(2)]
    pd.testing.assert_frame_equal(complete.loc[(5, 1)][columns], expected_run(plan, 5, 1)[columns], check_dtype=False)


def test_mesa_batch_run_agrees_with_the_sweep(grid, serial_result):
    """Mesa's own runner over the same parameters and seeds gives the sweep's final prevalence."""
    plan = load_experiment(grid)
    fixed = {key.replace(".", "__"): value for key, value in plan.experiment.set.items()}
    coverage = [0.0, 0.5, 1.0]
    results = mesa.batch_run(
        CommunityHealthModel,
        parameters={
            "config": "hrh2030_groups",
            **fixed,
            "groups__training_coverage": coverage,
            "interventions__monthly_follow_up__strength": 2.0,
        },
        rng=plan.seeds(),
        max_steps=12,
        number_processes=1,
        data_collection_period=-1,
        display_progress=False,
    )
    frame = pd.DataFrame(results)
    assert len(frame) == len(coverage) * 2
    for row in frame.itertuples():
        point = next(
            i
            for i, p in enumerate(plan.points)
            if p["groups.training_coverage"] == row.groups__training_coverage
            and p["interventions.monthly_follow_up.strength"] == 2.0
        )
        replicate = plan.seeds().index(row.rng)
        assert row.mcpr == serial_result.loc[(point, replicate, 12), "mcpr"]
        assert row.users == serial_result.loc[(point, replicate, 12), "users"]


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path):
    # runs of ~1 s each, so that the ten left after the first two stored take several seconds: the signal has to
    # arrive while the sweep still runs (with runs of 0.1 s a loaded machine finished it first)
    slow = write(tmp_path, GRID.replace("1200", "20000").replace("months = 12", "months = 36"), "slow.toml")
    url = f"sqlite:///{tmp_path / 'int.db'}"
    command = [str(VENV_BIN / "commsim"), "sweep", str(slow), "--workers", "2", "--db", url]
    # a shell that starts the tests in the background (nohup, `&`) hands them SIGINT ignored, and Python keeps it
    # so: the sweep is started with Ctrl-C's default, as from a terminal
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    plan = load_experiment(slow)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
        if (tmp_path / "int.db").exists():
            batch = store.find_batch(store.open_store(url), "sweep", plan.key())
            if batch is not None and len(store.finished_runs(store.open_store(url), batch)) >= 2:
                break
    assert process.poll() is None, "the sweep finished before it could be interrupted"
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    assert "Traceback" not in stderr
    kept = len(store.finished_runs(store.open_store(url), batch))
    assert f"stopped: {kept} of 12 runs are stored" in " ".join(stderr.split())
    assert "run the same command again to resume" in " ".join(stderr.split())


def test_a_password_in_the_database_url_is_never_shown_nor_stored(tmp_path, pg_url):
    """The `next:` line and the resume command show the URL with *** for the password, and say how to give the
    real one; nothing stored in the database holds it."""
    secret = "s3cr3t-pw"
    url = pg_url.replace("postgres@", f"postgres:{secret}@", 1)  # the test server trusts local users: not checked
    tiny = write(tmp_path, GRID.replace("replicates = 2", "replicates = 1").replace("levels = 3", "levels = 2"))
    result = CliRunner().invoke(app, ["sweep", str(tiny), "--workers", "1", "--db", url])
    assert result.exit_code == 0, result.output
    assert secret not in result.output
    shown = shlex.quote(store.shown_url(url))
    assert f"next: commsim analyze 1 --db {shown} ({PASSWORD_NOTE})" in " ".join(result.output.split())
    resume = command_line(sweep_words(str(tiny), 2, None, None, "python"), url)
    assert resume == f"commsim sweep {tiny} --workers 2 --backend python --db {shown} ({PASSWORD_NOTE})"
    engine = sa.create_engine(url)
    tables = sa.MetaData()
    tables.reflect(engine)
    with engine.connect() as connection:
        stored_text = "".join(str(row) for table in tables.sorted_tables for row in connection.execute(table.select()))
    engine.dispose()
    assert "groups.training_coverage" in stored_text and secret not in stored_text

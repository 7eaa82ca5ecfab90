"""`commsim analyze`: Sobol indices against the Ishigami function's known answer, and main effects, two-way
tables, per-point tables and the command itself on real sweeps stored in SQLite files."""

import contextlib
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from SALib.analyze import sobol
from SALib.test_functions import Ishigami
from typer.testing import CliRunner

from commsim.cli.analyze import analyze as analyze_command
from commsim.results import sensitivity as analyze
from commsim.runs import executors, sweep
from commsim.runs.experiment import Experiment, design_points, load_experiment
from commsim.store import database as store

COVERAGE, STRENGTH = "groups.training_coverage", "interventions.monthly_follow_up.strength"
PNG = b"\x89PNG\r\n\x1a\n"
GRID = f"""name = "grid"
scenario = "hrh2030_groups"
months = 12
replicates = 2
outputs = ["mcpr", "cost_cumulative"]
[set]
"population.households" = 1500
"population.villages" = 12
"population.facilities" = 3
[design]
kind = "grid"
[parameters."{COVERAGE}"]
range = [0.0, 1.0]
levels = 3
[parameters."{STRENGTH}"]
values = [0.5, 2.0]
"""
SOBOL = f"""name = "sobol"
scenario = "hrh2030_groups"
months = 12
[set]
"population.households" = 600
"population.villages" = 6
"population.facilities" = 2
[design]
kind = "sobol"
samples = 8
seed = 11
[parameters."{COVERAGE}"]
range = [0.0, 1.0]
[parameters."{STRENGTH}"]
range = [0.5, 2.0]
"""

app = typer.Typer()
app.command()(analyze_command)
runner = CliRunner()


class Stop(Exception):
    """Ends a sweep part-way, as a kill would."""


def run_experiment(folder: Path, text: str, name: str, stop_after: int | None = None) -> tuple[str, int, Path]:
    """Write an experiment file, sweep it into a new SQLite file in this process (stopping after `stop_after`
    stored runs if given) and return the database URL, the batch id and the file."""
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    url = f"sqlite:///{folder / f'{name}.db'}"
    plan, results = load_experiment(path), store.open_store(url)

    def on_run(done: int, _total: int) -> None:
        if stop_after is not None and done >= stop_after:
            raise Stop

    with executors.open_executor(1) as executor, contextlib.suppress(Stop):
        sweep.run_sweep(plan, results, executor, on_run=on_run)
    return url, sweep.sweep_batch(plan, results)[0], path


def final_months(url: str, batch_id: int) -> pd.DataFrame:
    """The last month of every run of a batch, straight from `store.export`."""
    frame = store.export(store.open_store(url), batch_id=batch_id)
    return frame[frame["month"] == frame["month"].max()]


@pytest.fixture(scope="module")
def grid(tmp_path_factory) -> tuple[str, int, Path]:
    """A 3 x 2 grid, 2 replicates, 12 months at 1,500 households."""
    return run_experiment(tmp_path_factory.mktemp("grid"), GRID, "grid")


@pytest.fixture(scope="module")
def sobol_sweep(tmp_path_factory) -> tuple[str, int, Path]:
    """A Sobol design over 2 parameters, N = 8: 32 runs of 12 months at 600 households."""
    return run_experiment(tmp_path_factory.mktemp("sobol"), SOBOL, "sobol")


@pytest.fixture(scope="module")
def partial_sobol(tmp_path_factory) -> tuple[str, int, Path]:
    """The same Sobol design, stopped after 5 of its 32 runs."""
    return run_experiment(tmp_path_factory.mktemp("partial"), SOBOL, "partial", stop_after=5)


def hand_made(function, n: int, seed: int) -> analyze.SweepData:
    """A Sobol sweep over x1..x3 in [-pi, pi] whose single replicate at each point is `function` of the point,
    carried in the mcpr column: the analysis without the model."""
    experiment = Experiment.model_validate(
        {
            "name": "hand_made",
            "scenario": "baseline",
            "design": {"kind": "sobol", "samples": n, "seed": seed},
            "parameters": {key: {"range": [-math.pi, math.pi]} for key in ("x1", "x2", "x3")},
        }
    )
    x = np.array([[point[key] for key in ("x1", "x2", "x3")] for point in design_points(experiment)])
    outcomes = pd.DataFrame({"point": np.arange(len(x)), "replicate": 0, "seed": 1, "mcpr": function(x)})
    return analyze.from_outcomes(experiment, outcomes)


def test_sobol_indices_match_ishigami():
    indices = analyze.sobol_indices(hand_made(Ishigami.evaluate, 1024, seed=7), "mcpr")
    assert indices["parameter"].tolist() == ["x1", "x2", "x3"]
    for name, expected in (("S1", (0.314, 0.442, 0.0)), ("ST", (0.558, 0.442, 0.244))):
        conf = indices[f"{name}_conf"].to_numpy()
        assert (conf > 0).all() and (conf < 0.1).all(), conf  # an interval tight enough to mean something
        assert (np.abs(indices[name].to_numpy() - expected) <= conf).all(), (name, indices)


def test_sobol_intervals_repeat_with_design_seed_zero():
    data = hand_made(Ishigami.evaluate, 64, seed=0)
    first, second = analyze.sobol_indices(data, "mcpr"), analyze.sobol_indices(data, "mcpr")
    pd.testing.assert_frame_equal(first, second)


def test_regression_recovers_a_linear_function():
    data = hand_made(lambda x: 2 * x[:, 0] - x[:, 1], 256, seed=3)
    table = analyze.regression_sensitivity(data, "mcpr").set_index("parameter")
    assert table["SRC"].to_numpy() == pytest.approx([2 / math.sqrt(5), -1 / math.sqrt(5), 0.0], abs=0.02)
    assert table["R2"].to_numpy() == pytest.approx(1.0, abs=1e-9)


def test_grid_loads_final_month_of_every_run(grid):
    url, batch_id, _ = grid
    data = analyze.load_sweep(store.open_store(url), batch_id)
    assert data.complete and data.stored == data.planned == 12
    assert "all 12 planned runs stored" in data.status()
    assert data.points.columns.tolist() == ["point", COVERAGE, STRENGTH]
    assert data.points[COVERAGE].tolist() == [0.0, 0.0, 0.5, 0.5, 1.0, 1.0]
    expected = final_months(url, batch_id).sort_values(["point", "replicate"])
    assert data.outcomes[["point", "replicate", "seed"]].to_numpy().tolist() == (
        expected[["point", "replicate", "seed"]].to_numpy().tolist()
    )
    assert data.outcomes["mcpr"].to_numpy() == pytest.approx(expected["mcpr"].to_numpy(), abs=0)


def test_grid_main_effects_show_the_dose_response(grid):
    url, batch_id, _ = grid
    data = analyze.load_sweep(store.open_store(url), batch_id)
    effects = analyze.main_effects(data, "mcpr").set_index(["parameter", "level"])
    coverage = effects.loc[COVERAGE]
    assert coverage.index.tolist() == [0.0, 0.5, 1.0]
    assert coverage.loc[1.0, "mean"] > coverage.loc[0.0, "mean"]
    final = final_months(url, batch_id).merge(data.points, on="point")
    for (key, level), row in effects.iterrows():
        runs = final.loc[final[key] == level, "mcpr"]
        assert row["mean"] == pytest.approx(runs.mean(), rel=1e-12)
        assert row["n_runs"] == len(runs) and row["ci_low"] <= row["mean"] <= row["ci_high"]  # equal points: zero width


def test_grid_two_way_and_point_table_match_the_store(grid):
    url, batch_id, _ = grid
    data = analyze.load_sweep(store.open_store(url), batch_id)
    final = final_months(url, batch_id).merge(data.points, on="point")
    table = analyze.two_way(data, "mcpr", COVERAGE, STRENGTH)
    assert table.shape == (3, 2)
    assert table.index.tolist() == [0.0, 0.5, 1.0] and table.columns.tolist() == [0.5, 2.0]
    expected = final.groupby([COVERAGE, STRENGTH])["mcpr"].mean().unstack()
    assert table.to_numpy() == pytest.approx(expected.to_numpy(), rel=1e-12)
    points = analyze.point_table(data)
    by_point = final.groupby("point")["cost_cumulative"]
    assert points["point"].tolist() == list(range(6))
    assert points["cost_cumulative_mean"].to_numpy() == pytest.approx(by_point.mean().to_numpy(), rel=1e-12)
    assert points["cost_cumulative_sd"].to_numpy() == pytest.approx(by_point.std().to_numpy(), rel=1e-12)
    assert points["mcpr_n"].tolist() == [2] * 6


def test_real_sobol_sweep(sobol_sweep):
    url, batch_id, _ = sobol_sweep
    data = analyze.load_sweep(store.open_store(url), batch_id)
    assert data.complete and len(data.points) == 32
    indices = analyze.sobol_indices(data, "mcpr")
    assert indices["parameter"].tolist() == [COVERAGE, STRENGTH]
    values = indices[["S1", "S1_conf", "ST", "ST_conf"]].to_numpy()
    assert np.isfinite(values).all()
    assert (indices["ST"] >= indices["S1"] - indices["S1_conf"] - indices["ST_conf"]).all()
    y = final_months(url, batch_id).sort_values("point")["mcpr"].to_numpy()  # one replicate per point
    problem = {"num_vars": 2, "names": [COVERAGE, STRENGTH], "bounds": [[0.0, 1.0], [0.5, 2.0]]}
    direct = sobol.analyze(problem, y, calc_second_order=False, seed=11)
    assert indices["S1"].to_numpy() == pytest.approx(direct["S1"], rel=1e-12)
    assert indices["ST_conf"].to_numpy() == pytest.approx(direct["ST_conf"], rel=1e-12)
    effects = analyze.main_effects(data, "mcpr")
    assert effects.groupby("parameter")["n_points"].sum().tolist() == [32, 32]  # every point in one quintile bin


def test_incomplete_sobol_is_refused_but_other_analyses_warn(partial_sobol):
    url, batch_id, _ = partial_sobol
    data = analyze.load_sweep(store.open_store(url), batch_id)
    assert data.stored == 5 and not data.complete
    assert "only 5 of 32 planned runs stored (27 missing" in data.status()
    with pytest.raises(analyze.AnalysisError, match=r"27 of 32 points have no stored run.*commsim sweep .*resumes"):
        analyze.sobol_indices(data, "mcpr")
    assert analyze.point_table(data)["mcpr_n"].tolist() == [1] * 5 + [0] * 27
    assert analyze.main_effects(data, "mcpr").groupby("parameter")["n_points"].sum().tolist() == [5, 5]


def test_load_sweep_refusals(tmp_path, grid):
    url = f"sqlite:///{tmp_path / 'other.db'}"
    results = store.open_store(url)
    compare_id = store.new_batch(results, "compare", "c", {})
    with pytest.raises(analyze.AnalysisError, match=f"batch {compare_id} is a compare, not a sweep"):
        analyze.load_sweep(results, compare_id)
    empty_id, _ = sweep.sweep_batch(load_experiment(grid[2]), results)
    with pytest.raises(analyze.AnalysisError, match="no stored runs"):
        analyze.load_sweep(results, empty_id)
    with pytest.raises(analyze.AnalysisError, match="output 'nope': unknown"):
        analyze.load_sweep(store.open_store(grid[0]), grid[1], ["mcpr", "nope"])


def invoke(*args: str):
    """Run the command; the result has stdout and stderr apart."""
    return runner.invoke(app, list(args))


@pytest.mark.slow
def test_cli_grid_by_id_and_by_file(grid, tmp_path):
    url, batch_id, path = grid
    for sweep_arg, out in ((str(batch_id), tmp_path / "by-id"), (str(path), tmp_path / "by-file")):
        result = invoke(sweep_arg, "--db", url, "--out", str(out), "--output", "mcpr")
        assert result.exit_code == 0, result.output
        assert "Main effects on final mCPR" in result.stdout and "all 12 planned runs stored" in result.stdout
        points = pd.read_csv(out / "points.csv")
        assert len(points) == 6 and "mcpr_mean" in points.columns and "cost_cumulative_mean" not in points.columns
        for name in ("heatmap-mcpr.png", "main_effects-mcpr.png"):
            assert (out / name).read_bytes()[:8] == PNG
        assert len(pd.read_csv(out / "main_effects.csv")) == 5  # 3 coverage levels + 2 strengths
        assert pd.read_csv(out / "two_way-mcpr.csv").shape == (3, 3)


@pytest.mark.slow
def test_cli_sobol_parquet(sobol_sweep, tmp_path):
    url, batch_id, _ = sobol_sweep
    result = invoke(str(batch_id), "--db", url, "--out", str(tmp_path), "--format", "parquet")
    assert result.exit_code == 0, result.output
    assert "Sobol indices of final mCPR" in result.stdout
    assert len(pd.read_parquet(tmp_path / "points.parquet")) == 32
    assert pd.read_csv(tmp_path / "sobol.csv")["parameter"].tolist() == [COVERAGE, STRENGTH]
    assert (tmp_path / "sobol-mcpr.png").read_bytes()[:8] == PNG


@pytest.mark.slow
def test_cli_warns_on_an_incomplete_grid(tmp_path):
    url, batch_id, _ = run_experiment(tmp_path, GRID, "half", stop_after=7)
    result = invoke(str(batch_id), "--db", url, "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert "warning: sweep" in result.stderr and "only 7 of 12 planned runs" in result.stderr
    assert pd.read_csv(tmp_path / "out" / "points.csv")["mcpr_n"].tolist() == [2, 2, 2, 1, 0, 0]


def test_cli_bad_input_is_one_message(grid, partial_sobol, tmp_path):
    url, batch_id, _ = grid
    compare_id = store.new_batch(store.open_store(url), "compare", "c", {})
    changed = tmp_path / "changed.toml"
    changed.write_text(GRID.replace("replicates = 2", "replicates = 3"), encoding="utf-8")
    cases = [
        (["999", "--db", url], "no comparison or sweep with id 999"),
        ([str(compare_id), "--db", url], "is a compare, not a sweep"),
        ([str(batch_id), "--db", url, "--output", "nope"], "output 'nope': unknown"),
        (["no_such_experiment", "--db", url], "no such experiment file"),
        ([str(changed), "--db", url], "no stored sweep of this experiment"),
        ([str(batch_id), "--db", url, "--format", "xlsx"], "--format: 'xlsx' is not one of csv, parquet"),
        ([str(partial_sobol[1]), "--db", partial_sobol[0]], "Sobol indices need every design point"),
    ]
    for args, message in cases:
        result = invoke(*args, "--out", str(tmp_path / "never"))
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.count("error:") == 1 and "Traceback" not in result.output
        assert message in " ".join(result.stderr.split()), (args, result.stderr)
    assert not (tmp_path / "never").exists()

"""`commsim run` storing runs, `commsim compare`, and `commsim results list | show | export`, on real SQLite files."""

import re
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup
from typer.testing import CliRunner

from commsim.cli.app import app
from commsim.results import effects
from commsim.scenario import loader
from commsim.store import database as store

runner = CliRunner()
SMALL = ["-n", "1500", "-m", "12", "--set", "population.villages=12", "--set", "population.facilities=3"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli-db")


@pytest.fixture(scope="module")
def db(folder: Path) -> str:
    """A database with two runs of baseline (seeds 1, 2) and one of supply_fix, stored by `commsim run`."""
    url = f"sqlite:///{folder / 'runs.db'}"
    for scenario, seed in (("baseline", 1), ("baseline", 2), ("supply_fix", 1)):
        out = folder / f"{scenario}-{seed}"
        result = runner.invoke(app, ["run", scenario, *SMALL, "--seed", str(seed), "--out", str(out), "--db", url])
        assert result.exit_code == 0, result.output
        assert re.search(r"stored as run \d+", result.output)
    return url


def test_run_stores_what_it_wrote(db, folder):
    runs = store.list_runs(store.open_store(db))
    assert list(runs["scenario_name"]) == ["supply_fix", "baseline", "baseline"]  # newest first
    record, ts = store.get_run(store.open_store(db), int(runs["id"].iloc[-1]))
    written = pd.read_csv(folder / "baseline-1" / "timeseries.csv")
    assert ts.columns.tolist() == written.columns.tolist()
    assert ts.to_numpy(float) == pytest.approx(written.to_numpy(float), rel=1e-12, abs=1e-12)
    assert record["seed"] == 1 and record["months"] == 12 and record["households"] == 1500


def test_no_store_stores_nothing(tmp_path, tiny_scenario):
    url = f"sqlite:///{tmp_path / 'none.db'}"
    result = runner.invoke(app, ["run", str(tiny_scenario), *SMALL, "--out", str(tmp_path / "o"), "--no-store"])
    assert result.exit_code == 0 and "stored as run" not in result.output
    assert not (tmp_path / "none.db").exists()
    assert runner.invoke(app, ["results", "list", "--db", url]).exit_code == 2


def test_results_list_filters(db):
    result = runner.invoke(app, ["results", "list", "--db", db, "--scenario", "baseline"])
    assert result.exit_code == 0
    assert "baseline" in result.output and "supply_fix" not in result.output
    assert "2 run(s)" in result.output


def test_results_show_and_rerun_from_its_toml(db, tmp_path):
    run_id = int(store.list_runs(store.open_store(db), scenario="supply_fix")["id"].iloc[0])
    shown = runner.invoke(app, ["results", "show", str(run_id), "--db", db])
    assert shown.exit_code == 0 and "supply_fix" in shown.output and "mCPR" in shown.output
    toml = runner.invoke(app, ["results", "show", str(run_id), "--db", db, "--toml"])
    assert toml.exit_code == 0
    path = tmp_path / "again.toml"
    path.write_text(toml.output, encoding="utf-8")
    rerun = runner.invoke(app, ["run", str(path), "--out", str(tmp_path / "again"), "--no-store"])
    assert rerun.exit_code == 0, rerun.output
    again = pd.read_csv(tmp_path / "again" / "timeseries.csv")
    _, stored = store.get_run(store.open_store(db), run_id)
    assert again.to_numpy(float) == pytest.approx(stored.to_numpy(float), rel=1e-12, abs=1e-12)
    assert loader.load_scenario(path).seed == 1


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export(db, tmp_path, fmt):
    target = tmp_path / f"all.{fmt}"
    result = runner.invoke(app, ["results", "export", "--db", db, "--format", fmt, "--out", str(target)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(target) if fmt == "csv" else pd.read_parquet(target)
    assert len(frame) == 3 * 13 and frame["run_id"].nunique() == 3
    assert {"scenario_name", "seed", "replicate", "mcpr", "cost_cumulative"} <= set(frame.columns)
    only = tmp_path / f"base.{fmt}"
    runner.invoke(app, ["results", "export", "--db", db, "-f", fmt, "--scenario", "baseline", "-o", str(only)])
    part = pd.read_csv(only) if fmt == "csv" else pd.read_parquet(only)
    assert set(part["scenario_name"]) == {"baseline"} and len(part) == 2 * 13


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["results", "show", "999"], "no run with id 999"),
        (["results", "export", "--format", "xml"], "--format: 'xml' is not one of csv, parquet"),
        (["results", "list", "--db", "nosuch://x"], "unknown kind of database 'nosuch'"),
        (["results", "list", "--db", "not a url"], "not a database URL"),
    ],
)
def test_bad_results_input(db, args, message):
    result = runner.invoke(app, [*args, "--db", db] if "--db" not in args else args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_compare_prints_stores_and_reports(tmp_path):
    url = f"sqlite:///{tmp_path / 'cmp.db'}"
    out = tmp_path / "report"
    args = ["compare", "baseline", "hrh2030_groups", "--reps", "2", *SMALL, "--workers", "1", "--db", url]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "hrh2030_groups" in result.output and "runs stored as batch" in result.output
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary["scenario"]) == ["baseline", "hrh2030_groups"]
    assert summary.loc[0, "diff_pp"] == 0.0
    assert list(summary.columns) == list(effects.SUMMARY_COLUMNS)  # every column, the renamed cost among them
    assert "cost_per_additional_user_year" in summary and "cost_per_additional_user" not in summary
    assert (summary.loc[0, list(effects.VERSUS_BASELINE)] == 0.0).all()
    for fragment in ("user-year", "(model)", "(Track20)", "(FP2030: end", "supervision", "US$ over"):  # headings
        # wrap within their cells
        assert fragment in result.output, fragment
    runs = store.list_runs(store.open_store(url))
    assert len(runs) == 4 and runs["batch_id"].nunique() == 1
    soup = BeautifulSoup((out / "report.html").read_text(encoding="utf-8"), "html.parser")
    assert soup.find(id="summary") is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["compare", "no_such_scenario"], "no_such_scenario"),
        (["compare", "baseline", "--baseline", "nowhere"], "nowhere"),
        (["compare", "baseline", "--set", "groups.training_coverage=7"], "groups.training_coverage"),
        (["compare", "baseline", "--reps", "0"], "--reps"),
    ],
)
def test_bad_compare_input(tmp_path, args, message):
    result = runner.invoke(app, [*args, "--db", f"sqlite:///{tmp_path / 'x.db'}", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert not (tmp_path / "x.db").exists()  # nothing ran, nothing was created


@pytest.mark.parametrize(
    "args",
    [
        ["results", "list", "--batch", str(10**30)],
        ["results", "list", "--limit", str(10**30)],
        ["results", "show", str(10**30)],
        ["results", "export", "--batch", str(2**63)],
        ["analyze", str(10**30)],
    ],
)
def test_an_id_beyond_what_a_database_holds_is_named(db, args):
    result = runner.invoke(app, [*args, "--db", db])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "9223372036854775807" in result.output.replace("\n", "").replace("│", "").replace(" ", "")

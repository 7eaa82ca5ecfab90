"""The command line: outputs of `run`, reproducing a run from its scenario.toml, listings, and bad input."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from commsim.cli.app import app
from commsim.model import BACKENDS, metrics
from commsim.model import community as model
from commsim.scenario import loader

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
runner = CliRunner()


def invoke(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def baseline_run(tmp_path_factory, small_run_args) -> tuple[Path, object]:
    """One small baseline run with a seed and a --set, shared by the tests that read its outputs."""
    out = tmp_path_factory.mktemp("cli") / "run"
    args = [*small_run_args, "--seed", "7", "--set", "groups.training_coverage=0.6", "--out", out]
    result = invoke("run", "baseline", *args)
    assert result.exit_code == 0, result.output
    return out, result


def test_run_writes_csv_scenario_and_png(baseline_run):
    out, _ = baseline_run
    ts = pd.read_csv(out / "timeseries.csv")
    assert tuple(ts.columns) == metrics.COLUMNS
    assert len(ts) == 12 + 1
    assert ts["month"].tolist() == list(range(13))
    assert (out / "scenario.toml").stat().st_size > 0
    png = (out / "summary.png").read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 10_000


def test_run_prints_summary_table(baseline_run):
    out, result = baseline_run
    text = result.stdout
    for expected in ("scenario baseline", "households 1,500", "months 12", "seed 7", "backend numba"):
        assert expected in text
    for row in ("mCPR", "unmet need", "new users per year", "active CHWs", "cost, cumulative", "wealth Q1", "10+ km"):
        assert row in text
    assert "wall time" in text
    assert str(out) in text.replace("\n", "")


def test_written_scenario_has_overrides_and_seed(baseline_run):
    out, _ = baseline_run
    written = loader.load_scenario(out / "scenario.toml")
    assert written.groups.training_coverage == 0.6
    assert written.seed == 7
    assert written.months == 12
    assert written.population.households == 1500
    assert written.population.villages == 12
    assert written.name == "baseline"


def test_rerun_from_scenario_toml_reproduces_csv(baseline_run, tmp_path):
    out, _ = baseline_run
    result = invoke("run", out / "scenario.toml", "--out", tmp_path / "again")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "again" / "timeseries.csv").read_bytes() == (out / "timeseries.csv").read_bytes()
    assert (tmp_path / "again" / "scenario.toml").read_text() == (out / "scenario.toml").read_text()


def test_seed_changes_results(baseline_run, tmp_path):
    out, _ = baseline_run
    result = invoke("run", out / "scenario.toml", "--seed", "8", "--out", tmp_path / "other")
    assert result.exit_code == 0, result.output
    assert loader.load_scenario(tmp_path / "other" / "scenario.toml").seed == 8
    assert not pd.read_csv(tmp_path / "other" / "timeseries.csv").equals(pd.read_csv(out / "timeseries.csv"))


def test_default_out_dir_under_results(tiny_scenario, small_run_args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("run", tiny_scenario, *small_run_args, "--months", "2")
    assert result.exit_code == 0, result.output
    (made,) = (tmp_path / "results").iterdir()
    assert made.name.startswith("tiny-")
    assert {p.name for p in made.iterdir()} == {
        "timeseries.csv",
        "service_statistics.csv",
        "scenario.toml",
        "summary.png",
    }
    assert len(pd.read_csv(made / "timeseries.csv")) == 3


@pytest.mark.slow
def test_python_backend_gives_the_same_csv(tiny_scenario, small_run_args, tmp_path):
    for backend in BACKENDS:
        result = invoke("run", tiny_scenario, *small_run_args, "--backend", backend, "--out", tmp_path / backend)
        assert result.exit_code == 0, result.output
        assert f"backend {backend}" in result.stdout
    csvs = {(tmp_path / backend / "timeseries.csv").read_bytes() for backend in BACKENDS}
    assert len(csvs) == 1


def test_cli_backends_are_the_models():
    assert BACKENDS is model.BACKENDS  # declared once


def test_scenarios_lists_every_shipped_scenario():
    result = invoke("scenarios")
    assert result.exit_code == 0, result.output
    shipped = loader.shipped_scenarios()
    assert "baseline" in {path.stem for path in shipped}
    listed = {line.split()[0] for line in result.stdout.splitlines() if line.strip()}
    for path in shipped:
        assert path.stem in listed
    assert "invalid" not in result.stdout


def test_phases_lists_the_model_step_order():
    result = invoke("phases")
    assert result.exit_code == 0, result.output
    numbered = [line.split()[:2] for line in result.stdout.splitlines() if line.strip()[:1].isdigit()]
    assert numbered == [[f"{n}.", phase.name] for n, phase in enumerate(model.PHASES, start=1)]
    for description in (phase.does for phase in model.PHASES):
        assert description[:30] in result.stdout.replace("\n", " ")
    writes = [line.split("writes ", 1)[1] for line in result.stdout.splitlines() if line.strip().startswith("writes")]
    assert writes == [", ".join(phase.writes) for phase in model.PHASES]


@pytest.fixture
def unknown_key_scenario(tmp_path) -> Path:
    path = tmp_path / "typo.toml"
    path.write_text('name = "typo"\n[groups]\np_membr = 0.3\n', encoding="utf-8")
    return path


@pytest.fixture
def broken_toml(tmp_path) -> Path:
    path = tmp_path / "broken.toml"
    path.write_text('name = "unterminated\n', encoding="utf-8")
    return path


def assert_bad_input(result, *expected: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    message = result.stderr.replace("\n", " ")
    for text in expected:
        assert text in message, f"{text!r} not in {message!r}"


def test_missing_scenario_file(tmp_path):
    assert_bad_input(invoke("run", tmp_path / "nope.toml"), "error:", "nope.toml", "no such scenario", "baseline")


def test_unknown_key_names_file_key_and_allowed_keys(unknown_key_scenario, tmp_path):
    result = invoke("run", unknown_key_scenario, "--out", tmp_path / "never")
    assert_bad_input(result, "typo.toml", "groups.p_membr", "unknown key", "allowed", "p_member", "training_coverage")
    assert not (tmp_path / "never").exists()


def test_out_of_range_set_names_key_and_bound(tiny_scenario):
    assert_bad_input(invoke("run", tiny_scenario, "--set", "groups.p_member=1.5"), "groups.p_member", "<= 1", "1.5")


def test_set_without_equals(tiny_scenario):
    assert_bad_input(invoke("run", tiny_scenario, "--set", "groups.p_member"), "--set groups.p_member", "KEY=VALUE")


def test_bad_backend(tiny_scenario):
    assert_bad_input(invoke("run", tiny_scenario, "--backend", "gpu"), "--backend", "gpu", "numba", "python")


def test_unparseable_toml(broken_toml):
    assert_bad_input(invoke("run", broken_toml), "broken.toml", "not valid TOML")


def test_out_is_a_file(tiny_scenario, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert_bad_input(invoke("run", tiny_scenario, "--out", blocker), "--out", "not a directory")
    assert_bad_input(invoke("run", tiny_scenario, "--out", blocker / "sub"), "--out", "cannot create")


def test_wrong_value_type(tiny_scenario):
    assert_bad_input(invoke("run", tiny_scenario, "--set", "population.households=many"), "population.households")


def test_usage_errors_exit_2(tiny_scenario):
    assert invoke("run").exit_code == 2
    assert invoke("run", tiny_scenario, "--months", "abc").exit_code == 2
    assert invoke("frobnicate").exit_code == 2


@pytest.mark.slow
def test_real_process_bad_input_and_phases(unknown_key_scenario):
    command = [sys.executable, "-m", "commsim"]
    bad = subprocess.run([*command, "run", str(unknown_key_scenario)], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert "Traceback" not in bad.stderr
    assert bad.stderr.startswith("error: ")
    assert "typo.toml: groups.p_membr: unknown key" in bad.stderr
    good = subprocess.run([*command, "phases"], capture_output=True, text=True, timeout=120)
    assert good.returncode == 0, good.stderr
    assert all(phase.name in good.stdout for phase in model.PHASES)


@pytest.mark.slow
def test_real_process_run(tiny_scenario, small_run_args, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "commsim", "run", str(tiny_scenario), *small_run_args, "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert tuple(pd.read_csv(tmp_path / "o" / "timeseries.csv").columns) == metrics.COLUMNS

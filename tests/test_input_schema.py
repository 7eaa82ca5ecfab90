"""Values that parse but make no sense: non-finite numbers anywhere in scenarios, experiments and targets, and
cross-field rules (villages, facilities, referral levels, donor exits, names, seeds, start months). Each is one
message naming the file and the key and saying what is allowed."""

import math
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from commsim.cli.app import app
from commsim.evidence.targets import TargetsError, load_targets
from commsim.runs.experiment import ExperimentError, load_experiment
from commsim.scenario.loader import ScenarioError, load_scenario

EXPERIMENT = """name = "e"
scenario = "baseline"
months = 12
[set]
"population.households" = 200
[design]
kind = "grid"
[parameters."groups.p_member"]
values = [0.1, 0.2]
"""
TARGETS = """name = "t"
months = 24
[targets.mcpr]
value = 0.16
scale = 0.01
source = "Mali DHS 2018"
[parameters."households.rate_awareness_per_month"]
low = 0.02
high = 0.30
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def scenario_error(tmp_path: Path, text: str) -> str:
    path = write(tmp_path / "s.toml", text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return str(info.value).removeprefix(f"{path}: ")


@pytest.mark.parametrize("number", ["inf", "-inf", "nan", "1e309", "-1e309", "+inf"])
@pytest.mark.parametrize(
    ("table", "key"),
    [
        ("costs", "chw_month_usd"),
        ("costs", "facility_minute_usd"),
        ("population", "side_km"),
        ("households", "choice_quality"),
    ],
)
def test_non_finite_numbers_are_refused_in_scenarios(tmp_path, number, table, key):
    text = scenario_error(tmp_path, f"[{table}]\n{key} = {number}\n")
    assert text.startswith(f"{table}.{key}: Input should be a finite number (got ")


def test_non_finite_numbers_are_refused_in_interventions_and_overrides(tmp_path):
    text = scenario_error(tmp_path, '[interventions.x]\ntype = "linkage"\nstrength = nan\n')
    assert text.startswith("interventions.x.strength: Input should be a finite number")
    with pytest.raises(ScenarioError, match=r"^baseline: costs.chw_month_usd: Input should be a finite number"):
        load_scenario("baseline", {"costs.chw_month_usd": math.inf})


def test_a_huge_finite_unit_cost_is_refused(tmp_path):
    assert scenario_error(tmp_path, "[costs]\nchw_month_usd = 1e300\n") == (
        "costs.chw_month_usd: must be <= 1000000.0 (got 1e+300)"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[population]\nfacilities = 2\nreferral_facilities = 5\n",
            "population.referral_facilities: must be at most facilities (2) (got 5)",
        ),
        (
            "[population]\nhouseholds = 200\nvillages = 1000000\n",
            "population.villages: must be at most households (200) (got 1000000)",
        ),
        (
            "[population]\nvillages = 2\nfacilities = 50\n",
            "population.facilities: must be at most villages (2) (got 50)",
        ),
        (
            '[interventions.a]\ntype = "donor_exit"\nstart_month = 12\n[interventions.b]\ntype = "donor_exit"\n',
            "interventions.b: a second donor_exit (after a); a scenario has at most one",
        ),
        ('name = "two\\nlines"\n', "name: must be one line of printable text (got 'two\\nlines')"),
    ],
    ids=["referral of facilities", "villages of households", "facilities of villages", "two exits", "newline"],
)
def test_inconsistent_scenarios_name_the_key_and_what_is_allowed(tmp_path, text, expected):
    assert scenario_error(tmp_path, text) == expected


@pytest.mark.parametrize(
    "key", ["\\u0085", "\\u2028", "\\n", "\\u202e"], ids=["next line", "line separator", "newline", "right-to-left"]
)
def test_an_unknown_key_that_is_not_printable_is_quoted_on_one_line(tmp_path, key):
    text = scenario_error(tmp_path, f'[groups]\n"{key}" = 1\n')
    assert text.startswith(f"groups.{key.encode().decode('unicode_escape')!r}: unknown key; allowed here: ")
    assert len(text.splitlines()) == 1


@pytest.mark.parametrize("name", ["a.b", "a__b", "two\nlines", "", "x" * 81, "-lead"])
def test_intervention_names_must_be_addressable_by_dotted_keys(tmp_path, name):
    quoted = name.replace("\n", "\\n")
    text = scenario_error(tmp_path, f'[interventions."{quoted}"]\ntype = "advocacy"\n')
    assert "bad name" in text and "no '.' or '__'" in text
    assert len(text.splitlines()) == 1


def test_the_limits_themselves_are_allowed():
    sc = load_scenario(
        "baseline",
        {
            "population.households": 200,
            "population.villages": 200,
            "population.facilities": 200,
            "population.referral_facilities": 200,
            "costs.chw_month_usd": 1_000_000.0,
            "interventions.ui_exit-1.type": "donor_exit",
        },
    )
    assert sc.population.referral_facilities == 200 and list(sc.interventions) == ["ui_exit-1"]


# --- experiments -------------------------------------------------------------------------------------------


def experiment_error(tmp_path: Path, text: str) -> str:
    path = write(tmp_path / "e.toml", text)
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    return str(info.value).removeprefix(f"{path}: ")


@pytest.mark.parametrize(
    ("swap", "expected"),
    [
        ("values = [0.1, inf]", "parameters.groups.p_member.values.1.float: Input should be a finite number"),
        ("range = [0.1, 1e309]", "parameters.groups.p_member.range.1: Input should be a finite number"),
        ("range = [nan, 0.5]", "parameters.groups.p_member.range.0: Input should be a finite number"),
        ("range = [-1e308, 1e308]", "parameters.groups.p_member: range: too wide to sample"),
    ],
)
def test_non_finite_experiment_values_are_refused(tmp_path, swap, expected):
    text = experiment_error(
        tmp_path, EXPERIMENT.replace("values = [0.1, 0.2]", swap).replace('"grid"', '"random"\nsamples = 4')
    )
    assert text.startswith(expected)


def test_a_non_finite_fixed_key_is_refused(tmp_path):
    text = experiment_error(
        tmp_path, EXPERIMENT.replace('"population.households" = 200', '"costs.chw_month_usd" = inf')
    )
    assert text.startswith("set.costs.chw_month_usd.float: Input should be a finite number")


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("[design]", '[parameters."seed"]\nvalues = [1, 2]\n[design]', "parameters.seed"),
        ("[set]", '[set]\n"seed" = 7', "set.seed"),
    ],
)
def test_the_seed_is_set_by_replicates_not_swept_or_fixed(tmp_path, old, new, key):
    text = experiment_error(tmp_path, EXPERIMENT.replace(old, new))
    assert text.startswith(f"{key}: the seed is not swept or fixed here: replicates set the seeds")


def test_a_swept_start_month_after_the_runs_is_refused(tmp_path):
    text = EXPERIMENT.replace('scenario = "baseline"', 'scenario = "donor_exit"').replace(
        '[parameters."groups.p_member"]\nvalues = [0.1, 0.2]',
        '[parameters."interventions.donor_exit.start_month"]\nvalues = [6, 12, 13]',
    )
    assert experiment_error(tmp_path, text).startswith(
        "parameters.interventions.donor_exit.start_month = 13: after the last month of the runs (months = 12)"
    )
    path = write(tmp_path / "ok.toml", text.replace("values = [6, 12, 13]", "values = [6, 12]"))
    assert len(load_experiment(path).points) == 2  # at the horizon: the exit never comes, a point to compare with


def test_a_design_too_big_to_expand_is_refused_before_it_is_expanded(tmp_path):
    grid = "".join(f'[parameters."p{i}"]\nrange = [0.0, 1.0]\nlevels = 1000\n' for i in range(5))
    text = experiment_error(tmp_path, EXPERIMENT.split('[parameters."groups.p_member"]')[0] + grid)
    assert text == "design: 1,000,000,000,000,000 design points; at most 1,000,000 (fewer values, levels or samples)"


def test_experiment_names_are_one_line(tmp_path):
    text = experiment_error(tmp_path, EXPERIMENT.replace('name = "e"', 'name = "a\\rb"'))
    assert text == "name: must be one line of printable text (got 'a\\rb')"


def test_replicate_seeds_stay_within_the_scenarios_bound(tmp_path):
    text = experiment_error(
        tmp_path, EXPERIMENT.replace("months = 12", f"months = 12\nseed = {2**63 - 2}\nreplicates = 3")
    )
    assert (
        text == f"seed: must be at most {2**63 - 3} with 3 replicates (replicate r runs on seed + r) (got {2**63 - 2})"
    )


# --- targets -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("scale = 0.01", "scale = inf", "targets.mcpr.scale: Input should be a finite number"),
        ("value = 0.16", "value = nan", "targets.mcpr.value: Input should be a finite number"),
        ("scale = 0.01", "scale = 0.01\nweight = inf", "targets.mcpr.weight: Input should be a finite number"),
        ("high = 0.30", "high = inf", "parameters.households.rate_awareness_per_month.high: Input should be a finite"),
        ("low = 0.02", "low = -1e309", "parameters.households.rate_awareness_per_month.low: Input should be a finite"),
        ('name = "t"', 'name = "t\\u0000"', "name: must be one line of printable text"),
    ],
)
def test_non_finite_targets_are_refused(tmp_path, old, new, expected):
    path = write(tmp_path / "t.toml", TARGETS.replace(old, new))
    with pytest.raises(TargetsError) as info:
        load_targets(path)
    assert str(info.value).startswith(f"{path}: {expected}")


# --- through the CLI: exit 2, one message, nothing stored --------------------------------------------------


@pytest.mark.parametrize("value", ["inf", "1e309", "nan"])
def test_a_non_finite_cost_is_refused_before_the_run_and_stores_nothing(tmp_path, tiny_scenario, value):
    db = tmp_path / "r.db"
    args = ["run", str(tiny_scenario), "-n", "200", "-m", "2", "--set", f"costs.chw_month_usd={value}"]
    result = CliRunner().invoke(app, [*args, "--db", f"sqlite:///{db}", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "costs.chw_month_usd: Input should be a finite number" in result.output
    assert "Traceback" not in result.output
    if db.exists():
        with sqlite3.connect(db) as con:
            tables = {row[0] for row in con.execute("select name from sqlite_master where type = 'table'")}
            assert "runs" not in tables or con.execute("select count(*) from runs").fetchone() == (0,)


def test_an_unknown_measure_with_a_newline_is_one_line(tmp_path):
    path = write(tmp_path / "t.toml", TARGETS.replace("[targets.mcpr]", '[targets."mc\\npr"]'))
    with pytest.raises(TargetsError) as info:
        load_targets(path)
    assert str(info.value).startswith(f"{path}: targets.'mc\\npr': unknown measure; allowed: ")

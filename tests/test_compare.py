"""Comparisons: common random numbers, paired intervals, cost per additional user, sustainability after a donor
exit, and identical results from the serial loop and the process pool."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from commsim.errors import CommsimError
from commsim.results import effects
from commsim.runs import compare
from commsim.scenario import loader
from commsim.store import database as store

SMALL = {"population.households": 2000, "population.villages": 16, "population.facilities": 3, "months": 36}
T_975_2DF = 4.3027  # Student t quantile, 97.5%, 2 degrees of freedom, as statistical tables print it


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> tuple[store.Store, compare.Comparison]:
    """baseline, hrh2030_groups, donor_exit and baseline again, 4 seeds each, on 2 worker processes."""
    results = store.open_store(f"sqlite:///{tmp_path_factory.mktemp('cmp') / 'c.db'}")
    arms, base = compare.resolve_arms(["baseline", "hrh2030_groups", "donor_exit", "baseline"], None, SMALL)
    comparison = compare.run_comparison(arms, base, compare.comparison_seeds(4, 11), store=results, workers=2)
    return results, comparison


def test_interval_matches_the_t_table():
    mean, lo, hi = effects.interval(np.array([1.0, 2.0, 3.0]))
    assert mean == 2.0
    assert hi - mean == pytest.approx(T_975_2DF / math.sqrt(3), abs=0.00005 / math.sqrt(3))  # table rounding
    assert mean - lo == pytest.approx(hi - mean, rel=1e-12)
    assert effects.interval(np.array([5.0, 5.0, 5.0])) == (5.0, 5.0, 5.0)
    single = effects.interval(np.array([0.3]))
    assert single[0] == 0.3 and math.isnan(single[1]) and math.isnan(single[2])


def test_arms_labels_and_baseline():
    arms, base = compare.resolve_arms(["hrh2030_groups", "baseline", "baseline"], None, SMALL)
    assert list(arms) == ["hrh2030_groups", "baseline", "baseline-2"]
    assert base == "baseline"
    arms, base = compare.resolve_arms(["hrh2030_groups"], "supply_fix", SMALL)
    assert list(arms) == ["supply_fix", "hrh2030_groups"] and base == "supply_fix"
    assert all(config.months == 36 and config.population.households == 2000 for config in arms.values())


def test_different_horizons_are_refused(tmp_path):
    short = tmp_path / "short.toml"
    short.write_text(f'extends = "{loader.resolve_path("hrh2030_groups")}"\nname = "short"\nmonths = 36\n')
    with pytest.raises(CommsimError, match=r"baseline: 60, short: 36\); set one with --months"):
        compare.resolve_arms(["baseline", short], None)
    assert [c.months for c in compare.resolve_arms(["baseline", short], None, {"months": 12})[0].values()] == [12, 12]


def test_scenario_against_itself_differs_by_exactly_zero(stored):
    _, comparison = stored
    summary = effects.summarise(comparison.frame, comparison.baseline, comparison.exits()).set_index("scenario")
    twin = summary.loc["baseline-2"]
    assert (twin[["diff_pp", "diff_lo_pp", "diff_hi_pp"]] == 0.0).all()
    assert (twin[["additional_users", "additional_users_lo", "additional_users_hi"]] == 0.0).all()
    assert twin["mcpr"] == summary.loc["baseline", "mcpr"]
    assert math.isnan(twin["cost_per_additional_user"])


def test_every_scenario_ran_on_the_same_seeds(stored):
    _, comparison = stored
    seeds = comparison.frame.groupby("scenario")["seed"].apply(lambda s: tuple(sorted(set(s))))
    assert set(seeds) == {(11, 12, 13, 14)}
    assert comparison.seeds == [11, 12, 13, 14]


def test_common_seeds_narrow_the_interval_of_the_difference(stored):
    """The point of common random numbers: the paired interval is narrower than the unpaired (Welch) one."""
    _, comparison = stored
    end = effects.final_rows(comparison.frame)
    prog, base = end.loc["hrh2030_groups", "mcpr"], end.loc["baseline", "mcpr"]
    _, lo, hi = effects.interval((prog - base).to_numpy())
    welch = stats.ttest_ind(prog, base, equal_var=False).confidence_interval(0.95)
    assert hi - lo < (welch.high - welch.low)
    assert lo > 0  # the programme raises prevalence in every replicate's pairing, beyond noise


def test_summary_numbers_follow_from_the_runs(stored):
    _, comparison = stored
    summary = effects.summarise(comparison.frame, "baseline", comparison.exits()).set_index("scenario")
    end = effects.final_rows(comparison.frame)
    row = summary.loc["hrh2030_groups"]
    extra = (end.loc["hrh2030_groups", "users"] - end.loc["baseline", "users"]).mean()
    cost = end.loc["hrh2030_groups", "cost_cumulative"].mean() - end.loc["baseline", "cost_cumulative"].mean()
    assert row["additional_users"] == pytest.approx(extra, rel=1e-12)
    assert row["incremental_cost"] == pytest.approx(cost, rel=1e-12)
    assert row["cost_per_additional_user"] == pytest.approx(cost / extra, rel=1e-12)
    gap = (end.loc["hrh2030_groups", "mcpr_0_2km"] - end.loc["hrh2030_groups", "mcpr_10km_plus"]).mean()
    assert row["distance_gap_pp"] == pytest.approx(100 * gap, rel=1e-12)
    assert list(summary.index) == ["baseline", "hrh2030_groups", "donor_exit", "baseline-2"]


def test_sustainability_only_for_a_donor_exit(stored):
    _, comparison = stored
    summary = effects.summarise(comparison.frame, "baseline", comparison.exits()).set_index("scenario")
    assert summary.loc["donor_exit", "donor_exit_month"] == 24
    verdict = summary.loc["donor_exit", "sustainability"]
    assert verdict == "held" or verdict.isdigit()
    assert summary.loc["hrh2030_groups", "sustainability"] == ""


def test_months_to_half_on_known_gains():
    months = pd.Index(range(10), name="month")
    decaying = pd.Series([0, 1, 2, 4, 4, 3.5, 3, 2.5, 2, 1.5], index=months)
    assert effects.months_to_half(decaying, 4) == "4"  # 4 at the exit, 2 (half) four months later
    assert effects.months_to_half(pd.Series([0, 2, 2, 2, 2, 1.9], index=months[:6]), 2) == "held"
    assert effects.months_to_half(pd.Series([0, -1, -1, -1], index=months[:4]), 1) == "no gain at exit"
    assert effects.months_to_half(decaying, 9) == "exit after horizon"


def test_every_run_is_stored_with_its_batch(stored):
    results, comparison = stored
    runs = store.list_runs(results, batch_id=comparison.batch_id)
    assert len(runs) == 4 * 4
    assert sorted(comparison.run_ids.values()) == sorted(runs["id"])
    exported = store.export(results, batch_id=comparison.batch_id)
    for (label, rep), run_id in comparison.run_ids.items():
        mine = comparison.frame[(comparison.frame["scenario"] == label) & (comparison.frame["replicate"] == rep)]
        saved = exported[exported["run_id"] == run_id]
        columns = [c for c in mine.columns if c not in ("scenario", "replicate", "seed", "run_id")]
        assert np.array_equal(saved[columns].to_numpy(float), mine[columns].to_numpy(float))


def test_process_pool_and_serial_loop_agree(stored):
    """Determinism across executors: the pool's runs equal a serial rerun of the same design."""
    _, pooled = stored
    arms = {label: pooled.scenarios[label] for label in ("baseline", "donor_exit")}
    serial = compare.run_comparison(arms, "baseline", [11, 13], store=None, workers=1)
    for label in arms:
        for rep, seed in enumerate([11, 13]):
            a = serial.frame[(serial.frame["scenario"] == label) & (serial.frame["replicate"] == rep)]
            b = pooled.frame[(pooled.frame["scenario"] == label) & (pooled.frame["seed"] == seed)]
            outputs = [c for c in a.columns if c not in ("scenario", "replicate", "seed", "run_id")]
            assert a[outputs].reset_index(drop=True).equals(b[outputs].reset_index(drop=True))

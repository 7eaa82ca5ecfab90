"""Comparisons: common random numbers, paired intervals, cost per additional user-year and per unintended pregnancy
averted, sustainability after a donor exit, and identical results from the serial loop and the process pool."""

import math

import numpy as np
import pandas as pd
import pytest

from commsim.errors import CommsimError
from commsim.results import effects
from commsim.runs import compare
from commsim.scenario import loader
from commsim.scenario.loader import load_scenario
from commsim.scenario.schema import METHODS
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
    """The baseline against itself, and a second run of it: every number measured against the baseline, and its
    interval, is exactly 0; what each scenario counts of its own is the same in both."""
    _, comparison = stored
    summary = effects.summarise_comparison(comparison).set_index("scenario")
    against = [
        column
        for name in effects.VERSUS_BASELINE
        for column in ((name, "diff_lo_pp", "diff_hi_pp") if name == "diff_pp" else (name, f"{name}_lo", f"{name}_hi"))
    ]
    for label in ("baseline", "baseline-2"):
        assert (summary.loc[label, against] == 0.0).all(), summary.loc[label, against]
        assert math.isnan(summary.loc[label, "cost_per_additional_user_year"])
        assert math.isnan(summary.loc[label, "cost_per_unintended_averted"])
    own = ["mcpr", "births", "user_years", "fp2030_additional_users", "track20_all_unintended_averted"]
    assert (summary.loc["baseline-2", own] == summary.loc["baseline", own]).all()
    assert summary.loc["baseline", "track20_all_unintended_averted"] > 0  # its users against no use at all


def test_every_scenario_ran_on_the_same_seeds(stored):
    _, comparison = stored
    seeds = comparison.frame.groupby("scenario")["seed"].apply(lambda s: tuple(sorted(set(s))))
    assert set(seeds) == {(11, 12, 13, 14)}
    assert comparison.seeds == [11, 12, 13, 14]


def test_common_seeds_narrow_the_interval_of_the_difference(stored):
    """The point of common random numbers: the arms' outcomes move together across seeds, so the paired
    difference varies less than two independent arms' would (its standard error is below Welch's), and the
    paired interval excludes zero."""
    _, comparison = stored
    end = effects.final_rows(comparison.frame)
    prog, base = end.loc["hrh2030_groups", "mcpr"].to_numpy(), end.loc["baseline", "mcpr"].to_numpy()
    paired = (prog - base).std(ddof=1) / np.sqrt(prog.size)
    unpaired = np.sqrt(prog.var(ddof=1) / prog.size + base.var(ddof=1) / base.size)
    assert paired < unpaired
    _, lo, _ = effects.interval(prog - base)
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
    sums = comparison.frame[comparison.frame["month"] > 0].groupby(["scenario", "replicate"]).sum(numeric_only=True)
    extra_years = (sums.loc["hrh2030_groups", "users"] - sums.loc["baseline", "users"]).mean() / 12
    averted = sums.loc["baseline", "unintended_pregnancies"] - sums.loc["hrh2030_groups", "unintended_pregnancies"]
    assert row["additional_user_years"] == pytest.approx(extra_years, rel=1e-12)
    assert row["cost_per_additional_user_year"] == pytest.approx(cost / extra_years, rel=1e-12)
    assert row["cost_per_unintended_averted"] == pytest.approx(cost / averted.mean(), rel=1e-12)
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


# --- What planners count ------------------------------------------------------------------------------------


def horizon_sums(exported: pd.DataFrame, column: str) -> pd.Series:
    """`column` summed over months 1..T of each stored run, indexed by (scenario, replicate)."""
    months = exported[exported["month"] > 0]
    return months.groupby(["scenario_name", "replicate"])[column].sum()


def test_averted_is_baseline_minus_scenario_in_the_stored_runs(stored):
    """Recomputed from what the store holds, by hand: per replicate, the baseline's unintended pregnancies and
    births over the horizon minus the scenario's; their mean is the summary's, and the unsafe abortions and
    maternal deaths averted follow from them by the impact ratios."""
    results, comparison = stored
    exported = store.export(results, batch_id=comparison.batch_id)
    runs = [comparison.run_ids[(label, r)] for label in ("baseline", "hrh2030_groups") for r in range(4)]
    exported = exported[exported["run_id"].isin(runs)]  # not baseline-2, also stored as scenario "baseline"
    summary = effects.summarise_comparison(comparison).set_index("scenario")
    row = summary.loc["hrh2030_groups"]
    unintended, births = horizon_sums(exported, "unintended_pregnancies"), horizon_sums(exported, "births")
    averted = unintended.loc["baseline"] - unintended.loc["hrh2030_groups"]
    births_averted = births.loc["baseline"] - births.loc["hrh2030_groups"]
    assert row["unintended_averted"] == pytest.approx(averted.mean(), rel=1e-12)
    assert row["births_averted"] == pytest.approx(births_averted.mean(), rel=1e-12)
    _, lo, hi = effects.interval(averted.to_numpy(float))
    assert (row["unintended_averted_lo"], row["unintended_averted_hi"]) == pytest.approx((lo, hi), rel=1e-12)
    unsafe = averted.mean() * 0.20 * 0.85  # the model's abortion share of unintended pregnancies x unsafe share
    assert row["unsafe_abortions_averted"] == pytest.approx(unsafe, rel=1e-12)
    deaths = births_averted.mean() * 562 / 100_000 + unsafe * 220 / 100_000
    assert row["maternal_deaths_averted"] == pytest.approx(deaths, rel=1e-12)
    assert row["births"] == pytest.approx(births.loc["hrh2030_groups"].mean(), rel=1e-12)
    users = exported.sort_values("month").groupby(["scenario_name", "replicate"])["users"]
    gained = (users.last() - users.first()).loc["hrh2030_groups"]  # FP2030: the end minus month 0, within the arm
    assert row["fp2030_additional_users"] == pytest.approx(gained.mean(), rel=1e-12)
    married = exported[exported["month"] == exported["month"].max()].groupby(["scenario_name"])["mcpr_married"]
    assert row["mcpr_married"] == pytest.approx(married.mean().loc["hrh2030_groups"], rel=1e-12)


def test_cyp_and_cost_per_additional_cyp_follow_from_the_runs(stored):
    """CYP over the horizon is the runs' monthly cyp summed over months 1..T; additional CYP is paired against the
    baseline (exactly 0 for it), and the cost per additional CYP is the incremental cost over it."""
    _, comparison = stored
    summary = effects.summarise_comparison(comparison).set_index("scenario")
    frame = comparison.frame
    cyp = frame[frame["month"] > 0].groupby(["scenario", "replicate"])["cyp"].sum()
    row, base = summary.loc["hrh2030_groups"], summary.loc["baseline"]
    assert row["cyp"] == pytest.approx(cyp.loc["hrh2030_groups"].mean(), rel=1e-12)
    extra = (cyp.loc["hrh2030_groups"] - cyp.loc["baseline"]).mean()
    assert row["additional_cyp"] == pytest.approx(extra, rel=1e-12) and extra > 0
    assert row["cost_per_additional_cyp"] == pytest.approx(row["incremental_cost"] / extra, rel=1e-12)
    assert base["additional_cyp"] == 0.0 and math.isnan(base["cost_per_additional_cyp"])


def test_track20_columns_equal_the_formula_by_hand(stored):
    """Track20: the sum over methods of user-years x (0.31 - the method's failure in a year, Polis 2016), for
    all users of a scenario and for its additional user-years over the baseline; then the same ratios."""
    _, comparison = stored
    summary = effects.summarise_comparison(comparison).set_index("scenario")
    frame = comparison.frame
    failure = {name: getattr(load_scenario("baseline").methods, name).failure_12m for name in METHODS}
    months = frame[frame["month"] > 0].groupby(["scenario", "replicate"])
    averted = sum(months[f"users_{name}"].sum() / 12 * (0.31 - failure[name]) for name in METHODS)
    for label in ("baseline", "hrh2030_groups"):
        assert summary.loc[label, "track20_all_unintended_averted"] == pytest.approx(
            averted.loc[label].mean(), rel=1e-12
        )
    extra = (averted.loc["hrh2030_groups"] - averted.loc["baseline"]).mean()
    row = summary.loc["hrh2030_groups"]
    assert row["track20_unintended_averted"] == pytest.approx(extra, rel=1e-12)
    unsafe = extra * 0.20 * 0.85
    assert row["track20_unsafe_abortions_averted"] == pytest.approx(unsafe, rel=1e-12)
    births = extra * (1 - 0.20) * (1 - 0.12)  # neither aborted nor lost
    assert row["track20_maternal_deaths_averted"] == pytest.approx(
        births * 562 / 100_000 + unsafe * 220 / 100_000, rel=1e-12
    )


def test_the_baselines_impact_ratios_apply_to_every_arm(stored):
    """One district, one set of ratios: the baseline's; a higher maternal mortality ratio there scales the
    births part of every arm's maternal deaths averted."""
    _, comparison = stored
    scenarios = dict(comparison.scenarios)
    base = scenarios["baseline"]
    scenarios["baseline"] = base.model_copy(
        update={"impacts": base.impacts.model_copy(update={"maternal_deaths_per_100k_births": 1124.0})}
    )
    default = effects.summarise_comparison(comparison).set_index("scenario").loc["hrh2030_groups"]
    doubled = effects.summarise(comparison.frame, "baseline", comparison.exits(), scenarios)
    row = doubled.set_index("scenario").loc["hrh2030_groups"]
    births_part = default["births_averted"] * 562 / 100_000
    assert row["maternal_deaths_averted"] == pytest.approx(default["maternal_deaths_averted"] + births_part, rel=1e-9)
    assert row["unintended_averted"] == default["unintended_averted"]


def test_runs_without_life_course_outputs_show_nothing_rather_than_zero(stored):
    """Runs stored before the life-course outputs existed hold NULL for them: their sums are missing, not 0."""
    _, comparison = stored
    frame = comparison.frame.copy()
    frame[["births", "pregnancies", "unintended_pregnancies", "mcpr_married"]] = np.nan
    summary = effects.summarise(frame, "baseline", comparison.exits()).set_index("scenario")
    for column in ("births", "unintended_pregnancies", "unintended_averted", "maternal_deaths_averted"):
        assert summary[column].isna().all(), column
    assert summary["cost_per_unintended_averted"].isna().all()
    assert summary.loc["hrh2030_groups", "user_years"] > 0  # users were always counted


def test_more_users_avert_unintended_pregnancies_and_births():
    """hrh2030_groups against baseline at the shipped district (20,000 households) over its 60 months, two
    replicates on common seeds: in each replicate it adds user-years and averts unintended pregnancies and births
    (the model) and unintended pregnancies, unsafe abortions and maternal deaths (both ways)."""
    arms, base = compare.resolve_arms(["baseline", "hrh2030_groups"], None)
    assert arms["baseline"].population.households == 20_000 and arms["baseline"].months == 60
    comparison = compare.run_comparison(arms, base, compare.comparison_seeds(2, 1), store=None, workers=1)
    frame = comparison.frame[comparison.frame["month"] > 0]
    sums = frame.groupby(["scenario", "replicate"])[["users", "unintended_pregnancies", "births"]].sum()
    gained = sums.loc["hrh2030_groups"] - sums.loc["baseline"]
    assert (gained["users"] > 0).all() and (gained["unintended_pregnancies"] < 0).all() and (gained["births"] < 0).all()
    row = effects.summarise_comparison(comparison).set_index("scenario").loc["hrh2030_groups"]
    for column in (
        "additional_user_years",
        "unintended_averted",
        "births_averted",
        "unsafe_abortions_averted",
        "maternal_deaths_averted",
        "track20_unintended_averted",
        "track20_maternal_deaths_averted",
        "cost_per_additional_user_year",
        "cost_per_unintended_averted",
    ):
        assert row[column] > 0, column
    # the model averts unintended pregnancies per additional user-year within a factor 2 of Track20's 0.28-0.38
    # (tests/test_life_course.py); Track20's formula 0.31 less the method's failure
    assert 0.14 <= row["unintended_averted"] / row["additional_user_years"] <= 0.76
    per_user_year = row["track20_unintended_averted"] / row["additional_user_years"]
    assert 0.31 - 0.055 <= per_user_year <= 0.31 - 0.006  # between the pill's failure and the implant's

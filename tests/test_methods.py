"""The methods as behaviour of the model: the district keeps Mali's method mix, pregnancies on a method come at
its typical-use failure rate, long-acting methods are stopped least and condoms most, a visit dispenses a
method's units and its CYP by the USAID factors, and CHWs give only what policy lets them."""

import numpy as np
import pytest

from commsim import CommunityHealthModel, load_scenario
from commsim.evidence.measures import measure_run
from commsim.model.state import SOURCE_CHW
from commsim.scenario.schema import METHODS

MALI_MIX = {"pill": 0.15, "injectable": 0.32, "self_injection": 0.03, "implant": 0.40, "iud": 0.03, "condom": 0.07}


@pytest.fixture(scope="module")
def baseline_runs():
    """Two seeds of the no-programme district, 60 months at the shipped 20k households."""
    runs = []
    for seed in (1, 2):
        model = CommunityHealthModel("baseline", rng=seed, months=60)
        model.run()
        runs.append(model)
    return runs


@pytest.mark.slow
def test_the_district_keeps_malis_method_mix(baseline_runs):
    """Within 6 points of the mix the weights are set for after five years, and 8 at the start (drawn from the
    weights and each method's duration, which leaves out missed resupply trips); a reasoned mix: Mali DHS 2018's
    was not retrieved."""
    ts = [model.timeseries() for model in baseline_runs]
    for month, tolerance in ((0, 0.08), (60, 0.06)):
        users = {name: sum(t[f"users_{name}"].iloc[month] for t in ts) for name in METHODS}
        total = sum(users.values())
        assert total == sum(t["users"].iloc[month] for t in ts)
        for name, share in MALI_MIX.items():
            assert users[name] / total == pytest.approx(share, abs=tolerance), (month, name)


@pytest.mark.slow
def test_pregnancies_on_a_method_come_at_its_typical_use_failure(baseline_runs):
    """Pregnancies on a method per user-year equal the mix-weighted 12-month failure (Polis 2016) within 3 Poisson
    standard errors."""
    failures = expected = 0.0
    for model in baseline_runs:
        ts = model.timeseries().iloc[1:]
        failures += ts["method_failures"].sum()
        for method in METHODS:
            rate = getattr(model.config.methods, method).failure_12m
            expected += ts[f"users_{method}"].sum() / 12 * -np.log(1 - rate)
    assert failures == pytest.approx(expected, abs=3 * np.sqrt(expected))


@pytest.mark.slow
def test_cyp_is_units_dispensed_times_the_usaid_factor_and_near_user_years(baseline_runs):
    for model in baseline_runs:
        ts = model.timeseries()
        per_method = sum(ts[f"cyp_{name}"] for name in METHODS)
        np.testing.assert_allclose(ts["cyp"], per_method)
        user_years = ts["users"].iloc[1:].sum() / 12
        # a steady district dispenses about a year of protection per user-year; implants front-load theirs
        assert 0.7 <= ts["cyp"].iloc[1:].sum() / user_years <= 1.6
        implant = model.config.methods.implant
        dispensed = ts["cyp_implant"].iloc[1:].sum() / implant.cyp_per_unit
        new = ts["new_users_implant"].iloc[1:].sum()
        # implants dispensed: one per new implant user, and one per user re-inserted when hers is due out (in
        # five years, at most every implant user of month 0 and the new ones' early adopters)
        assert new <= dispensed <= new + ts["users_implant"].iloc[0] + new


@pytest.mark.slow
def test_long_acting_methods_are_stopped_least_and_condoms_most():
    """12-month discontinuation by method (all reasons) of the new users of months 6-10, each cohort followed for
    12 months, ordered as in DHS calendar data: implants ~12% and condoms ~60% in Arusha 2018, injectables ~32%
    over 21 DHS, 44% over all methods in Mali 2012-13. Implants below 16.4% (Arusha's + a third, and 3 binomial
    standard errors), injectables below pills (both resupplied every three months, injectables stopped less for
    method-related reasons) and condoms above 40%."""
    stopped: dict[str, list[bool]] = {name: [] for name in METHODS}
    for seed in (1, 2, 3):
        model = CommunityHealthModel("hrh2030_groups", rng=seed, months=22)
        hh = model.district.households
        cohorts = []
        for month in range(1, 23):
            model.step()
            for start, rows, chosen, gone in cohorts:
                if month <= start + 12:
                    gone |= hh.method[rows] != chosen
            if 6 <= month <= 10:
                rows = np.flatnonzero((hh.source > 0) & (hh.months_on == 0))
                cohorts.append((month, rows, hh.method[rows].copy(), np.zeros(rows.size, bool)))
        for _, _, chosen, gone in cohorts:
            for k, name in enumerate(METHODS):
                stopped[name] += list(gone[chosen == k + 1])
    rate = {name: np.mean(v) for name, v in stopped.items() if len(v) >= 100}
    implants = len(stopped["implant"])
    assert rate["implant"] < 0.164 + 3 * np.sqrt(0.164 * (1 - 0.164) / implants), (rate, implants)
    assert rate["implant"] < rate["injectable"] < rate["pill"] < rate["condom"], rate
    assert rate["condom"] > 0.40, rate


def test_chws_give_only_what_policy_lets_them():
    small = {"population.households": 4000}
    model = CommunityHealthModel(load_scenario("hrh2030_groups", small), rng=3)
    model.run(24)
    hh = model.district.households
    by_chw = {k + 1 for k, name in enumerate(METHODS) if getattr(model.config.methods, name).by_chw}
    assert np.isin(hh.method[hh.source == SOURCE_CHW], list(by_chw)).all()
    assert np.any(hh.method[hh.source == SOURCE_CHW] == METHODS.index("injectable") + 1)
    no_injections = {"methods.injectable.by_chw": False, "methods.self_injection.by_chw": False}
    model = CommunityHealthModel(load_scenario("hrh2030_groups", {**small, **no_injections}), rng=3)
    model.run(24)
    hh = model.district.households
    injected = np.isin(hh.method, [METHODS.index("injectable") + 1, METHODS.index("self_injection") + 1])
    assert not np.any(injected & (hh.source == SOURCE_CHW) & (hh.months_on < 24))


def test_a_methods_table_sets_only_the_keys_it_names():
    scenario = load_scenario("baseline", {"methods.implant.weight": 0.5})
    assert scenario.methods.implant.weight == 0.5
    assert scenario.methods.implant.cyp_per_unit == load_scenario("baseline").methods.implant.cyp_per_unit


def test_the_discontinuation_measure_still_reads_the_cohort():
    measured = measure_run("baseline", 1, {"population.households": 4000, "months": 24})
    assert 0.25 <= measured.values["discontinuation_12m"] <= 0.65

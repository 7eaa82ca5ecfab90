"""Costs from inputs: each month's categories add up to its cost exactly, and each category follows from its own
inputs (doubling them doubles it and changes nothing else) and from the counts by hand."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from commsim import CommunityHealthModel
from commsim.model import metrics
from commsim.scenario import loader
from commsim.scenario.schema import METHODS
from golden import GOLDEN

SMALL = {"population__households": 2000, "population__villages": 16, "population__facilities": 3}
MONTHS = 30  # past donor_exit's exit at month 24
CATEGORIES = list(metrics.COST_BREAKDOWN)
INPUTS = {  # category -> the unit costs it is made of
    "cost_commodities": tuple(f"methods__{name}__unit_cost_usd" for name in METHODS),
    "cost_provider_time": ("costs__facility_minute_usd", "costs__chw_minute_usd"),
    "cost_chw_programme": ("costs__chw_month_usd", "costs__chw_training_usd", "costs__chw_replacement_usd"),
    "cost_supervision_transport": ("costs__supervision_month_usd", "costs__transport_km_usd"),
    "cost_group_programme": (
        "costs__group_training_month_usd",
        "costs__mentoring_month_usd",
        "costs__linkage_month_usd",
        "costs__advocacy_month_usd",
        "costs__feedback_month_usd",
    ),
    "cost_supply_support": ("costs__supply_facility_month_usd",),
}
WHERE = {"cost_supply_support": "supply_fix"}  # a scenario that pays for the category; the others: hrh2030_groups
RUNS: dict[tuple, pd.DataFrame] = {}


def run(scenario: str, **overrides) -> pd.DataFrame:
    """Monthly outputs of a small district over MONTHS months, seed 3 (memoised)."""
    key = (scenario, tuple(sorted(overrides.items())))
    if key not in RUNS:
        model = CommunityHealthModel(scenario, rng=3, **SMALL, **overrides)
        model.run(MONTHS)
        RUNS[key] = model.timeseries()
    return RUNS[key]


def test_the_categories_add_up_to_the_months_cost_in_the_golden_baseline():
    """Every shipped scenario at its own size and seed (the golden file, exact): month by month, the categories'
    sum is cost_month to the last bit, and month 0 costs nothing."""
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    for name, rows in golden.items():
        for month, row in rows.items():
            assert math.fsum(row[c] for c in CATEGORIES) == row["cost_month"], (name, month)
        assert all(rows["0"][c] == 0.0 for c in (*CATEGORIES, "cost_month", "cost_cumulative")), name


@pytest.mark.parametrize("scenario", [path.stem for path in loader.shipped_scenarios()])
def test_the_categories_add_up_every_month_of_every_shipped_scenario(scenario):
    ts = run(scenario)
    assert (ts[CATEGORIES].apply(math.fsum, axis=1) == ts["cost_month"]).all()
    assert (ts[CATEGORIES] >= 0).all().all()
    np.testing.assert_allclose(ts["cost_month"].cumsum(), ts["cost_cumulative"], rtol=1e-12)


@pytest.mark.parametrize("category", CATEGORIES)
def test_doubling_a_categorys_unit_costs_doubles_it_and_nothing_else(category):
    scenario = WHERE.get(category, "hrh2030_groups")
    config = loader.load_scenario(scenario)
    section = {"methods": config.methods, "costs": config.costs}

    def value(key: str) -> float:
        parts = key.split("__")
        holder = section[parts[0]]
        for part in parts[1:-1]:
            holder = getattr(holder, part)
        return getattr(holder, parts[-1])

    default = run(scenario)
    doubled = run(scenario, **{key: 2 * value(key) for key in INPUTS[category]})
    assert (default[category] > 0).any(), f"{scenario} does not pay for {category}"
    assert (doubled[category] == 2 * default[category]).all()
    others = [c for c in default.columns if c not in (category, "cost_month", "cost_cumulative")]
    assert doubled[others].equals(default[others])
    np.testing.assert_allclose(doubled["cost_month"] - default["cost_month"], default[category], rtol=1e-9, atol=1e-9)


def test_categories_follow_from_the_counts_by_hand():
    """Where only facilities give methods (no method by a CHW), the visits of each method are exact: its new users
    are first visits, the rest of its units' visits resupplies. Each category from the outputs and the unit costs:
    commodities = units x price x (1 + the supply chain's share), provider time = those visits' minutes x a
    provider's minute + CHW visits x their minutes x a CHW's minute, stipends = active CHWs x the stipend."""
    no_chw = {f"methods__{name}__by_chw": False for name in METHODS}
    ts = run("baseline", **no_chw).iloc[1:]
    config = loader.load_scenario("baseline")
    c = config.costs
    commodities = 0.0
    facility_minutes = 0.0
    for name in METHODS:
        method = getattr(config.methods, name)
        units = ts[f"cyp_{name}"] / method.cyp_per_unit
        visits = units / method.units_per_visit
        new = ts[f"new_users_{name}"]
        commodities = commodities + units * method.unit_cost_usd
        facility_minutes = facility_minutes + new * method.provider_minutes_first
        facility_minutes = facility_minutes + (visits - new) * method.provider_minutes_resupply
    np.testing.assert_allclose(ts["cost_commodities"], commodities * (1 + c.logistics_share), rtol=1e-9)
    provider = c.facility_minute_usd * facility_minutes + c.chw_minute_usd * ts["chw_visits"] * c.chw_visit_minutes
    np.testing.assert_allclose(ts["cost_provider_time"], provider, rtol=1e-9)
    assert (ts["cost_chw_programme"] > 0).all()
    stipends_only = run("baseline", costs__chw_replacement_usd=0.0).iloc[1:]
    assert (stipends_only["cost_chw_programme"] == stipends_only["active_chws"] * c.chw_month_usd).all()
    assert (ts[["cost_group_programme", "cost_supply_support"]] == 0.0).all().all()  # the baseline has neither


def test_transport_grows_with_the_posts_distance_to_their_facility():
    """Supervisors' and restocking CHWs' round trips are costed by km: with supervision's own unit cost at 0,
    the category is transport only, proportional to the cost per km."""
    base = run("chw_scale_up", costs__supervision_month_usd=0.0)
    dearer = run("chw_scale_up", costs__supervision_month_usd=0.0, costs__transport_km_usd=0.21)
    assert (base["cost_supervision_transport"].iloc[1:] > 0).all()
    np.testing.assert_allclose(dearer["cost_supervision_transport"], 3 * base["cost_supervision_transport"], rtol=1e-12)
    none = run("chw_scale_up", costs__supervision_month_usd=0.0, costs__transport_km_usd=0.0)
    assert (none["cost_supervision_transport"] == 0.0).all()

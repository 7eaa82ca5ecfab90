"""Costs from inputs: each month's categories add up to its cost exactly, each category follows from its own inputs
(doubling them doubles it and changes nothing else) and from the counts by hand, and a comparison's costs per
outcome are the paired incremental cost over what the stored runs gained, with Fieller's interval by hand."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from commsim import CommunityHealthModel
from commsim.model import metrics
from commsim.results import effects
from commsim.runs import compare
from commsim.scenario import loader
from commsim.scenario.schema import METHODS
from commsim.store import database as store
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
        "costs__male_engagement_month_usd",
        "costs__leader_engagement_usd",
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


# --- Comparisons ---------------------------------------------------------------------------------------------

ARMS = ["baseline", "chw_scale_up", "hrh2030_groups"]


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """The arms on 4 common seeds, 24 months of a small district, stored in SQLite."""
    results = store.open_store(f"sqlite:///{tmp_path_factory.mktemp('costs') / 'c.db'}")
    overrides = {key.replace("__", "."): value for key, value in SMALL.items()} | {"months": 24}
    arms, base = compare.resolve_arms(ARMS, None, overrides)
    comparison = compare.run_comparison(arms, base, compare.comparison_seeds(4, 5), store=results, workers=2)
    exported = store.export(results, batch_id=comparison.batch_id)
    return comparison, exported, effects.summarise_comparison(comparison).set_index("scenario")


def fieller_by_hand(cost: np.ndarray, gain: np.ndarray) -> tuple[float, float]:
    """The two ratios R where (mean cost - R mean gain)^2 = t^2 Var(mean cost - R mean gain), a quadratic in R;
    NaN where its leading coefficient is not positive (the gain's own interval reaches 0: no bounded interval)."""
    n = len(cost)
    t2 = stats.t.ppf(0.975, n - 1) ** 2
    vc, ve = np.var(cost, ddof=1) / n, np.var(gain, ddof=1) / n
    cov = np.cov(cost, gain, ddof=1)[0, 1] / n
    c, e = cost.mean(), gain.mean()
    if e * e - t2 * ve <= 0:
        return math.nan, math.nan
    lo, hi = sorted(np.roots([e * e - t2 * ve, -2 * (c * e - t2 * cov), c * c - t2 * vc]).real)
    return float(lo), float(hi)


def test_costs_per_outcome_follow_from_the_stored_runs_by_hand(stored):
    """Per replicate, from what the store holds: the incremental cost (cost_cumulative at the end, scenario minus
    baseline), additional CYP and user-years (sums over months 1..T); the cost per CYP is the mean incremental
    cost over the mean additional CYP, its interval Fieller's, and each category's increment its own."""
    _, exported, summary = stored
    last = exported[exported["month"] == exported["month"].max()].set_index(["scenario_name", "replicate"])
    months = exported[exported["month"] > 0].groupby(["scenario_name", "replicate"])
    for label in ("chw_scale_up", "hrh2030_groups"):
        row = summary.loc[label]
        cost = (last.loc[label, "cost_cumulative"] - last.loc["baseline", "cost_cumulative"]).to_numpy()
        cyp = (months["cyp"].sum().loc[label] - months["cyp"].sum().loc["baseline"]).to_numpy()
        years = ((months["users"].sum().loc[label] - months["users"].sum().loc["baseline"]) / 12).to_numpy()
        assert row["incremental_cost"] == pytest.approx(cost.mean(), rel=1e-12)
        assert row["cost_per_additional_cyp"] == pytest.approx(cost.mean() / cyp.mean(), rel=1e-12)
        assert row["cost_per_additional_user_year"] == pytest.approx(cost.mean() / years.mean(), rel=1e-12)
        lo, hi = fieller_by_hand(cost, cyp)
        bounds = (row["cost_per_additional_cyp_lo"], row["cost_per_additional_cyp_hi"])
        assert bounds == pytest.approx((lo, hi), rel=1e-9, nan_ok=True)
        year_lo, year_hi = fieller_by_hand(cost, years)
        year_bounds = (row["cost_per_additional_user_year_lo"], row["cost_per_additional_user_year_hi"])
        assert year_bounds == pytest.approx((year_lo, year_hi), rel=1e-9, nan_ok=True)
        if label == "chw_scale_up":  # its user-years gain is clear (not its CYP gain: CHWs give short-acting methods)
            assert year_lo < row["cost_per_additional_user_year"] < year_hi
        for category in CATEGORIES:
            extra = months[category].sum().loc[label] - months[category].sum().loc["baseline"]
            assert row[f"incremental_{category}"] == pytest.approx(extra.mean(), rel=1e-12, abs=1e-9), category
        increments = sum(row[f"incremental_{category}"] for category in CATEGORIES)
        assert increments == pytest.approx(row["incremental_cost"], rel=1e-9)


def test_the_baseline_has_no_incremental_cost(stored):
    _, _, summary = stored
    base = summary.loc["baseline"]
    for name in ("incremental_cost", *(f"incremental_{c}" for c in CATEGORIES)):
        assert (base[name], base[f"{name}_lo"], base[f"{name}_hi"]) == (0.0, 0.0, 0.0), name
    for name in effects.PER_OUTCOME:
        assert all(math.isnan(base[column]) for column in (name, f"{name}_lo", f"{name}_hi")), name
    assert base["total_cost"] > 0 and (base[CATEGORIES] >= 0).all()
    assert base[CATEGORIES].sum() == pytest.approx(base["total_cost"], rel=1e-9)


def test_a_cost_per_outcome_has_an_interval_only_where_the_gain_is_clear():
    """Fieller's interval: exact where every replicate agrees; unbounded (NaN) where the gain's own interval
    reaches 0; nothing where nothing is gained on average (a cost per negative outcome would read as a bargain)."""
    reps = pd.RangeIndex(4, name="replicate")
    same = effects.ratio_interval(pd.Series(100.0, reps), pd.Series(4.0, reps))
    assert same[0] == 25.0 and same[1:] == pytest.approx((25.0, 25.0), rel=1e-12)
    unclear = effects.ratio_interval(pd.Series([90.0, 110, 95, 105], reps), pd.Series([-3.0, 4, 5, -2], reps))
    assert unclear[0] == 100.0 / 1.0 and math.isnan(unclear[1]) and math.isnan(unclear[2])
    assert all(math.isnan(x) for x in effects.ratio_interval(pd.Series(50.0, reps), pd.Series(-1.0, reps)))
    one = effects.ratio_interval(pd.Series([30.0], reps[:1]), pd.Series([3.0], reps[:1]))
    assert one[0] == 10.0 and math.isnan(one[1]) and math.isnan(one[2])

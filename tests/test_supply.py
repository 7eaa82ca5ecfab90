"""Supply per method: each method's stockouts at facilities, CHW kits restocked from their facility, women who
switch, travel or go without when hers is out, supply support aimed at one method, method-related stopping
that runs higher in the first months; and the service statistics facilities record, which add up to the
model's outputs and export as a DHIS2 data value table."""

import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from commsim.cli.app import app
from commsim.model import services
from commsim.model.community import CommunityHealthModel
from commsim.model.params import stopping
from commsim.model.state import CHW_ACTIVE, DAYS_PER_MONTH
from commsim.scenario.schema import METHODS

SMALL = {"population__households": 3000, "population__villages": 12, "population__facilities": 3}
ALL_CHWS = {"chws__coverage": 1.0, "chws__p_fp_trained": 1.0}
INJECTABLE, IMPLANT, PILL = METHODS.index("injectable"), METHODS.index("implant"), METHODS.index("pill")


def run(months: int, seed: int = 3, **overrides) -> CommunityHealthModel:
    model = CommunityHealthModel("baseline", rng=seed, **{**SMALL, **overrides})
    model.run(months)
    return model


def test_each_methods_stockouts_follow_its_reliability():
    """Facility-months out of each method, against the sum of the chances the facilities held that month: within
    3 binomial SDs for every method (the chances differ by method through rel_stockout)."""
    model = CommunityHealthModel("baseline", rng=5, **SMALL, facilities__stock_reliability=0.8)
    expected, variance, seen = np.zeros(len(METHODS)), np.zeros(len(METHODS)), np.zeros(len(METHODS))
    for _ in range(120):
        chance_out = 1.0 - model.district.facilities.stock_method.copy()
        model.step()
        expected += chance_out.sum(axis=0)
        variance += (chance_out * (1.0 - chance_out)).sum(axis=0)
        seen += (model.district.facilities.out_days > 0).sum(axis=0)
    assert np.all(np.abs(seen - expected) <= 3.0 * np.sqrt(variance)), (seen, expected)
    assert expected[IMPLANT] / expected[PILL] == pytest.approx(1.5, rel=0.05)  # rel_stockout 1.5 against 1


def test_a_facility_stockout_reaches_its_chws_clients():
    """Injectables never in stock at any facility: from month 2 (the kit holds a month) no CHW has them and no
    woman starts or renews them anywhere, while CHWs keep giving pills."""
    model = run(12, **ALL_CHWS, **{"methods__injectable__rel_stockout": 10.0})
    ts, stats = model.timeseries(), model.service_statistics()
    assert (ts["new_users_injectable"].iloc[2:] == 0).all()
    chw = model.district.chws
    active = chw.status == CHW_ACTIVE
    assert active.any() and (chw.kit[active, INJECTABLE] == 0).all()
    given = stats[(stats["method"] == "injectable") & (stats["month"] >= 2)]
    assert given[given["element"].isin(["chw_new_acceptors", "chw_continuing_users", "dispensed"])].empty
    out = stats[(stats["element"] == "chws_stocked_out") & (stats["method"] == "injectable") & (stats["month"] >= 2)]
    assert out.groupby("month")["value"].sum().min() > 0
    pills = stats[(stats["element"] == "chw_new_acceptors") & (stats["method"] == "pill")]
    assert pills["value"].sum() > 0


def test_at_a_stockout_women_switch_or_go_without():
    """Implants always out: with p_switch_at_stockout 0 no one gets one and every such request fails; with 1 the
    same women (same seed) are served another method, so there are fewer failed visits and more switches."""
    out = {"methods__implant__rel_stockout": 10.0}
    without = run(24, **out, methods__p_switch_at_stockout=0.0, methods__p_switch=0.0)
    switch = run(24, **out, methods__p_switch_at_stockout=1.0, methods__p_switch=0.0)
    a, b = without.timeseries().iloc[1:], switch.timeseries().iloc[1:]
    assert (a["new_users_implant"] == 0).all() and (b["new_users_implant"] == 0).all()
    assert a["switches"].sum() == 0
    assert b["switches"].sum() > 0
    assert b["failed_visits"].sum() < a["failed_visits"].sum()


def test_women_who_stop_for_method_reasons_switch_at_the_rate_given():
    """Without stockout switching: p_switch 0 gives no switches, and p_switch 1 about 1 / 0.15 times as many as
    the default 0.15 (the same women stop; some switchers' visits fail)."""
    calm = {"methods__p_switch_at_stockout": 0.0}
    none = run(24, **calm, methods__p_switch=0.0).timeseries()["switches"].sum()
    default = run(24, **calm).timeseries()["switches"].sum()
    every = run(24, **calm, methods__p_switch=1.0).timeseries()["switches"].sum()
    assert none == 0
    assert every > 4 * default > 0


def test_supply_support_for_one_method_lifts_only_its_stock():
    """Support for implants at every facility: implant reliability ramps to the target and its stockouts fall,
    while pill stockouts are drawn exactly as without support (same seed, same chances)."""
    support = {"interventions": {"implants": {"type": "supply_improvement", "methods": ["implant"], "coverage": 1.0}}}
    base = CommunityHealthModel("baseline", rng=4, **SMALL)
    aimed = CommunityHealthModel({"name": "implants", **support}, rng=4, **SMALL)
    base.run(36)
    aimed.run(36)
    a, b = base.timeseries(), aimed.timeseries()
    stock = aimed.district.facilities.stock_method
    assert stock[:, IMPLANT] == pytest.approx(0.97, abs=1e-3)
    np.testing.assert_array_equal(stock[:, PILL], base.district.facilities.stock_method[:, PILL])
    np.testing.assert_array_equal(a["stockouts_pill"], b["stockouts_pill"])
    assert b["stockouts_implant"].iloc[13:].sum() < 0.4 * a["stockouts_implant"].iloc[13:].sum()


def test_early_stopping_keeps_the_twelve_month_share():
    """The monthly chance after the early months, with rel_stop_early before them, loses stop_12m in a year."""
    for p12, early, months in ((0.3, 1.5, 6), (0.07, 3.0, 3), (0.45, 1.0, 6)):
        h = stopping(p12, early, months)
        assert 1.0 - (1.0 - early * h) ** months * (1.0 - h) ** (12 - months) == pytest.approx(p12, abs=1e-12)
    assert stopping(0.3, 1.0, 6) == pytest.approx(1.0 - 0.7 ** (1 / 12), abs=1e-12)


def test_early_months_stop_more():
    """Injectable users in their first early_months stop at rel_stop_early x the rate of later ones: followed
    over 24 months with the other ways of stopping held off, within 3 SEs of the ratio."""
    calm = {
        "households__rel_stop": 1.0,
        "methods__p_switch": 0.0,
        "households__p_discontinue_failed_resupply": 0.0,
        "households__rel_discontinue_follow_up": 1.0,
        "households__rel_discontinue_poor_quality": 0.0,
        "methods__rel_stop_early": 3.0,
        "facilities__stock_reliability": 1.0,
    }
    model = CommunityHealthModel("baseline", rng=6, **{**SMALL, "population__households": 20000}, **calm)
    early = [0, 0]  # stops, user-months
    late = [0, 0]
    for _ in range(24):
        hh = model.district.households
        user = (hh.source > 0) & (hh.method == INJECTABLE + 1)
        months_on, method = hh.months_on.copy(), hh.method.copy()
        model.step()
        stopped = user & (hh.method != method) & (hh.need == 1) & (hh.pregnant == 0) & (hh.age_months > 180)
        short = user & (months_on < 6)
        for group, mask in ((early, short), (late, user & ~short)):
            group[0] += int((stopped & mask).sum())
            group[1] += int(mask.sum())
    ratio = (early[0] / early[1]) / (late[0] / late[1])
    se = ratio * math.sqrt(1 / early[0] + 1 / late[0])
    assert abs(ratio - 3.0) < 3 * se, (ratio, se)


def test_service_statistics_add_up_to_the_outputs():
    """Each month: new acceptors at facilities and with CHWs are the new users of each method; units dispensed
    are the CYP; stockout days are the facilities out of each method."""
    model = run(18, **ALL_CHWS)
    ts, stats = model.timeseries().set_index("month"), model.service_statistics()
    cyp_per_unit = dict(zip(METHODS, model.params.cyp_per_unit, strict=True))
    total = stats.pivot_table(index=["month", "method"], columns="element", values="value", aggfunc="sum")
    total = total.reindex(columns=list(services.ELEMENTS), fill_value=0.0).fillna(0.0)
    assert total["chw_new_acceptors"].sum() > 0 and total["new_acceptors"].sum() > 0
    for month in range(1, 19):
        for name in METHODS:
            row = total.loc[(month, name)] if (month, name) in total.index else pd.Series(0.0, index=total.columns)
            assert row["new_acceptors"] + row["chw_new_acceptors"] == ts.loc[month, f"new_users_{name}"]
            units = row["dispensed"] + row["chw_dispensed"]
            assert units * cyp_per_unit[name] == pytest.approx(ts.loc[month, f"cyp_{name}"], rel=1e-12, abs=1e-12)
            assert row["stockout_days"] == DAYS_PER_MONTH * ts.loc[month, f"stockouts_{name}"]


def test_dhis2_periods_and_elements():
    assert [services.period("2024-11", m) for m in (1, 2, 3, 14)] == ["202411", "202412", "202501", "202512"]
    table = pd.DataFrame(
        {"month": [1], "facility": [2], "element": ["new_acceptors"], "method": ["implant"], "value": [4.0]}
    )
    row = services.dhis2(table, "2025-01").iloc[0]
    assert (row["org_unit"], row["period"], row["data_element"], row["value"]) == (
        "FAC0003",
        "202501",
        "FP new acceptors - implant",
        4.0,
    )


def test_results_export_service_statistics(tmp_path):
    """`commsim run` stores what the facilities recorded and writes it beside the time series; `results export
    --service-statistics` writes the same table from the store, periods from the scenario's start."""
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    small = ["-n", "1500", "-m", "4", "--set", "population.villages=6", "--set", "population.facilities=2"]
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", "baseline", *small, "--set", "start=2024-11", "--out", str(out), "--db", url])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out / "service_statistics.csv", dtype={"period": str})
    assert sorted(written["period"].unique()) == ["202411", "202412", "202501", "202502"]
    target = tmp_path / "dhis2.csv"
    result = runner.invoke(app, ["results", "export", "--service-statistics", "--db", url, "-o", str(target)])
    assert result.exit_code == 0, result.output
    exported = pd.read_csv(target, dtype={"period": str})
    assert list(exported.columns) == ["run_id", *services.DHIS2_COLUMNS]
    pd.testing.assert_frame_equal(exported.drop(columns="run_id"), written, check_dtype=False)
    ts = pd.read_csv(out / "timeseries.csv")
    new = exported[exported["data_element"].str.startswith("FP new acceptors")]["value"].sum()
    assert new == ts["new_users"].iloc[1:].sum()

"""Invariants checked after every month of every shipped scenario: outputs in bounds and consistent with the
state, state in its domains, stock-flow consistency; and the declared layout of the population tables."""

import math
import re

import numba
import numpy as np
import pytest

from commsim.model import metrics, state
from commsim.model.community import CommunityHealthModel
from commsim.model.population import build_district
from commsim.scenario import loader

MONTHS = 48
DISTRICT = {"population__households": 4000, "population__villages": 20, "population__facilities": 4}
SHIPPED = [p.stem for p in loader.shipped_scenarios()]
SHARES = ("mcpr", *metrics.EQUITY, "mean_trust", "mean_awareness", "unmet_need", "mean_group_capacity")
FLOWS = (
    "new_users",
    "discontinued",
    "facility_visits",
    "referrals_made",
    "referrals_completed",
    "failed_visits",
    "chws_left",
)
STATIC_HOUSEHOLD_COLUMNS = (
    "village", "x", "y", "fac1", "fac2", "dist1", "dist2", "band", "wealth", "home_group", "join_near", "chw"
)  # fmt: skip


@pytest.fixture(autouse=True, scope="module")
def one_numba_thread():
    """4000 households are one parallel block: the thread count cannot matter, and one thread is fastest here."""
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(before)


def check_outputs(row: dict, model: CommunityHealthModel) -> None:
    d = model.district
    hh, grp, chw, fac = d.households, d.groups, d.chws, d.facilities
    n = hh.source.size
    assert set(row) == set(metrics.COLUMNS)
    for name, value in row.items():
        assert not math.isnan(value), name
    assert 0 <= row["users"] <= n
    assert 0 <= row["active_groups"] <= grp.capacity.size
    assert 0 <= row["active_chws"] <= chw.status.size
    assert 0 <= row["stockouts"] <= fac.stock.size
    for name in FLOWS:
        assert row[name] >= 0, name
    assert row["failed_visits"] <= row["facility_visits"]
    assert 0 <= row["users_via_chw"] <= row["users"]
    assert row["cost_month"] >= 0.0
    for name in SHARES:
        assert 0.0 <= row[name] <= 1.0, (name, row[name])
    assert row["mcpr"] + row["unmet_need"] <= 1.0 + 1e-12
    # the outputs count the state as it is at the end of the month
    users = hh.source > 0
    assert row["users"] == np.count_nonzero(users)
    assert row["mcpr"] == pytest.approx(np.count_nonzero(users) / n, abs=1e-15)
    assert row["users_via_chw"] == np.count_nonzero(hh.source == 3)
    waiting_unwanted = ((hh.pregnant > 0) | (hh.amenorrhoeic == 1)) & (hh.intended == 0)
    unmet = ~users & ((hh.need == 1) | waiting_unwanted)  # the DHS definition
    assert row["unmet_need"] * n == pytest.approx(np.count_nonzero(unmet), abs=1e-9)
    married = hh.union == 1
    assert row["in_union"] * n == pytest.approx(np.count_nonzero(married), abs=1e-9)
    assert row["mcpr_married"] == pytest.approx(np.count_nonzero(users & married) / np.count_nonzero(married))
    assert row["unmet_need_married"] == pytest.approx(np.count_nonzero(unmet & married) / np.count_nonzero(married))
    assert row["pregnant"] * n == pytest.approx(np.count_nonzero(hh.pregnant > 0), abs=1e-9)
    assert row["unintended_pregnancies"] <= row["pregnancies"]
    assert row["method_failures"] <= row["pregnancies"]
    assert 0.0 <= row["tfr"] < 25.0
    assert row["active_groups"] == np.count_nonzero(grp.active)
    assert row["active_chws"] == np.count_nonzero(chw.status == 1)
    if grp.capacity.size:
        assert row["mean_group_capacity"] == pytest.approx(grp.capacity.mean(), abs=1e-12)
    assert row["mean_trust"] == pytest.approx(hh.trust.mean(), abs=1e-12)
    assert row["mean_awareness"] == pytest.approx(hh.awareness.mean(), abs=1e-12)


def check_state(model: CommunityHealthModel) -> None:
    d, sc = model.district, model.config
    hh, grp, chw, fac = d.households, d.groups, d.chws, d.facilities
    assert np.all((hh.awareness >= 0.0) & (hh.awareness <= 1.0))
    assert np.all((hh.trust >= 0.0) & (hh.trust <= 1.0))
    assert np.isin(hh.source, (0, 1, 2, 3)).all()
    assert np.isin(hh.need, (0, 1)).all()
    assert np.isin(hh.ever_user, (0, 1)).all()
    users = hh.source > 0
    assert np.all(hh.need[users] == 1), "a user without need"
    at_risk = (hh.union == 1) & (hh.pregnant == 0) & (hh.amenorrhoeic == 0)
    dhs = at_risk & (hh.intention != 0)
    fecund = hh.age_months < hh.infecund_from  # past it, only a woman who was using at the month's start has need
    assert np.array_equal((hh.need == 1)[fecund], dhs[fecund]), "need is not the DHS's"
    assert not np.any((hh.need == 1) & ~dhs), "need is not the DHS's"
    assert np.all(hh.ever_user[users] == 1), "a user who is not an ever-user"
    assert np.all(hh.referred <= sc.households.referral_valid_months)
    assert np.all(hh.months_on >= 0)
    assert np.all(hh.request == 0), "a request left unanswered at the end of the month"
    assert np.all((grp.capacity >= 0.0) & (grp.capacity <= 1.0))
    assert np.all(grp.active == (grp.capacity >= sc.groups.meeting_threshold))
    assert np.all((grp.modules >= 0.0) & (grp.modules <= sc.groups.fp_modules))
    assert np.all((fac.quality >= 0.0) & (fac.quality <= 1.0))
    assert np.all((fac.stock >= 0.0) & (fac.stock <= 1.0))
    assert np.all((fac.p_serve >= 0.0) & (fac.p_serve <= 1.0))
    assert np.all(fac.capacity >= 0.0)
    assert np.isin(chw.status, (0, 1, 2)).all()
    assert np.isin(chw.fp_trained, (0, 1)).all()
    assert np.isin(chw.supervised, (0, 1)).all()
    assert np.all(chw.status[chw.fp_trained == 1] == 1), "an FP-trained CHW at a post without an active CHW"
    assert np.all(chw.visits_per_month >= 0.0)


@pytest.mark.parametrize("name", SHIPPED)
def test_invariants_hold_after_every_month(name):
    model = CommunityHealthModel(name, rng=4, backend="numba", debug_checks=True, **DISTRICT)  # after every phase
    hh = model.district.households
    static = {col: getattr(hh, col).copy() for col in STATIC_HOUSEHOLD_COLUMNS}
    check_outputs(model.latest, model)
    check_state(model)
    previous = dict(model.latest)
    ever = hh.ever_user.copy()
    age = hh.age_months.copy()
    made = completed = 0
    for month in range(1, MONTHS + 1):
        model.step()
        row = model.latest
        assert row["month"] == month
        check_outputs(row, model)
        check_state(model)
        assert row["users"] - previous["users"] == row["new_users"] - row["discontinued"] - row["users_left"], month
        assert row["cost_cumulative"] >= previous["cost_cumulative"]
        assert row["cost_cumulative"] == pytest.approx(previous["cost_cumulative"] + row["cost_month"])
        made += row["referrals_made"]
        completed += row["referrals_completed"]
        assert completed <= made, month
        stayed = hh.age_months == age + 1  # the others left and a newcomer of 15 took their place
        assert np.all(hh.age_months[~stayed] == 15 * 12)
        assert np.all(hh.ever_user[stayed] >= ever[stayed]), "an ever-user forgot"
        ever, age = hh.ever_user.copy(), hh.age_months.copy()
        previous = dict(row)
    for col, before in static.items():
        np.testing.assert_array_equal(getattr(hh, col), before, err_msg=f"households.{col} changed")

    ts = model.timeseries()
    assert len(ts) == MONTHS + 1
    assert ts["month"].tolist() == list(range(MONTHS + 1))
    assert not ts.isna().any().any()
    assert ts["cost_cumulative"].is_monotonic_increasing
    flows = ts["new_users"] - ts["discontinued"] - ts["users_left"]
    np.testing.assert_array_equal(ts["users"].diff().iloc[1:].to_numpy(), flows.iloc[1:].to_numpy())


def test_population_tables_have_the_declared_dtypes():
    sc = loader.load_scenario("baseline", {k.replace("__", "."): v for k, v in DISTRICT.items()})
    district = build_district(sc, 3)
    sizes = {
        "households": 4000,
        "groups": 20 * sc.groups.per_village,
        "chws": district.chws.status.size,
        "facilities": 4,
        "villages": 20,
    }
    for name, table in zip(district._fields, district, strict=True):
        spec = state.SPECS[type(table)]
        assert table._fields == tuple(col for col, _, _ in spec)
        for col, dtype, _ in spec:
            array = getattr(table, col)
            declared = np.dtype(dtype)  # a per-method column is a (rows, methods) array of its base type
            assert array.dtype == declared.base, f"{name}.{col}: {array.dtype} != {declared.base}"
            assert array.shape == (sizes[name], *declared.shape), f"{name}.{col}"
            assert array.flags.c_contiguous, f"{name}.{col}"
    assert district.chws.n_households.sum() == 4000
    assert district.villages.n_households.sum() == 4000


def test_household_rows_fit_in_96_bytes():
    assert state.bytes_per_row(state.Households) <= 96


def test_stipends_stop_being_costed_when_the_donor_leaves():
    """donor_exit: from the exit month on, the cost falls by exactly the stipends of the active CHWs, and the
    dynamics do not depend on the bookkeeping."""
    settings = {**DISTRICT, "months": 30}
    paid = CommunityHealthModel("donor_exit", rng=5, interventions__donor_exit__end_stipends=False, **settings)
    ended = CommunityHealthModel("donor_exit", rng=5, **settings)
    paid.run()
    ended.run()
    a, b = paid.timeseries(), ended.timeseries()
    outputs = [c for c in a.columns if not c.startswith("cost")]
    assert a[outputs].equals(b[outputs])
    exit_month = ended.config.interventions["donor_exit"].start_month
    stipend = ended.config.costs.chw_month_usd
    # month t's cost is counted in the step from t-1 to t, when the schedule stands at month t-1
    after = a["month"] > exit_month
    np.testing.assert_allclose(
        (a["cost_month"] - b["cost_month"])[after], (a["active_chws"] * stipend)[after], rtol=1e-12
    )
    assert (a["cost_month"] == b["cost_month"])[~after].all()


@pytest.mark.parametrize(
    ("damage", "phase", "says"),
    [
        (lambda d: d.households.awareness.__setitem__(0, 1.5), "interventions", "households.awareness outside [0, 1]"),
        (
            lambda d: d.households.group.__setitem__(0, d.households.home_group[0] + 1),
            "interventions",
            "a woman in a group other than her village's",
        ),
        (lambda d: d.villages.n_users.__setitem__(0, d.villages.n_users[0] + 1), None, None),
    ],
    ids=["share", "members", "tally"],
)
def test_debug_checks_name_the_phase_after_which_the_state_broke(damage, phase, says):
    """A planted violation fails the first check that sees it: state damage at once (after `interventions`),
    while a tally that `serve` rebuilds each month is made good again and passes."""
    from commsim.model.checks import ModelStateError

    model = CommunityHealthModel("hrh2030_groups", rng=4, debug_checks=True, **DISTRICT)
    damage(model.district)
    if phase is None:
        model.step()  # no error: serve counts the villages' users afresh
        assert model.district.villages.n_users.sum() == np.count_nonzero(model.district.households.source > 0)
        return
    with pytest.raises(ModelStateError, match=rf"^after phase {phase} of month 1: .*{re.escape(says)}"):
        model.step()


@pytest.mark.parametrize("backend", ["numba", "python"])
def test_a_phase_changing_a_column_it_does_not_declare_is_named(backend, monkeypatch):
    """Each phase declares the columns it writes; with debug_checks a write to any other column fails after
    that phase, on either backend (here the CHW phase, made to also touch the groups' capacity)."""
    from commsim.model import community
    from commsim.model.checks import ModelStateError

    index = [phase.name for phase in community.PHASES].index("chws")
    chws = community.PHASES[index]

    def meddle(model):
        (chws.compiled if backend == "numba" else chws.twin)(model)
        model.district.groups.capacity[0] += 0.01

    phases = list(community.PHASES)
    phases[index] = chws._replace(compiled=meddle, twin=meddle)
    monkeypatch.setattr(community, "PHASES", tuple(phases))
    model = CommunityHealthModel("hrh2030_groups", rng=4, backend=backend, debug_checks=True, **DISTRICT)
    message = "after phase chws of month 1: changed groups.capacity, which it does not declare it writes"
    with pytest.raises(ModelStateError, match=f"^{re.escape(message)}"):
        model.step()


def test_a_misspelt_declared_write_is_refused_at_build(monkeypatch):
    from commsim.model import community
    from commsim.model.checks import ModelStateError

    first = community.PHASES[0]
    monkeypatch.setattr(community, "PHASES", (first._replace(writes=("chws.stauts",)), *community.PHASES[1:]))
    with pytest.raises(ModelStateError, match=r"phase interventions declares writes to unknown columns: chws\.stauts"):
        CommunityHealthModel("baseline", rng=1, debug_checks=True, **DISTRICT)


def test_kernel_parameters_are_the_schema_numbers_under_their_schema_names():
    """One declaration: every number of the behaviour sections reaches the rules under its own name (a name two
    sections share, prefixed), plus the constants derived from them."""
    from commsim.model.params import BY_AGE, BY_METHOD, DERIVED, SCHEMA_PARAMS, STERILITY, build_params

    sc = loader.load_scenario("hrh2030_groups")
    params = build_params(sc)
    assert params._fields == (*(name for name, _, _ in SCHEMA_PARAMS), *DERIVED, *BY_AGE, *BY_METHOD, *STERILITY)
    assert list(params.cyp_per_unit) == [method.cyp_per_unit for method in sc.methods.table()]
    fecund = 1.0 - np.array(sc.women.sterile_by_age)  # the schema's fecundability is among all women
    np.testing.assert_allclose(params.fecundability_by_age * fecund, sc.women.fecundability_by_age, rtol=1e-15)
    for name, section, field in SCHEMA_PARAMS:
        assert getattr(params, name) == float(getattr(getattr(sc, section), field)), name
    assert {"chws_quality", "facilities_quality", "attrition_per_month"} <= set(params._fields)
    assert params.rel_attrition_unsupported == sc.chws.rel_attrition_no_refresher * sc.chws.rel_attrition_unsupervised

"""Build a synthetic rural district from a scenario and a seed into the state tables.

Vectorised NumPy; every random number comes from the counter-based stream (rng.uniforms), so the same
scenario and seed build the same district on any machine and either backend.
"""

from typing import NamedTuple

import numpy as np
from scipy.spatial import cKDTree
from scipy.stats import poisson

from commsim.model import rng
from commsim.model.kernels.households import join_weight
from commsim.model.metrics import BAND_EDGES_KM, dot
from commsim.model.params import (
    chw_method_access,
    hours_per_visit,
    infecund_from,
    initial_visits,
    join_rate,
    member_turnover,
    monthly,
    wait_scale,
)
from commsim.model.state import (
    AGE_IN_MONTHS,
    CHW_ACTIVE,
    CHW_NOT_DEPLOYED,
    GESTATION_MONTHS,
    LEADER_HOSTILE,
    LEADER_NEUTRAL,
    LEADER_SUPPORTIVE,
    POSTPARTUM_MONTHS,
    SOURCE_CHW,
    WANTS_LATER,
    WANTS_NO_MORE,
    WANTS_SOON,
    Chws,
    Facilities,
    Groups,
    Households,
    Villages,
    allocate,
)
from commsim.scenario.district import District as GeoDistrict
from commsim.scenario.district import index_women, read_district
from commsim.scenario.schema import Population, Scenario

VILLAGE_SIZE_SIGMA = 0.6  # lognormal spread of village sizes
CANDIDATE_FACILITIES = 4  # nearest facilities to a village centre searched for its homes
UNMARRIED_PARITY = 0.25  # children of a woman not in union, relative to a married one of her age (reasoned)


class District(NamedTuple):
    """Every table of a built district."""

    households: Households
    groups: Groups
    chws: Chws
    facilities: Facilities
    villages: Villages


def _draws(seed: int, k: int, n: int) -> np.ndarray:
    return rng.uniforms(rng.stream_key(seed, 0, rng.BUILD + k), n)


def _normal(seed: int, k: int, n: int) -> np.ndarray:
    """Standard normals by Box-Muller from two uniform streams."""
    u1 = np.maximum(_draws(seed, k, n), 1e-300)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * _draws(seed, k + 1, n))


def _ranks(values: np.ndarray) -> np.ndarray:
    """0-based ranks, ties broken by index."""
    ranks = np.empty(values.size, np.int64)
    ranks[np.argsort(values, kind="stable")] = np.arange(values.size)
    return ranks


def _villages(sc: Scenario, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pop = sc.population
    nv = pop.n_villages
    vx = _draws(seed, 1, nv) * pop.district_side_km
    vy = _draws(seed, 2, nv) * pop.district_side_km
    weights = np.exp(VILLAGE_SIZE_SIGMA * _normal(seed, 3, nv))
    cum = np.cumsum(weights) / weights.sum()
    village = np.minimum(np.searchsorted(cum, (np.arange(pop.households) + 0.5) / pop.households), nv - 1)
    return vx, vy, village.astype(np.int32)


def _facilities(sc: Scenario, seed: int, vx, vy, n_hh_v) -> tuple[np.ndarray, ...]:
    """Facilities at villages drawn with probability by size (without replacement, Efraimidis-Spirakis)."""
    nf, nv = sc.population.n_facilities, vx.size
    keys = np.log(np.maximum(_draws(seed, 6, nv), 1e-300)) / np.maximum(n_hh_v, 0.5)
    order = np.argsort(-keys, kind="stable")
    fac_village = order[np.arange(nf) % nv]
    lap = np.arange(nf) // nv  # a second facility in the same village stands a little apart
    fx = np.clip(vx[fac_village] + lap * 0.5, 0.0, sc.population.district_side_km)
    fy = vy[fac_village].copy()
    level = np.ones(nf, np.uint8)
    biggest = np.argsort(-n_hh_v[fac_village], kind="stable")[: sc.population.n_referral_facilities]
    level[biggest] = 2
    return fac_village.astype(np.int32), fx, fy, level


def _nearest_two(hx, hy, village, vx, vy, fx, fy, detour=None) -> tuple[np.ndarray, ...]:
    """Each home's two nearest facilities among those nearest its village centre; with a road network's
    `detour` (village x facility, `scenario.district`), distances are the straight lines x the pair's detour."""
    k = min(CANDIDATE_FACILITIES, fx.size)
    _, cand = cKDTree(np.column_stack([fx, fy])).query(np.column_stack([vx, vy]), k=k)
    cand = cand.reshape(vx.size, k)
    n = hx.size
    fac1, fac2 = np.empty(n, np.int64), np.empty(n, np.int64)
    d1, d2 = np.empty(n), np.empty(n)
    for lo in range(0, n, 1_000_000):
        hi = min(n, lo + 1_000_000)
        c = cand[village[lo:hi]]
        d = np.hypot(fx[c] - hx[lo:hi, None], fy[c] - hy[lo:hi, None])
        if detour is not None:
            d *= detour[village[lo:hi, None], c]
        order = np.argsort(d, axis=1, kind="stable")
        first, second = order[:, 0], order[:, min(1, k - 1)]
        rows = np.arange(hi - lo)
        fac1[lo:hi], fac2[lo:hi] = c[rows, first], c[rows, second]
        d1[lo:hi], d2[lo:hi] = d[rows, first], d[rows, second]
    return fac1, fac2, d1, d2


def build_district(sc: Scenario, seed: int) -> District:
    """The district of scenario `sc` under `seed`: villages, homes, facilities, groups and CHW posts."""
    pop, hhp, _gp, cp, fp = sc.population, sc.households, sc.groups, sc.chws, sc.facilities
    n, nv = pop.households, pop.n_villages
    geo = read_district(pop.district, pop.persons_per_household) if pop.district is not None else None
    if geo is None:
        vx, vy, village = _villages(sc, seed)
    else:  # the district's settlements are its villages, each with its households
        vx, vy = geo.sx, geo.sy
        village = np.repeat(np.arange(nv, dtype=np.int32), index_women(geo, pop.index_women_per_household))
    n_hh_v = np.bincount(village, minlength=nv)

    radius = pop.village_radius_km * np.sqrt(_draws(seed, 4, n))
    angle = 2.0 * np.pi * _draws(seed, 5, n)
    hx = np.clip(vx[village] + radius * np.cos(angle), 0.0, pop.district_side_km)
    hy = np.clip(vy[village] + radius * np.sin(angle), 0.0, pop.district_side_km)

    if geo is None:
        fac_village, fx, fy, level = _facilities(sc, seed, vx, vy, n_hh_v)
    else:  # the district's facilities, each in the settlement nearest it
        fx, fy, level = geo.fx, geo.fy, geo.level
        fac_village = cKDTree(np.column_stack([vx, vy])).query(np.column_stack([fx, fy]), k=1)[1].astype(np.int32)
    fac1, fac2, d1, d2 = _nearest_two(hx, hy, village, vx, vy, fx, fy, None if geo is None else geo.detour)
    band = np.searchsorted(np.array(BAND_EDGES_KM), d1, side="right")
    v_remote = cKDTree(np.column_stack([fx, fy])).query(np.column_stack([vx, vy]), k=1)[0]

    score = (1.0 - pop.wealth_remoteness) * _draws(seed, 8, n) + pop.wealth_remoteness * (
        1.0 - _ranks(d1) / max(n - 1, 1)
    )
    wealth = (_ranks(score) * 5) // n

    near = np.exp(-np.hypot(hx - vx[village], hy - vy[village]) / sc.groups.join_distance_km)
    groups, group, home = _groups(sc, seed, village, nv, v_remote, fac1, wealth, near, geo)
    chws, chw = _chws(sc, seed, village, n_hh_v, v_remote, vx.size, fac1, geo)
    groups.chw[:] = np.where(groups.village >= 0, _first_post(n_hh_v, cp.households_per_chw)[groups.village], -1)

    women = _women(sc, seed, n)
    need = women["need"] == 1
    odds = hhp.distance_odds_per_km ** np.minimum(d1, hhp.distance_levels_off_km)
    access = odds * fp.quality * (hhp.rel_access_poorest + (1.0 - hhp.rel_access_poorest) * wealth / 4.0)
    chw_on = (chws.status[chw] == CHW_ACTIVE) & (chws.fp_trained[chw] == 1)
    chw_access = chw_method_access(sc) * min(1.0, initial_visits(sc) / cp.households_per_chw)
    via_chw = np.where(chw_on, chw_access, 0.0)
    married = np.count_nonzero(women["union"])
    share_of_need = min(1.0, pop.initial_mcpr_married * married / max(np.count_nonzero(need), 1))
    p_user = _equilibrium_use(access + via_chw, need, share_of_need, sc)
    user = need & (_draws(seed, 10, n) < p_user)
    source = np.where(user, np.where(_draws(seed, 16, n) * (access + via_chw) < via_chw, 3, 1), 0)
    ever = user | (_draws(seed, 11, n) < np.where(need, 0.38, 0.2))  # ~38% of unmet need are former users
    method = np.where(user, _methods(sc, seed, women, source == SOURCE_CHW, odds) + 1, 0)
    per_visit = np.array([x.months_per_visit for x in sc.methods.table()])[np.maximum(method - 1, 0)]
    resupply_in = np.where(user, 1 + (_draws(seed, 17, n) * per_visit).astype(np.int64), 0)

    awareness = pop.initial_awareness + 0.05 * (wealth - 2) + 0.15 * user + 0.15 * (_draws(seed, 12, n) - 0.5) * 2
    trust = pop.initial_trust + 0.1 * user + 0.15 * (_draws(seed, 13, n) - 0.5) * 2

    households = allocate(
        Households,
        n,
        village=village,
        x=hx,
        y=hy,
        fac1=fac1,
        fac2=fac2,
        dist1=d1,
        dist2=d2,
        band=band,
        wealth=wealth,
        **women,
        partner_opposes=(women["union"] == 1) & (source == 0) & (_draws(seed, 60, n) < sc.households.p_partner_opposes),
        source=source,
        method=method,
        resupply_in=np.minimum(resupply_in, 255),
        ever_user=ever,
        months_on=np.where(user, (_draws(seed, 14, n) * 36).astype(np.int16), 0),
        awareness=np.clip(awareness, 0.0, 1.0),
        trust=np.clip(trust, 0.0, 1.0),
        group=group,
        home_group=home,
        join_near=near,
        chw=chw,
    )
    n_catch = np.bincount(fac1, minlength=fx.size)
    quality = np.clip(fp.quality + fp.quality_spread * (2 * _draws(seed, 15, fx.size) - 1), 0.0, 1.0)
    base_capacity = np.where(level == 2, fp.referral_capacity_per_month, fp.capacity_per_month).astype(float)
    if geo is not None:  # a capacity the facilities file gives
        base_capacity = np.where(np.isfinite(geo.capacity), geo.capacity, base_capacity)
    reliability = method_reliability(sc)
    offers = np.ones((fx.size, reliability.size)) if geo is None else geo.offers
    facilities = allocate(
        Facilities,
        fx.size,
        village=fac_village,
        x=fx,
        y=fy,
        level=level,
        remoteness=np.bincount(fac1, weights=d1, minlength=fx.size) / np.maximum(n_catch, 1),
        base_capacity=base_capacity,
        capacity=base_capacity,
        quality=quality,
        quality_base=quality,
        offers=offers,
        stock=(offers * reliability).sum(axis=1) / np.maximum(offers.sum(axis=1), 1),
        stock_method=offers * reliability,
        stock_method_base=offers * reliability,
        n_catchment=n_catch,
    )
    villages = allocate(
        Villages, nv, x=vx, y=vy, n_households=n_hh_v, remoteness=v_remote, leader=_leaders(pop, seed, nv)
    )
    return District(households, groups, chws, facilities, villages)


def _leaders(pop: Population, seed: int, nv: int) -> np.ndarray:
    """Each village's leaders' stance on FP at month 0: hostile, supportive or else neutral, at the population's
    shares, in a random order of the villages."""
    u = _draws(seed, 61, nv)
    stance = np.full(nv, LEADER_NEUTRAL)
    stance[u < pop.leaders_hostile] = LEADER_HOSTILE
    stance[u >= 1.0 - pop.leaders_supportive] = LEADER_SUPPORTIVE
    return stance


def method_reliability(sc: Scenario) -> np.ndarray:
    """Each method's monthly chance of no stockout at a facility without support: the facility's stockout chance
    scaled by the method's rel_stockout."""
    rel = np.array([x.rel_stockout for x in sc.methods.table()])
    return np.clip(1.0 - rel * (1.0 - sc.facilities.stock_reliability), 0.0, 1.0)


def _women(sc: Scenario, seed: int, n: int) -> dict[str, np.ndarray]:
    """Each index woman's age, union, children and where she is in her birth interval, drawn so that the district
    starts near its steady state: a married woman's interval is 12 / (births a year per married woman in her age
    group) months and she is at a uniform point in it (pregnant in its last 9 months); those who have as many
    children as they want want no more, others who gave birth want to wait for as long as a wish to wait lasts."""
    w = sc.women
    shares, union_share, asfr = (np.array(v) for v in (w.age_shares, w.in_union_by_age, w.asfr_by_age))
    group = np.minimum(np.searchsorted(np.cumsum(shares) / shares.sum(), _draws(seed, 40, n), side="right"), 6)
    age = AGE_IN_MONTHS + 60 * group + (_draws(seed, 41, n) * 60).astype(np.int64)
    union = _draws(seed, 42, n) < union_share[group]
    years_in_group = (age - AGE_IN_MONTHS - 60 * group) / 12.0
    born = 5.0 * np.concatenate(([0.0], np.cumsum(asfr)[:-1]))[group] + years_in_group * asfr[group]
    parity = poisson.ppf(_draws(seed, 43, n), np.where(union, born, UNMARRIED_PARITY * born)).astype(np.int64)
    desired = np.maximum(poisson.ppf(_draws(seed, 44, n), w.ideal_children), 1).astype(np.int64)
    rate = asfr[group] / np.maximum(union_share[group], 0.05)  # births a year per married woman
    interval = np.minimum(12.0 / np.maximum(rate, 1e-3), 600.0)
    phase = _draws(seed, 45, n) * interval
    pregnant = np.where(union & (phase >= interval - GESTATION_MONTHS), phase - (interval - GESTATION_MONTHS) + 1, 0)
    pregnant = np.minimum(pregnant.astype(np.int64), GESTATION_MONTHS)
    since_birth = np.where(union & (pregnant == 0) & (parity > 0), np.floor(phase) + 1, 10**6)
    postpartum = np.where(since_birth <= POSTPARTUM_MONTHS, since_birth, 0).astype(np.int64)
    returns = 1.0 / max(w.amenorrhoea_months - 1.0, 1.0)
    amenorrhoeic = (postpartum > 0) & (_draws(seed, 46, n) < (1.0 - returns) ** np.maximum(postpartum - 1, 0))
    # her wait after the last birth is a Weibull draw; she still waits if it is longer than the months since
    scale, shape = wait_scale(w), w.wait_shape
    elapsed = (np.minimum(since_birth, 10**4) / scale) ** shape
    still_waiting = _draws(seed, 47, n) < np.exp(-elapsed)
    intention = np.where(
        parity >= desired,
        WANTS_NO_MORE,
        np.where((pregnant == 0) & (parity > 0) & still_waiting, WANTS_LATER, WANTS_SOON),
    )
    total = scale * (elapsed - np.log1p(-_draws(seed, 49, n))) ** (1.0 / shape)  # her wait, given it outlasted so far
    left = np.clip(np.floor(total - np.minimum(since_birth, 10**4) + 0.5), 1, 255)
    wait = np.where(intention == WANTS_LATER, left, 0)
    infecund = infecund_from(_draws(seed, 48, n), w)
    fecund = age < infecund
    need = union & (pregnant == 0) & ~amenorrhoeic & fecund & (intention != WANTS_SOON)
    return {
        "age_months": age,
        "union": union,
        "parity": np.minimum(parity, 255),
        "desired": np.minimum(desired, 255),
        "intention": intention,
        "wait": wait,
        "pregnant": pregnant,
        "intended": np.where(pregnant > 0, parity < desired, parity <= desired),
        "postpartum": postpartum,
        "amenorrhoeic": amenorrhoeic,
        "infecund_from": infecund,
        "need": need,
    }


def _methods(
    sc: Scenario, seed: int, women: dict[str, np.ndarray], via_chw: np.ndarray, decay: np.ndarray
) -> np.ndarray:
    """Each starting user's method (index into METHODS), drawn as users stand at a steady state: by the
    methods' weights for her as when she chooses (long-acting ones more if she wants no more, less if her wait
    is short and under 20), each times how long it lasts for her (1 / its monthly chance of ending: stopping,
    failure, the end of her wait if she wants a child later, and a resupply she cannot get: a trip she does not
    make, at her facility's distance `decay`, or a stockout, at each method's reliability, once a visit's
    months); a CHW's clients among what a CHW gives."""
    ms = sc.methods
    table = ms.table()
    ending = np.array([sc.households.rel_stop * monthly(x.stop_12m) + monthly(x.failure_12m) for x in table])
    wish = np.where(women["intention"] == WANTS_LATER, 1.0 / np.maximum(women["wait"], 1), 0.0)
    per_visit = np.array([x.months_per_visit for x in table], dtype=float)
    reach = np.where(via_chw, 1.0, np.minimum(decay, 1.0))[:, None] * method_reliability(sc)[None, :]
    missed = (1.0 - reach) * sc.households.p_discontinue_failed_resupply / per_visit[None, :]
    weight = np.array([x.weight for x in table])[None, :] / (ending[None, :] + wish[:, None] + missed)
    long_acting = np.array([x.long_acting for x in table])
    no_more = women["intention"] == WANTS_NO_MORE
    young = women["age_months"] < 20 * 12
    weight[np.ix_(no_more, long_acting)] *= ms.rel_weight_long_acting_no_more
    later = women["intention"] == WANTS_LATER
    short_wait = np.minimum(1.0, women["wait"][later] / ms.long_acting_full_wait_months)
    weight[np.ix_(later, long_acting)] *= short_wait[:, None]
    weight[np.ix_(young, long_acting)] *= ms.rel_weight_long_acting_young
    weight[np.ix_(via_chw, ~np.array([x.by_chw for x in table]))] = 0.0
    cumulative = np.cumsum(weight, axis=1)
    total = np.maximum(cumulative[:, -1:], 1e-300)
    return np.minimum((cumulative / total < _draws(seed, 18, via_chw.size)[:, None]).sum(axis=1), len(table) - 1)


def _equilibrium_use(access: np.ndarray, need: np.ndarray, target: float, sc: Scenario) -> np.ndarray:
    """P(user | need) = r / (r + h) with r = k x access, the steady state of adoption at rate r against
    discontinuation h (a method stopped, or the wish to wait over); k is found by bisection so that the mean
    over women with need is `target`."""
    mix = np.array([x.weight for x in sc.methods.table()])
    stop = np.array([x.stop_12m for x in sc.methods.table()])
    h = sc.households.rel_stop * dot(mix, 1.0 - (1.0 - stop) ** (1.0 / 12.0)) / mix.sum()
    h += 1.0 / sc.women.wait_months_after_birth
    if not need.any() or target <= 0.0:
        return np.zeros(access.size)
    lo, hi = 0.0, 1.0
    a = access[need]
    while (hi * a / (hi * a + h)).mean() < target and hi < 1e9:
        hi *= 2.0
    for _ in range(60):
        k = 0.5 * (lo + hi)
        lo, hi = (k, hi) if (k * a / (k * a + h)).mean() < target else (lo, k)
    k = 0.5 * (lo + hi)
    return k * access / (k * access + h)


def _groups(
    sc: Scenario, seed: int, village, nv, v_remote, fac1, wealth, near, geo: GeoDistrict | None
) -> tuple[Groups, np.ndarray, np.ndarray]:
    """The villages' groups (those of a `village_share` of villages formed; in a district from files with a
    groups file, those of the villages it lists), each woman's home group (one of her village's, at random) and
    her group: she is a member with the chance her join weight settles at (x / (1 + x), x = join_per_month x
    weight / member_turnover), so that the district starts where joining and leaving keep it; where the file
    gives a village's members, that chance is scaled so that as many are expected."""
    gp = sc.groups
    per = gp.per_village
    ng = nv * per
    if per == 0:
        none = np.full(village.size, -1, np.int32)
        return allocate(Groups, 0), none, none
    listed = geo is not None and geo.group_settlements is not None
    formed_village = _draws(seed, 25, nv) < gp.village_share
    odds = join_rate(sc) * join_weight(wealth, near, gp.rel_join_poorest) / member_turnover(sc)
    chance = odds / (1.0 + odds)
    if listed:
        formed_village = np.isin(np.arange(nv), geo.group_settlements)
        members = np.bincount(geo.group_settlements, weights=np.nan_to_num(geo.group_members, nan=0.0), minlength=nv)
        given = np.bincount(geo.group_settlements, weights=np.isfinite(geo.group_members), minlength=nv) > 0
        expected = np.bincount(village, weights=chance, minlength=nv)
        scale = np.where(given, members / np.maximum(expected, 1e-12), 1.0)
        chance = np.minimum(chance * scale[village], 1.0)
    member = formed_village[village] & (_draws(seed, 20, village.size) < chance)
    which = np.minimum((_draws(seed, 21, village.size) * per).astype(np.int64), per - 1)
    home = (village * per + which).astype(np.int32)
    group = np.where(member, home, -1).astype(np.int32)
    g_village = np.repeat(np.arange(nv), per)
    nearest = np.full(nv, -1, np.int64)
    nearest[village[::-1]] = fac1[::-1]  # any home's nearest facility stands for its village's
    sustain = gp.self_sustain_per_month * (1.0 + gp.self_sustain_spread * (2.0 * _draws(seed, 22, ng) - 1.0))
    # the rule grows c by r c (1-c) and then loses decay x c, so a meeting group settles at 1 - d / ((1-d) r)
    decay = gp.capacity_decay_per_month
    settled = 1.0 - decay / np.maximum((1.0 - decay) * sustain, 1e-12)
    below = 0.5 * gp.meeting_threshold * _draws(seed, 23, ng)
    capacity = np.where(settled >= gp.meeting_threshold, settled, below)
    if listed:  # a capacity the file gives is its village's first group's
        known = np.isfinite(geo.group_capacity)
        capacity[geo.group_settlements[known] * per] = geo.group_capacity[known]
    groups = allocate(
        Groups,
        ng,
        village=g_village,
        facility=np.maximum(nearest[g_village], 0),
        remoteness=v_remote[g_village],
        n_members=np.bincount(group[member], minlength=ng),
        capacity=np.where(formed_village[g_village], capacity, 0.0),
        sustain=sustain,
        formed=formed_village[g_village],
        active=formed_village[g_village] & (capacity >= gp.meeting_threshold),
        leader_wealth=np.full(ng, -1),
        link_strength=np.ones(ng),
        system_trust=np.full(ng, gp.initial_system_trust),
    )
    members = np.flatnonzero(member)
    u_lead, u_capture = _draws(seed, 26, members.size), _draws(seed, 24, ng)
    choose_leaders(
        groups,
        group[members],
        wealth[members],
        near[members],
        gp.rel_lead_poorest,
        gp.p_advocacy_captured,
        u_lead,
        u_capture,
    )
    return groups, group, home


def choose_leaders(
    groups: Groups,
    gid: np.ndarray,
    wealth: np.ndarray,
    near: np.ndarray,
    rel_poorest: float,
    p_captured: float,
    u_lead: np.ndarray,
    u_capture: np.ndarray,
) -> None:
    """Every group among `gid` (each candidate's group) picks one of its candidates to lead, with chance in
    proportion to her join weight with `rel_poorest` (wealth and nearness); a leader of wealth quintile w has the
    group's agenda captured with chance p_captured x w / 4 (`u_capture`: one draw per group)."""
    if gid.size == 0:
        return
    key = np.log(np.maximum(u_lead, 1e-300)) / join_weight(wealth, near, rel_poorest)  # weighted choice by keys
    order = np.lexsort((key, gid))
    chosen = order[np.r_[gid[order][1:] != gid[order][:-1], True]]
    g = gid[chosen]
    groups.leader_wealth[g] = wealth[chosen]
    groups.captured[g] = u_capture[g] < p_captured * wealth[chosen] / 4.0


def _first_post(n_hh_v: np.ndarray, per_chw: int) -> np.ndarray:
    posts = np.maximum(-(-n_hh_v // per_chw), 1)
    return (np.cumsum(posts) - posts).astype(np.int64)


def _chws(
    sc: Scenario, seed: int, village, n_hh_v, v_remote, nv, fac1, geo: GeoDistrict | None
) -> tuple[Chws, np.ndarray]:
    """One post per `households_per_chw` homes in every village; the remotest villages' posts are staffed (in a
    district from files with a CHW file, those of the villages it lists, FP-trained as it says), with a full kit
    of what a CHW may give; each restocks at her village's nearest facility."""
    cp = sc.chws
    posts = np.maximum(-(-n_hh_v // cp.households_per_chw), 1)
    first = _first_post(n_hh_v, cp.households_per_chw)
    n_posts = int(posts.sum())
    rank_in_village = np.arange(village.size) - np.searchsorted(village, village)  # homes sorted by village
    chw = (first[village] + rank_in_village % posts[village]).astype(np.int32)
    post_village = np.repeat(np.arange(nv), posts)
    staffed = np.zeros(nv, bool)
    listed = geo is not None and geo.chw_settlements is not None
    if listed:
        staffed[geo.chw_settlements] = True
    else:
        staffed[np.argsort(-v_remote, kind="stable")[: round(cp.coverage * nv)]] = True
    active = staffed[post_village]
    trained = active & (_draws(seed, 30, n_posts) < cp.p_fp_trained)
    if listed:  # the file's FP training, where it says, for every post of the village
        says = np.full(nv, np.nan)
        known = np.isfinite(geo.chw_trained)
        says[geo.chw_settlements[known]] = geo.chw_trained[known]
        trained = np.where(np.isfinite(says[post_village]), active & (says[post_village] == 1.0), trained)
    nearest = np.zeros(nv, np.int64)
    nearest[village[::-1]] = fac1[::-1]  # any home's nearest facility stands for its village's
    kit = np.array([x.by_chw for x in sc.methods.table()], np.uint8) * cp.kit_months
    hours = cp.hours_per_month
    chws = allocate(
        Chws,
        n_posts,
        village=post_village,
        facility=nearest[post_village],
        remoteness=v_remote[post_village],
        status=np.where(active, CHW_ACTIVE, CHW_NOT_DEPLOYED).astype(np.uint8),
        fp_trained=trained,
        supervised=active & (_draws(seed, 31, n_posts) < cp.p_supervised),
        visits_per_month=np.full(n_posts, cp.visits_per_month),
        hours_per_month=np.full(n_posts, hours),
        visits=np.full(n_posts, initial_visits(sc)),
        workload=np.full(n_posts, (cp.other_hours_per_month + cp.visits_per_month * hours_per_visit(sc)) / hours),
        n_households=np.bincount(chw, minlength=n_posts),
        kit=np.tile(kit, (n_posts, 1)),
    )
    return chws, chw

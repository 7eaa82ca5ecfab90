"""Scenario -> the flat parameter tuple the rules read: every number of the behaviour sections under its schema
name (so units stay in the names, and nothing is declared twice), the values by age as arrays, and the few
constants derived from them once."""

import math
from collections import Counter
from typing import NamedTuple

import numpy as np

from commsim.scenario.schema import AGE_GROUPS, Scenario, Women

SECTIONS = ("women", "methods", "households", "groups", "chws", "facilities")
NUMBERS = (int, float, bool)


def _schema_params() -> tuple[tuple[str, str, str], ...]:
    """(parameter, section, field) for every number of the behaviour sections; a field name that two sections
    share is prefixed by its section (`chws_quality`, `facilities_quality`)."""
    fields = [
        (section, name)
        for section in SECTIONS
        for name, info in Scenario.model_fields[section].annotation.model_fields.items()
        if info.annotation in NUMBERS
    ]
    shared = Counter(name for _, name in fields)
    return tuple((f"{section}_{name}" if shared[name] > 1 else name, section, name) for section, name in fields)


SCHEMA_PARAMS = _schema_params()
DERIVED = (
    "menses_return_per_month",  # after the birth month, so insusceptibility lasts women.amenorrhoea_months on average
    "wait_scale",  # Weibull scale of the wait after a birth: mean women.wait_months_after_birth, shape women.wait_shape
    "wait_inv_shape",  # 1 / women.wait_shape
    "newcomer_awareness",  # a 15-year-old taking a household's place starts at population.initial_awareness
    "newcomer_trust",  # ... and population.initial_trust
    "log_odds_per_km",  # log of households.distance_odds_per_km
    "chw_access",  # chws.p_method_access where CHWs provide methods, else 0
    "rel_attrition_unsupported",  # chws.rel_attrition_no_refresher x chws.rel_attrition_unsupervised
    "hours_per_visit",  # a CHW's hours a household visit takes: costs.chw_visit_minutes and the walk to it
    "partner_norm",  # 1 / (1 - p_partner_opposes x (1 - rel_adopt_partner_opposed)): an approved woman's propensity
    "leader_norm",  # 1 / the mean leader_factor over villages at month 0: a neutral village's propensity
    "join_per_month",  # the joining rate that, against groups.leave_per_month, keeps p_member for the average woman
)
STERILITY = (  # float64 arrays: the knots of the share infecund by exact age (`sterility_knots`)
    "sterile_ages",
    "sterile_shares",
)
BY_AGE = (  # float64 arrays, one value per age group
    "leave_by_age",  # monthly chance a woman leaves early, which keeps women.age_shares in a district of fixed size
    "union_entry_by_age",  # monthly chance an unmarried woman enters a union (from women.in_union_by_age)
    "fecundability_by_age",  # among the fecund: women.fecundability_by_age / (1 - women.sterile_by_age)
    "pregnancy_loss_by_age",
)
BY_METHOD = (  # float64 arrays, one value per method in METHODS order (flags as 0.0 / 1.0)
    "failure_per_month",  # 1 - (1 - failure_12m) ** (1/12)
    "stop_per_month",  # after the early months; with rel_stop_early before them, stop_12m within 12 months
    "months_per_visit",
    "units_per_visit",
    "cyp_per_unit",
    "unit_cost_usd",
    "by_chw",
    "long_acting",
    "weight",
    "rel_stockout",
)
Params = NamedTuple(
    "Params",
    [(name, float) for name, _, _ in SCHEMA_PARAMS]
    + [(name, float) for name in DERIVED]
    + [(name, np.ndarray) for name in BY_AGE + BY_METHOD + STERILITY],
)
Params.__doc__ = (
    "Every number a rule reads, as float64 (counts and flags too) or float64 arrays by age group, so Numba and "
    "Python compute alike."
)
GROUP_MONTHS = 60  # months in a 5-year age group


def leaving(women: Women) -> np.ndarray:
    """The monthly chance a woman leaves the district before 50 (death, migration, marriage away), by age group,
    that keeps the age structure at `age_shares` although a newcomer of 15 takes each leaver's place: a group
    holds 1 - (next group's share / its share) ** (1/60) of its women a month more than the next (0 where the
    next group is larger). The last group leaves at 50."""
    shares = np.array(women.age_shares)
    ratio = np.append(shares[1:] / np.maximum(shares[:-1], 1e-12), 1.0)
    return np.where(ratio < 1.0, 1.0 - ratio ** (1.0 / GROUP_MONTHS), 0.0)


def union_entry(women: Women) -> np.ndarray:
    """The monthly union-entry chance in each age group that keeps the share in union at `in_union_by_age`:
    following one cohort from 15 (unmarried) through the groups, with `union_dissolution_per_month`, each group's
    chance is found by bisection so that the group's mean share in union is its target."""
    dissolve = women.union_dissolution_per_month
    share, out = 0.0, np.zeros(len(AGE_GROUPS))
    for g, target in enumerate(women.in_union_by_age):

        def mean_and_end(h: float, start: float) -> tuple[float, float]:
            p, total = start, 0.0
            for _ in range(GROUP_MONTHS):
                p += h * (1.0 - p) - dissolve * p
                total += p
            return total / GROUP_MONTHS, p

        lo, hi = 0.0, 1.0
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if mean_and_end(mid, share)[0] < target else (lo, mid)
        out[g] = 0.5 * (lo + hi)
        share = mean_and_end(out[g], share)[1]
    return out


def sterility_knots(women: Women) -> tuple[np.ndarray, np.ndarray]:
    """The share infecund by exact age in years, piecewise linear through `sterile_by_age` at the age groups'
    middles, from 0 at 15 and extended at its last slope to 50 (at most 1)."""
    shares = np.array(women.sterile_by_age, dtype=np.float64)
    last = min(1.0, shares[-1] + 0.5 * (shares[-1] - shares[-2]))
    ages = np.concatenate(([15.0], 17.5 + 5.0 * np.arange(len(AGE_GROUPS)), [50.0]))
    return ages, np.maximum.accumulate(np.concatenate(([0.0], shares, [last])))


def infecund_from(u: np.ndarray, women: Women) -> np.ndarray:
    """The age in whole months from which each woman is infecund (600, 50 years: not before she leaves), drawn
    at uniforms `u` by the inverse of `sterility_knots`; the kernels' `infecund_month` is the same rule for one
    woman."""
    ages, shares = sterility_knots(women)
    onset = np.interp(u, shares, ages)
    return np.where(u >= shares[-1], 600, np.floor(12.0 * onset)).astype(np.int64)


def monthly(p12: float) -> float:
    """The monthly chance that gives `p12` within 12 months."""
    return 1.0 - (1.0 - p12) ** (1.0 / 12.0)


def stopping(p12: float, early: float, early_months: int) -> float:
    """The monthly chance h after the first `early_months` (`early` x h before them) that gives `p12` within 12
    months, by bisection."""
    lo, hi = 0.0, 1.0 / early
    for _ in range(60):
        h = 0.5 * (lo + hi)
        kept = (1.0 - early * h) ** early_months * (1.0 - h) ** (12 - early_months)
        lo, hi = (h, hi) if 1.0 - kept < p12 else (lo, h)
    return 0.5 * (lo + hi)


def method_arrays(sc: Scenario) -> dict[str, np.ndarray]:
    """The BY_METHOD arrays of a scenario's methods."""
    table = sc.methods.table()

    def column(value) -> np.ndarray:
        return np.array([float(value(method)) for method in table], dtype=np.float64)

    return {
        "failure_per_month": column(lambda x: monthly(x.failure_12m)),
        "stop_per_month": column(lambda x: stopping(x.stop_12m, sc.methods.rel_stop_early, sc.methods.early_months)),
        "months_per_visit": column(lambda x: x.months_per_visit),
        "units_per_visit": column(lambda x: x.units_per_visit),
        "cyp_per_unit": column(lambda x: x.cyp_per_unit),
        "unit_cost_usd": column(lambda x: x.unit_cost_usd),
        "by_chw": column(lambda x: x.by_chw),
        "long_acting": column(lambda x: x.long_acting),
        "weight": column(lambda x: x.weight),
        "rel_stockout": column(lambda x: x.rel_stockout),
    }


def chws_give_methods(sc: Scenario) -> bool:
    """Whether CHWs give methods at all: they provide methods and policy lets them provide one at least."""
    return sc.chws.provides_methods and any(x.by_chw for x in sc.methods.table())


def chw_method_access(sc: Scenario) -> float:
    """A FP-trained CHW's chance of giving a method at a visit: chws.p_method_access, if CHWs give methods."""
    return sc.chws.p_method_access if chws_give_methods(sc) else 0.0


def hours_per_visit(sc: Scenario) -> float:
    """A CHW's hours for one household visit: her minutes at the household (costs.chw_visit_minutes, the
    time-motion figure the costs use too) and her walk there (chws.travel_minutes_per_visit)."""
    return (sc.costs.chw_visit_minutes + sc.chws.travel_minutes_per_visit) / 60.0


def initial_visits(sc: Scenario) -> float:
    """The household visits a CHW makes a month with no group work: her norm, or what her hours leave."""
    c = sc.chws
    return min(c.visits_per_month, max(c.hours_per_month - c.other_hours_per_month, 0.0) / hours_per_visit(sc))


def leader_mean(sc: Scenario) -> float:
    """The mean over villages at month 0 of what their leaders make of activity and adoption there (the
    kernels' leader_factor), at the population's shares of supportive and hostile leaders."""
    pop, g = sc.population, sc.groups
    neutral = 1.0 - pop.leaders_supportive - pop.leaders_hostile
    return (
        pop.leaders_supportive * g.rel_activity_leader_supportive
        + pop.leaders_hostile * (g.rel_activity_leader_hostile)
        + neutral
    )


def member_turnover(sc: Scenario) -> float:
    """The monthly rate a member stops being one: she leaves her group (groups.leave_per_month), or the district
    (a newcomer of 15 takes her place, not yet a member): the age groups' leaving chances weighted by their
    shares, and the oldest group's women ageing out at 50."""
    w = sc.women
    shares = np.array(w.age_shares) / np.sum(w.age_shares)
    return sc.groups.leave_per_month + float(shares @ leaving(w)) + float(shares[-1]) / GROUP_MONTHS


def join_rate(sc: Scenario) -> float:
    """The monthly joining rate J that keeps groups.p_member for a woman of the mean join weight: her share in
    a group settles at J f / (J f + member_turnover), f her weight (the kernels' join_weight), whose mean is the
    mean wealth factor (quintiles alike) x the mean of exp(-d / join_distance_km) over homes spread uniformly
    over a village's disc (2 / a^2 (1 - (1 + a) e^-a), a = radius / join_distance_km)."""
    g = sc.groups
    a = sc.population.village_radius_km / g.join_distance_km
    near = 2.0 / a**2 * (1.0 - (1.0 + a) * math.exp(-a))
    mean_weight = (g.rel_join_poorest + (1.0 - g.rel_join_poorest) * 0.5) * near
    return member_turnover(sc) * g.p_member / (1.0 - g.p_member) / mean_weight if g.p_member < 1.0 else 1.0


def wait_scale(w: Women) -> float:
    """The Weibull scale of the months a woman wants to wait after a birth, for its mean and shape."""
    return w.wait_months_after_birth / math.gamma(1.0 + 1.0 / w.wait_shape)


def build_params(sc: Scenario) -> Params:
    """Flatten a scenario into Params."""
    values = {param: float(getattr(getattr(sc, section), name)) for param, section, name in SCHEMA_PARAMS}
    h, c, pop, w = sc.households, sc.chws, sc.population, sc.women
    values.update(
        menses_return_per_month=1.0 / max(w.amenorrhoea_months - 1.0, 1.0),
        wait_scale=wait_scale(w),
        wait_inv_shape=1.0 / w.wait_shape,
        newcomer_awareness=pop.initial_awareness,
        newcomer_trust=pop.initial_trust,
        leave_by_age=leaving(w),
        union_entry_by_age=union_entry(w),
        fecundability_by_age=np.array(w.fecundability_by_age) / (1.0 - np.minimum(w.sterile_by_age, 0.99)),
        pregnancy_loss_by_age=np.array(w.pregnancy_loss_by_age, dtype=np.float64),
        **method_arrays(sc),
        log_odds_per_km=math.log(h.distance_odds_per_km),
        chw_access=chw_method_access(sc),
        rel_attrition_unsupported=c.rel_attrition_no_refresher * c.rel_attrition_unsupervised,
        hours_per_visit=hours_per_visit(sc),
        partner_norm=1.0 / (1.0 - h.p_partner_opposes * (1.0 - h.rel_adopt_partner_opposed)),
        leader_norm=1.0 / leader_mean(sc),
        join_per_month=join_rate(sc),
    )
    values["sterile_ages"], values["sterile_shares"] = sterility_knots(w)
    return Params(**values)

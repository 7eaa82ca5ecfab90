"""A bigger district is the same kind of district: villages, area, facilities and CHWs grow with the households
(the population's densities), so shares stay put from 2,000 to 1,000,000 households."""

import math

import numpy as np
import pytest

from commsim import CommunityHealthModel, load_scenario

SHARES = ("mcpr", "unmet_need", "mean_group_capacity", "mean_trust")
# households: replicates (seeds), enough that each size's mean is known to a few tenths of a point
SIZES = {2_000: 24, 20_000: 6, 200_000: 2, 1_000_000: 1}


def test_counts_follow_the_densities_and_explicit_counts_win():
    for n in (2_000, 20_000, 1_000_000):
        pop = load_scenario("baseline", {"population.households": n}).population
        assert pop.n_villages == round(n / pop.households_per_village)
        assert pop.n_facilities == round(n / pop.households_per_facility)
        served = pop.households_per_facility / pop.households_per_km2  # km2 a facility serves at the densities
        assert pop.district_side_km == pytest.approx(math.sqrt(pop.n_facilities * served))
        assert pop.district_side_km == pytest.approx(math.sqrt(n / pop.households_per_km2), rel=0.12)
        assert pop.n_referral_facilities == max(1, round(pop.n_facilities * pop.referral_share))
    base = load_scenario("baseline").population
    assert (base.n_villages, base.n_facilities, base.n_referral_facilities, base.district_side_km) == (80, 8, 1, 60.0)
    set_ = load_scenario("baseline", {"population.villages": 12, "population.facilities": 3}).population
    assert (set_.n_villages, set_.n_facilities) == (12, 3)
    tiny = load_scenario("baseline", {"population.households": 10}).population
    assert tiny.n_villages == 1 and tiny.n_facilities == 1 and tiny.n_referral_facilities == 1


def _month_24(n: int, seed: int) -> dict[str, float]:
    model = CommunityHealthModel("hrh2030_groups", rng=seed, check_memory=False, population__households=n)
    model.run(24)
    per_household = {"active_chws": model.latest["active_chws"] / n, "active_groups": model.latest["active_groups"] / n}
    return {**{name: model.latest[name] for name in SHARES}, **per_household}


@pytest.mark.slow
def test_shares_at_month_24_are_the_same_from_2k_to_1m_households():
    """Each size's mean over its seeds agrees with every other size's within 3 standard errors. District noise
    averages over villages, so a size's between-seed SD is taken as the 2k SD (24 seeds) x sqrt(2k / n); its
    standard error divides that by the root of its seeds."""
    runs = {n: [_month_24(n, 500 + r) for r in range(k)] for n, k in SIZES.items()}
    names = list(runs[2_000][0])
    for name in names:
        values = {n: np.array([run[name] for run in rows]) for n, rows in runs.items()}
        sd_2k = values[2_000].std(ddof=1)
        se = {n: sd_2k * math.sqrt(2_000 / n) / math.sqrt(v.size) for n, v in values.items()}
        for a in SIZES:
            for b in SIZES:
                if a < b:
                    gap = abs(values[a].mean() - values[b].mean())
                    allowed = 3 * math.hypot(se[a], se[b])
                    assert gap <= allowed, f"{name}: {a:,} vs {b:,} households differ by {gap:.4f} (> {allowed:.4f})"

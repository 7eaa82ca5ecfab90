"""The stylised facts of `evidence.md` as behaviour of the model: each fact runs the model, measures what the
literature reports, and checks it against the accepted range. `commsim validate` prints them as a table and
writes an HTML page with a small plot per fact; the tests run the quick mode.

Arms of a fact share seeds (common random numbers), so differences are effects, not noise. Quick mode
averages 3 seeds, full mode 10.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from commsim.evidence.measures import measure_run
from commsim.model.community import CommunityHealthModel
from commsim.model.state import CHW_ACTIVE as ACTIVE
from commsim.model.state import SOURCE_FAC2, SOURCE_NONE
from commsim.results import effects
from commsim.runs.decompose import without
from commsim.runs.run import run_scenario
from commsim.scenario.loader import load_scenario

QUICK_SEEDS, FULL_SEEDS = (1, 2, 3), tuple(range(1, 11))


@dataclass
class Check:
    """One criterion of a fact: what is required, and whether the model met it."""

    requirement: str
    passed: bool


@dataclass
class Plot:
    """The data of a fact's small plot: lines (kind "line") or grouped bars (kind "bar") over x."""

    kind: str
    x: list
    series: dict[str, list[float]]
    xlabel: str
    ylabel: str


@dataclass
class FactResult:
    """A fact as the model reproduced it: the headline number, the accepted range, every check."""

    number: int
    title: str
    source: str
    measured: str
    accepted: str
    checks: list[Check]
    plot: Plot

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)


@dataclass
class Runs:
    """Runs shared between facts within one validation (the baseline is used by several)."""

    seeds: tuple[int, ...]
    memo: dict = field(default_factory=dict)

    def mean(self, scenario: str, **overrides) -> pd.DataFrame:
        """Monthly outputs averaged over the seeds (dotted keys as overrides)."""
        key = (scenario, tuple(sorted(overrides.items())))
        if key not in self.memo:
            frames = [run_scenario(scenario, seed=s, overrides=overrides).timeseries for s in self.seeds]
            self.memo[key] = sum(frames) / len(frames)
        return self.memo[key]


def yearly_increments(mcpr: pd.Series) -> np.ndarray:
    """Mean monthly change in prevalence within each year."""
    return np.diff(mcpr.to_numpy()).reshape(-1, 12).mean(axis=1)


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


# Fact 1: both arms start at 0.3% prevalence, far below any ceiling, without CHWs and with easy access, so that
# the diffusion term, not supply, shapes the curve; women outside groups weigh their village's users fully, so
# that use spreads through villages within the ten years, and peer influence half-saturates at 30% exposure.
# Leaders and partners are neutral: their stances would give villages and women different speeds, and the sum of
# staggered S-curves is not the curve of one.
DIFFUSION = {
    "months": 120,
    "population.initial_mcpr_married": 0.003,
    "chws.coverage": 0.0,
    "households.rate_awareness_per_month": 0.0,
    "households.distance_odds_per_km": 0.97,
    "households.village_peer_weight": 1.0,
    "households.peer_half_saturation": 0.3,
    "households.p_partner_opposes": 0.0,
    "population.leaders_supportive": 0.0,
    "population.leaders_hostile": 0.0,
}


def fact_diffusion(runs: Runs) -> FactResult:
    peers = runs.mean(
        "baseline", **DIFFUSION, **{"households.rate_external_per_month": 0.0005, "households.rate_peer_per_month": 1.0}
    )
    outside = runs.mean(
        "baseline", **DIFFUSION, **{"households.rate_external_per_month": 0.02, "households.rate_peer_per_month": 0.0}
    )
    inc_p, inc_o = yearly_increments(peers.mcpr), yearly_increments(outside.mcpr)
    peak = int(np.argmax(inc_p))
    return FactResult(
        1,
        "S-shaped uptake with a ceiling when peers drive it; concave when only outside contact does",
        "Valente 1996; Rosero-Bixby & Casterline 1993",
        f"peer-driven growth peaks in year {peak + 1}; outside-driven in year {int(np.argmax(inc_o)) + 1}",
        "peer peak in years 2-7, slow start, ceiling; outside peak in year 1, then slowing",
        [
            Check("peer-driven growth peaks after year 1 and before the end", 1 <= peak <= 6),
            Check("slow start: year-1 growth under 60% of the peak", inc_p[0] < 0.6 * inc_p[peak]),
            Check("ceiling: last 3 years under half the peak", inc_p[-3:].mean() < 0.5 * inc_p[peak]),
            Check("outside contact: fastest growth in year 1", int(np.argmax(inc_o)) == 0),
            Check("outside contact: growth slows from the start", bool(np.all(inc_o[1:5] < inc_o[0]))),
            Check("outside contact: levels off (last 3 years < 25% of year 1)", inc_o[-3:].mean() < 0.25 * inc_o[0]),
        ],
        Plot(
            "line",
            list(range(121)),
            {"peers": list(peers.mcpr), "outside contact": list(outside.mcpr)},
            "month",
            "mCPR",
        ),
    )


def fact_dose_response(runs: Runs) -> FactResult:
    base = runs.mean("baseline").mcpr[24:37].mean()
    coverages = np.array([0.1, 0.4, 0.7, 1.0])
    gains = np.array(
        [runs.mean("capacity_only", **{"groups.training_coverage": c}).mcpr[24:37].mean() - base for c in coverages]
    )
    slope, intercept = np.polyfit(coverages, gains, 1)
    residual = np.abs(gains - (slope * coverages + intercept)).max()
    return FactResult(
        2,
        "Group effects scale with coverage: ~3% of women no effect, >=30% strong, linear dose-response",
        "Prost 2013; Azad 2010 vs Fottrell 2013",
        f"gain {100 * gains[0]:.2f} pp at 3% of women in trained groups, {100 * gains[-1]:.2f} pp at 30%",
        "rising; > 1 pp at 30%; < 20% of that at 3%; linear through the origin (within 10%)",
        [
            Check("gain rises with coverage", bool(np.all(np.diff(gains) > 0))),
            Check("30% of women in trained groups: over 1 point", gains[-1] > 0.01),
            Check("3% of women: under a fifth of the 30% gain", gains[0] < 0.2 * gains[-1]),
            Check("linear within 10% of the top gain", residual < 0.1 * gains[-1]),
            Check("through the origin (intercept within 10%)", abs(intercept) < 0.1 * gains[-1]),
        ],
        Plot(
            "bar",
            [f"{0.3 * c:.0%}" for c in coverages],
            {"gain (pp)": list(100 * gains)},
            "women in trained groups",
            "pp",
        ),
    )


def fact_lag(runs: Runs) -> FactResult:
    gain = runs.mean("hrh2030_groups").mcpr - runs.mean("baseline").mcpr
    year1, years23 = gain[1:13].mean(), gain[13:37].mean()
    return FactResult(
        3,
        "Effects lag: years 2-3 larger than year 1",
        "Tripathy 2010 (OR 0.68 over 3 years, 0.55 in years 2-3)",
        f"mean gain {100 * year1:.2f} pp in year 1, {100 * years23:.2f} pp in years 2-3",
        "years 2-3 > 1.5 x year 1",
        [Check("a gain in year 1", year1 > 0), Check("years 2-3 over 1.5 x year 1", years23 > 1.5 * year1)],
        Plot("line", list(range(len(gain))), {"gain over baseline": list(gain)}, "month", "mCPR gain"),
    )


def fact_decay(runs: Runs) -> FactResult:
    base, kept, exit_ = runs.mean("baseline"), runs.mean("hrh2030_groups"), runs.mean("donor_exit")
    gain_kept, gain_exit = kept.mcpr - base.mcpr, exit_.mcpr - base.mcpr
    yearly_after_exit = gain_exit[[24, 36, 48, 60]].to_numpy()
    return FactResult(
        4,
        "Gains decay when support is removed; groups that keep meeting keep the effect",
        "Navrongo scale-up (Phillips 2012)",
        f"gain {100 * gain_exit[24]:.2f} pp at the exit (month 24) -> {100 * gain_exit[60]:.2f} pp at month 60, "
        f"against {100 * gain_kept[60]:.2f} pp with support",
        "the gain falls each year after the exit, to < 70% of the supported arm's by month 60; held with support; "
        "groups stop meeting",
        [
            Check("identical until the donor leaves", bool(np.allclose(gain_exit[:25], gain_kept[:25]))),
            Check("gain decays after the exit, year by year", bool(np.all(np.diff(yearly_after_exit) < 0))),
            Check("by month 60 the exit has cost over 30% of the supported gain", gain_exit[60] < 0.7 * gain_kept[60]),
            Check("with support continuing, the gain holds", gain_kept[60] >= gain_kept[24]),
            Check("groups stop meeting after the exit", exit_.active_groups[60] < exit_.active_groups[24] - 5),
            Check("with support, groups keep meeting", kept.active_groups[60] >= kept.active_groups[24] - 1),
        ],
        Plot(
            "line",
            list(range(61)),
            {"support continues": list(gain_kept), "donor exits": list(gain_exit)},
            "month",
            "mCPR gain",
        ),
    )


def fact_distance(runs: Runs) -> FactResult:
    by_band = []
    for seed in runs.seeds:
        model = CommunityHealthModel("baseline", rng=seed)
        model.run(60)
        hh, chw = model.district.households, model.district.chws
        no_chw, users = chw.status[hh.chw] != ACTIVE, hh.source > 0
        by_band.append([users[no_chw & (hh.band == b)].mean() for b in range(4)])
    band = np.mean(by_band, axis=0)
    bypass = []
    for boost in (False, True):
        model = CommunityHealthModel("baseline", rng=runs.seeds[0])
        fac = model.district.facilities
        big = int(np.argmax(fac.n_catchment))
        if boost:
            fac.quality[big] = fac.quality_base[big] = 0.95
            fac.stock[big] = fac.stock_method[big] = fac.stock_method_base[big] = 0.98
        model.run(36)
        hh = model.district.households
        bypass.append(int(((hh.source == SOURCE_FAC2) & (hh.fac2 == big)).sum()))
    return FactResult(
        5,
        "Distance gradient (about -10% odds per km, levelling off); quality and stock pull women past the nearest",
        "Wong 2017 (aOR 0.90/km); Elewonibi 2020 (women travel further for stock and quality)",
        f"mCPR without a CHW: {', '.join(pct(v) for v in band)} at 0-2, 2-5, 5-10, 10+ km; "
        f"bypass users x{bypass[1] / max(bypass[0], 1):.1f} with a better facility",
        "falls over the first three bands; near >= 1.5 x 5-10 km; bypass x > 1.3",
        [
            Check("prevalence falls with distance over 0-10 km", band[0] > band[1] > band[2]),
            Check("near vs 5-10 km at least 1.5x", band[0] > 1.5 * band[2]),
            Check("a better facility draws more than 1.3x as many from further away", bypass[1] > 1.3 * bypass[0]),
        ],
        Plot("bar", ["0-2 km", "2-5 km", "5-10 km", "10+ km"], {"mCPR, no CHW": list(band)}, "distance", "mCPR"),
    )


def relative_gains(runs: Runs, scenario: str) -> np.ndarray:
    """Each wealth quintile's gain in mCPR over the baseline in year 3, over its own baseline level: relative, as
    Houweling's NMR reductions are (a year's mean, as one quintile's month is noisy)."""
    base, arm = runs.mean("baseline"), runs.mean(scenario)
    return np.array([arm[f"mcpr_q{q}"][25:37].mean() / base[f"mcpr_q{q}"][25:37].mean() - 1.0 for q in range(1, 6)])


def fact_poorest(runs: Runs) -> FactResult:
    inclusive, captured = relative_gains(runs, "inclusive_groups"), relative_gains(runs, "elite_capture")
    base = runs.mean("baseline")
    gradient = base.mcpr_q5[0] / base.mcpr_q1[0]
    return FactResult(
        6,
        "Modest wealth gradient; no elite capture where groups seek out the poorest, elite capture where not",
        "Houweling 2019 (no elite capture in four PLA trials: home care improved alike across strata, NMR fell 63% "
        "among the most marginalised vs 35%)",
        f"relative gain in year 3 with inclusion {pct(inclusive[0])} poorest vs {pct(inclusive[-1])} richest; "
        f"without {pct(captured[0])} vs {pct(captured[-1])}; baseline richest/poorest {gradient:.2f}",
        "with inclusion the poorest's relative gain at least 0.9 x the richest's; without, below the richest's and "
        "under 0.8 x the poorest's with inclusion; baseline ratio 1-2",
        [
            Check(
                "with inclusion: the poorest gain as much, relatively, as the richest",
                inclusive[0] > 0.9 * inclusive[-1],
            ),
            Check("without inclusion: the poorest gain less than the richest", captured[0] < captured[-1]),
            Check(
                "without inclusion the poorest gain under 0.8 x what they gain with it",
                captured[0] < 0.8 * inclusive[0],
            ),
            Check("a modest baseline gradient (richest/poorest 1-2)", 1.0 < gradient < 2.0),
        ],
        Plot(
            "bar",
            [f"Q{q}" for q in range(1, 6)],
            {"with inclusion (%)": list(100 * inclusive), "without (%)": list(100 * captured)},
            "wealth quintile",
            "relative gain in year 3 (%)",
        ),
    )


def fact_discontinuation(runs: Runs) -> FactResult:
    stopped = [measure_run("baseline", seed) for seed in runs.seeds]
    n = sum(m.cohort_size for m in stopped)
    share = sum(m.values["discontinuation_12m"] * m.cohort_size for m in stopped) / n
    margin = 2 * np.sqrt(0.25 / n)  # two binomial standard errors at p = 0.5
    return FactResult(
        7,
        "Discontinuation 38-50% a year: prevalence depends on continuation",
        "Castle & Askew 2015; Ali, Cleland & Shah 2012",
        f"{pct(share)} of {n} new users stopped within 12 months",
        f"38-50% (+-{100 * margin:.1f} points sampling margin)",
        [Check("within 38-50%", 0.38 - margin < share < 0.50 + margin)],
        Plot("bar", ["stopped", "continued"], {"share of new users": [share, 1 - share]}, "", "share"),
    )


PEER_SHARES = (0.0, 0.1, 0.2, 0.3, 0.4)
SATURATION_HOUSEHOLDS = 100_000  # ~1,900 women in need in groups a seed, so one month's adopters trace the curve


def adoption_at_peer_share(seed: int, share: float, warm_up: int = 12) -> float:
    """A controlled experiment: after `warm_up` months, every group is given `share` users among its members
    for one month (all else, the random draws included, unchanged) and the month's adoption among group members
    with a need and no method is measured, in a baseline district of SATURATION_HOUSEHOLDS households. Observed
    exposure is confounded with access; this is not."""
    model = CommunityHealthModel("baseline", rng=seed, population__households=SATURATION_HOUSEHOLDS)
    model.run(warm_up)
    hh, grp = model.district.households, model.district.groups
    candidates = np.flatnonzero((hh.group >= 0) & (hh.source == SOURCE_NONE) & (hh.need == 1))
    grp.n_users[:] = np.rint(share * grp.n_members).astype(grp.n_users.dtype)
    model.step()
    return float((hh.source[candidates] > 0).mean())


def fact_saturation(runs: Runs) -> FactResult:
    rates = np.array([np.mean([adoption_at_peer_share(seed, s) for seed in runs.seeds]) for s in PEER_SHARES])
    steps = np.diff(rates)
    return FactResult(
        8,
        "Social influence saturates: the first user contact matters most",
        "Behrman, Kohler & Watkins 2002; Valente 1996",
        "adoption in a month " + ", ".join(pct(r) for r in rates) + " at 0-40% users among peers",
        "rising; the first 10 points of users among peers add the most; 20-40% adds less than 0-20%",
        [
            Check("adoption rises with users among peers", bool(np.all(steps > 0))),
            Check("the first 10 points add the most", steps[0] > steps[1:].max()),
            Check("20-40% adds less than 0-20%", rates[4] - rates[2] < rates[2] - rates[0]),
        ],
        Plot(
            "line",
            [f"{s:.0%}" for s in PEER_SHARES],
            {"adoption in a month": list(rates)},
            "users among peers",
            "share",
        ),
    )


def fact_attrition(runs: Runs) -> FactResult:
    left = {}
    for supervised in (1.0, 0.0):
        rates = []
        for seed in runs.seeds:
            model = CommunityHealthModel(
                "baseline", rng=seed, chws__coverage=1.0, chws__p_supervised=supervised, chws__p_replace_per_month=0.0
            )
            start = np.count_nonzero(model.district.chws.status == ACTIVE)
            model.run(12)
            rates.append(1 - np.count_nonzero(model.district.chws.status == ACTIVE) / start)
        left[supervised] = float(np.mean(rates))
    ratio = left[0.0] / left[1.0]
    return FactResult(
        9,
        "CHW attrition is high and responds to supervision and refresher training",
        "Ngugi 2018 (49.6% left; no refresher OR 4.0, no supervisor feedback OR 2.0)",
        f"{pct(left[1.0])} a year supervised, {pct(left[0.0])} unsupervised (x{ratio:.1f})",
        "supervised 3-15%, unsupervised 10-35% a year, ratio 2-4.5",
        [
            Check("supervised: 3-15% leave a year", 0.03 < left[1.0] < 0.15),
            Check("unsupervised: 10-35% leave a year", 0.10 < left[0.0] < 0.35),
            Check("unsupervised x2-4.5", 2.0 <= ratio <= 4.5),
        ],
        Plot("bar", ["supervised", "unsupervised"], {"left per year": [left[1.0], left[0.0]]}, "", "share"),
    )


def fact_cost_saturation(runs: Runs) -> FactResult:
    labels = {0.5: "chw_scale_up-50", 0.75: "chw_scale_up-75", 1.0: "chw_scale_up-100"}  # the district has CHWs in
    # half its villages already; the mean over the seeds of each arm is one replicate of a comparison
    arms = {"baseline": runs.mean("baseline")} | {
        label: runs.mean("chw_scale_up", **{"interventions.scale_up.coverage": coverage})
        for coverage, label in labels.items()
    }
    frame = pd.concat([months.assign(scenario=label, replicate=0) for label, months in arms.items()])
    summary = effects.summarise(frame, "baseline").set_index("scenario")
    per_year = [float(summary.loc[label, "cost_per_additional_user_year"]) for label in labels.values()]
    return FactResult(
        10,
        "Cost per additional user-year rises as coverage saturates",
        "evidence.md stylised fact 10 (cost per additional user)",
        "US$ "
        + ", ".join(f"{c:,.0f}" for c in per_year)
        + " per additional user-year (incremental cost / additional user-years) at CHW coverage 50, 75, 100%",
        "rising with coverage",
        [Check("rises with each step of coverage", bool(np.all(np.diff(per_year) > 0)))],
        Plot(
            "bar",
            [f"{c:.0%}" for c in labels],
            {"US$ per additional user-year": per_year},
            "CHW coverage",
            "US$",
        ),
    )


# Fact 11: without self-sustaining growth, every group stops meeting once its training's capacity has decayed
# (a year after training ends); both arms are compared with a baseline of the same groups.
STOPPED = {"groups.self_sustain_per_month": 0.0}
PERSIST_MONTHS = 72


def knowledge_kept(seed: int) -> tuple[float, float]:
    """In one donor_exit run, the share of their knowledge gain (awareness above the district's starting level, to
    which what is not rehearsed fades) that members of groups still meeting, and of groups that stopped, keep
    three years after the exit: per group, in one district."""
    model = CommunityHealthModel("donor_exit", rng=seed)
    floor = model.config.population.initial_awareness
    model.run(24)
    hh, grp = model.district.households, model.district.groups
    awareness, group, meeting = hh.awareness.copy(), hh.group.copy(), (grp.active == 1) & (grp.modules > 0)
    model.run(36)
    stayed = (group >= 0) & (hh.group == group) & meeting[np.maximum(group, 0)]
    still = grp.active[np.maximum(group, 0)] == 1
    return tuple(
        float((hh.awareness[who].mean() - floor) / (awareness[who].mean() - floor))
        for who in (stayed & still, stayed & ~still)
    )


def fact_persistence(runs: Runs) -> FactResult:
    months = {"months": PERSIST_MONTHS}
    meeting = runs.mean("capacity_only", **months).mcpr - runs.mean("baseline", **months).mcpr
    stopped = runs.mean("capacity_only", **months, **STOPPED).mcpr - runs.mean("baseline", **months, **STOPPED).mcpr
    still, stop = np.mean([knowledge_kept(seed) for seed in runs.seeds], axis=0)
    end = PERSIST_MONTHS
    return FactResult(
        11,
        "Group effects persist only where groups keep meeting",
        "Navrongo scale-up (Phillips 2012); the PLA groups' sustained effect in years 2-3 (Tripathy 2010)",
        f"3 years after training ends (month 24), gain {100 * meeting[end]:.2f} pp where groups keep meeting, "
        f"{100 * stopped[end]:.2f} pp where they stop (peak {100 * stopped.max():.2f}); after a donor exit, members "
        f"keep {pct(still)} of their knowledge gain in groups still meeting, {pct(stop)} in groups that stopped",
        "meeting: the gain holds and grows; stopped: falls from its peak, under half the meeting gain by month 72; "
        "per group, members of stopped groups lose over half their knowledge gain, of meeting ones under a tenth",
        [
            Check(
                "where groups keep meeting, the gain at month 72 exceeds that at the end of training",
                meeting[end] > meeting[24],
            ),
            Check("where they stop, the gain falls below 85% of its peak", stopped[end] < 0.85 * stopped.max()),
            Check("where they stop, under half the meeting arm's gain by month 72", stopped[end] < 0.5 * meeting[end]),
            Check("members of groups still meeting keep over 90% of their knowledge gain", still > 0.9),
            Check("members of groups that stopped keep under half of it", stop < 0.5),
        ],
        Plot(
            "line",
            list(range(PERSIST_MONTHS + 1)),
            {"groups keep meeting": list(meeting), "groups stop": list(stopped)},
            "month",
            "mCPR gain",
        ),
    )


# Fact 12: the community pathways are the groups' own (training, links, records, coordination, networks) and the
# men and leaders they reach (husbands' sessions, leaders' buy-in); switched off together, as in --decompose.
COMMUNITY = ("groups", "men and leaders")


def fact_groups_share(runs: Runs) -> FactResult:
    chws_only = without(load_scenario("hrh2030_groups"), COMMUNITY, "hrh2030_groups without community")
    base = runs.mean("baseline").mcpr.iloc[-12:].mean()
    total = runs.mean("hrh2030_groups").mcpr.iloc[-12:].mean() - base
    frames = [run_scenario(chws_only, seed=seed).timeseries for seed in runs.seeds]
    chws_alone = (sum(frames) / len(frames)).mcpr.iloc[-12:].mean() - base
    share = (total - chws_alone) / total
    return FactResult(
        12,
        "The groups carry a share of a CHW-plus-groups programme's effect, neither none nor all of it",
        "Debpuur 2002, Stud Fam Plann 33:141 (Navrongo: an effect in every cell, largest where nurses worked with "
        "leaders and volunteers); Scott 2015 (CHW programmes alone raise use)",
        f"hrh2030_groups +{100 * total:.2f} pp over the last 12 months; without its community pathways "
        f"+{100 * chws_alone:.2f} pp: the groups, the husbands and the leaders carry {pct(share)}",
        "20-80% (reasoned: Navrongo's community arm added to the nurses' effect, and CHWs alone raise use)",
        [
            Check("the programme gains", total > 0),
            Check("its CHWs alone gain (Scott 2015)", chws_alone > 0),
            Check("the community pathways carry 20-80% of the gain", 0.2 < share < 0.8),
        ],
        Plot(
            "bar",
            ["CHWs alone", "with the community pathways"],
            {"gain (pp)": [100 * chws_alone, 100 * total]},
            "",
            "pp",
        ),
    )


FACTS: tuple[Callable[[Runs], FactResult], ...] = (
    fact_diffusion,
    fact_dose_response,
    fact_lag,
    fact_decay,
    fact_distance,
    fact_poorest,
    fact_discontinuation,
    fact_saturation,
    fact_attrition,
    fact_cost_saturation,
    fact_persistence,
    fact_groups_share,
)


def validate(quick: bool = True, on_fact: Callable[[FactResult], None] | None = None) -> list[FactResult]:
    """Every fact, in order; quick mode on 3 seeds, full on 10."""
    runs = Runs(QUICK_SEEDS if quick else FULL_SEEDS)
    results = []
    for fact in FACTS:
        result = fact(runs)
        results.append(result)
        if on_fact is not None:
            on_fact(result)
    return results

"""Published numbers the model should reproduce, beside the stylised facts: each check names the quantity, the
published value and its source, the accepted range and why that range, and how the model measures it.
`commsim validate` runs them after the facts; a failing check is reported with the model's value, so the
model can be recalibrated against the literature rather than the literature against the model.

How the model is asked: the shipped baseline, and for the two programme checks the shipped `chw_scale_up`,
on each seed (quick: 3, full: 10; common seeds across the two arms), RUN_MONTHS months, surveyed as a DHS
would survey it (`evidence.survey`): prevalence, need, age, union and provider from the women of year 3;
discontinuation and failure from the calendar of episodes of months 13-60 by life table (leavers censored);
flows from the monthly outputs. A value is the mean over replicates with its standard error; life tables pool
the replicates' episodes (Greenwood's standard error). A check passes when the model's value is in the
accepted range, or within two standard errors of it (the model's own sampling noise).

Ranges: a survey's 95% interval where the survey gives one; for a figure from one study, the value +- a third
(for an odds ratio, its effect, OR - 1, +- a third); otherwise the reason is stated with the check.

Not checked, and why: the share of facility users who use their nearest facility (33%, Elewonibi et al. 2020,
BMJ Glob Health 5:e002149) comes from Tanzanian women whose nearest facility was 1.2 km away among 39 they
could choose; the model's women choose between their two nearest, which in a rural Sahel district lie 5-15 km
apart, so the model cannot be asked it in its source's setting (it takes that study's trade-offs as inputs).
"""

from dataclasses import dataclass

import numpy as np

from commsim.evidence.replicates import (
    LEVELS_OFF_KM,
    MONTH_2020,
    PROGRAMME,
    YEAR_3,
    Measure,
    Runs,
    averted_over_track20,
    chance_within,
    chw_attrition,
    leaders_ratio,
    method_shares,
    monthly_stopping,
    observe,
    odds_per_km,
    per_replicate,
    programme_gain,
    reason_within,
    series,
    served_by_chw,
    use_ratio,
    within_5km,
    young_minus_older,
)
from commsim.results.formats import fmt_rate, fmt_ratio
from commsim.scenario.schema import METHODS

WEAK = "a single study: its value +- a third"
ARUSHA = "Arusha, Tanzania 2018 (SRHM 2020, doi:10.1080/26410397.2020.1723321)"
MALI_REASONS = "Mali DHS 2012-13 by main reason (Popul Dev Rev 2017 43(S1) Table 4, PMC5658050)"


@dataclass(frozen=True)
class Published:
    """One published number: what it is, the value as published and its source, the accepted range and why,
    and how the model measures it. `percent`: shown as a percentage (else as a number)."""

    key: str
    quantity: str
    published: str
    source: str
    low: float
    high: float
    why: str
    how: str
    measure: Measure
    percent: bool = True

    def shown(self, x: float) -> str:
        """A value of this quantity as people read it."""
        return fmt_rate(x) if self.percent else fmt_ratio(x)

    @property
    def accepted(self) -> str:
        """The accepted range in words."""
        if np.isinf(self.high):
            return f"above {self.shown(self.low)}"
        if np.isinf(self.low):
            return f"below {self.shown(self.high)}"
        return f"{self.shown(self.low)} to {self.shown(self.high)}"


@dataclass
class PublishedResult:
    """A published number as the model reproduced it."""

    number: int
    check: Published
    value: float
    se: float

    @property
    def measured(self) -> str:
        """The model's value with its standard error."""
        return f"{self.check.shown(self.value)} ± {self.check.shown(self.se)}"

    @property
    def passed(self) -> bool:
        """In range, or within two standard errors of it; a value the runs could not give fails."""
        margin = 2 * self.se if np.isfinite(self.se) else 0.0
        return bool(np.isfinite(self.value) and self.check.low - margin <= self.value <= self.check.high + margin)


def failure_checks() -> list[Published]:
    """Typical-use failure at 12, 24 and 36 months by method. Values: pooled DHS (evidence.md, PMC5048570
    Table 3); ranges: the spread of the 12-month rate over the seven DHS subregions (Polis 2016, 0.2-1.3 for
    implants ...), as a ratio to the pooled rate applied at 24 and 36 months too (none is given there)."""
    pooled = {  # method: 12-, 24-, 36-month pooled %, 12-month subregional low and high %
        "implant": (0.6, 0.8, 1.1, 0.2, 1.3),
        "iud": (1.5, 3.0, 3.9, 0.9, 2.2),
        "injectable": (2.3, 4.1, 6.0, 0.9, 4.2),
        "pill": (5.7, 11.0, 15.1, 3.6, 8.5),
        "condom": (6.8, 12.6, 17.6, 2.2, 8.7),
    }
    checks = []
    for method, (*values, low, high) in pooled.items():
        for months, value in zip((12, 24, 36), values, strict=True):
            checks.append(
                Published(
                    f"failure_{months}m_{method}",
                    f"typical-use failure within {months} months, {method}",
                    f"{value}%",
                    "Polis et al. 2016, Contraception 94:11 (PMC5048570) Table 3, pooled DHS",
                    value * low / values[0] / 100,
                    value * high / values[0] / 100,
                    "the 12-month rate's range over the seven DHS subregions (Polis 2016: "
                    f"{low}-{high}%)" + ("" if months == 12 else ", scaled to this duration"),
                    f"life table of {method} episodes, pregnancies on the method; other endings censored",
                    chance_within("failed", months, lambda c, m=method: c["method"] == m),
                )
            )
    return checks


def discontinuation_checks() -> list[Published]:
    """All-reason 12-month discontinuation by method, and women under 25 against older women by method."""
    published = {  # method: published value, source, low, high, why
        "implant": ("12.3%", ARUSHA, 0.082, 0.164, WEAK),
        "condom": ("60.1%", ARUSHA, 0.401, 0.799, WEAK),
        "injectable": ("32%", "21 African DHS (as cited in the scenario schema's methods notes)", 0.213, 0.427, WEAK),
        "self_injection": ("19% (81% continued)", "Cover et al. 2018, Uganda", 0.127, 0.253, WEAK),
        "pill": (
            "like other short-acting methods",
            "Castle & Askew 2015 (discontinuation similar across methods but IUD and implant)",
            0.213,
            0.799,
            "between the injectable's low and the condom's high end",
        ),
        "iud": (
            "lower, like implants",
            "Castle & Askew 2015 (IUD and implant lower than other methods)",
            0.0,
            0.164,
            "no higher than the implant's high end",
        ),
    }
    checks = []
    for method in METHODS:
        value, source, low, high, why = published[method]
        checks.append(
            Published(
                f"discontinuation_12m_{method}",
                f"all-reason discontinuation within 12 months, {method}",
                value,
                source + "; Ali, Cleland & Shah 2012 (WHO) by method not retrieved",
                low,
                high,
                why,
                f"life table of {method} episodes: stopped, switched or conceived; leavers censored",
                chance_within("ended", 12, lambda c, m=method: c["method"] == m),
            )
        )
    for method in METHODS:
        checks.append(
            Published(
                f"discontinuation_young_{method}",
                f"12-month discontinuation of {method}, women 15-24 minus older",
                "higher for young women, for every method",
                "MacQuarrie et al. 2020, DHS FA134 (Mali DHS 2018)",
                0.0,
                np.inf,
                "the direction: above 0",
                "life tables of the method's episodes of women under 25 and of older women (age that month)",
                young_minus_older(method),
            )
        )
    return checks


CHECKS: tuple[Published, ...] = (
    Published(
        "tfr",
        "total fertility rate",
        "6.3",
        "Mali DHS 2018 (EDSM-VI), key indicators",
        6.1,
        6.5,
        "DHS TFRs carry about +-0.2 of sampling error",
        "the monthly TFR output averaged over year 3",
        per_replicate(lambda r: float(series(r, "tfr", YEAR_3).mean())),
        percent=False,
    ),
    Published(
        "mcpr_married",
        "mCPR of married women",
        "16%",
        "Mali DHS 2018 (EDSM-VI); FP2030 Mali",
        0.15,
        0.17,
        "the survey's 95% interval, about +-1 point",
        "the mcpr_married output averaged over year 3",
        per_replicate(lambda r: float(series(r, "mcpr_married", YEAR_3).mean())),
    ),
    Published(
        "mcpr_married_2020",
        "mCPR of married women two years after the survey",
        "17% (2020)",
        "Track20 estimate for 2020 (FP2030 Mali)",
        0.15,
        0.19,
        "a model estimate two years past its survey: about +-2 points (stated)",
        f"mcpr_married at month {MONTH_2020}",
        per_replicate(lambda r: float(series(r, "mcpr_married", [MONTH_2020]).iloc[0])),
    ),
    Published(
        "unmet_need_married",
        "unmet need of married women",
        "24% (unverified)",
        "Mali DHS 2018, as evidence.md gives it; the final report's table and interval not retrieved",
        0.22,
        0.26,
        "+-2 points, about a DHS 95% interval (targets/mali_dhs2018.toml)",
        "the unmet_need_married output averaged over year 3",
        per_replicate(lambda r: float(series(r, "unmet_need_married", YEAR_3).mean())),
    ),
    Published(
        "in_union",
        "women 15-49 married or in union",
        "84.8% (1995-96)",
        "Mali DHS 1995-96 summary; the 2018 share not retrieved",
        0.75,
        0.88,
        "the 1995-96 share, allowing 10 points' fall since (median age at first union 16.6 in 2018; stated)",
        "the in_union output averaged over year 3",
        per_replicate(lambda r: float(series(r, "in_union", YEAR_3).mean())),
    ),
    Published(
        "youth_share",
        "women 15-24 among women 15-49",
        "44%",
        "MacQuarrie et al. 2020, DHS FA134 (Mali DHS 2018)",
        0.427,
        0.453,
        "95% interval of a share of 10,519 women, design effect 2",
        "women under 25 in the cross-section of year 3",
        per_replicate(lambda r: float((r.base.women["age_group"] < 2).mean())),
    ),
    Published(
        "use_young",
        "mCPR of married women 15-24 over 25-49",
        "lower (< 1)",
        "MacQuarrie et al. 2020, DHS FA134 (Mali DHS 2018)",
        -np.inf,
        1.0,
        "the direction: below 1",
        "married users over married women by age group, year 3",
        per_replicate(use_ratio((0, 1), (2, 3, 4, 5, 6))),
        percent=False,
    ),
    Published(
        "use_15_19",
        "mCPR of married women 15-19 over 25-39",
        "lower (< 1)",
        "Mali DHS 2018 final report, use by age (values not retrieved: the Sahel DHS shape)",
        -np.inf,
        1.0,
        "the direction: below 1",
        "married users over married women by age group, year 3",
        per_replicate(use_ratio((0,), (2, 3, 4))),
        percent=False,
    ),
    Published(
        "use_45_49",
        "mCPR of married women 45-49 over 25-39",
        "lower (< 1)",
        "Mali DHS 2018 final report, use by age (values not retrieved: the Sahel DHS shape)",
        -np.inf,
        1.0,
        "the direction: below 1",
        "married users over married women by age group, year 3",
        per_replicate(use_ratio((6,), (2, 3, 4))),
        percent=False,
    ),
    Published(
        "mix_long_and_injectable",
        "married users on implants or injectables (with self-injection)",
        "most: implants and injectables dominate",
        "Mali DHS 2018 (EDSM-VI), method mix (shares not retrieved)",
        0.5,
        np.inf,
        "'dominate' read as more than half together (stated)",
        "married users by method, year 3",
        per_replicate(lambda r: float(method_shares(r)[["implant", "injectable"]].sum())),
    ),
    Published(
        "mix_leaders",
        "implants' and injectables' shares (the smaller) over the largest other method's",
        "implants and injectables lead (> 1)",
        "Mali DHS 2018 (EDSM-VI), method mix (shares not retrieved)",
        1.0,
        np.inf,
        "the direction: above 1",
        "married users by method, year 3",
        per_replicate(leaders_ratio),
        percent=False,
    ),
    *failure_checks(),
    Published(
        "discontinuation_12m",
        "all-reason discontinuation within 12 months, all methods",
        "44.3% (Mali 2012-13)",
        MALI_REASONS,
        0.38,
        0.50,
        "the DHS range, 38-50% (Castle & Askew 2015; Ali, Cleland & Shah 2012): more than a third",
        "life table of all episodes: stopped, switched or conceived; leavers censored",
        chance_within("ended", 12),
    ),
    Published(
        "discontinuation_12m_to_conceive",
        "episodes ended within 12 months to become pregnant",
        "13.7% (Mali 2012-13)",
        MALI_REASONS,
        0.091,
        0.183,
        "a survey's split by reason: its value +- a third (stated)",
        "multiple-decrement life table of all episodes: stopped with no need left in her union (wants a child)",
        per_replicate(lambda r: reason_within(r.base.calendar, "to_conceive", 12)),
    ),
    Published(
        "discontinuation_12m_other_in_need",
        "episodes ended within 12 months for side effects, health or other reasons",
        "25.9% (10.3 + 15.6, Mali 2012-13)",
        MALI_REASONS,
        0.173,
        0.345,
        "a survey's split by reason: its value +- a third; the DHS's other reasons include the end of a union, "
        "which the model counts with neither (about 1 point)",
        "multiple-decrement life table of all episodes: stopped or switched while in need, not by failure",
        per_replicate(lambda r: reason_within(r.base.calendar, "other_in_need", 12)),
    ),
    Published(
        "discontinuation_24m",
        "all-reason discontinuation within 24 months, all methods",
        "more than half",
        "Castle & Askew 2015 (Population Council, FP2020), executive summary",
        0.5,
        np.inf,
        "the source gives a lower bound only",
        "life table of all episodes over 24 months; leavers censored",
        chance_within("ended", 24),
    ),
    Published(
        "stopping_per_month",
        "a new user's monthly chance of stopping in her first year",
        "0.039-0.056",
        "evidence.md: 38-50% a year as a monthly hazard",
        0.039,
        0.056,
        "the published range",
        "the 12-month life table of all episodes as a mean monthly hazard, 1 - (1 - P12)^(1/12)",
        monthly_stopping,
    ),
    *discontinuation_checks(),
    Published(
        "stopped_in_need",
        "discontinuations while still in need (failure, method-related stop, switch)",
        "more than half",
        "Castle & Askew 2015, executive summary",
        0.5,
        np.inf,
        "the source gives a lower bound only",
        "ended episodes not ended by a wish for a child or the end of a union, months 13-60",
        per_replicate(lambda r: float(r.base.calendar.loc[r.base.calendar["ended"], "in_need"].mean())),
    ),
    Published(
        "stopped_in_need_young",
        "young women's discontinuations while still in need",
        "about half",
        "MacQuarrie et al. 2020, DHS FA134 (Mali DHS 2018)",
        0.4,
        0.6,
        "'about half' read as +-10 points (stated)",
        "as above, episodes of women under 25",
        per_replicate(
            lambda r: float(r.base.calendar.loc[r.base.calendar["ended"] & r.base.calendar["young"], "in_need"].mean())
        ),
    ),
    Published(
        "former_users_in_unmet_need",
        "former users among women with unmet need",
        "38%",
        "Castle & Askew 2015, executive summary (DHS analyses)",
        0.253,
        0.507,
        WEAK,
        "ever users among women with unmet need as the DHS counts it, year 3",
        per_replicate(lambda r: float(r.base.women.loc[r.base.women["unmet"], "ever_user"].mean())),
    ),
    Published(
        "odds_per_km",
        "odds ratio of use per km to the nearest facility",
        "0.90 per km, levelling off (skilled birth care)",
        "Wong et al. 2017, PLoS One e0184432",
        0.867,
        0.933,
        "the effect, -10% a km, +- a third; a service other than family planning",
        f"logistic fit of use on km, married women within {LEVELS_OFF_KM:.0f} km and no active CHW, year 3",
        per_replicate(odds_per_km),
        percent=False,
    ),
    Published(
        "within_5km",
        "odds ratio of use within 5 km of a facility vs beyond",
        "2.27",
        "Tegegne et al. 2018 (evidence.md)",
        1.847,
        2.693,
        "the effect, OR - 1, +- a third",
        "married women without an active CHW, year 3",
        per_replicate(within_5km),
        percent=False,
    ),
    Published(
        "chw_attrition",
        "CHWs who leave in a year",
        "5-30%",
        "evidence.md, after Ngugi et al. 2018 BMJ Glob Health 3:e000750 (49.6% left)",
        0.05,
        0.30,
        "the range evidence.md suggests",
        "chws_left over active_chws (outputs), months 13-60, annualised",
        per_replicate(chw_attrition),
    ),
    Published(
        "chw_odds_ratio",
        "odds ratio of use, married women served by a CHW who gives family planning vs without a CHW",
        "1.5 (Pakistan's Lady Health Workers)",
        "evidence.md, CHWs and family planning (Douthwaite & Ward 2005, via Guttmacher's digest: women served by "
        "an LHW had 50% higher odds of modern reversible use)",
        1.333,
        1.667,
        "the effect, OR - 1, +- a third",
        "married women whose active CHW is FP-trained (LHWs all give methods) vs those without an active CHW; "
        "Mantel-Haenszel over distance bands (CHWs serve the remote villages first), year 3",
        per_replicate(served_by_chw),
        percent=False,
    ),
    Published(
        "chw_programme_gain",
        "mCPR gain of married women from a CHW programme",
        "a gain (93% of 56 studies)",
        "Scott et al. 2015, Stud Fam Plann 46:241",
        0.0,
        np.inf,
        "the direction: above 0",
        f"{PROGRAMME} minus baseline at month 60, common seeds",
        per_replicate(programme_gain),
    ),
    Published(
        "averted_vs_track20",
        "unintended pregnancies averted per additional user-year, model over Track20",
        "Track20: 0.31 less each method's failure a user-year",
        "Track20, Estimating impacts of contraceptive use (FP2030 core indicator 6): 31% would conceive in a year "
        "without contraception",
        1.0,
        2.5,
        "Track20's 31% averages over all users, some of whom would not be at risk; a programme's added users are "
        "women in need and at risk, so at least that, and at most a fully exposed woman's 79% a year at 25 "
        "(PRESTO, the model's fecundability) over 31% (stated)",
        f"{PROGRAMME} vs baseline, months 1-60: baseline minus arm over Track20's for the added user-years",
        per_replicate(averted_over_track20),
        percent=False,
    ),
)


def evaluate(runs: Runs, checks: tuple[Published, ...] = CHECKS) -> list[PublishedResult]:
    """Each check's model value, standard error and verdict, numbered in order."""
    return [PublishedResult(n, check, *check.measure(runs)) for n, check in enumerate(checks, start=1)]


def validate(seeds: tuple[int, ...]) -> list[PublishedResult]:
    """Every published check on the shipped scenarios, on `seeds`."""
    return evaluate(observe(seeds))

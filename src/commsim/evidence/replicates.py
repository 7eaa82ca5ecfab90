"""The runs a validation of published numbers observes, and the measures taken from them: on each seed the shipped
baseline surveyed as a DHS would survey it (`evidence.survey`) and the shipped CHW scale-up run on the same seed
(common random numbers). A measure gives the model's value and its standard error: the mean over replicates
and its standard error, or, for life tables, the replicates' episodes pooled with Greenwood's standard error.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chi2

from commsim.evidence.survey import CALENDAR, CROSS_SECTION, Survey, survey_run
from commsim.results.impacts import METHOD_USERS, MONTHS_PER_YEAR, failure_per_year, track20_averted
from commsim.runs.run import RunResult, run_scenario
from commsim.scenario.schema import METHODS

BASELINE, PROGRAMME = "baseline", "chw_scale_up"
YEAR_3 = list(CROSS_SECTION)
MONTH_2020 = 24  # the district starts at the survey (2018); Track20's 2020 estimate is two years on
FEW_EVENTS = 10  # below this many events a life table's standard error comes from the exact Poisson bound
LEVELS_OFF_KM = 10.0  # the distance gradient is measured where it has not levelled off (Wong 2017)


@dataclass
class Replicate:
    """One seed: the baseline surveyed, and the CHW scale-up run on the same seed."""

    base: Survey
    programme: RunResult


@dataclass
class Runs:
    """The replicates of one validation, and their calendars pooled."""

    replicates: list[Replicate]

    @cached_property
    def calendar(self) -> pd.DataFrame:
        """Every replicate's calendar of episodes, one table."""
        return pd.concat([r.base.calendar for r in self.replicates])


type Measure = Callable[[Runs], tuple[float, float]]  # the model's value and its standard error


def per_replicate(measure: Callable[[Replicate], float]) -> Measure:
    """A measure taken in each replicate: their mean and its standard error."""

    def over(runs: Runs) -> tuple[float, float]:
        values = np.array([measure(r) for r in runs.replicates], float)
        se = values.std(ddof=1) / np.sqrt(values.size) if values.size > 1 else float("nan")
        return float(values.mean()), float(se)

    return over


def life_table(calendar: pd.DataFrame, event: str, months: int) -> tuple[float, float]:
    """The chance of `event` ("ended", "failed") within `months` of starting, from episodes by duration: one
    minus the product of the monthly survival, other endings censored; Greenwood's variance. With fewer than
    FEW_EVENTS events Greenwood's variance understates the uncertainty (it is zero without one): the standard
    error is then half the way to the exact one-sided 95% Poisson bound on the events (Garwood 1936; the rule of
    three at none, Hanley & Lippman-Hand 1983 JAMA 249:1743) spread over the months at risk."""
    at = calendar[calendar["duration"] < months].groupby("duration")
    n = at.size().reindex(range(months), fill_value=0).to_numpy(float)
    d = at[event].sum().reindex(range(months), fill_value=0).to_numpy(float)
    if np.any(n == 0):
        return float("nan"), float("nan")
    survival = np.prod(1 - d / n)
    if d.sum() < FEW_EVENTS:
        events = chi2.ppf(0.95, 2 * (d.sum() + 1)) / 2
        upper = 1.0 - np.exp(-events * months / n.sum())
        return float(1 - survival), float((max(upper - (1 - survival), 0.0) / 2.0) ** 2)
    with np.errstate(divide="ignore"):
        variance = survival**2 * np.sum(d / (n * (n - d)))
    return float(1 - survival), float(variance)


def reason_within(calendar: pd.DataFrame, reason: str, months: int) -> float:
    """The chance that an episode ends for `reason` within `months` of starting, as the DHS tabulates reasons
    (a multiple-decrement life table): each month's endings for the reason over the episodes at that duration,
    times the share still using at its start; the reasons add up to `life_table`'s "ended"."""
    at = calendar[calendar["duration"] < months].groupby("duration")
    n = at.size().reindex(range(months), fill_value=0).to_numpy(float)
    if np.any(n == 0):
        return float("nan")
    ended = at["ended"].sum().reindex(range(months), fill_value=0).to_numpy(float) / n
    for_reason = at[reason].sum().reindex(range(months), fill_value=0).to_numpy(float) / n
    still = np.concatenate(([1.0], np.cumprod(1.0 - ended)[:-1]))
    return float(np.sum(still * for_reason))


def chance_within(event: str, months: int, select: Callable[[pd.DataFrame], pd.Series] | None = None) -> Measure:
    """`life_table` over the pooled calendar (or the episodes `select` picks), with its standard error."""

    def measure(runs: Runs) -> tuple[float, float]:
        calendar = runs.calendar if select is None else runs.calendar[select(runs.calendar)]
        value, variance = life_table(calendar, event, months)
        return value, float(np.sqrt(variance))

    return measure


def young_minus_older(method: str) -> Measure:
    """12-month discontinuation of a method, women under 25 minus older women."""

    def measure(runs: Runs) -> tuple[float, float]:
        episodes = runs.calendar[runs.calendar["method"] == method]
        young, v_young = life_table(episodes[episodes["young"]], "ended", 12)
        older, v_older = life_table(episodes[~episodes["young"]], "ended", 12)
        return young - older, float(np.sqrt(v_young + v_older))

    return measure


def married(r: Replicate) -> pd.DataFrame:
    """The married women of year 3 (each woman once a month)."""
    return r.base.women[r.base.women["married"]]


def use_ratio(ages: tuple[int, ...], reference: tuple[int, ...]) -> Callable[[Replicate], float]:
    """Married women's mCPR in age groups `ages` over that in `reference` (groups 0 = 15-19 ... 6 = 45-49)."""

    def ratio(r: Replicate) -> float:
        women = married(r)
        age = women["age_group"]
        return float(women.loc[age.isin(ages), "user"].mean() / women.loc[age.isin(reference), "user"].mean())

    return ratio


def method_shares(r: Replicate) -> pd.Series:
    """Married users' methods as shares, injectables with self-injection."""
    women = married(r)
    methods = women.loc[women["user"], "method"].astype(str).replace("self_injection", "injectable")
    return methods.value_counts(normalize=True).reindex(list(METHODS), fill_value=0.0)


def leaders_ratio(r: Replicate) -> float:
    """The smaller of implants' and injectables' shares over the largest other method's."""
    shares = method_shares(r)
    return float(shares[["implant", "injectable"]].min() / shares.drop(["implant", "injectable"]).max())


def no_chw_married(r: Replicate) -> pd.DataFrame:
    """Married women of year 3 without an active CHW: their use depends on reaching a facility."""
    women = married(r)
    return women[~women["chw"]]


def odds_per_km(r: Replicate) -> float:
    """Odds ratio of use per km to the nearest facility (logistic fit within LEVELS_OFF_KM)."""
    women = no_chw_married(r)
    women = women[women["dist_km"] < LEVELS_OFF_KM]
    x = women["dist_km"].to_numpy(float)
    y = women["user"].to_numpy(float)
    design = np.column_stack([np.ones_like(x), x])
    beta = np.zeros(2)
    for _ in range(30):  # Newton's method on the log-likelihood
        p = 1 / (1 + np.exp(-design @ beta))
        beta += np.linalg.solve(design.T @ (design * (p * (1 - p))[:, None]), design.T @ (y - p))
    return float(np.exp(beta[1]))


def odds_ratio(exposed: pd.Series, user: pd.Series, strata: pd.Series | None = None) -> float:
    """The (Mantel-Haenszel, over `strata`) odds ratio of use, exposed vs not."""
    strata = pd.Series(0, index=user.index) if strata is None else strata
    num = den = 0.0
    for _, idx in user.groupby(strata).groups.items():
        e, u = exposed[idx], user[idx]
        n = len(idx)
        num += (e & u).sum() * (~e & ~u).sum() / n
        den += (e & ~u).sum() * (~e & u).sum() / n
    return float(num / den) if den > 0 else float("nan")


def within_5km(r: Replicate) -> float:
    women = no_chw_married(r)
    return odds_ratio(women["dist_km"] < 5.0, women["user"])


def served_by_chw(r: Replicate) -> float:
    """Odds ratio of use, married women whose active CHW is trained in family planning (and so gives methods, as
    Pakistan's Lady Health Workers do) vs those without an active CHW, Mantel-Haenszel over distance bands."""
    women = married(r)
    women = women[women["chw_fp"] | ~women["chw"]]
    return odds_ratio(women["chw_fp"], women["user"], women["band"])


def series(r: Replicate, column: str, months: list[int]) -> pd.Series:
    """A monthly output of the baseline over `months`."""
    return r.base.timeseries.set_index("month").loc[months, column]


def monthly_stopping(runs: Runs) -> tuple[float, float]:
    """The mean monthly hazard of ending an episode in its first year, 1 - (1 - P12)^(1/12) of the pooled life
    table (the stock of users, most of them long past their first year, stops more slowly)."""
    p12, variance = life_table(runs.calendar, "ended", 12)
    rate = 1.0 - (1.0 - p12) ** (1.0 / 12.0)
    slope = (1.0 - p12) ** (1.0 / 12.0 - 1.0) / 12.0  # d rate / d P12, for the delta method
    return float(rate), float(slope * np.sqrt(variance))


def chw_attrition(r: Replicate) -> float:
    """CHWs who left per active CHW and year, months 13-60."""
    months = list(CALENDAR)
    per_month = series(r, "chws_left", months).sum() / series(r, "active_chws", months).sum()
    return float(per_month * MONTHS_PER_YEAR)


def averted_over_track20(r: Replicate) -> float:
    """Unintended pregnancies the CHW scale-up averted (baseline minus arm, months 1-60) over Track20's for the
    same additional user-years of each method (0.31 a year less the method's typical-use failure)."""
    base, arm = r.base.timeseries.iloc[1:], r.programme.timeseries.iloc[1:]
    years = {m: (arm[c].sum() - base[c].sum()) / MONTHS_PER_YEAR for m, c in METHOD_USERS.items()}
    scenario = r.programme.scenario
    formula = track20_averted(years, failure_per_year(scenario), scenario.impacts.pregnancies_per_year_without_method)
    return float((base["unintended_pregnancies"].sum() - arm["unintended_pregnancies"].sum()) / formula)


def programme_gain(r: Replicate) -> float:
    """Married women's mCPR at the last month, CHW scale-up minus baseline (common seed)."""
    return float(r.programme.timeseries["mcpr_married"].iloc[-1] - r.base.timeseries["mcpr_married"].iloc[-1])


def observe(seeds: tuple[int, ...], overrides: Mapping[str, Any] | None = None) -> Runs:
    """The baseline surveyed and the CHW scale-up run on each seed (dotted keys as overrides for both)."""
    replicates = []
    for seed in seeds:
        base = survey_run(BASELINE, seed, overrides)
        months = int(base.timeseries["month"].iloc[-1])
        programme = run_scenario(PROGRAMME, months=months, seed=seed, overrides=overrides)
        replicates.append(Replicate(base, programme))
    return Runs(replicates)

"""What a comparison shows: per scenario, final prevalence with its uncertainty, the paired difference from the
baseline, additional users and user-years, births and pregnancies, what the plan averted (the model's own
counterfactual and Track20's formula, `impacts`), its cost by category and over the baseline's, cost per
additional user-year, per additional CYP and per unintended pregnancy averted (with Fieller's intervals), equity
gaps, and how long a gain lasts after the donor leaves.

Input is the long frame of a comparison: one row per scenario, replicate and month with the output columns.
Replicate r of every scenario ran on the same seed (common random numbers), so differences are taken within
a replicate and their spread is the uncertainty of the difference, not the noise of either run.
"""

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from commsim.model.metrics import COST_BREAKDOWN, LABELS
from commsim.results import impacts
from commsim.runs.compare import Comparison
from commsim.scenario.schema import Scenario

LEVEL = 0.95
NEAREST_BAND, FARTHEST_BAND = "mcpr_0_2km", "mcpr_10km_plus"
POOREST, RICHEST = "mcpr_q1", "mcpr_q5"

ESTIMATES: tuple[str, ...] = (  # each with its 95% interval, <name>_lo and <name>_hi
    "mcpr_married",
    "additional_users",
    "fp2030_additional_users",
    "user_years",
    "additional_user_years",
    "cyp",
    "additional_cyp",
    "births",
    "pregnancies",
    "unintended_pregnancies",
    "unintended_averted",
    "births_averted",
    "unsafe_abortions_averted",
    "maternal_deaths_averted",
    "track20_unintended_averted",
    "track20_unsafe_abortions_averted",
    "track20_maternal_deaths_averted",
    "track20_all_unintended_averted",
    "track20_all_unsafe_abortions_averted",
    "track20_all_maternal_deaths_averted",
    "incremental_cost",
    *COST_BREAKDOWN,  # each scenario's cost by category over the horizon
    *(f"incremental_{name}" for name in COST_BREAKDOWN),
)
# Against the baseline, paired by replicate: exactly 0 for the baseline (and for a scenario run twice)
VERSUS_BASELINE: tuple[str, ...] = (
    "diff_pp",
    "additional_users",
    "additional_user_years",
    "additional_cyp",
    "unintended_averted",
    "births_averted",
    "unsafe_abortions_averted",
    "maternal_deaths_averted",
    "track20_unintended_averted",
    "track20_unsafe_abortions_averted",
    "track20_maternal_deaths_averted",
    "incremental_cost",
    *(f"incremental_{name}" for name in COST_BREAKDOWN),
)
# Incremental cost per unit of an outcome gained over the baseline: the ratio's column -> the outcome's
PER_OUTCOME: dict[str, str] = {
    "cost_per_additional_user_year": "additional_user_years",
    "cost_per_additional_cyp": "additional_cyp",
    "cost_per_unintended_averted": "unintended_averted",
}


def _with_bounds(*names: str) -> tuple[str, ...]:
    return tuple(column for name in names for column in (name, f"{name}_lo", f"{name}_hi"))


SUMMARY_COLUMNS: tuple[str, ...] = (
    "scenario",
    "reps",
    "mcpr",
    "mcpr_lo",
    "mcpr_hi",
    "diff_pp",
    "diff_lo_pp",
    "diff_hi_pp",
    *_with_bounds(*ESTIMATES),
    "total_cost",
    *_with_bounds(*PER_OUTCOME),
    "distance_gap_pp",
    "wealth_gap_pp",
    "donor_exit_month",
    "sustainability",
)
# Headings of the summary's columns for people (the CLI tables and the report); bounds share their estimate's.
SUMMARY_LABELS: dict[str, str] = {
    "reps": "runs",
    "mcpr": "final mCPR",
    "diff_pp": "difference from baseline (paired)",
    "mcpr_married": "final mCPR, married women",
    "additional_users": "additional users vs baseline",
    "fp2030_additional_users": "additional users (FP2030: end − month 0)",
    "user_years": "user-years",
    "additional_user_years": "additional user-years vs baseline",
    "cyp": "couple-years of protection (CYP)",
    "additional_cyp": "additional CYP vs baseline",
    "births": "births",
    "pregnancies": "pregnancies",
    "unintended_pregnancies": "unintended pregnancies",
    "unintended_averted": "unintended pregnancies averted (model)",
    "births_averted": "births averted (model)",
    "unsafe_abortions_averted": "unsafe abortions averted (model)",
    "maternal_deaths_averted": "maternal deaths averted (model)",
    "track20_unintended_averted": "unintended pregnancies averted (Track20)",
    "track20_unsafe_abortions_averted": "unsafe abortions averted (Track20)",
    "track20_maternal_deaths_averted": "maternal deaths averted (Track20)",
    "track20_all_unintended_averted": "unintended pregnancies averted by all users (Track20)",
    "track20_all_unsafe_abortions_averted": "unsafe abortions averted by all users (Track20)",
    "track20_all_maternal_deaths_averted": "maternal deaths averted by all users (Track20)",
    "total_cost": "total cost",
    "incremental_cost": "incremental cost",
    **{name: LABELS[name] for name in COST_BREAKDOWN},
    **{f"incremental_{name}": f"incremental {LABELS[name]}" for name in COST_BREAKDOWN},
    "cost_per_additional_user_year": "cost per additional user-year",
    "cost_per_additional_cyp": "cost per additional CYP",
    "cost_per_unintended_averted": "cost per unintended pregnancy averted",
    "distance_gap_pp": "distance gap (near − far, pp)",
    "wealth_gap_pp": "wealth gap (rich − poor, pp)",
    "donor_exit_month": "donor exit",
    "sustainability": "gain after exit: time to halve",
}


def interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float, float]:
    """Mean and Student-t interval of the mean; (x, nan, nan) from a single value, all nan from none (runs that
    did not count it). Identical values give a zero-width interval."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if x.size < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1)) * float(x.std(ddof=1)) / math.sqrt(x.size)
    return mean, mean - half, mean + half


def final_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The last month of every run, indexed by (scenario, replicate)."""
    last = frame["month"].max()
    return frame[frame["month"] == last].set_index(["scenario", "replicate"]).sort_index()


def paired(frame: pd.DataFrame, scenario: str, baseline: str, column: str) -> pd.Series:
    """Per replicate: `column` of the scenario minus the baseline's, month by month (index: replicate, month)."""
    cols = ["replicate", "month", column]
    mine = frame.loc[frame["scenario"] == scenario, cols].set_index(["replicate", "month"])[column]
    base = frame.loc[frame["scenario"] == baseline, cols].set_index(["replicate", "month"])[column]
    if not mine.index.equals(base.index):
        mine, base = mine.align(base, join="inner")
    return mine - base


def gain_over_time(frame: pd.DataFrame, scenario: str, baseline: str, column: str = "mcpr") -> pd.Series:
    """Mean paired gain over the baseline by month."""
    return paired(frame, scenario, baseline, column).groupby(level="month").mean()


def months_to_half(gain: pd.Series, exit_month: int) -> str:
    """After the donor leaves at `exit_month`: months until the gain over baseline has halved, "held" if it
    never does by the horizon, or a note when there is no gain to hold or no month after the exit."""
    if exit_month not in gain.index or gain.index.max() <= exit_month:
        return "exit after horizon"
    at_exit = float(gain.loc[exit_month])
    if at_exit <= 0:
        return "no gain at exit"
    after = gain[gain.index > exit_month]
    halved = after[after <= at_exit / 2]
    if halved.empty:
        return "held"
    return str(int(halved.index[0]) - exit_month)


def run_totals(frame: pd.DataFrame) -> pd.DataFrame:
    """Per run (index: scenario, replicate), what planners count over the horizon: births, pregnancies,
    unintended pregnancies, CYP dispensed and the cost of each category summed over months 1..T, user-years
    (`impacts.method_user_years`, all methods), and FP2030's additional users (users at the end minus users at
    month 0, the base year, within the run). Runs stored before an output existed have NaN, not 0, for it."""
    months = frame[frame["month"] > 0].groupby(["scenario", "replicate"], sort=False)
    totals = pd.DataFrame(
        {
            column: months[column].sum(min_count=1)
            for column in ("births", "pregnancies", "unintended_pregnancies", "cyp", *COST_BREAKDOWN)
        }
    )
    totals["user_years"] = sum(impacts.method_user_years(frame).values())
    runs = frame.sort_values("month").groupby(["scenario", "replicate"], sort=False)["users"]
    totals["fp2030_additional_users"] = runs.last() - runs.first()
    return totals


def summarise(
    frame: pd.DataFrame,
    baseline: str,
    exits: dict[str, int | None] | None = None,
    scenarios: Mapping[str, Scenario] | None = None,
) -> pd.DataFrame:
    """One row per scenario (baseline first) with the columns of SUMMARY_COLUMNS; percentages as shares for
    mcpr and as percentage points for differences and gaps; money in US$; counts over the whole horizon.

    `scenarios` (by label) give each arm's method failure for Track20's formula and the baseline's `impacts`
    ratios for all arms (one district); without them, the schema's defaults. Averted numbers are baseline minus
    scenario within each replicate (common seeds), so the baseline's are exactly 0."""
    exits = exits or {}
    scenarios = scenarios or {}
    end = final_rows(frame)
    order = [baseline] + [s for s in dict.fromkeys(frame["scenario"]) if s != baseline]
    base_end = end.loc[baseline]
    ratios = impacts.Ratios.of(scenarios.get(baseline, Scenario()))
    totals = run_totals(frame)
    years = impacts.method_user_years(frame)
    track20_all = {
        scenario: impacts.track20_averted(
            {method: by_run.loc[scenario] for method, by_run in years.items()},
            impacts.failure_per_year(scenarios.get(scenario, Scenario())),
            ratios.without_method_per_year,
        )
        for scenario in order
    }
    base_totals = totals.loc[baseline]
    rows = []
    for scenario in order:
        mine = end.loc[scenario]
        mine_totals = totals.loc[scenario]
        diff = (mine["mcpr"] - base_end["mcpr"]).dropna().to_numpy()
        incremental = (mine["cost_cumulative"] - base_end["cost_cumulative"]).dropna()
        m, lo, hi = interval(mine["mcpr"].to_numpy())
        d, dlo, dhi = interval(diff)
        averted = (base_totals["unintended_pregnancies"] - mine_totals["unintended_pregnancies"]).dropna()
        births_averted = (base_totals["births"] - mine_totals["births"]).dropna()
        unsafe = ratios.unsafe_abortions(averted)
        track20 = (track20_all[scenario] - track20_all[baseline]).dropna()
        track20_unsafe = ratios.unsafe_abortions(track20)
        track20_all_unsafe = ratios.unsafe_abortions(track20_all[scenario])
        per_run = {
            "mcpr_married": mine["mcpr_married"],
            "additional_users": (mine["users"] - base_end["users"]).dropna(),
            "fp2030_additional_users": mine_totals["fp2030_additional_users"],
            "user_years": mine_totals["user_years"],
            "additional_user_years": (mine_totals["user_years"] - base_totals["user_years"]).dropna(),
            "cyp": mine_totals["cyp"],
            "additional_cyp": (mine_totals["cyp"] - base_totals["cyp"]).dropna(),
            "births": mine_totals["births"],
            "pregnancies": mine_totals["pregnancies"],
            "unintended_pregnancies": mine_totals["unintended_pregnancies"],
            "unintended_averted": averted,
            "births_averted": births_averted,
            "unsafe_abortions_averted": unsafe,
            "maternal_deaths_averted": ratios.maternal_deaths(births_averted, unsafe.reindex(births_averted.index)),
            "track20_unintended_averted": track20,
            "track20_unsafe_abortions_averted": track20_unsafe,
            "track20_maternal_deaths_averted": ratios.maternal_deaths(ratios.births(track20), track20_unsafe),
            "track20_all_unintended_averted": track20_all[scenario],
            "track20_all_unsafe_abortions_averted": track20_all_unsafe,
            "track20_all_maternal_deaths_averted": ratios.maternal_deaths(
                ratios.births(track20_all[scenario]), track20_all_unsafe
            ),
            "incremental_cost": incremental,
            **{name: mine_totals[name] for name in COST_BREAKDOWN},
            **{f"incremental_{name}": (mine_totals[name] - base_totals[name]).dropna() for name in COST_BREAKDOWN},
        }
        estimates = {}
        for name in ESTIMATES:
            estimates[name], estimates[f"{name}_lo"], estimates[f"{name}_hi"] = interval(
                np.asarray(per_run[name], dtype=float)
            )
        is_base = scenario == baseline
        for name, outcome in PER_OUTCOME.items():
            estimates[name], estimates[f"{name}_lo"], estimates[f"{name}_hi"] = (
                (math.nan,) * 3 if is_base else ratio_interval(incremental, per_run[outcome])
            )
        exit_month = exits.get(scenario)
        rows.append(
            {
                "scenario": scenario,
                "reps": len(mine),
                "mcpr": m,
                "mcpr_lo": lo,
                "mcpr_hi": hi,
                "diff_pp": 100 * d,
                "diff_lo_pp": 100 * dlo,
                "diff_hi_pp": 100 * dhi,
                **estimates,
                "total_cost": float(mine["cost_cumulative"].mean()),
                "distance_gap_pp": 100 * float((mine[NEAREST_BAND] - mine[FARTHEST_BAND]).mean()),
                "wealth_gap_pp": 100 * float((mine[RICHEST] - mine[POOREST]).mean()),
                "donor_exit_month": exit_month,
                "sustainability": (
                    months_to_half(gain_over_time(frame, scenario, baseline), exit_month)
                    if exit_month is not None and not is_base
                    else ""
                ),
            }
        )
    summary = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    summary["donor_exit_month"] = summary["donor_exit_month"].astype("Int64")  # a month, or <NA>
    return summary


def ratio_interval(cost: pd.Series, outcome: pd.Series, level: float = LEVEL) -> tuple[float, float, float]:
    """Incremental cost per unit of outcome gained, paired by replicate (both indexed by replicate): the mean cost
    over the mean gain, with Fieller's interval, the ratios R for which mean cost - R x mean gain is within its
    Student-t interval of 0. NaN where nothing is gained on average (a cost per negative outcome would read as a
    bargain); bounds NaN from one replicate, or where the gain's own interval reaches 0 (it is then unbounded)."""
    pairs = pd.concat([cost, outcome], axis=1, join="inner").dropna().to_numpy(dtype=float)
    if pairs.size == 0 or pairs[:, 1].mean() <= 0:
        return math.nan, math.nan, math.nan
    c, e = pairs[:, 0], pairs[:, 1]
    ratio = float(c.mean() / e.mean())
    n = len(c)
    if n < 2:
        return ratio, math.nan, math.nan
    t2 = float(stats.t.ppf(0.5 + level / 2, n - 1)) ** 2
    (var_c, cov), (_, var_e) = np.cov(c, e, ddof=1) / n
    a = e.mean() ** 2 - t2 * var_e
    if a <= 0:
        return ratio, math.nan, math.nan
    b = c.mean() * e.mean() - t2 * cov
    root = math.sqrt(max(b * b - a * (c.mean() ** 2 - t2 * var_c), 0.0))
    return ratio, float((b - root) / a), float((b + root) / a)


def summarise_comparison(comparison: Comparison) -> pd.DataFrame:
    """`summarise` of a comparison, with its donor exits and its scenarios' parameters."""
    return summarise(comparison.frame, comparison.baseline, comparison.exits(), comparison.scenarios)


def bands(frame: pd.DataFrame, column: str = "mcpr") -> pd.DataFrame:
    """Per scenario and month: mean and 95% interval across replicates (for prevalence-over-time charts)."""
    rows = []
    for (scenario, month), group in frame.groupby(["scenario", "month"], sort=False):
        m, lo, hi = interval(group[column].to_numpy())
        rows.append({"scenario": scenario, "month": month, "mean": m, "lo": lo, "hi": hi})
    return pd.DataFrame(rows, columns=["scenario", "month", "mean", "lo", "hi"])

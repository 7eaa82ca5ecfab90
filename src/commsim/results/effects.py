"""What a comparison shows: per scenario, final prevalence with its uncertainty, the paired difference from the
baseline, additional users, cost per additional user, equity gaps, and how long a gain lasts after the donor
leaves.

Input is the long frame of a comparison: one row per scenario, replicate and month with the output columns.
Replicate r of every scenario ran on the same seed (common random numbers), so differences are taken within
a replicate and their spread is the uncertainty of the difference, not the noise of either run.
"""

import math

import numpy as np
import pandas as pd
from scipy import stats

LEVEL = 0.95
NEAREST_BAND, FARTHEST_BAND = "mcpr_0_2km", "mcpr_10km_plus"
POOREST, RICHEST = "mcpr_q1", "mcpr_q5"

SUMMARY_COLUMNS: tuple[str, ...] = (
    "scenario",
    "reps",
    "mcpr",
    "mcpr_lo",
    "mcpr_hi",
    "diff_pp",
    "diff_lo_pp",
    "diff_hi_pp",
    "additional_users",
    "additional_users_lo",
    "additional_users_hi",
    "total_cost",
    "incremental_cost",
    "cost_per_additional_user",
    "distance_gap_pp",
    "wealth_gap_pp",
    "donor_exit_month",
    "sustainability",
)
# Headings of the summary's columns for people (the CLI table and the report); bounds share their estimate's.
SUMMARY_LABELS: dict[str, str] = {
    "reps": "runs",
    "mcpr": "final mCPR",
    "diff_pp": "difference from baseline (paired)",
    "additional_users": "additional users",
    "total_cost": "total cost",
    "incremental_cost": "incremental cost",
    "cost_per_additional_user": "cost per additional user",
    "distance_gap_pp": "distance gap (near − far, pp)",
    "wealth_gap_pp": "wealth gap (rich − poor, pp)",
    "donor_exit_month": "donor exit",
    "sustainability": "gain after exit: time to halve",
}


def interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float, float]:
    """Mean and Student-t interval of the mean; (x, nan, nan) from a single value. Identical values give a
    zero-width interval."""
    x = np.asarray(values, dtype=float)
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


def summarise(frame: pd.DataFrame, baseline: str, exits: dict[str, int | None] | None = None) -> pd.DataFrame:
    """One row per scenario (baseline first) with the columns of SUMMARY_COLUMNS; percentages as shares for
    mcpr and as percentage points for differences and gaps; money in US$."""
    exits = exits or {}
    end = final_rows(frame)
    order = [baseline] + [s for s in dict.fromkeys(frame["scenario"]) if s != baseline]
    base_end = end.loc[baseline]
    rows = []
    for scenario in order:
        mine = end.loc[scenario]
        diff = (mine["mcpr"] - base_end["mcpr"]).dropna().to_numpy()
        extra = (mine["users"] - base_end["users"]).dropna().to_numpy()
        cost = float(mine["cost_cumulative"].mean())
        incremental = cost - float(base_end["cost_cumulative"].mean())
        m, lo, hi = interval(mine["mcpr"].to_numpy())
        d, dlo, dhi = interval(diff)
        a, alo, ahi = interval(extra)
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
                "additional_users": a,
                "additional_users_lo": alo,
                "additional_users_hi": ahi,
                "total_cost": cost,
                "incremental_cost": incremental,
                "cost_per_additional_user": incremental / a if scenario != baseline and a > 0 else math.nan,
                "distance_gap_pp": 100 * float((mine[NEAREST_BAND] - mine[FARTHEST_BAND]).mean()),
                "wealth_gap_pp": 100 * float((mine[RICHEST] - mine[POOREST]).mean()),
                "donor_exit_month": exit_month,
                "sustainability": (
                    months_to_half(gain_over_time(frame, scenario, baseline), exit_month)
                    if exit_month is not None and scenario != baseline
                    else ""
                ),
            }
        )
    summary = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    summary["donor_exit_month"] = summary["donor_exit_month"].astype("Int64")  # a month, or <NA>
    return summary


def bands(frame: pd.DataFrame, column: str = "mcpr") -> pd.DataFrame:
    """Per scenario and month: mean and 95% interval across replicates (for prevalence-over-time charts)."""
    rows = []
    for (scenario, month), group in frame.groupby(["scenario", "month"], sort=False):
        m, lo, hi = interval(group[column].to_numpy())
        rows.append({"scenario": scenario, "month": month, "mean": m, "lo": lo, "hi": hi})
    return pd.DataFrame(rows, columns=["scenario", "month", "mean", "lo", "hi"])

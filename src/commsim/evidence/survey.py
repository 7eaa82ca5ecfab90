"""What a DHS would record of a run, read from the model's state month by month: the calendar of episodes of use
(each user's month on her method: which method, how long she had used it, whether she stopped, switched or
conceived on it) and a cross-section of the women (age, union, use, method, need, distance, CHW). The
published checks (`evidence.published`) compute their measures from these tables and the monthly outputs.

A woman who leaves the district (at 50, or earlier at her age group's leaving chance) is replaced by a
15-year-old in her household's row; the month she leaves is not counted in the calendar (her episode is
censored, not stopped). Such a row is told by its age: `households.age_months` is AGE_IN_MONTHS only in the
month a newcomer arrives.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from commsim.model.community import CommunityHealthModel
from commsim.model.kernels.households import _unmet_need as unmet_need_rule
from commsim.model.state import AGE_IN_MONTHS, CHW_ACTIVE, SOURCE_NONE, WANTS_SOON
from commsim.scenario.schema import METHODS, Scenario

RUN_MONTHS = 60  # the shipped baseline's horizon
CALENDAR = range(13, RUN_MONTHS + 1)  # months whose episodes are recorded: after a year, the start's artefacts gone
CROSS_SECTION = range(25, 37)  # the women are surveyed each month of year 3 (calibration takes month 36)
YOUNG_MONTHS = 25 * 12  # DHS FA134's youth: 15-24


@dataclass
class Survey:
    """One run as a survey sees it: the monthly outputs, the calendar (one row per user and month) and the
    cross-section (one row per woman and month)."""

    timeseries: pd.DataFrame
    calendar: pd.DataFrame
    women: pd.DataFrame


def survey_run(scenario: Scenario | str, seed: int, overrides: Mapping[str, Any] | None = None) -> Survey:
    """Run a scenario for RUN_MONTHS months and record its calendar over CALENDAR and its women over
    CROSS_SECTION (dotted keys as overrides)."""
    settings = {key.replace(".", "__"): value for key, value in (overrides or {}).items()}
    model = CommunityHealthModel(scenario, rng=seed, **settings)
    hh = model.district.households
    calendar, women = [], []
    for month in range(1, RUN_MONTHS + 1):
        users = np.flatnonzero(hh.source > SOURCE_NONE)
        start = (hh.method[users].copy(), hh.months_on[users].copy(), hh.age_months[users] < YOUNG_MONTHS)
        model.step()
        if month in CALENDAR:
            calendar.append(calendar_month(hh, users, *start))
        if month in CROSS_SECTION:
            women.append(cross_section(hh, model.district.chws))
    return Survey(model.timeseries(), pd.concat(calendar), pd.concat(women))


def calendar_month(hh, users: np.ndarray, method: np.ndarray, months_on: np.ndarray, young: np.ndarray):
    """The month just run for the women who used a method at its start: her method, its duration (months used
    before this one), whether she was under 25, whether the episode ended (stopped, switched, conceived on it),
    whether she conceived on it, whether she ended it still in need (method failure, a method-related stop or
    a switch, not a wish for a child, the end of her union or of her fecund years), and whether she stopped to have
    a child (the DHS's "to become pregnant"). Women who left the district are left out."""
    stayed = hh.age_months[users] != AGE_IN_MONTHS
    users, method, months_on, young = users[stayed], method[stayed], months_on[stayed], young[stayed]
    kept = (hh.source[users] > SOURCE_NONE) & (hh.method[users] == method) & (hh.months_on[users] == months_on + 1)
    failed = hh.pregnant[users] == 1  # users are never pregnant at the start of a month
    less_need = ~kept & ~failed & (hh.source[users] == SOURCE_NONE) & (hh.need[users] == 0)
    return pd.DataFrame(
        {
            "method": pd.Categorical.from_codes(method - 1, METHODS),
            "duration": months_on,
            "young": young,
            "ended": ~kept,
            "failed": failed,
            "in_need": ~kept & ~less_need,
            "to_conceive": less_need & (hh.union[users] == 1) & (hh.intention[users] == WANTS_SOON),
            "other_in_need": ~kept & ~less_need & ~failed,
        }
    )


def cross_section(hh, chws) -> pd.DataFrame:
    """Every woman at the end of the month just run: age group, union, use, method, unmet need as the DHS counts
    it, ever use, distance to and band of her nearest facility, an active CHW (and one trained in family
    planning)."""
    user = hh.source > SOURCE_NONE
    post = np.maximum(hh.chw, 0)
    active = (hh.chw >= 0) & (chws.status[post] == CHW_ACTIVE)
    non_users = np.flatnonzero(~user)
    unmet = np.zeros(user.size, bool)
    unmet[non_users] = np.fromiter((unmet_need_rule(hh, i) for i in non_users), bool, non_users.size)
    return pd.DataFrame(
        {
            "age_group": (hh.age_months - AGE_IN_MONTHS) // 60,
            "married": hh.union == 1,
            "user": user,
            "method": pd.Categorical.from_codes(hh.method.astype(np.int64) - 1, METHODS),
            "unmet": unmet,
            "ever_user": hh.ever_user == 1,
            "dist_km": hh.dist1,
            "band": hh.band,
            "chw": active,
            "chw_fp": active & (chws.fp_trained[post] == 1),
        }
    )

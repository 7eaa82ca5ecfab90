"""Survey-style measures of a run, as a DHS or a programme would report them: prevalence and unmet need (among
all and among married women), the total fertility rate, the
share of users served by CHWs, CHW attrition per year, and the 12-month discontinuation of a cohort of new
users. Calibration fits scenarios to these and validation compares them with published ranges.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from commsim.model.community import CommunityHealthModel
from commsim.scenario.schema import Scenario

MEASURES: dict[str, str] = {
    "mcpr": "modern contraceptive prevalence at the last month (current users among all index women)",
    "unmet_need": "unmet need as the DHS counts it, among all index women, at the last month",
    "mcpr_married": "modern contraceptive prevalence among married women at the last month",
    "unmet_need_married": "unmet need as the DHS counts it, among married women, at the last month",
    "tfr": "total fertility rate over the last 12 months (the monthly age-specific rates, annualised, averaged)",
    "chw_share": "share of current users whose method comes from a CHW, at the last month",
    "chw_attrition_per_year": "CHWs who left in the last 12 months per active CHW",
    "discontinuation_12m": "share of new users of months 7-9 who stopped within 12 months",
}
COHORT_START, COHORT_MONTHS, FOLLOW_UP_MONTHS = 7, 3, 12


@dataclass
class Measured:
    """One run: its measures and its monthly outputs."""

    values: dict[str, float]
    timeseries: pd.DataFrame
    cohort_size: int


def measure_run(scenario: Scenario | str, seed: int, overrides: Mapping[str, Any] | None = None) -> Measured:
    """Run a scenario once and compute every measure. New users of months 7-9 (after a burn-in of six months)
    form the discontinuation cohort, each followed for the next 12 months, so a run lasts at least 21 months."""
    settings = {key.replace(".", "__"): value for key, value in (overrides or {}).items()}
    model = CommunityHealthModel(scenario, rng=seed, **settings)
    months = max(model.config.months, COHORT_START + COHORT_MONTHS - 1 + FOLLOW_UP_MONTHS)
    hh = model.district.households
    formed: list[tuple[int, np.ndarray, np.ndarray]] = []  # (month formed, members, stopped since)
    for month in range(1, months + 1):
        model.step()
        for start, members, stopped in formed:
            if month - start <= FOLLOW_UP_MONTHS:
                stopped |= hh.source[members] == 0
        if COHORT_START <= month < COHORT_START + COHORT_MONTHS:
            new = np.flatnonzero((hh.source > 0) & (hh.months_on == 0))
            formed.append((month, new, np.zeros(new.size, bool)))
    stops = np.concatenate([stopped for _, _, stopped in formed])
    return Measured(summarise(model.timeseries(), stops), model.timeseries(), int(stops.size))


def summarise(ts: pd.DataFrame, stopped: np.ndarray) -> dict[str, float]:
    """The measures from a run's monthly outputs and its cohort's stop flags."""
    end = ts.iloc[-1]
    last_year = ts.iloc[-12:]
    active = float(last_year["active_chws"].mean())
    return {
        "mcpr": float(end["mcpr"]),
        "unmet_need": float(end["unmet_need"]),
        "mcpr_married": float(end["mcpr_married"]),
        "unmet_need_married": float(end["unmet_need_married"]),
        "tfr": float(last_year["tfr"].mean()),
        "chw_share": float(end["users_via_chw"] / end["users"]) if end["users"] > 0 else 0.0,
        "chw_attrition_per_year": float(last_year["chws_left"].sum() / active) if active > 0 else 0.0,
        "discontinuation_12m": float(stopped.mean()) if stopped.size else float("nan"),
    }

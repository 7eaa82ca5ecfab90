"""What planners count, from a comparison's runs: FP2030's additional users and user-years, and unintended
pregnancies, unsafe abortions and maternal deaths averted, two ways.

- Mechanistic: the model's own counterfactual. Replicate r of every arm ran on the same seed as the baseline's,
  so baseline minus arm, summed over the horizon, is what the arm averted (births and unintended pregnancies
  the model counted).
- Track20's formula (FP2030 core indicators 6-8, "Estimating impacts of contraceptive use"): user-years of each
  method times the pregnancies the same women would have without a method (0.31 a year), less the pregnancies
  on the method (its typical-use failure).

Both turn unintended pregnancies averted into unsafe abortions averted, and births averted into maternal deaths
averted, by the ratios of the scenario's `impacts` section (`Ratios`).

Methods: the model's method mix (`scenario.schema.METHODS`); `track20_averted` takes user-years and failure by
method (mappings): each method's users are its `users_<method>` output and its failure its `failure_12m`.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from commsim.scenario.schema import METHODS, Scenario

METHOD_USERS: dict[str, str] = {name: f"users_{name}" for name in METHODS}  # method -> its current users' column
MONTHS_PER_YEAR = 12
type Amount = float | np.ndarray | pd.Series  # one number, or one per run


def failure_per_year(scenario: Scenario) -> dict[str, float]:
    """Typical-use failure by method: the chance of a pregnancy in a year of use (`methods.<method>.failure_12m`)."""
    return {name: method.failure_12m for name, method in zip(METHODS, scenario.methods.table(), strict=True)}


def method_user_years(runs: pd.DataFrame) -> dict[str, pd.Series]:
    """User-years of each method per run: current users summed over months 1..T, / 12 (month 0 is the district
    before the first month). `runs` is a comparison's frame; the result is indexed by (scenario, replicate)."""
    months = runs[runs["month"] > 0]
    grouped = months.groupby(["scenario", "replicate"], sort=False)
    return {method: grouped[column].sum(min_count=1) / MONTHS_PER_YEAR for method, column in METHOD_USERS.items()}


def track20_averted(
    user_years: Mapping[str, Amount], failure: Mapping[str, float], without_method_per_year: float
) -> Amount:
    """Track20's unintended pregnancies averted by `user_years` of each method: the pregnancies the same women
    would have without a method (`without_method_per_year` per woman-year: 0.31 in Track20's method) less those
    they have on their methods (`failure[method]` per year of use, every one counted as unintended)."""
    unknown = sorted(set(user_years) - set(failure))
    if unknown:
        raise ValueError(f"no failure rate for method(s) {', '.join(unknown)}")
    return sum(years * (without_method_per_year - failure[method]) for method, years in user_years.items())


@dataclass(frozen=True)
class Ratios:
    """What one unintended pregnancy or birth averted is worth in the FP2030 impact indicators."""

    without_method_per_year: float  # pregnancies per woman-year without a method (Track20: 0.31)
    unsafe_abortions_per_unintended: float  # share of unintended pregnancies ending in an unsafe abortion
    births_per_unintended: float  # share of unintended pregnancies ending in a live birth
    maternal_deaths_per_birth: float  # maternal mortality ratio / 100,000
    deaths_per_unsafe_abortion: float  # unsafe-abortion case fatality / 100,000

    @classmethod
    def of(cls, scenario: Scenario) -> "Ratios":
        """The ratios of `scenario.impacts`; its abortion share falls back to the model's own
        (`women.abortion_share_unintended`) where it is not set."""
        impacts = scenario.impacts
        aborted = impacts.abortion_share_unintended
        if aborted is None:
            aborted = scenario.women.abortion_share_unintended
        return cls(
            without_method_per_year=impacts.pregnancies_per_year_without_method,
            unsafe_abortions_per_unintended=aborted * impacts.unsafe_share_abortions,
            births_per_unintended=(1.0 - aborted) * (1.0 - impacts.loss_share_pregnancies),
            maternal_deaths_per_birth=impacts.maternal_deaths_per_100k_births / 100_000,
            deaths_per_unsafe_abortion=impacts.unsafe_abortion_deaths_per_100k / 100_000,
        )

    def unsafe_abortions(self, unintended: Amount) -> Amount:
        """Unsafe abortions among `unintended` pregnancies (averted ones give unsafe abortions averted)."""
        return unintended * self.unsafe_abortions_per_unintended

    def maternal_deaths(self, births: Amount, unsafe_abortions: Amount) -> Amount:
        """Maternal deaths of `births` and of `unsafe_abortions`: the maternal mortality ratio and the unsafe
        abortions' case fatality."""
        return births * self.maternal_deaths_per_birth + unsafe_abortions * self.deaths_per_unsafe_abortion

    def births(self, unintended: Amount) -> Amount:
        """The live births `unintended` pregnancies would have given (neither aborted nor lost)."""
        return unintended * self.births_per_unintended

"""The published numbers `commsim validate` checks (`commsim.evidence.published`): every check is declared with
its source, range and reasons; the survey of a run counts what the model counts; a check's measure equals the
same number computed by hand from the model's state; and a check fails when the model misses the number."""

from collections import Counter

import numpy as np
import pytest

from commsim.evidence import published
from commsim.evidence.replicates import observe
from commsim.evidence.survey import CALENDAR, CROSS_SECTION, RUN_MONTHS, survey_run
from commsim.model.community import CommunityHealthModel
from commsim.model.state import AGE_IN_MONTHS
from commsim.scenario.schema import METHODS, Scenario

SMALL = {"population.households": 3000}
BY_KEY = {check.key: check for check in published.CHECKS}


def test_every_check_names_its_source_its_range_and_why():
    assert len(BY_KEY) == len(published.CHECKS)  # one declaration each
    for check in published.CHECKS:
        for text in (check.quantity, check.published, check.source, check.why, check.how):
            assert text.strip(), f"{check.key}: a blank description"
        assert check.low < check.high, check.key
        assert callable(check.measure)
    required = {
        "tfr",
        "mcpr_married",
        "unmet_need_married",
        "in_union",
        "youth_share",
        "use_15_19",
        "use_45_49",
        "mix_long_and_injectable",
        "discontinuation_12m",
        "discontinuation_24m",
        "former_users_in_unmet_need",
        "odds_per_km",
        "chw_attrition",
        "averted_vs_track20",
        *(f"failure_12m_{m}" for m in ("implant", "iud", "injectable", "pill", "condom")),
        *(f"discontinuation_12m_{m}" for m in METHODS),
    }
    assert required <= set(BY_KEY), sorted(required - set(BY_KEY))


@pytest.fixture(scope="module")
def small_survey():
    return survey_run("baseline", 1, SMALL)


def test_the_survey_counts_what_the_model_counts(small_survey):
    ts = small_survey.timeseries.set_index("month")
    calendar, women = small_survey.calendar, small_survey.women
    assert calendar["failed"].sum() == ts.loc[list(CALENDAR), "method_failures"].sum()
    assert calendar["ended"].sum() == ts.loc[list(CALENDAR), "discontinued"].sum()  # leavers are not stops
    assert women["unmet"].sum() == pytest.approx(ts.loc[list(CROSS_SECTION), "unmet_need"].sum() * 3000)
    assert women["married"].mean() == pytest.approx(ts.loc[list(CROSS_SECTION), "in_union"].mean())
    assert not (calendar["failed"] & ~calendar["ended"]).any()  # a pregnancy ends the episode


def episodes_by_hand(seed: int) -> tuple[Counter, Counter, Counter]:
    """Women at risk, episodes ended and pregnancies on the method, by (method code, months used before), counted
    one user at a time over the calendar months; a woman who left the district that month is not counted."""
    model = CommunityHealthModel("baseline", rng=seed, population__households=3000)
    hh = model.district.households
    at_risk, ended, failed = Counter(), Counter(), Counter()
    for month in range(1, RUN_MONTHS + 1):
        users = [(i, int(hh.method[i]), int(hh.months_on[i])) for i in np.flatnonzero(hh.source > 0)]
        model.step()
        if month not in CALENDAR:
            continue
        for i, method, used in users:
            if hh.age_months[i] == AGE_IN_MONTHS:
                continue
            at_risk[method, used] += 1
            ended[method, used] += not (hh.source[i] > 0 and hh.method[i] == method and hh.months_on[i] == used + 1)
            failed[method, used] += bool(hh.pregnant[i] == 1)
    return at_risk, ended, failed


def chance_by_hand(at_risk: Counter, events: Counter, methods: list[int], months: int) -> float:
    survival = 1.0
    for used in range(months):
        n = sum(at_risk[m, used] for m in methods)
        survival *= 1 - sum(events[m, used] for m in methods) / n
    return 1 - survival


def test_a_measure_computed_by_hand_equals_the_checks(small_survey):
    runs = observe((1,), SMALL)
    results = {r.check.key: r for r in published.evaluate(runs)}
    at_risk, ended, failed = episodes_by_hand(1)
    every = list(range(1, len(METHODS) + 1))
    pill = [METHODS.index("pill") + 1]
    assert results["discontinuation_12m"].value == pytest.approx(chance_by_hand(at_risk, ended, every, 12), abs=1e-12)
    assert results["discontinuation_12m_pill"].value == pytest.approx(chance_by_hand(at_risk, ended, pill, 12))
    assert results["failure_12m_pill"].value == pytest.approx(chance_by_hand(at_risk, failed, pill, 12), abs=1e-12)
    ts = small_survey.timeseries
    assert results["tfr"].value == pytest.approx(ts["tfr"].iloc[25:37].mean())
    base, arm = ts.iloc[1:], runs.replicates[0].programme.timeseries.iloc[1:]
    methods = Scenario().methods
    track20 = sum(
        (arm[f"users_{m}"].sum() - base[f"users_{m}"].sum()) / 12 * (0.31 - getattr(methods, m).failure_12m)
        for m in METHODS
    )
    averted = base["unintended_pregnancies"].sum() - arm["unintended_pregnancies"].sum()
    assert results["averted_vs_track20"].value == pytest.approx(averted / track20)


def test_a_check_fails_when_the_model_misses_the_number():
    check = (BY_KEY["failure_12m_pill"],)
    seeds = (1, 2, 3)
    sized = {"population.households": 5000}
    (baseline,) = published.evaluate(observe(seeds, sized), check)
    (tripled,) = published.evaluate(observe(seeds, {**sized, "methods.pill.failure_12m": 0.165}), check)
    assert baseline.passed, baseline.measured
    assert not tripled.passed and tripled.value > check[0].high, tripled.measured

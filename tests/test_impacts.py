"""FP2030's impact indicators: Track20's formula over a method mix, the ratios that turn pregnancies and births
averted into unsafe abortions and maternal deaths averted, and the scenario section that holds them."""

import numpy as np
import pandas as pd
import pytest

from commsim.results import impacts
from commsim.scenario.loader import ScenarioError, load_scenario, scenario_hash, to_toml
from commsim.scenario.schema import METHODS, Scenario


def test_track20_formula_over_a_method_mix_by_hand():
    """Track20: sum over methods of user-years x (0.31 - the method's failure in a year)."""
    years = {"implant": 1000.0, "injectable": 400.0, "pill": 100.0}
    failure = {"implant": 0.006, "injectable": 0.017, "pill": 0.055, "iud": 0.014}  # an unused method is fine
    by_hand = 1000 * (0.31 - 0.006) + 400 * (0.31 - 0.017) + 100 * (0.31 - 0.055)
    assert impacts.track20_averted(years, failure, 0.31) == pytest.approx(by_hand, rel=1e-15)
    per_run = {"implant": np.array([1000.0, 10.0]), "pill": np.array([0.0, 100.0])}
    assert impacts.track20_averted(per_run, failure, 0.31) == pytest.approx([304.0, 3.04 + 25.5], rel=1e-12)
    with pytest.raises(ValueError, match=r"no failure rate for method\(s\) condom"):
        impacts.track20_averted({"condom": 5.0}, failure, 0.31)


def test_failure_and_user_years_by_method():
    """Track20's inputs from the model: each method's typical-use failure (methods.<method>.failure_12m, Polis
    2016) and its user-years from its users_<method> output (month 0, before the first month, not counted)."""
    failure = impacts.failure_per_year(Scenario())
    assert list(failure) == list(METHODS)
    assert failure["implant"] == 0.006 and failure["pill"] == 0.055
    columns = {f"users_{name}": [0, 0, 0, 0, 0, 0] for name in METHODS}
    columns["users_implant"] = [99, 12, 24, 99, 6, 6]
    frame = pd.DataFrame({"scenario": "a", "replicate": [0, 0, 0, 1, 1, 1], "month": [0, 1, 2] * 2, **columns})
    years = impacts.method_user_years(frame)
    assert years["implant"].loc[("a", 0)] == 3.0 and years["implant"].loc[("a", 1)] == 1.0
    assert years["pill"].loc[("a", 0)] == 0.0


def test_ratios_from_the_scenario_by_hand():
    ratios = impacts.Ratios.of(Scenario())
    assert ratios.without_method_per_year == 0.31
    assert ratios.unsafe_abortions_per_unintended == pytest.approx(0.20 * 0.85)  # the model's own abortion share
    assert ratios.births_per_unintended == pytest.approx(0.80 * 0.88)
    assert ratios.maternal_deaths(1000.0, 100.0) == pytest.approx(1000 * 0.00562 + 100 * 0.0022)
    regional = impacts.Ratios.of(Scenario.model_validate({"impacts": {"abortion_share_unintended": 0.48}}))
    assert regional.unsafe_abortions(100.0) == pytest.approx(100 * 0.48 * 0.85)
    assert regional.births(100.0) == pytest.approx(100 * 0.52 * 0.88)


def test_impacts_section_keeps_hashes_at_its_defaults_and_round_trips(tmp_path):
    """Scenarios that leave the ratios alone keep their hashes (the section is not written); one that sets a
    ratio has a hash of its own, and its resolved TOML reads back to the same scenario."""
    baseline = load_scenario("baseline")
    assert "impacts" not in baseline.model_dump() and "[impacts]" not in to_toml(baseline)
    local = load_scenario("baseline", {"impacts.maternal_deaths_per_100k_births": 325.0})
    assert scenario_hash(local) != scenario_hash(baseline)
    text = to_toml(local)
    assert "[impacts]" in text and "maternal_deaths_per_100k_births = 325.0" in text
    (tmp_path / "local.toml").write_text(text)
    assert load_scenario(tmp_path / "local.toml") == local


def test_a_bad_ratio_names_its_key():
    with pytest.raises(ScenarioError, match=r"impacts.unsafe_share_abortions: must be <= 1.0 \(got 1.5\)"):
        load_scenario("baseline", {"impacts.unsafe_share_abortions": 1.5})
    with pytest.raises(ScenarioError, match=r"impacts.maternal_death_ratio: unknown key"):
        load_scenario("baseline", {"impacts.maternal_death_ratio": 500.0})


def test_every_ratio_names_a_source_or_says_none_was_found():
    for name, field in Scenario.model_fields["impacts"].annotation.model_fields.items():
        text = field.description or ""
        assert any(word in text for word in ("Track20", "Bearak", "Guttmacher", "MMEIG", "WHO", "Magnus")), name
        assert "Range" in text or name == "pregnancies_per_year_without_method", name

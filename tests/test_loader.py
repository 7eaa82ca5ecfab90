"""Scenario loading: shipped files, `extends`, errors that name the file, key and what is allowed, dotted
overrides, and the TOML round trip with its hash."""

from pathlib import Path

import pytest

from commsim.scenario import loader
from commsim.scenario.loader import ScenarioError, flat_keys, load_scenario, scenario_hash, to_toml
from commsim.scenario.schema import INTERVENTION_TYPES, Groups, Linkage, Scenario

SHIPPED = loader.shipped_scenarios()
SHIPPED_IDS = [p.stem for p in SHIPPED]
BASELINE = loader.scenario_dir() / "baseline.toml"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def load_error(source, overrides=None) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(source, overrides)
    return str(info.value)


# --- shipped scenarios -------------------------------------------------------------------------------------


def test_the_nine_scenarios_of_the_design_are_shipped():
    assert set(SHIPPED_IDS) >= {
        "baseline",
        "capacity_only",
        "chw_scale_up",
        "donor_exit",
        "hrh2030_groups",
        "linkage_only",
        "partnership_voice",
        "supply_fix",
        "swasti_css",
    }
    assert sorted(SHIPPED) == SHIPPED


@pytest.mark.parametrize("path", SHIPPED, ids=SHIPPED_IDS)
def test_every_shipped_scenario_loads_by_path_and_by_name(path):
    by_path = load_scenario(path)
    by_name = load_scenario(path.stem)
    assert isinstance(by_path, Scenario)
    assert by_path == by_name
    assert by_path.name == path.stem
    assert by_path.description


def test_unknown_scenario_name_lists_the_shipped_ones():
    message = load_error("no_such_scenario")
    assert "no_such_scenario" in message
    assert "baseline" in message and "donor_exit" in message


# --- extends -----------------------------------------------------------------------------------------------


def test_extends_child_overrides_one_key_and_keeps_the_parents_others(tmp_path):
    write(
        tmp_path / "parent.toml",
        'name = "parent"\nmonths = 36\nseed = 9\n[groups]\np_member = 0.4\ntraining_coverage = 0.2\n'
        "[population]\nhouseholds = 3000\n",
    )
    child = write(
        tmp_path / "child.toml", 'extends = "parent.toml"\nname = "child"\n[groups]\ntraining_coverage = 0.7\n'
    )
    sc = load_scenario(child)
    assert sc.name == "child"
    assert sc.groups.training_coverage == 0.7
    assert sc.groups.p_member == 0.4  # same table, other key: kept
    assert sc.months == 36 and sc.seed == 9
    assert sc.population.households == 3000
    assert sc.population.villages == Scenario().population.villages  # neither file: default


def test_extends_a_shipped_scenario_by_absolute_path(tmp_path):
    child = write(
        tmp_path / "variant.toml",
        f'extends = "{BASELINE.as_posix()}"\nname = "variant"\n[chws]\ncoverage = 0.9\n',
    )
    sc = load_scenario(child)
    base = load_scenario("baseline")
    assert sc.name == "variant"
    assert sc.chws.coverage == 0.9
    assert sc.chws.model_dump(exclude={"coverage"}) == base.chws.model_dump(exclude={"coverage"})
    assert sc.model_dump(exclude={"name", "chws"}) == base.model_dump(exclude={"name", "chws"})


def test_extends_chains_through_two_parents():
    donor_exit = load_scenario("donor_exit")
    hrh = load_scenario("hrh2030_groups")
    assert set(donor_exit.interventions) == {*hrh.interventions, "donor_exit"}
    assert donor_exit.groups.training_coverage == hrh.groups.training_coverage == 0.5
    assert donor_exit.population == load_scenario("baseline").population


def test_extends_cycle_is_an_error_naming_the_files(tmp_path):
    a = write(tmp_path / "a.toml", 'extends = "b.toml"\n')
    write(tmp_path / "b.toml", 'extends = "a.toml"\n')
    message = load_error(a)
    assert "cycle" in message
    assert "a.toml" in message and "b.toml" in message


def test_extends_itself_is_a_cycle(tmp_path):
    a = write(tmp_path / "self.toml", 'extends = "self.toml"\n')
    message = load_error(a)
    assert "cycle" in message and "self.toml" in message


def test_extends_missing_file_names_both_files(tmp_path):
    child = write(tmp_path / "child.toml", 'extends = "missing_parent.toml"\n')
    message = load_error(child)
    assert "child.toml" in message
    assert "missing_parent.toml" in message
    assert "extends" in message


def test_extends_must_be_a_string(tmp_path):
    child = write(tmp_path / "child.toml", "extends = 3\n")
    message = load_error(child)
    assert "child.toml" in message and "extends" in message


# --- errors ------------------------------------------------------------------------------------------------


def test_unknown_top_level_key_names_file_key_and_allowed_keys(tmp_path):
    path = write(tmp_path / "typo.toml", "monthz = 12\n")
    message = load_error(path)
    assert "typo.toml" in message
    assert "monthz" in message
    assert "unknown key" in message
    for allowed in Scenario.model_fields:
        assert allowed in message


def test_unknown_key_in_a_section_names_the_dotted_path_and_allowed_keys(tmp_path):
    path = write(tmp_path / "typo.toml", "[groups]\ntraining_coverag = 0.3\n")
    message = load_error(path)
    assert "typo.toml" in message
    assert "groups.training_coverag" in message
    for allowed in Groups.model_fields:
        assert allowed in message


def test_unknown_key_in_an_intervention_names_the_path_and_allowed_keys(tmp_path):
    path = write(tmp_path / "typo.toml", '[interventions.links]\ntype = "linkage"\nstrenth = 2.0\n')
    message = load_error(path)
    assert "typo.toml" in message
    assert "interventions.links.strenth" in message
    for allowed in Linkage.model_fields:
        assert allowed in message


def test_every_bad_key_is_reported_at_once(tmp_path):
    path = write(tmp_path / "bad.toml", "bogus = 1\n[groups]\ntraining_coverage = 1.5\n[chws]\nnope = 2\n")
    message = load_error(path)
    assert "bogus" in message
    assert "groups.training_coverage" in message
    assert "chws.nope" in message
    assert all(line.startswith(str(path)) for line in message.splitlines())


@pytest.mark.parametrize(
    ("toml", "key", "bound"),
    [
        ("[groups]\ntraining_coverage = 1.5\n", "groups.training_coverage", "<= 1.0"),
        ("[groups]\ntraining_coverage = -0.1\n", "groups.training_coverage", ">= 0.0"),
        ("[population]\nhouseholds = 5\n", "population.households", ">= 10"),
        ("[population]\nside_km = 0.0\n", "population.side_km", "> 0.0"),
        ("months = 0\n", "months", ">= 1"),
        ("[households]\nreferral_valid_months = 25\n", "households.referral_valid_months", "<= 24"),
        ('[interventions.x]\ntype = "linkage"\nstrength = 9.0\n', "interventions.x.strength", "<= 5.0"),
        ('[interventions.x]\ntype = "feedback"\ncoverage = 2.0\n', "interventions.x.coverage", "<= 1.0"),
    ],
)
def test_out_of_range_value_names_the_key_and_the_bound(tmp_path, toml, key, bound):
    path = write(tmp_path / "range.toml", toml)
    message = load_error(path)
    assert "range.toml" in message
    assert f"{key}:" in message
    assert bound in message


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('months = "ten"\n', "months"),
        ("months = 10.5\n", "months"),
        ("[groups]\ntraining_coverage = [0.1]\n", "groups.training_coverage"),
        ("[chws]\nprovides_methods = 2\n", "chws.provides_methods"),
        ("groups = 3\n", "groups"),
        ('[interventions.x]\ntype = "capacity_building"\ndelivered_by = "robot"\n', "interventions.x.delivered_by"),
    ],
)
def test_wrong_type_names_the_file_and_key(tmp_path, toml, key):
    path = write(tmp_path / "types.toml", toml)
    message = load_error(path)
    assert message.startswith(f"{path}: {key}:")


def test_unknown_intervention_type_lists_the_allowed_types(tmp_path):
    path = write(tmp_path / "iv.toml", '[interventions.magic]\ntype = "teleport"\n')
    message = load_error(path)
    assert "iv.toml" in message
    assert "interventions.magic" in message
    for name in INTERVENTION_TYPES:
        assert name in message


def test_intervention_without_type_lists_the_allowed_types(tmp_path):
    path = write(tmp_path / "iv.toml", "[interventions.magic]\nstart_month = 3\n")
    message = load_error(path)
    assert "interventions.magic" in message
    for name in INTERVENTION_TYPES:
        assert name in message


def test_invalid_toml_names_the_file(tmp_path):
    path = write(tmp_path / "broken.toml", 'name = "unterminated\n[groups\n')
    message = load_error(path)
    assert "broken.toml" in message
    assert "TOML" in message


def test_invalid_toml_in_a_parent_names_the_parent(tmp_path):
    write(tmp_path / "parent.toml", "months = = 3\n")
    child = write(tmp_path / "child.toml", 'extends = "parent.toml"\n')
    message = load_error(child)
    assert "parent.toml" in message


def test_unknown_key_in_a_parent_names_the_parent_file(tmp_path):
    """The bad key is in parent.toml, so the message must point there (as it does for a TOML syntax error in
    the parent), not only at child.toml, where the user would search for it in vain."""
    write(tmp_path / "parent.toml", 'name = "parent"\n[groups]\ntraining_coverag = 0.3\n')
    child = write(tmp_path / "child.toml", 'extends = "parent.toml"\nname = "child"\n')
    message = load_error(child)
    assert "groups.training_coverag" in message
    assert "parent.toml" in message


def test_scenario_error_is_a_value_error():
    assert issubclass(ScenarioError, ValueError)


# --- overrides ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["groups.training_coverage", "groups__training_coverage"])
def test_override_with_dots_or_double_underscores(key):
    sc = load_scenario("baseline", {key: 0.6})
    assert sc.groups.training_coverage == 0.6
    assert sc.groups.p_member == load_scenario("baseline").groups.p_member


def test_overrides_reach_nested_intervention_keys_and_top_level_keys():
    sc = load_scenario("chw_scale_up", {"interventions.scale_up.coverage": 0.3, "months": 12, "seed": 42})
    assert sc.interventions["scale_up"].coverage == 0.3
    assert sc.months == 12 and sc.seed == 42


def test_override_applies_after_extends():
    sc = load_scenario("donor_exit", {"interventions__donor_exit__start_month": 36})
    assert sc.interventions["donor_exit"].start_month == 36


@pytest.mark.parametrize("key", ["groups.nope", "groups__nope", "nope", "interventions.scale_up.nope"])
def test_override_of_an_unknown_key_is_an_error(key):
    message = load_error("chw_scale_up", {key: 1})
    assert "chw_scale_up" in message
    assert key.replace("__", ".") in message
    assert "unknown key" in message


def test_override_below_a_value_is_an_error():
    message = load_error("baseline", {"groups.training_coverage.x": 1})
    assert "groups.training_coverage" in message


def test_override_out_of_range_is_an_error():
    message = load_error("baseline", {"groups__training_coverage": 1.2})
    assert "groups.training_coverage" in message and "<= 1.0" in message


def test_overrides_do_not_modify_the_source_scenario():
    base = load_scenario("baseline")
    changed = load_scenario(base, {"groups.training_coverage": 0.9})
    assert changed.groups.training_coverage == 0.9
    assert base.groups.training_coverage == 0.0


def test_load_from_a_dict_and_from_a_scenario():
    sc = load_scenario({"name": "d", "groups": {"training_coverage": 0.4}})
    assert sc.groups.training_coverage == 0.4
    assert load_scenario(sc) == sc


# --- round trip, hash, flat keys ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", SHIPPED, ids=SHIPPED_IDS)
def test_to_toml_round_trip(tmp_path, path):
    sc = load_scenario(path)
    out = write(tmp_path / "resolved.toml", to_toml(sc))
    again = load_scenario(out)
    assert again == sc
    assert scenario_hash(again) == scenario_hash(sc)
    assert to_toml(again) == to_toml(sc)


@pytest.mark.parametrize("path", SHIPPED, ids=SHIPPED_IDS)
def test_hash_changes_when_one_parameter_changes(path):
    sc = load_scenario(path)
    changed = load_scenario(path, {"households.trust_weight": sc.households.trust_weight / 2})
    assert scenario_hash(changed) != scenario_hash(sc)
    assert scenario_hash(load_scenario(path, {"seed": sc.seed + 1})) != scenario_hash(sc)


def test_hash_ignores_name_and_description():
    sc = load_scenario("baseline")
    renamed = load_scenario("baseline", {"name": "other", "description": "something else"})
    assert scenario_hash(renamed) == scenario_hash(sc)


def test_shipped_scenarios_have_distinct_hashes():
    hashes = {scenario_hash(load_scenario(p)) for p in SHIPPED}
    assert len(hashes) == len(SHIPPED)


def test_flat_keys():
    sc = load_scenario("hrh2030_groups")
    keys = flat_keys(sc)
    assert keys["population.households"] == sc.population.households
    assert keys["groups.training_coverage"] == 0.5
    assert keys["interventions.group_training.end_month"] == 8
    # every flat key is a valid override that leaves the scenario as it is
    assert load_scenario(sc, {k: v for k, v in keys.items() if v is not None}) == sc


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('months = "10"', "months"),
        ("months = true", "months"),
        ("[population]\nhouseholds = 2000.0", "population.households"),
        ('[groups]\ntraining_coverage = "0.5"', "groups.training_coverage"),
        ('[chws]\nprovides_methods = "yes"', "chws.provides_methods"),
    ],
)
def test_values_are_not_coerced_across_types(tmp_path, toml, key):
    message = load_error(write(tmp_path / "s.toml", toml))
    assert f"s.toml: {key}:" in message


def test_an_intervention_must_end_after_it_starts(tmp_path):
    path = write(tmp_path / "s.toml", '[interventions.t]\ntype = "advocacy"\nstart_month = 12\nend_month = 12\n')
    message = load_error(path)
    assert "interventions.t" in message and "end_month (12) must be after start_month (12)" in message


def test_a_child_without_a_name_is_named_after_its_file(tmp_path):
    write(tmp_path / "parent.toml", 'name = "p"\n')
    child = write(tmp_path / "variant.toml", 'extends = "parent.toml"\n')
    assert load_scenario(child).name == "variant"


def test_numpy_scalars_are_accepted_as_overrides():
    import numpy as np

    sc = load_scenario("baseline", {"population.households": np.int64(3000), "groups.p_member": np.float64(0.2)})
    assert sc.population.households == 3000 and sc.groups.p_member == 0.2


def test_shipped_files_are_found_in_an_installs_share_folder(tmp_path, monkeypatch):
    """A regular (non-editable) install has no checkout: the shipped files are in <prefix>/share/commsim."""
    from commsim.scenario import files as tomlfiles

    assert tomlfiles.shipped_dir("scenarios") == tomlfiles.CHECKOUT / "scenarios"  # a clone: its own folder
    monkeypatch.setattr(tomlfiles, "CHECKOUT", tmp_path / "no-checkout")
    installed = tmp_path / "prefix" / "share" / "commsim" / "experiments"
    installed.mkdir(parents=True)
    monkeypatch.setattr(tomlfiles.sys, "prefix", str(tmp_path / "prefix"))
    assert tomlfiles.shipped_dir("experiments") == installed

"""Decomposition for planners: a programme's gain attributed to its pathways by switching each off on the
comparison's seeds (`commsim compare --decompose`), the parts and their interaction adding up to the total, and a
pathway that does nothing getting exactly nothing."""

from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup
from typer.testing import CliRunner

from commsim.cli.app import app
from commsim.results.attribution import TOGETHER, attribute
from commsim.runs import compare
from commsim.runs.decompose import PATHWAYS, knockouts, pathways_of
from commsim.scenario.loader import load_scenario
from commsim.scenario.schema import DonorExit, SupplyImprovement
from commsim.store import database as store

SHORT = {"months": 24}  # the shipped 20,000 households, two years
runner = CliRunner()


def test_a_knockout_removes_one_pathways_interventions_and_keeps_the_rest():
    """donor_exit (hrh2030_groups with a donor exit): each knock-out lacks exactly the interventions of its
    pathway; the donor exit, which belongs to none, stays in all of them."""
    config = load_scenario("donor_exit")
    assert pathways_of(config) == ["groups", "CHWs", "men and leaders"]
    for label, knocked in knockouts("donor_exit", config).items():
        pathway = label.removeprefix("donor_exit without ")
        kinds = {type(iv) for iv in knocked.interventions.values()}
        assert not kinds & set(PATHWAYS[pathway]) and DonorExit in kinds
        kept = {n for n, iv in config.interventions.items() if not isinstance(iv, PATHWAYS[pathway])}
        assert set(knocked.interventions) == kept and knocked.name == label


@pytest.fixture(scope="module")
def attributed() -> pd.DataFrame:
    """hrh2030_groups plus a supply improvement that reaches no facility, decomposed on 3 seeds."""
    arm = load_scenario("hrh2030_groups", SHORT).model_dump()
    arm["interventions"]["nothing"] = {"type": "supply_improvement", "coverage": 0.0}
    arms = {"baseline": load_scenario("baseline", SHORT), "hrh": load_scenario(arm)}
    seeds = compare.comparison_seeds(3, 1)
    main = compare.run_comparison(arms, "baseline", seeds, store=None, workers=1)
    off = compare.run_comparison(knockouts("hrh", arms["hrh"]), "baseline", seeds, store=None, workers=1)
    frame = pd.concat([main.frame, off.frame], ignore_index=True)
    return attribute(frame, "baseline", "hrh", pathways_of(arms["hrh"]))


def test_the_parts_and_their_interaction_add_up_to_the_gain(attributed):
    """Pathways in order, then the interaction and the total; the gains and the costs of the parts add up to the
    total's (per replicate, so in the mean); the groups and the CHWs each add something."""
    assert list(attributed["pathway"]) == ["groups", "CHWs", "supply", "men and leaders", TOGETHER, "total"]
    parts, total = attributed.iloc[:-1], attributed.iloc[-1]
    assert parts["gain_pp"].sum() == pytest.approx(total["gain_pp"], abs=1e-9)
    assert parts["cost"].sum() == pytest.approx(total["cost"], rel=1e-12)
    rows = attributed.set_index("pathway")
    assert rows.loc["groups", "gain_pp_lo"] > 0 and rows.loc["CHWs", "gain_pp_lo"] > 0


def test_a_pathway_that_reaches_nothing_buys_nothing(attributed):
    """The supply improvement at coverage 0 changes no run, so on common seeds its share is exactly 0, with a
    zero-width interval, and it accounts for no cost."""
    supply = attributed.set_index("pathway").loc["supply"]
    assert (supply[["gain_pp", "gain_pp_lo", "gain_pp_hi", "cost"]] == 0.0).all()
    assert SupplyImprovement in PATHWAYS["supply"]


def test_compare_decompose_prints_writes_and_draws_the_waterfall(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'dec.db'}"
    out = tmp_path / "report"
    args = ["compare", "baseline", "hrh2030_groups", "--reps", "2", "-n", "1500", "-m", "12", "--workers", "1"]
    result = runner.invoke(
        app, [*args, "--set", "population.villages=12", "--decompose", "--db", url, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "decomposition.csv")
    assert list(table["pathway"]) == ["groups", "CHWs", "men and leaders", TOGETHER, "total"]
    assert set(table["arm"]) == {"hrh2030_groups"}
    assert "men and leaders" in result.output and "together (interaction)" in result.output
    page = BeautifulSoup((out / "report.html").read_text(encoding="utf-8"), "html.parser")
    headings = [h.get_text() for h in page.find_all("h3")]
    assert "What each pathway buys: hrh2030_groups" in headings
    alt = page.find("img", alt=lambda text: text and text.startswith("Waterfall chart"))["alt"]
    assert "groups" in alt and "total" in alt
    runs = store.list_runs(store.open_store(url))
    assert len(runs) == 2 * 2 + 3 * 2  # the comparison, then the three knock-outs on the same seeds


def test_decompose_needs_a_scenario_with_interventions(tmp_path: Path):
    args = ["compare", "baseline", "--reps", "2", "-n", "1000", "-m", "3", "--workers", "1", "--decompose"]
    result = runner.invoke(app, [*args, "--db", f"sqlite:///{tmp_path / 'x.db'}", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "--decompose: no scenario but the baseline has interventions" in " ".join(result.output.split())
    assert "Traceback" not in result.output

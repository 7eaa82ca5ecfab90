"""The planner's report: one real, stored comparison (baseline vs hrh2030_groups vs donor_exit) written once per
module, then read back as a machine would (BeautifulSoup) and checked against the summary recomputed from the
store, not from the objects that wrote the report."""

import base64
import dataclasses
import math
import struct
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from commsim import __version__
from commsim.model.metrics import COST_BREAKDOWN
from commsim.reports import comparison as report
from commsim.reports import text as report_text
from commsim.results import effects, formats
from commsim.runs import compare
from commsim.scenario.loader import load_scenario
from commsim.scenario.schema import INTERVENTION_TYPES, Costs, Scenario
from commsim.store import database as store

ARMS = ["baseline", "hrh2030_groups", "donor_exit"]
OVERRIDES = {"population.households": 2000, "months": 36}
REPS = 3
COMMAND = "commsim compare baseline hrh2030_groups donor_exit --reps 3 --households 2000 --months 36"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """Run the comparison into a real SQLite store and write its report."""
    root = tmp_path_factory.mktemp("report")
    results = store.open_store(f"sqlite:///{root}/c.db")
    arms, baseline = compare.resolve_arms(ARMS, None, OVERRIDES)
    comparison = compare.run_comparison(arms, baseline, compare.comparison_seeds(REPS, 1), store=results, workers=1)
    summary = effects.summarise_comparison(comparison)
    path = report.write_report(comparison, summary, root / "out", command=COMMAND)
    html = path.read_text(encoding="utf-8")
    return SimpleNamespace(
        root=root,
        store=results,
        comparison=comparison,
        summary=summary,
        path=path,
        html=html,
        soup=BeautifulSoup(html, "html.parser"),
    )


def summary_from_store(results: store.Store, batch_id: int) -> pd.DataFrame:
    """The summary rebuilt from what the store holds: its runs' outputs and their parameters (donor exits, the
    method's failure, the impact ratios)."""
    exported = store.export(results, batch_id=batch_id)
    frame = exported.rename(columns={"scenario_name": "scenario"})
    scenarios = {}
    for run_id, name in exported[["run_id", "scenario_name"]].drop_duplicates().itertuples(index=False):
        record, _ = store.get_run(results, int(run_id))
        scenarios[name] = load_scenario(record["parameters"])
    exits = {name: scenario.donor_exit_month for name, scenario in scenarios.items()}
    return effects.summarise(frame, "baseline", exits, scenarios)


def same(shown: str, expected: object) -> bool:
    """A data-value attribute equals the expected summary value (floats to 1e-12, NaN to NaN)."""
    if isinstance(expected, str):
        return shown == expected
    if expected is None or math.isnan(float(expected)):
        return shown == "nan"
    return math.isclose(float(shown), float(expected), rel_tol=1e-12, abs_tol=1e-12)


def test_report_is_written_where_asked(made):
    assert made.path == made.root / "out" / "report.html"
    assert made.path.stat().st_size < 1_000_000


def test_table_values_equal_the_summary_recomputed_from_the_store(made):
    expected = summary_from_store(made.store, made.comparison.batch_id)
    assert list(expected["scenario"]) == ARMS
    assert set(expected["reps"]) == {REPS}
    rows = made.soup.select("table#summary tbody tr[data-scenario]")
    assert [row["data-scenario"] for row in rows] == ARMS
    transposed = [made.soup.find("table", id=table.id) for table in report.TABLES if table.transposed]
    for table in transposed:
        assert [th["data-scenario"] for th in table.select("thead th[data-scenario]")] == ARMS
    for row, record in zip(rows, expected.to_dict("records"), strict=True):
        label = row["data-scenario"]
        cells = [td for table in transposed for td in table.select(f'td[data-scenario="{label}"]')]
        found = row.select("[data-column]") + [e for td in cells for e in [td, *td.select("[data-column]")]]
        for column in effects.SUMMARY_COLUMNS:  # each in one of the tables, once
            values = [e["data-value"] for e in found if e["data-column"] == column]
            assert len(values) == 1, (label, column)
            assert same(values[0], record[column]), (label, column, record[column])


def test_table_shows_human_formatting(made):
    donor = made.soup.select_one('#summary tr[data-scenario="donor_exit"]')
    mcpr = donor.select_one('td[data-column="mcpr"]')
    share = float(mcpr["data-value"])
    assert mcpr.get_text().startswith(f"{100 * share:.1f}%")
    cost = float(donor.select_one('td[data-column="total_cost"]')["data-value"])
    assert donor.select_one('td[data-column="total_cost"]').get_text(strip=True) == f"US${cost:,.0f}"
    assert cost >= 1000  # so the thousands separator above is exercised
    assert donor.select_one('td[data-column="donor_exit_month"]').get_text(strip=True) == "month 24"
    baseline = made.soup.select_one('#summary tr[data-scenario="baseline"]')
    for column in effects.PER_OUTCOME:
        cell = baseline.select_one(f'td[data-column="{column}"]')
        assert cell.contents[0].strip() == "—" and cell.select_one("span.ci").has_attr("hidden")  # no interval
        hrh = made.soup.select_one(f'#summary tr[data-scenario="hrh2030_groups"] td[data-column="{column}"]')
        assert hrh.contents[0].strip() == formats.fmt_usd(float(hrh["data-value"]))
    assert made.soup.select('[data-column="cost_per_additional_user"]') == []  # renamed: it matched no standard
    deaths = made.soup.select_one('#outcomes td[data-scenario="hrh2030_groups"][data-column="maternal_deaths_averted"]')
    assert deaths.contents[0].strip() == f"{float(deaths['data-value']):.1f}"
    births = made.soup.select_one('#outcomes td[data-scenario="baseline"][data-column="births"]')
    assert births.contents[0].strip() == f"{float(births['data-value']):,.0f}"


def test_baseline_row_differs_from_itself_by_exactly_zero(made):
    baseline = made.soup.select_one('#summary tr[data-scenario="baseline"]')
    for column in ("diff_pp", "diff_lo_pp", "diff_hi_pp", "additional_users"):
        assert float(baseline.select_one(f'[data-column="{column}"]')["data-value"]) == 0.0
    for column in effects.VERSUS_BASELINE[1:]:
        cell = made.soup.select_one(
            f'#summary tr[data-scenario="baseline"] td[data-column="{column}"], '
            f'#outcomes td[data-scenario="baseline"][data-column="{column}"], '
            f'#costs td[data-scenario="baseline"][data-column="{column}"]'
        )
        bounds = [span["data-value"] for span in cell.select("[data-column]")]
        assert [float(cell["data-value"]), *map(float, bounds)] == [0.0, 0.0, 0.0], column


def test_outcomes_table_sets_the_two_ways_side_by_side(made):
    """The second table: each outcome a row, each scenario a column; the model's and Track20's averted numbers
    on adjacent rows, under group headings; the two ways explained beside it."""
    outcomes = made.soup.find("table", id="outcomes")
    assert made.soup.find(id="outcomes-title").get_text() == (
        "Outcomes planners count: mechanistic and Track20 side by side"
    )
    order = [tr["data-column"] for tr in outcomes.select("tbody tr[data-column]")]
    for indicator in ("unintended_averted", "unsafe_abortions_averted", "maternal_deaths_averted"):
        assert order.index(f"track20_{indicator}") == order.index(indicator) + 1
    groups = [th.get_text(strip=True) for th in outcomes.select("tr.group th")]
    assert len(groups) == 3 and "FP2030 core indicators 6–8" in groups[2]
    heading = outcomes.select_one('tr[data-column="user_years"] th').get_text(strip=True)
    assert heading == "User-years (95% CI)"
    methods = made.soup.find(id="methods").get_text(" ", strip=True)
    for phrase in ("Mechanistic (the model)", "Track20's formula", "user-years ×", "same seeds"):
        assert phrase in methods, phrase


def test_impact_ratios_and_their_sources_are_in_the_report(made):
    methods = made.soup.find(id="methods")
    keys = [dt["data-key"] for dt in methods.select("dl.ratios dt")]
    assert keys == [f"impacts.{name}" for name in Scenario.model_fields["impacts"].annotation.model_fields] + [
        "methods.*.failure_12m"
    ]
    text = methods.get_text(" ", strip=True)
    for source in (
        "Track20",
        "31.0% a year",
        "562 per 100,000 live births",
        "UN MMEIG",
        "Mali DHS 2018",
        "Bearak 2020",
        "Guttmacher",
        "Åhman & Shah 2011",
        "220 per 100,000 unsafe abortions",
        "20.0% (the model's own, women.abortion_share_unintended)",
        "No Malian or Western African figure found",
        "implant 0.6% a year",
        "pill 5.5% a year",
    ):
        assert source in text, source


def test_costs_by_input_and_the_unit_costs_with_their_sources_are_in_the_report(made):
    """The costs table: each category a row, each scenario's own and its increment over the baseline, whose
    categories add up to the incremental cost; the unit costs listed with the sources their fields declare."""
    costs = made.soup.find("table", id="costs")
    rows = [tr["data-column"] for tr in costs.select("tbody tr[data-column]")]
    assert rows == [*COST_BREAKDOWN, *(f"incremental_{name}" for name in COST_BREAKDOWN)]
    for label in ("hrh2030_groups", "donor_exit"):
        parts = [float(td["data-value"]) for td in costs.select(f'td[data-scenario="{label}"][data-column^="incr"]')]
        total = float(
            made.soup.select_one(f'#summary tr[data-scenario="{label}"] td[data-column="incremental_cost"]')[
                "data-value"
            ]
        )
        assert sum(parts) == pytest.approx(total, rel=1e-9)
    listed = made.soup.find(id="unit-costs")
    keys = [dt["data-key"] for dt in listed.select("dt")]
    assert keys == [f"costs.{name}" for name in Costs.model_fields] + [
        "methods.*.unit_cost_usd",
        "methods.*.provider_minutes_first",
        "methods.*.provider_minutes_resupply",
    ]
    text = listed.get_text(" ", strip=True)
    for source in ("Muso 2024", "Chin-Quee 2013", "Sarley", "Aron 2023", "No figure found", "implant 50", "GHSP 2016"):
        assert source in text, source


def test_every_scenario_is_described_with_its_interventions(made):
    for label, scenario in made.comparison.scenarios.items():
        article = made.soup.select_one(f'#scenarios [data-scenario="{label}"]')
        assert article is not None, label
        assert article.select_one("p.description").get_text(strip=True) == scenario.description
        items = {li["data-intervention"]: li.get_text(" ", strip=True) for li in article.select("li")}
        assert set(items) == set(scenario.interventions), label
        for key, iv in scenario.interventions.items():
            assert report_text.describe_intervention(iv, scenario).lower() in items[key].lower()
    scenarios = made.soup.find(id="scenarios")
    assert "No interventions" in scenarios.select_one('[data-scenario="baseline"]').get_text()
    hrh = scenarios.select_one('[data-scenario="hrh2030_groups"] [data-intervention="group_training"]').get_text()
    for phrase in ("capacity building of women's groups", "months 0–8", "50% of groups", "remotest first", "donor"):
        assert phrase in hrh.lower()
    exit_ = scenarios.select_one('[data-scenario="donor_exit"] [data-intervention="donor_exit"]').get_text()
    for phrase in ("donor exits at month 24", "chw visits halve", "supervision stops"):
        assert phrase in exit_.lower()


def test_charts_are_embedded_pngs_of_the_stated_size(made):
    images = made.soup.find_all("img")
    assert len(images) >= 3
    for image in images:
        assert image["src"].startswith("data:image/png;base64,")
        assert len(image["alt"]) > 40
        png = base64.b64decode(image["src"].removeprefix("data:image/png;base64,"), validate=True)
        assert png.startswith(PNG_SIGNATURE)
        assert struct.unpack(">II", png[16:24]) == (900, 450)  # IHDR width and height


def test_report_needs_nothing_from_outside(made):
    html = made.html.lower()
    for external in ('src="http', "src='http", "<link", "<script", "url(", "@import", "<iframe"):
        assert external not in html, external


def test_header_and_footer_name_what_ran(made):
    header = made.soup.find("header").get_text(" ", strip=True)
    for fact in (f"commsim {__version__}", "seeds 1–3", "3 replicates", "36 months", "2,000 households"):
        assert fact in header, fact
    assert f"batch {made.comparison.batch_id}" in header
    assert "common random numbers" in header
    assert made.soup.title.get_text() == "Scenario comparison: " + " vs ".join(ARMS)
    assert made.soup.find("footer").find("code").get_text() == COMMAND
    reading = made.soup.find(id="how-to-read").get_text(" ", strip=True)
    assert "mCPR" in reading and "paired" in reading.lower() and "simulation" in reading


def test_text_from_scenarios_is_escaped(made):
    label = "hrh2030_groups"
    hostile = "<b>bold</b> & <script>alert(1)</script>"
    scenarios = dict(made.comparison.scenarios)
    scenarios[label] = scenarios[label].model_copy(update={"description": hostile})
    comparison = dataclasses.replace(made.comparison, scenarios=scenarios)
    path = report.write_report(comparison, made.summary, made.root / "escaped", title="A & B <i>")
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    description = soup.select_one(f'[data-scenario="{label}"] p.description')
    assert description.get_text() == hostile
    assert description.find("b") is None
    assert soup.find("script") is None
    assert soup.title.get_text() == "A & B <i>"


def test_every_intervention_type_reads_as_a_sentence():
    scenario = Scenario.model_validate(
        {
            "groups": {"training_coverage": 0.3},
            "interventions": {
                "train": {"type": "capacity_building", "end_month": 12, "delivered_by": "ngo"},
                "link": {"type": "linkage", "to_chw": False, "strength": 0.5, "coverage": 0.25},
                "voice": {"type": "advocacy", "start_month": 6, "funded_by": "government"},
                "chws": {
                    "type": "chw_scale_up",
                    "coverage": 0.75,
                    "remote_first": True,
                    "visits_per_month": 20.0,
                    "hours_per_month": 48.0,
                },
                "supply": {"type": "supply_improvement", "stock_reliability": 0.9, "rel_capacity": 2.0},
                "exit": {"type": "donor_exit", "start_month": 18, "rel_chw_visits": 0.25},
                "feedback": {"type": "feedback", "start_month": 20},
                "record": {"type": "shared_record", "start_month": 3, "funded_by": "government", "coverage": 0.5},
                "men": {"type": "male_engagement", "coverage": 0.4, "remote_first": True},
                "leaders": {"type": "leader_engagement", "p_buy_in": 0.5},
                "watch": {"type": "community_monitoring", "extra_chw_hours_per_month": 300.0},
                "found": {"type": "co_creation", "inclusive": True},
                "coordinate": {"type": "coordination", "coverage": 0.5},
                "networks": {"type": "community_networks"},
            },
        }
    )
    text = {key: report_text.describe_intervention(iv, scenario) for key, iv in scenario.interventions.items()}
    assert {iv.type for iv in scenario.interventions.values()} == set(INTERVENTION_TYPES)
    expected = {
        "train": (
            "capacity building of women's groups by an NGO",
            "facilitators as needed, each convening 13 groups a month",
            "months 0–12",
            "30% of groups",
            "donor-funded",
        ),
        "link": ("to the health facility", "strength ×0.5", "25% of groups, chosen at random", "months 0–18"),
        "voice": ("advocacy", "from month 6", "all groups", "government-funded"),
        "chws": (
            "CHW deployment",
            "20 household visits a month",
            "48 working hours a month",
            "75% of villages, remotest first",
        ),
        "supply": ("stock reliability raised to 90%", "capacity ×2", "all facilities"),
        "exit": (
            "donor exits at month 18",
            "interventions end (link, chws, supply, men, leaders, watch, found, coordinate, networks)",
            "CHW visits fall to 25%",
        ),
        "feedback": ("feed members' bad service experiences back", "community scorecard", "never runs"),
        "record": ("one referral record", "from month 3", "50% of groups", "government-funded"),
        "men": ("sensitise their villages' men and husbands", "40% of groups, remotest first"),
        "leaders": ("village leaders engaged (50% move a step", "all villages"),
        "watch": ("report members' unmet need", "every 3 months moves 300 CHW hours", "worst-reported 25%"),
        "found": ("co-created with local people", "seeking out the poorest women", "all villages"),
        "coordinate": ("coordinate monthly and share resources", "50% of groups"),
        "networks": ("youth clubs carry FP messages", "all villages"),
    }
    for key, phrases in expected.items():
        for phrase in phrases:
            assert phrase in text[key], (key, phrase, text[key])
    assert "supervision stops" in text["exit"]
    assert "train" not in text["exit"]  # it ended at month 12, before the exit
    assert "voice" not in text["exit"]  # government-funded: the donor's exit does not end it
    assert "their CHW" not in text["link"]


@pytest.mark.parametrize(
    ("formatter", "value", "expected"),
    [
        (formats.fmt_share, 0.21166, "21.2%"),
        (formats.fmt_pp, 4.0, "+4.0 pp"),
        (formats.fmt_pp, -0.04, "0.0 pp"),
        (formats.fmt_users, 1203.4, "+1,203"),
        (formats.fmt_usd, 1234567.8, "US$1,234,568"),
        (formats.fmt_usd, float("nan"), "—"),
        (formats.fmt_sustainability, "held", "held"),
        (formats.fmt_sustainability, "7", "7 months"),
        (formats.fmt_sustainability, "1", "1 month"),
        (formats.fmt_sustainability, "", ""),
        (formats.raw, 0.1 + 0.2, "0.30000000000000004"),
        (formats.raw, float("nan"), "nan"),
    ],
)
def test_formatting(formatter, value, expected):
    assert formatter(value) == expected


def test_write_report_rejects_a_summary_without_its_columns(made, tmp_path: Path):
    with pytest.raises(ValueError, match="cost_per_additional_user_year"):
        report.write_report(made.comparison, made.summary.drop(columns="cost_per_additional_user_year"), tmp_path)

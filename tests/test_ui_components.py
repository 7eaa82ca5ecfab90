"""The browser app without a browser: its levers and what they set, the live page's model (step, play, levers,
bad input), the Compare page (stored and new comparisons, bad input, an unreadable database), the Sweeps page,
the charts and the map, and `commsim ui` (registered here on a local Typer app: the lead registers it in cli.py).

Pages are rendered with `solara.render` and driven through their widgets, as a browser would."""

import json
import socket
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import ClassVar

import ipyvuetify as v
import numpy as np
import pandas as pd
import pytest
import solara
import typer
from solara.widgets import HTML
from typer.testing import CliRunner

from commsim.cli.ui import server_command, server_env, ui
from commsim.reports import comparison as report
from commsim.results import effects
from commsim.runs.compare import comparison_seeds, resolve_arms, run_comparison
from commsim.runs.executors import Executor, serial
from commsim.runs.experiment import load_experiment
from commsim.runs.run import run_scenario
from commsim.runs.sweep import run_sweep
from commsim.scenario.district import read_district
from commsim.scenario.loader import load_scenario, shipped_scenarios
from commsim.store import database as store
from commsim.ui import charts, compare_page, levers, live, scenarios, stored, sweeps_page
from commsim.ui.district_map import HOUSEHOLD_STATES, DistrictMap, household_states, sample
from commsim.ui.session import CHARTS, LiveRun

SMALL = {"population.households": 1500, "population.villages": 12, "population.facilities": 3, "months": 12}
ARMS = ("baseline", "hrh2030_groups", "donor_exit")
GRID = """name = "tiny_grid"
description = "A tiny grid for the UI tests."
scenario = "hrh2030_groups"
months = 12
replicates = 2
seed = 1
outputs = ["mcpr", "cost_cumulative"]

[set]
"population.households" = 1500
"population.villages" = 12
"population.facilities" = 3

[design]
kind = "grid"

[parameters."groups.training_coverage"]
values = [0.0, 0.5, 1.0]

[parameters."chws.coverage"]
values = [0.2, 0.8]
"""


def fill_store(url: str, workdir: Path) -> dict[str, int]:
    """A database with one small comparison (3 scenarios x 3 seeds, 12 months) and one small sweep (a 3 x 2 grid,
    2 replicates); returns their batch ids. Serial runs: a few seconds once the kernels are compiled."""
    results = store.open_store(url)
    arms, base = resolve_arms(list(ARMS), None, SMALL)
    comparison = run_comparison(arms, base, comparison_seeds(3, 1), store=results, workers=1)
    experiment = workdir / "tiny_grid.toml"
    experiment.write_text(GRID, encoding="utf-8")
    outcome = run_sweep(load_experiment(experiment), results, Executor(serial, "this process", 1))
    results.engine.dispose()
    return {"compare": comparison.batch_id, "sweep": outcome.batch_id}


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> tuple[str, dict[str, int]]:
    workdir = tmp_path_factory.mktemp("ui-store")
    url = f"sqlite:///{workdir / 'ui.db'}"
    return url, fill_store(url, workdir)


SECRET = "s3cret-pw"  # a password in the database URL: no page, message or download may show it


def with_password(url: str) -> str:
    """A test PostgreSQL URL with a password (the test server trusts local connections and ignores it)."""
    return url.replace("postgres@", f"postgres:{SECRET}@", 1)


@pytest.fixture(scope="module")
def pg_filled(pg_server, tmp_path_factory) -> tuple[str, dict[str, int]]:
    """`filled` on PostgreSQL, its URL carrying a password."""
    name = pg_server.create_database()
    url = with_password(pg_server.url(name))
    yield url, fill_store(url, tmp_path_factory.mktemp("ui-pg"))
    pg_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def stored_db(request, monkeypatch) -> tuple[str, dict[str, int]]:
    """The filled database as the app's, on SQLite and on PostgreSQL."""
    url, ids = request.getfixturevalue("filled" if request.param == "sqlite" else "pg_filled")
    monkeypatch.setenv("COMMSIM_DB", url)
    return url, ids


def page_text(rc) -> str:
    """Everything the page sends to the browser, as text: the state of every widget in its tree."""
    import ipywidgets

    def inner(value):
        if isinstance(value, ipywidgets.Widget):
            yield value
        elif isinstance(value, list | tuple):
            for item in value:
                yield from inner(item)
        elif isinstance(value, dict):
            for item in value.values():
                yield from inner(item)

    stack, seen, parts = [rc.find(ipywidgets.Widget).widget], set(), []
    while stack:
        widget = stack.pop()
        if widget.model_id in seen:
            continue
        seen.add(widget.model_id)
        parts.append(json.dumps(widget.get_state(), default=repr))
        for key in widget.keys:
            stack.extend(inner(getattr(widget, key)))
    return "\n".join(parts)


@pytest.fixture
def database(filled, monkeypatch) -> tuple[str, dict[str, int]]:
    """The filled database as the app's (what `commsim ui --db URL` passes on as COMMSIM_DB)."""
    monkeypatch.setenv("COMMSIM_DB", filled[0])
    return filled


def wait_for(condition, timeout: float = 60.0) -> None:
    """Poll until `condition()` is true (pages that run work in a thread)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the page")
        time.sleep(0.05)


def html_with_class(rc, name: str) -> list:
    return [w for w in rc.find(HTML).widgets if name in (w.attributes or {}).get("class", "").split()]


def alerts(rc) -> list[str]:
    return [" ".join(map(str, a.children)) for a in rc.find(v.Alert).widgets]


def select(rc, label: str, value) -> None:
    widget = rc.find(v.Select, label=label).widget
    widget.v_model = value


def type_into(rc, label: str, text: str) -> None:
    field = rc.find(v.TextField, label=label).widget
    field.v_model = text
    field.fire_event("keyup.enter", None)


def file_bytes(url: str) -> bytes:
    return Path(url.removeprefix("sqlite:///")).read_bytes()


# --- levers ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", shipped_scenarios(), ids=lambda p: p.stem)
def test_untouched_levers_set_nothing(path):
    scenario = load_scenario(path)
    assert levers.overrides(scenario, levers.defaults(scenario)) == {}
    for lever in levers.LEVERS:
        low, high = levers.lever_range(lever, scenario)
        assert low <= levers.defaults(scenario)[lever.name] <= high


def test_levers_set_the_scenario_keys_and_add_missing_programmes():
    base = load_scenario("baseline")
    moved = {"training": 0.6, "linkage": 2.0, "chw_coverage": 0.9, "chw_visits": 45.0, "supply": 0.95, "donor_exit": 24}
    config = load_scenario(base, levers.overrides(base, moved))
    assert config.groups.training_coverage == 0.6
    assert config.chws.coverage == 0.9 and config.chws.visits_per_month == 45.0
    assert config.facilities.stock_reliability == 0.95
    kinds = {name: iv.type for name, iv in config.interventions.items()}
    assert kinds == {"ui_group_training": "capacity_building", "ui_linkage": "linkage", "ui_donor_exit": "donor_exit"}
    assert config.interventions["ui_linkage"].strength == 2.0
    assert config.interventions["ui_donor_exit"].start_month == 24
    assert levers.defaults(config) == {**levers.defaults(base), **moved}


def test_lever_ranges_are_schema_bounds_and_added_programmes_are_the_shipped_ones():
    base = load_scenario("baseline")
    ranges = {lever.name: levers.lever_range(lever, base) for lever in levers.LEVERS}
    assert ranges["training"] == (0.0, 1.0) and ranges["supply"] == (0.0, 1.0)
    assert ranges["linkage"] == levers.bounds("Linkage.strength") == (0.0, 5.0)
    assert ranges["chw_visits"] == levers.bounds("chws.visits_per_month")
    assert ranges["donor_exit"] == (0.0, float(base.months))
    config = load_scenario(base, levers.overrides(base, {"training": 0.5}))
    shipped = load_scenario("capacity_only").interventions["group_training"]
    assert config.interventions["ui_group_training"] == shipped
    with pytest.raises(KeyError, match="no lower and upper bound"):
        levers.bounds("Linkage.to_chw")


def test_levers_act_on_the_scenarios_own_programmes():
    exit_scenario = load_scenario("donor_exit")
    keys = levers.overrides(exit_scenario, {"donor_exit": exit_scenario.months, "linkage": 0.5})
    assert keys == {"interventions.donor_exit.start_month": 60, "interventions.monthly_follow_up.strength": 0.5}
    scale_up = load_scenario("chw_scale_up")
    keys = levers.overrides(scale_up, {"chw_visits": 50.0})
    assert keys == {"chws.visits_per_month": 50.0, "interventions.scale_up.visits_per_month": 50.0}
    with pytest.raises(levers.LeverError, match="levers: unknown coverage"):
        levers.overrides(scale_up, {"coverage": 1.0})


def test_lever_evidence_is_the_schemas_own_words():
    for lever in levers.LEVERS:
        assert lever.what and all(text for _, text in levers.evidence(lever))
    assert "Fottrell 2013" in levers.describe("groups.p_member")
    assert "Ngugi 2018" in levers.describe("chws.rel_attrition_no_refresher")
    assert levers.describe("DonorExit").startswith("The donor leaves at start_month")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0", "households: must be a whole number from 100 to 1,000,000 (got 0)"),
        ("abc", "households: must be a whole number from 100 to 1,000,000 (got 'abc')"),
        ("", "households: is empty; a whole number from 100 to 1,000,000"),
        ("2.5", "(got '2.5')"),
    ],
)
def test_bad_households_are_named(text, message):
    with pytest.raises(levers.LeverError) as caught:
        levers.parse_households(text)
    assert message in str(caught.value)


def test_typed_numbers():
    assert levers.parse_households(" 20,000 ") == 20_000
    assert levers.parse_seed("7") == 7


def test_a_live_run_is_repeated_by_its_command_line():
    settings = live.Settings("hrh2030_groups", {"training": 0.8, "donor_exit": 6}, "1500", "5")
    run = live.build(settings)
    for _ in range(8):
        run.step()
    line = live.command(run)
    assert line.startswith("commsim run hrh2030_groups --set groups.training_coverage=0.8 ")
    assert "--set population.households=1500" in line and line.endswith("--seed 5")
    again = run_scenario("hrh2030_groups", months=8, overrides=run.settings).timeseries
    pd.testing.assert_frame_equal(run.model.timeseries(), again)


def test_a_district_from_files_keeps_its_households_and_says_so():
    """On example_district the page builds the district's own households, and a typed count is refused with a
    message naming the field and why, instead of being silently replaced by the files'."""
    settings = live.initial_settings("example_district")
    run = live.build(settings)
    assert run.scenario.population.households == int(settings.households) > 10_000
    with pytest.raises(levers.LeverError, match="households: set by the district's files"):
        live.build(live.Settings("example_district", settings.values, "5000", settings.seed))


# --- charts and map ------------------------------------------------------------------------------------------


def test_chart_is_well_formed_svg_with_its_series():
    svg = charts.line_chart(
        "mcpr",
        "mCPR <test>",
        [charts.Series("mCPR", [0.1, 0.12, 0.13], "#000"), charts.Series("before", [0.1, 0.11], "#999", dashed=True)],
        horizon=60,
        month=2,
        percent=True,
    )
    root = ET.fromstring(svg)
    ns = {"s": "http://www.w3.org/2000/svg"}
    assert root.get("data-chart") == "mcpr" and root.get("data-month") == "2"
    lines = {p.get("data-series"): p.get("points").split() for p in root.iterfind("s:polyline", ns)}
    assert [len(points) for points in lines.values()] == [3, 2]
    assert charts.nice_ceiling(0.13) == 0.2 and charts.nice_ceiling(187) == 200 and charts.nice_ceiling(0) == 1.0


def test_map_draws_households_by_state_and_changes_as_months_pass():
    run = LiveRun(load_scenario("hrh2030_groups", {"population.households": 30_000}))
    assert sample(30_000).size == 20_000 and sample(50).size == 50
    first = run.map_png()
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    hh = run.model.district.households
    states = household_states(hh.source, hh.need)
    users = np.count_nonzero(states <= 1)
    assert users == run.latest["users"]
    assert np.count_nonzero(states == 2) == np.count_nonzero((hh.need == 1) & (hh.source == 0))
    assert len(HOUSEHOLD_STATES) == 4
    for _ in range(3):
        run.step()
    assert run.map_png() != first
    assert isinstance(run.map, DistrictMap)
    assert [spec.key for spec in CHARTS] == ["mcpr", "flows", "community", "trust", "distance", "wealth"]


def test_the_map_of_a_district_from_files_draws_its_boundary():
    """On example_district the live map draws the district's boundary in place of the synthetic square: the
    pixels just inside it are the map's fill, those outside are white."""
    run = LiveRun(load_scenario("example_district"))
    ring = read_district("districts/example", 7.8).boundary[0]
    ax = run.map.ax
    inside = ax.transData.transform(ring.mean(axis=0))
    corner = ax.transData.transform((0.0, ring[:, 1].max() + 1.0))
    image = np.asarray(run.map.background)
    height = image.shape[0]

    def pixel(point) -> tuple[int, ...]:
        return tuple(image[height - int(point[1]), int(point[0]), :3])

    assert pixel(corner) == (255, 255, 255) and pixel(inside) != (255, 255, 255)
    assert run.map_png()[:8] == b"\x89PNG\r\n\x1a\n"


# --- the live page -------------------------------------------------------------------------------------------


@pytest.fixture
def live_page():
    _, rc = solara.render(live.LivePage(), handle_error=False)
    yield rc
    rc.close()


def month_shown(rc) -> int:
    return int(html_with_class(rc, "commsim-status")[0].attributes["data-month"])


def chart(rc, key: str) -> ET.Element:
    for widget in rc.find(HTML).widgets:
        text = widget.unsafe_innerHTML or ""
        if f'data-chart="{key}"' in text:
            root = ET.fromstring(f"<div>{text}</div>")
            return next(svg for svg in root if svg.get("data-chart") == key)
    raise AssertionError(f"no chart {key}")


def test_step_advances_the_month_the_charts_and_the_map(live_page):
    rc = live_page
    assert month_shown(rc) == 0
    map_before = _map_bytes(rc)
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert month_shown(rc) == 1
    svg = chart(rc, "mcpr")
    assert svg.get("data-month") == "1"
    ns = "{http://www.w3.org/2000/svg}"
    mcpr_line = next(p for p in svg.iter(f"{ns}polyline") if p.get("data-series") == "mCPR")
    assert len(mcpr_line.get("points").split()) == 2
    assert _map_bytes(rc) != map_before


def _map_bytes(rc) -> bytes:
    import ipywidgets

    images = [w for w in rc.find(ipywidgets.Image).widgets if "commsim-map" in w._dom_classes]
    assert len(images) == 1
    return bytes(images[0].value)


def test_moving_a_lever_rebuilds_the_district_with_it(live_page):
    rc = live_page
    rc.find(v.Btn, children=["Step"]).widget.click()
    slider = rc.find(v.Slider, class_="commsim-slider-training").widget
    slider.v_model = 0.8
    slider.fire_event("change", 0.8)
    assert month_shown(rc) == 0
    assert rc.find(v.Html, tag="pre").widget.children == [
        "commsim run hrh2030_groups --set groups.training_coverage=0.8"
    ]
    mcpr = chart(rc, "mcpr")
    series = [p.get("data-series") for p in mcpr.iter("{http://www.w3.org/2000/svg}polyline")]
    assert series == ["mCPR", "unmet need", "mCPR, before"]  # the replaced run stays, dashed


def test_choosing_a_scenario_resets_the_levers_to_its_own(live_page):
    rc = live_page
    select(rc, "Scenario", "supply_fix")
    assert rc.find(v.Html, tag="pre").widget.children == ["commsim run supply_fix"]
    assert rc.find(v.Slider, class_="commsim-slider-training").widget.v_model == 0.0


@pytest.mark.parametrize(("typed", "shown"), [("0", "(got 0)"), ("abc", "(got 'abc')"), ("", "is empty")])
def test_bad_households_show_a_message_and_the_run_goes_on(live_page, typed, shown):
    rc = live_page
    rc.find(v.Btn, children=["Step"]).widget.click()
    type_into(rc, "Households", typed)
    field = rc.find(v.TextField, label="Households").widget
    assert field.error and shown in field.messages[0] and field.messages[0].startswith("households: ")
    assert any(shown in text for text in alerts(rc))
    assert month_shown(rc) == 1  # the run is untouched and still steps
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert month_shown(rc) == 2
    type_into(rc, "Households", "3000")  # a good value clears the message and rebuilds
    assert month_shown(rc) == 0 and not alerts(rc)
    assert "--set population.households=3000" in rc.find(v.Html, tag="pre").widget.children[0]


@pytest.fixture
def foreign_files(tmp_path) -> list[Path]:
    """Files a page user might name: a TOML-like file with a value to steal, and a path that does not exist."""
    secret = tmp_path / "private.toml"
    secret.write_text('name = "private"\n[population]\nhouseholds = "hunter2"\n', encoding="utf-8")
    return [secret, tmp_path / "missing.toml", Path("/etc/passwd")]


@pytest.fixture
def opened() -> list[str]:
    """Every file this process opens while the test runs (Python's audit hook for open: the real event)."""
    import sys

    seen: list[str] = []
    active = [True]

    def hook(event: str, args: tuple) -> None:
        if active[0] and event == "open" and isinstance(args[0], str | Path):
            seen.append(str(args[0]))

    sys.addaudithook(hook)
    yield seen
    active[0] = False  # audit hooks cannot be removed: this one goes quiet


REFUSED = (
    "scenario: not one of the scenarios offered here (shipped, or calibrated in results/): choose one from the list"
)


def test_live_page_opens_no_scenario_file_the_browser_names(live_page, foreign_files, opened):
    """A client sets the scenario picker to paths of its choosing: nothing is opened, and the message is the same
    whether the file exists or not, and shows nothing of its content."""
    rc = live_page
    rc.find(v.Btn, children=["Step"]).widget.click()
    for path in foreign_files:
        select(rc, "Scenario", str(path))
        assert alerts(rc) == [REFUSED]
        assert month_shown(rc) == 1  # the current run goes on
    assert not [name for name in opened if any(str(path) in name for path in foreign_files)]
    assert "hunter2" not in page_text(rc)
    assert rc.find(v.Html, tag="pre").widget.children == ["commsim run hrh2030_groups"]
    select(rc, "Scenario", "supply_fix")  # an offered one still works
    assert not alerts(rc) and rc.find(v.Html, tag="pre").widget.children == ["commsim run supply_fix"]


def test_compare_page_opens_no_scenario_file_the_browser_names(database, foreign_files, opened):
    url, _ = database
    before = file_bytes(url)
    _, rc = solara.render(compare_page.ComparePage(), handle_error=False)
    for path in foreign_files:
        for label, value in (("Scenarios", [str(path)]), ("Baseline", str(path))):
            rc.find(v.Select, label=label).widget.v_model = value
            rc.find(v.Btn, children=["Run comparison"]).widget.click()
            assert alerts(rc)[-1] == REFUSED
            rc.find(v.Select, label="Scenarios").widget.v_model = ["hrh2030_groups"]
            rc.find(v.Select, label="Baseline").widget.v_model = "baseline"
    time.sleep(0.2)
    assert not [name for name in opened if any(str(path) in name for path in foreign_files)]
    assert "hunter2" not in page_text(rc) and file_bytes(url) == before
    rc.close()


@pytest.mark.slow
def test_play_steps_until_paused(live_page):
    rc = live_page
    select(rc, "Speed", "fast: 10 a second")
    rc.find(v.Btn, children=["Play"]).widget.click()
    wait_for(lambda: month_shown(rc) >= 3, timeout=30)
    rc.find(v.Btn, children=["Pause"]).widget.click()
    time.sleep(0.3)
    paused = month_shown(rc)
    time.sleep(0.5)
    assert month_shown(rc) == paused
    assert not rc.find(v.Btn, children=["Step"]).widget.disabled


# --- the Compare page ----------------------------------------------------------------------------------------


def test_a_stored_comparison_loads_as_compare_summarises_it(database):
    url, ids = database
    results = store.open_store(url, create=False)
    comparison = stored.load_comparison(results, ids["compare"])
    assert list(comparison.scenarios) == list(ARMS) and comparison.baseline == "baseline"
    assert comparison.seeds == [1, 2, 3] and len(comparison.run_ids) == 9
    arms, base = resolve_arms(list(ARMS), None, SMALL)
    again = run_comparison(arms, base, comparison_seeds(3, 1), store=None, workers=1)
    mine = effects.summarise(comparison.frame, "baseline", comparison.exits())
    theirs = effects.summarise(again.frame, "baseline", again.exits())
    pd.testing.assert_frame_equal(mine, theirs)


def test_compare_page_shows_a_stored_comparison(stored_db):
    url, ids = stored_db
    _, rc = solara.render(compare_page.ComparePage(), handle_error=False)
    label = rc.find(v.Select, label="Load a stored comparison").widget
    assert label.items[-1].startswith(f"#{ids['compare']} baseline vs hrh2030_groups vs donor_exit: 9 runs")
    label.v_model = label.items[-1]
    text = "".join(w.unsafe_innerHTML or "" for w in rc.find(HTML).widgets)
    assert 'class="commsim-summary commsim-table-summary"' in text
    for name in ARMS:
        assert f'data-scenario="{name}"' in text
    assert 'data-column="cost_per_additional_user_year"' in text and 'data-column="sustainability"' in text
    assert 'data-column="cost_per_additional_user"' not in text
    assert 'data-table="costs"' in text and 'data-column="incremental_cost_provider_time"' in text
    assert text.count('class="commsim-summary') == len(report.TABLES)  # the report's tables
    for column in ("unintended_averted", "track20_unintended_averted", "maternal_deaths_averted", "user_years"):
        assert f'data-scenario="hrh2030_groups" data-column="{column}"' in text, column
    assert 'data-scenario="baseline" data-column="unintended_averted" data-value="0.0" ' in text
    labels = {str(child) for w in rc.find(v.Btn).widgets for child in w.children if isinstance(child, str)}
    downloads = {label for label in labels if label.startswith("Download")}
    assert downloads == {"Download summary.csv", "Download report.html"}
    assert f"Database: {store.shown_url(url)}" in page_text(rc) and SECRET not in page_text(rc)
    rc.close()


def test_compare_page_loads_only_a_comparison_it_listed(database):
    """A client sends a label the list did not offer: nothing is loaded, no error, the page goes on."""
    _, ids = database
    _, rc = solara.render(compare_page.ComparePage(), handle_error=False)
    chooser = rc.find(v.Select, label="Load a stored comparison").widget
    for foreign in ("#abc", "", f"#{ids['sweep']} tiny_grid: 12 runs"):
        chooser.v_model = foreign
        assert "commsim-summary" not in page_text(rc) and not alerts(rc)
    chooser.v_model = chooser.items[-1]
    assert "commsim-summary" in page_text(rc)
    rc.close()


def test_the_report_of_a_stored_comparison_hides_the_database_password(pg_filled, monkeypatch):
    """The report embeds how the comparison came about ("stored comparison N in URL"): the password hidden."""
    url, ids = pg_filled
    monkeypatch.setenv("COMMSIM_DB", url)
    shown = compare_page.load(ids["compare"])
    html = report.render(shown.comparison, shown.summary, title=shown.title, command=shown.command)
    assert f"stored comparison {ids['compare']} in {store.shown_url(url)}" in html
    assert SECRET not in html and SECRET not in shown.summary.to_csv(index=False)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_compare_page_runs_and_stores_a_comparison(kind, tmp_path, monkeypatch, request):
    url = f"sqlite:///{tmp_path / 'fresh.db'}" if kind == "sqlite" else with_password(request.getfixturevalue("pg_url"))
    monkeypatch.setenv("COMMSIM_DB", url)
    monkeypatch.setattr(compare_page, "default_workers", lambda: 1)  # in this process: no worker start-up
    _, rc = solara.render(compare_page.ComparePage(), handle_error=False)
    rc.find(v.Select, label="Scenarios").widget.v_model = ["hrh2030_groups"]
    for label, value in (("Replicates", "2"), ("Households", "800"), ("Months", "6"), ("First seed", "3")):
        type_into(rc, label, value)
    rc.find(v.Btn, children=["Run comparison"]).widget.click()
    wait_for(lambda: any("stored as comparison" in text for text in alerts(rc)))
    assert any(text.endswith(f" in {store.shown_url(url)}") for text in alerts(rc)) and SECRET not in page_text(rc)
    results = store.open_store(url, create=False)
    batches = store.list_batches(results, "compare")
    assert list(batches["runs"]) == [4]
    shown = stored.load_comparison(results, int(batches["id"].iloc[0]))
    assert shown.seeds == [3, 4] and list(shown.scenarios) == ["baseline", "hrh2030_groups"]
    results.engine.dispose()
    rc.close()


@pytest.mark.parametrize(
    ("label", "typed", "message"),
    [
        ("Replicates", "abc", "replicates: must be a whole number from 1 to 200 (got 'abc')"),
        ("Households", "0", "households: must be a whole number from 100 to 1,000,000 (got 0)"),
        ("Months", "", "months: is empty"),
    ],
)
def test_bad_compare_input_runs_and_stores_nothing(database, label, typed, message):
    url, _ = database
    before = file_bytes(url)
    _, rc = solara.render(compare_page.ComparePage(), handle_error=False)
    type_into(rc, label, typed)
    rc.find(v.Btn, children=["Run comparison"]).widget.click()
    assert any(message in text for text in alerts(rc))
    field = rc.find(v.TextField, label=label).widget
    assert field.error and message in field.messages[0]
    time.sleep(0.2)
    assert file_bytes(url) == before
    rc.close()


@pytest.mark.parametrize("kind", ["not a database", "a directory", "missing"])
def test_unreadable_database_is_a_message_and_stays_as_it_was(tmp_path, monkeypatch, kind):
    path = tmp_path / "results.db"
    if kind == "not a database":
        path.write_bytes(b"this is not SQLite\n" * 100)
    elif kind == "a directory":
        path.mkdir()
    monkeypatch.setenv("COMMSIM_DB", f"sqlite:///{path}")
    before = path.read_bytes() if path.is_file() else None
    for page in (compare_page.ComparePage, sweeps_page.SweepsPage):
        _, rc = solara.render(page(), handle_error=False)
        shown = alerts(rc)
        if kind == "missing":  # nothing stored yet: said plainly, and no file is made
            assert len(shown) == 1 and shown[0].startswith("No stored ")
        else:
            assert len(shown) == 1 and shown[0].startswith(f"database sqlite:///{path}")
        rc.close()
    _, rc = solara.render(live.LivePage(), handle_error=False)  # the live page does not need the database
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert month_shown(rc) == 1
    rc.close()
    assert (path.read_bytes() if path.is_file() else None) == before
    assert path.exists() == (kind != "missing")


# --- the Sweeps page -----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_sweeps_page_shows_heatmap_sensitivity_and_runs(stored_db):
    import ipywidgets

    url, ids = stored_db
    _, rc = solara.render(sweeps_page.SweepsPage(), handle_error=False)
    sweep = rc.find(v.Select, label="Sweep").widget
    assert sweep.items == [f"#{ids['sweep']} tiny_grid: 12 runs, " + sweep.items[0].split(", ")[-1]]
    sweep.v_model = sweep.items[0]
    images = {c for w in rc.find(ipywidgets.Image).widgets for c in w._dom_classes if c.startswith("commsim-")}
    assert images == {"commsim-heatmap", "commsim-sensitivity", "commsim-effects"}
    assert any("all 12 planned runs stored" in text for text in alerts(rc))
    table = sweeps_page.runs_table(sweeps_page.load(ids["sweep"]), "mcpr")
    swept = ["groups.training_coverage", "chws.coverage"]
    assert list(table.columns) == ["point", *swept, "mcpr_mean", "mcpr_sd", "mcpr_n"]
    assert len(table) == 6 and (table["mcpr_n"] == 2).all()
    select(rc, "Outcome (final month)", "cost_cumulative")
    select(rc, "Rows", "chws.coverage")
    assert rc.find(v.Select, label="Columns").widget.v_model == "groups.training_coverage"
    assert f"Database: {store.shown_url(url)}" in page_text(rc) and SECRET not in page_text(rc)
    rc.close()


# --- commsim ui ---------------------------------------------------------------------------------------------


@pytest.fixture
def ui_app() -> typer.Typer:
    app = typer.Typer()
    app.command()(ui)
    return app


class FakeServer:
    """Stands in for the server process in tests of what `commsim ui` refuses: records any start."""

    started: ClassVar[list[tuple[list[str], dict[str, str]]]] = []

    def __init__(self, argv, env, **_options):
        FakeServer.started.append((argv, env))


def test_the_server_is_solara_run_of_the_app_offline():
    """What `commsim ui` starts (tests/test_ui_server.py starts it for real): `solara run commsim.ui.app` through
    commsim.ui.serve, without telemetry or a version check, with the database and the token if any."""
    port = free_port()
    argv = server_command("127.0.0.1", port)
    assert argv[1:3] == ["-m", "commsim.ui.serve"]
    assert argv[argv.index("--host") + 1] == "127.0.0.1" and argv[argv.index("--port") + 1] == str(port)
    assert "--no-check-version" in argv and "--production" in argv and "--no-open" in argv
    env = server_env("sqlite:///x.db", {"COMMSIM_UI_TOKEN": "old"})
    assert env == {"SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False", "COMMSIM_DB": "sqlite:///x.db"}
    assert server_env(None, {}, token="t") == {"SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False", "COMMSIM_UI_TOKEN": "t"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_ui_refuses_a_port_in_use(ui_app, monkeypatch):
    monkeypatch.setattr(subprocess, "Popen", FakeServer)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(ui_app, ["--port", str(port)])
    assert result.exit_code == 2
    assert f"--host 127.0.0.1 --port {port}: cannot listen there (in use); try --port {port + 1}" in result.output


@pytest.mark.parametrize(
    ("db", "message"),
    [
        ("not a url", "--db 'not a url': not a database URL (e.g. sqlite:///"),
        (f"post gres://me:{SECRET}@host/db", "--db 'post gres://me:***@host/db': not a database URL (e.g. sqlite:///"),
        (f"postgresql://me:{SECRET}@host:x/db", "--db 'postgresql://me:***@host:x/db': the port must be a number"),
    ],
)
def test_ui_refuses_a_bad_database_url(ui_app, monkeypatch, db, message):
    monkeypatch.setattr(subprocess, "Popen", FakeServer)
    FakeServer.started.clear()
    result = CliRunner().invoke(ui_app, ["--port", str(free_port()), "--db", db])
    assert result.exit_code == 2 and message in result.output, result.output
    assert SECRET not in result.output and "Traceback" not in result.output
    assert FakeServer.started == []


def test_ui_refuses_to_start_without_offline_assets(ui_app, monkeypatch, tmp_path):
    from commsim.cli import ui as cli_ui

    monkeypatch.setattr(subprocess, "Popen", FakeServer)
    monkeypatch.setattr(cli_ui, "assets_dir", lambda: tmp_path)
    FakeServer.started.clear()
    result = CliRunner().invoke(ui_app, ["--port", str(free_port())])
    assert result.exit_code == 2 and "pip install solara-assets" in result.output
    assert FakeServer.started == []


def test_compare_page_offers_and_runs_a_calibrated_scenario(tmp_path, monkeypatch):
    """A scenario written by `commsim calibrate` (results/*calibrated*.toml where the app runs) is offered on the
    Compare page and compared like a shipped one."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").mkdir()
    calibrated = tmp_path / "results" / "baseline-calibrated-test.toml"
    calibrated.write_text(
        f'extends = "{shipped_scenarios()[0].parent / "baseline.toml"}"\n'
        'name = "baseline-calibrated"\n[households]\nrel_stop = 0.6\n'
        '[calibration]\ntargets = "test"\ndate = "2026-11-23"\nloss = 0.1\nstudy = "s"\ntrials = 5\nseed = 1\n'
        "replicates = 1\nmonths = 12\n"
        '[[calibration.parameters]]\nkey = "households.rel_stop"\n'
        "value = 0.03\nlow = 0.01\nhigh = 0.05\n",
        encoding="utf-8",
    )
    path = "results/baseline-calibrated-test.toml"
    assert path in scenarios.scenario_names()
    url = f"sqlite:///{tmp_path / 'cal.db'}"
    monkeypatch.setenv("COMMSIM_DB", url)
    monkeypatch.setattr(compare_page, "default_workers", lambda: 1)
    _, rc = solara.render(compare_page.ComparePage(), handle_error=False)
    rc.find(v.Select, label="Scenarios").widget.v_model = [path]
    for label, value in (("Replicates", "2"), ("Households", "800"), ("Months", "6"), ("First seed", "3")):
        type_into(rc, label, value)
    rc.find(v.Btn, children=["Run comparison"]).widget.click()
    wait_for(lambda: any("stored as comparison" in text for text in alerts(rc)))
    results = store.open_store(url, create=False)
    shown = stored.load_comparison(results, int(store.list_batches(results, "compare")["id"].iloc[0]))
    assert list(shown.scenarios) == ["baseline", "baseline-calibrated"]
    assert shown.scenarios["baseline-calibrated"].calibration.targets == "test"
    rc.close()


# --- Mesa's own SolaraViz ------------------------------------------------------------------------------------------


def test_mesa_solaraviz_steps_and_resets_the_model_with_its_parameters():
    """Mesa's SolaraViz drives CommunityHealthModel with no special case: Step advances it, a moved parameter
    slider and Reset build a new district of that size and seed, and it then steps as a fresh model does."""
    from mesa.visualization import SolaraViz

    from commsim.model.community import CommunityHealthModel

    tiny = {"population__villages": 8, "population__facilities": 2, "check_memory": False}
    model = solara.reactive(CommunityHealthModel("baseline", rng=3, population__households=500, **tiny))
    households = {"type": "SliderInt", "value": 500, "min": 300, "max": 1200, "step": 100, "label": "households"}
    params = {"population__households": households, "rng": 5, **tiny}

    @solara.component
    def Page():
        with solara.AppLayout():
            SolaraViz(model, components=[], model_params=params)

    _, rc = solara.render(Page(), handle_error=False)

    def click(label: str) -> None:
        rc.find(v.Btn, children=[label]).widget.click()

    click("Step")
    click("Step")
    assert model.value.month == 2 and model.value.seed == 3
    rc.find(v.Slider, label="households").widget.v_model = 900
    click("Reset")
    reset = model.value
    assert reset.month == 0 and reset.seed == 5 and reset.config.population.households == 900
    click("Step")
    fresh = CommunityHealthModel("baseline", rng=5, population__households=900, **tiny)
    fresh.step()
    assert model.value is reset and reset.latest == fresh.latest

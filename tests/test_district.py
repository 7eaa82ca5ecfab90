"""Districts from files: settlements and facilities written here in every format the tests can make (GeoJSON,
GeoPackage, Shapefile, CSV), read through geopandas/pyogrio, projected to UTM, checked, and run."""

from pathlib import Path

import geopandas
import numpy as np
import pandas as pd
import pyproj
import pytest
from shapely.geometry import Point, box
from typer.testing import CliRunner

from commsim.cli.app import app
from commsim.model.community import CommunityHealthModel
from commsim.runs.experiment import load_experiment
from commsim.scenario.district import DistrictError, read_district, utm_crs
from commsim.scenario.loader import load_scenario, to_toml
from commsim.scenario.loader import resolve_path as loader_path
from commsim.store import database as store

WGS84 = "EPSG:4326"


def settlements_frame(lon0: float = -7.5, lat0: float = 12.5, n: int = 30) -> geopandas.GeoDataFrame:
    """n settlements on a grid of 0.05 degrees (~5.4 km) around (lon0, lat0), 40-330 households each."""
    ids = [f"S{i:03d}" for i in range(n)]
    lon = lon0 + 0.05 * (np.arange(n) % 6)
    lat = lat0 + 0.05 * (np.arange(n) // 6)
    households = 40 + 10 * np.arange(n)
    return geopandas.GeoDataFrame(
        {"code": ids, "nom": [f"Village {i}" for i in range(n)], "menages": households},
        geometry=[Point(x, y) for x, y in zip(lon, lat, strict=True)],
        crs=WGS84,
    )


def facilities_csv(lon0: float = -7.5, lat0: float = 12.5) -> str:
    rows = [("F1", "CSCom Nord", "CSCom", lon0 + 0.05, lat0 + 0.2), ("F2", "CSCom Sud", "CSCom", lon0 + 0.2, lat0)]
    rows.append(("F3", "CSRef", "CSRef", lon0 + 0.125, lat0 + 0.1))
    lines = ["uid,label,type,lon,lat", *(f"{a},{b},{c},{x:.6f},{y:.6f}" for a, b, c, x, y in rows)]
    return "\n".join(lines) + "\n"


LAYOUT = """name = "test district"
illustrative = true
[settlements]
file = "{settlements}"
id = "code"
name = "nom"
households = "menages"
[facilities]
file = "facilities.csv"
id = "uid"
name = "label"
level = "type"
longitude = "lon"
latitude = "lat"
"""


def write_district(
    folder: Path, suffix: str = ".geojson", frame: geopandas.GeoDataFrame | None = None, **where: float
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    frame = settlements_frame(**where) if frame is None else frame
    name = f"settlements{suffix}"
    if suffix == ".csv":
        table = frame.assign(lon=frame.geometry.x, lat=frame.geometry.y).drop(columns="geometry")
        table.to_csv(folder / name, index=False)
        layout = LAYOUT.format(settlements=name).replace(
            'households = "menages"', 'households = "menages"\nlongitude = "lon"\nlatitude = "lat"'
        )
    else:
        frame.to_file(folder / name, engine="pyogrio")
        layout = LAYOUT.format(settlements=name)
    (folder / "facilities.csv").write_text(facilities_csv(**where), encoding="utf-8")
    (folder / "district.toml").write_text(layout, encoding="utf-8")
    return folder


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".shp", ".csv"])
def test_every_format_reads_to_the_same_district_in_km(tmp_path, suffix):
    """The same settlements as GeoJSON, GeoPackage, Shapefile or CSV give the same district: 30 settlements,
    their households, three facilities (two first-level, one referral), in UTM zone 29N, and distances in km
    that match the geodesic ones (pyproj.Geod) within 0.2% (UTM's scale error is under 0.1% within 3 degrees of
    its meridian)."""
    district = read_district(write_district(tmp_path / suffix[1:], suffix), 7.8)
    frame = settlements_frame()
    assert district.crs == "EPSG:32629"
    assert list(district.settlement_ids) == list(frame.code)
    np.testing.assert_array_equal(district.households, frame.menages)
    assert sorted(district.level.tolist()) == [1, 1, 2]
    assert district.sx.min() >= 0.0 and district.sy.min() >= 0.0
    geod = pyproj.Geod(ellps="WGS84")
    for a, b in ((0, 29), (3, 17), (5, 24)):
        _, _, metres = geod.inv(frame.geometry.x[a], frame.geometry.y[a], frame.geometry.x[b], frame.geometry.y[b])
        km = np.hypot(district.sx[a] - district.sx[b], district.sy[a] - district.sy[b])
        assert km == pytest.approx(metres / 1000.0, rel=0.002)


def test_a_district_across_a_utm_border_is_measured_in_one_zone(tmp_path):
    """Settlements either side of 6 degrees west (UTM zones 29 and 30) are measured in the zone of the
    district's centre, and their distances are still right within 0.2%."""
    district = read_district(write_district(tmp_path / "border", lon0=-6.2), 7.8)
    assert utm_crs(np.array([-6.1, -5.8]), np.array([12.5, 12.7])) == "EPSG:32630"
    assert utm_crs(np.array([-6.3, -5.9]), np.array([-12.5, -12.7])) == "EPSG:32729"
    assert district.crs in ("EPSG:32629", "EPSG:32630")
    frame = settlements_frame(lon0=-6.2)
    _, _, metres = pyproj.Geod(ellps="WGS84").inv(
        frame.geometry.x[0], frame.geometry.y[0], frame.geometry.x[29], frame.geometry.y[29]
    )
    assert np.hypot(district.sx[0] - district.sx[29], district.sy[0] - district.sy[29]) == pytest.approx(
        metres / 1000.0, rel=0.002
    )


def test_a_scenario_on_a_district_runs_and_round_trips(tmp_path):
    """`population.district` sets the households (the settlements' sum), villages, facilities and extent; the
    model's villages stand at the settlements with their households and its facilities at theirs; the resolved
    scenario reloads to the same scenario, and the same seed gives the same months."""
    folder = write_district(tmp_path / "d")
    config = load_scenario("baseline", {"population.district": str(folder), "months": 6})
    frame = settlements_frame()
    assert config.population.households == int(frame.menages.sum())
    assert (config.population.n_villages, config.population.n_facilities) == (30, 3)
    assert config.population.n_referral_facilities == 1
    model = CommunityHealthModel(config, rng=4)
    np.testing.assert_array_equal(model.district.villages.n_households, frame.menages)
    district = read_district(folder, 7.8)
    np.testing.assert_allclose(model.district.facilities.x, district.fx)
    model.run(6)
    written = tmp_path / "scenario.toml"  # as commsim run writes it beside the results
    written.write_text(to_toml(config), encoding="utf-8")
    assert load_scenario(written) == config
    again = CommunityHealthModel(load_scenario(written), rng=4)
    again.run(6)
    assert model.timeseries().equals(again.timeseries())
    assert model.timeseries().users.iloc[-1] > 0


def test_population_becomes_households(tmp_path):
    """Settlements that give people, not households, are divided by population.persons_per_household."""
    frame = settlements_frame().rename(columns={"menages": "pop"})
    folder = write_district(tmp_path / "p", frame=frame)
    text = (folder / "district.toml").read_text().replace('households = "menages"', 'population = "pop"')
    (folder / "district.toml").write_text(text)
    config = load_scenario("baseline", {"population.district": str(folder), "population.persons_per_household": 5.0})
    assert config.population.households == int(np.rint(frame["pop"] / 5.0).sum())


def bad(folder: Path, problem: str) -> str:
    """The one message `commsim district check` gives for a district with `problem` (exit code 2)."""
    result = CliRunner().invoke(app, ["district", "check", str(folder)])
    assert result.exit_code == 2, (problem, result.output)
    assert "Traceback" not in result.output
    return " ".join(result.output.split())


def test_every_bad_file_gets_one_message_naming_file_feature_and_field(tmp_path):
    frame = settlements_frame()
    duplicate = frame.copy()
    duplicate.loc[7, "code"] = "S003"
    out = bad(write_district(tmp_path / "dup", frame=duplicate), "duplicate ids")
    assert "settlements.geojson" in out and "feature S003" in out and "duplicate code" in out

    missing = frame.copy()
    missing.loc[4, "geometry"] = None
    out = bad(write_district(tmp_path / "geom", frame=missing), "missing coordinates")
    assert "feature S004" in out and "missing coordinates" in out

    folder = write_district(tmp_path / "level")
    text = (folder / "facilities.csv").read_text().replace("CSRef,-7", "Clinique,-7")
    (folder / "facilities.csv").write_text(text)
    out = bad(folder, "unknown level")
    assert "facilities.csv" in out and "feature F3" in out and "unknown level 'Clinique'" in out and "type" in out

    out = bad(write_district(tmp_path / "nopop", frame=frame.drop(columns="menages")), "population missing")
    assert "population missing" in out and "'menages'" in out

    negative = frame.copy()
    negative.loc[2, "menages"] = -5
    out = bad(write_district(tmp_path / "neg", frame=negative), "negative households")
    assert "feature S002" in out and "menages" in out

    folder = write_district(tmp_path / "bound")
    geopandas.GeoDataFrame(geometry=[box(-7.51, 12.49, -7.2, 12.62)], crs=WGS84).to_file(folder / "boundary.geojson")
    with (folder / "district.toml").open("a") as handle:
        handle.write('[boundary]\nfile = "boundary.geojson"\n')
    out = bad(folder, "outside the boundary")
    assert "outside the boundary" in out and "feature S0" in out

    folder = write_district(tmp_path / "crs", ".shp")
    (folder / "settlements.prj").unlink()
    out = bad(folder, "no crs")
    assert "settlements.shp" in out and "CRS unknown" in out and "settlements.crs" in out

    folder = write_district(tmp_path / "col")
    text = (folder / "district.toml").read_text().replace('id = "uid"', 'id = "facility_id"')
    (folder / "district.toml").write_text(text)
    out = bad(folder, "missing column")
    assert "facilities.csv" in out and "no column 'facility_id'" in out and "facilities.id" in out

    out = bad(tmp_path / "nothing", "no directory")
    assert "not a district directory" in out and "district.toml" in out

    with pytest.raises(DistrictError, match="not a district directory"):
        read_district(tmp_path / "nothing", 7.8)


def test_district_check_summarises(tmp_path):
    """`commsim district check` prints the settlements, households, facilities by level and how far the
    households live from their nearest facility."""
    folder = write_district(tmp_path / "ok")
    result = CliRunner().invoke(app, ["district", "check", str(folder), "--map", str(tmp_path / "map.png")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "map.png").stat().st_size > 20_000
    text = " ".join(result.output.split())
    assert "30 settlements" in text and f"{int(settlements_frame().menages.sum()):,} households" in text
    assert "EPSG:32629" in text and "2 first-level" in text and "1 referral" in text
    assert "km to the nearest facility" in text


def test_the_shipped_example_district_checks_and_runs(tmp_path):
    """districts/example says it is illustrative, has its 300 settlements, 24 facilities (one referral) and a
    year of routine data, and scenario example_district runs on it with the households its populations give."""
    result = CliRunner().invoke(app, ["district", "check", "districts/example", "--map", str(tmp_path / "map.png")])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "300 settlements" in text and "23 first-level, 1 referral" in text and "ILLUSTRATIVE" in text
    assert "24 of 24 facilities report; periods 202501-202512 (12 months)" in text
    assert "173 staffed" in text and "208 in 208 settlements" in text
    config = load_scenario("example_district", {"months": 3})
    district = read_district("districts/example", config.population.persons_per_household)
    assert config.population.households == int(district.households.sum()) > 10_000
    model = CommunityHealthModel(config, rng=1)
    model.run(3)
    assert model.timeseries().mcpr.iloc[-1] > 0.05


def with_routine(folder: Path, table: pd.DataFrame) -> Path:
    """The district at `folder` with `table` (org_unit, period, data_element, value) as its routine data, under
    a DHIS2 export's column names."""
    export = table.rename(columns={"org_unit": "orgunit", "data_element": "dataelement"})
    export[["dataelement", "period", "orgunit", "value"]].to_csv(folder / "fp_monthly.csv", index=False)
    with (folder / "district.toml").open("a") as handle:
        handle.write('[routine]\nfile = "fp_monthly.csv"\n')
    return folder


def test_a_run_against_its_own_service_statistics_fits_exactly(tmp_path):
    """Routine data that are the model's own service statistics (same scenario and seed) fit with no error on
    every data element; `commsim run` writes routine_fit.csv and .png and prints the fit, and
    `district check` reports the data's coverage."""
    from commsim.model import services
    from commsim.runs.run import run_scenario

    folder = write_district(tmp_path / "d")
    scenario = tmp_path / "on_d.toml"
    scenario.write_text(
        f'extends = "{loader_path("baseline")}"\nname = "on_d"\nmonths = 6\nseed = 3\n'
        f'[population]\ndistrict = "{folder}"\n',
        encoding="utf-8",
    )
    result = run_scenario(load_scenario(scenario))
    ids = list(read_district(folder, 7.8).facility_ids)
    own = services.dhis2(result.service_statistics, result.scenario.start, ids)
    with_routine(folder, own)
    out = tmp_path / "out"
    run = CliRunner().invoke(app, ["run", str(scenario), "--no-store", "--out", str(out)])
    assert run.exit_code == 0, run.output
    fit = pd.read_csv(out / "routine_fit.csv")
    assert len(fit) == own["data_element"].nunique() and (fit["observed"] == fit["model"]).all()
    assert (fit["mape_facility_months"].fillna(0) == 0).all() and (out / "routine_fit.png").stat().st_size > 10_000
    assert "model against the district's routine data" in run.output
    places = geopandas.read_file(out / "settlements.geojson")
    assert len(places) == 30 and places["households"].sum() == result.villages.households.sum()
    assert places["users"].sum() == result.timeseries.users.iloc[-1]
    np.testing.assert_allclose(places.geometry.x, settlements_frame().geometry.x)
    clinics = geopandas.read_file(out / "facilities.geojson")
    recorded = result.service_statistics.query("element == 'new_acceptors'")["value"].sum()
    assert list(clinics["id"]) == ["F1", "F2", "F3"] and clinics["new_acceptors"].sum() == recorded
    check = CliRunner().invoke(app, ["district", "check", str(folder), "--map", str(tmp_path / "map.png")])
    text = " ".join(check.output.split())
    assert f"{len(own):,} values" in text and "3 of 3 facilities report" in text and "(6 months)" in text


def test_bad_routine_data_gets_one_message_naming_the_row(tmp_path):
    good = pd.DataFrame(
        {
            "org_unit": ["F1", "F2"],
            "period": ["202501", "202502"],
            "data_element": ["FP new acceptors - implant", "FP new acceptors - pill"],
            "value": ["3", "4"],
        }
    )
    cases = {
        "unknown org unit": (("org_unit", 1, "F9"), "row 3: orgunit 'F9' is not a facility id"),
        "bad period": (("period", 0, "2025-01"), "row 2: period '2025-01' is not a month YYYYMM"),
        "unknown element": (("data_element", 1, "FP acceptors"), "row 3: unknown data element 'FP acceptors'"),
        "negative value": (("value", 0, "-2"), "row 2: value is not a number of at least 0"),
    }
    for problem, ((column, row, value), message) in cases.items():
        table = good.copy()
        table.loc[row, column] = value
        folder = with_routine(write_district(tmp_path / problem.replace(" ", "_")), table)
        out = bad(folder, problem)
        assert "fp_monthly.csv" in out and message in out, out
    twice = with_routine(write_district(tmp_path / "twice"), pd.concat([good, good.iloc[[0]]]))
    assert "row 4: the same org unit, period and data element twice" in bad(twice, "duplicate row")


def with_community(folder: Path, chws: str, groups: str) -> Path:
    """The district at `folder` with CHW posts and women's groups as CSVs."""
    (folder / "chws.csv").write_text(chws, encoding="utf-8")
    (folder / "groups.csv").write_text(groups, encoding="utf-8")
    with (folder / "district.toml").open("a") as handle:
        handle.write('[chws]\nfile = "chws.csv"\nid = "post"\nsettlement = "village"\nfp_trained = "fp"\n')
        handle.write('[groups]\nfile = "groups.csv"\nsettlement = "village"\nmembers = "n"\ncapacity = "cap"\n')
    return folder


def test_chw_posts_and_groups_come_from_their_files(tmp_path):
    """A CHW file staffs exactly the posts of the villages it lists, FP-trained as it says (drawn where it is
    silent); a groups file forms exactly its villages' groups, a capacity it gives is the group's, and the
    members it gives are the expected count (S010's 60 members of its 140 households: 60 +- 4 sd)."""
    chws = "post,village,fp\nP1,S000,1\nP2,S005,0\nP3,S029,\n"
    groups = "id,village,n,cap\nG1,S010,60,0.8\nG2,S012,,\n"
    folder = with_community(write_district(tmp_path / "c"), chws, groups)
    model = CommunityHealthModel(load_scenario("baseline", {"population.district": str(folder)}), rng=2)
    chw, grp, vil = model.district.chws, model.district.groups, model.district.villages
    active = np.unique(chw.village[chw.status == 1])
    assert active.tolist() == [0, 5, 29]
    assert (chw.fp_trained[chw.village == 0] == 1).all() and (chw.fp_trained[chw.village == 5] == 0).all()
    assert np.flatnonzero(grp.formed).tolist() == [10, 12]
    assert grp.capacity[10] == 0.8 and grp.active[10] == 1
    members = np.count_nonzero(model.district.households.group == 10)
    assert vil.n_households[10] == 140 and abs(members - 60) < 4 * np.sqrt(60 * (1 - 60 / 140))
    check = CliRunner().invoke(app, ["district", "check", str(folder), "--map", str(tmp_path / "map.png")])
    text = " ".join(check.output.split())
    assert "3 staffed, in 3 settlements; 1 FP-trained by the file, 1 drawn" in text
    assert "2 in 2 settlements; members given for 1, capacity for 1" in text
    for chws_bad, groups_bad, message in (
        ("post,village,fp\nP1,S999,1\n", groups, "feature P1: village 'S999' is not a settlement id"),
        ("post,village,fp\nP1,S000,2\n", groups, "feature P1: fp must be 1 or 0 (got '2')"),
        (chws, "id,village,n,cap\nG1,S010,60,1.5\n", "feature G1: cap must be 0 to 1 (got '1.5')"),
    ):
        folder = with_community(write_district(tmp_path / f"bad{len(message)}"), chws_bad, groups_bad)
        assert message in bad(folder, message)


def test_district_init_writes_a_directory_from_the_files_a_user_has(tmp_path):
    """`district init` copies the files and names their columns in a district.toml (guessed: code, nom, menages,
    uid, label, type, lon, lat), then checks it; a count column it cannot guess is named with --column."""
    source = write_district(tmp_path / "mine")
    out = tmp_path / "new"
    command = ["district", "init", str(out), "--settlements", str(source / "settlements.geojson")]
    command += ["--facilities", str(source / "facilities.csv"), "--map", str(tmp_path / "map.png")]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, result.output
    assert "30 settlements" in " ".join(result.output.split())
    config = load_scenario("baseline", {"population.district": str(out)})
    assert config.population.households == int(settlements_frame().menages.sum())
    people = settlements_frame().rename(columns={"menages": "pop_2024"})
    people.to_file(tmp_path / "people.geojson", engine="pyogrio")
    command[4] = str(tmp_path / "people.geojson")
    refused = CliRunner().invoke(app, [*command[:2], str(tmp_path / "other"), *command[3:]])
    assert refused.exit_code == 2 and "--column settlements.population=COLUMN" in " ".join(refused.output.split())
    named = [*command[:2], str(tmp_path / "other"), *command[3:], "--column", "settlements.population=pop_2024"]
    assert CliRunner().invoke(app, named).exit_code == 0
    taken = CliRunner().invoke(app, command)
    assert taken.exit_code == 2 and "not empty" in taken.output


def test_compare_and_sweep_run_on_a_district_from_files(tmp_path):
    """A district scenario and an intervention on it compare on common seeds and sweep like any scenario."""
    folder = write_district(tmp_path / "d")
    base = tmp_path / "on_d.toml"
    base.write_text(
        f'extends = "{loader_path("baseline")}"\nname = "on_d"\n[population]\ndistrict = "{folder}"\n',
        encoding="utf-8",
    )
    arm = tmp_path / "groups_on_d.toml"
    arm.write_text(
        f'extends = "{base}"\nname = "groups_on_d"\n[interventions.training]\ntype = "capacity_building"\n'
        "start_month = 0\ncoverage = 1.0\n",
        encoding="utf-8",
    )
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    compare = ["compare", str(base), str(arm), "--reps", "2", "--months", "6", "--out", str(tmp_path / "c")]
    result = CliRunner().invoke(app, [*compare, "--db", url])
    assert result.exit_code == 0, result.output
    summary = pd.read_csv(tmp_path / "c" / "summary.csv")
    assert set(summary["scenario"]) == {"on_d", "groups_on_d"}
    report = (tmp_path / "c" / "report.html").read_text()
    assert "Where the gains fall: the district by settlement" in report and "gain median" in report
    experiment = tmp_path / "sweep.toml"
    experiment.write_text(
        f'name = "on_d_sweep"\nscenario = "{base}"\nmonths = 6\nreplicates = 1\nseed = 2\noutputs = ["mcpr"]\n'
        '[design]\nkind = "grid"\n[parameters."groups.training_coverage"]\nvalues = [0.0, 1.0]\n',
        encoding="utf-8",
    )
    swept = CliRunner().invoke(app, ["sweep", str(experiment), "--workers", "1", "--db", url])
    assert swept.exit_code == 0, swept.output
    results = store.open_store(url)
    batch = store.find_batch(results, "sweep", load_experiment(experiment).key())
    assert len(store.finished_runs(results, batch)) == 2


def with_facility_column(folder: Path, key: str, values: list[str]) -> Path:
    """The district at `folder` with a column added to its facilities.csv (`values`: header, then F1-F3) and
    named as facilities.`key` in its district.toml."""
    rows = (folder / "facilities.csv").read_text().splitlines()
    (folder / "facilities.csv").write_text("\n".join(f"{r},{v}" for r, v in zip(rows, values, strict=True)) + "\n")
    text = (folder / "district.toml").read_text().replace('level = "type"', f'level = "type"\n{key} = "{values[0]}"')
    (folder / "district.toml").write_text(text)
    return folder


def test_a_facility_capacity_the_file_gives_is_its_capacity(tmp_path):
    """facilities.capacity names a column of FP clients a month; an empty cell keeps the level's capacity
    (facilities.capacity_per_month 250 for a first-level facility), and a negative one is refused."""
    folder = with_facility_column(write_district(tmp_path / "cap"), "capacity", ["clients", "40", "", "900"])
    model = CommunityHealthModel(load_scenario("baseline", {"population.district": str(folder)}), rng=1)
    assert model.district.facilities.base_capacity.tolist() == [40.0, 250.0, 900.0]
    (folder / "facilities.csv").write_text((folder / "facilities.csv").read_text().replace(",40\n", ",-4\n"))
    assert "feature F1: clients must be a count (got '-4')" in bad(folder, "negative capacity")


def test_a_facility_gives_only_the_methods_its_file_says(tmp_path):
    """facilities.methods: a facility that provides only pills and condoms records no other method in 24 months,
    and a method it does not provide is no stockout in its statistics; the compiled kernels and the Python twin
    agree on such a district; an unknown method is named."""
    values = ["methods", '"pill; condom"', "", '"pill,injectable,implant,iud"']
    folder = with_facility_column(write_district(tmp_path / "m"), "methods", values)
    config = load_scenario("baseline", {"population.district": str(folder), "months": 24})
    fast = CommunityHealthModel(config, rng=3, debug_checks=True)
    fast.run(24)
    stats = fast.service_statistics()
    f1 = stats[stats["facility"] == 0]
    assert set(f1.query("element == 'new_acceptors'")["method"]) <= {"pill", "condom"}
    assert f1.query("element == 'stockout_days' and method == 'implant'").empty
    assert not stats[(stats["facility"] == 1) & (stats["element"] == "new_acceptors")].empty
    twin = CommunityHealthModel(config, rng=3, backend="python")
    twin.run(24)
    assert fast.timeseries().equals(twin.timeseries())
    (folder / "facilities.csv").write_text((folder / "facilities.csv").read_text().replace("condom", "pills"))
    assert "feature F1: unknown method 'pills' in methods" in bad(folder, "unknown method")


def test_a_scenario_naming_a_bad_district_stops_before_the_run(tmp_path):
    """`commsim run` with a district that is not there, or whose files are bad, says so in one message (exit 2)
    and writes nothing."""
    missing = ["run", "baseline", "--set", f"population.district={tmp_path / 'none'}", "--no-store"]
    result = CliRunner().invoke(app, [*missing, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "not a district directory" in result.output and "Traceback" not in result.output
    frame = settlements_frame()
    frame.loc[3, "code"] = "S001"
    folder = write_district(tmp_path / "dup", frame=frame)
    result = CliRunner().invoke(
        app, ["run", "baseline", "--set", f"population.district={folder}", "--no-store", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2 and "feature S001: duplicate code" in " ".join(result.output.split())
    assert not (tmp_path / "out").exists() and not (tmp_path / "o").exists()


def test_a_dhis2_organisation_unit_export_reads_as_it_is(tmp_path):
    """A DHIS2 `organisationUnits.geojson` (feature ids outside the properties, the hierarchy level, and the
    organisation unit groups as a list) gives the facilities: ids from the features, levels from their groups."""
    import json

    folder = write_district(tmp_path / "dhis2")
    units = [
        ("DiszpKrYNg8", "CSCom Nord", ["Public", "CSCom"], -7.45, 12.7),
        ("ImspTQPwCqd", "CSCom Sud", ["CSCom"], -7.3, 12.5),
        ("O6uvpzGd5pu", "CSRef", ["CSRef", "Public"], -7.375, 12.6),
    ]
    features = [
        {
            "type": "Feature",
            "id": uid,
            "geometry": {"type": "Point", "coordinates": [x, y]},
            "properties": {"code": f"OU_{k}", "name": name, "level": "4", "parent": "fdc6uOvgoji", "groups": groups},
        }
        for k, (uid, name, groups, x, y) in enumerate(units)
    ]
    (folder / "organisationUnits.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    text = (folder / "district.toml").read_text().split("[facilities]")[0]
    text += '[facilities]\nfile = "organisationUnits.geojson"\nlevel = "groups"\n'
    text += "[facilities.levels]\nCSCom = 1\nCSRef = 2\n"
    (folder / "district.toml").write_text(text)
    district = read_district(folder, 7.8)
    assert list(district.facility_ids) == [uid for uid, *_ in units]
    assert district.level.tolist() == [1, 1, 2] and list(district.facility_names) == [
        "CSCom Nord",
        "CSCom Sud",
        "CSRef",
    ]


def test_a_road_network_lengthens_the_way_of_a_badly_connected_settlement(tmp_path):
    """With [roads], each settlement-facility pair's distance is its straight line x its road detour over the
    district's median: every settlement but S029 has a straight road to each facility (detour 1), S029 only a
    road by way of a point 20 km north, so its women's distances grow by that detour and the others' do not."""
    from shapely.geometry import LineString

    folder = write_district(tmp_path / "roads")
    places = settlements_frame()
    clinics = pd.read_csv(folder / "facilities.csv")
    far = (places.geometry.x[29], places.geometry.y[29] + 0.18)
    lines = []
    for k, place in enumerate(places.geometry):
        for x, y in zip(clinics.lon, clinics.lat, strict=True):
            lines.append(LineString([(place.x, place.y), (x, y)] if k != 29 else [(place.x, place.y), far, (x, y)]))
    geopandas.GeoDataFrame(geometry=lines, crs=WGS84).to_file(folder / "roads.gpkg", engine="pyogrio")
    plain = CommunityHealthModel(load_scenario("baseline", {"population.district": str(folder)}), rng=1)
    with (folder / "district.toml").open("a") as handle:
        handle.write('[roads]\nfile = "roads.gpkg"\n')
    district = read_district(folder, 7.8)
    assert np.allclose(np.delete(district.detour, 29, axis=0), 1.0, rtol=1e-3) and (district.detour[29] > 2.0).all()
    roads = CommunityHealthModel(load_scenario("baseline", {"population.district": str(folder)}), rng=1)
    village = roads.district.households.village
    ratio = roads.district.households.dist1 / plain.district.households.dist1
    assert np.allclose(ratio[village != 29], 1.0, rtol=1e-3)  # road vertices are kept to the metre
    assert ratio[village == 29].min() > 2.0
    check = CliRunner().invoke(app, ["district", "check", str(folder), "--map", str(tmp_path / "map.png")])
    assert "1 settlements more than 1.5x" in " ".join(check.output.split())


def test_an_unknown_crs_is_named(tmp_path):
    folder = write_district(tmp_path / "crs", ".csv")
    text = (folder / "district.toml").read_text().replace('latitude = "lat"', 'latitude = "lat"\ncrs = "EPSG:99999"', 1)
    (folder / "district.toml").write_text(text)
    assert "settlements.crs: unknown CRS 'EPSG:99999'" in bad(folder, "unknown crs")


def test_stored_runs_on_a_district_export_under_its_facility_ids(tmp_path):
    """`results export --service-statistics` gives a stored district run's statistics under the district's own
    facility ids, as `commsim run` wrote them beside it."""
    folder = write_district(tmp_path / "d")
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    out = tmp_path / "run"
    command = ["run", "baseline", "-m", "4", "--set", f"population.district={folder}", "--out", str(out)]
    assert CliRunner().invoke(app, [*command, "--db", url]).exit_code == 0
    target = tmp_path / "dhis2.csv"
    result = CliRunner().invoke(app, ["results", "export", "--service-statistics", "--db", url, "-o", str(target)])
    assert result.exit_code == 0, result.output
    exported = pd.read_csv(target, dtype={"period": str})
    written = pd.read_csv(out / "service_statistics.csv", dtype={"period": str})
    assert set(exported["org_unit"]) <= {"F1", "F2", "F3"}
    pd.testing.assert_frame_equal(exported.drop(columns="run_id"), written, check_dtype=False)

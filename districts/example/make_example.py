"""Writes the illustrative example district (made up, not real data): `python make_example.py` in this folder.

300 settlements of a fictional rural district in southern Mali (about 170,000 people), clustered around a few
market villages, with 24 facilities at three levels (rural maternities, CSComs and one CSRef), a boundary around
them, CHW posts (ASC) in most settlements beyond ~5 km of a facility, women's groups in seven settlements of ten
(a fifth to a third of their women 15-49, taken as 22% of the people), and a year of monthly FP service data the
model itself made on them (with reporting noise and missing months). Deterministic: the same data every time
(a GeoPackage also records when it was written).
"""

from pathlib import Path

import geopandas
import numpy as np
import pandas as pd
from shapely.geometry import Point

HERE = Path(__file__).resolve().parent
SYLLABLES = ("ba", "ko", "ni", "so", "ma", "di", "ka", "la", "fa", "se", "wo", "to", "ga", "ri", "na", "bou")
CENTRE = (-6.9, 12.1)  # longitude, latitude: the Sudanian savanna belt of southern Mali


def names(rng: np.random.Generator, n: int) -> list[str]:
    """n distinct made-up village names of two or three syllables."""
    found: list[str] = []
    while len(found) < n:
        name = "".join(rng.choice(SYLLABLES, size=rng.integers(2, 4))).capitalize()
        if name not in found:
            found.append(name)
    return found


def main() -> None:
    rng = np.random.default_rng(2026)
    towns = rng.normal(0.0, 0.22, size=(6, 2))
    home = rng.integers(0, towns.shape[0], size=300)
    offsets = rng.normal(0.0, 0.09, size=(300, 2))
    lon = CENTRE[0] + towns[home, 0] + offsets[:, 0]
    lat = CENTRE[1] + towns[home, 1] + offsets[:, 1]
    population = np.rint(np.exp(rng.normal(np.log(380.0), 0.75, size=300))).astype(int)
    population[rng.choice(300, size=6, replace=False)] *= 6  # the market villages
    ids = [f"ML-EX-{i:04d}" for i in range(300)]
    settlements = geopandas.GeoDataFrame(
        {"settlement_id": ids, "settlement_name": names(rng, 300), "pop_2024": population},
        geometry=[Point(x, y) for x, y in zip(lon, lat, strict=True)],
        crs="EPSG:4326",
    )
    order = np.argsort(-population, kind="stable")
    chosen: list[int] = []
    for i in order:  # CSComs at big villages at least ~10 km apart
        if all(np.hypot(lon[i] - lon[j], (lat[i] - lat[j])) > 0.09 for j in chosen):
            chosen.append(int(i))
        if len(chosen) == 12:
            break
    remote = [int(i) for i in np.argsort(-np.min(np.hypot(lon[:, None] - lon[chosen], lat[:, None] - lat[chosen]), 1))]
    posts = [i for i in remote if i not in chosen][:12]
    rows = []
    for k, i in enumerate(chosen + posts):
        level = "CSRef" if k == 0 else "CSCom" if k < 12 else "Maternite rurale"
        rows.append((f"FAC{k + 1:03d}", f"{level} de {settlements.settlement_name[i]}", level, lon[i], lat[i]))
    facilities = pd.DataFrame(rows, columns=["uid", "name", "type", "longitude", "latitude"])
    boundary = geopandas.GeoDataFrame(
        {"name": ["Example district (illustrative)"]},
        geometry=[settlements.geometry.union_all().convex_hull.buffer(0.03)],
        crs="EPSG:4326",
    )
    settlements.to_file(HERE / "settlements.gpkg", engine="pyogrio")
    facilities.round({"longitude": 6, "latitude": 6}).to_csv(HERE / "facilities.csv", index=False)
    boundary.to_file(HERE / "boundary.geojson", engine="pyogrio")
    far = np.min(np.hypot(lon[:, None] - lon[chosen + posts], lat[:, None] - lat[chosen + posts]), 1) > 0.045
    staffed = np.flatnonzero(far & (rng.random(300) < 0.8))  # ASC sites beyond ~5 km, most of them staffed
    pd.DataFrame(
        {
            "post_id": [f"ASC-{k + 1:03d}" for k in range(staffed.size)],
            "settlement_id": [ids[i] for i in staffed],
            "fp_trained": (rng.random(staffed.size) < 0.4).astype(int),
        }
    ).to_csv(HERE / "chw_posts.csv", index=False)
    meeting = np.flatnonzero(rng.random(300) < 0.7)
    pd.DataFrame(
        {
            "group_id": [f"GRP-{k + 1:03d}" for k in range(meeting.size)],
            "settlement_id": [ids[i] for i in meeting],
            "members": np.rint(population[meeting] * 0.22 * rng.uniform(0.15, 0.35, meeting.size)).astype(int),
        }
    ).to_csv(HERE / "groups.csv", index=False)
    routine_data(rng).to_csv(HERE / "fp_monthly.csv", index=False)


def routine_data(rng: np.random.Generator) -> pd.DataFrame:
    """A year of monthly FP service data in the DHIS2 data-value layout, made by the model itself on this
    district (scenario example_district, seed 7) with reporting noise (x a lognormal of sd 0.25, rounded) and
    a tenth of the facility-months not reported: what a district's DHIS2 looks like, not what one holds."""
    from commsim.model import services
    from commsim.runs.run import run_scenario
    from commsim.scenario.district import read_district

    result = run_scenario("example_district", seed=7, overrides={"months": 12})
    ids = list(read_district(HERE, result.scenario.population.persons_per_household).facility_ids)
    table = services.dhis2(result.service_statistics, result.scenario.start, ids)
    kinds = ("FP new acceptors - ", "FP continuing users resupplied - ")
    kinds += tuple(f"{k[:-3]}, community (CHW) - " for k in kinds)
    table = table[table["data_element"].str.startswith(kinds)].reset_index(drop=True)
    months = table[["org_unit", "period"]].drop_duplicates()
    missing = months.iloc[np.flatnonzero(rng.random(len(months)) < 0.1)]
    table = table.merge(missing, how="left", indicator=True).query("_merge == 'left_only'").drop(columns="_merge")
    noisy = np.rint(table["value"].to_numpy() * np.exp(rng.normal(0.0, 0.25, len(table)))).astype(int)
    return pd.DataFrame(
        {
            "dataelement": table["data_element"],
            "period": table["period"],
            "orgunit": table["org_unit"],
            "value": noisy,
        }
    )[lambda frame: frame["value"] > 0]


if __name__ == "__main__":
    main()

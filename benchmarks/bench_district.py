"""A district from files against the synthetic one of the same size: writing a district at the shipped densities
(a settlement per 250 households, a facility per 2,500, 5.6 households a km2) as a GeoPackage and a CSV, reading
and building it, and stepping it.

    .venv/bin/python benchmarks/bench_district.py [--households N] [--months M]

Prints one table: the time to read the files (geopandas, projection, checks) and to build the model on them,
the synthetic district's build time, and household-months per second of both on the same thread count, measured
in the same run in alternating rounds (the machine is shared: compare the ratio).
"""

import argparse
import math
import tempfile
import time
from pathlib import Path

import geopandas
import numpy as np
import pandas as pd
import pyproj
from shapely import points
from shapely.geometry import LineString

from benchtable import Row, render, source_state
from commsim.model.community import CommunityHealthModel
from commsim.scenario.district import read_district
from commsim.scenario.loader import load_scenario
from commsim.scenario.schema import Population

TARGET_BUILD_S = 15.0  # issue 14: 1M households from files
TARGET_RATIO = 0.8  # the model's speed on the district from files / on the synthetic one
ROAD_SPACING_KM = 5.0


def write_district(folder: Path, households: int, roads: bool = False) -> None:
    """Settlements and facilities placed uniformly in a square at the shipped densities, in UTM zone 29N around
    12.5 N 7.5 W, written in longitude and latitude; with `roads`, a grid of roads every ROAD_SPACING_KM with a
    vertex every km (so crossing roads share vertices)."""
    defaults = Population()
    villages = max(1, round(households / defaults.households_per_village))
    facilities = max(1, round(households / defaults.households_per_facility))
    side = math.sqrt(households / defaults.households_per_km2) * 1000.0
    rng = np.random.default_rng(1)
    to_lonlat = pyproj.Transformer.from_crs("EPSG:32629", "EPSG:4326", always_xy=True)
    x0, y0 = 500_000.0 - side / 2, 1_380_000.0 - side / 2
    sx, sy = to_lonlat.transform(x0 + rng.random(villages) * side, y0 + rng.random(villages) * side)
    weights = rng.lognormal(0.0, 0.5, villages)
    size = np.floor(weights / weights.sum() * households).astype(int)
    size[: households - size.sum()] += 1
    geopandas.GeoDataFrame(
        {"id": [f"S{i}" for i in range(villages)], "name": [f"S{i}" for i in range(villages)], "households": size},
        geometry=points(sx, sy),
        crs="EPSG:4326",
    ).to_file(folder / "settlements.gpkg", engine="pyogrio")
    fx, fy = to_lonlat.transform(x0 + rng.random(facilities) * side, y0 + rng.random(facilities) * side)
    level = np.where(np.arange(facilities) < max(1, round(facilities * defaults.referral_share)), 2, 1)
    pd.DataFrame(
        {"id": [f"F{i}" for i in range(facilities)], "name": "F", "level": level, "longitude": fx, "latitude": fy}
    ).to_csv(folder / "facilities.csv", index=False)
    layout = 'name = "benchmark"\n[settlements]\nfile = "settlements.gpkg"\nhouseholds = "households"\n'
    layout += '[facilities]\nfile = "facilities.csv"\n'
    if roads:
        ticks = np.arange(0.0, side + 1.0, 1000.0)
        lines = []
        for at in np.arange(0.0, side + 1.0, ROAD_SPACING_KM * 1000.0):
            for xs, ys in ((ticks, np.full(ticks.size, at)), (np.full(ticks.size, at), ticks)):
                lon, lat = to_lonlat.transform(x0 + xs, y0 + ys)
                lines.append(LineString(np.column_stack([lon, lat])))
        geopandas.GeoDataFrame(geometry=lines, crs="EPSG:4326").to_file(folder / "roads.gpkg", engine="pyogrio")
        layout += '[roads]\nfile = "roads.gpkg"\n'
    (folder / "district.toml").write_text(layout, encoding="utf-8")


def rate(model: CommunityHealthModel, months: int) -> float:
    """Household-months per second of `months` steps."""
    start = time.perf_counter()
    for _ in range(months):
        model.step()
    return model.district.households.village.size * months / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        write_district(folder, args.households)
        written = time.perf_counter() - start
        start = time.perf_counter()
        district = read_district(folder, Population().persons_per_household)
        read = time.perf_counter() - start
        config = load_scenario("baseline", {"population.district": str(folder)})
        for warm in (1_000, 40_000):  # the serial and the parallel kernels compiled or loaded, not timed
            CommunityHealthModel("baseline", rng=1, population__households=warm).step()
        start = time.perf_counter()
        on_files = CommunityHealthModel(config, rng=1)
        build_files = time.perf_counter() - start
        start = time.perf_counter()
        synthetic = CommunityHealthModel("baseline", rng=1, population__households=config.population.households)
        build_synthetic = time.perf_counter() - start
        with tempfile.TemporaryDirectory() as with_roads:
            write_district(Path(with_roads), args.households, roads=True)
            start = time.perf_counter()
            road_district = read_district(Path(with_roads), Population().persons_per_household)
            read_roads = time.perf_counter() - start
        on_files.step(), synthetic.step()  # compile or load, and warm
        files_rates, synthetic_rates = [], []
        for _ in range(args.rounds):
            files_rates.append(rate(on_files, args.months))
            synthetic_rates.append(rate(synthetic, args.months))
    n = config.population.households
    ratio = max(files_rates) / max(synthetic_rates)
    rows = [
        Row("1", f"write {district.sx.size:,} settlements, {district.fx.size} facilities", f"{written:.1f} s"),
        Row("1", "read and check the files (read_district)", f"{read:.2f} s"),
        Row(
            "1",
            f"build the model on them, {n:,} households (read cached)",
            f"{build_files:.1f} s",
            f"< {TARGET_BUILD_S:g} s with the read",
            read + build_files < TARGET_BUILD_S,
            f"read + build {read + build_files:.1f} s",
        ),
        Row("1", f"build the synthetic district, {n:,} households", f"{build_synthetic:.1f} s"),
        Row(
            "1",
            f"read and check the files with a road grid every {ROAD_SPACING_KM:g} km",
            f"{read_roads:.1f} s",
            f"< {TARGET_BUILD_S:g} s with the build",
            read_roads + build_files < TARGET_BUILD_S,
            f"{road_district.sx.size:,} x {road_district.fx.size} settlement-facility detours; read + build "
            f"{read_roads + build_files:.1f} s",
        ),
        Row("2", "district from files, model.step()", f"{max(files_rates) / 1e6:.2f} M hh-months/s"),
        Row("2", "synthetic district, model.step()", f"{max(synthetic_rates) / 1e6:.2f} M hh-months/s"),
        Row(
            "2",
            "files / synthetic",
            f"{ratio:.2f}",
            f">= {TARGET_RATIO:g}",
            ratio >= TARGET_RATIO,
            f"best of {args.rounds} alternating rounds of {args.months} months",
        ),
    ]
    render(rows, "commsim: a district from files", source_state())


if __name__ == "__main__":
    main()

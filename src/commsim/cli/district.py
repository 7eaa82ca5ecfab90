"""`commsim district`: check a district directory before a scenario uses it."""

from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.table import Table

from commsim.cli.common import bad_input_exits, stdout
from commsim.scenario.schema import Population

district_app = typer.Typer(help="Districts from files: check a district directory.", no_args_is_help=True)


@district_app.command()
def check(
    folder: Annotated[Path, typer.Argument(help="The district directory (with its district.toml).")],
    map_png: Annotated[
        Path | None,
        typer.Option("--map", help="Where to draw the district's map (default: results/district-<folder name>.png)."),
    ] = None,
    persons_per_household: Annotated[
        float,
        typer.Option(
            help="People per household, for settlements that give a population (population.persons_per_household)."
        ),
    ] = Population.model_fields["persons_per_household"].default,
) -> None:
    """Read and check a district's files (one message naming the file, feature and field for each problem),
    and summarise it: settlements, households, facilities by level, and how far households live from a
    facility."""
    from commsim.scenario.district import LEVELS, nearest_facility_km, read_district, straight_km

    with bad_input_exits():
        district = read_district(folder, persons_per_household)
    far = nearest_facility_km(district)
    weights = district.households / max(district.households.sum(), 1)
    order = np.argsort(far)
    cumulative = np.cumsum(weights[order])
    median, p90 = (float(far[order][np.searchsorted(cumulative, q)]) for q in (0.5, 0.9))
    levels = {level: int(np.count_nonzero(district.level == level)) for level in LEVELS}
    table = Table(title=f"{district.name} ({folder})", show_header=False)
    table.add_row("settlements", f"{district.sx.size:,} settlements, {int(district.households.sum()):,} households")
    table.add_row("facilities", f"{levels[1]} first-level, {levels[2]} referral")
    table.add_row("measured in", f"{district.crs}, {district.width_km:.1f} x {district.height_km:.1f} km")
    if district.chw_settlements is not None:
        trained = int(np.count_nonzero(district.chw_trained == 1.0))
        table.add_row(
            "CHW posts",
            f"{district.chw_settlements.size} staffed, in {np.unique(district.chw_settlements).size} settlements; "
            f"{trained} FP-trained by the file, {int(np.isnan(district.chw_trained).sum())} drawn",
        )
    if district.group_settlements is not None:
        table.add_row(
            "women's groups",
            f"{district.group_settlements.size} in {np.unique(district.group_settlements).size} settlements; "
            f"members given for {int(np.isfinite(district.group_members).sum())}, capacity for "
            f"{int(np.isfinite(district.group_capacity).sum())}",
        )
    if district.detour is not None:
        nearest = district.detour[np.arange(district.sx.size), np.argmin(straight_km(district), axis=1)]
        table.add_row(
            "roads",
            f"way to the nearest facility vs the district's usual detour: median {np.median(nearest):.2f}x; "
            f"{int(np.count_nonzero(nearest > 1.5))} settlements more than 1.5x",
        )
    table.add_row(
        "km to the nearest facility",
        f"median {median:.1f}, 90% within {p90:.1f}, farthest {far.max():.1f}; "
        f"{float(weights[far > 5.0].sum()):.0%} of households beyond 5 km",
    )
    from commsim.model.services import DATA_ELEMENTS
    from commsim.scenario.district import read_routine

    with bad_input_exits():
        routine = read_routine(folder, DATA_ELEMENTS, district.facility_ids)
    if routine is not None:
        units, periods = routine["org_unit"].nunique(), sorted(routine["period"].unique())
        reported = len(routine[["org_unit", "period"]].drop_duplicates())
        span = (int(periods[-1][:4]) - int(periods[0][:4])) * 12 + int(periods[-1][4:]) - int(periods[0][4:]) + 1
        table.add_row(
            "routine data",
            f"{len(routine):,} values of {routine['data_element'].nunique()} data elements; {units} of "
            f"{district.fx.size} facilities report; periods {periods[0]}-{periods[-1]} ({span} months); "
            f"{reported / (district.fx.size * span):.0%} of facility-months reported",
        )
    if district.illustrative:
        table.add_row("data", "ILLUSTRATIVE: made-up files, not a real district's data (district.toml)")
    from commsim.reports.district_map import write_district_map

    target = map_png if map_png is not None else Path("results") / f"district-{Path(folder).resolve().name}.png"
    with bad_input_exits():
        target.parent.mkdir(parents=True, exist_ok=True)
        write_district_map(district, target)
    table.add_row("map", str(target))
    stdout().print(table)


@district_app.command()
def init(
    out: Annotated[Path, typer.Argument(help="The district directory to write (new, or empty).")],
    settlements: Annotated[Path, typer.Option(help="Settlements: GeoJSON, GeoPackage, Shapefile or CSV.")],
    facilities: Annotated[Path, typer.Option(help="Facilities: a GIS file or a CSV with longitude and latitude.")],
    boundary: Annotated[Path | None, typer.Option(help="The district's boundary (polygons).")] = None,
    chws: Annotated[Path | None, typer.Option(help="Staffed CHW posts, with the settlement each serves.")] = None,
    groups: Annotated[Path | None, typer.Option(help="Women's groups, with the settlement each meets in.")] = None,
    name: Annotated[str | None, typer.Option(help="The district's name (default: the directory's).")] = None,
    column: Annotated[
        list[str] | None,
        typer.Option(help="LAYER.KEY=COLUMN where a column's name is not guessed, e.g. settlements.population=pop."),
    ] = None,
    map_png: Annotated[
        Path | None, typer.Option("--map", help="Where to draw its map (default: results/district-<OUT name>.png).")
    ] = None,
) -> None:
    """Write a district directory from the files you have: copies them into OUT with a district.toml that names
    their columns (guessed from common names, or as --column says), then checks it as `district check` does."""
    import shutil

    import tomli_w

    from commsim.scenario.district import LAYOUT, DistrictError, guess_layout

    with bad_input_exits():
        given: dict[str, str] = {}
        for item in column or []:
            key, sep, value = item.partition("=")
            if not sep or "." not in key or not value:
                raise DistrictError(f"--column {item!r}: give LAYER.KEY=COLUMN, e.g. settlements.population=pop")
            given[key.strip()] = value.strip()
        files = {"settlements": settlements, "facilities": facilities, "boundary": boundary, "chws": chws}
        files = {layer: path for layer, path in {**files, "groups": groups}.items() if path is not None}
        for layer, path in files.items():
            if not path.is_file():
                raise DistrictError(f"--{layer} {path}: no such file")
        if out.exists() and any(out.iterdir()):
            raise DistrictError(f"{out}: exists and is not empty; give a new directory")
        layout = guess_layout(name or out.resolve().name, files, given)
        out.mkdir(parents=True, exist_ok=True)
        for path in files.values():
            siblings = [path.with_suffix(s) for s in (".shx", ".dbf", ".prj", ".cpg")] if path.suffix == ".shp" else []
            for part in (path, *(p for p in siblings if p.is_file())):
                shutil.copy2(part, out / part.name)
        (out / LAYOUT).write_text(tomli_w.dumps(layout), encoding="utf-8")
    stdout().print(f"wrote {out / LAYOUT}; checking it:")
    check(out, map_png=map_png)

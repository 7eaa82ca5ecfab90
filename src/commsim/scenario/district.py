"""A real district from the files planners have: settlements with their households or population, facilities with
their level, an optional boundary, named by a `district.toml` in the district's directory that maps the users'
own column names. Read with geopandas and pyogrio (GeoJSON, GeoPackage, Shapefile) or pandas (CSV with longitude
and latitude), projected with pyproj to the UTM zone of the district so distances are in km, and checked: every
problem is one message naming the file, the feature and the field.

geopandas is imported when a district is read, not with this module, so scenarios without one start as fast.
"""

import math
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from commsim.errors import CommsimError
from commsim.scenario import files as tomlfiles
from commsim.scenario.schema import METHODS

LAYOUT = "district.toml"
LEVELS = {1: "first-level facility (health post, CSCom)", 2: "referral facility (district hospital, CSRef)"}
DEFAULT_LEVELS = {
    "1": 1,
    "2": 2,
    "health post": 1,
    "health centre": 1,
    "health center": 1,
    "cscom": 1,
    "hospital": 2,
    "district hospital": 2,
    "csref": 2,
    "referral": 2,
}
GEOGRAPHIC = "EPSG:4326"


class DistrictError(CommsimError):
    """A district's files cannot be used; the message names the file, the feature and the field."""


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Layer(_Table):
    """One input file and the names of its columns."""

    file: str = Field(description="The file, relative to the district's directory (.geojson, .gpkg, .shp, .csv).")
    layer: str | None = Field(None, description="The layer of a GeoPackage with several (None: its first).")
    id: str = Field("id", description="Column of each feature's unique id.")
    name: str = Field("name", description="Column of its name.")
    longitude: str = Field("longitude", description="CSV only: column of the longitude (or x in the file's crs).")
    latitude: str = Field("latitude", description="CSV only: column of the latitude (or y).")
    crs: str | None = Field(
        None,
        description="CSV: the crs of its coordinates (None: longitude and latitude, EPSG:4326). A GIS file names "
        "its own; one that does not is an error unless this is set.",
    )


class SettlementLayer(Layer):
    """Settlements (GRID3 points or polygons, a census table): their households or their population (one of
    the two)."""

    households: str | None = Field(None, description="Column of its households.")
    population: str | None = Field(
        None, description="Column of its people, divided by population.persons_per_household into households."
    )

    @model_validator(mode="after")
    def _one_count(self) -> "SettlementLayer":
        if (self.households is None) == (self.population is None):
            raise ValueError("name the column of either households or population (exactly one)")
        return self


class FacilityLayer(Layer):
    """Facilities (a DHIS2 organisation-unit export, a master facility list) and their level. A DHIS2
    `organisationUnits.geojson` reads as it is: its features' ids are the `id` column, and `level = "groups"`
    with [facilities.levels] mapping its organisation unit groups (CSCom, CSRef) gives each unit's level."""

    level: str = Field("level", description="Column of the facility's level.")
    levels: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_LEVELS),
        description="The file's level values (case and spaces ignored) -> commsim's level: 1 first-level, 2 referral.",
    )
    methods: str | None = Field(
        None,
        description="Column of the FP methods it provides, separated by ';' or ',' (pill, injectable, "
        "self_injection, implant, iud, condom; an empty cell: all). None: every facility provides every method.",
    )
    capacity: str | None = Field(
        None,
        description="Column of the FP clients it can serve a month (empty: its level's, facilities.capacity_per_month "
        "or referral_capacity_per_month).",
    )


class BoundaryLayer(_Table):
    file: str = Field(description="A polygon file of the district's boundary.")
    layer: str | None = None


class RoadLayer(_Table):
    """A road and path network (lines): where given, how much longer than the straight line each settlement's
    way to a facility is, against the district's usual detour, lengthens or shortens the distance its women
    travel."""

    file: str = Field(description="A line file (GeoPackage, GeoJSON, Shapefile) of roads and paths.")
    layer: str | None = None


class LinkedLayer(_Table):
    """A table whose rows each belong to a settlement (CHW posts, women's groups): a CSV, or a GIS file whose
    geometry is not needed."""

    file: str = Field(description="The file, relative to the district's directory.")
    layer: str | None = None
    id: str = Field("id", description="Column of each row's unique id.")
    settlement: str = Field("settlement", description="Column of the id of the settlement it serves or meets in.")


class ChwLayer(LinkedLayer):
    """CHW posts that are staffed: their villages' posts have an active CHW (in place of chws.coverage)."""

    fp_trained: str | None = Field(None, description="Column: 1 if the CHW is trained in FP, 0 if not (None: drawn).")


class GroupLayer(LinkedLayer):
    """Women's groups that exist: their villages have a group (in place of groups.village_share)."""

    members: str | None = Field(None, description="Column of its members (None: as the model draws them).")
    capacity: str | None = Field(None, description="Column of its capacity, 0-1 (None: as the model draws it).")


class RoutineLayer(_Table):
    """Monthly family-planning service data in the DHIS2 data-value layout: one row per org unit (a facility's
    id), period (YYYYMM), data element and value; data elements named as commsim's service statistics name them
    ("FP new acceptors - implant"), or mapped to those names in `elements`."""

    file: str = Field(description="A CSV, relative to the district's directory.")
    org_unit: str = Field("orgunit", description="Column of the org unit: a facility id of the facilities file.")
    period: str = Field("period", description="Column of the monthly period, YYYYMM.")
    data_element: str = Field("dataelement", description="Column of the data element.")
    value: str = Field("value", description="Column of the value.")
    elements: dict[str, str] = Field(
        default_factory=dict, description="The file's data element names -> commsim's (unmapped: taken as they are)."
    )


class Layout(_Table):
    """`district.toml`: what the district is and which of its files hold what."""

    name: str
    description: str = ""
    illustrative: bool = Field(False, description="True where the files are made up, not a real district's data.")
    settlements: SettlementLayer
    facilities: FacilityLayer
    boundary: BoundaryLayer | None = None
    roads: RoadLayer | None = None
    chws: ChwLayer | None = None
    groups: GroupLayer | None = None
    routine: RoutineLayer | None = None


class District(NamedTuple):
    """A read district, in km of its UTM zone with the south-west corner of its settlements and facilities at
    the origin."""

    name: str
    illustrative: bool  # made-up files, not a real district's data
    crs: str  # the projected CRS it was measured in
    settlement_ids: np.ndarray  # str
    settlement_names: np.ndarray  # str
    sx: np.ndarray  # km
    sy: np.ndarray
    s_lonlat: np.ndarray  # (n, 2) longitude and latitude
    households: np.ndarray  # index women of each settlement (int64)
    facility_ids: np.ndarray
    facility_names: np.ndarray
    fx: np.ndarray
    fy: np.ndarray
    f_lonlat: np.ndarray
    level: np.ndarray  # uint8: 1 or 2
    capacity: np.ndarray  # FP clients a month each facility can serve, NaN: its level's
    offers: np.ndarray  # (facilities, methods) 1.0 for each method it provides, in METHODS order
    width_km: float
    height_km: float
    boundary: tuple[np.ndarray, ...]  # outer rings of its boundary's polygons, (k, 2) arrays in km (none: ())
    detour: np.ndarray | None  # (settlements, facilities): road km / straight km over the district's median; None
    chw_settlements: np.ndarray | None  # the settlement (index) of each staffed CHW post; None: no CHW file
    chw_trained: np.ndarray | None  # float per post: 1 FP-trained, 0 not, NaN drawn
    group_settlements: np.ndarray | None  # the settlement (index) of each group; None: no group file
    group_members: np.ndarray | None  # float per group, NaN: drawn
    group_capacity: np.ndarray | None  # float per group, NaN: drawn


def directory(name: str | Path) -> Path:
    """The district directory `name`: as given (absolute, or relative to the working directory), else relative to
    the checkout or install that ships `districts/`."""
    path = Path(name)
    if (path / LAYOUT).is_file():
        return path
    shipped = tomlfiles.shipped_dir("districts").parent / path
    if not path.is_absolute() and (shipped / LAYOUT).is_file():
        return shipped
    raise DistrictError(f"{tomlfiles.shown(name)}: not a district directory (it needs a {LAYOUT} naming its files)")


def layout(folder: Path) -> Layout:
    """The directory's `district.toml`, validated; a bad key is named with what is allowed."""
    path = folder / LAYOUT
    data = tomlfiles.read(path, DistrictError)
    try:
        return Layout.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise DistrictError(f"{tomlfiles.shown(path)}: {where}: {first['msg']}") from None


def _read_layer(folder: Path, spec: Layer | BoundaryLayer | RoadLayer, key: str) -> Any:
    """The layer's features as a GeoDataFrame in its own crs."""
    import geopandas
    import pyogrio

    path = folder / spec.file
    if not path.is_file():
        raise DistrictError(f"{tomlfiles.shown(folder / LAYOUT)}: {key}.file: no such file {tomlfiles.shown(path)}")
    if path.suffix.lower() == ".csv":
        if not isinstance(spec, Layer):
            raise DistrictError(f"{tomlfiles.shown(path)}: {key} must be a GIS file (GeoJSON, GeoPackage, Shapefile)")
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        for column in (spec.longitude, spec.latitude):
            _column(table, column, path, key, "longitude" if column == spec.longitude else "latitude")
        x, y = _numbers(table, spec.longitude, path, spec), _numbers(table, spec.latitude, path, spec)
        crs = _crs(spec.crs, key, folder) if spec.crs is not None else GEOGRAPHIC
        return geopandas.GeoDataFrame(table, geometry=geopandas.points_from_xy(x, y), crs=crs)
    try:
        frame = geopandas.read_file(path, layer=spec.layer, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError) as err:
        raise DistrictError(f"{tomlfiles.shown(path)}: cannot read as a GIS file: {err}") from None
    if frame.crs is None:
        given = getattr(spec, "crs", None)
        if given is None:
            raise DistrictError(
                f"{tomlfiles.shown(path)}: CRS unknown (the file names none): give it as {key}.crs in {LAYOUT}, "
                'e.g. crs = "EPSG:4326"'
            )
        frame = frame.set_crs(_crs(given, key, folder))
    return frame


def _crs(text: str, key: str, folder: Path) -> Any:
    """The CRS `text` names; one PROJ does not know is one message naming the key."""
    import pyproj

    try:
        return pyproj.CRS.from_user_input(text)
    except pyproj.exceptions.CRSError:
        raise DistrictError(
            f'{tomlfiles.shown(folder / LAYOUT)}: {key}.crs: unknown CRS {text!r} (e.g. "EPSG:4326")'
        ) from None


def _column(table: pd.DataFrame, column: str, path: Path, key: str, field: str) -> None:
    if column not in table.columns:
        have = ", ".join(str(c) for c in table.columns if c != "geometry") or "none"
        raise DistrictError(
            f"{tomlfiles.shown(path)}: no column {column!r} ({key}.{field} in {LAYOUT}); its columns: {have}"
        )


def _numbers(table: pd.DataFrame, column: str, path: Path, spec: Layer) -> np.ndarray:
    """The column as floats; a feature whose value is missing or not a number is named."""
    values = pd.to_numeric(table[column].replace("", np.nan), errors="coerce")
    bad = np.flatnonzero(~np.isfinite(values.to_numpy(float)))
    if bad.size:
        row = int(bad[0])
        ident = table[spec.id].iloc[row] if spec.id in table.columns else f"row {row + 2}"
        raise DistrictError(
            f"{tomlfiles.shown(path)}: feature {ident}: {column} is missing or not a number "
            f"(got {tomlfiles.shown_value(table[column].iloc[row])})"
        )
    return values.to_numpy(float)


def _ids(frame: Any, spec: Layer, path: Path, key: str) -> np.ndarray:
    _column(frame, spec.id, path, key, "id")
    ids = frame[spec.id].astype(str).str.strip().to_numpy()
    empty = np.flatnonzero(ids == "")
    if empty.size:
        raise DistrictError(f"{tomlfiles.shown(path)}: row {int(empty[0]) + 1}: {spec.id} is empty")
    seen: dict[str, int] = {}
    for row, ident in enumerate(ids):
        if ident in seen:
            raise DistrictError(
                f"{tomlfiles.shown(path)}: feature {ident}: duplicate {spec.id} (rows {seen[ident] + 1} and {row + 1})"
            )
        seen[ident] = row
    return ids


def _points(frame: Any, ids: np.ndarray, path: Path) -> Any:
    """Each feature's point (a polygon's representative point), after naming any feature without a location."""
    missing = np.flatnonzero(frame.geometry.isna().to_numpy() | frame.geometry.is_empty.to_numpy())
    if missing.size:
        raise DistrictError(f"{tomlfiles.shown(path)}: feature {ids[missing[0]]}: missing coordinates (no geometry)")
    return frame.geometry.representative_point()


def _geographic_check(points: Any, ids: np.ndarray, path: Path) -> None:
    """In degrees, a longitude outside -180..180 or a latitude outside -90..90 is a wrong crs or swapped columns."""
    lon, lat = points.x.to_numpy(), points.y.to_numpy()
    bad = np.flatnonzero((np.abs(lon) > 180) | (np.abs(lat) > 90))
    if bad.size:
        raise DistrictError(
            f"{tomlfiles.shown(path)}: feature {ids[bad[0]]}: coordinates ({lon[bad[0]]:g}, {lat[bad[0]]:g}) are not "
            "a longitude and latitude: is the crs right (or are the columns swapped)?"
        )


def _households(frame: Any, spec: SettlementLayer, ids: np.ndarray, path: Path, per_household: float) -> np.ndarray:
    """Households of each settlement: its households column, else its population / persons per household."""
    column = spec.households if spec.households is not None else spec.population
    key = "households" if spec.households is not None else "population"
    if column not in frame.columns:
        have = ", ".join(str(c) for c in frame.columns if c != "geometry")
        raise DistrictError(
            f"{tomlfiles.shown(path)}: population missing: no column {column!r} (settlements.{key} in {LAYOUT}); "
            f"its columns: {have}"
        )
    values = pd.to_numeric(frame[column].astype(str).str.strip().replace("", np.nan), errors="coerce").to_numpy(float)
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
    if bad.size:
        raise DistrictError(
            f"{tomlfiles.shown(path)}: feature {ids[bad[0]]}: {column} is missing or not a count of at least 0 "
            f"(got {tomlfiles.shown_value(frame[column].iloc[bad[0]])})"
        )
    households = values if column == spec.households else values / per_household
    return np.rint(households).astype(np.int64)


def _levels(frame: Any, spec: FacilityLayer, ids: np.ndarray, path: Path) -> np.ndarray:
    """Each facility's level from its level column; a cell holding a list (a DHIS2 export's organisation unit
    groups) takes the first of its values that `levels` maps."""
    _column(frame, spec.level, path, "facilities", "level")
    table = {_level_key(k): v for k, v in spec.levels.items()}
    level = np.zeros(len(frame), np.uint8)
    for row, value in enumerate(frame[spec.level]):
        values = [str(v) for v in value] if isinstance(value, list | tuple | np.ndarray) else [str(value)]
        found = next((table[_level_key(v)] for v in values if table.get(_level_key(v)) in LEVELS), None)
        if found is None:
            allowed = ", ".join(sorted(repr(k) for k, v in spec.levels.items() if v in LEVELS))
            shown = values[0] if len(values) == 1 else values
            raise DistrictError(
                f"{tomlfiles.shown(path)}: feature {ids[row]}: unknown level {shown!r} in {spec.level} (allowed: "
                f"{allowed}; map others in facilities.levels of {LAYOUT})"
            )
        level[row] = found
    return level


def _level_key(value: str) -> str:
    """A level value as looked up: lower case, single spaces, without a float's ".0"."""
    text = " ".join(str(value).lower().split())
    return text[:-2] if text.endswith(".0") else text


def utm_crs(lon: np.ndarray, lat: np.ndarray) -> str:
    """The UTM zone (WGS 84) of the centre of the points' extent, so that a district across a zone border is
    measured in the zone most of it lies in."""
    centre_lon = (float(lon.min()) + float(lon.max())) / 2.0
    centre_lat = (float(lat.min()) + float(lat.max())) / 2.0
    zone = min(60, math.floor((centre_lon + 180.0) / 6.0) + 1)
    return f"EPSG:{32600 + zone if centre_lat >= 0 else 32700 + zone}"


@cache
def _read(folder: Path, stamp: tuple[int, ...], persons_per_household: float) -> District:
    """The district in `folder` (`stamp`: its files' modification times, so an edited file is read again)."""
    spec = layout(folder)
    s_path, f_path = folder / spec.settlements.file, folder / spec.facilities.file
    settlements = _read_layer(folder, spec.settlements, "settlements")
    facilities = _read_layer(folder, spec.facilities, "facilities")
    s_ids, f_ids = (
        _ids(settlements, spec.settlements, s_path, "settlements"),
        _ids(facilities, spec.facilities, f_path, "facilities"),
    )
    if not s_ids.size:
        raise DistrictError(f"{tomlfiles.shown(s_path)}: no settlements")
    if not f_ids.size:
        raise DistrictError(f"{tomlfiles.shown(f_path)}: no facilities")
    s_points = _points(settlements, s_ids, s_path).to_crs(GEOGRAPHIC)
    f_points = _points(facilities, f_ids, f_path).to_crs(GEOGRAPHIC)
    _geographic_check(s_points, s_ids, s_path)
    _geographic_check(f_points, f_ids, f_path)
    households = _households(settlements, spec.settlements, s_ids, s_path, persons_per_household)
    if households.sum() == 0:
        raise DistrictError(f"{tomlfiles.shown(s_path)}: population missing: every settlement has 0 households")
    level = _levels(facilities, spec.facilities, f_ids, f_path)
    lon = np.concatenate([s_points.x.to_numpy(), f_points.x.to_numpy()])
    lat = np.concatenate([s_points.y.to_numpy(), f_points.y.to_numpy()])
    crs = utm_crs(lon, lat)
    shape = None if spec.boundary is None else _boundary(folder, spec.boundary)
    if shape is not None:
        _inside(folder, spec.boundary, shape, s_points, s_ids, s_path, f_points, f_ids, f_path)
    s_xy, f_xy = s_points.to_crs(crs), f_points.to_crs(crs)
    x0 = min(s_xy.x.min(), f_xy.x.min())
    y0 = min(s_xy.y.min(), f_xy.y.min())
    rings = () if shape is None else _rings(shape, crs, x0, y0)
    detour = None if spec.roads is None else _detour(folder, spec.roads, crs, s_xy, f_xy)
    sx, sy = (s_xy.x.to_numpy() - x0) / 1000.0, (s_xy.y.to_numpy() - y0) / 1000.0
    fx, fy = (f_xy.x.to_numpy() - x0) / 1000.0, (f_xy.y.to_numpy() - y0) / 1000.0
    return District(
        name=spec.name,
        illustrative=spec.illustrative,
        crs=crs,
        settlement_ids=s_ids,
        settlement_names=_names(settlements, spec.settlements, s_ids),
        sx=sx,
        sy=sy,
        s_lonlat=np.column_stack([s_points.x.to_numpy(), s_points.y.to_numpy()]),
        households=households,
        facility_ids=f_ids,
        facility_names=_names(facilities, spec.facilities, f_ids),
        fx=fx,
        fy=fy,
        f_lonlat=np.column_stack([f_points.x.to_numpy(), f_points.y.to_numpy()]),
        level=level,
        capacity=_optional(facilities, spec.facilities.capacity, f_ids, f_path, "facilities", "capacity", math.inf),
        offers=_offers(facilities, spec.facilities, f_ids, f_path),
        width_km=float(max(sx.max(), fx.max())),
        height_km=float(max(sy.max(), fy.max())),
        boundary=rings,
        detour=detour,
        **_linked(folder, spec, s_ids),
    )


def _offers(frame: Any, spec: FacilityLayer, ids: np.ndarray, path: Path) -> np.ndarray:
    """Each facility's methods as a (facilities, methods) array of 1.0 and 0.0; an unknown method is named."""
    offers = np.ones((len(frame), len(METHODS)))
    if spec.methods is None:
        return offers
    _column(frame, spec.methods, path, "facilities", "methods")
    for row, text in enumerate(frame[spec.methods].astype(str)):
        named = [part.strip().lower() for part in text.replace(";", ",").split(",") if part.strip()]
        if not named:
            continue
        unknown = [name for name in named if name not in METHODS]
        if unknown:
            raise DistrictError(
                f"{tomlfiles.shown(path)}: feature {ids[row]}: unknown method {unknown[0]!r} in {spec.methods} "
                f"(allowed: {', '.join(METHODS)})"
            )
        offers[row] = [1.0 if method in named else 0.0 for method in METHODS]
    return offers


def _names(frame: Any, spec: Layer, ids: np.ndarray) -> np.ndarray:
    return frame[spec.name].astype(str).to_numpy() if spec.name in frame.columns else ids


def _linked(folder: Path, spec: Layout, settlement_ids: np.ndarray) -> dict[str, np.ndarray | None]:
    """The CHW posts' and groups' settlements and their optional columns."""
    found: dict[str, np.ndarray | None] = dict.fromkeys(
        ("chw_settlements", "chw_trained", "group_settlements", "group_members", "group_capacity")
    )
    index = {ident: k for k, ident in enumerate(settlement_ids)}
    for key, layer in (("chws", spec.chws), ("groups", spec.groups)):
        if layer is None:
            continue
        path = folder / layer.file
        table = _linked_table(folder, layer, key)
        ids = _ids(table, layer, path, key)
        _column(table, layer.settlement, path, key, "settlement")
        settlement = table[layer.settlement].astype(str).str.strip().to_numpy()
        unknown = [k for k, ident in enumerate(settlement) if ident not in index]
        if unknown:
            raise DistrictError(
                f"{tomlfiles.shown(path)}: feature {ids[unknown[0]]}: {layer.settlement} "
                f"{settlement[unknown[0]]!r} is not a settlement id of {spec.settlements.file}"
            )
        at = np.array([index[ident] for ident in settlement], np.int64)
        if key == "chws":
            found["chw_settlements"] = at
            found["chw_trained"] = _optional(table, layer.fp_trained, ids, path, key, "fp_trained", 1.0)
        else:
            found["group_settlements"] = at
            found["group_members"] = _optional(table, layer.members, ids, path, key, "members", math.inf)
            found["group_capacity"] = _optional(table, layer.capacity, ids, path, key, "capacity", 1.0)
    return found


def _linked_table(folder: Path, layer: LinkedLayer, key: str) -> Any:
    path = folder / layer.file
    if not path.is_file():
        raise DistrictError(f"{tomlfiles.shown(folder / LAYOUT)}: {key}.file: no such file {tomlfiles.shown(path)}")
    if path.suffix.lower() == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    import geopandas
    import pyogrio

    try:
        return geopandas.read_file(path, layer=layer.layer, engine="pyogrio", ignore_geometry=True)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError) as err:
        raise DistrictError(f"{tomlfiles.shown(path)}: cannot read: {err}") from None


def _optional(
    table: Any, column: str | None, ids: np.ndarray, path: Path, key: str, field: str, most: float
) -> np.ndarray:
    """An optional numeric column (NaN where empty), each value within 0..`most`; all NaN if not named."""
    if column is None:
        return np.full(len(table), np.nan)
    _column(table, column, path, key, field)
    text = table[column].astype(str).str.strip()
    values = pd.to_numeric(text.replace("", np.nan), errors="coerce").to_numpy(float)
    valid = np.isin(values, (0.0, 1.0)) if field == "fp_trained" else (values >= 0) & (values <= most)
    bad = np.flatnonzero((text != "").to_numpy() & ~valid)
    if bad.size:
        allowed = "1 or 0" if field == "fp_trained" else f"0 to {most:g}" if math.isfinite(most) else "a count"
        raise DistrictError(
            f"{tomlfiles.shown(path)}: feature {ids[bad[0]]}: {column} must be {allowed} "
            f"(got {tomlfiles.shown_value(table[column].iloc[bad[0]])})"
        )
    return values


SHORT_KM = 0.5  # pairs nearer than this keep the straight line: the way to the road dominates a short trip


def _detour(folder: Path, spec: RoadLayer, crs: str, settlements: Any, facilities: Any) -> np.ndarray:
    """Each settlement-facility pair's road distance over its straight line, relative to the median of the
    district's pairs (1 where the pair is nearer than SHORT_KM or the roads do not join them). Road distance:
    the walk to the nearest road vertex at each end plus the shortest path along the lines (SciPy's Dijkstra
    from each facility); the distance decay stays per straight-line km, as its evidence measured it, so only how
    much worse or better than usual a pair is connected moves its women's distance."""
    import shapely
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra
    from scipy.spatial import cKDTree

    lines = _read_layer(folder, spec, "roads").to_crs(crs).geometry.explode(index_parts=False)
    lines = lines[lines.geom_type == "LineString"]
    if lines.empty:
        raise DistrictError(f"{tomlfiles.shown(folder / spec.file)}: no lines (roads must be LineStrings)")
    coords, part = shapely.get_coordinates(lines.to_numpy(), return_index=True)
    nodes, node = np.unique(np.round(coords, 0), axis=0, return_inverse=True)
    joined = part[1:] == part[:-1]
    a, b = node[:-1][joined], node[1:][joined]
    length = np.hypot(*(coords[1:][joined] - coords[:-1][joined]).T) / 1000.0
    n = nodes.shape[0]
    graph = coo_matrix((np.r_[length, length], (np.r_[a, b], np.r_[b, a])), shape=(n, n)).tocsr()
    tree = cKDTree(nodes)
    s_xy = np.column_stack([settlements.x.to_numpy(), settlements.y.to_numpy()])
    f_xy = np.column_stack([facilities.x.to_numpy(), facilities.y.to_numpy()])
    s_walk, s_node = tree.query(s_xy)
    f_walk, f_node = tree.query(f_xy)
    road = np.empty((s_xy.shape[0], f_xy.shape[0]))
    for lo in range(0, f_node.size, 64):  # batches of facilities bound the memory of the distance rows
        rows = dijkstra(graph, indices=f_node[lo : lo + 64])
        road[:, lo : lo + 64] = rows[:, s_node].T
    road += s_walk[:, None] / 1000.0 + f_walk[None, :] / 1000.0
    straight = np.hypot(s_xy[:, None, 0] - f_xy[None, :, 0], s_xy[:, None, 1] - f_xy[None, :, 1]) / 1000.0
    usable = np.isfinite(road) & (straight >= SHORT_KM)
    ratio = np.where(usable, road / np.maximum(straight, SHORT_KM), np.nan)
    median = float(np.nanmedian(ratio)) if usable.any() else 1.0
    return np.where(usable, ratio / median, 1.0)


def _boundary(folder: Path, spec: BoundaryLayer) -> Any:
    """The boundary file's polygons as one shape in longitude and latitude."""
    return _read_layer(folder, spec, "boundary").to_crs(GEOGRAPHIC).geometry.union_all()


def _rings(shape: Any, crs: str, x0: float, y0: float) -> tuple[np.ndarray, ...]:
    """The outer rings of the boundary's polygons in the district's km."""
    import geopandas

    projected = geopandas.GeoSeries([shape], crs=GEOGRAPHIC).to_crs(crs).iloc[0]
    polygons = getattr(projected, "geoms", [projected])
    return tuple((np.asarray(p.exterior.coords) - (x0, y0)) / 1000.0 for p in polygons if hasattr(p, "exterior"))


def _inside(folder: Path, spec: BoundaryLayer, shape: Any, *layers: Any) -> None:
    """Every settlement and facility lies within the boundary (or on it)."""
    for points, ids, path in zip(layers[::3], layers[1::3], layers[2::3], strict=True):
        outside = np.flatnonzero(~points.intersects(shape.buffer(1e-9)).to_numpy())
        if outside.size:
            p = points.iloc[outside[0]]
            raise DistrictError(
                f"{tomlfiles.shown(path)}: feature {ids[outside[0]]}: outside the boundary "
                f"{tomlfiles.shown(folder / spec.file)} (at {p.x:.5f}, {p.y:.5f})"
            )


def read_district(name: str | Path, persons_per_household: float) -> District:
    """The district in directory `name`, read once per state of its files."""
    folder = directory(name).resolve()
    stamp = tuple(p.stat().st_mtime_ns for p in sorted(folder.iterdir()) if p.is_file())
    return _read(folder, stamp, persons_per_household)


def index_women(district: District, per_household: float) -> np.ndarray:
    """Index women the model simulates in each settlement: its households x `per_household`, rounded."""
    return np.rint(district.households * per_household).astype(np.int64)


def nearest_facility_km(district: District) -> np.ndarray:
    """Each settlement's straight-line distance to its nearest facility, km."""
    from scipy.spatial import cKDTree

    settlements = np.column_stack([district.sx, district.sy])
    return cKDTree(np.column_stack([district.fx, district.fy])).query(settlements, k=1)[0]


ROUTINE_COLUMNS = ("org_unit", "period", "data_element", "value")


def read_routine(name: str | Path, elements: Iterable[str], facility_ids: Iterable[str]) -> pd.DataFrame | None:
    """The district's routine monthly data (None if its district.toml names none) as org_unit, period,
    data_element (commsim's names) and value, checked: every org unit one of `facility_ids` (the read district's),
    every period a YYYYMM month, every data element one of `elements`, every value a number of at least 0, no
    row twice."""
    folder = directory(name).resolve()
    spec = layout(folder)
    if spec.routine is None:
        return None
    routine = spec.routine
    path = folder / routine.file
    if not path.is_file():
        raise DistrictError(f"{tomlfiles.shown(folder / LAYOUT)}: routine.file: no such file {tomlfiles.shown(path)}")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    columns = dict(
        zip(ROUTINE_COLUMNS, (routine.org_unit, routine.period, routine.data_element, routine.value), strict=True)
    )
    for field, column in columns.items():
        _column(table, column, path, "routine", field)
    frame = pd.DataFrame({field: table[column].str.strip() for field, column in columns.items()})
    frame["data_element"] = frame["data_element"].map(lambda e: routine.elements.get(e, e))
    facilities = set(facility_ids)
    known = set(elements)
    for row, record in enumerate(frame.itertuples(index=False), start=2):
        where = f"{tomlfiles.shown(path)}: row {row}"
        if record.org_unit not in facilities:
            raise DistrictError(
                f"{where}: {routine.org_unit} {record.org_unit!r} is not a facility id of {spec.facilities.file}"
            )
        if not _is_period(record.period):
            raise DistrictError(f"{where}: {routine.period} {record.period!r} is not a month YYYYMM")
        if record.data_element not in known:
            raise DistrictError(
                f"{where}: unknown data element {record.data_element!r} in {routine.data_element} (commsim's are "
                f"like 'FP new acceptors - implant'; map yours in routine.elements of {LAYOUT})"
            )
    values = pd.to_numeric(frame["value"].replace("", np.nan), errors="coerce").to_numpy(float)
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
    if bad.size:
        raise DistrictError(
            f"{tomlfiles.shown(path)}: row {int(bad[0]) + 2}: {routine.value} is not a number of at least 0 "
            f"(got {tomlfiles.shown_value(frame['value'].iloc[bad[0]])})"
        )
    frame["value"] = values
    twice = np.flatnonzero(frame.duplicated(["org_unit", "period", "data_element"]).to_numpy())
    if twice.size:
        raise DistrictError(
            f"{tomlfiles.shown(path)}: row {int(twice[0]) + 2}: the same org unit, period and data element twice"
        )
    return frame


def _is_period(text: str) -> bool:
    return len(text) == 6 and text.isdigit() and 1 <= int(text[4:]) <= 12


GUESSES: dict[str, tuple[str, ...]] = {  # a layout key -> column names it is guessed from (lower case, in order)
    "id": ("id", "uid", "code", "settlement_id", "facility_id", "post_id", "group_id", "orgunit", "fid"),
    "name": ("name", "nom", "label", "settlement_name", "facility_name", "displayname"),
    "households": ("households", "menages", "hh", "n_households"),
    "population": ("population", "pop", "people", "pop_total"),
    "level": ("level", "type", "niveau", "facility_type"),
    "longitude": ("longitude", "lon", "lng", "long", "x"),
    "latitude": ("latitude", "lat", "y"),
    "settlement": ("settlement", "settlement_id", "village", "village_id"),
    "members": ("members", "membres", "n_members"),
    "fp_trained": ("fp_trained", "fp"),
    "capacity": ("capacity", "capacite"),
}
INIT_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {  # layer -> (keys it needs, keys it may have)
    "settlements": (("id",), ("name", "households", "population", "longitude", "latitude")),
    "facilities": (("id", "level"), ("name", "longitude", "latitude")),
    "chws": (("id", "settlement"), ("fp_trained",)),
    "groups": (("id", "settlement"), ("members", "capacity")),
}


def _columns_of(path: Path) -> list[str]:
    """A file's column names, from its header (CSV) or its first layer's fields."""
    if path.suffix.lower() == ".csv":
        return list(pd.read_csv(path, nrows=0).columns)
    import pyogrio

    try:
        return list(pyogrio.read_info(path)["fields"])
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as err:
        raise DistrictError(f"{tomlfiles.shown(path)}: cannot read as a GIS file: {err}") from None


def guess_layout(name: str, files: dict[str, Path], given: dict[str, str]) -> dict[str, Any]:
    """A district.toml (as a dict) for `files` (layer -> file, copied beside it under its own name): each layer's
    columns as `given` ("settlements.households" -> column) or guessed from common names; a needed column that
    is neither is an error listing the file's columns."""
    layout: dict[str, Any] = {"name": name}
    for layer, path in files.items():
        if layer == "boundary":
            layout[layer] = {"file": path.name}
            continue
        columns = _columns_of(path)
        lower = {c.lower(): c for c in columns}
        table: dict[str, Any] = {"file": path.name}
        needs, may = INIT_KEYS[layer]
        for key in (*needs, *may):
            column = given.get(f"{layer}.{key}") or next((lower[g] for g in GUESSES[key] if g in lower), None)
            if column is None and key in needs:
                raise DistrictError(
                    f"{tomlfiles.shown(path)}: no column for {layer}.{key} among {', '.join(columns) or 'none'}; "
                    f"name it with --column {layer}.{key}=COLUMN"
                )
            if column is not None:
                table[key] = column
        if layer == "settlements":
            _one_count_of(table, given, path, columns)
        if layer in ("settlements", "facilities") and path.suffix.lower() == ".csv":
            for key in ("longitude", "latitude"):
                if key not in table:
                    raise DistrictError(
                        f"{tomlfiles.shown(path)}: no column for {layer}.{key} among {', '.join(columns)}; "
                        f"name it with --column {layer}.{key}=COLUMN"
                    )
        layout[layer] = table
    return layout


def _one_count_of(table: dict[str, Any], given: dict[str, str], path: Path, columns: list[str]) -> None:
    """Settlements keep one count column: households where both are found, unless population was given."""
    if "households" in table and "population" in table:
        del table[
            "households"
            if "settlements.population" in given and "settlements.households" not in given
            else "population"
        ]
    if "households" not in table and "population" not in table:
        raise DistrictError(
            f"{tomlfiles.shown(path)}: population missing: no column for settlements.households or "
            f"settlements.population among {', '.join(columns)}; name one with --column settlements.population=COLUMN"
        )


def straight_km(district: District) -> np.ndarray:
    """(settlements, facilities) straight-line km."""
    return np.hypot(district.sx[:, None] - district.fx[None, :], district.sy[:, None] - district.fy[None, :])

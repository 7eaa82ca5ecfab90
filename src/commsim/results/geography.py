"""A district run's results where they happened, as GeoJSON a GIS opens: each settlement with its households,
users and mCPR at the end and its distance to a facility; each facility with what it recorded over the run
(methods summed, its CHWs' under it). Points in longitude and latitude (RFC 7946)."""

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from commsim.model.services import ELEMENTS
from commsim.outfiles import replacing
from commsim.scenario.district import District, nearest_facility_km


def _collection(lonlat: np.ndarray, properties: list[dict[str, Any]]) -> dict[str, Any]:
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(x), float(y)]}, "properties": props}
        for (x, y), props in zip(lonlat, properties, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


def settlements(district: District, villages: pd.DataFrame) -> dict[str, Any]:
    """Settlements with households, users and mCPR (users / households) at the end of the run."""
    far = nearest_facility_km(district)
    rows = [
        {
            "id": str(district.settlement_ids[k]),
            "name": str(district.settlement_names[k]),
            "households": int(villages.households.iloc[k]),
            "users": int(villages.users.iloc[k]),
            "mcpr": float(villages.users.iloc[k] / villages.households.iloc[k])
            if villages.households.iloc[k]
            else None,
            "km_to_facility": round(float(far[k]), 3),
        }
        for k in range(district.sx.size)
    ]
    return _collection(district.s_lonlat, rows)


def facilities(district: District, statistics: pd.DataFrame) -> dict[str, Any]:
    """Facilities with their level and each element's total over the run (`model.services.long_table` rows)."""
    totals = statistics.groupby(["facility", "element"])["value"].sum().unstack(fill_value=0.0)
    totals = totals.reindex(index=range(district.fx.size), columns=list(ELEMENTS), fill_value=0.0)
    rows = [
        {
            "id": str(district.facility_ids[k]),
            "name": str(district.facility_names[k]),
            "level": int(district.level[k]),
            **{element: float(totals.iloc[k][element]) for element in ELEMENTS},
        }
        for k in range(district.fx.size)
    ]
    return _collection(district.f_lonlat, rows)


def write_geojson(collection: dict[str, Any], path: Path) -> Path:
    with replacing(path) as temporary:
        temporary.write_text(json.dumps(collection), encoding="utf-8")
    return path

"""The model against a district's routine data: the service statistics a run recorded beside what the district's
DHIS2 holds, on the facility-months the district reported. A month a facility did not report is not a zero; a
data element missing from a month it reported is (DHIS2 stores no zeros by default)."""

import numpy as np
import pandas as pd

KEYS = ["org_unit", "period", "data_element"]
FIT_COLUMNS = ("facility_months", "observed", "model", "mape_facility_months", "mape_district_months")


def paired(observed: pd.DataFrame, modelled: pd.DataFrame) -> pd.DataFrame:
    """Every data element of the routine data in every facility-month it reported within the run's periods,
    with the observed and the modelled value (0 where either has no row): org_unit, period, data_element, kind
    (the element without its method, "FP new acceptors"), observed, model."""
    inside = observed[observed["period"].isin(set(modelled["period"]))]
    months = inside[["org_unit", "period"]].drop_duplicates()
    elements = pd.DataFrame({"data_element": sorted(inside["data_element"].unique())})
    grid = months.merge(elements, how="cross")
    grid = grid.merge(inside, on=KEYS, how="left").merge(modelled, on=KEYS, how="left", suffixes=("", "_model"))
    return pd.DataFrame(
        {
            **{key: grid[key] for key in KEYS},
            "kind": grid["data_element"].str.split(" - ").str[0],
            "observed": grid["value"].fillna(0.0).to_numpy(float),
            "model": grid["value_model"].fillna(0.0).to_numpy(float),
        }
    )


def _mape(observed: pd.Series, model: pd.Series) -> float:
    """Mean absolute percentage error over the values observed above 0 (NaN if none)."""
    keep = observed > 0
    return float(np.mean(np.abs(model[keep] - observed[keep]) / observed[keep])) if keep.any() else float("nan")


def fit(pairs: pd.DataFrame, by: str = "data_element") -> pd.DataFrame:
    """Per data element (`by="kind"`: per element, methods summed) of `paired`: the facility-months, the observed
    and modelled totals, and the mean absolute percentage error over facility-months and over the district's
    months (facilities summed)."""
    rows = {}
    for key, group in pairs.groupby(by, sort=True):
        cells = group.groupby(["org_unit", "period"])[["observed", "model"]].sum()
        months = group.groupby("period")[["observed", "model"]].sum()
        rows[key] = (
            len(cells),
            group["observed"].sum(),
            group["model"].sum(),
            _mape(cells["observed"], cells["model"]),
            _mape(months["observed"], months["model"]),
        )
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(FIT_COLUMNS)).rename_axis(by).reset_index()


def district_series(pairs: pd.DataFrame) -> pd.DataFrame:
    """Per kind of element and period, the observed and modelled district totals over the facility-months
    reported."""
    return pairs.groupby(["kind", "period"], sort=True)[["observed", "model"]].sum().reset_index()

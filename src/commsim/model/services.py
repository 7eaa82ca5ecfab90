"""Service statistics: what a DHIS2 records of family planning each month, per facility and method.

Each facility reports its own clients (new acceptors, continuing users resupplied, units dispensed, stockout
days) and, as Mali's community health centres do for their ASC, its CHWs' clients (new acceptors and continuing
users served at home, units dispensed, CHWs out of the method). The model keeps one array a month; `long_table`
turns them into one row per facility, month, element and method with a value, the rows a store keeps.
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd

from commsim.model.kernels import chws as chw_kernels
from commsim.model.metrics import METHOD_NAMES
from commsim.scenario.schema import METHODS

# The data elements, declared once: code -> what the DHIS2 data element says
ELEMENTS: dict[str, str] = {
    "new_acceptors": "FP new acceptors",
    "continuing_users": "FP continuing users resupplied",
    "dispensed": "FP commodities dispensed",
    "stockout_days": "FP stockout days",
    "chw_new_acceptors": "FP new acceptors, community (CHW)",
    "chw_continuing_users": "FP continuing users resupplied, community (CHW)",
    "chw_dispensed": "FP commodities dispensed, community (CHW)",
    "chws_stocked_out": "CHWs out of stock",
}
ELEMENT = {code: e for e, code in enumerate(ELEMENTS)}  # an element's index in a month record
CHW_ELEMENTS = ELEMENT["chw_new_acceptors"]  # the first of the four CHW elements, in chws_by_facility's order
COLUMNS = ("month", "facility", "element", "method", "value")
DHIS2_COLUMNS = ("org_unit", "period", "data_element", "value")


def month_record(district, by_chw: np.ndarray) -> np.ndarray:
    """This month's statistics of every facility: an array (facilities, ELEMENTS, METHODS), CHWs' under their
    facility (`by_chw`: 1.0 for each method a CHW may give); read after the month's serve phase."""
    fac = district.facilities
    record = np.zeros((fac.stock.size, len(ELEMENTS), len(METHODS)))
    for code, column in (
        ("new_acceptors", fac.new_acceptors),
        ("continuing_users", fac.revisits),
        ("dispensed", fac.dispensed),
        ("stockout_days", fac.out_days * fac.offers),
    ):
        record[:, ELEMENT[code]] = column
    chw_kernels.chws_by_facility(district.chws, by_chw, record, CHW_ELEMENTS)
    return record


def long_table(months: list[np.ndarray]) -> pd.DataFrame:
    """Month records (the first is month 1) as one row per facility, month, element and method with a value
    other than zero."""
    if not months:
        return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in zip(COLUMNS, "iiOOf", strict=True)})
    stacked = np.stack(months)
    month, facility, element, method = np.nonzero(stacked)
    return pd.DataFrame(
        {
            "month": month + 1,
            "facility": facility,
            "element": np.array(list(ELEMENTS), dtype=object)[element],
            "method": np.array(METHODS, dtype=object)[method],
            "value": stacked[month, facility, element, method],
        }
    )


def org_unit(facility: int) -> str:
    """The code a facility of the synthetic district reports under (a district from files: its own ids)."""
    return f"FAC{facility + 1:04d}"


def data_element(element: str, method: str) -> str:
    """The DHIS2 data element of an element code and a method: "FP new acceptors - implant"."""
    return f"{ELEMENTS[element]} - {METHOD_NAMES[method]}"


DATA_ELEMENTS = tuple(data_element(e, k) for e in ELEMENTS for k in METHODS)


def period(start: str, month: int) -> str:
    """The DHIS2 monthly period (YYYYMM) of model month `month` (1 = `start`, a YYYY-MM)."""
    year, first = (int(part) for part in start.split("-"))
    index = first - 1 + month - 1
    return f"{year + index // 12}{index % 12 + 1:02d}"


def dhis2(table: pd.DataFrame, start: str, org_units: Sequence[str] | None = None) -> pd.DataFrame:
    """`long_table` rows as a DHIS2 data value export: org unit (`org_units[facility]` where a district from
    files gives its ids, else `org_unit`), period (YYYYMM), data element (`data_element`), value; in month,
    facility, ELEMENTS and METHODS order."""
    element = table["element"].map(ELEMENT).to_numpy()
    method = table["method"].map({k: i for i, k in enumerate(METHODS)}).to_numpy()
    table = table.iloc[np.lexsort((method, element, table["facility"].to_numpy(), table["month"].to_numpy()))]
    unit = org_unit if org_units is None else org_units.__getitem__
    return pd.DataFrame(
        {
            "org_unit": [unit(int(f)) for f in table["facility"]],
            "period": [period(start, int(m)) for m in table["month"]],
            "data_element": [data_element(e, k) for e, k in zip(table["element"], table["method"], strict=True)],
            "value": table["value"].to_numpy(),
        },
        columns=list(DHIS2_COLUMNS),
    )

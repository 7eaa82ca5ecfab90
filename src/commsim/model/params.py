"""Scenario -> the flat, all-float parameter tuple the rules read: every number of the behaviour sections under
its schema name (so units stay in the names, and nothing is declared twice), plus the few constants derived
from them once."""

import math
from collections import Counter
from typing import NamedTuple

from commsim.scenario.schema import Scenario

SECTIONS = ("households", "groups", "chws", "facilities")
NUMBERS = (int, float, bool)


def _schema_params() -> tuple[tuple[str, str, str], ...]:
    """(parameter, section, field) for every number of the behaviour sections; a field name that two sections
    share is prefixed by its section (`chws_quality`, `facilities_quality`)."""
    fields = [
        (section, name)
        for section in SECTIONS
        for name, info in Scenario.model_fields[section].annotation.model_fields.items()
        if info.annotation in NUMBERS
    ]
    shared = Counter(name for _, name in fields)
    return tuple((f"{section}_{name}" if shared[name] > 1 else name, section, name) for section, name in fields)


SCHEMA_PARAMS = _schema_params()
DERIVED = (
    "need_on_per_month",  # the monthly chance need switches on that keeps population.p_need stationary
    "log_odds_per_km",  # log of households.distance_odds_per_km
    "chw_access",  # chws.p_method_access where CHWs provide methods, else 0
    "rel_attrition_unsupported",  # chws.rel_attrition_no_refresher x chws.rel_attrition_unsupervised
)
Params = NamedTuple("Params", [(name, float) for name, _, _ in SCHEMA_PARAMS] + [(name, float) for name in DERIVED])
Params.__doc__ = "Every number a rule reads, as float64 (counts and flags too), so Numba and Python compute alike."


def build_params(sc: Scenario) -> Params:
    """Flatten a scenario into Params."""
    values = {param: float(getattr(getattr(sc, section), name)) for param, section, name in SCHEMA_PARAMS}
    h, c, pop = sc.households, sc.chws, sc.population
    need_on = h.need_turnover_per_month * pop.p_need / max(1.0 - pop.p_need, 1e-9)
    values.update(
        need_on_per_month=min(need_on, 1.0),
        log_odds_per_km=math.log(h.distance_odds_per_km),
        chw_access=c.p_method_access if c.provides_methods else 0.0,
        rel_attrition_unsupported=c.rel_attrition_no_refresher * c.rel_attrition_unsupervised,
    )
    return Params(**values)

"""What a month costs, by category, from its counts and the scenario's unit costs (US$; `scenario.schema.Costs`
and each method's price and provider minutes). The categories are `metrics.COST_BREAKDOWN`; they add up to the
month's cost.

The rules count the visits of each method (units dispensed / units a visit), its new users, the visits facilities
served and the new users CHWs took on, but not the visits of each method by source. A method no CHW may give is
given at facilities only; the first and resupply visits of the methods CHWs may give are split between CHWs and
facilities in proportion to the totals that are left (`visits_by_source`).
"""

import math

import numpy as np

from commsim.model import metrics as m
from commsim.model.params import chws_give_methods
from commsim.model.population import District
from commsim.model.state import CHW_ACTIVE
from commsim.scenario.schema import Scenario

ROUND_TRIP = 2.0  # a supervisor's visit and a CHW's restocking trip go there and back


def _part(amount: float, of: float) -> float:
    """The share `amount` is of `of`, within [0, 1]; 0 where there is nothing to share."""
    return min(max(amount / of, 0.0), 1.0) if of > 0 else 0.0


def visits_by_source(sc: Scenario, acc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """This month's visits of each method (METHODS order) that gave it: first visits and resupply visits at
    facilities, then first and resupply visits by CHWs. Facilities served FACILITY_VISITS - FAILED_VISITS visits,
    NEW_USERS - CHW_NEW_USERS of them a new user's; what the methods only facilities give do not account for is
    the facilities' share of the others, by method in proportion to each one's visits."""
    table = sc.methods.table()
    by_chw = np.array([x.by_chw for x in table]) & chws_give_methods(sc)
    visits = acc[m.UNITS_METHOD : m.UNITS_METHOD + m.N_METHODS] / np.array([x.units_per_visit for x in table])
    first = acc[m.NEW_METHOD : m.NEW_METHOD + m.N_METHODS].copy()
    resupply = visits - first
    facility_first = acc[m.NEW_USERS] - acc[m.CHW_NEW_USERS]
    facility_resupply = acc[m.FACILITY_VISITS] - acc[m.FAILED_VISITS] - facility_first
    share_first = _part(facility_first - first[~by_chw].sum(), first[by_chw].sum())
    share_resupply = _part(facility_resupply - resupply[~by_chw].sum(), resupply[by_chw].sum())
    at_facility_first = np.where(by_chw, first * share_first, first)
    at_facility_resupply = np.where(by_chw, resupply * share_resupply, resupply)
    return at_facility_first, at_facility_resupply, first - at_facility_first, resupply - at_facility_resupply


def month_costs(sc: Scenario, d: District, acc: np.ndarray, training_usd: float, *, stipends: bool) -> dict:
    """This month's cost (US$) by category, with `cost_month` their sum: commodities (units x price, plus the
    supply chain's share), provider time (each visit's minutes by method x a facility provider's or a CHW's
    minute, and CHWs' household visits), the CHW programme (stipends while they are paid, replacements and
    `training_usd`, this month's FP training), supervision and transport (supervised CHW-months, and the round
    trips of supervisors and restocking CHWs over each post's km to its facility), the group programme and
    supply support. `acc` is the month's accumulator, `d` the district at the month's end."""
    c, chw, grp = sc.costs, d.chws, d.groups
    table = sc.methods.table()
    minutes_first = np.array([x.provider_minutes_first for x in table])
    minutes_resupply = np.array([x.provider_minutes_resupply for x in table])
    facility_first, facility_resupply, chw_first, chw_resupply = visits_by_source(sc, acc)
    facility_minutes = float(facility_first @ minutes_first + facility_resupply @ minutes_resupply)
    chw_minutes = acc[m.CHW_VISITS] * c.chw_visit_minutes + float(
        chw_first @ minutes_first + chw_resupply @ minutes_resupply
    )
    active = chw.status == CHW_ACTIVE
    supervised_km = float(chw.remoteness[active & (chw.supervised == 1)].sum())
    restocking_km = float(chw.remoteness[active & (chw.fp_trained == 1)].sum()) if chws_give_methods(sc) else 0.0
    units = acc[m.UNITS_METHOD : m.UNITS_METHOD + m.N_METHODS]
    costs = {
        "cost_commodities": float(units @ [x.unit_cost_usd for x in table]) * (1.0 + c.logistics_share),
        "cost_provider_time": c.facility_minute_usd * facility_minutes + c.chw_minute_usd * chw_minutes,
        "cost_chw_programme": (acc[m.ACTIVE_CHWS] * c.chw_month_usd if stipends else 0.0)
        + acc[m.CHWS_HIRED] * c.chw_replacement_usd
        + training_usd,
        "cost_supervision_transport": acc[m.SUPERVISED_CHWS] * c.supervision_month_usd
        + ROUND_TRIP * c.transport_km_usd * (supervised_km + c.chw_restock_trips_per_month * restocking_km),
        "cost_group_programme": acc[m.GROUPS_TRAINED] * c.group_training_month_usd
        + acc[m.GROUPS_MENTORED] * c.mentoring_month_usd
        + np.count_nonzero(grp.linked_chw | grp.linked_facility) * c.linkage_month_usd
        + np.count_nonzero(grp.advocacy > 0) * c.advocacy_month_usd
        + np.count_nonzero(grp.feedback) * c.feedback_month_usd,
        "cost_supply_support": np.count_nonzero(d.facilities.supply_target > 0) * c.supply_facility_month_usd,
    }
    costs = {name: float(costs[name]) for name in m.COST_BREAKDOWN}
    return {**costs, "cost_month": math.fsum(costs.values())}

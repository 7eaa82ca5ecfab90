"""What a month costs, by category, from its counts and the scenario's unit costs (US$; `scenario.schema.Costs`
and each method's price and provider minutes). The categories are `metrics.COST_BREAKDOWN`; they add up to the
month's cost.

Visits by method and provider come from the month's service records (the facilities' and CHWs' new acceptors and
continuing users, `visits_by_source`).
"""

import math

import numpy as np

from commsim.model import metrics as m
from commsim.model.interventions import OneOff
from commsim.model.params import chws_give_methods
from commsim.model.population import District
from commsim.model.state import CHW_ACTIVE
from commsim.scenario.schema import Scenario

ROUND_TRIP = 2.0  # a supervisor's visit and a CHW's restocking trip go there and back


def visits_by_source(d: District) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """This month's visits of each method (METHODS order) that gave it, as the service records count them: first
    visits and resupply visits at facilities, then first and resupply visits by CHWs."""
    fac, chw = d.facilities, d.chws
    return (
        fac.new_acceptors.sum(axis=0).astype(float),
        fac.revisits.sum(axis=0).astype(float),
        chw.new_acceptors.sum(axis=0).astype(float),
        chw.revisits.sum(axis=0).astype(float),
    )


def stipend_months(sc: Scenario, d: District) -> float:
    """Active CHWs this month, each counted by her hours over the scenario's (chws.hours_per_month): a CHW whose
    hours an intervention raised is paid for them."""
    chw = d.chws
    return m.dot(chw.status == CHW_ACTIVE, chw.hours_per_month) / sc.chws.hours_per_month


def shared_savings(sc: Scenario, d: District) -> float:
    """What coordinated groups' shared resources save this month (US$): costs.coordination_saving of their links'
    and their CHWs' follow-ups' costs."""
    grp, chw, c = d.groups, d.chws, sc.costs
    coordinated = grp.coordinated == 1
    linked = coordinated & ((grp.linked_chw == 1) | (grp.linked_facility == 1))
    mentored = coordinated & (grp.linked_chw == 1) & (grp.chw >= 0) & (chw.status[np.maximum(grp.chw, 0)] == CHW_ACTIVE)
    usd = np.count_nonzero(linked) * c.linkage_month_usd + np.count_nonzero(mentored) * c.mentoring_month_usd
    return c.coordination_saving * usd


def month_costs(sc: Scenario, d: District, acc: np.ndarray, once: OneOff, *, stipends: bool) -> dict:
    """This month's cost (US$) by category, with `cost_month` their sum: commodities (units x price, plus the
    supply chain's share), provider time (each visit's minutes by method x a facility provider's or a CHW's
    minute, and CHWs' household visits), the CHW programme (stipends for their hours while they are paid,
    replacements and this month's FP training, `once`), supervision and transport (supervised CHW-months,
    and the round trips of supervisors and restocking CHWs over each post's km to its facility), the group
    programme (groups CHWs train, facilitators employed, mentoring, links, advocacy, feedback, shared records,
    sessions for husbands, monitoring reports, coordination less the resources it shares, non-health networks,
    and leaders engaged and groups co-created this month, `once`) and supply support.
    `acc` is the month's accumulator, `d` the district at the month's end."""
    c, chw, grp = sc.costs, d.chws, d.groups
    table = sc.methods.table()
    minutes_first = np.array([x.provider_minutes_first for x in table])
    minutes_resupply = np.array([x.provider_minutes_resupply for x in table])
    facility_first, facility_resupply, chw_first, chw_resupply = visits_by_source(d)
    facility_minutes = m.dot(facility_first, minutes_first) + m.dot(facility_resupply, minutes_resupply)
    chw_minutes = (
        acc[m.CHW_VISITS] * c.chw_visit_minutes
        + m.dot(chw_first, minutes_first)
        + m.dot(chw_resupply, minutes_resupply)
    )
    active = chw.status == CHW_ACTIVE
    supervised_km = float(chw.remoteness[active & (chw.supervised == 1)].sum())
    restocking_km = float(chw.remoteness[active & (chw.fp_trained == 1)].sum()) if chws_give_methods(sc) else 0.0
    units = acc[m.UNITS_METHOD : m.UNITS_METHOD + m.N_METHODS]
    costs = {
        "cost_commodities": m.dot(units, [x.unit_cost_usd for x in table]) * (1.0 + c.logistics_share),
        "cost_provider_time": c.facility_minute_usd * facility_minutes + c.chw_minute_usd * chw_minutes,
        "cost_chw_programme": (stipend_months(sc, d) * c.chw_month_usd if stipends else 0.0)
        + acc[m.CHWS_HIRED] * c.chw_replacement_usd
        + once.chw_training,
        "cost_supervision_transport": acc[m.SUPERVISED_CHWS] * c.supervision_month_usd
        + ROUND_TRIP * c.transport_km_usd * (supervised_km + c.chw_restock_trips_per_month * restocking_km),
        "cost_group_programme": acc[m.GROUPS_TRAINED_BY_CHW] * c.group_training_month_usd
        + acc[m.FACILITATORS] * c.facilitator_month_usd
        + acc[m.GROUPS_MENTORED] * c.mentoring_month_usd
        + np.count_nonzero(grp.linked_chw | grp.linked_facility) * c.linkage_month_usd
        - shared_savings(sc, d)
        + np.count_nonzero(grp.coordinated) * c.coordination_month_usd
        + np.count_nonzero(d.villages.network) * c.network_month_usd
        + np.count_nonzero(grp.advocacy > 0) * c.advocacy_month_usd
        + np.count_nonzero(grp.feedback) * c.feedback_month_usd
        + np.count_nonzero(grp.shared_record) * c.shared_record_month_usd
        + np.count_nonzero(grp.male_engagement) * c.male_engagement_month_usd
        + np.count_nonzero(grp.monitoring) * c.monitoring_month_usd
        + once.group_programme,
        "cost_supply_support": np.count_nonzero((d.facilities.supply_target > 0).any(axis=1))
        * c.supply_facility_month_usd,
    }
    costs = {name: float(costs[name]) for name in m.COST_BREAKDOWN}
    return {**costs, "cost_month": math.fsum(costs.values())}

"""The state container: one table of preallocated, typed columns per entity.

Each table is a NamedTuple of NumPy arrays, so a column cannot be rebound and Numba kernels take a table
as one argument. The column specs below are the single declaration of every column: name, dtype, meaning.
"""

from typing import NamedTuple

import numpy as np

from commsim.scenario.schema import METHODS

Spec = tuple[tuple[str, type | np.dtype, str], ...]

# The codes some columns hold, declared once: kernels, the Python twin, the builder, the checks and the UI name them.
SOURCE_NONE, SOURCE_FAC1, SOURCE_FAC2, SOURCE_CHW = 0, 1, 2, 3  # households.source: her method's source
CHW_NOT_DEPLOYED, CHW_ACTIVE, CHW_VACANT = 0, 1, 2  # chws.status
WANTS_SOON, WANTS_LATER, WANTS_NO_MORE = 0, 1, 2  # households.intention: a child soon, later, no more
LEADER_HOSTILE, LEADER_NEUTRAL, LEADER_SUPPORTIVE = 0, 1, 2  # villages.leader: the leaders' stance on FP
AGE_IN_MONTHS, AGE_OUT_MONTHS = 15 * 12, 50 * 12  # a woman enters the district at 15 and leaves it at 50
GESTATION_MONTHS, POSTPARTUM_MONTHS = 9, 24  # a birth ends month 9; "postpartum" is the 24 months after it
DAYS_PER_MONTH = 30  # a stockout lasts the month it is drawn for: its days, as a DHIS2 reports them
BAD_UNITS = 1_000_000  # groups.member_bad counts in millionths of a bad visit: integers add alike in any order


def by_method(dtype: type) -> np.dtype:
    """A column holding one value per method (METHODS order) in each row: a (rows, methods) array."""
    return np.dtype((dtype, len(METHODS)))


HOUSEHOLD_COLUMNS: Spec = (
    ("village", np.int32, "village index"),
    ("x", np.float32, "position east, km"),
    ("y", np.float32, "position north, km"),
    ("fac1", np.int16, "nearest facility"),
    ("fac2", np.int16, "second-nearest facility (= fac1 when there is only one)"),
    ("dist1", np.float32, "km to fac1"),
    ("dist2", np.float32, "km to fac2"),
    ("band", np.uint8, "distance band of dist1: 0 <2 km, 1 2-5, 2 5-10, 3 >=10"),
    ("wealth", np.uint8, "wealth quintile, 0 poorest .. 4 richest"),
    ("age_months", np.int16, "her age in months (AGE_IN_MONTHS .. AGE_OUT_MONTHS - 1)"),
    ("union", np.uint8, "1 if married or in union"),
    ("parity", np.uint8, "live births so far"),
    ("desired", np.uint8, "children she wants in all"),
    ("intention", np.uint8, "fertility intention: 0 a child soon, 1 later, 2 no more"),
    ("wait", np.uint8, "months until she wants her next child, while she wants to wait (intention 1; else 0)"),
    ("pregnant", np.uint8, "months pregnant (0: not pregnant)"),
    ("intended", np.uint8, "1 if her current or last pregnancy was wanted then"),
    ("postpartum", np.uint8, "months since her last birth, within POSTPARTUM_MONTHS (0: none that recent)"),
    ("amenorrhoeic", np.uint8, "1 while insusceptible after a birth (amenorrhoea, abstinence)"),
    ("infecund_from", np.int16, "age in months from which she cannot conceive (AGE_OUT_MONTHS: not before she leaves)"),
    ("partner_opposes", np.uint8, "1 if her partner opposes family planning (drawn when she enters a union)"),
    ("partner_engaged", np.uint8, "1 if men's sessions reached her partner and he talks FP with her"),
    ("need", np.uint8, "1 if she has a need for family planning (in union, at risk, wants to wait or stop)"),
    ("source", np.uint8, "current method source: 0 none, 1 fac1, 2 fac2, 3 CHW"),
    ("method", np.uint8, "current method: 0 none, k + 1 for METHODS[k]"),
    ("last_method", np.uint8, "the method she last stopped (0: none)"),
    ("resupply_in", np.uint8, "months until her next resupply or removal visit (0: due now)"),
    ("ever_user", np.uint8, "1 if she has ever used a modern method"),
    ("referred", np.uint8, "months an open referral has left (0: none)"),
    ("months_on", np.int16, "months on the current method"),
    ("awareness", np.float64, "awareness of modern methods [0, 1]"),
    ("trust", np.float64, "trust in services [0, 1]"),
    ("group", np.int32, "women's group she belongs to (-1: none)"),
    ("home_group", np.int32, "the group of her village she would join (-1: her village has none)"),
    ("join_near", np.float32, "how near she lives to her village's centre, where groups meet: her join weight (0-1]"),
    ("chw", np.int32, "CHW post serving her household (-1: none)"),
    (
        "request",
        np.int16,
        "this month's facility request: f+1 to adopt, -(f+1) to resupply, 0 none",
    ),
    ("request_method", np.uint8, "the method of this month's request (k + 1)"),
)

GROUP_COLUMNS: Spec = (
    ("village", np.int32, "village index"),
    ("chw", np.int32, "the village's CHW post (-1: none)"),
    ("facility", np.int32, "the village's nearest facility"),
    ("remoteness", np.float64, "km from the village to its nearest facility"),
    ("n_members", np.int32, "members (tallied each month)"),
    ("formed", np.uint8, "1 if the group exists (else a village's group yet to be co-created)"),
    ("inclusive", np.uint8, "1 while a programme has it seek out the poorest women"),
    ("n_users", np.int32, "members using a modern method (tallied each month)"),
    ("n_unmet", np.int32, "members with an unmet need for FP (tallied each month)"),
    ("capacity", np.float64, "organisational capacity [0, 1]"),
    ("modules", np.float64, "FP modules completed"),
    (
        "sustain",
        np.float64,
        "its own capacity growth rate while meeting (raised by organisational strengthening)",
    ),
    ("active", np.uint8, "1 if the group meets"),
    ("training", np.float64, "modules per month of capacity building under way (0: none)"),
    ("via_chw", np.uint8, "1 if its training is delivered by its CHW"),
    ("linked_chw", np.uint8, "1 if formally linked to its CHW"),
    ("linked_facility", np.uint8, "1 if formally linked to its facility"),
    ("link_strength", np.float64, "multiplier on its referral rate"),
    ("advocacy", np.float64, "added advocacy weight"),
    ("feedback", np.uint8, "1 if it feeds service experiences back to the facility"),
    ("shared_record", np.uint8, "1 if its referrals are on a record shared with its CHW and facility"),
    ("monitoring", np.uint8, "1 if it reports its members' unmet need and bad experiences to the district"),
    ("coordinated", np.uint8, "1 if it and the health system coordinate (monthly meeting, shared resources)"),
    ("system_trust", np.float64, "trust between it and the health system [0, 1]"),
    ("male_engagement", np.uint8, "1 if it sensitises its members' husbands"),
    ("leader_wealth", np.int8, "wealth quintile (0 poorest - 4) of its leader (-1: none yet)"),
    ("captured", np.uint8, "1 if its advocacy is captured (elites, politics): it presses for no FP service"),
    (
        "accountable",
        np.float64,
        "this month: how strongly a mechanism makes its facility and CHW answer its reports (0: not reporting)",
    ),
    ("member_visits", np.int32, "last month: its members' facility visits"),
    ("member_bad", np.int64, "last month: its members' bad experiences in BAD_UNITS (failed, stockout, 1 - quality)"),
    ("meeting_gain", np.float64, "this month: awareness pull of a meeting (capacity x FP content)"),
    ("exposure_weight", np.float64, "this month: weight of peer exposure in the group"),
    ("p_refer", np.float64, "this month: referral probability per eligible member"),
)

CHW_COLUMNS: Spec = (
    ("village", np.int32, "village of the post"),
    ("facility", np.int32, "the facility that restocks her kit (her village's nearest)"),
    ("remoteness", np.float64, "km from the village to its nearest facility"),
    ("status", np.uint8, "0 not deployed, 1 active, 2 vacant (the CHW left)"),
    ("fp_trained", np.uint8, "1 if trained in family planning"),
    ("supervised", np.uint8, "1 if supervised with refresher training"),
    ("visits_per_month", np.float64, "household visits a month she is asked to make"),
    ("hours_per_month", np.float64, "hours she works a month"),
    ("group_sessions", np.float64, "this month: FP modules she is asked to teach her groups"),
    ("n_mentored", np.int32, "this month: groups linked to her, which she follows up"),
    ("n_coordinated", np.int32, "this month: her groups in a coordination, whose meetings take her time"),
    ("visits", np.float64, "this month: household visits her hours leave for (at most visits_per_month)"),
    ("workload", np.float64, "her last month: hours her tasks asked / hours she had (above 1: overloaded)"),
    ("n_households", np.int32, "households assigned to the post"),
    ("n_referred", np.int32, "assigned households with an open referral (tallied)"),
    ("p_visit", np.float64, "this month: visit probability of a household without a referral"),
    ("p_visit_referred", np.float64, "this month: visit probability of a referred household"),
    ("accountable", np.float64, "this month: the strongest answer her groups' reports ask of her (0: none)"),
    ("n_priority", np.int32, "this month: unmet members her accountable groups reported last month"),
    ("p_visit_priority", np.float64, "this month: visit probability of a reported member without a referral"),
    ("kit", by_method(np.uint8), "months of each method left in her kit (0: out)"),
    ("new_acceptors", by_method(np.int32), "this month: women who started each method with her"),
    ("revisits", by_method(np.int32), "this month: her continuing users resupplied at home"),
    ("dispensed", by_method(np.float64), "this month: units of each method she gave out"),
)

FACILITY_COLUMNS: Spec = (
    ("village", np.int32, "village where it stands"),
    ("x", np.float32, "position east, km"),
    ("y", np.float32, "position north, km"),
    ("level", np.uint8, "1 health post, 2 referral facility"),
    ("remoteness", np.float64, "mean km from its catchment households"),
    ("base_capacity", np.float64, "FP clients per month without support"),
    ("capacity", np.float64, "FP clients per month now"),
    ("quality", np.float64, "service quality [0, 1]"),
    ("quality_base", np.float64, "quality it drifts back to"),
    ("stock", np.float64, "mean over methods of stock_method: what women weigh when they choose a facility"),
    ("offers", by_method(np.uint8), "1 for each method it provides (all, unless a district's facilities file says)"),
    ("stock_method", by_method(np.float64), "monthly chance of no stockout, per method"),
    ("stock_method_base", by_method(np.float64), "per-method reliability it drifts back to"),
    ("supply_target", by_method(np.float64), "per-method reliability under supply support (0: none)"),
    ("responsiveness", np.float64, "how strongly it acts on reports: its accountability mechanism's (0: none)"),
    ("n_catchment", np.int32, "households for which it is the nearest"),
    ("n_feedback", np.int32, "members of active feedback groups linked to it (this month)"),
    ("reported_visits", np.float64, "their last month's facility visits, reported to it (this month)"),
    ("reported_bad", np.float64, "their last month's bad experiences of those visits, reported to it (this month)"),
    ("advocacy", np.float64, "members of strong groups linked to it, weighted by capacity x advocacy (this month)"),
    ("n_requests", np.int32, "this month's requests"),
    ("out_days", by_method(np.uint8), "this month: days each method is out of stock (0 or DAYS_PER_MONTH)"),
    ("stocked_out", np.uint8, "1 if any method is out of stock this month"),
    ("p_serve", np.float64, "this month: chance a request is served, as capacity allows"),
    ("new_acceptors", by_method(np.int32), "this month: women who started each method here"),
    ("revisits", by_method(np.int32), "this month: continuing users resupplied (or a LARC replaced) here"),
    ("dispensed", by_method(np.float64), "this month: units of each method given out here"),
)

VILLAGE_COLUMNS: Spec = (
    ("x", np.float32, "centre east, km"),
    ("y", np.float32, "centre north, km"),
    ("n_households", np.int32, "households"),
    ("n_users", np.int32, "users (tallied each month)"),
    ("remoteness", np.float64, "km to the nearest facility"),
    ("leader", np.uint8, "its leaders' stance on FP: 0 hostile, 1 neutral, 2 supportive"),
    ("men_sessions", np.uint8, "this month: 1 if a group of the village that sensitises husbands meets"),
    ("network", np.uint8, "1 if its non-health community networks carry FP messages"),
)


def _table(name: str, spec: Spec) -> type:
    return NamedTuple(name, [(col, np.ndarray) for col, _, _ in spec])


Households = _table("Households", HOUSEHOLD_COLUMNS)
Groups = _table("Groups", GROUP_COLUMNS)
Chws = _table("Chws", CHW_COLUMNS)
Facilities = _table("Facilities", FACILITY_COLUMNS)
Villages = _table("Villages", VILLAGE_COLUMNS)

SPECS = {
    Households: HOUSEHOLD_COLUMNS,
    Groups: GROUP_COLUMNS,
    Chws: CHW_COLUMNS,
    Facilities: FACILITY_COLUMNS,
}
SPECS[Villages] = VILLAGE_COLUMNS


def allocate(table: type, n: int, **columns: np.ndarray):
    """A table of `n` rows: given columns cast to their declared dtype, the rest zero."""
    spec = SPECS[table]
    unknown = set(columns) - {col for col, _, _ in spec}
    if unknown:
        raise KeyError(f"{table.__name__} has no columns {sorted(unknown)}")
    arrays = {}
    for col, dtype, _ in spec:
        dtype = np.dtype(dtype)
        shape = (n, *dtype.shape)
        given = columns.get(col)
        arrays[col] = np.zeros(shape, dtype.base) if given is None else np.ascontiguousarray(given, dtype=dtype.base)
        if arrays[col].shape != shape:
            raise ValueError(f"{table.__name__}.{col} has shape {arrays[col].shape}, expected {shape}")
    return table(**arrays)


def bytes_per_row(table: type) -> int:
    """Bytes of state per row of a table (the memory target counts households)."""
    return sum(np.dtype(dtype).itemsize for _, dtype, _ in SPECS[table])

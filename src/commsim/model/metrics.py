"""Monthly outputs: accumulator slots filled by the rules, and the named series built from them.

Rules add to a float64 accumulator `acc` at the slots below (kernels per block, the twin per agent); the
model turns one month's accumulator into the named outputs of DESIGN.md (the CSV columns).
"""

import math
from collections.abc import Mapping

import numpy as np

from commsim.model.state import LEADER_HOSTILE, LEADER_SUPPORTIVE
from commsim.scenario.schema import METHODS

# Flows (reset each month)
NEW_USERS, DISCONTINUED, FACILITY_VISITS, FAILED_VISITS = 0, 1, 2, 3
REFERRALS_MADE, REFERRALS_COMPLETED, CHW_VISITS, CHW_NEW_USERS = 4, 5, 6, 7
CHWS_LEFT, CHWS_HIRED, STOCKOUTS, GROUPS_TRAINED, GROUPS_MENTORED = 8, 9, 10, 11, 12
# Stocks (recounted each month)
USERS, UNMET, EVER_USERS, TRUST_SUM, AWARENESS_SUM, USERS_CHW = 13, 14, 15, 16, 17, 18
ACTIVE_GROUPS, CAPACITY_SUM, ACTIVE_CHWS, SUPERVISED_CHWS, FP_TRAINED_CHWS = 19, 20, 21, 22, 23
# Distance to the nearest facility, in bands: the edges (km), each band's column label and its name for people.
BAND_EDGES_KM = (2.0, 5.0, 10.0)
BAND_LABELS = ("0_2km", "2_5km", "5_10km", "10km_plus")
BAND_NAMES = {"0_2km": "0-2 km", "2_5km": "2-5 km", "5_10km": "5-10 km", "10km_plus": "10+ km"}
METHOD_NAMES = {
    "pill": "pill",
    "injectable": "injectable",
    "self_injection": "self-injection (DMPA-SC)",
    "implant": "implant",
    "iud": "IUD",
    "condom": "male condom",
}
QUINTILE_NAMES = {q: f"wealth Q{q}" + {1: " (poorest)", 5: " (richest)"}.get(q, "") for q in range(1, 6)}

USERS_BAND, HH_BAND = 24, 28  # 4 slots each
USERS_Q, HH_Q = 32, 37  # 5 slots each
# Life course: births and women by 5-year age group (7 slots each), the month's pregnancies and how they end,
# and the stocks of women in union, their users and their unmet need, and of pregnant women
BIRTHS_AGE, WOMEN_AGE = 42, 49
PREGNANCIES, UNINTENDED, LOSSES, ABORTIONS, FAILURES = 56, 57, 58, 59, 60
IN_UNION, USERS_UNION, UNMET_UNION, PREGNANT = 61, 62, 63, 64
USERS_LEFT = 65  # users who left the district this month (at 50, or earlier), each replaced by a newcomer
N_AGE_GROUPS = 7
# Methods (one slot each, in METHODS order): units dispensed and new users this month, users at its end
N_METHODS = len(METHODS)
UNITS_METHOD, NEW_METHOD, USERS_METHOD = 66, 66 + N_METHODS, 66 + 2 * N_METHODS
# Supply: women who took another method at once (after stopping hers, or at a stockout), CHW kits out of a method
# she may give (one per CHW and method), and facilities out of each method (one slot each)
SWITCHES, CHW_STOCKOUTS, STOCKOUTS_METHOD = 66 + 3 * N_METHODS, 67 + 3 * N_METHODS, 68 + 3 * N_METHODS
# Group programmes: groups trained by their CHW this month (the rest of GROUPS_TRAINED by facilitators), and the
# facilitators programmes employ this month
GROUPS_TRAINED_BY_CHW, FACILITATORS = 68 + 4 * N_METHODS, 69 + 4 * N_METHODS
REFERRALS_LOST = 70 + 4 * N_METHODS  # group referrals lost on their way to the CHW and facility (no shared record)
# CHWs' hours: what active CHWs spent on groups this month, and those whose tasks asked more hours than they had
CHW_GROUP_HOURS, OVERLOADED_CHWS = 71 + 4 * N_METHODS, 72 + 4 * N_METHODS
# Men and leaders: women in union whose partner opposes FP (a stock), villages whose leaders back or oppose it
PARTNERS_OPPOSED, LEADERS_SUPPORTIVE, LEADERS_HOSTILE = 73 + 4 * N_METHODS, 74 + 4 * N_METHODS, 75 + 4 * N_METHODS
# Voice: members' bad experiences their groups reported, and facilities whose managers acted on advocacy
EXPERIENCES_REPORTED, ADVOCACY_HEARD = 76 + 4 * N_METHODS, 77 + 4 * N_METHODS
PARTNERS_ENGAGED = 78 + 4 * N_METHODS  # women in union whose partner men's sessions reached (a stock)
N_SLOTS = 79 + 4 * N_METHODS


def dot(a, b) -> float:
    """The sum of the products of a and b, correctly rounded (math.fsum). NumPy's `@` adds in an order that
    depends on where the arrays lie in memory, so the same counts could cost differently in the last bit."""
    return math.fsum(np.multiply(a, b, dtype=float).tolist())


def count_leaders(leader: np.ndarray, acc: np.ndarray) -> None:
    """Villages whose leaders back FP and those whose leaders oppose it, into `acc`."""
    acc[LEADERS_SUPPORTIVE] = np.count_nonzero(leader == LEADER_SUPPORTIVE)
    acc[LEADERS_HOSTILE] = np.count_nonzero(leader == LEADER_HOSTILE)


def fixed_counts(households) -> np.ndarray:
    """An accumulator holding what never changes: households per distance band and per wealth quintile.
    Each month starts from it, so the rules count only what moves."""
    acc = np.zeros(N_SLOTS)
    acc[HH_BAND : HH_BAND + 4] = np.bincount(households.band, minlength=4)
    acc[HH_Q : HH_Q + 5] = np.bincount(households.wealth, minlength=5)
    return acc


OUTPUTS: tuple[str, ...] = (
    "month",
    "mcpr",
    "users",
    "new_users",
    "discontinued",
    "facility_visits",
    "referrals_made",
    "referrals_completed",
    "active_groups",
    "mean_group_capacity",
    "active_chws",
    "stockouts",
    "mean_trust",
    "cost_cumulative",
)
EQUITY: tuple[str, ...] = tuple(f"mcpr_{label}" for label in BAND_LABELS) + tuple(f"mcpr_q{q}" for q in range(1, 6))
EXTRA: tuple[str, ...] = (
    "unmet_need",
    "mean_awareness",
    "users_via_chw",
    "failed_visits",
    "chws_left",
    "cost_month",
    "ever_users",
    "chw_visits",
    "new_users_via_chw",
    "fp_trained_chws",
)
LIFE_COURSE_COUNTS: tuple[str, ...] = (
    "births",
    "pregnancies",
    "unintended_pregnancies",
    "abortions",
    "pregnancy_losses",
    "method_failures",
    "users_left",
)
LIFE_COURSE: tuple[str, ...] = (  # added with the women's life course: runs stored before have none
    *LIFE_COURSE_COUNTS,
    "mcpr_married",
    "unmet_need_married",
    "in_union",
    "pregnant",
    "tfr",
)
BY_METHOD: tuple[str, ...] = (  # added with the methods: runs stored before have none
    *(f"users_{name}" for name in METHODS),
    *(f"new_users_{name}" for name in METHODS),
    *(f"cyp_{name}" for name in METHODS),
    "cyp",
)
SUPPLY_COUNTS: tuple[str, ...] = (  # added with supply per method: runs stored before have none
    "switches",
    "chw_stockouts",
    *(f"stockouts_{name}" for name in METHODS),
)
COST_BREAKDOWN: tuple[str, ...] = (  # the month's cost by category (`model.costs`), adding up to cost_month; added
    # with the costs by input: runs stored before have none
    "cost_commodities",
    "cost_provider_time",
    "cost_chw_programme",
    "cost_supervision_transport",
    "cost_group_programme",
    "cost_supply_support",
)
# added with facilitators and the shared record: runs stored before have none
PROGRAMME: tuple[str, ...] = ("groups_trained", "facilitators", "referrals_lost")
WORKLOAD: tuple[str, ...] = ("chw_group_hours", "overloaded_chws")  # added with CHWs' hours: runs before have none
NORMS: tuple[str, ...] = ("partners_opposed", "leaders_supportive", "leaders_hostile")  # added with men and leaders
VOICE: tuple[str, ...] = ("experiences_reported", "advocacy_heard")  # added with accountability
COUPLES: tuple[str, ...] = ("partners_engaged",)  # added with partners who talk FP
ADDED: tuple[str, ...] = (  # stored runs may lack these
    LIFE_COURSE + BY_METHOD + SUPPLY_COUNTS + COST_BREAKDOWN + PROGRAMME + WORKLOAD + NORMS + VOICE + COUPLES
)
COLUMNS: tuple[str, ...] = OUTPUTS + EQUITY + EXTRA + ADDED
COSTS: tuple[str, ...] = ("cost_month", "cost_cumulative", *COST_BREAKDOWN)  # the columns of the month's costs
COUNTS = frozenset(  # whole numbers; the other columns are rates, means and money
    (
        "month",
        "users",
        "new_users",
        "discontinued",
        "facility_visits",
        "referrals_made",
        "referrals_completed",
        "active_groups",
        "active_chws",
        "stockouts",
        "users_via_chw",
        "failed_visits",
        "chws_left",
        "ever_users",
        "chw_visits",
        "new_users_via_chw",
        "fp_trained_chws",
        *LIFE_COURSE_COUNTS,
        *(f"users_{name}" for name in METHODS),
        *(f"new_users_{name}" for name in METHODS),
        *SUPPLY_COUNTS,
        *PROGRAMME,
        "overloaded_chws",
        "leaders_supportive",
        "leaders_hostile",
        "advocacy_heard",
    )
)


# What people call each output, declared with the columns: the CLI tables, the reports, the sweep analysis
# and the UI all name outputs by these (tests check every column has one).
LABELS: dict[str, str] = {
    "month": "month",
    "mcpr": "mCPR",
    "users": "users",
    "new_users": "new users",
    "discontinued": "discontinued",
    "facility_visits": "facility visits",
    "referrals_made": "referrals made",
    "referrals_completed": "referrals completed",
    "active_groups": "groups meeting",
    "mean_group_capacity": "mean group capacity",
    "active_chws": "active CHWs",
    "stockouts": "facilities out of a method",
    "mean_trust": "mean trust",
    "cost_cumulative": "cost, cumulative",
    **{f"mcpr_{band}": f"mCPR {name} from facility" for band, name in BAND_NAMES.items()},
    **{f"mcpr_q{q}": f"mCPR {name}" for q, name in QUINTILE_NAMES.items()},
    "unmet_need": "unmet need",
    "mean_awareness": "mean awareness",
    "users_via_chw": "users supplied by a CHW",
    "failed_visits": "failed facility visits",
    "chws_left": "CHWs who left",
    "cost_month": "cost this month",
    "ever_users": "ever users",
    "chw_visits": "CHW home visits",
    "new_users_via_chw": "new users via a CHW",
    "fp_trained_chws": "FP-trained CHWs",
    "births": "births",
    "pregnancies": "pregnancies",
    "unintended_pregnancies": "unintended pregnancies",
    "abortions": "induced abortions",
    "pregnancy_losses": "pregnancy losses",
    "method_failures": "pregnancies on a method",
    "users_left": "users who left the district",
    "mcpr_married": "mCPR, married women",
    "unmet_need_married": "unmet need, married women",
    "in_union": "women in union",
    "pregnant": "women pregnant",
    "tfr": "total fertility rate",
    **{f"users_{name}": f"users, {METHOD_NAMES[name]}" for name in METHODS},
    **{f"new_users_{name}": f"new users, {METHOD_NAMES[name]}" for name in METHODS},
    **{f"cyp_{name}": f"CYP, {METHOD_NAMES[name]}" for name in METHODS},
    "cyp": "couple-years of protection",
    "switches": "switches to another method",
    "chw_stockouts": "CHW kits out of a method",
    **{f"stockouts_{name}": f"facilities out of {METHOD_NAMES[name]}" for name in METHODS},
    "cost_commodities": "cost: commodities and their supply chain",
    "cost_provider_time": "cost: provider time (facility staff and CHWs)",
    "cost_chw_programme": "cost: CHW stipends, FP training and replacement",
    "cost_supervision_transport": "cost: CHW supervision and transport",
    "cost_group_programme": "cost: group programme (training, mentoring, linkage, advocacy, feedback)",
    "cost_supply_support": "cost: supply-chain support to facilities",
    "groups_trained": "groups in capacity building",
    "facilitators": "group facilitators employed",
    "referrals_lost": "group referrals lost on the way",
    "chw_group_hours": "CHW hours on groups",
    "overloaded_chws": "CHWs asked for more hours than they have",
    "partners_opposed": "women in union whose partner opposes FP",
    "partners_engaged": "women in union whose partner men's sessions reached, who talks FP with her",
    "leaders_supportive": "villages whose leaders back FP",
    "leaders_hostile": "villages whose leaders oppose FP",
    "experiences_reported": "bad service experiences groups reported",
    "advocacy_heard": "facilities whose managers acted on advocacy",
}


def _share(num: float, den: float) -> float:
    return num / den if den > 0 else 0.0


def outputs(
    acc: np.ndarray,
    month: int,
    n_households: int,
    n_groups: int,
    costs: Mapping[str, float],
    cyp_per_unit: np.ndarray,
) -> dict:
    """The named outputs of one month from its accumulator; `costs` holds the COSTS columns (`model.costs`),
    `cyp_per_unit` the CYP of a unit of each method (USAID factors, from the scenario)."""
    row = {
        "month": month,
        "mcpr": acc[USERS] / n_households,
        "users": int(acc[USERS]),
        "new_users": int(acc[NEW_USERS]),
        "discontinued": int(acc[DISCONTINUED]),
        "facility_visits": int(acc[FACILITY_VISITS]),
        "referrals_made": int(acc[REFERRALS_MADE]),
        "referrals_completed": int(acc[REFERRALS_COMPLETED]),
        "active_groups": int(acc[ACTIVE_GROUPS]),
        "mean_group_capacity": _share(acc[CAPACITY_SUM], n_groups),
        "active_chws": int(acc[ACTIVE_CHWS]),
        "stockouts": int(acc[STOCKOUTS]),
        "mean_trust": acc[TRUST_SUM] / n_households,
    }
    for b, label in enumerate(BAND_LABELS):
        row[f"mcpr_{label}"] = _share(acc[USERS_BAND + b], acc[HH_BAND + b])
    for q in range(5):
        row[f"mcpr_q{q + 1}"] = _share(acc[USERS_Q + q], acc[HH_Q + q])
    row.update(
        unmet_need=acc[UNMET] / n_households,
        mean_awareness=acc[AWARENESS_SUM] / n_households,
        users_via_chw=int(acc[USERS_CHW]),
        failed_visits=int(acc[FAILED_VISITS]),
        chws_left=int(acc[CHWS_LEFT]),
        ever_users=int(acc[EVER_USERS]),
        chw_visits=int(acc[CHW_VISITS]),
        new_users_via_chw=int(acc[CHW_NEW_USERS]),
        fp_trained_chws=int(acc[FP_TRAINED_CHWS]),
        births=int(acc[BIRTHS_AGE : BIRTHS_AGE + N_AGE_GROUPS].sum()),
        pregnancies=int(acc[PREGNANCIES]),
        unintended_pregnancies=int(acc[UNINTENDED]),
        abortions=int(acc[ABORTIONS]),
        pregnancy_losses=int(acc[LOSSES]),
        method_failures=int(acc[FAILURES]),
        users_left=int(acc[USERS_LEFT]),
        mcpr_married=_share(acc[USERS_UNION], acc[IN_UNION]),
        unmet_need_married=_share(acc[UNMET_UNION], acc[IN_UNION]),
        in_union=acc[IN_UNION] / n_households,
        pregnant=acc[PREGNANT] / n_households,
        tfr=tfr(acc),
    )
    for k, name in enumerate(METHODS):
        row[f"users_{name}"] = int(acc[USERS_METHOD + k])
        row[f"new_users_{name}"] = int(acc[NEW_METHOD + k])
    cyp = acc[UNITS_METHOD : UNITS_METHOD + N_METHODS] * cyp_per_unit
    for k, name in enumerate(METHODS):
        row[f"cyp_{name}"] = float(cyp[k])
    row["cyp"] = float(cyp.sum())
    row["switches"] = int(acc[SWITCHES])
    row["chw_stockouts"] = int(acc[CHW_STOCKOUTS])
    for k, name in enumerate(METHODS):
        row[f"stockouts_{name}"] = int(acc[STOCKOUTS_METHOD + k])
    row.update({name: float(costs[name]) for name in COSTS})
    row["groups_trained"] = int(acc[GROUPS_TRAINED])
    row["facilitators"] = int(acc[FACILITATORS])
    row["referrals_lost"] = int(acc[REFERRALS_LOST])
    row["chw_group_hours"] = float(acc[CHW_GROUP_HOURS])
    row["overloaded_chws"] = int(acc[OVERLOADED_CHWS])
    row["partners_opposed"] = _share(acc[PARTNERS_OPPOSED], acc[IN_UNION])
    row["leaders_supportive"] = int(acc[LEADERS_SUPPORTIVE])
    row["leaders_hostile"] = int(acc[LEADERS_HOSTILE])
    row["experiences_reported"] = float(acc[EXPERIENCES_REPORTED])
    row["advocacy_heard"] = int(acc[ADVOCACY_HEARD])
    row["partners_engaged"] = _share(acc[PARTNERS_ENGAGED], acc[IN_UNION])
    return row


def tfr(acc: np.ndarray) -> float:
    """The month's total fertility rate, annualised: 5 x the sum over age groups of 12 x births / women.
    Women are counted at the end of the month, after this month's births; a group without women adds nothing."""
    births = acc[BIRTHS_AGE : BIRTHS_AGE + N_AGE_GROUPS]
    women = acc[WOMEN_AGE : WOMEN_AGE + N_AGE_GROUPS]
    return float(5.0 * 12.0 * np.sum(np.divide(births, women, out=np.zeros(N_AGE_GROUPS), where=women > 0)))

"""Facility rules: stockouts and the share of requests served under capacity; quality and stock moved by
advocacy, feedback, supply support and drift. The loops over all facilities.
"""

from commsim.model import metrics as m
from commsim.model import rng
from commsim.model.kernels import kernel, rule
from commsim.model.rng import uniform


@rule
def facility_open(f, fac, keys, acc):
    """This month's stockout draw and the chance that a request is served (capacity / requests)."""
    out = 0 if uniform(keys[rng.STOCKOUT], f) < fac.stock[f] else 1
    fac.stocked_out[f] = out
    acc[m.STOCKOUTS] += out
    n = fac.n_requests[f]
    if out == 1:
        fac.p_serve[f] = 0.0
    elif n > fac.capacity[f]:
        fac.p_serve[f] = fac.capacity[f] / n
    else:
        fac.p_serve[f] = 1.0


@rule
def facility_update(f, fac, p):
    """Quality and stock reliability after the month: pulled up by advocacy and by feedback on problems,
    moved toward the supply target when supported, and drifting back to their base levels."""
    n = max(fac.n_catchment[f], 1)
    advocacy = fac.advocacy[f] / n
    problems = 1.0 if fac.stocked_out[f] == 1 or fac.p_serve[f] < 1.0 else 0.5
    feedback = fac.responsiveness[f] * fac.n_feedback[f] / n * problems
    pull = p.advocacy_gain_per_month * advocacy + p.feedback_gain_per_month * feedback
    q = fac.quality[f]
    q += pull * (p.quality_max - q) - p.reversion_per_month * (q - fac.quality_base[f])
    s = fac.stock[f]
    if fac.supply_target[f] > 0.0:
        s += p.supply_ramp_per_month * (fac.supply_target[f] - s)
    else:
        s -= p.reversion_per_month * (s - fac.stock_base[f])
    s += pull * (p.stock_max - s)
    fac.quality[f] = min(max(q, 0.0), 1.0)
    fac.stock[f] = min(max(s, 0.0), 1.0)


@kernel()
def facilities_open(fac, keys, acc):
    """facility_open for every facility."""
    for f in range(fac.stock.shape[0]):
        facility_open(f, fac, keys, acc)


@kernel()
def facilities_update(fac, p):
    """facility_update for every facility."""
    for f in range(fac.stock.shape[0]):
        facility_update(f, fac, p)

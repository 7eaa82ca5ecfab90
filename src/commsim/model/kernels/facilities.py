"""Facility rules: stockouts of each method and the share of requests served under capacity; quality and each
method's stock reliability moved by advocacy, feedback, supply support (of all methods or some) and drift. The
loops over all facilities.
"""

from commsim.model import metrics as m
from commsim.model import rng
from commsim.model.kernels import kernel, rule
from commsim.model.rng import uniform
from commsim.model.state import DAYS_PER_MONTH


@rule
def facility_open(f, fac, keys, acc):
    """This month's stockout draw for each method, the chance that a request is served (capacity / requests),
    and the month's service counts set to zero."""
    n_methods = fac.stock_method.shape[1]
    any_out = 0
    for k in range(n_methods):
        fac.new_acceptors[f, k] = 0
        fac.revisits[f, k] = 0
        fac.dispensed[f, k] = 0.0
        if uniform(keys[rng.STOCKOUT], f * n_methods + k) < fac.stock_method[f, k]:
            fac.out_days[f, k] = 0
        else:
            fac.out_days[f, k] = DAYS_PER_MONTH
            acc[m.STOCKOUTS_METHOD + k] += 1
            any_out = 1
    fac.stocked_out[f] = any_out
    acc[m.STOCKOUTS] += any_out
    n = fac.n_requests[f]
    fac.p_serve[f] = fac.capacity[f] / n if n > fac.capacity[f] else 1.0


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
    fac.quality[f] = min(max(q, 0.0), 1.0)
    n_methods = fac.stock_method.shape[1]
    mean = 0.0
    for k in range(n_methods):
        s = fac.stock_method[f, k]
        target = fac.supply_target[f, k]
        if target > 0.0:
            s += p.supply_ramp_per_month * (target - s)
        else:
            s -= p.reversion_per_month * (s - fac.stock_method_base[f, k])
        s += pull * (p.stock_max - s)
        s = min(max(s, 0.0), 1.0)
        fac.stock_method[f, k] = s
        mean += s
    fac.stock[f] = mean / n_methods


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

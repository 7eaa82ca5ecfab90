"""Facility rules: stockouts of each method it provides (one it does not is never there, and is no stockout) and
the share of requests served under capacity; quality and each method's stock reliability moved by advocacy (when
heard), by reported bad experiences (as far as an accountability mechanism makes the facility respond), by supply
support (of all methods or some) and drift. The loops over all facilities.
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
        if fac.offers[f, k] == 0:  # a method it does not provide is never there, and is no stockout
            fac.out_days[f, k] = DAYS_PER_MONTH
        elif uniform(keys[rng.STOCKOUT], f * n_methods + k) < fac.stock_method[f, k]:
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
def facility_update(f, fac, p, keys, acc):
    """Quality and stock reliability after the month: pulled up by advocacy in a month its managers act on it,
    and by the bad experiences its groups report as far as its accountability mechanism makes it respond (the
    share of its reporters' visits that went wrong, weighted by the share of its catchment that reports); moved
    toward the supply target when supported, and drifting back to their base levels."""
    n = max(fac.n_catchment[f], 1)
    heard = uniform(keys[rng.HEARD], f) < p.p_advocacy_heard
    advocacy = fac.advocacy[f] / n if heard else 0.0
    if heard and fac.advocacy[f] > 0.0:
        acc[m.ADVOCACY_HEARD] += 1
    visits = fac.reported_visits[f]
    bad_share = fac.reported_bad[f] / visits if visits > 0.0 else 0.0
    feedback = fac.responsiveness[f] * fac.n_feedback[f] / n * bad_share
    pull = p.advocacy_gain_per_month * advocacy + p.feedback_gain_per_month * feedback
    q = fac.quality[f]
    q += pull * (p.quality_max - q) - p.reversion_per_month * (q - fac.quality_base[f])
    fac.quality[f] = min(max(q, 0.0), 1.0)
    n_methods = fac.stock_method.shape[1]
    mean = 0.0
    offered = 0
    for k in range(n_methods):
        if fac.offers[f, k] == 0:
            continue
        offered += 1
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
    fac.stock[f] = mean / offered if offered > 0 else 0.0


@kernel()
def facilities_open(fac, keys, acc):
    """facility_open for every facility."""
    for f in range(fac.stock.shape[0]):
        facility_open(f, fac, keys, acc)


@kernel()
def facilities_update(fac, p, keys, acc):
    """facility_update for every facility."""
    for f in range(fac.stock.shape[0]):
        facility_update(f, fac, p, keys, acc)

"""CHW rules: attrition and replacement, and this month's visit probabilities; the loop over all posts.

A CHW leaves at a monthly hazard that is higher without supervision and refresher training (Ngugi 2018);
a vacant post is refilled by an untrained CHW. Visits go to households with an open referral first.
"""

from commsim.model import metrics as m
from commsim.model import rng
from commsim.model.kernels import kernel, rule
from commsim.model.rng import uniform
from commsim.model.state import CHW_ACTIVE as ACTIVE
from commsim.model.state import CHW_VACANT as VACANT


@rule
def chw_month(k, chw, p, keys, acc):
    """One month of CHW post k."""
    status = chw.status[k]
    if status == ACTIVE:
        hazard = (
            p.attrition_per_month if chw.supervised[k] == 1 else p.attrition_per_month * p.rel_attrition_unsupported
        )
        if uniform(keys[rng.ATTRITION], k) < hazard:
            status = VACANT
            chw.fp_trained[k] = 0
            acc[m.CHWS_LEFT] += 1
    elif status == VACANT and uniform(keys[rng.REPLACE], k) < p.p_replace_per_month:
        status = ACTIVE
        acc[m.CHWS_HIRED] += 1
    chw.status[k] = status
    chw.p_visit[k] = 0.0
    chw.p_visit_referred[k] = 0.0
    if status == ACTIVE:
        acc[m.ACTIVE_CHWS] += 1
        acc[m.SUPERVISED_CHWS] += chw.supervised[k]
        acc[m.FP_TRAINED_CHWS] += chw.fp_trained[k]
        visits = chw.visits_per_month[k]
        n = chw.n_households[k]
        r = chw.n_referred[k]
        if visits >= r:
            chw.p_visit_referred[k] = 1.0
            if n > r:
                chw.p_visit[k] = min(1.0, (visits - r) / (n - r))
        else:
            chw.p_visit_referred[k] = visits / r


@kernel()
def chws_month(chw, p, keys, acc):
    """chw_month for every post."""
    for k in range(chw.status.shape[0]):
        chw_month(k, chw, p, keys, acc)

"""CHW rules: attrition and replacement, and this month's visit probabilities; the loop over all posts.

A CHW leaves at a monthly hazard that is higher without supervision and refresher training (Ngugi 2018) and
after a month whose tasks asked more hours than she had; a vacant post is refilled by an untrained CHW. Her
hours go first to her other duties and to the group work her programmes ask (teaching her groups' modules,
following up the groups linked to her), then to household visits up to her norm: more group work means fewer
visits unless she is given more hours. Visits go to households with an open referral first, then, where a
scorecard or committee makes her answer her groups' reports, to the members they reported in need. An active CHW
restocks her kit at her facility each month; what the facility was out of last month, she cannot restock, and
her kit runs down.
"""

from commsim.model import metrics as m
from commsim.model import rng
from commsim.model.kernels import kernel, rule
from commsim.model.rng import uniform
from commsim.model.state import CHW_ACTIVE as ACTIVE
from commsim.model.state import CHW_VACANT as VACANT


@rule
def chw_month(k, chw, fac, p, keys, acc):
    """One month of CHW post k."""
    for j in range(chw.kit.shape[1]):
        chw.new_acceptors[k, j] = 0
        chw.revisits[k, j] = 0
        chw.dispensed[k, j] = 0.0
    status = chw.status[k]
    if status == ACTIVE:
        hazard = (
            p.attrition_per_month if chw.supervised[k] == 1 else p.attrition_per_month * p.rel_attrition_unsupported
        )
        hazard *= 1.0 + p.rel_attrition_per_overload * max(chw.workload[k] - 1.0, 0.0)
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
    chw.p_visit_priority[k] = 0.0
    chw.visits[k] = 0.0
    if status == ACTIVE:
        acc[m.ACTIVE_CHWS] += 1
        acc[m.SUPERVISED_CHWS] += chw.supervised[k]
        acc[m.FP_TRAINED_CHWS] += chw.fp_trained[k]
        restock(k, chw, fac, p, acc)
        visits = chw_hours(k, chw, p, acc)
        n = chw.n_households[k]
        r = chw.n_referred[k]
        if visits >= r:
            chw.p_visit_referred[k] = 1.0
            if n > r:
                visit_chances(k, chw, p, visits - r, n - r)
        else:
            chw.p_visit_referred[k] = visits / r


@rule
def visit_chances(k, chw, p, left, rest):
    """Her visit chances for the `rest` households without a referral, from the `left` visits the referred leave
    her: uniform, except that the members her accountable groups reported in need are visited
    1 + chws.rel_visits_reported x s times as often (s: the mechanism's responsiveness, at most 1; a scorecard's
    action plan names them), and the other households share what is left."""
    base = min(1.0, left / rest)
    q = min(chw.n_priority[k], rest)
    s = min(chw.accountable[k], 1.0)
    if q == 0 or s == 0.0:
        chw.p_visit[k] = base
        chw.p_visit_priority[k] = base
        return
    priority = min(base * (1.0 + s * p.rel_visits_reported), left / q, 1.0)
    chw.p_visit_priority[k] = priority
    chw.p_visit[k] = min(1.0, max(left - priority * q, 0.0) / (rest - q)) if rest > q else 0.0


@rule
def chw_hours(k, chw, p, acc):
    """How active CHW k spends her hours this month: her other duties and her group work first (modules she
    teaches only if she is FP-trained, as groups_month trains them), then household visits up to her norm with
    what is left. Sets her visits and her workload (hours asked / hours she has); returns her visits."""
    group = p.mentoring_hours * chw.n_mentored[k] + p.coordination_hours * chw.n_coordinated[k]
    if chw.fp_trained[k] == 1:
        group += p.group_session_hours * chw.group_sessions[k]
    hours = chw.hours_per_month[k]
    norm = chw.visits_per_month[k]
    left = max(hours - p.other_hours_per_month - group, 0.0)
    visits = min(norm, left / p.hours_per_visit)
    workload = (p.other_hours_per_month + group + norm * p.hours_per_visit) / hours
    chw.visits[k] = visits
    chw.workload[k] = workload
    acc[m.CHW_GROUP_HOURS] += group
    if workload > 1.0:
        acc[m.OVERLOADED_CHWS] += 1
    return visits


@rule
def group_work(g, grp, chw):
    """What group g asks of its CHW this month: the modules she is to teach it (training delivered by her), a
    follow-up if it is linked to her, a coordination meeting if it is in one, and, if a mechanism made its
    reports accountable last month, visits to the members it reported in need."""
    k = grp.chw[g]
    if k >= 0:
        if grp.via_chw[g] == 1:
            chw.group_sessions[k] += grp.training[g]
        chw.n_mentored[k] += grp.linked_chw[g]
        chw.n_coordinated[k] += grp.coordinated[g]
        if grp.accountable[g] > 0.0:
            chw.n_priority[k] += grp.n_unmet[g]
            chw.accountable[k] = max(chw.accountable[k], grp.accountable[g])


@rule
def restock(k, chw, fac, p, acc):
    """Her kit after this month's restock: full (chws.kit_months) of each method she may give that her facility
    had in stock last month, one month less of the others; each method she is out of counts."""
    f = chw.facility[k]
    for j in range(chw.kit.shape[1]):
        if p.by_chw[j] == 1.0:
            if fac.out_days[f, j] == 0:
                chw.kit[k, j] = int(p.kit_months)
            elif chw.kit[k, j] > 0:
                chw.kit[k, j] -= 1
            if chw.kit[k, j] == 0:
                acc[m.CHW_STOCKOUTS] += 1


@rule
def ask_reset(chw):
    """Clear what groups asked of each CHW last month, before they ask again (group_work)."""
    chw.group_sessions[:] = 0.0
    chw.n_mentored[:] = 0
    chw.n_coordinated[:] = 0
    chw.n_priority[:] = 0
    chw.accountable[:] = 0.0


@kernel()
def chws_month(chw, grp, fac, p, keys, acc):
    """The group work each post is asked for (group_work for every group), then chw_month for every post."""
    ask_reset(chw)
    for g in range(grp.capacity.shape[0]):
        group_work(g, grp, chw)
    for k in range(chw.status.shape[0]):
        chw_month(k, chw, fac, p, keys, acc)


@kernel()
def chws_by_facility(chw, by_chw, record, first):
    """Each CHW's month into her facility's rows of a services.month_record, from element `first` on: her new
    acceptors, continuing users and units dispensed by method, and 1 for each method she may give (`by_chw`)
    that her kit is out of while she is active. A loop, where numpy's `add.at` took ~8 ms a month at 1M households."""
    for c in range(chw.status.shape[0]):
        f = chw.facility[c]
        active = chw.status[c] == ACTIVE
        for k in range(chw.kit.shape[1]):
            record[f, first, k] += chw.new_acceptors[c, k]
            record[f, first + 1, k] += chw.revisits[c, k]
            record[f, first + 2, k] += chw.dispensed[c, k]
            if active and chw.kit[c, k] == 0 and by_chw[k] == 1.0:
                record[f, first + 3, k] += 1.0

"""Women's-group rules: capacity dynamics, meetings, referral readiness; and the loop over all groups.

Capacity c grows with training and a linked CHW's mentoring, grows by itself as c(1-c) while the group
meets (faster with organisational strengthening), and decays otherwise; a group below the meeting
threshold stops meeting, and so loses its self-sustaining growth and, month by month, its FP content and its
members' learning: groups that keep meeting keep their effect. Its village's leaders scale what a meeting does:
more where they back FP, less where they oppose it.
"""

from commsim.model import metrics as m
from commsim.model.kernels import kernel, rule
from commsim.model.state import BAD_UNITS, CHW_ACTIVE, LEADER_HOSTILE, LEADER_SUPPORTIVE


@rule
def leader_factor(stance, p):
    """What a village's leaders make of group activity, CHW outreach and women's adoption there:
    x rel_activity_leader_supportive where they back FP, x rel_activity_leader_hostile where they oppose it, x 1
    where they are neutral."""
    if stance == LEADER_SUPPORTIVE:
        return p.rel_activity_leader_supportive
    if stance == LEADER_HOSTILE:
        return p.rel_activity_leader_hostile
    return 1.0


@rule
def group_month(g, grp, chw, fac, vil, p, acc):
    """One month of group g; sets this month's meeting gain, exposure weight and referral chance, adds its
    members' voice to its facility (their last month's visits and bad experiences if it feeds them back, advocacy
    if it is strong and its agenda is not captured), and holds its village's sessions for husbands if it
    sensitises men."""
    if grp.formed[g] == 0:  # a village's group yet to be co-created: nothing to train, meet or press
        grp.active[g] = 0
        grp.meeting_gain[g] = 0.0
        grp.p_refer[g] = 0.0
        return
    c = grp.capacity[g]
    k = grp.chw[g]
    chw_on = k >= 0 and chw.status[k] == CHW_ACTIVE
    trained = grp.training[g] > 0.0 and (grp.via_chw[g] == 0 or (chw_on and chw.fp_trained[k] == 1))
    if trained:
        c += p.training_gain_per_month * (1.0 - c)
        grp.modules[g] = min(p.fp_modules, grp.modules[g] + grp.training[g])
        acc[m.GROUPS_TRAINED] += 1
        acc[m.GROUPS_TRAINED_BY_CHW] += grp.via_chw[g]
    if grp.linked_chw[g] == 1 and chw_on:
        c += p.mentoring_gain_per_month * (1.0 - c)
        acc[m.GROUPS_MENTORED] += 1
    if grp.active[g] == 1:
        c += grp.sustain[g] * c * (1.0 - c)
    c -= p.capacity_decay_per_month * c
    active = 1 if c >= p.meeting_threshold else 0
    if active == 0 and not trained:  # what a group does not rehearse fades
        grp.modules[g] -= p.knowledge_fade_per_month * grp.modules[g]
    fp_content = grp.modules[g] / p.fp_modules
    grp.capacity[g] = c
    grp.active[g] = active
    lead = leader_factor(vil.leader[grp.village[g]], p)
    grp.meeting_gain[g] = p.awareness_gain_per_meeting * c * fp_content * lead if active == 1 else 0.0
    grp.exposure_weight[g] = 1.0 + (p.rel_peer_trained - 1.0) * fp_content
    linked = grp.linked_chw[g] == 1 or grp.linked_facility[g] == 1
    if linked:  # joint work builds the trust that makes a link work; a month without contact erodes it
        trust = grp.system_trust[g]
        if (grp.linked_chw[g] == 1 and chw_on) or grp.coordinated[g] == 1:
            trust += p.system_trust_gain_per_month * (1.0 - trust)
        else:
            trust -= p.system_trust_loss_per_month * trust
        grp.system_trust[g] = trust
    strength = grp.link_strength[g] * grp.system_trust[g] / p.initial_system_trust
    grp.p_refer[g] = p.p_refer_per_month * c * strength * lead if active == 1 and linked else 0.0
    grp.accountable[g] = 0.0
    if active == 1:
        if grp.male_engagement[g] == 1:
            vil.men_sessions[grp.village[g]] = 1
        f = grp.facility[g]
        if grp.feedback[g] == 1:  # what went wrong for its members last month, as they tell it
            grp.accountable[g] = fac.responsiveness[f]
            fac.n_feedback[f] += grp.n_members[g]
            fac.reported_visits[f] += grp.member_visits[g]
            fac.reported_bad[f] += grp.member_bad[g] / BAD_UNITS
            acc[m.EXPERIENCES_REPORTED] += grp.member_bad[g] / BAD_UNITS
        if c >= p.advocacy_threshold and grp.captured[g] == 0:
            fac.advocacy[f] += c * (1.0 + grp.advocacy[g]) * grp.n_members[g]
    acc[m.ACTIVE_GROUPS] += active
    acc[m.CAPACITY_SUM] += c


@kernel()
def groups_month(grp, chw, fac, vil, p, acc):
    """group_month for every group, in group order (facilities' advocacy is a float sum)."""
    fac.n_feedback[:] = 0
    fac.reported_visits[:] = 0.0
    fac.reported_bad[:] = 0.0
    fac.advocacy[:] = 0.0
    vil.men_sessions[:] = 0
    for g in range(grp.capacity.shape[0]):
        group_month(g, grp, chw, fac, vil, p, acc)

"""Household rules (one index woman each) and the compiled loops that apply them to every household.

The rules are plain Python functions over a range lo..hi-1 of households: the twin passes one household
(i, i+1), a kernel a whole block, so the tables cross a call boundary once per block and not once per
household (per-call reference counting of ~75 arrays costs ~400 ns). `rule` lets the Python twin call the
rules as they are and lets Numba inline them into the loops below. Each household reads only its own row and
month-level aggregates of groups, CHWs, facilities and villages, so households are independent within a phase
and the loops parallelise over fixed blocks with identical results on any thread count. Districts too small for
threads run the same loops compiled for one thread (SERIAL), which gives the same bits and compiles in half the
time, so their runs never compile the threads' variant (PARALLEL).
"""

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numba import prange

from commsim.model import metrics as m
from commsim.model import rng
from commsim.model.kernels import kernel, rule, serial
from commsim.model.kernels.groups import leader_factor
from commsim.model.rng import uniform
from commsim.model.state import (
    AGE_IN_MONTHS,
    AGE_OUT_MONTHS,
    BAD_UNITS,
    CHW_ACTIVE,
    GESTATION_MONTHS,
    POSTPARTUM_MONTHS,
    WANTS_LATER,
    WANTS_NO_MORE,
    WANTS_SOON,
)
from commsim.model.state import SOURCE_CHW as CHW
from commsim.model.state import SOURCE_FAC1 as FAC1
from commsim.model.state import SOURCE_FAC2 as FAC2
from commsim.model.state import SOURCE_NONE as NONE

BLOCK = 8192  # households per block: partial sums are per block, so they never depend on thread count
ABORTION_MONTH, LOSS_MONTH = 2, 3  # the month of pregnancy an induced abortion or a loss ends it
YOUNG_MONTHS = 20 * 12  # under 20: fewer choose a long-acting method
SWITCHING, METHOD_CODE = 0x80, 0x7F  # households.request_method: a woman switching methods; her method's code


@rule
def _distance_decay(d, log_odds_per_km, levels_off_km):
    """The factor by which d km to a facility lowers access: Wong's decay per km, levelling off."""
    return math.exp(log_odds_per_km * min(d, levels_off_km))


@rule
def _facility_access(d, quality, wealth, log_odds_per_km, levels_off_km, access_poorest):
    """Chance-like access to a facility at d km: distance decay x quality x wealth quintile."""
    decay = _distance_decay(d, log_odds_per_km, levels_off_km)
    return decay * quality * (access_poorest + (1.0 - access_poorest) * wealth / 4.0)


@rule
def _prefers_second(d1, d2, q1, q2, s1, s2, per_km, per_quality, per_stock, u):
    """Logit choice between the two nearest facilities on distance, quality and stock reliability."""
    u1 = -per_km * d1 + per_quality * q1 + per_stock * s1
    u2 = -per_km * d2 + per_quality * q2 + per_stock * s2
    return u < 1.0 / (1.0 + math.exp(u1 - u2))


@rule
def _poisson(mean, u):
    """The Poisson(mean) value at uniform u (inverse CDF), at least 1: children a woman wants in all."""
    k, term = 0, math.exp(-mean)
    cdf = term
    while u >= cdf and k < 30:
        k += 1
        term *= mean / k
        cdf += term
    return max(k, 1)


@rule
def infecund_month(u, p):
    """The age in whole months from which a woman cannot conceive, at uniform u: the inverse of the share
    infecund by age (params.sterility_knots, piecewise linear; AGE_OUT_MONTHS if she stays fecund);
    `params.infecund_from` is the same rule for many."""
    ages, shares = p.sterile_ages, p.sterile_shares
    last = shares.shape[0] - 1
    if u >= shares[last]:
        return AGE_OUT_MONTHS
    for j in range(1, last + 1):
        if u < shares[j] or j == last:
            step = shares[j] - shares[j - 1]
            frac = (u - shares[j - 1]) / step if step > 0.0 else 0.0
            return math.floor(12.0 * (ages[j - 1] + frac * (ages[j] - ages[j - 1])))
    return AGE_OUT_MONTHS


@rule
def wait_months(u, p):
    """The months she wants to wait after a birth, at uniform u: the Weibull of params.wait_scale and
    wait_inv_shape by its inverse CDF, whole months from 1 to 255 (what households.wait holds)."""
    months = p.wait_scale * (-math.log(1.0 - u)) ** p.wait_inv_shape
    return min(max(math.floor(months + 0.5), 1), 255)


@rule
def join_weight(wealth, near, rel_poorest):
    """A woman's weight in joining her village's group: her wealth quintile's (rel_poorest for the poorest up to 1
    for the richest; 1 for all where a programme targets inclusion) x how near she lives to where it meets."""
    return (rel_poorest + (1.0 - rel_poorest) * wealth / 4.0) * near


@rule
def _membership(i, hh, grp, p, keys):
    """She joins her village's group (if it exists) at params.join_per_month x her join weight, or leaves hers
    at groups.leave_per_month."""
    home = hh.home_group[i]
    if home >= 0 and grp.formed[home] == 1:
        u = uniform(keys[rng.MEMBERSHIP], i)
        if hh.group[i] < 0:
            rel = 1.0 if grp.inclusive[home] == 1 else p.rel_join_poorest
            if u < p.join_per_month * join_weight(hh.wealth[i], hh.join_near[i], rel):
                hh.group[i] = home
        elif u < p.leave_per_month:
            hh.group[i] = -1


@rule
def _newcomer(i, hh, p, keys):
    """A 15-year-old takes household i's place: unmarried, no children, no method, the district's starting
    awareness and trust."""
    hh.age_months[i] = AGE_IN_MONTHS
    hh.union[i] = 0
    hh.parity[i] = 0
    hh.desired[i] = _poisson(p.ideal_children, uniform(keys[rng.NEWCOMER], i))
    hh.intention[i] = WANTS_SOON
    hh.wait[i] = 0
    hh.pregnant[i] = 0
    hh.intended[i] = 0
    hh.postpartum[i] = 0
    hh.amenorrhoeic[i] = 0
    hh.infecund_from[i] = infecund_month(uniform(keys[rng.STERILE], i), p)
    hh.source[i] = NONE
    hh.method[i] = 0
    hh.last_method[i] = 0
    hh.resupply_in[i] = 0
    hh.months_on[i] = 0
    hh.ever_user[i] = 0
    hh.referred[i] = 0
    hh.partner_opposes[i] = 0
    hh.partner_engaged[i] = 0
    hh.group[i] = -1  # she has yet to join her village's group
    hh.awareness[i] = p.newcomer_awareness
    hh.trust[i] = p.newcomer_trust


@rule
def _life_month(i, hh, p, keys, acc):
    """Her reproductive month before any decision about methods: she ages (at 50, or earlier at her age group's
    leaving chance, a newcomer takes her place),
    enters or leaves a union, her pregnancy moves on (a loss at month 3, an induced abortion of an unintended
    one at month 2, a birth after month 9, when she draws how long she wants to wait if she wants more),
    insusceptibility after a birth ends, and a wait that is over turns into a wish for a child soon. Returns her
    age group."""
    age = hh.age_months[i] + 1
    leaves = uniform(keys[rng.LEAVE], i) < p.leave_by_age[(age - 1 - AGE_IN_MONTHS) // 60]
    if age >= AGE_OUT_MONTHS or leaves:
        if hh.source[i] > NONE:
            acc[m.USERS_LEFT] += 1
        _newcomer(i, hh, p, keys)
        age = AGE_IN_MONTHS
    hh.age_months[i] = age
    ag = (age - AGE_IN_MONTHS) // 60
    union = hh.union[i]
    turn = p.union_entry_by_age[ag] if union == 0 else p.union_dissolution_per_month
    changes = uniform(keys[rng.UNION], i) < turn
    hh.union[i] = union ^ (1 if changes else 0)
    if changes and union == 0:  # a new partner, who may oppose family planning
        hh.partner_opposes[i] = 1 if uniform(keys[rng.PARTNER], i) < p.p_partner_opposes else 0
        hh.partner_engaged[i] = 0
    pp = hh.postpartum[i]
    if pp > 0:
        pp = pp + 1 if pp < POSTPARTUM_MONTHS else 0
        # drawn whether or not she is insusceptible, so that the test below compiles without a branch
        returns = uniform(keys[rng.MENSES], i) < p.menses_return_per_month
        hh.amenorrhoeic[i] = 0 if hh.amenorrhoeic[i] == 1 and (pp == 0 or returns) else hh.amenorrhoeic[i]
    preg = hh.pregnant[i]
    if preg > 0:
        preg += 1
        if preg == LOSS_MONTH and uniform(keys[rng.LOSS], i) < p.pregnancy_loss_by_age[ag]:
            preg = 0
            acc[m.LOSSES] += 1
        elif (
            preg == ABORTION_MONTH
            and hh.intended[i] == 0
            and uniform(keys[rng.ABORTION], i) < p.abortion_share_unintended
        ):
            preg = 0
            acc[m.ABORTIONS] += 1
        elif preg > GESTATION_MONTHS:
            preg = 0
            parity = min(hh.parity[i] + 1, 255)
            hh.parity[i] = parity
            acc[m.BIRTHS_AGE + ag] += 1
            pp = 1
            hh.amenorrhoeic[i] = 1
            if parity >= hh.desired[i]:
                hh.intention[i] = WANTS_NO_MORE
                hh.wait[i] = 0
            else:
                hh.intention[i] = WANTS_LATER
                hh.wait[i] = wait_months(uniform(keys[rng.INTENTION], i), p)
    hh.pregnant[i] = preg
    hh.postpartum[i] = pp
    waits = preg == 0 and hh.intention[i] == WANTS_LATER
    wait = int(hh.wait[i])
    hh.wait[i] = max(wait - 1, 0) if waits else wait
    hh.intention[i] = WANTS_SOON if waits and wait <= 1 else hh.intention[i]
    return ag


@rule
def _choose(i, hh, p, u, offer):
    """The method she takes (index into METHODS), drawn at uniform u by the methods' weights for her: long-acting
    ones weigh more if she wants no more, less if she wants a child within methods.long_acting_full_wait_months
    and less if she is under 20, the one she last stopped less; only the methods on offer (bit k of `offer` for
    METHODS[k]). -1 if nothing is on offer."""
    total = 0.0
    for k in range(p.weight.shape[0]):
        total += _method_weight(i, hh, p, k, offer)
    if total <= 0.0:
        return -1
    target = u * total
    last = -1
    for k in range(p.weight.shape[0]):
        w = _method_weight(i, hh, p, k, offer)
        if w > 0.0:
            last = k
            target -= w
            if target < 0.0:
                return k
    return last


@rule
def _method_weight(i, hh, p, k, offer):
    if (offer >> k) & 1 == 0:
        return 0.0
    w = p.weight[k]
    if p.long_acting[k] == 1.0:
        if hh.intention[i] == WANTS_NO_MORE:
            w *= p.rel_weight_long_acting_no_more
        elif hh.intention[i] == WANTS_LATER:
            w *= min(1.0, hh.wait[i] / p.long_acting_full_wait_months)
        if hh.age_months[i] < YOUNG_MONTHS:
            w *= p.rel_weight_long_acting_young
    if hh.last_method[i] == k + 1:
        w *= p.rel_weight_previous
    return w


@rule
def _all_methods(p):
    """The offer of every method (a provider whose stock she does not know yet)."""
    return (1 << p.weight.shape[0]) - 1


@rule
def _kit_offer(chw, c, p):
    """What CHW c can give now: the methods she may give that her kit holds (without a branch per method)."""
    offer = 0
    for k in range(chw.kit.shape[1]):
        offer |= int((p.by_chw[k] == 1.0) & (chw.kit[c, k] > 0)) << k
    return offer


@rule
def _stock_offer(fac, f):
    """What facility f can give this month: the methods it is not out of."""
    offer = 0
    for k in range(fac.out_days.shape[1]):
        if fac.out_days[f, k] == 0:
            offer |= 1 << k
    return offer


@rule
def _chw_gives(i, hh, chw, c, p, k, new, acc):
    """CHW c gives her method k at home, as a new acceptor or a continuing user, and counts it."""
    _dispense(i, hh, p, k, acc)
    chw.dispensed[c, k] += p.units_per_visit[k]
    if new:
        chw.new_acceptors[c, k] += 1
    else:
        chw.revisits[c, k] += 1


@rule
def _dispense(i, hh, p, k, acc):
    """A visit gives her method k: the units it dispenses count, and her next visit is due when they run out."""
    acc[m.UNITS_METHOD + k] += p.units_per_visit[k]
    hh.resupply_in[i] = int(p.months_per_visit[k])


@rule
def _stop(i, hh):
    """She stops her method (and remembers it when she chooses again)."""
    hh.last_method[i] = hh.method[i]
    hh.method[i] = 0
    hh.months_on[i] = 0
    hh.resupply_in[i] = 0


@rule
def household_month(lo, hi, hh, grp, chw, fac, vil, p, keys, acc):
    """One month of households lo..hi-1: life course, conception, need, CHW visit, group meeting, referral,
    discontinuation, adoption."""
    n_discontinued = n_chw_visits = n_referrals = n_lost = n_new = n_new_chw = n_completed = 0
    for i in range(lo, hi):
        own = 1 if hh.source[i] > NONE else 0  # as tallied at the start of the month
        ag = _life_month(i, hh, p, keys, acc)
        src = hh.source[i]
        fecund = hh.age_months[i] < hh.infecund_from[i]
        at_risk = hh.union[i] == 1 and hh.pregnant[i] == 0 and hh.amenorrhoeic[i] == 0
        if at_risk and fecund:
            if src > NONE:
                chance = p.failure_per_month[hh.method[i] - 1]
            else:
                chance = p.exposure_in_union * p.fecundability_by_age[ag]
            if uniform(keys[rng.CONCEIVE], i) < chance:
                intended = hh.intention[i] == WANTS_SOON
                hh.pregnant[i] = 1
                hh.intended[i] = 1 if intended else 0
                acc[m.PREGNANCIES] += 1
                if not intended:
                    acc[m.UNINTENDED] += 1
                if src > NONE:
                    acc[m.FAILURES] += 1
                at_risk = False
        # a non-user past her fecund years is not counted in need (DHS); a user cannot tell at once, and notices
        # (her periods end) with a monthly chance, then stops
        unaware = src > NONE and not fecund and uniform(keys[rng.NOTICE], i) >= p.p_notice_infecund_per_month
        need = 1 if at_risk and (fecund or unaware) and hh.intention[i] != WANTS_SOON else 0
        hh.need[i] = need
        if src > NONE and need == 0:
            src = NONE
            _stop(i, hh)
            n_discontinued += 1

        a = hh.awareness[i]
        t = hh.trust[i]
        ref = hh.referred[i]
        fresh = False
        k = hh.chw[i]
        chw_on = k >= 0 and chw.status[k] == CHW_ACTIVE
        kit = 0  # what her CHW can give (_kit_offer): read for her CHW's users and after an FP visit
        visited = False
        fp_visit = False
        g = hh.group[i]
        if chw_on:
            if ref > 0:
                pv = chw.p_visit_referred[k]
            elif g >= 0 and grp.accountable[g] > 0.0 and src == NONE and _unmet_need(hh, i):
                pv = chw.p_visit_priority[k]  # her group reported her need, and its CHW must answer
            else:
                pv = chw.p_visit[k]
            if uniform(keys[rng.VISIT], i) < pv:
                visited = True
                fp_visit = chw.fp_trained[k] == 1
                gain = p.awareness_gain_visit * (2.0 if fp_visit else 1.0) * leader_factor(vil.leader[hh.village[i]], p)
                a += gain * (1.0 - a)
                t += p.trust_gain_chw_visit * (1.0 - t)
                n_chw_visits += 1

        _membership(i, hh, grp, p, keys)
        g = hh.group[i]
        in_group = g >= 0 and grp.active[g] == 1
        if in_group:
            a += grp.meeting_gain[g] * (1.0 - a)
            if grp.accountable[g] > 0.0:  # the scorecard's interface meeting: providers answer what she reported
                t += p.trust_gain_interface_per_month * min(grp.accountable[g], 1.0) * (1.0 - t)
            eligible = need == 1 and src == NONE and ref == 0 and grp.p_refer[g] > 0.0
            if eligible and uniform(keys[rng.REFER], i) < grp.p_refer[g]:
                n_referrals += 1
                # without a shared record her referral may be lost on its way to her CHW and facility
                if grp.shared_record[g] == 1 or uniform(keys[rng.HANDOVER], i) >= p.p_referral_lost:
                    ref = int(p.referral_valid_months)
                    fresh = True
                else:
                    n_lost += 1
        elif g >= 0 and grp.modules[g] > 0.0 and a > p.newcomer_awareness:
            # her group taught FP and no longer meets: what she learned above the district's level fades with it
            a -= p.knowledge_fade_per_month * (a - p.newcomer_awareness)
        if not in_group and vil.network[hh.village[i]] == 1:  # savings groups and youth clubs carry the messages
            a += p.network_awareness_per_month * (1.0 - a)
        sessions = vil.men_sessions[hh.village[i]] == 1
        if hh.union[i] == 1 and hh.partner_engaged[i] == 0 and sessions:
            # her village's groups hold sessions for husbands, a member's more surely reached than another's: he
            # stops opposing FP and talks about it with her
            reach = p.husband_sensitisation_per_month * (1.0 if in_group else p.rel_sensitisation_non_member)
            if uniform(keys[rng.SENSITISE], i) < reach:
                hh.partner_opposes[i] = 0
                hh.partner_engaged[i] = 1
        elif hh.partner_engaged[i] == 1 and not sessions and uniform(keys[rng.LAPSE], i) < p.knowledge_fade_per_month:
            hh.partner_engaged[i] = 0  # without sessions to renew it, the talk lapses as members' learning fades
        a -= p.awareness_decay_per_month * a

        if src > NONE:
            if src == CHW and chw_on:
                kit = _kit_offer(chw, k, p)
            method = hh.method[i] - 1
            quality = p.chws_quality if src == CHW else fac.quality[hh.fac1[i] if src == FAC1 else hh.fac2[i]]
            hazard = p.rel_stop * p.stop_per_month[method] * (1.0 + p.rel_discontinue_poor_quality * (1.0 - quality))
            if hh.months_on[i] < p.early_months:
                hazard *= p.rel_stop_early
            if visited:
                hazard *= p.rel_discontinue_follow_up
            if uniform(keys[rng.DISCONTINUE], i) < hazard:
                _stop(i, hh)
                n_discontinued += 1
                if uniform(keys[rng.SWITCH], i) < p.p_switch:  # she asks her provider for another method at once
                    others = _all_methods(p) & ~(1 << method)
                    u_method = uniform(keys[rng.METHOD], i)
                    if kit & others != 0:
                        new = _choose(i, hh, p, u_method, kit & others)
                        hh.method[i] = new + 1
                        _chw_gives(i, hh, chw, k, p, new, True, acc)
                        acc[m.NEW_METHOD + new] += 1
                        acc[m.SWITCHES] += 1
                        n_new += 1
                        n_new_chw += 1
                    else:
                        hh.request[i] = (hh.fac2[i] if src == FAC2 else hh.fac1[i]) + 1
                        hh.request_method[i] = (_choose(i, hh, p, u_method, others) + 1) | SWITCHING
                        src = NONE
                else:
                    src = NONE
            else:
                hh.months_on[i] += 1
                due = hh.resupply_in[i]
                if due > 0:
                    due -= 1
                    hh.resupply_in[i] = due
                if due == 0:  # her supply has run out, or her implant or IUD is due out
                    if (kit >> method) & 1 == 1:
                        _chw_gives(i, hh, chw, k, p, method, False, acc)  # her CHW resupplies her at home
                    else:  # at her facility (if her CHW left or her kit is out, the nearest), if she gets there
                        second = src == FAC2
                        f = hh.fac2[i] if second else hh.fac1[i]
                        d = float(hh.dist2[i] if second else hh.dist1[i])
                        reach = _distance_decay(d, p.log_odds_per_km, p.distance_levels_off_km)  # she knows its service
                        if uniform(keys[rng.RESUPPLY], i) < reach:
                            hh.request[i] = -(f + 1)
                            hh.request_method[i] = method + 1
                        elif uniform(keys[rng.FAILED], i) < p.p_discontinue_failed_resupply:
                            src = NONE  # she could not get there and her supply ran out
                            _stop(i, hh)
                            n_discontinued += 1
        elif need == 1:
            exposure = 0.0  # Valente's exposure: users among her group's other members, else her village's (weighted)
            if in_group:
                members = grp.n_members[g]
                if members > 1:
                    exposure = grp.exposure_weight[g] * (grp.n_users[g] - own) / (members - 1)
            else:
                v = hh.village[i]
                n_v = vil.n_households[v]
                if n_v > 1:
                    exposure = p.village_peer_weight * (vil.n_users[v] - own) / (n_v - 1)
            demand = (
                p.rate_external_per_month
                + p.rate_awareness_per_month * a
                + p.rate_peer_per_month * exposure / (exposure + p.peer_half_saturation)
            )
            if ref > 0:
                demand += p.referral_boost_per_month
            norms = p.partner_norm * p.leader_norm * leader_factor(vil.leader[hh.village[i]], p)
            willing = demand * (1.0 - p.trust_weight + 2.0 * p.trust_weight * t) * norms
            if hh.partner_opposes[i] == 1:
                willing *= p.rel_adopt_partner_opposed
            elif hh.partner_engaged[i] == 1:
                willing *= p.rel_adopt_partner_engaged
            u = uniform(keys[rng.ADOPT], i)
            adopts = False
            access_fac = access_chw = 0.0
            f = hh.fac1[i]
            if u < willing:  # access is at most 1, so u >= willing means no adoption whatever the access
                d = float(hh.dist1[i])
                f2, d2 = hh.fac2[i], float(hh.dist2[i])
                if f2 != f and _prefers_second(
                    d,
                    d2,
                    fac.quality[f],
                    fac.quality[f2],
                    fac.stock[f],
                    fac.stock[f2],
                    p.choice_per_km,
                    p.choice_quality,
                    p.choice_stock,
                    uniform(keys[rng.CHOICE], i),
                ):
                    f, d = f2, d2
                rel_poor = p.rel_access_poorest
                if in_group:  # her group's own strategies lift part of what poverty costs her in getting there
                    strength = grp.capacity[g] * grp.modules[g] / p.fp_modules
                    rel_poor += (1.0 - rel_poor) * p.cost_relief * strength
                access_fac = _facility_access(
                    d, fac.quality[f], hh.wealth[i], p.log_odds_per_km, p.distance_levels_off_km, rel_poor
                )
                if fp_visit:
                    kit = _kit_offer(chw, k, p)
                access_chw = p.chw_access if kit != 0 else 0.0
                adopts = u < willing * max(access_fac, access_chw)
            if adopts:
                if access_chw >= access_fac:
                    method = _choose(i, hh, p, uniform(keys[rng.METHOD], i), kit)
                    src = CHW
                    hh.method[i] = method + 1
                    _chw_gives(i, hh, chw, k, p, method, True, acc)
                    acc[m.NEW_METHOD + method] += 1
                    hh.months_on[i] = 0
                    hh.ever_user[i] = 1
                    t += p.trust_gain_served * (1.0 - t)
                    n_new += 1
                    n_new_chw += 1
                    if ref > 0:
                        n_completed += 1
                        ref = 0
                else:
                    hh.request[i] = f + 1
                    hh.request_method[i] = _choose(i, hh, p, uniform(keys[rng.METHOD], i), _all_methods(p)) + 1
            elif fp_visit and ref == 0 and uniform(keys[rng.CHW_REFER], i) < p.p_refer:
                ref = int(p.referral_valid_months)
                fresh = True
                n_referrals += 1
        if ref > 0 and not fresh:
            ref -= 1
        hh.awareness[i] = a
        hh.trust[i] = t
        hh.source[i] = src
        hh.referred[i] = ref
    acc[m.DISCONTINUED] += n_discontinued
    acc[m.CHW_VISITS] += n_chw_visits
    acc[m.REFERRALS_MADE] += n_referrals
    acc[m.REFERRALS_LOST] += n_lost
    acc[m.NEW_USERS] += n_new
    acc[m.CHW_NEW_USERS] += n_new_chw
    acc[m.REFERRALS_COMPLETED] += n_completed


@rule
def household_serve(lo, hi, hh, grp, fac, p, keys, acc):
    """The facility's answer to each request among households lo..hi-1 this month: served (with another method
    in stock if hers is out and she takes one), or a failed visit. A served request stays in households.request
    (positive for a woman new to the method) until household_tally counts it into the facility's records."""
    for i in range(lo, hi):
        r = hh.request[i]
        if r != 0:
            f = abs(r) - 1
            t = hh.trust[i]
            acc[m.FACILITY_VISITS] += 1
            code = hh.request_method[i]
            switching = code & SWITCHING != 0
            method = (code & METHOD_CODE) - 1
            served = uniform(keys[rng.SERVE], i) < fac.p_serve[f]
            out = fac.out_days[f, method] > 0
            g = hh.group[i]
            if g >= 0:  # her experience, for her group to tell: a failed visit or a stockout, else the quality
                grp.member_visits[g] += 1
                bad = 1.0 if out or not served else 1.0 - fac.quality[f]
                grp.member_bad[g] += round(bad * BAD_UNITS)
            if served and out:  # hers is out of stock here
                offer = _stock_offer(fac, f)
                served = offer != 0 and uniform(keys[rng.STOCKOUT_SWITCH], i) < p.p_switch_at_stockout
                if served:
                    method = _choose(i, hh, p, uniform(keys[rng.STOCKOUT_METHOD], i), offer)
                    if r < 0:  # a user changes method: her episode ends and another begins
                        _stop(i, hh)
                        acc[m.DISCONTINUED] += 1
                        r = -r
                    switching = True
            if served:
                t += p.trust_gain_served * (1.0 - t)
                if r > 0:
                    hh.method[i] = method + 1
                    hh.months_on[i] = 0
                    hh.ever_user[i] = 1
                    acc[m.NEW_USERS] += 1
                    acc[m.NEW_METHOD + method] += 1
                    if switching:
                        acc[m.SWITCHES] += 1
                    if hh.referred[i] > 0:
                        acc[m.REFERRALS_COMPLETED] += 1
                        hh.referred[i] = 0
                _dispense(i, hh, p, method, acc)
                hh.source[i] = FAC1 if f == hh.fac1[i] else FAC2
                hh.request[i] = r
                hh.request_method[i] = method + 1
            else:
                known = hh.referred[i] > 0 and g >= 0 and grp.shared_record[g] == 1  # she need not tell it again
                t -= p.trust_loss_failed * (p.rel_trust_loss_known if known else 1.0) * t
                acc[m.FAILED_VISITS] += 1
                if r < 0 and uniform(keys[rng.FAILED], i) < p.p_discontinue_failed_resupply:
                    hh.source[i] = NONE
                    _stop(i, hh)
                    acc[m.DISCONTINUED] += 1
                hh.request[i] = 0
                hh.request_method[i] = 0
            hh.trust[i] = t


@rule
def household_tally(i, hh, fac, p):
    """Household i's served request into her facility's records of the month (new acceptor or continuing user,
    units dispensed), and the request cleared."""
    r = hh.request[i]
    if r != 0:
        f, k = abs(r) - 1, hh.request_method[i] - 1
        if r > 0:
            fac.new_acceptors[f, k] += 1
        else:
            fac.revisits[f, k] += 1
        fac.dispensed[f, k] += p.units_per_visit[k]
        hh.request[i] = 0
        hh.request_method[i] = 0


@rule
def _unmet_need(hh, i):
    """Unmet need as the DHS counts it, for a woman using no method: she has a need (in union, at risk, wants to
    wait or stop), or she is pregnant, or insusceptible after a birth, with a pregnancy she did not want then."""
    waiting = (hh.pregnant[i] > 0) | (hh.amenorrhoeic[i] == 1)  # | and &: no branch per test
    return (hh.need[i] == 1) | (waiting & (hh.intended[i] == 0))


@rule(nrt=True)  # allocates its partial counts
def household_record(lo, hi, hh, grp, chw, vil, acc):
    """Count the end-of-month state of households lo..hi-1 into the outputs and into next month's users per
    village and group and referred households per CHW post. Only users and referred households touch a
    counter; households per band and quintile never change, so the model counts them once."""
    users_band = np.zeros(4, np.int64)  # integer counters: an add has a cycle's latency, a float add several
    users_q = np.zeros(5, np.int64)
    women_age = np.zeros(m.N_AGE_GROUPS, np.int64)
    users_method = np.zeros(m.N_METHODS, np.int64)
    users = users_chw = unmet = ever = in_union = users_union = unmet_union = pregnant = opposed = engaged = 0
    trust = awareness = 0.0
    for i in range(lo, hi):
        src = hh.source[i]
        g = hh.group[i]
        if g >= 0:
            grp.n_members[g] += 1
        married = 1 if hh.union[i] == 1 else 0
        women_age[(hh.age_months[i] - AGE_IN_MONTHS) // 60] += 1
        in_union += married
        opposed += married & hh.partner_opposes[i]
        engaged += married & hh.partner_engaged[i]
        pregnant += 1 if hh.pregnant[i] > 0 else 0
        if src > NONE:
            users += 1
            users_method[hh.method[i] - 1] += 1
            users_union += married
            users_band[hh.band[i]] += 1
            users_q[hh.wealth[i]] += 1
            vil.n_users[hh.village[i]] += 1
            if g >= 0:
                grp.n_users[g] += 1
            users_chw += 1 if src == CHW else 0
        else:
            unmet_i = 1 if _unmet_need(hh, i) else 0
            unmet += unmet_i
            unmet_union += unmet_i & married
            if g >= 0:
                grp.n_unmet[g] += unmet_i
        if hh.referred[i] > 0:
            k = hh.chw[i]
            if k >= 0:
                chw.n_referred[k] += 1
        ever += hh.ever_user[i]
        trust += hh.trust[i]
        awareness += hh.awareness[i]
    acc[m.USERS] += users
    acc[m.USERS_CHW] += users_chw
    acc[m.UNMET] += unmet
    acc[m.IN_UNION] += in_union
    acc[m.USERS_UNION] += users_union
    acc[m.UNMET_UNION] += unmet_union
    acc[m.PREGNANT] += pregnant
    acc[m.PARTNERS_OPPOSED] += opposed
    acc[m.PARTNERS_ENGAGED] += engaged
    for g in range(m.N_AGE_GROUPS):
        acc[m.WOMEN_AGE + g] += women_age[g]
    for k in range(m.N_METHODS):
        acc[m.USERS_METHOD + k] += users_method[k]
    acc[m.EVER_USERS] += ever
    acc[m.TRUST_SUM] += trust
    acc[m.AWARENESS_SUM] += awareness
    for b in range(4):
        acc[m.USERS_BAND + b] += users_band[b]
    for q in range(5):
        acc[m.USERS_Q + q] += users_q[q]


def village_blocks(village: np.ndarray, size: int = BLOCK) -> np.ndarray:
    """Block bounds of about `size` households cut only where the village changes. Homes are sorted by
    village and a village's group and CHW posts are its own, so blocks never count into the same counter.
    Unsigned, so the loops' row index is too and Numba's wraparound check for a negative index leaves every
    array read."""
    if np.any(np.diff(village) < 0):
        raise ValueError("households must be sorted by village")
    starts = np.flatnonzero(np.diff(village)) + 1
    cuts = starts[np.minimum(np.searchsorted(starts, np.arange(size, village.size, size)), starts.size - 1)]
    return np.unique(np.concatenate(([0], cuts[cuts > 0], [village.size]))).astype(np.uint64)


@rule
def _fold(part, acc):
    """Add the blocks' partial sums in block order. A plain loop: under parallel=True, `acc += part[b]` would be
    a parallel region of its own for every block, and each one waits for every thread."""
    for b in range(part.shape[0]):
        for j in range(acc.shape[0]):
            acc[j] += part[b, j]


@kernel(parallel=True)
def decide(hh, grp, chw, fac, vil, p, keys, acc, bounds):
    """household_month for every household, in parallel over the blocks."""
    n_blocks = bounds.size - 1
    part = np.zeros((n_blocks, acc.shape[0]))
    for blk in prange(n_blocks):
        household_month(bounds[blk], bounds[blk + 1], hh, grp, chw, fac, vil, p, keys, part[blk])
    _fold(part, acc)


@kernel()
def tally_services(hh, fac, p):
    """household_tally for every household, in order: facilities' records are shared by many blocks."""
    for i in range(hh.request.shape[0]):
        household_tally(i, hh, fac, p)


@kernel()
def count_requests(hh, fac):
    """Requests per facility this month."""
    fac.n_requests[:] = 0
    for i in range(hh.request.shape[0]):
        r = hh.request[i]
        if r != 0:
            fac.n_requests[abs(r) - 1] += 1


@kernel(parallel=True)
def serve_and_record(hh, grp, chw, fac, vil, p, keys, acc, bounds):
    """household_serve for every request, then household_record for every household: the end-of-month state
    is both this month's output and next month's start, so one pass counts both. Blocks
    are village-aligned, so no two blocks count into the same village, group or CHW post."""
    vil.n_users[:] = 0
    grp.n_users[:] = 0
    grp.n_members[:] = 0
    grp.n_unmet[:] = 0
    grp.member_visits[:] = 0
    grp.member_bad[:] = 0
    chw.n_referred[:] = 0
    n_blocks = bounds.size - 1
    part = np.zeros((n_blocks, acc.shape[0]))
    for blk in prange(n_blocks):
        lo, hi = bounds[blk], bounds[blk + 1]
        household_serve(lo, hi, hh, grp, fac, p, keys, part[blk])
        household_record(lo, hi, hh, grp, chw, vil, part[blk])
    _fold(part, acc)


class Loops(NamedTuple):
    """The two household loops of a month, compiled for threads or for one thread."""

    decide: Callable
    serve_and_record: Callable


PARALLEL = Loops(decide, serve_and_record)
SERIAL = Loops(serial(decide), serial(serve_and_record))  # what districts too small for threads run

"""Household rules (one index woman each) and the compiled loops that apply them to every household.

The rules are plain Python functions over a range lo..hi-1 of households: the twin passes one household
(i, i+1), a kernel a whole block, so the tables cross a call boundary once per block and not once per
household (per-call reference counting of ~75 arrays costs ~400 ns). `register_jitable` lets the Python twin
call the rules as they are and lets Numba inline them into the loops below. Each household reads only its own
row and month-level aggregates of groups, CHWs, facilities and villages, so households are independent within a
phase and the loops parallelise over fixed blocks with identical results on any thread count.
"""

import math

import numpy as np
from numba import prange
from numba.extending import register_jitable

from commsim.model import metrics as m
from commsim.model import rng
from commsim.model.kernels import kernel
from commsim.model.rng import uniform
from commsim.model.state import CHW_ACTIVE
from commsim.model.state import SOURCE_CHW as CHW
from commsim.model.state import SOURCE_FAC1 as FAC1
from commsim.model.state import SOURCE_FAC2 as FAC2
from commsim.model.state import SOURCE_NONE as NONE

BLOCK = 8192  # households per block: partial sums are per block, so they never depend on thread count


@register_jitable(_nrt=False)  # no allocation: no reference counting of the tables
def _facility_access(d, quality, wealth, log_odds_per_km, levels_off_km, access_poorest):
    """Chance-like access to a facility at d km: distance decay (levelling off) x quality x wealth quintile."""
    decay = math.exp(log_odds_per_km * min(d, levels_off_km))
    return decay * quality * (access_poorest + (1.0 - access_poorest) * wealth / 4.0)


@register_jitable(_nrt=False)  # no allocation: no reference counting of the tables
def _prefers_second(d1, d2, q1, q2, s1, s2, per_km, per_quality, per_stock, u):
    """Logit choice between the two nearest facilities on distance, quality and stock reliability."""
    u1 = -per_km * d1 + per_quality * q1 + per_stock * s1
    u2 = -per_km * d2 + per_quality * q2 + per_stock * s2
    return u < 1.0 / (1.0 + math.exp(u1 - u2))


@register_jitable(_nrt=False)  # no allocation: no reference counting of the tables
def household_month(lo, hi, hh, grp, chw, fac, vil, p, keys, acc):
    """One month of households lo..hi-1: need, CHW visit, group meeting, referral, discontinuation, adoption."""
    n_discontinued = n_chw_visits = n_referrals = n_new = n_new_chw = n_completed = 0
    for i in range(lo, hi):
        src = hh.source[i]
        own = 1 if src > NONE else 0  # as tallied at the start of the month
        need = hh.need[i]
        if need == 1:
            if uniform(keys[rng.NEED], i) < p.need_turnover_per_month:
                need = 0
        elif uniform(keys[rng.NEED], i) < p.need_on_per_month:
            need = 1
        hh.need[i] = need
        if src > NONE and need == 0:
            src = NONE
            hh.months_on[i] = 0
            n_discontinued += 1

        a = hh.awareness[i]
        t = hh.trust[i]
        ref = hh.referred[i]
        fresh = False
        k = hh.chw[i]
        chw_on = k >= 0 and chw.status[k] == CHW_ACTIVE
        visited = False
        fp_visit = False
        if chw_on:
            pv = chw.p_visit_referred[k] if ref > 0 else chw.p_visit[k]
            if uniform(keys[rng.VISIT], i) < pv:
                visited = True
                fp_visit = chw.fp_trained[k] == 1
                gain = p.awareness_gain_visit * (2.0 if fp_visit else 1.0)
                a += gain * (1.0 - a)
                t += p.trust_gain_chw_visit * (1.0 - t)
                n_chw_visits += 1

        g = hh.group[i]
        in_group = g >= 0 and grp.active[g] == 1
        if in_group:
            a += grp.meeting_gain[g] * (1.0 - a)
            eligible = need == 1 and src == NONE and ref == 0 and grp.p_refer[g] > 0.0
            if eligible and uniform(keys[rng.REFER], i) < grp.p_refer[g]:
                ref = int(p.referral_valid_months)
                fresh = True
                n_referrals += 1
        a -= p.awareness_decay_per_month * a

        if src > NONE:
            quality = p.chws_quality if src == CHW else fac.quality[hh.fac1[i] if src == FAC1 else hh.fac2[i]]
            hazard = p.p_discontinue_per_month * (1.0 + p.rel_discontinue_poor_quality * (1.0 - quality))
            if visited:
                hazard *= p.rel_discontinue_follow_up
            if uniform(keys[rng.DISCONTINUE], i) < hazard:
                src = NONE
                hh.months_on[i] = 0
                n_discontinued += 1
            else:
                hh.months_on[i] += 1
                if src == CHW and not chw_on:
                    hh.request[i] = -(hh.fac1[i] + 1)  # her CHW left: resupply at the nearest facility
                elif src != CHW and uniform(keys[rng.RESUPPLY], i) < p.p_resupply_visit:
                    hh.request[i] = -((hh.fac1[i] if src == FAC1 else hh.fac2[i]) + 1)
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
            willing = demand * (1.0 - p.trust_weight + 2.0 * p.trust_weight * t)
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
                access_fac = _facility_access(
                    d, fac.quality[f], hh.wealth[i], p.log_odds_per_km, p.distance_levels_off_km, p.rel_access_poorest
                )
                access_chw = p.chw_access if fp_visit else 0.0
                adopts = u < willing * max(access_fac, access_chw)
            if adopts:
                if access_chw >= access_fac:
                    src = CHW
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
    acc[m.NEW_USERS] += n_new
    acc[m.CHW_NEW_USERS] += n_new_chw
    acc[m.REFERRALS_COMPLETED] += n_completed


@register_jitable(_nrt=False)  # no allocation: no reference counting of the tables
def household_serve(lo, hi, hh, fac, p, keys, acc):
    """The facility's answer to each request among households lo..hi-1 this month: served, or a failed visit."""
    for i in range(lo, hi):
        r = hh.request[i]
        if r != 0:
            f = abs(r) - 1
            t = hh.trust[i]
            acc[m.FACILITY_VISITS] += 1
            if uniform(keys[rng.SERVE], i) < fac.p_serve[f]:
                t += p.trust_gain_served * (1.0 - t)
                if r > 0:
                    hh.months_on[i] = 0
                    hh.ever_user[i] = 1
                    acc[m.NEW_USERS] += 1
                    if hh.referred[i] > 0:
                        acc[m.REFERRALS_COMPLETED] += 1
                        hh.referred[i] = 0
                hh.source[i] = FAC1 if f == hh.fac1[i] else FAC2
            else:
                t -= p.trust_loss_failed * t
                acc[m.FAILED_VISITS] += 1
                if r < 0 and uniform(keys[rng.FAILED], i) < p.p_discontinue_failed_resupply:
                    hh.source[i] = NONE
                    hh.months_on[i] = 0
                    acc[m.DISCONTINUED] += 1
            hh.trust[i] = t
            hh.request[i] = 0


@register_jitable
def household_record(lo, hi, hh, grp, chw, vil, acc):
    """Count the end-of-month state of households lo..hi-1 into the outputs and into next month's users per
    village and group and referred households per CHW post. Only users and referred households touch a
    counter; households per band and quintile never change, so the model counts them once."""
    users_band = np.zeros(4)
    users_q = np.zeros(5)
    users = users_chw = unmet = ever = 0
    trust = awareness = 0.0
    for i in range(lo, hi):
        src = hh.source[i]
        if src > NONE:
            users += 1
            users_band[hh.band[i]] += 1
            users_q[hh.wealth[i]] += 1
            vil.n_users[hh.village[i]] += 1
            g = hh.group[i]
            if g >= 0:
                grp.n_users[g] += 1
            if src == CHW:
                users_chw += 1
        elif hh.need[i] == 1:
            unmet += 1
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
    acc[m.EVER_USERS] += ever
    acc[m.TRUST_SUM] += trust
    acc[m.AWARENESS_SUM] += awareness
    for b in range(4):
        acc[m.USERS_BAND + b] += users_band[b]
    for q in range(5):
        acc[m.USERS_Q + q] += users_q[q]


def village_blocks(village: np.ndarray, size: int = BLOCK) -> np.ndarray:
    """Block bounds of about `size` households cut only where the village changes. Homes are sorted by
    village and a village's group and CHW posts are its own, so blocks never count into the same counter."""
    if np.any(np.diff(village) < 0):
        raise ValueError("households must be sorted by village")
    starts = np.flatnonzero(np.diff(village)) + 1
    cuts = starts[np.minimum(np.searchsorted(starts, np.arange(size, village.size, size)), starts.size - 1)]
    return np.unique(np.concatenate(([0], cuts[cuts > 0], [village.size]))).astype(np.int64)


@kernel(parallel=True)
def decide(hh, grp, chw, fac, vil, p, keys, acc, bounds):
    """household_month for every household, in parallel over the blocks."""
    n_blocks = bounds.size - 1
    part = np.zeros((n_blocks, acc.shape[0]))
    for blk in prange(n_blocks):
        household_month(bounds[blk], bounds[blk + 1], hh, grp, chw, fac, vil, p, keys, part[blk])
    for b in range(n_blocks):
        acc += part[b]


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
    chw.n_referred[:] = 0
    n_blocks = bounds.size - 1
    part = np.zeros((n_blocks, acc.shape[0]))
    for blk in prange(n_blocks):
        lo, hi = bounds[blk], bounds[blk + 1]
        household_serve(lo, hi, hh, fac, p, keys, part[blk])
        household_record(lo, hi, hh, grp, chw, vil, part[blk])
    for b in range(n_blocks):
        acc += part[b]

"""Scenario -> the flat, all-float parameter tuple the rules read (derived constants computed once)."""

import math
from typing import NamedTuple

from commsim.scenario.schema import Scenario


class Params(NamedTuple):
    """Every number a rule reads, as float64 (counts too), so Numba and Python compute alike."""

    need_off: float
    need_on: float
    chw_awareness_gain: float
    trust_gain_chw: float
    trust_gain_served: float
    trust_loss_failed: float
    village_peer_weight: float
    awareness_decay: float
    referral_valid_months: float
    chw_quality: float
    p_discontinue: float
    rel_discontinue_quality: float
    rel_follow_up: float
    p_discontinue_failed: float
    p_resupply: float
    choice_per_km: float
    choice_quality: float
    choice_stock: float
    log_odds_per_km: float
    levels_off_km: float
    access_poorest: float
    chw_access: float
    chw_p_refer: float
    rate_external: float
    rate_awareness: float
    rate_peer: float
    peer_half: float
    referral_boost: float
    trust_weight: float
    training_gain: float
    mentoring_gain: float
    capacity_decay: float
    meeting_threshold: float
    fp_modules: float
    awareness_gain_meeting: float
    rel_peer_trained: float
    p_refer_group: float
    advocacy_threshold: float
    attrition: float
    rel_attrition_unsupervised: float
    p_replace: float
    advocacy_gain: float
    feedback_gain: float
    reversion: float
    supply_ramp: float
    quality_max: float
    stock_max: float


def build_params(sc: Scenario) -> Params:
    """Flatten a scenario into Params."""
    h, g, c, f, pop = sc.households, sc.groups, sc.chws, sc.facilities, sc.population
    need_on = h.need_turnover_per_month * pop.p_need / max(1.0 - pop.p_need, 1e-9)
    return Params(
        need_off=h.need_turnover_per_month,
        need_on=min(need_on, 1.0),
        chw_awareness_gain=c.awareness_gain_visit,
        trust_gain_chw=h.trust_gain_chw_visit,
        trust_gain_served=h.trust_gain_served,
        trust_loss_failed=h.trust_loss_failed,
        village_peer_weight=h.village_peer_weight,
        awareness_decay=h.awareness_decay_per_month,
        referral_valid_months=float(h.referral_valid_months),
        chw_quality=c.quality,
        p_discontinue=h.p_discontinue_per_month,
        rel_discontinue_quality=h.rel_discontinue_poor_quality,
        rel_follow_up=h.rel_discontinue_follow_up,
        p_discontinue_failed=h.p_discontinue_failed_resupply,
        p_resupply=h.p_resupply_visit,
        choice_per_km=h.choice_per_km,
        choice_quality=h.choice_quality,
        choice_stock=h.choice_stock,
        log_odds_per_km=math.log(h.distance_odds_per_km),
        levels_off_km=h.distance_levels_off_km,
        access_poorest=h.rel_access_poorest,
        chw_access=c.p_method_access if c.provides_methods else 0.0,
        chw_p_refer=c.p_refer,
        rate_external=h.rate_external_per_month,
        rate_awareness=h.rate_awareness_per_month,
        rate_peer=h.rate_peer_per_month,
        peer_half=h.peer_half_saturation,
        referral_boost=h.referral_boost_per_month,
        trust_weight=h.trust_weight,
        training_gain=g.training_gain_per_month,
        mentoring_gain=g.mentoring_gain_per_month,
        capacity_decay=g.capacity_decay_per_month,
        meeting_threshold=g.meeting_threshold,
        fp_modules=float(g.fp_modules),
        awareness_gain_meeting=g.awareness_gain_per_meeting,
        rel_peer_trained=g.rel_peer_trained,
        p_refer_group=g.p_refer_per_month,
        advocacy_threshold=g.advocacy_threshold,
        attrition=c.attrition_per_month,
        rel_attrition_unsupervised=c.rel_attrition_no_refresher * c.rel_attrition_unsupervised,
        p_replace=c.p_replace_per_month,
        advocacy_gain=f.advocacy_gain_per_month,
        feedback_gain=f.feedback_gain_per_month,
        reversion=f.reversion_per_month,
        supply_ramp=f.supply_ramp_per_month,
        quality_max=f.quality_max,
        stock_max=f.stock_max,
    )

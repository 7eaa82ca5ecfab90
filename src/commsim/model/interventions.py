"""The dated intervention schedule: at each month's start, interventions begin or end by setting flags and
levels on groups, CHW posts and facilities. Both backends share this code; the rules then act on the flags.

Donor-funded interventions end at the month a `donor_exit` takes effect, whatever their own end month.
"""

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from commsim.model import rng
from commsim.model.params import hours_per_visit
from commsim.model.population import District, choose_leaders
from commsim.model.state import BAD_UNITS, CHW_ACTIVE, LEADER_HOSTILE, LEADER_NEUTRAL, LEADER_SUPPORTIVE
from commsim.scenario.schema import (
    METHODS,
    Advocacy,
    CapacityBuilding,
    ChwScaleUp,
    CoCreation,
    CommunityMonitoring,
    CommunityNetworks,
    Coordination,
    DonorExit,
    Feedback,
    Intervention,
    LeaderEngagement,
    Linkage,
    MaleEngagement,
    Scenario,
    SharedRecord,
    SupplyImprovement,
)

DEFAULT_COVERAGE = 1.0


class OneOff(NamedTuple):
    """What the interventions that start in a month cost once (US$): CHWs trained in FP (the CHW programme), and
    villages' leaders engaged and groups co-created (the group programme)."""

    chw_training: float = 0.0
    group_programme: float = 0.0

    def __add__(self, other: "OneOff") -> "OneOff":  # type: ignore[override]
        return OneOff(*(a + b for a, b in zip(self, other, strict=True)))


@dataclass
class Facilitation:
    """An NGO's capacity building of groups: `facilitators` facilitators, each convening up to `caseload` groups
    a month, go round the targeted groups in order (group order, so a facilitator's groups are neighbours)."""

    targets: np.ndarray
    facilitators: int
    caseload: int
    modules_per_month: float
    start: int

    @property
    def in_turn(self) -> bool:
        """Whether the groups outnumber the sessions, so they take them in turn."""
        return self.facilitators * self.caseload < self.targets.size

    def convened(self, month: int) -> np.ndarray:
        """The targeted groups convened in `month`: all of them if the facilitators have the sessions, else the
        next facilitators x caseload in turn, so each group is convened every targets / sessions months."""
        if not self.in_turn:
            return self.targets
        sessions = self.facilitators * self.caseload
        first = ((month - self.start) * sessions) % self.targets.size
        return np.take(self.targets, np.arange(first, first + sessions), mode="wrap")

    def groups_of(self, k: int, month: int) -> np.ndarray:
        """The groups facilitator k convenes in `month`."""
        return self.convened(month)[k * self.caseload : (k + 1) * self.caseload]


@dataclass
class Monitoring:
    """Groups that monitor and plan (`CommunityMonitoring`), once started: the reporting groups, the posts' hours
    and visit norms before the district moved any, and the facilities it supports now."""

    iv: CommunityMonitoring
    targets: np.ndarray
    base_hours: np.ndarray
    base_visits: np.ndarray
    hours_per_visit: float
    supported: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))

    def plan(self, d: District) -> None:
        """A planning round on last month's reports of the groups that met: each active post of a reporting
        village gets a share of the extra hours in proportion to the unmet need its groups report, and visits to
        fill them; the facilities with the most reported bad experiences per catchment household get supply
        support until the next round (those another programme supports keep theirs)."""
        grp, chw, fac, iv = d.groups, d.chws, d.facilities, self.iv
        reporting = self.targets[grp.active[self.targets] == 1]
        posts = grp.chw[reporting]
        mine = posts >= 0
        need = np.bincount(posts[mine], weights=grp.n_unmet[reporting][mine], minlength=chw.status.size)
        need[chw.status != CHW_ACTIVE] = 0.0
        extra = iv.extra_chw_hours_per_month * need / need.sum() if need.sum() > 0 else np.zeros(need.size)
        chw.hours_per_month[:] = self.base_hours + extra
        chw.visits_per_month[:] = self.base_visits + extra / self.hours_per_visit
        fac.supply_target[self.supported] = 0.0
        bad = np.bincount(
            grp.facility[reporting], weights=grp.member_bad[reporting] / BAD_UNITS, minlength=fac.stock.size
        )
        per_home = bad / np.maximum(fac.n_catchment, 1)
        worst = np.argsort(-per_home, kind="stable")[: round(iv.facilities_supported * fac.stock.size)]
        worst = worst[per_home[worst] > 0]
        self.supported = worst[(fac.supply_target[worst] == 0.0).all(axis=1)]
        fac.supply_target[self.supported] = iv.stock_reliability

    def stop(self, d: District) -> None:
        """The posts get their hours and visit norms back, the supported facilities lose the support."""
        d.chws.hours_per_month[:] = self.base_hours
        d.chws.visits_per_month[:] = self.base_visits
        d.facilities.supply_target[self.supported] = 0.0
        self.supported = np.empty(0, np.int64)


@dataclass
class Schedule:
    """The interventions of a scenario with their effective windows, and the targets each reached."""

    scenario: Scenario
    seed: int
    windows: dict[str, tuple[int, int | None]] = field(default_factory=dict)
    targets: dict[str, np.ndarray] = field(default_factory=dict)
    facilitation: dict[str, Facilitation] = field(default_factory=dict)  # NGO capacity building, once started
    monitoring: dict[str, Monitoring] = field(default_factory=dict)  # groups that monitor and plan, once started
    stipends_end: int | None = field(init=False, default=None)  # month CHW stipends stop, if a donor exit ends them

    def __post_init__(self) -> None:
        donor_exit, exit_month = self.scenario.donor_exit, self.scenario.donor_exit_month
        self.stipends_end = exit_month if donor_exit is not None and donor_exit.end_stipends else None
        for name, iv in self.scenario.interventions.items():
            end = iv.end_month
            if iv.funded_by == "donor" and exit_month is not None and not isinstance(iv, DonorExit):
                end = exit_month if end is None else min(end, exit_month)
            self.windows[name] = (iv.start_month, end)

    def pays_stipends(self, month: int) -> bool:
        """Whether CHWs are paid a stipend in `month` (until a donor exit that ends stipends)."""
        return self.stipends_end is None or month < self.stipends_end

    def running(self, name: str, month: int) -> bool:
        """Whether intervention `name` is in effect in `month`."""
        start, end = self.windows[name]
        return start <= month and (end is None or month < end)

    def facilitators(self, month: int) -> int:
        """The facilitators employed in `month`, over every running NGO capacity building."""
        return sum(f.facilitators for name, f in self.facilitation.items() if self.running(name, month))

    def events(self, month: int) -> list[tuple[str, Intervention, bool]]:
        """(name, intervention, starting?) for what begins or ends at `month`; ends first, then starts."""
        ends, starts = [], []
        for name, iv in sorted(self.scenario.interventions.items()):
            start, end = self.windows[name]
            if end is not None and month == end and start < end:
                ends.append((name, iv, False))
            if month == start and (end is None or start < end):
                starts.append((name, iv, True))
        return ends + starts


def _pick(
    n: int,
    coverage: float,
    remoteness: np.ndarray,
    remote_first: bool,
    seed: int,
    name: str,
    reachable: np.ndarray | None = None,
) -> np.ndarray:
    """Indices of the round(coverage x n) targets: farthest first, or in a random order of the seed; only
    `reachable` ones (a boolean mask) if given, so fewer when fewer can be reached."""
    count = round(coverage * n)
    if remote_first:
        order = np.argsort(-remoteness, kind="stable")
    else:
        order = np.argsort(rng.uniforms(rng.stream_key(seed, 0, rng.name_stream(name)), n), kind="stable")
    if reachable is not None:
        order = order[reachable[order]]
    return np.sort(order[:count])


def apply_month(schedule: Schedule, d: District, month: int) -> OneOff:
    """Start and end what is scheduled for `month`, and let facilitators convene this month's groups; return
    what it costs once (US$): the CHWs it trains in FP, the villages' leaders it engages."""
    cost = OneOff()
    for name, iv, starting in schedule.events(month):
        cost += _HANDLERS[type(iv)](schedule, d, name, iv, starting)
    for name, f in schedule.facilitation.items():
        if schedule.running(name, month) and f.in_turn:
            d.groups.training[f.targets] = 0.0
            d.groups.training[f.convened(month)] = f.modules_per_month
    for name, watch in schedule.monitoring.items():
        start = watch.iv.start_month
        if schedule.running(name, month) and month > start and (month - start) % watch.iv.plan_every_months == 0:
            watch.plan(d)
    return cost


def _targets(
    schedule: Schedule,
    name: str,
    iv: Intervention,
    remoteness: np.ndarray,
    default: float,
    reachable: np.ndarray | None = None,
) -> np.ndarray:
    if name not in schedule.targets:
        coverage = default if iv.coverage is None else iv.coverage
        schedule.targets[name] = _pick(
            remoteness.size, coverage, remoteness, iv.remote_first, schedule.seed, name, reachable
        )
    return schedule.targets[name]


def _capacity_building(s: Schedule, d: District, name: str, iv: CapacityBuilding, starting: bool) -> OneOff:
    grp, chw = d.groups, d.chws
    by_chw = iv.delivered_by == "chw"
    coverage = s.scenario.groups.training_coverage if iv.coverage is None else iv.coverage
    # a CHW trains only her own village's groups: those of villages with an active CHW when it starts
    reachable = (grp.chw >= 0) & (chw.status[np.maximum(grp.chw, 0)] == CHW_ACTIVE)
    asked, can = round(coverage * reachable.size), np.count_nonzero(reachable)
    if by_chw and starting and name not in s.targets and asked > can:
        warnings.warn(
            f"interventions.{name}: coverage {coverage:g} asks for {asked} groups, but only {can} are in villages "
            "with an active CHW to train them (delivered_by = 'chw'); delivered_by = 'ngo' reaches the others",
            stacklevel=2,
        )
    t = _targets(s, name, iv, grp.remoteness, coverage, reachable if by_chw else None)
    if not starting:
        grp.training[t] = 0.0
        grp.inclusive[t] = 0
        return OneOff()
    grp.training[t] = iv.modules_per_month
    grp.inclusive[t] = iv.inclusive
    if iv.inclusive:  # its facilitators see that members of every means can lead
        _lead(s, d, name, t, d.households.group, 1.0)
    grp.via_chw[t] = by_chw
    grp.sustain[t] += iv.organisational_strengthening_per_month
    if not by_chw:
        hired = math.ceil(t.size / iv.groups_per_facilitator) if iv.facilitators is None else iv.facilitators
        s.facilitation[name] = Facilitation(t, hired, iv.groups_per_facilitator, iv.modules_per_month, iv.start_month)
        return OneOff()
    posts = np.unique(grp.chw[t][grp.chw[t] >= 0])
    newly = posts[(chw.status[posts] == CHW_ACTIVE) & (chw.fp_trained[posts] == 0)]
    chw.fp_trained[newly] = 1
    return OneOff(chw_training=float(newly.size * s.scenario.costs.chw_training_usd))


def _linkage(s: Schedule, d: District, name: str, iv: Linkage, starting: bool) -> OneOff:
    grp = d.groups
    t = _targets(s, name, iv, grp.remoteness, DEFAULT_COVERAGE)
    on = 1 if starting else 0
    if iv.to_chw:
        grp.linked_chw[t] = on * (grp.chw[t] >= 0)
    if iv.to_facility:
        grp.linked_facility[t] = on
    grp.link_strength[t] = iv.strength if starting else 1.0
    return OneOff()


def _advocacy(s: Schedule, d: District, name: str, iv: Advocacy, starting: bool) -> OneOff:
    t = _targets(s, name, iv, d.groups.remoteness, DEFAULT_COVERAGE)
    d.groups.advocacy[t] += iv.strength if starting else -iv.strength
    return OneOff()


def _chw_scale_up(s: Schedule, d: District, name: str, iv: ChwScaleUp, starting: bool) -> OneOff:
    chw = d.chws
    if not starting:
        if iv.supervise:
            chw.supervised[:] = 0
        return OneOff()
    villages = _targets(s, name, iv, d.villages.remoteness, DEFAULT_COVERAGE)
    reached = np.isin(chw.village, villages)
    chw.status[reached & (chw.status != CHW_ACTIVE)] = CHW_ACTIVE
    cost = OneOff()
    if iv.train_fp:
        newly = (chw.status == CHW_ACTIVE) & (chw.fp_trained == 0)
        chw.fp_trained[newly] = 1
        cost = OneOff(chw_training=float(newly.sum() * s.scenario.costs.chw_training_usd))
    if iv.supervise:
        chw.supervised[:] = 1
    if iv.visits_per_month is not None:
        chw.visits_per_month[:] = iv.visits_per_month
    if iv.hours_per_month is not None:
        chw.hours_per_month[:] = iv.hours_per_month
    return cost


def _supply(s: Schedule, d: District, name: str, iv: SupplyImprovement, starting: bool) -> OneOff:
    fac = d.facilities
    t = _targets(s, name, iv, fac.remoteness, DEFAULT_COVERAGE)
    methods = [METHODS.index(x) for x in iv.methods] if iv.methods is not None else list(range(len(METHODS)))
    fac.supply_target[np.ix_(t, methods)] = iv.stock_reliability if starting else 0.0
    fac.capacity[t] = fac.base_capacity[t] * (iv.rel_capacity if starting else 1.0)
    return OneOff()


def _donor_exit(s: Schedule, d: District, name: str, iv: DonorExit, starting: bool) -> OneOff:
    if starting:
        d.chws.visits_per_month[:] *= iv.rel_chw_visits
        if iv.end_supervision:
            d.chws.supervised[:] = 0
    return OneOff()


def _feedback(s: Schedule, d: District, name: str, iv: Feedback, starting: bool) -> OneOff:
    grp, fac = d.groups, d.facilities
    t = _targets(s, name, iv, grp.remoteness, DEFAULT_COVERAGE)
    grp.feedback[t] = 1 if starting else 0
    fp = s.scenario.facilities
    mechanism = {"none": 0.0, "health_committee": fp.responsiveness_health_committee}.get(
        iv.accountability, fp.responsiveness_scorecard
    )
    fac.responsiveness[np.unique(grp.facility[t])] = iv.responsiveness * mechanism if starting else 0.0
    return OneOff()


def _leader_engagement(s: Schedule, d: District, name: str, iv: LeaderEngagement, starting: bool) -> OneOff:
    """Each targeted village's leaders move one step towards backing FP with chance p_buy_in (a draw of the seed
    per village), and keep it after the intervention ends."""
    if not starting:
        return OneOff()
    vil = d.villages
    t = _targets(s, name, iv, vil.remoteness, DEFAULT_COVERAGE)
    u = rng.uniforms(rng.stream_key(s.seed, 0, rng.name_stream(f"{name}.buy_in")), vil.leader.size)[t]
    moves = t[u < iv.p_buy_in]
    stance = vil.leader[moves]
    vil.leader[moves] = np.where(stance == LEADER_HOSTILE, LEADER_NEUTRAL, LEADER_SUPPORTIVE)
    return OneOff(group_programme=float(t.size * s.scenario.costs.leader_engagement_usd))


def _lead(s: Schedule, d: District, name: str, t: np.ndarray, group: np.ndarray, rel_poorest: float) -> None:
    """Groups t choose their leaders among the women of `group` (their members, or a new group's founders: its
    village's women) with draws of the seed per intervention."""
    hh, gp = d.households, s.scenario.groups
    women = np.flatnonzero(np.isin(group, t))
    u_lead = rng.uniforms(rng.stream_key(s.seed, 0, rng.name_stream(f"{name}.leaders")), group.size)[women]
    u_capture = rng.uniforms(rng.stream_key(s.seed, 0, rng.name_stream(f"{name}.captured")), d.groups.formed.size)
    choose_leaders(
        d.groups,
        group[women],
        hh.wealth[women],
        hh.join_near[women],
        rel_poorest,
        gp.p_advocacy_captured,
        u_lead,
        u_capture,
    )


def _co_creation(s: Schedule, d: District, name: str, iv: CoCreation, starting: bool) -> OneOff:
    """The targeted villages' groups come to exist and meet; what is founded stays after the programme ends."""
    grp = d.groups
    t = _targets(s, name, iv, grp.remoteness, DEFAULT_COVERAGE, reachable=grp.formed == 0)
    if not starting:
        grp.inclusive[t] = 0
        return OneOff()
    grp.formed[t] = 1
    grp.inclusive[t] = iv.inclusive
    _lead(s, d, name, t, d.households.home_group, 1.0 if iv.inclusive else s.scenario.groups.rel_lead_poorest)
    grp.capacity[t] = np.maximum(grp.capacity[t], iv.start_capacity)
    return OneOff(group_programme=float(t.size * s.scenario.costs.co_creation_usd))


def _community_monitoring(s: Schedule, d: District, name: str, iv: CommunityMonitoring, starting: bool) -> OneOff:
    t = _targets(s, name, iv, d.groups.remoteness, DEFAULT_COVERAGE)
    d.groups.monitoring[t] = 1 if starting else 0
    if starting:
        chw = d.chws
        per_visit = hours_per_visit(s.scenario)
        s.monitoring[name] = Monitoring(iv, t, chw.hours_per_month.copy(), chw.visits_per_month.copy(), per_visit)
    else:
        s.monitoring[name].stop(d)
    return OneOff()


def _flag(table: str, column: str) -> Callable[..., OneOff]:
    """The handler of an intervention that only switches `table.column` on for its targets (chosen among the
    table's rows by remoteness) while it runs, and off when it ends."""

    def handler(s: Schedule, d: District, name: str, iv: Intervention, starting: bool) -> OneOff:
        rows = getattr(d, table)
        t = _targets(s, name, iv, rows.remoteness, DEFAULT_COVERAGE)
        getattr(rows, column)[t] = 1 if starting else 0
        return OneOff()

    return handler


_HANDLERS = {
    CapacityBuilding: _capacity_building,
    Linkage: _linkage,
    Advocacy: _advocacy,
    ChwScaleUp: _chw_scale_up,
    SupplyImprovement: _supply,
    DonorExit: _donor_exit,
    Feedback: _feedback,
    SharedRecord: _flag("groups", "shared_record"),
    MaleEngagement: _flag("groups", "male_engagement"),
    LeaderEngagement: _leader_engagement,
    CommunityMonitoring: _community_monitoring,
    CoCreation: _co_creation,
    Coordination: _flag("groups", "coordinated"),
    CommunityNetworks: _flag("villages", "network"),
}

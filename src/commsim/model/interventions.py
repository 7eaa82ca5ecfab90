"""The dated intervention schedule: at each month's start, interventions begin or end by setting flags and
levels on groups, CHW posts and facilities. Both backends share this code; the rules then act on the flags.

Donor-funded interventions end at the month a `donor_exit` takes effect, whatever their own end month.
"""

from dataclasses import dataclass, field

import numpy as np

from commsim.model import rng
from commsim.model.population import District
from commsim.model.state import CHW_ACTIVE
from commsim.scenario.schema import (
    METHODS,
    Advocacy,
    CapacityBuilding,
    ChwScaleUp,
    DonorExit,
    Feedback,
    Intervention,
    Linkage,
    Scenario,
    SupplyImprovement,
)

DEFAULT_COVERAGE = 1.0


@dataclass
class Schedule:
    """The interventions of a scenario with their effective windows, and the targets each reached."""

    scenario: Scenario
    seed: int
    windows: dict[str, tuple[int, int | None]] = field(default_factory=dict)
    targets: dict[str, np.ndarray] = field(default_factory=dict)
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


def _pick(n: int, coverage: float, remoteness: np.ndarray, remote_first: bool, seed: int, name: str) -> np.ndarray:
    """Indices of the round(coverage x n) targets: farthest first, or in a random order of the seed."""
    count = round(coverage * n)
    if remote_first:
        order = np.argsort(-remoteness, kind="stable")
    else:
        order = np.argsort(rng.uniforms(rng.stream_key(seed, 0, rng.name_stream(name)), n), kind="stable")
    return np.sort(order[:count])


def apply_month(schedule: Schedule, d: District, month: int) -> float:
    """Start and end what is scheduled for `month`; return what it costs once (US$): the CHWs it trains in FP."""
    cost = 0.0
    for name, iv, starting in schedule.events(month):
        cost += _HANDLERS[type(iv)](schedule, d, name, iv, starting)
    return cost


def _targets(schedule: Schedule, name: str, iv: Intervention, remoteness: np.ndarray, default: float) -> np.ndarray:
    if name not in schedule.targets:
        coverage = default if iv.coverage is None else iv.coverage
        schedule.targets[name] = _pick(remoteness.size, coverage, remoteness, iv.remote_first, schedule.seed, name)
    return schedule.targets[name]


def _capacity_building(s: Schedule, d: District, name: str, iv: CapacityBuilding, starting: bool) -> float:
    grp, chw = d.groups, d.chws
    t = _targets(s, name, iv, grp.remoteness, s.scenario.groups.training_coverage)
    if not starting:
        grp.training[t] = 0.0
        return 0.0
    grp.training[t] = iv.modules_per_month
    grp.via_chw[t] = iv.delivered_by == "chw"
    grp.sustain[t] += iv.organisational_strengthening_per_month
    if iv.delivered_by != "chw":
        return 0.0
    posts = np.unique(grp.chw[t][grp.chw[t] >= 0])
    newly = posts[(chw.status[posts] == CHW_ACTIVE) & (chw.fp_trained[posts] == 0)]
    chw.fp_trained[newly] = 1
    return float(newly.size * s.scenario.costs.chw_training_usd)


def _linkage(s: Schedule, d: District, name: str, iv: Linkage, starting: bool) -> float:
    grp = d.groups
    t = _targets(s, name, iv, grp.remoteness, DEFAULT_COVERAGE)
    on = 1 if starting else 0
    if iv.to_chw:
        grp.linked_chw[t] = on * (grp.chw[t] >= 0)
    if iv.to_facility:
        grp.linked_facility[t] = on
    grp.link_strength[t] = iv.strength if starting else 1.0
    return 0.0


def _advocacy(s: Schedule, d: District, name: str, iv: Advocacy, starting: bool) -> float:
    t = _targets(s, name, iv, d.groups.remoteness, DEFAULT_COVERAGE)
    d.groups.advocacy[t] += iv.strength if starting else -iv.strength
    return 0.0


def _chw_scale_up(s: Schedule, d: District, name: str, iv: ChwScaleUp, starting: bool) -> float:
    chw = d.chws
    if not starting:
        if iv.supervise:
            chw.supervised[:] = 0
        return 0.0
    villages = _targets(s, name, iv, d.villages.remoteness, DEFAULT_COVERAGE)
    reached = np.isin(chw.village, villages)
    chw.status[reached & (chw.status != CHW_ACTIVE)] = CHW_ACTIVE
    cost = 0.0
    if iv.train_fp:
        newly = (chw.status == CHW_ACTIVE) & (chw.fp_trained == 0)
        chw.fp_trained[newly] = 1
        cost = float(newly.sum() * s.scenario.costs.chw_training_usd)
    if iv.supervise:
        chw.supervised[:] = 1
    if iv.visits_per_month is not None:
        chw.visits_per_month[:] = iv.visits_per_month
    return cost


def _supply(s: Schedule, d: District, name: str, iv: SupplyImprovement, starting: bool) -> float:
    fac = d.facilities
    t = _targets(s, name, iv, fac.remoteness, DEFAULT_COVERAGE)
    methods = [METHODS.index(x) for x in iv.methods] if iv.methods is not None else list(range(len(METHODS)))
    fac.supply_target[np.ix_(t, methods)] = iv.stock_reliability if starting else 0.0
    fac.capacity[t] = fac.base_capacity[t] * (iv.rel_capacity if starting else 1.0)
    return 0.0


def _donor_exit(s: Schedule, d: District, name: str, iv: DonorExit, starting: bool) -> float:
    if starting:
        d.chws.visits_per_month[:] *= iv.rel_chw_visits
        if iv.end_supervision:
            d.chws.supervised[:] = 0
    return 0.0


def _feedback(s: Schedule, d: District, name: str, iv: Feedback, starting: bool) -> float:
    grp, fac = d.groups, d.facilities
    t = _targets(s, name, iv, grp.remoteness, DEFAULT_COVERAGE)
    grp.feedback[t] = 1 if starting else 0
    fac.responsiveness[np.unique(grp.facility[t])] = iv.responsiveness if starting else 0.0
    return 0.0


_HANDLERS = {
    CapacityBuilding: _capacity_building,
    Linkage: _linkage,
    Advocacy: _advocacy,
    ChwScaleUp: _chw_scale_up,
    SupplyImprovement: _supply,
    DonorExit: _donor_exit,
    Feedback: _feedback,
}

"""Mesa agents as views onto the state tables.

Groups, CHWs and facilities are agents under both backends (for inspection, the UI and per-agent stepping);
households are agents only under the Python twin. Each agent's methods call the same rule functions the
kernels compile, for its own index, so the twin is the readable per-agent reference of the model.
"""

import mesa

from commsim.model.kernels import chws as chw_rules
from commsim.model.kernels import facilities as facility_rules
from commsim.model.kernels import groups as group_rules
from commsim.model.kernels import households as household_rules


class Household(mesa.Agent):
    """An index woman of reproductive age and her household (Python twin only)."""

    def __init__(self, model: mesa.Model, idx: int) -> None:
        super().__init__(model)
        self.idx = idx

    def step(self) -> None:
        """Her month: need, CHW visit, group meeting, referral, discontinuation or adoption."""
        m, d = self.model, self.model.district
        hh = d.households
        household_rules.household_month(
            self.idx, self.idx + 1, hh, d.groups, d.chws, d.facilities, d.villages, m.params, m.keys, m.acc
        )
        if hh.request[self.idx] != 0:
            m.facility_agents[abs(int(hh.request[self.idx])) - 1].requests.append(self.idx)

    def record(self) -> None:
        """Add her end-of-month state to the outputs and to next month's counts of her village, group and CHW."""
        d = self.model.district
        household_rules.household_record(
            self.idx, self.idx + 1, d.households, d.groups, d.chws, d.villages, self.model.acc
        )

    @property
    def is_user(self) -> bool:
        return bool(self.model.district.households.source[self.idx] > 0)


class WomensGroup(mesa.Agent):
    """A women's group / community-based organisation."""

    def __init__(self, model: mesa.Model, idx: int) -> None:
        super().__init__(model)
        self.idx = idx

    def step(self) -> None:
        d = self.model.district
        group_rules.group_month(self.idx, d.groups, d.chws, d.facilities, self.model.params, self.model.acc)

    @property
    def capacity(self) -> float:
        return float(self.model.district.groups.capacity[self.idx])

    @property
    def active(self) -> bool:
        return bool(self.model.district.groups.active[self.idx])


class CommunityHealthWorker(mesa.Agent):
    """A CHW post: deployed or not, its CHW active or gone."""

    def __init__(self, model: mesa.Model, idx: int) -> None:
        super().__init__(model)
        self.idx = idx

    def step(self) -> None:
        m = self.model
        chw_rules.chw_month(self.idx, m.district.chws, m.params, m.keys, m.acc)

    @property
    def active(self) -> bool:
        return bool(self.model.district.chws.status[self.idx] == chw_rules.ACTIVE)


class Facility(mesa.Agent):
    """A health facility that serves FP clients up to its monthly capacity and stock."""

    def __init__(self, model: mesa.Model, idx: int) -> None:
        super().__init__(model)
        self.idx = idx
        self.requests: list[int] = []

    def open(self) -> None:
        """Count this month's requests, draw a stockout, set the share served."""
        m = self.model
        m.district.facilities.n_requests[self.idx] = len(self.requests)
        facility_rules.facility_open(self.idx, m.district.facilities, m.keys, m.acc)

    def serve(self) -> None:
        """Answer each request: served, or a failed visit."""
        m, d = self.model, self.model.district
        for i in self.requests:
            household_rules.household_serve(i, i + 1, d.households, d.facilities, m.params, m.keys, m.acc)
        self.requests = []

    def update(self) -> None:
        facility_rules.facility_update(self.idx, self.model.district.facilities, self.model.params)

    @property
    def quality(self) -> float:
        return float(self.model.district.facilities.quality[self.idx])

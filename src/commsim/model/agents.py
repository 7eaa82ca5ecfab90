"""Mesa agents as views onto the state tables.

Groups, CHWs and facilities are agents under both backends (for inspection, the UI and per-agent stepping);
households are agents only under the Python twin. Each agent's methods call the same rule functions the
kernels compile, for its own index, so the twin is the readable per-agent reference of the model. Under the
compiled backend the kernels run those rules, so an agent's rule methods refuse to run them a second time.
"""

import mesa
import numpy as np

from commsim.model.kernels import chws as chw_rules
from commsim.model.kernels import facilities as facility_rules
from commsim.model.kernels import groups as group_rules
from commsim.model.kernels import households as household_rules
from commsim.model.state import CHW_ACTIVE


class Agent(mesa.Agent):
    """A view onto row `idx` of its state table; its rule methods run only under the Python twin."""

    def __init__(self, model: mesa.Model, idx: int) -> None:
        super().__init__(model)
        self.idx = idx

    def _twin_only(self, method: str) -> None:
        if self.model.backend != "python":
            raise RuntimeError(
                f"{type(self).__name__}.{method}: the compiled kernels run this model's rules (backend "
                f"{self.model.backend!r}), so its agents are views; step the model, or build it with backend='python'"
            )


class Household(Agent):
    """An index woman of reproductive age and her household (Python twin only)."""

    def step(self) -> None:
        """Her month: need, CHW visit, group meeting, referral, discontinuation or adoption."""
        self._twin_only("step")
        m, d = self.model, self.model.district
        hh = d.households
        household_rules.household_month(
            self.idx, self.idx + 1, hh, d.groups, d.chws, d.facilities, d.villages, m.params, m.keys, m.acc
        )
        if hh.request[self.idx] != 0:
            m.facility_agents[abs(int(hh.request[self.idx])) - 1].requests.append(self.idx)

    def record(self) -> None:
        """Add her end-of-month state to the outputs and to next month's counts of her village, group and CHW."""
        self._twin_only("record")
        d = self.model.district
        household_rules.household_record(
            self.idx, self.idx + 1, d.households, d.groups, d.chws, d.villages, self.model.acc
        )

    @property
    def is_user(self) -> bool:
        return bool(self.model.district.households.source[self.idx] > 0)


class WomensGroup(Agent):
    """A women's group / community-based organisation."""

    def step(self) -> None:
        self._twin_only("step")
        d = self.model.district
        group_rules.group_month(self.idx, d.groups, d.chws, d.facilities, d.villages, self.model.params, self.model.acc)

    def ask_chw(self) -> None:
        """Tell its CHW what it asks of her this month: modules to teach, a follow-up."""
        self._twin_only("ask_chw")
        d = self.model.district
        chw_rules.group_work(self.idx, d.groups, d.chws)

    @property
    def capacity(self) -> float:
        return float(self.model.district.groups.capacity[self.idx])

    @property
    def active(self) -> bool:
        return bool(self.model.district.groups.active[self.idx])


class CommunityHealthWorker(Agent):
    """A CHW post: deployed or not, its CHW active or gone."""

    def step(self) -> None:
        self._twin_only("step")
        m = self.model
        chw_rules.chw_month(self.idx, m.district.chws, m.district.facilities, m.params, m.keys, m.acc)

    @property
    def active(self) -> bool:
        return bool(self.model.district.chws.status[self.idx] == CHW_ACTIVE)


class Facility(Agent):
    """A health facility that serves FP clients up to its monthly capacity and stock."""

    def __init__(self, model: mesa.Model, idx: int) -> None:
        super().__init__(model, idx)
        self.requests: list[int] = []

    def open(self) -> None:
        """Count this month's requests, draw each method's stockout, set the share served."""
        self._twin_only("open")
        m = self.model
        m.district.facilities.n_requests[self.idx] = len(self.requests)
        facility_rules.facility_open(self.idx, m.district.facilities, m.keys, m.acc)

    def serve(self) -> None:
        """Answer each request: served, or a failed visit; a served one enters the facility's records."""
        self._twin_only("serve")
        m, d = self.model, self.model.district
        for i in self.requests:
            household_rules.household_serve(i, i + 1, d.households, d.groups, d.facilities, m.params, m.keys, m.acc)
            household_rules.household_tally(i, d.households, d.facilities, m.params)
        self.requests = []

    def update(self) -> None:
        self._twin_only("update")
        m = self.model
        facility_rules.facility_update(self.idx, m.district.facilities, m.params, m.keys, m.acc)

    @property
    def quality(self) -> float:
        return float(self.model.district.facilities.quality[self.idx])


class Facilitator(mesa.Agent):
    """A facilitator of an NGO's capacity building of groups (`interventions.Facilitation`): she convenes up to
    her caseload of groups a month and is paid while the programme runs. Under both backends the schedule moves
    her round her programme's groups, so she has no rule to step."""

    def __init__(self, model: mesa.Model, programme: str, k: int) -> None:
        super().__init__(model)
        self.programme = programme
        self.k = k

    @property
    def caseload(self) -> int:
        return self.model.schedule.facilitation[self.programme].caseload

    @property
    def working(self) -> bool:
        """Whether her programme runs this month."""
        return self.model.schedule.running(self.programme, self.model.month)

    @property
    def groups(self) -> np.ndarray:
        """The groups she convenes this month (none once her programme has ended)."""
        if not self.working:
            return np.empty(0, np.int64)
        return self.model.schedule.facilitation[self.programme].groups_of(self.k, self.model.month)

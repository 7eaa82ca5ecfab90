"""`CommunityHealthModel`: a Mesa model that owns the state tables, the schedule, the phase order and the
DataCollector. One step is one month; `backend` chooses compiled kernels or the per-agent Python twin.
"""

import math
import os
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import mesa
import numba
import numpy as np
import pandas as pd
from mesa.experimental.scenarios import Scenario as MesaScenario
from pydantic import ConfigDict, TypeAdapter, ValidationError

from commsim.model import BACKENDS, checks, costs, interventions, metrics, resources, services
from commsim.model import rng as counter_rng
from commsim.model.agents import CommunityHealthWorker, Facilitator, Facility, Household, WomensGroup
from commsim.model.kernels import chws as chw_kernels
from commsim.model.kernels import facilities as facility_kernels
from commsim.model.kernels import groups as group_kernels
from commsim.model.kernels import households as household_kernels
from commsim.model.params import build_params
from commsim.model.population import build_district
from commsim.model.state import CHW_ACTIVE
from commsim.scenario.loader import load_scenario
from commsim.scenario.schema import Scenario

SERIAL_BELOW = 4 * household_kernels.BLOCK  # smaller districts step on one thread: a parallel launch costs more


class CommunityHealthModel(mesa.Model):
    """Households, women's groups, CHWs and facilities of one district under one scenario.

    `config` is the commsim scenario: a path, a shipped scenario's name, a Scenario or a mapping; `rng` an integer
    seed (default: the scenario's seed); `overrides` set scenario keys with `__` for each dot, e.g.
    `groups__training_coverage=0.6`. `scenario` is Mesa's own Scenario (what SolaraViz and Mesa's tools pass;
    its `rng`, if set, is the seed). A district needing more memory than the machine has free is refused before
    it is built, unless `check_memory=False`. `debug_checks=True` runs the conservation checks of
    `model.checks` after every phase (the tests do). `record_services=False` keeps no service statistics
    (`service_statistics()`), for long runs of big districts that do not need them. The commsim scenario is
    `model.config`.
    """

    def __init__(
        self,
        config: "str | Path | Scenario | Mapping[str, Any]" = "baseline",
        *,
        rng: int | None = None,
        backend: str = "numba",
        check_memory: bool = True,
        debug_checks: bool = False,
        record_services: bool = True,
        scenario: MesaScenario | None = None,
        **overrides: Any,
    ) -> None:
        if scenario is not None and not isinstance(scenario, MesaScenario):
            warnings.warn(
                "CommunityHealthModel(scenario=...): the commsim scenario is the first argument, `config`; "
                "`scenario` is Mesa's own Scenario",
                DeprecationWarning,
                stacklevel=2,
            )
            config, scenario = scenario, None
        if scenario is not None and rng is None:  # a Mesa Scenario (as SolaraViz's Reset passes) may carry the seed
            rng = scenario.rng
        if backend not in BACKENDS:
            raise ValueError(f"backend: {backend!r} is not one of {', '.join(BACKENDS)}")
        if not isinstance(config, str | Path | Scenario | Mapping):
            raise TypeError(
                f"config: a scenario file, a shipped scenario's name, a Scenario or a mapping, got {config!r}"
            )
        config = load_scenario(config, overrides)
        configure_threads()
        seed = config.seed if rng is None else run_seed(rng)
        if check_memory:
            resources.check_memory(config, hint="check_memory=False")
        super().__init__(rng=seed)
        self.config = config
        self.seed = seed
        self.backend = backend
        self.debug_checks = debug_checks
        self.record_services = record_services
        self.services: list[np.ndarray] = []  # one services.month_record a month, if record_services
        self.month = 0
        self.district = build_district(config, seed)
        self.params = build_params(config)
        self.schedule = interventions.Schedule(config, seed)
        self.blocks = household_kernels.village_blocks(self.district.households.village)
        self.loops = household_loops(self.district.households.source.size)
        self.keys = np.zeros(counter_rng.N_STREAMS, np.uint64)
        self.fixed_counts = metrics.fixed_counts(self.district.households)
        self.acc = self.fixed_counts.copy()
        self.cost_cumulative = 0.0
        self.once = interventions.OneOff()  # what this month's starting interventions cost once (interventions phase)
        self.phase_seconds = dict.fromkeys((phase.name for phase in PHASES), 0.0)
        if debug_checks:
            checks.check_declared_writes(PHASES, self.district)
        d = self.district
        self.group_agents = [WomensGroup(self, g) for g in range(d.groups.capacity.size)]
        self.chw_agents = [CommunityHealthWorker(self, k) for k in range(d.chws.status.size)]
        self.facility_agents = [Facility(self, f) for f in range(d.facilities.stock.size)]
        self.facilitator_agents: list[Facilitator] = []  # hired as NGO capacity building starts
        self.household_agents = (
            [Household(self, i) for i in range(d.households.source.size)] if backend == "python" else []
        )
        self.latest = self._initial_outputs()
        self.datacollector = mesa.DataCollector(
            model_reporters={name: _reporter(name) for name in metrics.COLUMNS if name != "month"}
        )
        self.datacollector.collect(self)

    def _initial_outputs(self) -> dict[str, Any]:
        """Month 0: the built district's stocks, no flows."""
        d, acc = self.district, self.fixed_counts.copy()
        with kernel_threads(d.households.source.size):
            self.loops.serve_and_record(
                d.households, d.groups, d.chws, d.facilities, d.villages, self.params, self.keys, acc, self.blocks
            )
        acc[metrics.ACTIVE_GROUPS] = d.groups.active.sum()
        acc[metrics.CAPACITY_SUM] = d.groups.capacity.sum()
        active = d.chws.status == CHW_ACTIVE
        acc[metrics.ACTIVE_CHWS] = np.count_nonzero(active)
        acc[metrics.FP_TRAINED_CHWS] = np.count_nonzero(active & (d.chws.fp_trained == 1))
        metrics.count_leaders(d.villages.leader, acc)
        n, n_groups = d.households.source.size, d.groups.capacity.size
        return metrics.outputs(acc, 0, n, n_groups, dict.fromkeys(metrics.COSTS, 0.0), self.params.cyp_per_unit)

    def step(self) -> None:
        """Advance one month through PHASES, each timed, and collect the outputs."""
        d = self.district
        month = self.month + 1
        self.keys[:] = counter_rng.stream_keys(self.seed, month, counter_rng.N_STREAMS)
        self.acc[:] = self.fixed_counts
        compiled = self.backend == "numba"
        with kernel_threads(d.households.source.size):
            for phase in PHASES:
                before = checks.unowned(self, phase) if self.debug_checks else {}
                clock = time.perf_counter()
                (phase.compiled if compiled else phase.twin)(self)
                self.phase_seconds[phase.name] += time.perf_counter() - clock
                if self.debug_checks:
                    checks.after_phase(self, phase, before)
        stipends = self.schedule.pays_stipends(self.month)
        cost = costs.month_costs(self.config, d, self.acc, self.once, stipends=stipends)
        self.cost_cumulative += cost["cost_month"]
        self.month = month
        if self.record_services:
            self.services.append(services.month_record(d, self.params.by_chw))
        n, n_groups = d.households.source.size, d.groups.capacity.size
        self.latest = metrics.outputs(
            self.acc, month, n, n_groups, {**cost, "cost_cumulative": self.cost_cumulative}, self.params.cyp_per_unit
        )
        self.datacollector.collect(self)

    def run(self, months: int | None = None) -> None:
        """Step `months` times (default: the scenario's months)."""
        for _ in range(self.config.months if months is None else months):
            self.step()

    def service_statistics(self) -> pd.DataFrame:
        """What the facilities recorded each month (`services.long_table`): month, facility, element, method,
        value."""
        return services.long_table(self.services)

    def timeseries(self):
        """The collected outputs, one row per month, columns as in the CSV."""
        frame = self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        frame.insert(0, "month", np.arange(len(frame)))
        return frame[list(metrics.COLUMNS)]


_SEED = TypeAdapter(Annotated[int, Scenario.model_fields["seed"]], config=ConfigDict(strict=True))


def run_seed(rng: object) -> int:
    """`rng` as a run's seed, with the scenario schema's own rule for `seed` (a whole number, 0 to 2**63-1); a
    NumPy integer counts, a float, a string or a bool does not."""
    try:
        return _SEED.validate_python(rng.item() if isinstance(rng, np.integer) else rng)
    except ValidationError as error:
        raise ValueError(f"rng: {error.errors()[0]['msg'].lower()} (the run's seed), got {rng!r}") from None


def configure_threads() -> None:
    """How OpenMP threads wait between parallel loops; set before the OpenMP runtime loads (the first parallel
    kernel call), so at model build; values the user has set are kept (`OMP_WAIT_POLICY=active` on a dedicated
    machine). Also starts the window over which kernel_threads measures other processes' load.

    A month at 1M households is ~250 parallel regions, not 2: Numba runs each block's `acc += part[b]` (in
    `decide` and `serve_and_record`) as a parallel loop of its own, and every region waits for every thread. So
    a thread that shares its core with another process stalls the whole month, and a long spin makes that worse.
    2-thread / serial at 1M, `benchmarks/bench_threads.py --rounds 3` on 2026-12-02, kernel thread count fixed
    ("busy": another process holds one of the 2 cores): passive with a spin of 200000 (the setting until then)
    1.56 quiet, 0.02-0.48 busy; 20000 or 3000: 1.55-1.62 quiet, 0.33-0.59 busy; 300 (the setting here):
    1.46-1.68 quiet, 0.85-1.17 busy; 0: 1.00-1.03 quiet. The workqueue layer: 1.31-1.53 quiet, 0.87-1.14 busy
    (and Numba ends the process if two threads launch its kernels at once). The rest of the busy case is
    kernel_threads'.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("GOMP_SPINCOUNT", "300")
    OTHERS.restart()


class OthersLoad:
    """Cores that other processes kept busy lately on the CPUs this process may run on: their busy time in
    /proc/stat minus this process's own CPU time, over the last WINDOW_S or more (0 where there is no /proc)."""

    WINDOW_S = 0.5

    def __init__(self) -> None:
        self.cores = 0.0
        self._last: tuple[float, float, float] | None = None

    @staticmethod
    def _read() -> tuple[float, float, float] | None:
        """(monotonic time, busy CPU seconds of this process's CPUs since boot, this process's CPU seconds)."""
        try:
            allowed = os.sched_getaffinity(0)
            with open("/proc/stat", "rb") as f:
                lines = f.read().splitlines()
        except (OSError, AttributeError):
            return None
        busy = 0
        for line in lines[1:]:
            if not line.startswith(b"cpu"):
                break
            name, *fields = line.split()
            if int(name[3:]) in allowed:
                ticks = [int(v) for v in fields[:8]]
                busy += sum(ticks) - ticks[3] - ticks[4]  # all but idle and iowait (steal counts as busy)
        return time.monotonic(), busy / os.sysconf("SC_CLK_TCK"), time.process_time()

    def restart(self) -> None:
        """Measure from now (the first update after WINDOW_S gives the load since)."""
        self._last = self._read()

    def update(self) -> float:
        """The cores other processes kept busy since the last reading, re-read once WINDOW_S has passed."""
        if self._last is None or time.monotonic() - self._last[0] < self.WINDOW_S:
            return self.cores
        now = self._read()
        if now is not None:
            wall, busy, own = (b - a for a, b in zip(self._last, now, strict=True))
            self.cores = max(0.0, (busy - own) / wall)
        self._last = now
        return self.cores


OTHERS = OthersLoad()
OTHERS_SPARE = 0.25  # cores other processes may keep busy before kernel_threads leaves them one of its threads


def free_threads(threads: int, others: float, cpus: int) -> int:
    """Threads to run on: `threads`, less one for each core (past OTHERS_SPARE) other processes keep busy."""
    taken = math.ceil(others - OTHERS_SPARE) if others > OTHERS_SPARE else 0
    return max(1, min(threads, cpus - taken))


def _cpus() -> int:
    """The CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def runs_parallel(n_households: int) -> bool:
    """Whether a district this size steps on threads (from SERIAL_BELOW households) or on one."""
    return n_households >= SERIAL_BELOW


def household_loops(n_households: int) -> household_kernels.Loops:
    """The household loops a district this size runs: compiled for threads, or for one thread (the same loops,
    compiled in about half the time, so a small district's first run does not compile the threads' variant)."""
    return household_kernels.PARALLEL if runs_parallel(n_households) else household_kernels.SERIAL


@contextmanager
def kernel_threads(n_households: int) -> Iterator[None]:
    """The thread count the kernels run on: one for districts below SERIAL_BELOW households (a parallel launch
    costs more); otherwise numba's thread count, less a thread for each core other processes keep busy
    (OthersLoad, re-measured at most every WINDOW_S), because a parallel month waits on any thread that shares
    its core (see configure_threads). Same command and day as there: with one core held by another process this
    default ran serial and gave 0.91-1.10 of serial (the spread of serial against itself here), against
    0.85-0.98 in the same runs with the thread count fixed; on a quiet machine it kept both threads (1.70-1.78
    of serial). Results do not depend on the thread count (fixed blocks), so it may change from month to month."""
    threads = numba.get_num_threads()
    use = 1
    if runs_parallel(n_households):
        use = threads if threads == 1 else free_threads(threads, OTHERS.update(), _cpus())
    if use == threads:
        yield
        return
    numba.set_num_threads(use)
    try:
        yield
    finally:
        numba.set_num_threads(threads)


# --- The phases of a month: what each does for the compiled kernels and for the Python twin --------------


class Phase(NamedTuple):
    """One step of a month: its name, what it does (as `commsim phases` prints it), the state columns it may
    change ("table.column"; any other column it changes is a bug `debug_checks` names), and the function that
    does it on the compiled backend and on the Python twin (each takes the model)."""

    name: str
    does: str
    writes: tuple[str, ...]
    compiled: Callable[["CommunityHealthModel"], None]
    twin: Callable[["CommunityHealthModel"], None]


def _interventions(m: "CommunityHealthModel") -> None:
    m.once = interventions.apply_month(m.schedule, m.district, m.month)
    m.acc[metrics.FACILITATORS] = m.schedule.facilitators(m.month)
    metrics.count_leaders(m.district.villages.leader, m.acc)
    hired = {agent.programme for agent in m.facilitator_agents}
    for name, facilitation in m.schedule.facilitation.items():
        if name not in hired:
            m.facilitator_agents.extend(Facilitator(m, name, k) for k in range(facilitation.facilitators))


def _chws_compiled(m: "CommunityHealthModel") -> None:
    d = m.district
    chw_kernels.chws_month(d.chws, d.groups, d.facilities, m.params, m.keys, m.acc)


def _chws_twin(m: "CommunityHealthModel") -> None:
    chw_kernels.ask_reset(m.district.chws)  # groups say what they ask of their CHW before she plans her month
    _each(m.group_agents, "ask_chw")
    _each(m.chw_agents, "step")


def _groups_compiled(m: "CommunityHealthModel") -> None:
    d = m.district
    group_kernels.groups_month(d.groups, d.chws, d.facilities, d.villages, m.params, m.acc)


def _groups_twin(m: "CommunityHealthModel") -> None:
    fac = m.district.facilities
    fac.n_feedback[:] = 0  # groups add their voice in their step
    fac.reported_visits[:] = 0.0
    fac.reported_bad[:] = 0.0
    fac.advocacy[:] = 0.0
    m.district.villages.men_sessions[:] = 0
    _each(m.group_agents, "step")


def _households_compiled(m: "CommunityHealthModel") -> None:
    d = m.district
    m.loops.decide(d.households, d.groups, d.chws, d.facilities, d.villages, m.params, m.keys, m.acc, m.blocks)


def _open_compiled(m: "CommunityHealthModel") -> None:
    household_kernels.count_requests(m.district.households, m.district.facilities)
    facility_kernels.facilities_open(m.district.facilities, m.keys, m.acc)


def _serve_compiled(m: "CommunityHealthModel") -> None:
    d = m.district
    m.loops.serve_and_record(
        d.households, d.groups, d.chws, d.facilities, d.villages, m.params, m.keys, m.acc, m.blocks
    )
    household_kernels.tally_services(d.households, d.facilities, m.params)


def _serve_twin(m: "CommunityHealthModel") -> None:
    d = m.district
    d.groups.member_visits[:] = 0  # members' visits of this month, which serving counts
    d.groups.member_bad[:] = 0
    _each(m.facility_agents, "serve")
    for column in (d.villages.n_users, d.groups.n_users, d.groups.n_members, d.groups.n_unmet, d.chws.n_referred):
        column[:] = 0
    _each(m.household_agents, "record")


def _update_compiled(m: "CommunityHealthModel") -> None:
    facility_kernels.facilities_update(m.district.facilities, m.params, m.keys, m.acc)


def _each(agents: list, method: str) -> None:
    for agent in agents:
        getattr(agent, method)()


PHASES: tuple[Phase, ...] = (
    Phase(
        "interventions",
        "scheduled interventions begin or end",
        (
            "chws.status",
            "chws.fp_trained",
            "chws.supervised",
            "chws.visits_per_month",
            "chws.hours_per_month",
            "groups.training",
            "groups.via_chw",
            "groups.sustain",
            "groups.linked_chw",
            "groups.linked_facility",
            "groups.link_strength",
            "groups.advocacy",
            "groups.feedback",
            "groups.shared_record",
            "groups.male_engagement",
            "groups.monitoring",
            "groups.coordinated",
            "villages.network",
            "groups.formed",
            "groups.inclusive",
            "groups.leader_wealth",
            "groups.captured",
            "groups.capacity",
            "villages.leader",
            "facilities.base_capacity",
            "facilities.capacity",
            "facilities.supply_target",
            "facilities.responsiveness",
        ),
        _interventions,
        _interventions,
    ),
    Phase(
        "chws",
        "CHWs leave or are replaced and restock their kits; their hours go to their duties and groups, then to "
        "visits; visit chances, referred households first",
        (
            "chws.status",
            "chws.fp_trained",
            "chws.group_sessions",
            "chws.n_mentored",
            "chws.n_coordinated",
            "chws.n_priority",
            "chws.accountable",
            "chws.visits",
            "chws.workload",
            "chws.p_visit",
            "chws.p_visit_referred",
            "chws.p_visit_priority",
            "chws.kit",
            "chws.new_acceptors",
            "chws.revisits",
            "chws.dispensed",
        ),
        _chws_compiled,
        _chws_twin,
    ),
    Phase(
        "groups",
        "groups are trained and mentored, meet or stop, get ready to refer, and press their facility",
        (
            "groups.active",
            "groups.capacity",
            "groups.modules",
            "groups.meeting_gain",
            "groups.system_trust",
            "groups.exposure_weight",
            "groups.p_refer",
            "groups.accountable",
            "facilities.n_feedback",
            "facilities.reported_visits",
            "facilities.reported_bad",
            "facilities.advocacy",
            "villages.men_sessions",
        ),
        _groups_compiled,
        _groups_twin,
    ),
    Phase(
        "households",
        "women age, marry, conceive, give birth and change their wishes, and need follows; visits, meetings, "
        "referrals, discontinuation, adoption and requests",
        (
            "households.age_months",
            "households.union",
            "households.parity",
            "households.desired",
            "households.intention",
            "households.wait",
            "households.pregnant",
            "households.intended",
            "households.postpartum",
            "households.amenorrhoeic",
            "households.infecund_from",
            "households.partner_opposes",
            "households.partner_engaged",
            "households.need",
            "households.group",
            "households.source",
            "households.method",
            "households.last_method",
            "households.resupply_in",
            "households.ever_user",
            "households.referred",
            "households.months_on",
            "households.awareness",
            "households.trust",
            "households.request",
            "households.request_method",
            "chws.new_acceptors",
            "chws.revisits",
            "chws.dispensed",
        ),
        _households_compiled,
        lambda m: _each(m.household_agents, "step"),
    ),
    Phase(
        "facilities_open",
        "facilities count requests, draw each method's stockout and the share they can serve",
        (
            "facilities.n_requests",
            "facilities.out_days",
            "facilities.stocked_out",
            "facilities.p_serve",
            "facilities.new_acceptors",
            "facilities.revisits",
            "facilities.dispensed",
        ),
        _open_compiled,
        lambda m: _each(m.facility_agents, "open"),
    ),
    Phase(
        "serve",
        "requests are served (another method if hers is out), or fail, and enter the facility's records; every "
        "household is counted into the outputs and next month's tallies",
        (
            "households.source",
            "households.method",
            "households.last_method",
            "households.resupply_in",
            "households.ever_user",
            "households.referred",
            "households.months_on",
            "households.trust",
            "households.request",
            "households.request_method",
            "facilities.new_acceptors",
            "facilities.revisits",
            "facilities.dispensed",
            "groups.n_users",
            "groups.n_members",
            "groups.n_unmet",
            "groups.member_visits",
            "groups.member_bad",
            "chws.n_referred",
            "villages.n_users",
        ),
        _serve_compiled,
        _serve_twin,
    ),
    Phase(
        "facilities_update",
        "quality and each method's stock reliability move with advocacy, feedback, supply support and drift",
        ("facilities.quality", "facilities.quality_base", "facilities.stock", "facilities.stock_method"),
        _update_compiled,
        lambda m: _each(m.facility_agents, "update"),
    ),
)


def _reporter(name: str):
    return lambda model: model.latest[name]

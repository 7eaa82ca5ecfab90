"""`CommunityHealthModel`: a Mesa model that owns the state tables, the schedule, the phase order and the
DataCollector. One step is one month; `backend` chooses compiled kernels or the per-agent Python twin.
"""

import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import mesa
import numba
import numpy as np
from pydantic import ConfigDict, TypeAdapter, ValidationError

from commsim import interventions, metrics, resources
from commsim import rng as counter_rng
from commsim.agents import CommunityHealthWorker, Facility, Household, WomensGroup
from commsim.kernels import chws as chw_kernels
from commsim.kernels import facilities as facility_kernels
from commsim.kernels import groups as group_kernels
from commsim.kernels import households as household_kernels
from commsim.loader import load_scenario
from commsim.params import build_params
from commsim.population import build_district
from commsim.scenario import Scenario

BACKENDS = ("numba", "python")
SERIAL_BELOW = 4 * household_kernels.BLOCK  # smaller districts step on one thread: a parallel launch costs more
N_STREAMS = 32

PHASES: tuple[tuple[str, str], ...] = (
    ("interventions", "scheduled interventions begin or end"),
    ("chws", "CHWs leave or are replaced; visit chances, referred households first"),
    ("groups", "groups are trained and mentored, meet or stop, get ready to refer, and press their facility"),
    (
        "households",
        "need changes, visits, meetings, referrals, discontinuation, adoption and requests",
    ),
    ("facilities_open", "facilities count requests, draw stockouts and the share they can serve"),
    ("serve", "requests are served or fail; every household is counted into the outputs and next month's tallies"),
    (
        "facilities_update",
        "quality and stock move with advocacy, feedback, supply support and drift",
    ),
)


class CommunityHealthModel(mesa.Model):
    """Households, women's groups, CHWs and facilities of one district under one scenario.

    `scenario` is a path, a shipped scenario's name, a Scenario or a mapping; `rng` an integer seed (default: the
    scenario's seed); `overrides` set scenario keys with `__` for each dot, e.g. `groups__training_coverage=0.6`.
    A district needing more memory than the machine has free is refused before it is built, unless
    `check_memory=False`. The commsim scenario is `model.config` (Mesa's own `model.scenario` is another thing).
    """

    def __init__(
        self,
        scenario: "str | Path | Scenario | Mapping[str, Any]" = "baseline",
        *,
        rng: int | None = None,
        backend: str = "numba",
        check_memory: bool = True,
        **overrides: Any,
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"backend: {backend!r} is not one of {', '.join(BACKENDS)}")
        if not isinstance(scenario, str | Path | Scenario | Mapping):
            raise TypeError(
                f"scenario: a scenario file, a shipped scenario's name, a Scenario or a mapping, got {scenario!r}"
            )
        config = load_scenario(scenario, overrides)
        configure_threads()
        seed = config.seed if rng is None else run_seed(rng)
        if check_memory:
            resources.check_memory(config, hint="check_memory=False")
        super().__init__(rng=seed)
        self.config = config
        self.seed = seed
        self.backend = backend
        self.month = 0
        self.district = build_district(config, seed)
        self.params = build_params(config)
        self.schedule = interventions.Schedule(config, seed)
        self.blocks = household_kernels.village_blocks(self.district.households.village)
        self.keys = np.zeros(N_STREAMS, np.uint64)
        self.fixed_counts = metrics.fixed_counts(self.district.households)
        self.acc = self.fixed_counts.copy()
        self.cost_cumulative = 0.0
        self.phase_seconds = dict.fromkeys((name for name, _ in PHASES), 0.0)
        d = self.district
        self.group_agents = [WomensGroup(self, g) for g in range(d.groups.capacity.size)]
        self.chw_agents = [CommunityHealthWorker(self, k) for k in range(d.chws.status.size)]
        self.facility_agents = [Facility(self, f) for f in range(d.facilities.stock.size)]
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
            household_kernels.serve_and_record(
                d.households, d.groups, d.chws, d.facilities, d.villages, self.params, self.keys, acc, self.blocks
            )
        acc[metrics.ACTIVE_GROUPS] = d.groups.active.sum()
        acc[metrics.CAPACITY_SUM] = d.groups.capacity.sum()
        active = d.chws.status == chw_kernels.ACTIVE
        acc[metrics.ACTIVE_CHWS] = np.count_nonzero(active)
        acc[metrics.FP_TRAINED_CHWS] = np.count_nonzero(active & (d.chws.fp_trained == 1))
        return metrics.outputs(acc, 0, d.households.source.size, d.groups.capacity.size, (0.0, 0.0))

    def step(self) -> None:
        """Advance one month through PHASES and collect the outputs."""
        d = self.district
        month = self.month + 1
        self.keys[:] = counter_rng.stream_keys(self.seed, month, N_STREAMS)
        self.acc[:] = self.fixed_counts
        clock = time.perf_counter()
        one_off = interventions.apply_month(self.schedule, d, self.month)
        clock = self._lap("interventions", clock)
        if self.backend == "numba":
            self._step_kernels(clock)
        else:
            self._step_agents(clock)
        stipends = self.schedule.pays_stipends(self.month)
        cost = interventions.month_cost(self.config, d, self.acc, one_off, stipends=stipends)
        self.cost_cumulative += cost
        self.month = month
        n, n_groups = d.households.source.size, d.groups.capacity.size
        self.latest = metrics.outputs(self.acc, month, n, n_groups, (cost, self.cost_cumulative))
        self.datacollector.collect(self)

    def _lap(self, phase: str, since: float) -> float:
        now = time.perf_counter()
        self.phase_seconds[phase] += now - since
        return now

    def _step_kernels(self, clock: float) -> None:
        with kernel_threads(self.district.households.source.size):
            self._run_kernels(clock)

    def _run_kernels(self, clock: float) -> None:
        d, p, keys, acc = self.district, self.params, self.keys, self.acc
        hh, grp, chw, fac, vil = d.households, d.groups, d.chws, d.facilities, d.villages
        chw_kernels.chws_month(chw, p, keys, acc)
        clock = self._lap("chws", clock)
        group_kernels.groups_month(grp, chw, fac, p, acc)
        clock = self._lap("groups", clock)
        household_kernels.decide(hh, grp, chw, fac, vil, p, keys, acc, self.blocks)
        clock = self._lap("households", clock)
        household_kernels.count_requests(hh, fac)
        facility_kernels.facilities_open(fac, keys, acc)
        clock = self._lap("facilities_open", clock)
        household_kernels.serve_and_record(hh, grp, chw, fac, vil, p, keys, acc, self.blocks)
        clock = self._lap("serve", clock)
        facility_kernels.facilities_update(fac, p)
        self._lap("facilities_update", clock)

    def _step_agents(self, clock: float) -> None:
        d = self.district
        d.facilities.n_feedback[:] = 0  # groups add their voice in their step
        d.facilities.advocacy[:] = 0.0
        for agents, method, phase in (
            (self.chw_agents, "step", "chws"),
            (self.group_agents, "step", "groups"),
            (self.household_agents, "step", "households"),
            (self.facility_agents, "open", "facilities_open"),
        ):
            for agent in agents:
                getattr(agent, method)()
            clock = self._lap(phase, clock)
        for facility in self.facility_agents:
            facility.serve()
        for column in (d.villages.n_users, d.groups.n_users, d.chws.n_referred):
            column[:] = 0
        for household in self.household_agents:
            household.record()
        clock = self._lap("serve", clock)
        for facility in self.facility_agents:
            facility.update()
        self._lap("facilities_update", clock)

    def run(self, months: int | None = None) -> None:
        """Step `months` times (default: the scenario's months)."""
        for _ in range(self.config.months if months is None else months):
            self.step()

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
    machine).

    Measured at 1M households (ms per month, benchmarks/bench_model.py and by hand on 2026-11-23): spinning
    without bound (OpenMP's default) 43 serial / 25 on two threads on a quiet machine, but up to 25x slower than
    serial when another process holds a core; passive waiting is never worse than serial but gains nothing
    (48 / 46); passive with a bounded spin (the setting here) gains on a quiet machine (42 / 31) and costs about
    2x next to a busy neighbour.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("GOMP_SPINCOUNT", "200000")


@contextmanager
def kernel_threads(n_households: int) -> Iterator[None]:
    """Kernels of districts below SERIAL_BELOW households run on one thread (a parallel launch costs more)."""
    if n_households >= SERIAL_BELOW:
        yield
        return
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(threads)


def _reporter(name: str):
    return lambda model: model.latest[name]

"""Compile the kernels a run needs before it starts, two processes at once, and say whether that is needed.

A first run after an install or an update of the sources compiles every kernel (about 15 s of one core for a
district that steps on one thread, 25 s on threads); later runs load them from the disk cache in well under a
second. `to_compile` names the kernels the cache lacks for the current sources, without loading anything, so a
caller can say so before the wait; `compile_kernels` compiles the biggest of them (`decide`) in a second process
while this one compiles the rest, then loads it from the cache.
"""

import inspect
import os
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
from numba.core.dispatcher import Dispatcher

import commsim
from commsim.model import kernels, metrics, services
from commsim.model.kernels import chws as chw_kernels
from commsim.model.kernels import facilities as facility_kernels
from commsim.model.kernels import groups as group_kernels
from commsim.model.kernels import households as household_kernels
from commsim.model.params import build_params
from commsim.model.state import Chws, Facilities, Groups, Households, Villages, allocate
from commsim.scenario.loader import load_scenario
from commsim.scenario.schema import METHODS

HELPER_TIMEOUT_S = 600.0
COMPILE_SECONDS = {False: 10, True: 15}  # about how long compile_kernels(parallel) takes from a cold cache


def kernel_signatures(parallel: bool) -> list[tuple[Dispatcher, tuple]]:
    """Every kernel a run calls (the model's phases and its month 0; the household loops compiled for threads if
    `parallel`, see `community.runs_parallel`), biggest first, with the argument types it is called with. A
    kernel's parameters are named for what they take (`hh`, `p`, ...) and the types do not depend on the size,
    so one-row tables stand in for the district."""
    example = {
        "hh": allocate(Households, 1),
        "grp": allocate(Groups, 1),
        "chw": allocate(Chws, 1),
        "fac": allocate(Facilities, 1),
        "vil": allocate(Villages, 1),
        "p": build_params(load_scenario({})),
        "keys": np.zeros(1, np.uint64),
        "acc": np.zeros(metrics.N_SLOTS),
        "bounds": np.zeros(2, np.uint64),
        "by_chw": np.zeros(len(METHODS)),
        "record": np.zeros((1, len(services.ELEMENTS), len(METHODS))),
        "first": services.CHW_ELEMENTS,
    }
    used = (
        *(household_kernels.PARALLEL if parallel else household_kernels.SERIAL),
        group_kernels.groups_month,
        facility_kernels.facilities_update,
        chw_kernels.chws_month,
        household_kernels.count_requests,
        facility_kernels.facilities_open,
        household_kernels.tally_services,
        chw_kernels.chws_by_facility,
    )
    return [(k, tuple(numba.typeof(example[name]) for name in inspect.signature(k.py_func).parameters)) for k in used]


def to_compile(parallel: bool) -> list[str]:
    """The kernels a run would compile: those the disk cache lacks for the current sources."""
    return [k.py_func.__name__ for k, signature in kernel_signatures(parallel) if not kernels.cached(k, signature)]


def compile_kernels(parallel: bool) -> None:
    """Compile into the disk cache what `to_compile` names: the first (the biggest) in a second process while this
    one compiles the others, then load it here. If the second process fails, this one compiles it too."""
    todo = [(k, signature) for k, signature in kernel_signatures(parallel) if not kernels.cached(k, signature)]
    helper = _start_helper(parallel, todo[0][0].py_func.__name__) if len(todo) > 1 else None
    for k, signature in todo[1:] if helper else todo:
        k.compile(signature)
    if helper is not None:
        try:
            helper.wait(timeout=HELPER_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            helper.kill()
            helper.wait()
        todo[0][0].compile(todo[0][1])  # from the cache the helper wrote (or compiled here if it did not)


def compile_named(parallel: bool, name: str) -> None:
    """Compile the kernel called `name` (what the helper process runs)."""
    for k, signature in kernel_signatures(parallel):
        if k.py_func.__name__ == name:
            k.compile(signature)


def _start_helper(parallel: bool, name: str) -> subprocess.Popen | None:
    """A Python process that compiles one kernel into the disk cache, importing this same commsim; None if it
    cannot start."""
    source = str(Path(commsim.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (source, os.environ.get("PYTHONPATH"))))}
    code = f"from commsim.model.precompile import compile_named; compile_named({parallel}, {name!r})"
    try:
        return subprocess.Popen(
            [sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    except OSError:
        return None

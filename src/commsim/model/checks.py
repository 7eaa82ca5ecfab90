"""Conservation checks that `CommunityHealthModel(..., debug_checks=True)` runs after every phase of a month: a
failure is a bug in a rule, not bad input, and the error names the phase, so it points at the rule.

After every phase: no column changed that the phase does not declare it writes (`Phase.writes`), every share in
[0, 1], every code in its domain, group members adding up to group sizes,
referrals open no longer than they are valid. After `serve` (the month's tallies are made): users counted in
villages and groups equal the users, open referrals counted by CHWs equal the open referrals, every request
answered, every user in need and an ever-user.
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from commsim.model.state import (
    AGE_IN_MONTHS,
    AGE_OUT_MONTHS,
    CHW_ACTIVE,
    CHW_NOT_DEPLOYED,
    CHW_VACANT,
    GESTATION_MONTHS,
    POSTPARTUM_MONTHS,
    SOURCE_CHW,
    SOURCE_FAC1,
    SOURCE_FAC2,
    SOURCE_NONE,
    WANTS_LATER,
    WANTS_NO_MORE,
    WANTS_SOON,
)
from commsim.scenario.schema import METHODS

if TYPE_CHECKING:
    from commsim.model.community import CommunityHealthModel, Phase
    from commsim.model.population import District

SOURCES = (SOURCE_NONE, SOURCE_FAC1, SOURCE_FAC2, SOURCE_CHW)
CHW_STATUSES = (CHW_NOT_DEPLOYED, CHW_ACTIVE, CHW_VACANT)
FLAGS = (0, 1)
INTENTIONS = (WANTS_SOON, WANTS_LATER, WANTS_NO_MORE)


class ModelStateError(RuntimeError):
    """A conservation check failed after a phase: a bug in the model's rules."""


def _shares(model: "CommunityHealthModel") -> dict[str, np.ndarray]:
    d = model.district
    return {
        "households.awareness": d.households.awareness,
        "households.trust": d.households.trust,
        "groups.capacity": d.groups.capacity,
        "facilities.quality": d.facilities.quality,
        "facilities.stock": d.facilities.stock,
        "facilities.stock_method": d.facilities.stock_method,
        "facilities.p_serve": d.facilities.p_serve,
    }


def _always(model: "CommunityHealthModel") -> list[str]:
    d, sc = model.district, model.config
    hh, grp, chw = d.households, d.groups, d.chws
    problems = [
        f"{name} outside [0, 1] ({np.count_nonzero((values < 0) | (values > 1))} rows)"
        for name, values in _shares(model).items()
        if np.any((values < 0.0) | (values > 1.0))
    ]
    for name, values, domain in (
        ("households.union", hh.union, FLAGS),
        ("households.intention", hh.intention, INTENTIONS),
        ("households.intended", hh.intended, FLAGS),
        ("households.amenorrhoeic", hh.amenorrhoeic, FLAGS),
        ("households.source", hh.source, SOURCES),
        ("households.need", hh.need, FLAGS),
        ("households.ever_user", hh.ever_user, FLAGS),
        ("chws.status", chw.status, CHW_STATUSES),
    ):
        if not np.isin(values, domain).all():
            problems.append(f"{name} outside {domain}")
    methods = np.arange(len(METHODS) + 1)
    if not np.isin(hh.method, methods).all() or not np.isin(hh.last_method, methods).all():
        problems.append("households.method or households.last_method outside the methods")
    if np.any((hh.source > SOURCE_NONE) != (hh.method > 0)):
        problems.append("a user without a method, or a method without a source")
    if np.any((hh.age_months < AGE_IN_MONTHS) | (hh.age_months >= AGE_OUT_MONTHS)):
        problems.append(f"households.age_months outside [{AGE_IN_MONTHS}, {AGE_OUT_MONTHS})")
    if np.any(hh.pregnant > GESTATION_MONTHS) or np.any(hh.postpartum > POSTPARTUM_MONTHS):
        problems.append("households.pregnant or households.postpartum beyond their months")
    if np.any((hh.pregnant > 0) & (hh.amenorrhoeic == 1)):
        problems.append("a woman both pregnant and insusceptible after a birth")
    if np.any((hh.wait > 0) != (hh.intention == WANTS_LATER)):
        problems.append("households.wait set for a woman who does not want to wait, or missing for one who does")
    if np.any(hh.amenorrhoeic > (hh.postpartum > 0)):
        problems.append("a woman insusceptible without a recent birth")
    if np.any(hh.group != np.where(hh.group >= 0, hh.home_group, -1)) or np.any(
        grp.formed[hh.group[hh.group >= 0]] == 0
    ):
        problems.append("a woman in a group other than her village's, or in one that does not exist")
    if np.any(hh.referred > sc.households.referral_valid_months):
        problems.append(
            f"a referral open longer than households.referral_valid_months ({sc.households.referral_valid_months})"
        )
    return problems


def _month_end(model: "CommunityHealthModel") -> list[str]:
    d = model.district
    hh, grp, chw, vil = d.households, d.groups, d.chws, d.villages
    users = hh.source != SOURCE_NONE
    problems = []
    if vil.n_users.sum() != np.count_nonzero(users):
        problems.append(f"villages count {vil.n_users.sum()} users, households hold {np.count_nonzero(users)}")
    in_group = users & (hh.group >= 0)
    if not np.array_equal(np.bincount(hh.group[in_group], minlength=grp.n_users.size), grp.n_users):
        problems.append("groups.n_users differ from the users among their members")
    members = np.bincount(hh.group[hh.group >= 0], minlength=grp.n_members.size)
    if not np.array_equal(members, grp.n_members):
        problems.append(f"group members ({members.sum()}) do not add up to groups.n_members ({grp.n_members.sum()})")
    open_referrals = (hh.referred > 0) & (hh.chw >= 0)
    if not np.array_equal(np.bincount(hh.chw[open_referrals], minlength=chw.n_referred.size), chw.n_referred):
        problems.append("chws.n_referred differ from the open referrals of their households")
    if np.any(hh.request != 0):
        problems.append(f"{np.count_nonzero(hh.request)} requests left unanswered")
    if np.any(hh.need[users] == 0) or np.any(hh.ever_user[users] == 0):
        problems.append("a user without need, or not counted as an ever-user")
    return problems


def columns(district: "District") -> dict[str, np.ndarray]:
    """Every state column of a district by its "table.column" name."""
    return {
        f"{table}.{column}": values
        for table, entity in zip(district._fields, district, strict=True)
        for column, values in zip(entity._fields, entity, strict=True)
    }


def check_declared_writes(phases: "Sequence[Phase]", district: "District") -> None:
    """Every column a phase says it writes exists (a misspelt declaration would hide the writes it means)."""
    known = columns(district)
    for phase in phases:
        unknown = [name for name in phase.writes if name not in known]
        if unknown:
            raise ModelStateError(f"phase {phase.name} declares writes to unknown columns: {', '.join(unknown)}")


def unowned(model: "CommunityHealthModel", phase: "Phase") -> dict[str, np.ndarray]:
    """Copies of the columns `phase` may not change, taken before it runs."""
    return {name: values.copy() for name, values in columns(model.district).items() if name not in phase.writes}


def after_phase(model: "CommunityHealthModel", phase: "Phase", before: dict[str, np.ndarray]) -> None:
    """Run the checks that hold after `phase` (`before`: its `unowned` columns); ModelStateError naming the
    phase and the month if any fails."""
    now = columns(model.district)
    changed = [name for name, values in before.items() if not np.array_equal(values, now[name], equal_nan=True)]
    problems = [f"changed {', '.join(changed)}, which it does not declare it writes"] if changed else []
    problems += _always(model) + (_month_end(model) if phase.name == "serve" else [])
    if problems:
        raise ModelStateError(f"after phase {phase.name} of month {model.month + 1}: " + "; ".join(problems))

"""The live page's levers: what each slider sets in a scenario, what it does in plain words, and the evidence
behind its default (the `description` of the schema fields it touches, so the page and the schema never drift).

A lever left at the scenario's own value sets nothing, so a run with untouched levers is exactly
`commsim run SCENARIO`. Moving a lever gives dotted overrides, the same as `--set KEY=VALUE`; where a scenario
has no programme for a lever to act on (group training, linkage, a donor exit), moving it adds one, read from
the shipped scenario that has it. Slider ranges are the schema's bounds of the field each lever sets.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from commsim.errors import CommsimError
from commsim.scenario.loader import load_scenario
from commsim.scenario.schema import INTERVENTION_TYPES, Scenario

HOUSEHOLDS_RANGE = (100, 1_000_000)  # the live page draws and steps one district in the browser's session
SEED_RANGE = (0, 2**31 - 1)
ADDED_PREFIX = "ui_"  # interventions a lever adds are named ui_<...>


class LeverError(CommsimError):
    """A lever or field value the page cannot use; the message names the field and what is allowed."""


@dataclass(frozen=True)
class Lever:
    """One slider: its range, what it does in plain words, and the schema fields whose descriptions give the
    evidence behind its default ("section.field", or "InterventionClass.field" / "InterventionClass")."""

    name: str
    label: str
    field: str  # the schema field whose bounds are the slider's range
    step: float
    what: str
    evidence: tuple[str, ...]
    integer: bool = False
    percent: bool = False


LEVERS: tuple[Lever, ...] = (
    Lever(
        "training",
        "Group training coverage",
        "groups.training_coverage",
        0.05,
        "Share of women's groups a capacity-building programme reaches. Trained groups gain capacity each month "
        "of training; stronger groups keep meeting, raise members' awareness and pass on peer influence. Where "
        "the scenario has no training programme, moving it above 0 adds one as in capacity_only (NGO, months 0-24).",
        ("groups.training_coverage", "groups.p_member", "groups.training_gain_per_month"),
        percent=True,
    ),
    Lever(
        "linkage",
        "Linkage strength",
        "Linkage.strength",
        0.25,
        "How strongly groups formally linked to their CHW and facility refer members with unmet need (a multiplier "
        "on the referral rate; 0: linked but no referrals). A referral raises the chance she adopts while it is "
        "open. Where the scenario has no linkage, moving it above 0 links every group, as in linkage_only.",
        ("Linkage.strength", "groups.p_refer_per_month", "households.referral_boost_per_month"),
    ),
    Lever(
        "chw_coverage",
        "CHW coverage",
        "chws.coverage",
        0.05,
        "Share of villages with a community health worker at month 0, the remotest first. CHWs visit homes, raise "
        "awareness and refer; FP-trained CHWs also give pills and injectables at home. A CHW scale-up in the "
        "scenario still deploys more.",
        ("chws.coverage", "chws.households_per_chw", "chws.p_method_access"),
        percent=True,
    ),
    Lever(
        "chw_visits",
        "CHW visits per month",
        "chws.visits_per_month",
        5.0,
        "Household visits each CHW makes in a month. More visits: more women hear about family planning, are "
        "referred or resupplied at home, and are followed up, which lowers discontinuation.",
        ("chws.visits_per_month", "households.rel_discontinue_follow_up", "chws.awareness_gain_visit"),
    ),
    Lever(
        "supply",
        "Facility stock reliability",
        "facilities.stock_reliability",
        0.01,
        "Monthly chance a facility is not out of a method (implants, IUDs and DMPA-SC run out more often). A woman "
        "whose method is out takes another in stock or leaves without: the failed visit costs trust and can end "
        "use, and the facility's CHWs cannot restock it. Supply-chain support in the scenario (supply_fix) still "
        "raises it.",
        (
            "facilities.stock_reliability",
            "methods.p_switch_at_stockout",
            "chws.kit_months",
            "households.choice_stock",
            "households.p_discontinue_failed_resupply",
        ),
        percent=True,
    ),
    Lever(
        "donor_exit",
        "Donor exit month",
        "DonorExit.start_month",  # the page caps it at the scenario's horizon: the right end means "never"
        1.0,
        "Month the donor leaves: donor-funded programmes stop, CHW stipends end (CHWs visit half as often) and "
        "supervision stops, so more CHWs leave. At the right end the donor never leaves. Where the scenario has "
        "no donor exit, moving it adds one, as in donor_exit.",
        ("DonorExit", "DonorExit.rel_chw_visits", "chws.rel_attrition_no_refresher", "chws.rel_attrition_unsupervised"),
        integer=True,
    ),
)
BY_NAME: dict[str, Lever] = {lever.name: lever for lever in LEVERS}

HOUSEHOLDS_WHAT = (
    "Index women in the district, one per household, in the scenario's villages. Shares such as mCPR barely "
    "change with size; counts and cost grow with it, and each month takes longer to compute."
)
HOUSEHOLDS_EVIDENCE = ("population.households", "population.initial_mcpr_married", "women.in_union_by_age")

# Programmes a lever adds where the scenario has none: (shipped scenario, its intervention), read from the file.
ADDED_FROM = {
    "group_training": ("capacity_only", "group_training"),
    "linkage": ("linkage_only", "linkages"),
    "donor_exit": ("donor_exit", "donor_exit"),
}


# --- Evidence ------------------------------------------------------------------------------------------------


def _section_model(name: str) -> type[BaseModel] | None:
    field = Scenario.model_fields.get(name)
    annotation = field.annotation if field is not None else None
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _owner(name: str) -> type[BaseModel]:
    classes = {cls.__name__: cls for cls in INTERVENTION_TYPES.values()}
    model = classes.get(name) or _section_model(name)
    if model is None:
        raise KeyError(f"no schema section or intervention {name!r}")
    return model


def _field(path: str) -> FieldInfo:
    owner, _, name = path.partition(".")
    return _owner(owner).model_fields[name]


def describe(path: str) -> str:
    """The schema's own words for a field ("groups.p_member", "Linkage.strength") or an intervention class
    ("DonorExit"): its description with its default, or the class docstring."""
    owner, _, field_name = path.partition(".")
    if not field_name:
        return " ".join((_owner(owner).__doc__ or "").split())
    field = _field(path)
    text = (field.description or "").strip()
    default = field.default
    return f"{text} (default {default})" if default is not None and not isinstance(default, BaseModel) else text


def bounds(path: str) -> tuple[float, float]:
    """The schema's inclusive bounds of a numeric field ("chws.coverage" -> (0.0, 1.0))."""
    limits = {type(m).__name__: m for m in _field(path).metadata}
    if "Ge" not in limits or "Le" not in limits:
        raise KeyError(f"{path} has no lower and upper bound in the schema")
    return float(limits["Ge"].ge), float(limits["Le"].le)


def evidence(lever: Lever) -> list[tuple[str, str]]:
    """(field, its description) for every field behind a lever."""
    return [(path, describe(path)) for path in lever.evidence]


# --- Scenario values and overrides ------------------------------------------------------------------------------


def _of_type(sc: Scenario, kind: str) -> dict[str, Any]:
    return {name: iv for name, iv in sc.interventions.items() if iv.type == kind}


def defaults(sc: Scenario) -> dict[str, float]:
    """Each lever's value in a scenario (the donor exit at the horizon when it has none: never)."""
    links = _of_type(sc, "linkage")
    return {
        "training": sc.groups.training_coverage,
        "linkage": next(iter(links.values())).strength if links else 0.0,
        "chw_coverage": sc.chws.coverage,
        "chw_visits": sc.chws.visits_per_month,
        "supply": sc.facilities.stock_reliability,
        "donor_exit": float(sc.months if sc.donor_exit_month is None else sc.donor_exit_month),
    }


def lever_range(lever: Lever, sc: Scenario) -> tuple[float, float]:
    """The slider's range in a scenario: its field's schema bounds, the donor exit's capped at the horizon."""
    low, high = bounds(lever.field)
    return (low, min(high, float(sc.months))) if lever.name == "donor_exit" else (low, high)


def _same(a: float, b: float) -> bool:
    return abs(float(a) - float(b)) < 1e-9


def overrides(sc: Scenario, values: Mapping[str, float]) -> dict[str, Any]:
    """Dotted scenario keys for the levers moved away from the scenario's own values (see the module doc)."""
    unknown = sorted(set(values) - set(BY_NAME))
    if unknown:
        raise LeverError(f"levers: unknown {', '.join(unknown)}; known: {', '.join(BY_NAME)}")
    own = defaults(sc)
    moved = {name: float(value) for name, value in values.items() if not _same(value, own[name])}
    out: dict[str, Any] = {}
    if "training" in moved:
        value = moved["training"]
        out["groups.training_coverage"] = value
        trainings = _of_type(sc, "capacity_building")
        for name, iv in trainings.items():
            if iv.coverage is not None:
                out[f"interventions.{name}.coverage"] = value
        if not trainings and value > 0:
            out |= _added("group_training")
    if "linkage" in moved:
        value = moved["linkage"]
        links = _of_type(sc, "linkage")
        for name in links:
            out[f"interventions.{name}.strength"] = value
        if not links:
            out |= _added("linkage", strength=value)
    if "chw_coverage" in moved:
        out["chws.coverage"] = moved["chw_coverage"]
    if "chw_visits" in moved:
        value = moved["chw_visits"]
        out["chws.visits_per_month"] = value
        for name, iv in _of_type(sc, "chw_scale_up").items():
            if iv.visits_per_month is not None:
                out[f"interventions.{name}.visits_per_month"] = value
    if "supply" in moved:
        out["facilities.stock_reliability"] = moved["supply"]
    if "donor_exit" in moved:
        month = round(moved["donor_exit"])
        exits = _of_type(sc, "donor_exit")
        for name in exits:  # at the horizon the exit never takes effect within the run
            out[f"interventions.{name}.start_month"] = month
        if not exits and month < sc.months:
            out |= _added("donor_exit", start_month=month)
    return out


def _added(name: str, **values: Any) -> dict[str, Any]:
    """Dotted keys adding the programme `name` as its shipped scenario declares it, with `values` changed."""
    scenario, intervention = ADDED_FROM[name]
    table = load_scenario(scenario).interventions[intervention].model_dump(exclude_none=True) | values
    return {f"interventions.{ADDED_PREFIX}{name}.{key}": value for key, value in table.items()}


# --- Typed fields ------------------------------------------------------------------------------------------------


def parse_whole(field: str, text: str | None, low: int, high: int) -> int:
    """A whole number typed into a field, within [low, high]; LeverError naming the field otherwise."""
    raw = (text or "").strip().replace(",", "").replace("_", "")
    allowed = f"a whole number from {low:,} to {high:,}"
    try:
        value = int(raw)
    except ValueError:
        shown = (text or "").strip()
        problem = f"must be {allowed} (got {shown!r})" if shown else f"is empty; {allowed}"
        raise LeverError(f"{field}: {problem}") from None
    if not low <= value <= high:
        raise LeverError(f"{field}: must be {allowed} (got {value:,})")
    return value


def parse_households(text: str | None) -> int:
    """The households field."""
    return parse_whole("households", text, *HOUSEHOLDS_RANGE)


def parse_seed(text: str | None) -> int:
    """The seed field."""
    return parse_whole("seed", text, *SEED_RANGE)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(round(value, 6))
    return str(value)


def command_line(scenario: str, settings: Mapping[str, Any]) -> str:
    """The `commsim run` line that repeats a live run: its scenario and every setting as --set (seed: --seed)."""
    parts = ["commsim", "run", scenario]
    for key, value in settings.items():
        if key == "seed":
            parts += ["--seed", str(value)]
        else:
            parts += ["--set", f"{key}={_toml_value(value)}"]
    return " ".join(parts)

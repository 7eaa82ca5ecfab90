"""Scenarios and numbers in words, for the planner's report (and any page that shows a comparison): each
intervention as a sentence, what a scenario changes from the baseline, and the formats of shares, percentage
points, users and US$."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from commsim.scenario.loader import flat_keys
from commsim.scenario.schema import (
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

if TYPE_CHECKING:  # formatting needs no runs: importing this module stays light (the CLI uses the formats)
    from commsim.runs.compare import Comparison


# --- Scenarios in words -------------------------------------------------------------------------------------


def _num(x: float) -> str:
    """A parameter value without trailing zeros (1.0 -> 1, 0.25 -> 0.25)."""
    return f"{x:g}"


def _share(x: float) -> str:
    """A share as a whole or one-decimal percentage (0.5 -> 50%, 0.125 -> 12.5%)."""
    return f"{100 * x:.1f}".removesuffix(".0") + "%"


def _capacity_building(iv: CapacityBuilding) -> str:
    """What group training delivers, by whom."""
    details = [f"{_num(iv.modules_per_month)} FP module{'' if iv.modules_per_month == 1 else 's'} a month"]
    if iv.organisational_strengthening_per_month > 0:
        details.append(f"organisational strengthening +{_num(iv.organisational_strengthening_per_month)}/month")
    if iv.delivered_by == "chw":
        details.append("only where the CHW is active and FP-trained")
    if iv.inclusive:
        details.append("seeking out the poorest women")
    if iv.delivered_by == "ngo":
        staff = "facilitators as needed" if iv.facilitators is None else f"{iv.facilitators} facilitators"
        details.append(f"{staff}, each convening {iv.groups_per_facilitator} groups a month")
    by = "their CHW" if iv.delivered_by == "chw" else "an NGO"
    return f"capacity building of women's groups by {by} ({'; '.join(details)})"


def _linkage(iv: Linkage) -> str:
    """Which formal links the groups get, and how strong."""
    to = [name for name, on in (("their CHW", iv.to_chw), ("the health facility", iv.to_facility)) if on]
    targets = " and to ".join(to) if to else "nothing (neither CHW nor facility)"
    return f"formal links of women's groups to {targets} (referral strength ×{_num(iv.strength)})"


def _advocacy(iv: Advocacy) -> str:
    """Advocacy by strong groups, with its weight."""
    return f"advocacy for better services by strong women's groups (weight {_num(iv.strength)})"


def _chw_scale_up(iv: ChwScaleUp) -> str:
    """What CHW deployment brings: posts, FP training, supervision, visits."""
    details = ["a working CHW post in each village reached"]
    if iv.train_fp:
        details.append("all active CHWs trained in FP")
    if iv.supervise:
        details.append("all supervised with refresher training")
    if iv.visits_per_month is not None:
        details.append(f"{_num(iv.visits_per_month)} household visits a month")
    if iv.hours_per_month is not None:
        details.append(f"{_num(iv.hours_per_month)} working hours a month")
    return f"CHW deployment ({'; '.join(details)})"


def _supply(iv: SupplyImprovement) -> str:
    """Supply-chain support: the reliability reached and the capacity added."""
    capacity = "" if iv.rel_capacity == 1 else f", FP capacity ×{_num(iv.rel_capacity)}"
    return f"supply-chain support to facilities (stock reliability raised to {_share(iv.stock_reliability)}{capacity})"


_ACCOUNTABILITY = {
    "scorecard": "a community scorecard makes it act on them",
    "health_committee": "a health committee presses it to act on them",
    "none": "no accountability mechanism makes it act on them (symbolic engagement)",
}


def _feedback(iv: Feedback) -> str:
    """The Healthwatch-style feedback loop from groups to facilities, and what makes the facility respond."""
    weight = "" if iv.accountability == "none" else f" (responsiveness ×{_num(iv.responsiveness)})"
    return (
        "women's groups feed members' bad service experiences back to their facility; "
        f"{_ACCOUNTABILITY[iv.accountability]}{weight}"
    )


def _shared_record(iv: SharedRecord) -> str:
    """The referral record groups share with their CHW and facility."""
    return "women's groups share one referral record with their CHW and facility (referrals arrive known, none lost)"


def _male_engagement(iv: MaleEngagement) -> str:
    """Groups' sessions for members' husbands."""
    return "women's groups sensitise their villages' men and husbands, so opposing partners come round while they meet"


def _leader_engagement(iv: LeaderEngagement) -> str:
    """Village leaders' buy-in, and how likely it is."""
    return (
        f"village leaders engaged ({_share(iv.p_buy_in)} move a step towards backing FP: hostile to neutral, "
        "neutral to supportive)"
    )


def _coordination(iv: Coordination) -> str:
    """Coordination between the health system and the groups' organisations."""
    return "the health system and the groups coordinate monthly and share resources (trust grows with joint work)"


def _community_networks(iv: CommunityNetworks) -> str:
    """Non-health networks carrying FP messages."""
    return "savings groups, livelihood groups and youth clubs carry FP messages to women outside the groups"


def _co_creation(iv: CoCreation) -> str:
    """Groups founded where there were none."""
    inclusive = ", seeking out the poorest women" if iv.inclusive else ""
    return f"women's groups co-created with local people where a village has none{inclusive}"


def _community_monitoring(iv: CommunityMonitoring) -> str:
    """Groups that monitor and plan, and what the district moves on their reports."""
    return (
        "women's groups report members' unmet need and bad service experiences to the district, which every "
        f"{iv.plan_every_months} months moves {_num(iv.extra_chw_hours_per_month)} CHW hours a month to the "
        f"reporting villages and supply support to the worst-reported {_share(iv.facilities_supported)} of facilities"
    )


# per type: what it does, and what its coverage counts (as in interventions.py)
_WHAT: dict[type[Intervention], tuple[Callable[[Any], str], str]] = {
    CapacityBuilding: (_capacity_building, "groups"),
    Linkage: (_linkage, "groups"),
    Advocacy: (_advocacy, "groups"),
    ChwScaleUp: (_chw_scale_up, "villages"),
    SupplyImprovement: (_supply, "facilities"),
    Feedback: (_feedback, "groups"),
    SharedRecord: (_shared_record, "groups"),
    MaleEngagement: (_male_engagement, "groups"),
    LeaderEngagement: (_leader_engagement, "villages"),
    CommunityMonitoring: (_community_monitoring, "groups"),
    CoCreation: (_co_creation, "villages"),
    Coordination: (_coordination, "groups"),
    CommunityNetworks: (_community_networks, "villages"),
}


def _window(iv: Intervention, exit_month: int | None) -> str:
    """When it runs, with a donor exit cutting short a donor-funded intervention (as the schedule does)."""
    start, end = iv.start_month, iv.end_month
    cut = iv.funded_by == "donor" and exit_month is not None and (end is None or exit_month < end)
    if cut and exit_month <= start:
        return f"never runs (the donor exits at month {exit_month}, before it starts)"
    if cut:
        return f"months {start}–{exit_month} (until the donor exits)"
    return f"from month {start}" if end is None else f"months {start}–{end}"


def _reach(iv: Intervention, scenario: Scenario, noun: str) -> str:
    """How many targets it reaches and which first; capacity building defaults to the groups' coverage."""
    default = scenario.groups.training_coverage if isinstance(iv, CapacityBuilding) else 1.0
    coverage = default if iv.coverage is None else iv.coverage
    if coverage >= 1:
        return f"reaching all {noun}"
    order = "remotest first" if iv.remote_first else "chosen at random"
    return f"reaching {_share(coverage)} of {noun}, {order}"


def _donor_exit(iv: DonorExit, scenario: Scenario) -> str:
    """The exit and what stops with it, naming the donor-funded interventions still running then."""
    month = iv.start_month
    ending = [
        name
        for name, other in scenario.interventions.items()
        if other.funded_by == "donor"
        and not isinstance(other, DonorExit)
        and other.start_month < month
        and (other.end_month is None or other.end_month > month)
    ]
    stops = [f"donor-funded interventions end ({', '.join(ending)})" if ending else "no donor-funded work left"]
    if iv.rel_chw_visits == 0:
        stops.append("CHW visits stop")
    elif iv.rel_chw_visits == 0.5:
        stops.append("CHW visits halve")
    elif iv.rel_chw_visits < 1:
        stops.append(f"CHW visits fall to {_share(iv.rel_chw_visits)} of their level")
    if iv.end_supervision:
        stops.append("supervision stops")
    return f"donor exits at month {month}: " + ", ".join(stops)


def describe_intervention(iv: Intervention, scenario: Scenario) -> str:
    """One plain-language sentence for a planner: what the intervention does, when, whom it reaches, who pays.
    `scenario` supplies defaults (capacity-building coverage) and the donor exit that may cut it short."""
    if isinstance(iv, DonorExit):
        return _donor_exit(iv, scenario)
    what, noun = _WHAT[type(iv)]
    exits = [other.start_month for other in scenario.interventions.values() if isinstance(other, DonorExit)]
    parts = [what(iv), _window(iv, min(exits) if exits else None), _reach(iv, scenario, noun), f"{iv.funded_by}-funded"]
    return ", ".join(parts)


def parameter_changes(scenario: Scenario, baseline: Scenario) -> list[str]:
    """Settings outside the schedule that differ from the baseline's ("groups.training_coverage 0 → 0.5"), so a
    reader sees every difference between two arms, not only the interventions."""
    ignore = {"name", "description", "seed", "interventions", "calibration"}
    mine, base = flat_keys(scenario), flat_keys(baseline)
    return [
        f"{key} {_value(base.get(key))} → {_value(value)}"
        for key, value in mine.items()
        if key.split(".")[0] not in ignore and base.get(key) != value
    ]


def _value(value: Any) -> str:
    """A parameter as written in a scenario file."""
    return _num(value) if isinstance(value, float) else str(value)


def describe_calibration(scenario: Scenario) -> str:
    """What a calibrated scenario was fitted to, in one sentence ("" if it was not calibrated)."""
    c = scenario.calibration
    if c is None:
        return ""
    fitted = ", ".join(f"{p.key} {p.value:.3g}" for p in c.parameters)
    fit = ", ".join(f"{f.measure} {f.model:.3g} (target {f.target:g})" for f in c.fit)
    return f"Calibrated to {c.targets} on {c.date}: {fitted}; model vs target: {fit}."


@dataclass(frozen=True)
class ScenarioText:
    """A scenario as the report describes it."""

    label: str
    name: str
    description: str
    is_baseline: bool
    schedule: list[tuple[str, str]]  # (intervention key, sentence)
    changes: list[str]


def scenario_text(comparison: "Comparison", label: str) -> ScenarioText:
    """One scenario of the comparison, described in words."""
    scenario, is_baseline = comparison.scenarios[label], label == comparison.baseline
    return ScenarioText(
        label=label,
        name=scenario.name,
        description=" ".join(part for part in (scenario.description, describe_calibration(scenario)) if part),
        is_baseline=is_baseline,
        schedule=[(key, describe_intervention(iv, scenario)) for key, iv in scenario.interventions.items()],
        changes=[] if is_baseline else parameter_changes(scenario, comparison.scenarios[comparison.baseline]),
    )

"""Pathway knock-outs for a decomposition: a programme's interventions grouped by the pathway they work through
(groups, CHWs, supply, voice, men and leaders), and the same programme with each pathway switched off, to run on
the comparison's seeds so that what each pathway adds is a paired difference, not noise."""

from commsim.scenario.schema import (
    Advocacy,
    CapacityBuilding,
    ChwScaleUp,
    CoCreation,
    CommunityMonitoring,
    CommunityNetworks,
    Coordination,
    Feedback,
    Intervention,
    LeaderEngagement,
    Linkage,
    MaleEngagement,
    Scenario,
    SharedRecord,
    SupplyImprovement,
)

# Each pathway and the intervention types that work through it; a donor exit belongs to none (it stays in every
# knock-out, as it ends what is left).
PATHWAYS: dict[str, tuple[type[Intervention], ...]] = {
    "groups": (CapacityBuilding, CoCreation, Linkage, SharedRecord, Coordination, CommunityNetworks),
    "CHWs": (ChwScaleUp,),
    "supply": (SupplyImprovement,),
    "voice": (Feedback, Advocacy, CommunityMonitoring),
    "men and leaders": (MaleEngagement, LeaderEngagement),
}


def pathways_of(config: Scenario) -> list[str]:
    """The pathways a scenario's interventions work through, in PATHWAYS order."""
    kinds = {type(iv) for iv in config.interventions.values()}
    return [name for name, types in PATHWAYS.items() if kinds & set(types)]


def knockout_label(arm: str, pathway: str) -> str:
    """The label of `arm` with `pathway` switched off."""
    return f"{arm} without {pathway}"


def without(config: Scenario, pathways: tuple[str, ...], label: str) -> Scenario:
    """`config` named `label`, with the interventions of `pathways` removed."""
    off = tuple(kind for pathway in pathways for kind in PATHWAYS[pathway])
    kept = {n: iv for n, iv in config.interventions.items() if not isinstance(iv, off)}
    return config.model_copy(update={"interventions": kept, "name": label})


def knockouts(arm: str, config: Scenario) -> dict[str, Scenario]:
    """`config` once per pathway it uses, with that pathway's interventions removed, by knockout_label."""
    return {
        knockout_label(arm, pathway): without(config, (pathway,), knockout_label(arm, pathway))
        for pathway in pathways_of(config)
    }

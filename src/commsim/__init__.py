"""commsim: an agent-based simulation of community health systems (women's groups, CHWs, facilities)."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from commsim.model.community import CommunityHealthModel
    from commsim.scenario.loader import ScenarioError, load_scenario
    from commsim.scenario.schema import Scenario

__all__ = ["CommunityHealthModel", "Scenario", "ScenarioError", "load_scenario"]
__version__ = "0.1.0"

# Imported on first use (PEP 562): `commsim --help` and `import commsim.scenario.loader` pay nothing for Mesa, Numba.
_LAZY = {
    "CommunityHealthModel": "commsim.model.community",
    "Scenario": "commsim.scenario.schema",
    "ScenarioError": "commsim.scenario.loader",
    "load_scenario": "commsim.scenario.loader",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'commsim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])

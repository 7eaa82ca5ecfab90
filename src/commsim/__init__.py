"""commsim: an agent-based simulation of community health systems (women's groups, CHWs, facilities)."""

from commsim.loader import ScenarioError, load_scenario
from commsim.model import CommunityHealthModel
from commsim.scenario import Scenario

__all__ = ["CommunityHealthModel", "Scenario", "ScenarioError", "load_scenario"]
__version__ = "0.1.0"

"""The scenario files the pages offer (shipped, and calibrated ones in results/), and the only way a page turns a
name a browser sent into a file: the server opens nothing it did not list."""

from pathlib import Path

from commsim.scenario.loader import shipped_scenarios
from commsim.ui.levers import LeverError

CALIBRATED = "results/*calibrated*.toml"  # where `commsim calibrate` writes, relative to where the app runs


def scenario_files() -> dict[str, Path]:
    """What the pages offer, by the name they show: the shipped scenarios by name, then calibrated scenario files
    from `commsim calibrate` by path (relative to where the app runs)."""
    calibrated = {str(path): path for path in sorted(Path().glob(CALIBRATED)) if path.is_file()}
    return {path.stem: path for path in shipped_scenarios()} | calibrated


def scenario_names() -> list[str]:
    """The scenarios the pages offer, as listed."""
    return list(scenario_files())


def offered_file(name: object) -> Path:
    """The file behind a scenario the pages offer; LeverError for any other value a browser sends. The server
    opens only the files it listed, so a page user can neither read a file nor learn whether one exists."""
    files = scenario_files()
    if not isinstance(name, str) or name not in files:
        raise LeverError(
            "scenario: not one of the scenarios offered here (shipped, or calibrated in results/): choose one "
            "from the list"
        )
    return files[name]

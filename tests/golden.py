"""The golden baseline: every shipped scenario at its own size and seed, all outputs at every 12th month, exact.
A change to a rule then shows as a diff of `tests/golden/shipped_scenarios.json` that someone must approve, not
only as parity tests that pass. Rewrite it on purpose, and say why in the commit that does:

    .venv/bin/python tests/golden.py --write
"""

import json
import sys
from pathlib import Path

GOLDEN = Path(__file__).with_name("golden") / "shipped_scenarios.json"
EVERY = 12  # months between recorded rows (and the last month)


def summary() -> dict[str, dict[str, dict[str, float | int]]]:
    """{scenario: {month: {output: value}}} from the numba backend, as plain JSON types."""
    from commsim.runs.run import run_scenario
    from commsim.scenario import loader

    table: dict[str, dict[str, dict[str, float | int]]] = {}
    for path in loader.shipped_scenarios():
        ts = run_scenario(path).timeseries
        months = sorted({*range(0, len(ts), EVERY), len(ts) - 1})
        table[path.stem] = {
            str(month): {column: ts[column].iloc[month].item() for column in ts.columns if column != "month"}
            for month in months
        }
    return table


def write() -> None:
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(summary(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/golden.py --write   (rewrites the golden baseline on purpose)")
    write()

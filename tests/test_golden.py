"""Every shipped scenario reproduces the golden baseline exactly (see tests/golden.py to rewrite it on purpose)."""

import json

from golden import GOLDEN, summary


def test_every_shipped_scenario_matches_the_golden_baseline():
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    actual = json.loads(json.dumps(summary()))  # through JSON, as written
    assert sorted(actual) == sorted(expected), "shipped scenarios differ from the golden file's"
    changed = [
        f"{name} month {month} {column}: golden {value!r}, now {actual[name][month].get(column)!r}"
        for name, rows in expected.items()
        for month, row in rows.items()
        for column, value in row.items()
        if actual[name].get(month, {}).get(column) != value
    ]
    assert not changed, f"{len(changed)} values differ from the golden baseline:\n" + "\n".join(changed[:40])
    assert all(set(actual[name][m]) == set(row) for name, rows in expected.items() for m, row in rows.items())

"""The stylised facts of ../shared/evidence.md as behaviour of the model (`commsim.evidence.facts`), in quick mode:
3 seeds per arm, common random numbers across arms, the 20k-household baseline district. Each fact lists its
checks; a failure names the ones the model missed and what it produced. `commsim validate` shows the facts and
the published numbers (tests/test_published.py) together."""

import pytest
from bs4 import BeautifulSoup
from typer.testing import CliRunner

from commsim.cli.app import app
from commsim.evidence import facts as validate
from commsim.evidence import published

pytestmark = pytest.mark.slow  # statistical runs over several seeds


@pytest.fixture(scope="module")
def runs() -> validate.Runs:
    return validate.Runs(validate.QUICK_SEEDS)


@pytest.mark.parametrize("fact", validate.FACTS, ids=lambda f: f.__name__.removeprefix("fact_"))
def test_fact(fact, runs):
    result = fact(runs)
    missed = [check.requirement for check in result.checks if not check.passed]
    assert not missed, f"fact {result.number} ({result.title}): {result.measured}; missed: {missed}"
    assert result.plot.series and all(len(v) == len(result.plot.x) for v in result.plot.series.values())


def test_validate_quick_prints_both_families_and_writes_the_page(tmp_path):
    page = tmp_path / "facts.html"
    result = CliRunner().invoke(app, ["validate", "--quick", "--out", str(page)])
    assert "12 of 12 facts reproduced" in result.output
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    rows = soup.select("#facts tbody tr")
    assert [row["data-fact"] for row in rows] == [str(n) for n in range(1, 13)]
    assert all(row["data-passed"] == "true" for row in rows)
    images = soup.select("section.fact img")
    assert len(images) == 12 and all(img["src"].startswith("data:image/png;base64,iVBOR") for img in images)
    numbers = soup.select("#published tbody tr")
    assert [row["data-check"] for row in numbers] == [check.key for check in published.CHECKS]
    missed = [n for n, row in enumerate(numbers, start=1) if row["data-passed"] == "false"]
    assert f"{len(numbers) - len(missed)} of {len(numbers)} published numbers" in result.output
    assert all(f"P{n} failed" in result.output for n in missed)
    assert result.exit_code == (1 if missed else 0), result.output  # a published number that fails is reported

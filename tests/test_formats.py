"""How outputs are named and shown: one label and unit per output column, used by every table and page."""

import math

import pytest

from commsim.model import metrics
from commsim.results import effects
from commsim.results.formats import DASH, fmt_rate, fmt_ratio, format_output, output_label, output_unit


def test_every_output_column_has_one_label():
    assert set(metrics.LABELS) == set(metrics.COLUMNS)
    assert len(set(metrics.LABELS.values())) == len(metrics.LABELS)  # no two outputs share a name


def test_every_summary_column_with_a_value_has_a_heading():
    bounds = {c for c in effects.SUMMARY_COLUMNS if c.endswith(("_lo", "_hi", "_lo_pp", "_hi_pp"))}
    assert set(effects.SUMMARY_LABELS) == set(effects.SUMMARY_COLUMNS) - bounds - {"scenario"}


@pytest.mark.parametrize(
    ("column", "value", "label", "unit", "shown"),
    [
        ("mcpr", 0.2117, "mCPR", "%", "21.2%"),
        ("mcpr_q1", 0.1, "mCPR wealth Q1 (poorest)", "%", "10.0%"),
        ("mcpr_10km_plus", 0.05, "mCPR 10+ km from facility", "%", "5.0%"),
        ("cost_cumulative", 84280.4, "cost, cumulative", "US$", "US$84,280"),
        ("users", 1203.0, "users", "", "1,203"),
        ("mean_trust", 0.51234, "mean trust", "", "0.512"),
    ],
)
def test_label_unit_and_shown_value(column, value, label, unit, shown):
    assert output_label(column) == label
    assert output_unit(column) == unit
    assert format_output(column, value) == shown
    assert format_output(column, math.nan) == DASH


def test_an_unknown_column_is_shown_by_its_name():
    assert output_label("r2") == "r2" and output_unit("r2") == ""


def test_published_rates_and_ratios():
    assert fmt_rate(0.0064) == "0.64%" and fmt_rate(math.nan) == DASH
    assert fmt_ratio(0.90912) == "0.909" and fmt_ratio(6.326) == "6.33" and fmt_ratio(math.inf) == "∞"

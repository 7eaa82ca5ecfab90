"""How numbers are shown to people, declared once for the CLI tables, the reports, the sweep analysis and the
UI: shares as percentages, money in US$, signed differences, and `format_output` for any output column."""

import math
import numbers
from typing import Any

from commsim.model.metrics import LABELS

DASH = "—"  # a missing value


def _missing(x: Any) -> bool:
    """None or NaN: shown as a dash."""
    return x is None or (isinstance(x, numbers.Real) and math.isnan(x))


def _signed(x: float, decimals: int) -> str:
    """A signed number with thousands separators, no sign on zero ("+4.0", "-1,234", "0.0")."""
    text = f"{x:+,.{decimals}f}"
    return text[1:] if float(text.replace(",", "")) == 0 else text


def fmt_share(x: float) -> str:
    """A prevalence share as a percentage: 0.2117 -> "21.2%"."""
    return DASH if _missing(x) else f"{100 * x:.1f}%"


def fmt_rate(x: float) -> str:
    """A published rate as a percentage to two decimals (failure rates are fractions of a percent): "0.64%"."""
    return DASH if _missing(x) else f"{100 * x:.2f}%"


def fmt_ratio(x: float) -> str:
    """A ratio or a rate per woman to three digits, infinity as such: "0.909", "6.33", "∞"."""
    return DASH if _missing(x) else ("∞" if math.isinf(x) else f"{x:.3g}")


def fmt_pp(x: float) -> str:
    """Percentage points, signed: "+4.0 pp"."""
    return DASH if _missing(x) else f"{_signed(x, 1)} pp"


def fmt_pp_bound(x: float) -> str:
    """An interval bound in percentage points (the unit is on the estimate)."""
    return DASH if _missing(x) else _signed(x, 1)


def fmt_users(x: float) -> str:
    """Additional women using, signed and rounded: "+1,203"."""
    return DASH if _missing(x) else _signed(x, 0)


def fmt_count(x: float) -> str:
    """A count over the horizon (births, user-years, pregnancies averted), rounded: "12,345", "-40"."""
    return DASH if _missing(x) else _signed(x, 0).lstrip("+")


def fmt_deaths(x: float) -> str:
    """Deaths averted, to one decimal (a district's are few): "3.4", "-0.2"."""
    return DASH if _missing(x) else _signed(x, 1).lstrip("+")


def fmt_usd(x: float) -> str:
    """Money in whole US dollars: "US$84,280"."""
    return DASH if _missing(x) else ("-" if x < 0 else "") + f"US${abs(x):,.0f}"


def fmt_month(x: float) -> str:
    """A month number, or a dash."""
    return DASH if _missing(x) else f"month {int(x)}"


def fmt_sustainability(text: str) -> str:
    """`effects.months_to_half` in words: "held", "N months" until the gain halves, a note, or blank."""
    if _missing(text) or text == "":
        return ""
    return f"{text} month{'' if text == '1' else 's'}" if text.isdigit() else text


def raw(value: Any) -> str:
    """The exact value for a data-value attribute: strings as they are, integers as integers, floats by repr
    (round-trips to the same double), missing as "nan"."""
    if isinstance(value, str):
        return value
    if _missing(value):
        return "nan"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    return repr(float(value))


def format_output(column: str, value: float) -> str:
    """A value of output `column` as people read it: shares (mCPR, unmet need, by band or quintile) as
    percentages, costs in US$, means to 3 decimals, counts with thousands separators, others to 3 digits."""
    if _missing(value):
        return DASH
    unit = output_unit(column)
    if unit == "%":
        return fmt_share(value)
    if unit == "US$":
        return fmt_usd(value)
    if column.startswith("mean_"):
        return f"{value:.3f}"
    if abs(value) >= 1000 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.3g}"


def output_label(column: str) -> str:
    """What people call output `column` ("mcpr" -> "mCPR"); an unknown column is shown as it is named."""
    return LABELS.get(column, column)


def output_unit(column: str) -> str:
    """The unit `format_output` shows output `column` in: "%" for shares, "US$" for costs, else ""."""
    if column in ("mcpr", "unmet_need") or column.startswith("mcpr_"):
        return "%"
    return "US$" if column.startswith("cost") else ""

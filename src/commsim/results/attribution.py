"""What each pathway of a programme buys: switched off on the comparison's seeds, the programme loses that
pathway's contribution to its gain over the baseline (paired by replicate, with a 95% interval); what the
contributions do not add up to is the pathways' interaction (working together they give more, or less, than
apart). The outcome is mCPR, averaged over the last 12 months to steady a single month's draw; its cost is the
incremental cost over the horizon."""

import pandas as pd

from commsim.results.effects import interval
from commsim.runs.decompose import knockout_label

TOGETHER = "together (interaction)"
LAST_MONTHS = 12


def _per_replicate(frame: pd.DataFrame, column: str, months: int | None) -> pd.Series:
    """Per (scenario, replicate): `column` averaged over the last `months` months, or summed over months 1..T."""
    if months is None:
        rows = frame[frame["month"] > 0]
        return rows.groupby(["scenario", "replicate"])[column].sum()
    rows = frame[frame["month"] > frame["month"].max() - months]
    return rows.groupby(["scenario", "replicate"])[column].mean()


def attribute(frame: pd.DataFrame, baseline: str, arm: str, pathways: list[str]) -> pd.DataFrame:
    """One row per pathway of `arm`, then the interaction, then the total: its gain in mCPR points over the
    baseline (the arm's gain less the gain without it), with the 95% interval over replicates, and the
    incremental cost (US$) it accounts for. `frame` holds the baseline, the arm and its knock-outs, same seeds."""
    mcpr = _per_replicate(frame, "mcpr", LAST_MONTHS)
    cost = _per_replicate(frame, "cost_month", None)

    def gain(series: pd.Series, label: str) -> pd.Series:
        return series.loc[label] - series.loc[baseline]

    total, total_cost = gain(mcpr, arm), gain(cost, arm)
    rows, rest, rest_cost = [], total.copy(), total_cost.copy()
    for pathway in pathways:
        label = knockout_label(arm, pathway)
        part, part_cost = total - gain(mcpr, label), total_cost - gain(cost, label)
        rest, rest_cost = rest - part, rest_cost - part_cost
        rows.append((pathway, part, part_cost))
    rows += [(TOGETHER, rest, rest_cost), ("total", total, total_cost)]
    table = []
    for name, points, usd in rows:
        mean, lo, hi = interval(100.0 * points.to_numpy())
        table.append(
            {"arm": arm, "pathway": name, "gain_pp": mean, "gain_pp_lo": lo, "gain_pp_hi": hi, "cost": usd.mean()}
        )
    return pd.DataFrame(table)

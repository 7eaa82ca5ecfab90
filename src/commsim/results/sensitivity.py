"""Analysis of a stored sweep: what each swept parameter does to the final-month outputs.

A sweep's batch records its experiment, so the design points are rebuilt from it (`design_points` is
deterministic) and joined to the stored runs by point index. Sobol designs get first-order and total Sobol
indices (SALib, on the per-point mean over replicates); grids get main effects (the mean outcome at each level
of a parameter, averaged over every other point) and two-way tables; random and Latin-hypercube designs get the
same with each parameter binned into quintiles. Standardised regression coefficients are a cheap cross-check
for sampled designs. An incomplete sweep is analysed as stored, with a warning; Sobol indices refuse it.
"""

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from commsim.errors import CommsimError
from commsim.model import metrics
from commsim.results.effects import interval
from commsim.runs.experiment import Experiment, design_points
from commsim.store import database as results_store

BINS = 5  # quintiles of a sampled parameter
SALIB_ZERO_SEED = 2_147_483_629  # SALib treats bootstrap seed 0 as "no seed"; this stands in so intervals repeat
OUTPUT_NAMES: tuple[str, ...] = tuple(name for name in metrics.COLUMNS if name != "month")
RUN_COLUMNS = ("point", "replicate", "seed")


class AnalysisError(CommsimError):
    """A sweep that cannot be analysed as asked; the message says why and what to do."""


@dataclass(frozen=True)
class SweepData:
    """A sweep ready to analyse: its experiment, every planned point and the final month of every stored run."""

    experiment: Experiment
    points: pd.DataFrame  # point + one column per swept key, every planned point in design order
    outcomes: pd.DataFrame  # point, replicate, seed + one column per output: one row per stored run
    batch_id: int | None = None
    source: str = ""  # the experiment file the sweep ran from

    @property
    def keys(self) -> list[str]:
        """The swept scenario keys, in the experiment's order."""
        return list(self.experiment.parameters)

    @property
    def outputs(self) -> list[str]:
        """The outputs carried in `outcomes`."""
        return [c for c in self.outcomes.columns if c not in RUN_COLUMNS]

    @property
    def planned(self) -> int:
        """Runs the experiment asks for: points x replicates."""
        return len(self.points) * self.experiment.replicates

    @property
    def stored(self) -> int:
        """Runs stored."""
        return len(self.outcomes)

    @property
    def points_without_runs(self) -> int:
        """Design points with no stored run at all."""
        return len(self.points) - self.outcomes["point"].nunique()

    @property
    def complete(self) -> bool:
        """Whether every planned run is stored."""
        return self.stored >= self.planned

    def status(self) -> str:
        """How much of the sweep is stored, with what to do when it is incomplete."""
        name, kind = self.experiment.name, self.experiment.design.kind
        what = f"sweep {self.batch_id} ({name}, {kind})" if self.batch_id is not None else f"sweep {name} ({kind})"
        replicates = self.experiment.replicates
        shape = f"{len(self.points)} points x {replicates} replicate{'' if replicates == 1 else 's'}"
        if self.complete:
            return f"{what}: all {self.planned} planned runs stored ({shape})"
        empty = f", {self.points_without_runs} points without any run" if self.points_without_runs else ""
        return (
            f"{what}: only {self.stored} of {self.planned} planned runs stored ({self.planned - self.stored} "
            f"missing{empty}); results use what is stored. {self.resume_hint()}"
        )

    def resume_hint(self) -> str:
        """How to finish the sweep."""
        return f"Re-running `commsim sweep {self.source or self.experiment.name}` resumes it."


def check_outputs(names: list[str]) -> list[str]:
    """The output names, each a stored output column (any of `metrics.COLUMNS` but month)."""
    unknown = [name for name in names if name not in OUTPUT_NAMES]
    if unknown:
        raise AnalysisError(f"output {', '.join(map(repr, unknown))}: unknown; allowed: {', '.join(OUTPUT_NAMES)}")
    return list(dict.fromkeys(names))


def from_outcomes(
    experiment: Experiment, outcomes: pd.DataFrame, *, batch_id: int | None = None, source: str = ""
) -> SweepData:
    """A SweepData from an experiment and one row per run (point, replicate, seed, outputs); the points are
    rebuilt from the experiment's design."""
    points = pd.DataFrame(design_points(experiment), columns=list(experiment.parameters))
    points.insert(0, "point", np.arange(len(points)))
    outside = outcomes.loc[~outcomes["point"].between(0, len(points) - 1), "point"]
    if not outside.empty:
        raise AnalysisError(
            f"sweep {batch_id}: runs at point {int(outside.iloc[0])} but the experiment has {len(points)} points "
            "(the design no longer expands as it did when the sweep ran)"
        )
    ordered = outcomes.sort_values(["point", "replicate"], kind="stable").reset_index(drop=True)
    return SweepData(experiment, points, ordered, batch_id, source)


def load_sweep(store: results_store.Store, batch_id: int, outputs: list[str] | None = None) -> SweepData:
    """A stored sweep: its experiment, points and the final month of every stored run, for `outputs` (default:
    the experiment's). Refuses a batch that is not a sweep or has no runs."""
    batch = results_store.get_batch(store, batch_id)
    if batch["kind"] != "sweep":
        raise AnalysisError(f"batch {batch_id} is a {batch['kind']}, not a sweep (see `commsim results list`)")
    spec = batch["spec"]
    experiment = _experiment(batch_id, spec)
    names = check_outputs(outputs or experiment.outputs)
    final = results_store.final_outputs(store, batch_id, names)
    source = str(spec.get("source") or "")
    if final.empty:
        raise AnalysisError(
            f"sweep {batch_id} ({experiment.name}) has no stored runs: run `commsim sweep {source or experiment.name}`"
        )
    outcomes = final.drop(columns="run_id").astype({"point": int, "replicate": int})
    data = from_outcomes(experiment, outcomes, batch_id=batch_id, source=source)
    ran_with = spec.get("point_values")
    expanded = data.points.drop(columns="point").to_dict("records")
    if (ran_with is not None and ran_with != expanded) or spec.get("points", len(expanded)) != len(expanded):
        raise AnalysisError(
            f"sweep {batch_id}: the experiment's design now expands into other points than the ones it ran with "
            "(a changed SALib or commsim?); analyse it with the version that ran it"
        )
    return data


def _experiment(batch_id: int, spec: dict[str, Any]) -> Experiment:
    """The experiment a sweep batch recorded."""
    try:
        return Experiment.model_validate(spec["experiment"])
    except (KeyError, TypeError, ValidationError) as error:
        reason = str(error).splitlines()[0]
        raise AnalysisError(f"sweep {batch_id}: its recorded experiment cannot be read: {reason}") from None


def _column(data: SweepData, output: str) -> None:
    """Refuse an output the sweep data does not carry."""
    if output not in data.outputs:
        raise AnalysisError(f"output {output!r}: not loaded; loaded: {', '.join(data.outputs)}")


def point_means(data: SweepData, output: str) -> pd.Series:
    """Mean of `output` over replicates at each planned point (index: point; NaN where no run is stored)."""
    _column(data, output)
    return data.outcomes.groupby("point")[output].mean().reindex(data.points["point"])


def point_table(data: SweepData) -> pd.DataFrame:
    """One row per planned point: its parameter values, then per output mean, sd and n over replicates."""
    table = data.points.copy()
    grouped = data.outcomes.groupby("point")
    for output in data.outputs:
        stats = grouped[output].agg(["mean", "std", "count"]).reindex(table["point"])
        table[f"{output}_mean"] = stats["mean"].to_numpy()
        table[f"{output}_sd"] = stats["std"].to_numpy()
        table[f"{output}_n"] = stats["count"].fillna(0).astype(int).to_numpy()
    return table


def levels(data: SweepData, key: str) -> pd.DataFrame:
    """Each point's level of `key` (index: point): a grid's values (or a few listed values) as they are, else
    quintile bins at the mean value inside the bin. Columns: level (ordered categorical) and bin (its range)."""
    values = data.points.set_index("point")[key]
    parameter = data.experiment.parameters[key]
    present = set(values)
    if data.experiment.design.kind == "grid":
        order = [v for v in parameter.grid_values() if v in present]
    elif parameter.values is not None:
        order = [v for v in dict.fromkeys(parameter.values) if v in present]
    elif len(present) <= BINS:
        order = sorted(present)
    else:
        return _binned(values)
    level = pd.Categorical(values, categories=order, ordered=True)
    return pd.DataFrame({"level": level, "bin": ""}, index=values.index)


def _binned(values: pd.Series) -> pd.DataFrame:
    """Quintile bins of a sampled parameter, each labelled by its range and placed at its mean value."""
    x = values.to_numpy(float)
    edges = np.unique(np.quantile(x, np.linspace(0, 1, BINS + 1)))
    code = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    centres = pd.Series(x).groupby(code).mean()
    level = pd.Categorical(centres.loc[code].to_numpy(), categories=centres.to_list(), ordered=True)
    labels = np.array([f"{edges[c]:.3g} to {edges[c + 1]:.3g}" for c in range(len(edges) - 1)])
    return pd.DataFrame({"level": level, "bin": labels[code]}, index=values.index)


def _with_means(data: SweepData, output: str, keys: list[str]) -> pd.DataFrame:
    """Points that have runs, with their mean `output` and their level of each key."""
    frame = point_means(data, output).rename("mean").to_frame()
    for key in keys:
        frame = frame.join(levels(data, key).rename(columns={"level": key, "bin": f"{key} bin"}))
    return frame.dropna(subset=["mean"])


def main_effects(data: SweepData, output: str) -> pd.DataFrame:
    """Per parameter and level: the mean of `output` over every point at that level (each point its mean over
    replicates: the mean over all runs when the sweep is complete), with a 95% interval across those point
    means and how many points and runs it rests on. Sampled designs are binned into quintiles."""
    frame = _with_means(data, output, data.keys)
    runs = data.outcomes.groupby("point").size()
    rows = []
    for key in data.keys:
        for level, group in frame.groupby(key, observed=True, sort=True):
            mean, low, high = interval(group["mean"].to_numpy())
            rows.append(
                {
                    "parameter": key,
                    "level": level,
                    "bin": group[f"{key} bin"].iloc[0],
                    "mean": mean,
                    "ci_low": low,
                    "ci_high": high,
                    "n_points": len(group),
                    "n_runs": int(runs.reindex(group.index).sum()),
                }
            )
    columns = ["parameter", "level", "bin", "mean", "ci_low", "ci_high", "n_points", "n_runs"]
    return pd.DataFrame(rows, columns=columns)


def two_way(data: SweepData, output: str, a: str, b: str) -> pd.DataFrame:
    """Mean of `output` at each pair of levels of parameters `a` (rows) and `b` (columns), over every other
    point (binned into quintiles for sampled designs); every level appears, NaN where no run is stored."""
    for key in (a, b):
        if key not in data.keys:
            raise AnalysisError(f"parameter {key!r}: not swept; swept: {', '.join(data.keys)}")
    if a == b:
        raise AnalysisError(f"two_way needs two different parameters (got {a!r} twice)")
    frame = _with_means(data, output, [a, b])
    table = frame.pivot_table(index=a, columns=b, values="mean", aggfunc="mean", observed=False, dropna=False)
    rows, columns = levels(data, a)["level"].cat.categories, levels(data, b)["level"].cat.categories
    table = table.reindex(index=rows, columns=columns)
    return table.rename_axis(index=a, columns=b)


def sobol_indices(data: SweepData, output: str) -> pd.DataFrame:
    """First-order and total Sobol indices of `output` with 95% bootstrap half-widths (SALib), from the mean
    over replicates at every point in design order; needs every point of a sobol design."""
    design = data.experiment.design
    if design.kind != "sobol":
        raise AnalysisError(f"Sobol indices need a sobol design; this sweep is {design.kind}: use main effects")
    means = point_means(data, output)
    if means.isna().any():
        missing = data.planned - data.stored
        raise AnalysisError(
            f"sweep {data.batch_id}: Sobol indices need every design point; {int(means.isna().sum())} of "
            f"{len(means)} points have no stored run ({missing} of {data.planned} runs missing). " + data.resume_hint()
        )
    from SALib.analyze import sobol

    parameters = data.experiment.parameters
    problem = {"num_vars": len(data.keys), "names": data.keys, "bounds": [parameters[k].range for k in data.keys]}
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # a constant output: indices are NaN
        result = sobol.analyze(
            problem,
            means.to_numpy(float),
            calc_second_order=design.second_order,
            seed=design.seed or SALIB_ZERO_SEED,
            print_to_console=False,
        )
    return pd.DataFrame(
        {
            "parameter": data.keys,
            "S1": result["S1"],
            "S1_conf": result["S1_conf"],
            "ST": result["ST"],
            "ST_conf": result["ST_conf"],
        }
    )


def regression_sensitivity(data: SweepData, output: str) -> pd.DataFrame:
    """Standardised regression coefficients of the per-point mean `output` on the numeric parameters, and the
    R² of that linear fit (the same on every row): a cheap check on a sampled design's rankings."""
    means = point_means(data, output).to_numpy(float)
    numeric = [k for k in data.keys if pd.api.types.is_numeric_dtype(data.points[k])]
    x = data.points[numeric].to_numpy(float)[~np.isnan(means)]
    y = means[~np.isnan(means)]
    sd_x, sd_y = x.std(axis=0), y.std()
    varying = sd_x > 0
    coefficients = np.full(len(numeric), math.nan)
    r2 = math.nan
    if sd_y > 0 and varying.any() and len(y) > varying.sum() + 1:
        z = (x[:, varying] - x[:, varying].mean(axis=0)) / sd_x[varying]
        design = np.column_stack([np.ones(len(y)), z])
        beta, *_ = np.linalg.lstsq(design, (y - y.mean()) / sd_y, rcond=None)
        coefficients[varying] = beta[1:]
        residual = (y - y.mean()) / sd_y - design @ beta
        r2 = 1.0 - float(residual @ residual) / len(y)
    return pd.DataFrame({"parameter": numeric, "SRC": coefficients, "R2": r2})


@dataclass(frozen=True)
class Analysis:
    """Every table of a sweep's analysis; tables over outputs carry an `output` column."""

    data: SweepData
    main_effects: pd.DataFrame
    sobol: pd.DataFrame | None  # sobol designs
    regression: pd.DataFrame | None  # sampled designs (random, lhs, sobol)
    pair: tuple[str, str] | None  # the two parameters of the two-way tables (the first two swept)
    two_way: dict[str, pd.DataFrame]  # per output


def analyse(data: SweepData) -> Analysis:
    """The analysis the design calls for, for every loaded output."""
    kind = data.experiment.design.kind
    pair = (data.keys[0], data.keys[1]) if len(data.keys) >= 2 else None
    effects = _stacked(data, main_effects)
    sobol = _stacked(data, sobol_indices) if kind == "sobol" else None
    regression = _stacked(data, regression_sensitivity) if kind != "grid" else None
    tables = {output: two_way(data, output, *pair) for output in data.outputs} if pair else {}
    return Analysis(data, effects, sobol, regression, pair, tables)


def _stacked(data: SweepData, table) -> pd.DataFrame:
    """One table per output, stacked with an `output` column first."""
    frames = [table(data, output).assign(output=output) for output in data.outputs]
    stacked = pd.concat(frames, ignore_index=True)
    return stacked[["output", *(c for c in stacked.columns if c != "output")]]


def format_level(level: Any) -> str:
    """A parameter level for tables and axes."""
    if isinstance(level, float):
        return f"{level:.3g}"
    return str(level)

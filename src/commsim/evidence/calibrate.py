"""Calibration: fit a scenario's chosen parameters to survey targets with Optuna, and write the fitted scenario.

Each trial sets the parameters Optuna's TPE sampler proposes (within the targets file's bounds), runs the
scenario `replicates` times on the seeds `seed + r` (common random numbers: every trial sees the same random
numbers, so the loss compares parameters, not luck) and scores the mean of each measure over the replicates with
the weighted loss

    loss = sum_i w_i ((model_i - target_i) / scale_i)^2

The study lives in the results database (Optuna's own tables beside commsim's), named after a hash of the
scenario, the targets file and the seed: running the same calibration again continues the same study, and
`trials` means "until the study has this many finished trials". The sampler is reseeded for every trial from
(seed, finished trials so far), so a study grown in several calls, or interrupted mid-trial (Optuna keeps that
trial as failed, and the sampler ignores it), proposes exactly what one uninterrupted call would have.

The result is written as a scenario file that `extends` the input scenario, sets the fitted values (and the
targets file's fixed `[set]` keys) and carries a `[calibration]` record of what it was fitted to.
"""

import hashlib
import json
import math
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import tomli_w

from commsim import outfiles
from commsim.errors import CommsimError
from commsim.evidence.targets import MIN_MONTHS, Target, Targets, check_targets, load_targets
from commsim.runs.executors import Executor, open_executor, serial
from commsim.runs.run import warm_up
from commsim.scenario.loader import ScenarioError, apply_overrides, load_scenario, resolve_path, scenario_hash
from commsim.scenario.schema import Calibration, FittedParameter, FittedTarget, Scenario
from commsim.store import database as results_store

if TYPE_CHECKING:
    import optuna

PLAUSIBLE_LOSS = 1.0  # trials below this loss (the targets met to within about one scale) show each parameter's spread
MISSING_PENALTY = 1e6  # loss term of a measure no replicate produced (e.g. no new users to follow up)
STUDY_PREFIX = "commsim-calibrate"


class CalibrationError(CommsimError):
    """A calibration that cannot run or cannot be written; the message says why."""


@dataclass(frozen=True)
class FitRow:
    """One target at the best trial: the model's mean and range over the replicates, and its loss term."""

    measure: str
    target: float
    scale: float
    weight: float
    source: str
    mean: float  # NaN if no replicate produced the measure
    low: float
    high: float
    contribution: float


@dataclass(frozen=True)
class TrialReport:
    """What a progress display needs after each trial."""

    number: int  # Optuna's trial number
    finished: int  # finished trials in the study now
    total: int  # finished trials asked for
    loss: float
    best: float


@dataclass
class CalibrationResult:
    """A calibration: the study, the best trial, the fit per target and the written scenario."""

    study: str
    trials: int  # finished trials in the study
    new_trials: int  # run by this call
    best_trial: int
    params: dict[str, float | int]
    loss: float
    fit: list[FitRow]
    measures: dict[str, list[float]]  # the best trial's measures, one value per replicate
    seeds: list[int]
    months: int
    out: Path
    scenario: Scenario  # the written file, loaded back
    extends: str
    plausible: dict[str, tuple[float, float]]  # per parameter: min and max over trials with loss < PLAUSIBLE_LOSS
    n_plausible: int


# --- The loss ----------------------------------------------------------------------------------------------


def measure_task(base: Scenario, seed: int, overrides: Mapping[str, Any]) -> dict[str, float]:
    """One replicate: every measure of one run (what a worker executes)."""
    from commsim.evidence.measures import measure_run

    return measure_run(base, seed, overrides).values


def evaluate(
    base: Scenario, overrides: Mapping[str, Any], seeds: list[int], executor: Executor | None = None
) -> dict[str, list[float]]:
    """Every measure of every replicate (replicate r on seeds[r]), as {measure: [value per replicate]}."""
    tasks = [(r, measure_task, (base, seed, dict(overrides))) for r, seed in enumerate(seeds)]
    done = dict((executor.run if executor is not None else serial)(tasks))
    names = list(done[0])
    return {name: [float(done[r][name]) for r in range(len(seeds))] for name in names}


def _mean(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return float(np.mean(finite)) if finite else math.nan


def contribution(target: Target, model: float) -> float:
    """One target's term of the loss: w ((model - target) / scale)^2; MISSING_PENALTY x w if the model has none."""
    if math.isnan(model):
        return target.weight * MISSING_PENALTY
    return target.weight * ((model - target.value) / target.scale) ** 2


def weighted_loss(measures: Mapping[str, list[float]], targets: Mapping[str, Target]) -> float:
    """sum_i w_i ((mean over replicates of measure i - target_i) / scale_i)^2."""
    return float(sum(contribution(t, _mean(measures[name])) for name, t in targets.items()))


def fit_rows(measures: Mapping[str, list[float]], targets: Mapping[str, Target]) -> list[FitRow]:
    """The fit table: per target, the model's mean and range over replicates and the loss term."""
    rows = []
    for name, t in targets.items():
        values = [v for v in measures[name] if not math.isnan(v)]
        mean = _mean(measures[name])
        low, high = (min(values), max(values)) if values else (math.nan, math.nan)
        rows.append(FitRow(name, t.value, t.scale, t.weight, t.source, mean, low, high, contribution(t, mean)))
    return rows


# --- The study ---------------------------------------------------------------------------------------------


def run_months(targets: Targets, base: Scenario) -> int:
    """Months of every calibration run: the targets file's, else the scenario's, at least MIN_MONTHS."""
    return max(targets.spec.months or base.months, MIN_MONTHS)


def study_key(base: Scenario, targets: Targets, seed: int) -> str:
    """What identifies a calibration: the scenario's parameters (with [set]), the targets (values, scales,
    weights, not their sources), the bounds, the months, the replicates and the seed. Changing any of them
    starts a new study; naming or citing differently does not."""
    spec = targets.spec
    payload = {
        "scenario": scenario_hash(base, with_seed=False),
        "targets": {name: [t.value, t.scale, t.weight] for name, t in sorted(spec.targets.items())},
        "parameters": {key: b.model_dump() for key, b in sorted(spec.parameters.items())},
        "months": run_months(targets, base),
        "replicates": spec.replicates,
        "seed": seed,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]


def study_name(scenario_name: str, base: Scenario, targets: Targets, seed: int) -> str:
    """`commsim-calibrate-<scenario>-<targets>-<hash>`."""
    return f"{STUDY_PREFIX}-{scenario_name}-{targets.name}-{study_key(base, targets, seed)}"


def sampler_seed(seed: int, finished: int) -> int:
    """The TPE sampler's seed for the trial after `finished` finished ones: fixed by the calibration seed and
    that count, so a resumed study proposes what an uninterrupted one would."""
    digest = hashlib.sha256(f"{seed}:{finished}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


def _optuna() -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def open_study(db: str | None, name: str) -> "optuna.Study":
    """The study `name` in the results database (created if new). The store is opened first, so a bad URL or an
    unusable file gets the store's one-line error, and the schema is commsim's before Optuna adds its tables."""
    opened = results_store.open_store(db)
    opened.engine.dispose()
    url = results_store.resolve_url(db)
    optuna = _optuna()
    options: dict[str, Any] = (
        {"connect_args": {"timeout": results_store.BUSY_TIMEOUT_S}} if url.startswith("sqlite") else {}
    )
    try:
        storage = optuna.storages.RDBStorage(url, engine_kwargs=options or None)
        return optuna.create_study(storage=storage, study_name=name, direction="minimize", load_if_exists=True)
    except (*results_store.DATABASE_ERRORS, optuna.exceptions.StorageInternalError, RuntimeError) as error:
        text = str(getattr(error, "orig", None) or error).strip().splitlines()
        raise CalibrationError(f"database {opened.url}: Optuna study {name}: {text[0] if text else error}") from None


def finished_trials(study: "optuna.Study") -> list["optuna.trial.FrozenTrial"]:
    from optuna.trial import TrialState

    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


# --- Calibrate ---------------------------------------------------------------------------------------------


def calibrate(
    scenario: str | Path,
    targets: str | Path | Targets,
    trials: int = 40,
    db: str | None = None,
    workers: int | None = 1,
    seed: int | None = None,
    out: str | Path | None = None,
    on_trial: Callable[[TrialReport], None] | None = None,
    overwrite: bool = False,
) -> CalibrationResult:
    """Fit `scenario` (a file or a shipped name) to a targets file until its study in the results database `db`
    has `trials` finished trials, and write the calibrated scenario to `out` (default
    `results/<scenario>-calibrated-<targets>.toml`). `seed` overrides the targets file's; `workers` > 1 runs
    the replicates of each trial on a process pool; `on_trial` is called after every trial. `out` may replace an
    earlier calibrated scenario (a re-run updates its own file); any other existing file only with `overwrite`."""
    if trials < 1:
        raise CalibrationError(f"--trials: must be at least 1 (got {trials})")
    loaded = targets if isinstance(targets, Targets) else load_targets(targets)
    source = resolve_path(scenario).resolve()
    original = load_scenario(source)
    base = check_targets(loaded, original)
    spec = loaded.spec
    seed = spec.seed if seed is None else seed
    if seed < 0:
        raise CalibrationError(f"--seed: must be >= 0 (got {seed})")
    seeds = [seed + r for r in range(spec.replicates)]
    months = run_months(loaded, base)
    name = study_name(original.name, base, loaded, seed)
    out_path = Path(out) if out is not None else default_out_path(original.name, loaded.name)
    _check_out(out_path, overwrite, protected=[source, loaded.path, *_database_files(db)])

    optuna = _optuna()
    study = open_study(db, name)
    if not study.user_attrs:
        for key, value in {
            "scenario": str(scenario),
            "targets": loaded.source,
            "seed": seed,
            "replicates": spec.replicates,
            "months": months,
        }.items():
            study.set_user_attr(key, value)

    def objective(trial: "optuna.Trial") -> float:
        params = {key: _suggest(trial, key, b) for key, b in spec.parameters.items()}
        measures = evaluate(base, {"months": months, **params}, seeds, executor)
        trial.set_user_attr("measures", measures)
        return weighted_loss(measures, spec.targets)

    done = len(finished_trials(study))
    new = 0
    with open_executor(workers, warm_up=warm_up) as executor:
        while done < trials:
            study.sampler = optuna.samplers.TPESampler(seed=sampler_seed(seed, done))
            trial = study.ask()
            try:
                loss = objective(trial)
            except BaseException:  # a lost worker, Ctrl-C: the trial is kept as failed, the error told once
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                raise
            study.tell(trial, loss)
            last = study.get_trials(deepcopy=False)[-1]
            done, new = len(finished_trials(study)), new + 1
            if on_trial is not None:
                best = min(t.value for t in finished_trials(study))
                loss = last.value if last.value is not None else math.nan
                on_trial(TrialReport(last.number, done, trials, loss, best))

    best = study.best_trial
    close = [t for t in finished_trials(study) if t.value is not None and t.value < PLAUSIBLE_LOSS]
    plausible = {
        key: (min(t.params[key] for t in close), max(t.params[key] for t in close)) for key in spec.parameters if close
    }
    measures = {k: [float(v) for v in values] for k, values in best.user_attrs["measures"].items()}
    rows = fit_rows(measures, spec.targets)
    missing = [row.measure for row in rows if math.isnan(row.mean)]
    if missing:
        raise CalibrationError(
            f"study {name}: no trial produced {', '.join(missing)} (too few households or months?); nothing written"
        )
    params = {key: best.params[key] for key in spec.parameters}
    record = Calibration(
        targets=loaded.source,
        date=date.today().isoformat(),
        parameters=[
            FittedParameter(key=key, value=value, low=spec.parameters[key].low, high=spec.parameters[key].high)
            for key, value in params.items()
        ],
        fit=[
            FittedTarget(measure=r.measure, target=r.target, model=r.mean, weight=r.weight, scale=r.scale) for r in rows
        ],
        loss=float(best.value),
        study=name,
        trials=done,
        seed=seed,
        replicates=spec.replicates,
        months=months,
    )
    extends = extends_path(source, out_path)
    written = write_calibrated(out_path, extends, {**spec.set, **params}, record, original.name, loaded)
    return CalibrationResult(
        study=name,
        trials=done,
        new_trials=new,
        best_trial=best.number,
        params=params,
        loss=float(best.value),
        fit=rows,
        measures=measures,
        seeds=seeds,
        months=months,
        out=out_path,
        scenario=written,
        extends=extends,
        plausible=plausible,
        n_plausible=len(close),
    )


def _suggest(trial: "optuna.Trial", key: str, bounds) -> float | int:
    if bounds.integer:
        return trial.suggest_int(key, int(bounds.low), int(bounds.high), log=bounds.log)
    return trial.suggest_float(key, bounds.low, bounds.high, log=bounds.log)


# --- The calibrated scenario file --------------------------------------------------------------------------


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "scenario"


def default_out_path(scenario_name: str, targets_name: str) -> Path:
    """`results/<scenario>-calibrated-<targets>.toml` (relative to the working directory)."""
    return Path("results") / f"{_safe(scenario_name)}-calibrated-{_safe(targets_name)}.toml"


def _database_files(db: str | None) -> list[Path]:
    opened = results_store.open_store(db)
    try:
        return results_store.database_files(opened)
    finally:
        opened.engine.dispose()


def _is_calibrated_scenario(path: Path) -> bool:
    """A file an earlier `commsim calibrate` wrote (TOML with a [calibration] record), which a re-run may update."""
    try:
        return path.is_file() and "calibration" in tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False


def _check_out(path: Path, overwrite: bool, protected: list[Path]) -> None:
    if path.exists() and path.is_dir():
        raise CalibrationError(f"--out {path}: is a directory; give a file name (e.g. {path / 'calibrated.toml'})")
    if path.suffix != ".toml":
        raise CalibrationError(f"--out {path}: a scenario file must end in .toml")
    outfiles.check_file(path, overwrite=overwrite or _is_calibrated_scenario(path), protected=protected)


def extends_path(scenario_file: Path, out: Path) -> str:
    """How the written file names the scenario it extends: relative to the written file when the two share a
    folder other than the root (`../scenarios/baseline.toml`), else the absolute path."""
    target, folder = scenario_file.resolve(), out.resolve().parent
    common = Path(os.path.commonpath([target, folder]))
    if common == Path(common.anchor):
        return target.as_posix()
    return Path(os.path.relpath(target, folder)).as_posix()


def calibrated_toml(
    extends: str, values: Mapping[str, Any], record: Calibration, name: str, scenario_name: str, targets: Targets
) -> str:
    """The calibrated scenario as TOML: extends, name, the fitted and fixed keys, and the [calibration] record."""
    spec = targets.spec
    fixed = ", ".join(f"{key} = {value!r}" for key, value in spec.set.items())
    last_seed = record.seed + record.replicates - 1
    header = [
        f"# Calibrated by `commsim calibrate` on {record.date}: {scenario_name} fitted to {targets.source}",
        f"# (Optuna study {record.study} in the results database: {record.trials} finished trials, best loss "
        f"{record.loss:.4g}).",
        f"# The best trial ran {record.months} months on seeds {record.seed}..{last_seed} (replicate r on seed + r):",
        "# running this file for that many months on those seeds reproduces its measures.",
    ]
    if fixed:
        header.append(f"# Fixed during the fit by the targets file's [set]: {fixed}.")
    data: dict[str, Any] = {"extends": extends, "name": name}
    data.update(apply_overrides({}, values, "calibration"))
    data["calibration"] = record.model_dump(mode="json")
    return "\n".join(header) + "\n" + tomli_w.dumps(data)


def write_calibrated(
    out: Path,
    extends: str,
    values: Mapping[str, Any],
    record: Calibration,
    scenario_name: str,
    targets: Targets,
) -> Scenario:
    """Write the calibrated scenario and load it back (so what is written is known to load)."""
    name = out.stem[:80]
    text = calibrated_toml(extends, values, record, name, scenario_name, targets)
    with outfiles.replacing(out) as written:  # beside `out`, so its relative `extends` resolves the same
        written.write_text(text, encoding="utf-8")
        try:
            return load_scenario(written)
        except ScenarioError as error:  # a bug, not bad input
            raise CalibrationError(f"{out}: the calibrated scenario does not load: {error}") from None


__all__ = [
    "CalibrationError",
    "CalibrationResult",
    "FitRow",
    "TrialReport",
    "calibrate",
    "evaluate",
    "weighted_loss",
]

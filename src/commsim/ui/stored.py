"""What the Compare and Sweeps pages read from the results store: the list of stored comparisons and sweeps, and
a stored comparison rebuilt as a `compare.Comparison` (the same object `commsim compare` summarises and reports).

Read only: these functions open the store without creating it, and read through the store's functions (the store
is the only place that talks SQL).
"""

from typing import Any

import pandas as pd

from commsim.runs.compare import Comparison
from commsim.scenario.loader import ScenarioError, validate
from commsim.store import database as results_store
from commsim.store.database import Store, StoreError


def database_url() -> str:
    """The database the app reads and writes: `commsim ui --db URL` (passed on as COMMSIM_DB), else the default."""
    return results_store.resolve_url(None)


def shown_database() -> str:
    """The app's database as a page may show it: the password hidden (`store.shown_url`)."""
    return results_store.shown_url(database_url())


def nothing_stored_yet(url: str) -> bool:
    """A SQLite database file that does not exist yet: nothing stored, which is no error for a page that lists."""
    path = results_store.sqlite_file(url)
    return path is not None and not path.exists()


def open_for_reading() -> Store:
    """The app's database, which must exist (a page that only reads never creates one)."""
    return results_store.open_store(database_url(), create=False)


def listing(kind: str) -> pd.DataFrame:
    """The app database's stored comparisons or sweeps (`store.list_batches`; none if the database file does not
    exist yet)."""
    if nothing_stored_yet(database_url()):
        return pd.DataFrame()
    results = open_for_reading()
    try:
        return results_store.list_batches(results, kind)
    finally:
        results.engine.dispose()  # a page lists on every refresh: no pooled connection left behind


def batch_label(row: Any) -> str:
    """How a batch is listed: "#12 baseline vs hrh2030_groups: 20 runs, 2026-11-23 14:05"."""
    when = pd.Timestamp(row["created_at"]).strftime("%Y-%m-%d %H:%M") if row["created_at"] is not None else ""
    return f"#{row['id']} {row['name']}: {row['runs']} runs, {when}"


def load_comparison(store: Store, batch_id: int) -> Comparison:
    """A stored comparison as a Comparison: its runs' monthly outputs labelled by scenario, the resolved scenario
    of each (from its first stored run), the baseline and seeds it recorded. Runs of scenarios that share a name
    are told apart by their parameters and labelled name, name-2, ... as `compare` labels them."""
    batch = results_store.get_batch(store, batch_id)
    if batch["kind"] != "compare":
        raise StoreError(f"database {store.url}: batch {batch_id} is a {batch['kind']}, not a comparison")
    frame = results_store.export(store, batch_id=batch_id)
    if frame.empty:
        raise StoreError(f"database {store.url}: comparison {batch_id} has no stored runs")
    runs = frame.drop_duplicates("run_id").sort_values("run_id")
    labels: dict[tuple[str, str], str] = {}
    for name, digest in zip(runs["scenario_name"], runs["scenario_hash"], strict=True):
        if (name, digest) not in labels:
            taken = sum(1 for other, _ in labels if other == name)
            labels[(name, digest)] = name if taken == 0 else f"{name}-{taken + 1}"
    frame["scenario"] = [labels[key] for key in zip(frame["scenario_name"], frame["scenario_hash"], strict=True)]
    scenarios = {}
    for (name, digest), label in labels.items():
        first = int(runs.loc[(runs["scenario_name"] == name) & (runs["scenario_hash"] == digest), "run_id"].iloc[0])
        record, _ = results_store.get_run(store, first)
        try:
            scenarios[label] = validate(record["parameters"], f"database {store.url}: run {first}")
        except ScenarioError as error:
            raise StoreError(str(error).splitlines()[0]) from None
    spec = batch["spec"] or {}
    baseline = spec.get("baseline")
    if baseline not in scenarios:
        baseline = "baseline" if "baseline" in scenarios else next(iter(scenarios))
    seeds = [int(s) for s in spec.get("seeds", sorted(runs["seed"].unique()))]
    lead = ["scenario", "replicate", "seed", "run_id"]
    outputs = [c for c in frame.columns if c not in (*lead, "batch_id", "scenario_name", "scenario_hash", "point")]
    order = [label for label in spec.get("scenarios", []) if label in scenarios]
    order += [label for label in scenarios if label not in order]
    position = {label: n for n, label in enumerate(order)}
    frame = frame[lead + outputs].sort_values(
        ["scenario", "replicate", "month"], key=lambda c: c.map(position) if c.name == "scenario" else c
    )
    frame = frame.reset_index(drop=True)
    scenarios = {label: scenarios[label] for label in order}
    run_ids = {
        (row.scenario, int(row.replicate)): int(row.run_id) for row in frame.drop_duplicates("run_id").itertuples()
    }
    return Comparison(scenarios, baseline, seeds, batch_id, frame, run_ids)

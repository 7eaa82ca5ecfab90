"""The results store on real databases: SQLite files and a throwaway PostgreSQL server (conftest.pg_server).

Schema creation and migration, what a run stores and how it reads back, all-or-nothing writes, concurrent
writers in separate processes, and bad databases (each a one-line StoreError naming the database, with the
data already stored left as it was).
"""

import inspect
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

import commsim
from commsim.model import metrics
from commsim.scenario import loader
from commsim.scenario.schema import Scenario
from commsim.store import database as store
from commsim.store.database import StoreError

TINY = {"population.households": 800, "population.villages": 8, "population.facilities": 2}
STARTED = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
TABLES = (store.VERSION_TABLE, "batches", "runs", "months")


def synthetic_timeseries(months: int, tag: int) -> "pd.DataFrame":
    """A made-up but well-formed timeseries (metrics.COLUMNS, months 0..months) that `tag` identifies: counts
    are whole numbers, the other columns fractions that need every bit of a double."""
    import numpy as np
    import pandas as pd

    from commsim.model import metrics

    month = np.arange(months + 1)
    data = {}
    for j, name in enumerate(metrics.COLUMNS):
        if name == "month":
            data[name] = month
        elif name in metrics.COUNTS:
            data[name] = tag * 100_000 + month * 100 + j
        else:
            data[name] = tag + month / 7 + j / 13 + 1 / 3
    return pd.DataFrame(data)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    """A URL for a database that does not exist yet (SQLite) or is empty (PostgreSQL)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'commsim.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def opened():
    """`open_store`, with every store it opened closed after the test."""
    stores: list[store.Store] = []

    def open_(url: str | None, **options) -> store.Store:
        result = store.open_store(url, **options)
        stores.append(result)
        return result

    yield open_
    for each in stores:
        each.engine.dispose()


@pytest.fixture(scope="module")
def tiny_run():
    """A real run of the model: 800 households, 6 months (the Python twin: no kernels to compile)."""
    from commsim.runs.run import run_scenario

    return run_scenario("baseline", months=6, backend="python", overrides=TINY)


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return loader.load_scenario("baseline", TINY)


def save(target: store.Store, scenario: Scenario, frame: pd.DataFrame, **options) -> int:
    return store.save_run(target, scenario, frame, backend="python", started_at=STARTED, finished_at=STARTED, **options)


def raw_engine(url: str) -> sa.Engine:
    """A plain engine, bypassing the store, for looking at (or tampering with) a database directly."""
    return sa.create_engine(url, poolclass=sa.NullPool)


def snapshot(url: str) -> dict[str, list]:
    """Every row of every commsim table, in key order."""
    engine = raw_engine(url)
    try:
        with engine.connect() as connection:
            present = set(sa.inspect(connection).get_table_names())
            result = {}
            for name in TABLES:
                if name in present:
                    table = sa.Table(name, sa.MetaData(), autoload_with=connection)
                    keys = list(table.primary_key.columns) or list(table.columns)
                    result[name] = [tuple(row) for row in connection.execute(sa.select(table).order_by(*keys))]
            return result
    finally:
        engine.dispose()


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes (the UTC wall time stored); PostgreSQL aware ones."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def assert_one_line_naming(error: StoreError, name: str) -> str:
    message = str(error)
    assert "\n" not in message, message
    assert message.startswith("database "), message
    assert name in message, message
    return message


# --- schema ---------------------------------------------------------------------------------------------------


def test_open_creates_the_schema_at_head_and_reopening_changes_nothing(db_url, opened, scenario):
    first = opened(db_url)
    assert store.schema_revision(first) == store.head_revision()
    assert set(TABLES) <= set(sa.inspect(first.engine).get_table_names())
    run_id = save(first, scenario, synthetic_timeseries(3, tag=1))
    before = snapshot(db_url)

    again = opened(db_url)
    assert store.schema_revision(again) == store.head_revision()
    assert snapshot(db_url) == before
    assert before[store.VERSION_TABLE] == [(store.head_revision(),)]
    assert store.list_runs(again)["id"].tolist() == [run_id]


def test_migrated_schema_matches_the_tables_the_code_uses(db_url, opened):
    """What the migrations build is exactly `store.metadata`: a column added to the code without a migration
    (or the other way round) fails here."""
    target = opened(db_url)
    with target.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, **store.VERSION_OPTS})
        assert compare_metadata(context, store.metadata) == []

        changed = sa.MetaData()
        for table in store.metadata.tables.values():
            table.to_metadata(changed)
        sa.Table("months", changed, sa.Column("new_output", sa.Float, nullable=False), extend_existing=True)
        diff = compare_metadata(context, changed)
    assert [(entry[0], entry[2], entry[3].name) for entry in diff] == [("add_column", "months", "new_output")]


def test_a_database_at_the_first_revision_is_upgraded_with_its_runs(db_url, opened):
    """A database made by the first migration, holding a run, comes up to the head revision with the run
    intact (the columns of that revision, read from the database itself, not from today's code); the outputs
    added since (the life course, the methods, the costs by category) are NULL for it, not 0."""
    script = ScriptDirectory(str(store.MIGRATIONS))
    first = next(rev.revision for rev in script.walk_revisions() if rev.down_revision is None)
    frame = synthetic_timeseries(4, tag=7)
    engine = raw_engine(db_url)
    try:
        with engine.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(store.MIGRATIONS))
            config.attributes["connection"] = connection
            command.upgrade(config, first)
            old = sa.MetaData()
            old.reflect(connection)
            run = {
                "scenario_name": "old",
                "scenario_hash": "0123456789abcdef",
                "parameters": {"name": "old"},
                "seed": 11,
                "replicate": 0,
                "backend": "numba",
                "households": 100,
                "months": 4,
                "version": "0.0.1",
                "started_at": STARTED,
                "finished_at": STARTED,
                "wall_seconds": 1.5,
                "status": "finished",
            }
            runs = old.tables["runs"]
            run_id = connection.execute(runs.insert().returning(runs.c.id), run).scalar_one()
            months = old.tables["months"]
            columns = [c.name for c in months.columns if c.name != "run_id"]
            rows = [{**row, "run_id": run_id} for row in frame[columns].to_dict("records")]
            connection.execute(months.insert(), rows)
            assert MigrationContext.configure(connection, opts=store.VERSION_OPTS).get_current_revision() == first
    finally:
        engine.dispose()

    upgraded = opened(db_url)
    assert store.schema_revision(upgraded) == store.head_revision()
    record, stored = store.get_run(upgraded, run_id)
    assert {key: record[key] for key in ("scenario_name", "seed", "months", "parameters")} == {
        "scenario_name": "old",
        "seed": 11,
        "months": 4,
        "parameters": {"name": "old"},
    }
    pd.testing.assert_frame_equal(stored[columns], frame[columns], check_exact=True)
    added = [name for name in metrics.COLUMNS if name not in columns]
    assert set(metrics.COST_BREAKDOWN) <= set(added) and stored[added].isna().all().all()


def test_a_newer_schema_is_refused_and_left_alone(db_url, opened, scenario):
    target = opened(db_url)
    save(target, scenario, synthetic_timeseries(2, tag=1))
    target.engine.dispose()
    engine = raw_engine(db_url)
    with engine.begin() as connection:
        connection.execute(sa.text(f"UPDATE {store.VERSION_TABLE} SET version_num = '9999'"))
    engine.dispose()
    before = snapshot(db_url)

    with pytest.raises(StoreError) as info:
        opened(db_url)
    message = assert_one_line_naming(info.value, db_url)
    assert "newer" in message and "9999" in message
    assert snapshot(db_url) == before
    assert before[store.VERSION_TABLE] == [("9999",)] and len(before["runs"]) == 1 and len(before["months"]) == 3


def test_a_foreign_runs_table_is_not_taken_over(db_url, opened):
    engine = raw_engine(db_url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE runs (id INTEGER PRIMARY KEY, note VARCHAR(20))"))
        connection.execute(sa.text("INSERT INTO runs VALUES (1, 'not ours')"))
    engine.dispose()

    with pytest.raises(StoreError) as info:
        opened(db_url)
    assert "not a commsim database" in assert_one_line_naming(info.value, db_url)
    assert snapshot(db_url) == {"runs": [(1, "not ours")]}


def test_an_early_database_with_alembics_default_version_table_is_adopted(db_url, opened, tiny_run):
    """Databases made before the revision moved to commsim_schema_version kept it in `alembic_version`: they
    open with their runs intact, and the old table is gone (Optuna uses that name in the same database)."""
    target = opened(db_url)
    run_id = save(target, tiny_run.scenario, tiny_run.timeseries)
    target.engine.dispose()
    engine = raw_engine(db_url)
    with engine.begin() as connection:
        connection.execute(sa.text(f"ALTER TABLE {store.VERSION_TABLE} RENAME TO alembic_version"))
    engine.dispose()

    reopened = opened(db_url)
    assert store.schema_revision(reopened) == store.head_revision()
    assert "alembic_version" not in sa.inspect(reopened.engine).get_table_names()
    _, ts = store.get_run(reopened, run_id)
    assert len(ts) == len(tiny_run.timeseries)


# --- what a run stores --------------------------------------------------------------------------------------------


def test_a_run_reads_back_exactly(db_url, opened, tiny_run):
    target = opened(db_url)
    spec = {"scenarios": ["baseline"], "replicates": 2, "months": 6, "seeds": [1, 2]}
    batch = store.new_batch(target, "compare", "baseline twice", spec)
    finished = STARTED + timedelta(seconds=12.25)
    run_id = store.save_run(
        target,
        tiny_run.scenario,
        tiny_run.timeseries,
        backend=tiny_run.backend,
        started_at=STARTED,
        finished_at=finished,
        replicate=1,
        batch_id=batch,
    )
    other_scenario = loader.load_scenario(tiny_run.scenario, {"name": "other", "seed": 99})
    other_frame = synthetic_timeseries(4, tag=3)
    other = save(target, other_scenario, other_frame)
    assert other != run_id

    record, frame = store.get_run(target, run_id)
    pd.testing.assert_frame_equal(frame, tiny_run.timeseries, check_exact=True)
    assert list(frame.columns) == list(metrics.COLUMNS)
    assert Scenario.model_validate(record["parameters"]) == tiny_run.scenario
    assert loader.load_scenario(record["parameters"]) == tiny_run.scenario
    assert record["seed"] == tiny_run.seed == tiny_run.scenario.seed
    assert record["scenario_hash"] == loader.scenario_hash(tiny_run.scenario, with_seed=False)
    assert {key: record[key] for key in ("scenario_name", "backend", "version", "households", "months")} == {
        "scenario_name": "baseline",
        "backend": "python",
        "version": commsim.__version__,
        "households": 800,
        "months": 6,
    }
    assert (record["batch_id"], record["replicate"], record["status"]) == (batch, 1, "finished")
    assert (as_utc(record["started_at"]), as_utc(record["finished_at"])) == (STARTED, finished)
    assert record["wall_seconds"] == 12.25

    other_record, stored_other = store.get_run(target, other)
    pd.testing.assert_frame_equal(stored_other, other_frame, check_exact=True)
    assert (other_record["seed"], other_record["batch_id"], other_record["months"]) == (99, None, 4)
    assert other_record["scenario_hash"] == record["scenario_hash"]  # the same parameters but for the seed

    with raw_engine(db_url).connect() as connection:
        kind, name, stored_spec = connection.execute(sa.select(store.batches.c["kind", "name", "spec"])).one()
    assert (kind, name, stored_spec) == ("compare", "baseline twice", spec)

    with pytest.raises(StoreError) as info:
        store.get_run(target, other + 1000)
    assert f"no run with id {other + 1000}" in assert_one_line_naming(info.value, db_url)


def test_list_runs_and_export_filter_by_scenario_and_batch(db_url, opened, tiny_run):
    target = opened(db_url)
    batch = store.new_batch(target, "sweep", "two seeds", {"seeds": [5, 6]})
    frames = {seed: synthetic_timeseries(3, tag=seed) for seed in (5, 6)}
    in_batch = [
        save(target, loader.load_scenario(tiny_run.scenario, {"seed": seed}), frames[seed], batch_id=batch, replicate=i)
        for i, seed in enumerate(frames)
    ]
    loose = save(target, loader.load_scenario(tiny_run.scenario, {"name": "other"}), tiny_run.timeseries)

    listed = store.list_runs(target)
    assert listed["id"].tolist() == [loose, *reversed(in_batch)]  # newest first
    assert listed["id"].is_unique
    final = listed.set_index("id")
    assert final.loc[loose, "mcpr"] == tiny_run.timeseries["mcpr"].iloc[-1]
    assert final.loc[loose, "cost_cumulative"] == tiny_run.timeseries["cost_cumulative"].iloc[-1]
    assert final.loc[in_batch[0], "mcpr"] == frames[5]["mcpr"].iloc[-1]
    assert store.list_runs(target, scenario="baseline")["id"].tolist() == in_batch[::-1]
    assert store.list_runs(target, scenario="other")["id"].tolist() == [loose]
    assert store.list_runs(target, batch_id=batch)["id"].tolist() == in_batch[::-1]
    assert store.list_runs(target, batch_id=batch)["batch_id"].tolist() == [batch, batch]
    assert store.list_runs(target, limit=1)["id"].tolist() == [loose]
    assert store.list_runs(target, scenario="nosuch").empty

    identity = ["run_id", "batch_id", "scenario_name", "scenario_hash", "seed", "replicate", "point"]
    everything = store.export(target)
    assert list(everything.columns) == [*identity, *metrics.COLUMNS]
    assert len(everything) == 4 + 4 + 7
    exported = store.export(target, batch_id=batch)
    assert exported["run_id"].tolist() == [in_batch[0]] * 4 + [in_batch[1]] * 4
    for seed, run_id in zip((5, 6), in_batch, strict=True):
        rows = exported[exported["run_id"] == run_id].reset_index(drop=True)
        assert set(rows["seed"]) == {seed} and set(rows["replicate"]) == {seed - 5}
        pd.testing.assert_frame_equal(rows[list(metrics.COLUMNS)], frames[seed], check_exact=True, check_names=False)
    exported = store.export(target, scenario="other").reset_index(drop=True)
    assert set(exported["run_id"]) == {loose}
    pd.testing.assert_frame_equal(exported[list(metrics.COLUMNS)], tiny_run.timeseries, check_exact=True)
    empty = store.export(target, scenario="nosuch")
    assert empty.empty and list(empty.columns) == [*identity, *metrics.COLUMNS]


def test_load_timeseries_returns_the_asked_runs_in_order(db_url, opened, scenario):
    target = opened(db_url)
    ids = [save(target, scenario, synthetic_timeseries(2, tag=tag)) for tag in (1, 2, 3)]
    loaded = store.load_timeseries(target, [ids[2], ids[0]])
    assert loaded["run_id"].tolist() == [ids[0]] * 3 + [ids[2]] * 3
    expected = pd.concat([synthetic_timeseries(2, tag=1), synthetic_timeseries(2, tag=3)], ignore_index=True)
    pd.testing.assert_frame_equal(loaded[list(metrics.COLUMNS)], expected, check_exact=True)


# --- all or nothing -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["nan in a count", "missing column"])
def test_a_run_is_stored_whole_or_not_at_all(db_url, opened, scenario, damage):
    target = opened(db_url)
    kept = save(target, scenario, synthetic_timeseries(3, tag=1))
    before = snapshot(db_url)

    bad = synthetic_timeseries(5, tag=2)
    if damage == "nan in a count":
        bad["users"] = bad["users"].astype(float)
        bad.loc[bad.index[-1], "users"] = np.nan  # the last month: the run row and earlier months go in first
        with pytest.raises(StoreError) as info:
            save(target, scenario, bad)
        assert_one_line_naming(info.value, db_url)
    else:
        with pytest.raises((StoreError, KeyError)):
            save(target, scenario, bad.drop(columns="fp_trained_chws"))
    assert snapshot(db_url) == before

    after = save(target, scenario, synthetic_timeseries(3, tag=3))  # the store still works
    assert after > kept
    assert store.list_runs(target)["id"].tolist() == [after, kept]


# --- concurrent writers ---------------------------------------------------------------------------------------------

WRITER = """
import json, sys, time
from datetime import UTC, datetime
from pathlib import Path

import alembic.command, alembic.runtime.migration, alembic.script  # everything imported before the start

from commsim.store import database as store
from commsim.scenario.loader import load_scenario

url, writer, count, months, ready, go = sys.argv[1:]
writer, count, months = int(writer), int(count), int(months)
base = load_scenario("baseline", {"population.households": 800})
work = [
    (load_scenario(base, {"seed": writer * 1000 + i}), synthetic_timeseries(months, writer * 1000 + i))
    for i in range(count)
]
Path(ready).touch()
while not Path(go).exists():
    time.sleep(0.002)
began = time.time()
target = store.open_store(url)  # the first opening of the database: the writers race to create the schema
ids = []
for i, (scenario, frame) in enumerate(work):
    now = datetime.now(UTC)
    ids.append(store.save_run(target, scenario, frame, backend="python", started_at=now, finished_at=now, replicate=i))
print(json.dumps({"ids": ids, "began": began, "ended": time.time()}))
"""
WRITERS, RUNS_EACH, WRITER_MONTHS = 2, 15, 12  # two: each writer spends ~2 s importing on 2 cores


@pytest.mark.slow
def test_concurrent_writers_lose_nothing(db_url, tmp_path):
    """Writer processes started together on a database none of them created save their runs at the same time;
    every run arrives with all its months, under its own id."""
    script = inspect.getsource(synthetic_timeseries) + WRITER
    go = tmp_path / "go"
    processes = []
    for writer in range(1, WRITERS + 1):
        ready = tmp_path / f"ready-{writer}"
        args = [db_url, writer, RUNS_EACH, WRITER_MONTHS, ready, go]
        command_line = [sys.executable, "-c", script, *map(str, args)]
        processes.append((ready, subprocess.Popen(command_line, stdout=subprocess.PIPE, stderr=subprocess.PIPE)))
    try:
        deadline = time.monotonic() + 60
        for ready, process in processes:
            while not ready.exists():
                if process.poll() is not None:
                    pytest.fail(f"writer exited early: {process.communicate()[1].decode()}")
                assert time.monotonic() < deadline, "writers did not get ready within 60 s"
                time.sleep(0.01)
        go.touch()
        reports = []
        for _, process in processes:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err.decode()
            reports.append(json.loads(out))
    finally:
        for _, process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()

    assert max(r["began"] for r in reports) < min(r["ended"] for r in reports), "the writers did not overlap"
    ids = [run_id for r in reports for run_id in r["ids"]]
    assert len(ids) == WRITERS * RUNS_EACH and len(set(ids)) == len(ids)

    target = store.open_store(db_url, create=False)
    try:
        listed = store.list_runs(target)
        assert sorted(listed["id"]) == sorted(ids)
        seeds = dict(zip(listed["id"], listed["seed"], strict=True))
        loaded = store.load_timeseries(target, ids)
    finally:
        target.engine.dispose()
    assert loaded.groupby("run_id").size().to_dict() == dict.fromkeys(ids, WRITER_MONTHS + 1)
    for run_id, frame in loaded.groupby("run_id"):
        expected = synthetic_timeseries(WRITER_MONTHS, tag=int(seeds[run_id]))
        stored = frame[list(metrics.COLUMNS)].reset_index(drop=True)
        pd.testing.assert_frame_equal(stored, expected, check_exact=True)
    assert {seed // 1000 for seed in seeds.values()} == set(range(1, WRITERS + 1))


def test_opening_a_new_file_waits_for_a_writer_instead_of_failing(tmp_path, opened):
    """Writers racing to create a store meet a file not yet in WAL mode while another holds its write lock;
    switching to WAL then fails at once with "database is locked" (SQLite's busy timeout does not cover it)
    unless the store waits its turn. Here the other writer holds the lock for 0.3 s."""
    path = tmp_path / "commsim.db"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        release = threading.Timer(0.3, other.execute, ["COMMIT"])
        release.start()
        started = time.monotonic()
        target = opened(f"sqlite:///{path}")
        waited = time.monotonic() - started
        release.join()
    finally:
        other.close()
    assert waited >= 0.25
    assert store.schema_revision(target) == store.head_revision()
    with target.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


# --- bad databases ------------------------------------------------------------------------------------------------


@pytest.fixture
def stored(tmp_path, opened, scenario) -> tuple[str, int]:
    """A SQLite store holding one run, closed; its URL and the run's id."""
    url = f"sqlite:///{tmp_path / 'kept' / 'commsim.db'}"
    target = opened(url)
    run_id = save(target, scenario, synthetic_timeseries(3, tag=4))
    target.engine.dispose()
    return url, run_id


@pytest.mark.parametrize(
    ("url", "expected"),
    [("not a url", "not a database URL"), ("nosuchdb://x", "nosuchdb")],
)
def test_a_bad_url_is_named_and_creates_nothing(url, expected, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(store.ENV_VAR, raising=False)
    with pytest.raises(StoreError) as info:
        store.open_store(url)
    assert expected in assert_one_line_naming(info.value, url)
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_server_is_named_without_its_password():
    from pg import free_port

    url = f"postgresql+psycopg://commsim:s3cret@127.0.0.1:{free_port()}/commsim"
    started = time.monotonic()
    with pytest.raises(StoreError) as info:
        store.open_store(url)
    message = assert_one_line_naming(info.value, "postgresql+psycopg://commsim:***@127.0.0.1")
    assert "cannot connect" in message and "s3cret" not in message
    assert time.monotonic() - started < 10


def test_a_missing_postgresql_database_is_named(pg_server):
    url = pg_server.url("commsim_no_such_database")
    with pytest.raises(StoreError) as info:
        store.open_store(url)
    assert "does not exist" in assert_one_line_naming(info.value, url)
    assert "commsim_no_such_database" not in pg_server.databases()


def test_a_read_only_uri_reads_but_refuses_writes(stored, opened, scenario):
    url, run_id = stored
    path = url.removeprefix("sqlite:///")
    before = snapshot(url)

    read_only = opened(f"sqlite:///file:{path}?mode=ro&uri=true")
    _, frame = store.get_run(read_only, run_id)
    pd.testing.assert_frame_equal(frame, synthetic_timeseries(3, tag=4), check_exact=True)
    for write in (
        lambda: save(read_only, scenario, synthetic_timeseries(3, tag=5)),
        lambda: store.new_batch(read_only, "compare", "x", {}),
    ):
        with pytest.raises(StoreError) as info:
            write()
        assert "read-only" in assert_one_line_naming(info.value, path)
    read_only.engine.dispose()
    assert snapshot(url) == before


READ_ONLY_WRITER = """
import json, os, sys
from datetime import UTC, datetime

import sqlite3  # imported while we may still read them: the standard library of root's Python is root's
import alembic.command, alembic.runtime.migration, alembic.script
import sqlalchemy.dialects.sqlite.pysqlite

from commsim.store import database as store
from commsim.scenario.loader import load_scenario

url = sys.argv[1]
scenario = load_scenario("baseline")
frame = synthetic_timeseries(3, 5)
store.head_revision()  # reads the migration scripts now, while the checkout may still be readable
if os.geteuid() == 0:  # root writes through file modes: become nobody first
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)
try:
    target = store.open_store(url)
    now = datetime.now(UTC)
    store.save_run(target, scenario, frame, backend="python", started_at=now, finished_at=now)
except store.StoreError as error:
    print(json.dumps({"uid": os.geteuid(), "error": str(error)}))
else:
    print(json.dumps({"uid": os.geteuid(), "error": None}))
"""


@pytest.mark.slow
def test_a_read_only_file_refuses_writes_and_keeps_its_runs(scenario, opened):
    """The file 0444 in a 0555 directory. Root would write regardless, so then the writer (a subprocess) drops
    to `nobody` before opening the store; the directory is outside pytest's root-only temporary tree."""
    directory = Path(tempfile.mkdtemp(prefix="commsim-ro-"))
    try:
        path = directory / "commsim.db"
        url = f"sqlite:///{path}"
        target = opened(url)
        run_id = save(target, scenario, synthetic_timeseries(3, tag=4))
        target.engine.dispose()
        before = snapshot(url)
        path.chmod(0o444)
        directory.chmod(0o555)

        script = inspect.getsource(synthetic_timeseries) + READ_ONLY_WRITER
        result = subprocess.run(
            [sys.executable, "-c", script, url], capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["uid"] != 0
        assert report["error"] is not None, "a read-only database took a run"
        assert "read-only" in assert_one_line_naming(StoreError(report["error"]), url)

        directory.chmod(0o755)
        path.chmod(0o644)
        assert snapshot(url) == before
        assert store.list_runs(opened(url))["id"].tolist() == [run_id]
    finally:
        directory.chmod(0o755)
        for child in directory.iterdir():
            child.unlink()
        directory.rmdir()


def test_create_false_on_a_missing_file_creates_nothing(tmp_path, opened, stored):
    missing = tmp_path / "nowhere" / "commsim.db"
    with pytest.raises(StoreError) as info:
        opened(f"sqlite:///{missing}", create=False)
    assert "no such file" in assert_one_line_naming(info.value, str(missing))
    assert not missing.parent.exists()

    url, run_id = stored  # an existing one opens for reading
    assert store.list_runs(opened(url, create=False))["id"].tolist() == [run_id]


def test_the_database_comes_from_the_environment_else_results(tmp_path, monkeypatch, opened):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "elsewhere.db"
    monkeypatch.setenv(store.ENV_VAR, f"sqlite:///{path}")
    assert opened(None).url == f"sqlite:///{path}"
    assert path.is_file()
    assert opened("sqlite:///explicit.db").url == "sqlite:///explicit.db"  # --db wins
    assert (tmp_path / "explicit.db").is_file()

    monkeypatch.delenv(store.ENV_VAR)
    default = opened(None)
    assert default.url == "sqlite:///results/commsim.db"
    assert (tmp_path / "results" / "commsim.db").is_file()
    assert store.schema_revision(default) == store.head_revision()


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (
            "postgresql+psycopg://ana:s3cret@db.example:5432/commsim",
            "postgresql+psycopg://ana:***@db.example:5432/commsim",
        ),
        ("postgresql://ana:p@ss@host/db", "postgresql://ana:***@host/db"),  # an unescaped @ in the password
        ("postgresql://ana:s3cret@host:abc/db", "postgresql://ana:***@host:abc/db"),  # unparsable: masked all the same
        ("postgresql://ana@host/db", "postgresql://ana@host/db"),
        ("sqlite:///results/commsim.db", "sqlite:///results/commsim.db"),
    ],
)
def test_shown_urls_never_carry_the_password(raw, shown):
    assert store.shown_url(raw) == shown


def test_a_port_that_is_not_a_number_is_named_without_the_password():
    with pytest.raises(StoreError) as caught:
        store.open_store("postgresql+psycopg://ana:s3cret@host:abc/db")
    message = str(caught.value)
    assert "s3cret" not in message and "int()" not in message
    assert "port must be a number" in message and "'abc'" in message


@pytest.mark.slow
def test_a_read_only_results_folder_is_named_as_the_reason(scenario):
    """A new database in a 0555 folder (the writer drops to `nobody`, as above): the message says the folder must
    be writable, not only SQLite's "unable to open database file"."""
    directory = Path(tempfile.mkdtemp(prefix="commsim-ro-dir-"))
    try:
        directory.chmod(0o555)
        url = f"sqlite:///{directory / 'commsim.db'}"
        script = inspect.getsource(synthetic_timeseries) + READ_ONLY_WRITER
        result = subprocess.run(
            [sys.executable, "-c", script, url], capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["uid"] != 0 and report["error"] is not None
        message = assert_one_line_naming(StoreError(report["error"]), url)
        assert "folder must exist and be writable" in message
        assert list(directory.iterdir()) == []
    finally:
        directory.chmod(0o755)
        shutil.rmtree(directory)

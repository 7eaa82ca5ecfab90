"""The results store: every run with its full parameters and its monthly outputs (SQLAlchemy 2.x).

SQLite at `results/commsim.db` by default (WAL: readers never block the writer, and write transactions take
the lock up front, so concurrent writers wait instead of failing); any SQLAlchemy URL through `--db` or
`COMMSIM_DB`. The schema carries an Alembic revision: opening a store brings an older database up to date
through the migrations in `commsim/migrations` and refuses one newer than this code. A run is written in one
transaction, so it is stored whole or not at all.
"""

import os
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Engine, make_url

from commsim import __version__
from commsim.errors import CommsimError
from commsim.model import metrics
from commsim.scenario.loader import scenario_hash
from commsim.scenario.schema import Scenario

ENV_VAR = "COMMSIM_DB"
DEFAULT_PATH = Path("results") / "commsim.db"
MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "commsim_schema_version"  # not Alembic's default name: Optuna keeps its own in the same database
VERSION_OPTS = {"version_table": VERSION_TABLE}
BUSY_TIMEOUT_S = 120  # how long a SQLite writer waits for another to finish
EXAMPLES = "e.g. sqlite:///results/commsim.db or postgresql+psycopg://user@host:5432/commsim"

metadata = sa.MetaData()

batches = sa.Table(
    "batches",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),  # compare | sweep
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("spec", sa.JSON, nullable=False),  # what was asked: scenarios, reps, months, seeds...
    sa.Column("key", sa.String(32), nullable=True, index=True),  # a sweep's experiment hash: how it resumes
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id"), nullable=True, index=True),
    sa.Column("scenario_name", sa.String(200), nullable=False, index=True),
    sa.Column("scenario_hash", sa.String(16), nullable=False, index=True),  # every parameter but the seed
    sa.Column("parameters", sa.JSON, nullable=False),  # the resolved scenario, seed included
    sa.Column("seed", sa.BigInteger, nullable=False),
    sa.Column("replicate", sa.Integer, nullable=False),
    sa.Column("point", sa.Integer, nullable=True),  # a sweep's design point
    sa.Column("backend", sa.String(16), nullable=False),
    sa.Column("households", sa.Integer, nullable=False),
    sa.Column("months", sa.Integer, nullable=False),
    sa.Column("version", sa.String(32), nullable=False),  # commsim version that ran it
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("wall_seconds", sa.Float, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # finished
    sa.Index("uq_runs_batch_point_replicate", "batch_id", "point", "replicate", unique=True),
)

series = sa.Table(
    "months",
    metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("month", sa.Integer, primary_key=True),
    *(
        sa.Column(
            name,
            sa.BigInteger if name in metrics.COUNTS else sa.Float,
            nullable=name in metrics.ADDED,  # runs stored before these have none
        )
        for name in metrics.COLUMNS
        if name != "month"
    ),
)

services = sa.Table(  # what each facility recorded (model.services): stored for runs and comparisons
    "service_statistics",
    metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("month", sa.Integer, primary_key=True),
    sa.Column("facility", sa.Integer, primary_key=True),
    sa.Column("element", sa.String(32), primary_key=True),
    sa.Column("method", sa.String(16), primary_key=True),
    sa.Column("value", sa.Float, nullable=False),
)

RUN_COLUMNS = (
    "id",
    "batch_id",
    "scenario_name",
    "scenario_hash",
    "seed",
    "replicate",
    "point",
    "backend",
    "households",
    "months",
    "version",
    "started_at",
    "finished_at",
    "wall_seconds",
    "status",
)


DATABASE_ERRORS = (exc.SQLAlchemyError,)  # what the database library raises, for code that reaches it another way


class StoreError(CommsimError):
    """A database that cannot be opened, read or written; the message names the URL and what went wrong."""


@dataclass(frozen=True)
class Store:
    """An open, up-to-date results database."""

    engine: Engine
    url: str  # as shown to users: the password hidden


def resolve_url(db: str | None = None) -> str:
    """`--db`, else `COMMSIM_DB`, else SQLite at results/commsim.db (relative to the working directory)."""
    return db or os.environ.get(ENV_VAR) or f"sqlite:///{DEFAULT_PATH}"


def open_store(db: str | None = None, *, create: bool = True) -> Store:
    """Open (creating or migrating as needed) the database at `db` (see `resolve_url`). With `create=False` a
    missing SQLite file is an error instead of a new database (for commands that only read)."""
    raw = resolve_url(db)
    url = parse_url(raw)
    shown = shown_url(raw)
    if url.get_backend_name() == "sqlite":
        _prepare_sqlite_file(url, shown, create)
    try:
        engine = sa.create_engine(url, **_engine_options(url))
    except (exc.NoSuchModuleError, ImportError):
        raise StoreError(f"database {shown}: unknown kind of database {url.drivername!r} ({EXAMPLES})") from None
    except exc.ArgumentError as error:
        raise StoreError(f"database {shown}: {_first_line(error)} ({EXAMPLES})") from None
    if url.get_backend_name() == "sqlite":
        _sqlite_events(engine)
    store = Store(engine, shown)
    try:
        with errors_named(store):
            _migrate(engine)
    except BaseException:
        engine.dispose()  # no connection left open to a database we refused
        raise
    return store


_USERINFO_PASSWORD = re.compile(r"^(?P<head>[^:/?#]*://[^:/?#@]*:)(?P<password>.*)@")


def shown_url(raw: str) -> str:
    """A database URL as it may be shown anywhere (console, page, report, stored record): the password between
    `user:` and the host's `@` replaced by ***, whether or not the rest of the URL parses."""
    return _USERINFO_PASSWORD.sub(lambda m: f"{m['head']}***@", raw, count=1)


def _sqlite_path(url: URL) -> Path | None:
    """The file of a SQLite URL; None for a server, an in-memory database or a `file:` URI."""
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def sqlite_file(raw: str) -> Path | None:
    """The file a database URL names, if it is a plain SQLite file (None otherwise, or if it is no URL)."""
    try:
        return _sqlite_path(parse_url(raw))
    except StoreError:
        return None


def database_files(store: Store) -> list[Path]:
    """The files of a SQLite database (with its journal files), which no output may replace; none for a server."""
    path = _sqlite_path(store.engine.url)
    return [] if path is None else [Path(f"{path}{suffix}") for suffix in ("", "-wal", "-shm", "-journal")]


def parse_url(raw: str) -> URL:
    """`raw` as a database URL; StoreError (password masked) if it is not one. Every URL commsim takes passes here."""
    try:
        return make_url(raw)
    except exc.ArgumentError:
        raise StoreError(f"database {shown_url(raw)!r}: not a database URL ({EXAMPLES})") from None
    except ValueError as error:  # SQLAlchemy reads the port with int(): a bad port, or a host it misread
        port = str(error).rpartition(": ")[2].strip()
        raise StoreError(
            f"database {shown_url(raw)!r}: the port must be a number from 1 to 65535 (after the host and ':'; an "
            f"IPv6 host goes in brackets, [::1]), got {port} ({EXAMPLES})"
        ) from None


def _prepare_sqlite_file(url: URL, shown: str, create: bool) -> None:
    path = _sqlite_path(url)
    if path is None:
        return
    if not create and not path.exists():
        raise StoreError(f"database {shown}: no such file (nothing stored yet? `commsim run` stores runs)")
    if path.exists() and path.is_dir():
        raise StoreError(f"database {shown}: {path} is a directory")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(f"database {shown}: cannot create {path.parent}: {error.strerror or error}") from None


def _engine_options(url: URL) -> dict[str, Any]:
    if url.get_backend_name() == "sqlite":
        return {"connect_args": {"timeout": BUSY_TIMEOUT_S}}
    return {"pool_pre_ping": True}


def _sqlite_events(engine: Engine) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE: a writer takes the lock when its transaction starts, so two
    processes wait their turn (busy timeout) instead of one failing when it upgrades a read lock."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN below
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA foreign_keys = ON")
        # Switching a brand-new file to WAL needs its lock for a moment, and SQLite answers another process
        # switching at the same time with "database is locked" at once (no busy timeout here): retry.
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                cursor.execute("PRAGMA journal_mode = WAL")
                break
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _alembic_config(connection: sa.Connection):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def schema_revision(store: Store) -> str | None:
    """The Alembic revision the database is at."""
    from alembic.runtime.migration import MigrationContext

    with errors_named(store), store.engine.connect() as connection:
        return MigrationContext.configure(connection, opts=VERSION_OPTS).get_current_revision()


@cache
def _migrations():
    """The migration scripts, read once per process (every open of a store asks for the head revision)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS))


def head_revision() -> str:
    """The newest schema revision this code knows."""
    return _migrations().get_current_head()


def _migrate(engine: Engine) -> None:
    """Bring the schema to the head revision inside one transaction (serialised between processes)."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    script = _migrations()
    head = script.get_current_head()
    with engine.connect() as connection:
        if MigrationContext.configure(connection, opts=VERSION_OPTS).get_current_revision() == head:
            return
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(7316101)"))  # one migrator at a time
        current = MigrationContext.configure(connection, opts=VERSION_OPTS).get_current_revision()
        if current == head:
            return
        known = {rev.revision for rev in script.walk_revisions()}
        if current is not None and current not in known:
            raise StoreError(
                f"schema revision {current} is newer than this commsim {__version__} knows (up to {head}): "
                "upgrade commsim to use this database"
            )
        config = _alembic_config(connection)
        if current is None and sa.inspect(connection).has_table("runs"):
            command.stamp(config, _adopt_early_version_table(connection, known))
        command.upgrade(config, "head")


def _adopt_early_version_table(connection: sa.Connection, known: set[str]) -> str:
    """Databases made before the revision moved to VERSION_TABLE kept it in Alembic's default
    `alembic_version`: take it over (and drop it, so Optuna can use that name). Anything else is refused."""
    old = None
    if sa.inspect(connection).has_table("alembic_version"):
        old = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    if old not in known:
        raise StoreError("has a 'runs' table but no schema revision: not a commsim database")
    connection.execute(sa.text("DROP TABLE alembic_version"))
    return old


@contextmanager
def errors_named(store: Store) -> Iterator[None]:
    """Turn database errors into one StoreError naming the URL."""
    try:
        yield
    except StoreError as error:
        if str(error).startswith("database "):
            raise
        raise StoreError(f"database {store.url}: {error}") from None
    except (exc.DBAPIError, exc.SQLAlchemyError) as error:
        raise StoreError(f"database {store.url}: {_reason(error)}") from None


def _reason(error: Exception) -> str:
    cause = getattr(error, "orig", None) or error
    text = _first_line(cause)
    if "readonly" in text or "read-only" in text:
        return f"{text} (the file or its directory is read-only)"
    if "connection refused" in text.lower() or "could not connect" in text.lower():
        return f"cannot connect: {text}"
    if "unable to open database file" in text:
        return (
            f"{text}: the file cannot be created or opened; its folder must exist and be writable (SQLite keeps "
            "-wal and -shm files beside the database)"
        )
    return text


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _now() -> datetime:
    return datetime.now(UTC)


class DuplicateRun(StoreError):
    """A sweep's run (batch, point, replicate) that another process stored first."""


def new_batch(store: Store, kind: str, name: str, spec: Mapping[str, Any], *, key: str | None = None) -> int:
    """Record a comparison or sweep; its runs point at it. `key` identifies a sweep for resuming."""
    with errors_named(store), store.engine.begin() as connection:
        row = {"kind": kind, "name": name, "created_at": _now(), "spec": dict(spec), "key": key}
        return int(connection.execute(batches.insert().returning(batches.c.id), row).scalar_one())


def find_batch(store: Store, kind: str, key: str) -> int | None:
    """The oldest batch of this kind and key (a sweep being resumed), if any."""
    query = sa.select(batches.c.id).where(batches.c.kind == kind, batches.c.key == key).order_by(batches.c.id)
    with errors_named(store), store.engine.connect() as connection:
        found = connection.execute(query.limit(1)).scalar()
    return None if found is None else int(found)


def get_batch(store: Store, batch_id: int) -> dict[str, Any]:
    """One batch's record; StoreError if there is none."""
    with errors_named(store), store.engine.connect() as connection:
        record = connection.execute(sa.select(batches).where(batches.c.id == batch_id)).mappings().first()
    if record is None:
        raise StoreError(f"database {store.url}: no comparison or sweep with id {batch_id}")
    return dict(record)


def list_batches(store: Store, kind: str) -> pd.DataFrame:
    """Stored comparisons (kind "compare") or sweeps ("sweep"), newest first: id, name, created_at, spec and the
    number of runs stored. Runs are counted in a subquery: grouping by the JSON spec fails on PostgreSQL."""
    counted = sa.select(runs.c.batch_id, sa.func.count(runs.c.id).label("runs")).group_by(runs.c.batch_id).subquery()
    query = (
        sa.select(
            batches.c.id,
            batches.c.name,
            batches.c.created_at,
            batches.c.spec,
            sa.func.coalesce(counted.c.runs, 0).label("runs"),
        )
        .select_from(batches.outerjoin(counted, counted.c.batch_id == batches.c.id))
        .where(batches.c.kind == kind)
        .order_by(batches.c.id.desc())
    )
    with errors_named(store), store.engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    return pd.DataFrame(rows, columns=["id", "name", "created_at", "spec", "runs"])


def finished_runs(store: Store, batch_id: int) -> set[tuple[int, int]]:
    """(point, replicate) of every run a sweep has stored."""
    query = sa.select(runs.c.point, runs.c.replicate).where(runs.c.batch_id == batch_id)
    with errors_named(store), store.engine.connect() as connection:
        return {(int(p), int(r)) for p, r in connection.execute(query) if p is not None}


def month_rows(timeseries: pd.DataFrame) -> list[dict[str, Any]]:
    """A run's monthly outputs as the rows `save_run` inserts (plain Python values). Workers of a sweep make
    them, so the one process that stores every run does not spend its time converting frames."""
    return timeseries[[c.name for c in series.columns if c.name != "run_id"]].to_dict("records")


def save_run(
    store: Store,
    scenario: Scenario,
    timeseries: pd.DataFrame | list[dict[str, Any]],
    *,
    backend: str,
    started_at: datetime,
    finished_at: datetime,
    replicate: int = 0,
    point: int | None = None,
    batch_id: int | None = None,
    service_statistics: pd.DataFrame | None = None,
) -> int:
    """Store one finished run, its monthly outputs (a frame, or its `month_rows`) and its service statistics (if
    given: `model.services.long_table`) in one transaction; returns the run id. A sweep's run that is already
    stored (same batch, point and replicate) raises DuplicateRun and stores nothing."""
    rows = month_rows(timeseries) if isinstance(timeseries, pd.DataFrame) else [dict(row) for row in timeseries]
    run = {
        "batch_id": batch_id,
        "scenario_name": scenario.name,
        "scenario_hash": scenario_hash(scenario, with_seed=False),
        "parameters": scenario.model_dump(mode="json"),
        "seed": scenario.seed,
        "replicate": replicate,
        "point": point,
        "backend": backend,
        "households": scenario.population.households,
        "months": int(rows[-1]["month"]),
        "version": __version__,
        "started_at": started_at,
        "finished_at": finished_at,
        "wall_seconds": (finished_at - started_at).total_seconds(),
        "status": "finished",
    }
    try:
        with store.engine.begin() as connection:
            run_id = int(connection.execute(runs.insert().returning(runs.c.id), run).scalar_one())
            for row in rows:
                row["run_id"] = run_id
            connection.execute(series.insert(), rows)
            if service_statistics is not None and not service_statistics.empty:
                records = service_statistics.assign(run_id=run_id).to_dict("records")
                connection.execute(services.insert(), records)
    except exc.IntegrityError as error:
        reason = _reason(error)
        if point is not None and ("unique" in reason.lower() or "duplicate" in reason.lower()):
            where = f"run {point}/{replicate} of batch {batch_id}"
            raise DuplicateRun(f"database {store.url}: {where} is already stored") from None
        raise StoreError(f"database {store.url}: {reason}") from None
    except (exc.DBAPIError, exc.SQLAlchemyError) as error:
        raise StoreError(f"database {store.url}: {_reason(error)}") from None
    return run_id


def list_runs(
    store: Store, *, scenario: str | None = None, batch_id: int | None = None, limit: int | None = None
) -> pd.DataFrame:
    """Stored runs, newest first, with their final mCPR and cumulative cost."""
    final = series.alias("final")
    query = (
        sa.select(*(runs.c[name] for name in RUN_COLUMNS), final.c.mcpr, final.c.cost_cumulative)
        .join(final, sa.and_(final.c.run_id == runs.c.id, final.c.month == runs.c.months))
        .order_by(runs.c.id.desc())
    )
    if scenario is not None:
        query = query.where(runs.c.scenario_name == scenario)
    if batch_id is not None:
        query = query.where(runs.c.batch_id == batch_id)
    if limit is not None:
        query = query.limit(limit)
    with errors_named(store), store.engine.connect() as connection:
        return pd.DataFrame(
            connection.execute(query).mappings().all(), columns=[*RUN_COLUMNS, "mcpr", "cost_cumulative"]
        )


def get_run(store: Store, run_id: int) -> tuple[dict[str, Any], pd.DataFrame]:
    """One run's record (parameters included) and its monthly outputs; StoreError if there is no such run."""
    with errors_named(store), store.engine.connect() as connection:
        record = connection.execute(sa.select(runs).where(runs.c.id == run_id)).mappings().first()
        if record is None:
            raise StoreError(f"database {store.url}: no run with id {run_id}")
        frame = timeseries(connection, [run_id])
    return dict(record), frame.drop(columns="run_id")


def timeseries(connection: sa.Connection, run_ids: Iterable[int]) -> pd.DataFrame:
    """Monthly outputs of the given runs, ordered by run and month."""
    ids = list(run_ids)
    query = sa.select(series).where(series.c.run_id.in_(ids)).order_by(series.c.run_id, series.c.month)
    return pd.DataFrame(connection.execute(query).mappings().all(), columns=[c.name for c in series.columns])


def service_statistics(store: Store, run_id: int) -> pd.DataFrame:
    """A run's stored service statistics (month, facility, element, method, value), ordered; empty if it has
    none (a sweep's run, or one stored before they were recorded)."""
    query = (
        sa.select(services.c.month, services.c.facility, services.c.element, services.c.method, services.c.value)
        .where(services.c.run_id == run_id)
        .order_by(services.c.month, services.c.facility, services.c.element, services.c.method)
    )
    with errors_named(store), store.engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    return pd.DataFrame(rows, columns=["month", "facility", "element", "method", "value"])


def export_service_statistics(
    store: Store, *, scenario: str | None = None, batch_id: int | None = None
) -> tuple[pd.DataFrame, dict[int, dict[str, Any]]]:
    """The stored service statistics of the selected runs (run_id, month, facility, element, method, value) and
    each run's stored parameters (its resolved scenario: the calendar start, a district from files)."""
    query = (
        sa.select(services, runs.c.parameters)
        .join(runs, runs.c.id == services.c.run_id)
        .order_by(services.c.run_id, services.c.month, services.c.facility, services.c.element, services.c.method)
    )
    if scenario is not None:
        query = query.where(runs.c.scenario_name == scenario)
    if batch_id is not None:
        query = query.where(runs.c.batch_id == batch_id)
    with errors_named(store), store.engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    parameters = {int(row["run_id"]): row["parameters"] for row in rows}
    frame = pd.DataFrame(rows, columns=[c.name for c in services.columns])
    return frame, parameters


def load_timeseries(store: Store, run_ids: Iterable[int]) -> pd.DataFrame:
    """`timeseries` on a fresh connection."""
    with errors_named(store), store.engine.connect() as connection:
        return timeseries(connection, run_ids)


def final_outputs(store: Store, batch_id: int, columns: Iterable[str]) -> pd.DataFrame:
    """The last month of every run of a batch: run_id, point, replicate, seed and `columns`. Reads one row per
    run, not every month, so a 10,000-run sweep is analysed without loading its whole time series."""
    wanted = [series.c[name] for name in columns]
    query = (
        sa.select(runs.c.id.label("run_id"), runs.c.point, runs.c.replicate, runs.c.seed, *wanted)
        .join(series, sa.and_(series.c.run_id == runs.c.id, series.c.month == runs.c.months))
        .where(runs.c.batch_id == batch_id)
        .order_by(runs.c.point, runs.c.replicate)
    )
    with errors_named(store), store.engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    return pd.DataFrame(rows, columns=["run_id", "point", "replicate", "seed", *(c.name for c in wanted)])


def export(store: Store, *, scenario: str | None = None, batch_id: int | None = None) -> pd.DataFrame:
    """One row per run and month: the run's identity (scenario, hash, seed, replicate, ...) then its outputs."""
    names = ("id", "batch_id", "scenario_name", "scenario_hash", "seed", "replicate", "point")
    identity = [runs.c[name] for name in names]
    query = (
        sa.select(*identity, *(c for c in series.columns if c.name != "run_id"))
        .join(series, series.c.run_id == runs.c.id)
        .order_by(runs.c.id, series.c.month)
    )
    if scenario is not None:
        query = query.where(runs.c.scenario_name == scenario)
    if batch_id is not None:
        query = query.where(runs.c.batch_id == batch_id)
    with errors_named(store), store.engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).mappings().all())
    if frame.empty:
        frame = pd.DataFrame(columns=[c.name for c in identity] + [c.name for c in series.columns][1:])
    return frame.rename(columns={"id": "run_id"})

"""Shared small fixtures. Keep them cheap: a tiny district runs 12 months in well under a second once compiled."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# A district small enough for quick end-to-end runs (tests have no terminal, so no progress bar is drawn).
SMALL_RUN_ARGS: tuple[str, ...] = (
    "--households",
    "1500",
    "--months",
    "12",
    "--set",
    "population.villages=12",
    "--set",
    "population.facilities=3",
)


@pytest.fixture(scope="session")
def small_run_args() -> list[str]:
    """CLI options for a fast run: 1,500 households, 12 villages, 3 facilities, 12 months."""
    return list(SMALL_RUN_ARGS)


@pytest.fixture
def tiny_scenario(tmp_path: Path) -> Path:
    """A minimal scenario file (every parameter at its default) in a temporary directory."""
    path = tmp_path / "tiny.toml"
    path.write_text('name = "tiny"\ndescription = "A tiny test district. Defaults everywhere."\n', encoding="utf-8")
    return path


@pytest.fixture(autouse=True, scope="session")
def results_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Every run the tests store goes to a SQLite file of the session (COMMSIM_DB), never to the checkout's
    results/; session-scoped so module-scoped fixtures that run the CLI see it too."""
    url = f"sqlite:///{tmp_path_factory.mktemp('store') / 'results.db'}"
    before = os.environ.get("COMMSIM_DB")
    os.environ["COMMSIM_DB"] = url
    yield url
    if before is None:
        del os.environ["COMMSIM_DB"]
    else:
        os.environ["COMMSIM_DB"] = before


@pytest.fixture(scope="session")
def pg_server():
    """A throwaway PostgreSQL server for the whole session (see tests/pg.py), stopped at the end even when
    tests fail. Missing server binaries fail the tests that need it: PostgreSQL is part of the test setup."""
    import pg

    try:
        server = pg.start_server()
    except pg.PostgresUnavailable as error:
        problem = str(error)
    else:
        problem = None
    if problem is not None:
        pytest.fail(f"cannot start a PostgreSQL test server: {problem}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server) -> Iterator[str]:
    """The URL of a new empty database on the session's PostgreSQL server, dropped after the test."""
    name = pg_server.create_database()
    try:
        yield pg_server.url(name)
    finally:
        pg_server.drop_database(name)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Test tiers: a test that needs the PostgreSQL server (by its fixtures, or a `postgresql` parameter) is
    marked `postgres`, so `-m "not postgres"` leaves it out with no list to keep up to date."""
    for item in items:
        if {"pg_server", "pg_url"} & set(getattr(item, "fixturenames", ())) or "postgres" in item.name:
            item.add_marker(pytest.mark.postgres)

"""Shared fixtures of the scheduling tests: configs, databases, a Radicale server and an ICS feed."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from storage.clock import FixedClock
from storage.database import make_engine
from tests.conftest import DatabaseFactory
from tests.scheduling.support import POSTGRES_URL, FeedServer, RadicaleServer, jst, prepare_booking_tables


@pytest.fixture
def clock() -> FixedClock:
    """Wednesday 2026-11-25 10:00 in Japan."""
    return FixedClock(jst(2026, 11, 25, 10, 0))


# --- databases ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    """SQLite files, empty or migrated (copies of one migrated once), whatever the database under test."""
    yield DatabaseFactory(None, lambda: tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="session")
def postgres_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    """PostgreSQL databases of the tests' own (see POSTGRES_URL), all dropped at the end of the run."""
    if not POSTGRES_URL:
        pytest.skip("MADOGUCHI_TEST_POSTGRES_URL (or a PostgreSQL MADOGUCHI_TEST_DATABASE_URL) is not set")
    factory = DatabaseFactory(POSTGRES_URL, lambda: tmp_path_factory.mktemp("unused"))
    yield factory
    factory.drop_all()


@pytest.fixture
def sqlite_engine(sqlite_databases: DatabaseFactory) -> Iterator[Engine]:
    """A fresh SQLite file database set up as the application sets it up."""
    engine = make_engine(sqlite_databases(migrated=True))
    prepare_booking_tables(engine, migrate=False)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_engine(postgres_databases: DatabaseFactory) -> Iterator[Engine]:
    """A fresh PostgreSQL database of this test's own, dropped at the end of the run."""
    engine = make_engine(postgres_databases(migrated=True), pool_size=60, max_overflow=0)
    try:
        prepare_booking_tables(engine, migrate=False)
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def any_engine(request: pytest.FixtureRequest) -> Engine:
    """Each test runs on SQLite and, when configured, on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_engine")


@pytest.fixture
def session_factory(any_engine: Engine) -> sessionmaker:
    return sessionmaker(any_engine, expire_on_commit=False)


# --- servers -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RadicaleServer]:
    """A real Radicale CalDAV server with authentication, on a free loopback port."""
    server = RadicaleServer(tmp_path_factory.mktemp("radicale"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def feed() -> Iterator[FeedServer]:
    server = FeedServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def set_tz() -> Iterator[Callable[[str], None]]:
    """Changes the process time zone for the test, and puts it back."""
    before = os.environ.get("TZ")

    def change(name: str) -> None:
        os.environ["TZ"] = name
        time.tzset()

    yield change
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()

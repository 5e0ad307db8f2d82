"""Shared fixtures of the scheduling tests: configs, databases, a Radicale server and an ICS feed."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import sessionmaker

from storage.clock import FixedClock
from storage.database import make_engine
from tests.scheduling.support import POSTGRES_URL, FeedServer, RadicaleServer, jst, prepare_booking_tables


@pytest.fixture
def clock() -> FixedClock:
    """Wednesday 2026-11-25 10:00 in Japan."""
    return FixedClock(jst(2026, 11, 25, 10, 0))


# --- databases ---------------------------------------------------------------------------------------


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A fresh SQLite file database set up as the application sets it up."""
    engine = make_engine(f"sqlite:///{tmp_path / 'bookings.db'}")
    prepare_booking_tables(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    """A fresh PostgreSQL database of this test's own, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("MADOGUCHI_TEST_POSTGRES_URL (or a PostgreSQL MADOGUCHI_TEST_DATABASE_URL) is not set")
    admin_url = make_url(POSTGRES_URL)
    name = f"madoguchi_race_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(
        admin_url.set(database=name).render_as_string(hide_password=False), pool_size=60, max_overflow=0
    )
    try:
        prepare_booking_tables(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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

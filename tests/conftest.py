"""Shared fixtures: a migrated database (SQLite, or PostgreSQL when MADOGUCHI_TEST_DATABASE_URL is set),
a rolled-back transaction per test, a fixed clock, the shipped desk config, and a chat driver."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import NullPool

from bot.engine import IntakeEngine
from bot.reminders import uninstall_reminders
from config import DeskConfig, load_desk_config
from handlers.app import create_app
from handlers.services import Services
from handlers.settings import Settings
from storage.clock import JST, FixedClock
from storage.crypto import Keyring, configure_keyring, generate_key
from storage.database import Database, upgrade_schema

TEST_KEY = generate_key()


def pytest_report_header(config: pytest.Config) -> str:
    url = os.environ.get("MADOGUCHI_TEST_DATABASE_URL")
    return f"database: {make_url(url).render_as_string(hide_password=True) if url else 'SQLite'}"


def _postgres_only(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    params = callspec.params.values() if callspec else ()
    return (
        item.get_closest_marker("postgres_only") is not None
        or "postgres" in params
        or "postgres_engine" in getattr(item, "fixturenames", ())
    )


def _on_the_database_under_test(item: pytest.Item) -> bool:
    """Whether the test works on the database of MADOGUCHI_TEST_DATABASE_URL (every database fixture comes
    from `fresh_database_url`), or on PostgreSQL of its own."""
    return _postgres_only(item) or "fresh_database_url" in getattr(item, "fixturenames", ())


def _deselect(config: pytest.Config, items: list[pytest.Item], keep: Callable[[pytest.Item], bool]) -> None:
    deselected = [item for item in items if not keep(item)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if keep(item)]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without PostgreSQL, its own tests are deselected (not skipped): `make test` runs them in its
    PostgreSQL pass, and CI fails when PostgreSQL does not answer. That pass sets
    MADOGUCHI_TEST_DATABASE_ONLY: the tests that touch no database ran in the SQLite pass already."""
    if os.environ.get("MADOGUCHI_TEST_DATABASE_URL") or os.environ.get("MADOGUCHI_TEST_POSTGRES_URL"):
        if os.environ.get("MADOGUCHI_TEST_DATABASE_ONLY"):
            _deselect(config, items, _on_the_database_under_test)
        return
    _deselect(config, items, lambda item: not _postgres_only(item))


@pytest.fixture(autouse=True)
def _reminders_left_as_found() -> Iterator[None]:
    """build_services makes confirmations owe reminders for the whole process: undone after each test."""
    yield
    uninstall_reminders()


@pytest.fixture(scope="session", autouse=True)
def keyring() -> Keyring:
    ring = Keyring([TEST_KEY])
    configure_keyring(ring)
    return ring


def _create_postgres(base_url: str, name: str, template: str | None = None) -> str:
    # No pool: a connection kept per database made would add up to PostgreSQL's max_connections.
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    admin.dispose()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def _drop_postgres(base_url: str, name: str) -> None:
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class DatabaseFactory:
    """Makes empty databases of the kind under test, or migrated ones: a migrated database is a copy of one
    migrated once per run (PostgreSQL's CREATE DATABASE … TEMPLATE, a file copy on SQLite), since running
    the eighteen migrations for each of some hundred tests took minutes. Every PostgreSQL database made is
    dropped at the end of the run."""

    def __init__(self, base_url: str | None, directory: Callable[[], Path]) -> None:
        self.base_url = base_url
        self.directory = directory
        self.made: list[str] = []
        self._template: str | None = None

    def __call__(self, *, migrated: bool = False) -> str:
        template = self._migrated_template() if migrated else None
        if self.base_url:
            name = f"madoguchi_test_{uuid.uuid4().hex[:10]}"
            self.made.append(name)
            return _create_postgres(self.base_url, name, template and make_url(template).database)
        path = self.directory() / "test.db"
        if template:
            shutil.copyfile(make_url(template).database or "", path)
        return f"sqlite:///{path}"

    def _migrated_template(self) -> str:
        if self._template is None:
            template = self()
            upgrade_schema(template)
            self._template = template
        return self._template

    def drop_all(self) -> None:
        for name in self.made if self.base_url else ():
            _drop_postgres(self.base_url or "", name)


@pytest.fixture(scope="session")
def fresh_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    """Makes databases of the kind under test: call it for a new empty URL, or with `migrated=True` for a new
    database at the newest revision."""
    factory = DatabaseFactory(
        os.environ.get("MADOGUCHI_TEST_DATABASE_URL"), lambda: tmp_path_factory.mktemp("db")
    )
    yield factory
    factory.drop_all()


@pytest.fixture(scope="session")
def database_url(fresh_database_url: DatabaseFactory) -> str:
    return fresh_database_url(migrated=True)


@pytest.fixture(scope="session")
def shared_db(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    yield db
    db.dispose()


@pytest.fixture
def db(shared_db: Database) -> Iterator[Database]:
    """The test database inside one transaction that is rolled back after the test."""
    conn = shared_db.engine.connect()
    outer = conn.begin()
    db = Database(shared_db.url, engine=shared_db.engine)
    db.sessions = sessionmaker(bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint")
    yield db
    outer.rollback()
    conn.close()


@pytest.fixture(scope="session")
def desk() -> DeskConfig:
    return load_desk_config()


@pytest.fixture
def clock() -> FixedClock:
    """Wednesday 2026-11-25 10:00 in Japan."""
    return FixedClock(datetime(2026, 11, 25, 10, 0, tzinfo=JST))


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


ADMIN_TOKEN = "test-admin-token"


def make_settings(database_url: str, var_dir: Path, **extra: object) -> Settings:
    """Settings for a test, ignoring the machine's environment and .env file."""
    values: dict[str, Any] = {  # of any type, as Settings parses them (a str as from the environment)
        "DATABASE_URL": database_url,
        "MADOGUCHI_DEMO": True,
        "MADOGUCHI_PII_KEY": TEST_KEY,
        "MADOGUCHI_ADMIN_TOKEN": ADMIN_TOKEN,
        "MADOGUCHI_VAR_DIR": str(var_dir),
    }
    values.update(extra)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]  # _env_file is BaseSettings.__init__'s; mypy sees the fields


@pytest.fixture
def services(database_url: str, db: Database, desk: DeskConfig, clock: FixedClock, var_dir: Path) -> Services:
    """The application's services on the test database and the fixed clock."""
    return Services(
        settings=make_settings(database_url, var_dir),
        desk=desk,
        db=db,
        clock=clock,
        engine=IntakeEngine(desk, clock),
    )


@pytest.fixture
def own_services(
    fresh_database_url: DatabaseFactory, desk: DeskConfig, clock: FixedClock, var_dir: Path
) -> Iterator[Services]:
    """The application's services on a database of the test's own, for the tests of threads and processes
    (each opens sessions of its own, which the rolled-back transaction of `db` would not show them)."""
    url = fresh_database_url(migrated=True)
    db = Database(url)
    yield Services(
        settings=make_settings(url, var_dir), desk=desk, db=db, clock=clock, engine=IntakeEngine(desk, clock)
    )
    db.dispose()


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services)) as test_client:
        yield test_client


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}

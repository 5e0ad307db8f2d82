"""The engine and the session factory, and the schema upgrade."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")
CONNECT_TIMEOUT = 5  # seconds: PostgreSQL's connection attempt (libpq's connect_timeout)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # pysqlite's own transaction handling is off (isolation_level=None) and every transaction takes
    # the write lock up front: a deferred one that reads, then writes, fails at once in WAL mode
    # instead of waiting, and holds rely on "re-check, then insert" under one lock.
    deferred = conn.get_execution_options().get("sqlite_read_only", False)
    conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for the URL, with SQLite set up for several threads and processes. A statement's values
    never reach an error's text (nor so a log line's): they may be personal data."""
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "isolation_level": None, "timeout": 30}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # psycopg prepares a statement run five times, and PostgreSQL may then settle on a generic plan: for
    # the inbox and outbox claims, whose best plan depends on how many rows wait, that plan can be far off.
    # The session's time zone is UTC, as every datetime here is: psycopg then reads a timestamp with
    # datetime's own UTC, twice as fast as with the ZoneInfo of a server set to 'Etc/UTC' or
    # 'Asia/Tokyo', and nothing depends on how the server is set.
    # A server that does not answer (down behind a load balancer, a dropped route) is given up on after
    # CONNECT_TIMEOUT seconds, so /healthz answers 503 in time rather than hanging for minutes.
    options = "-c plan_cache_mode=force_custom_plan -c timezone=UTC"
    connect_args = kwargs.setdefault("connect_args", {})
    connect_args.setdefault("options", options)
    connect_args.setdefault("connect_timeout", CONNECT_TIMEOUT)
    return create_engine(url, pool_pre_ping=True, **kwargs)


class Database:
    """One database: its engine and a session factory."""

    def __init__(self, url: str, *, engine: Engine | None = None, **kwargs: Any) -> None:
        self.url = url
        self.engine = engine or make_engine(url, **kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def sessions_share_one_connection(self) -> bool:
        """Whether every session runs on one connection (a test's outer transaction): a second connection
        would not see what they wrote, and two threads may not use one connection at once."""
        return isinstance(self.sessions.kw.get("bind"), Connection)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction that commits on success and rolls back on error."""
        with self.sessions() as session, session.begin():
            yield session

    def ping(self) -> bool:
        """Whether the database answers."""
        try:
            with self.engine.connect().execution_options(sqlite_read_only=True) as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        self.engine.dispose()


def _alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade_schema(url: str, revision: str = "head") -> None:
    """Runs the Alembic migrations up to a revision."""
    from alembic import command

    command.upgrade(_alembic_config(url), revision)


def schema_revisions(db: Database) -> tuple[str | None, str]:
    """The database's migration revision (None when it has none) and the newest this code knows."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config(db.url)).get_current_head()
    with db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return current, str(head)

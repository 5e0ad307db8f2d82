"""The bookings migration creates the table (and on PostgreSQL the exclusion constraint) and undoes it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, make_url, text

import storage.models  # noqa: F401  (the consultation table the booking refers to)
from storage.base import Base
from storage.database import upgrade_schema
from tests.scheduling.support import POSTGRES_URL


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("MADOGUCHI_TEST_POSTGRES_URL (or a PostgreSQL MADOGUCHI_TEST_DATABASE_URL) is not set")
    name = f"madoguchi_migrate_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_and_downgrade(empty_database_url: str) -> None:
    upgrade_schema(empty_database_url, "0002")
    engine = create_engine(empty_database_url)
    try:
        columns = {c["name"] for c in inspect(engine).get_columns("booking")}
        assert {
            "consultation_id",
            "coordinator_id",
            "starts_at",
            "ends_at",
            "blocked_from",
            "blocked_until",
        } <= columns
        assert {"method", "place", "meeting_url", "status", "hold_expires_at", "external_uid"} <= columns
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert [d for d in differences if "booking" in repr(d)] == []  # the model and the migration agree
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                kinds = (
                    conn.execute(
                        text("SELECT contype FROM pg_constraint WHERE conname = 'ex_booking_no_overlap'")
                    )
                    .scalars()
                    .all()
                )
            assert kinds == ["x"]
        upgrade_schema_down(empty_database_url)
        assert "booking" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def upgrade_schema_down(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    from storage.database import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.downgrade(cfg, "0001")

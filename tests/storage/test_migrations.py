"""The migrations build exactly the schema the models describe, and the bookings one undoes cleanly."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

import storage.bookings  # noqa: F401  (registers the booking table)
import storage.models  # noqa: F401
from storage.base import Base
from storage.database import make_engine, upgrade_schema


@pytest.fixture
def empty_database_url(fresh_database_url: Callable[[], str]) -> str:
    return fresh_database_url()


def test_the_models_and_the_migrations_agree(empty_database_url: str) -> None:
    upgrade_schema(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


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

"""Migration 0008: what the log held before it counts as it did (delivered when logged); it undoes cleanly."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect, text

from storage.database import MIGRATIONS, upgrade_schema
from tests.conftest import DatabaseFactory

LOGGED = (
    "INSERT INTO interaction (id, at, channel, direction, kind, text) "
    "VALUES (:id, '2026-11-02 01:00:00+00:00', 'line', :direction, 'text', NULL)"
)


def test_the_messages_logged_before_0008_count_as_delivered_and_0008_undoes(
    fresh_database_url: DatabaseFactory,
) -> None:
    url = fresh_database_url()
    upgrade_schema(url, "0007")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(LOGGED), [{"id": 1, "direction": "in"}, {"id": 2, "direction": "out"}])
        upgrade_schema(url, "0008")
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, delivered_at IS NOT NULL, outbox_id FROM interaction ORDER BY id")
            ).all()
        assert [tuple(r) for r in rows] == [(1, False, None), (2, True, None)]
        assert "reason" in {c["name"] for c in inspect(engine).get_columns("outbox_message")}

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        command.downgrade(cfg, "0007")
        inspector = inspect(engine)
        assert {"outbox_id", "delivered_at"}.isdisjoint(
            c["name"] for c in inspector.get_columns("interaction")
        )
        assert "reason" not in {c["name"] for c in inspector.get_columns("outbox_message")}
    finally:
        engine.dispose()

"""Alembic environment: runs the migrations against the URL the caller set."""

from alembic import context
from sqlalchemy import pool

from storage import (  # noqa: F401  (registers the tables)
    bookings,
    desk_posts,
    escalations,
    follow_ups,
    form_submissions,
    models,
    outcomes,
    proposals,
    reminders,
    slack_cards,
    slack_events,
)
from storage.base import Base
from storage.database import make_engine

config = context.config
url = config.get_main_option("sqlalchemy.url") or ""
connectable = make_engine(url, poolclass=pool.NullPool)

with connectable.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A batch migration copies a table and drops the old one; with foreign keys on, dropping the
        # consultation table would cascade to every booking and history row that refers to it. Off for
        # the migration (SQLite's own procedure for ALTER TABLE), set outside any transaction, and
        # checked afterwards.
        connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
    context.configure(
        connection=connection, target_metadata=Base.metadata, render_as_batch=url.startswith("sqlite")
    )
    with context.begin_transaction():
        context.run_migrations()
        if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
            raise RuntimeError("the migration left rows whose foreign keys point nowhere")
connectable.dispose()

"""Alembic environment: runs the migrations against the URL the caller set."""

from alembic import context
from sqlalchemy import pool

from storage import bookings, models  # noqa: F401  (registers the tables)
from storage.base import Base
from storage.database import make_engine

config = context.config
url = config.get_main_option("sqlalchemy.url") or ""
connectable = make_engine(url, poolclass=pool.NullPool)

with connectable.connect() as connection:
    context.configure(
        connection=connection, target_metadata=Base.metadata, render_as_batch=url.startswith("sqlite")
    )
    with context.begin_transaction():
        context.run_migrations()
connectable.dispose()

"""One view of the database for a transaction and a helper connection beside it: what a report counts on
a second connection must be what its rows were read from.

On PostgreSQL the transaction runs at REPEATABLE READ (every statement sees the snapshot of its first)
and exports that snapshot; the helper's transaction imports it, read-only (`SET TRANSACTION SNAPSHOT`, as
`pg_dump -j` does). SQLite needs neither: a transaction here begins IMMEDIATE, holding the write lock, so
nothing is committed between the two, and the helper's deferred read sees the same rows."""

from __future__ import annotations

import re

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

_SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9]+)?")


def share_snapshot(session: Session) -> str | None:
    """Makes the session's transaction read one snapshot throughout, and exports it for join_snapshot
    (call before its first statement); its id on PostgreSQL, None elsewhere."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
    return str(session.scalar(text("SELECT pg_export_snapshot()")))


def join_snapshot(connection: Connection, snapshot: str | None) -> None:
    """Begins the connection's transaction read-only on the exported snapshot (None: nothing to join).
    The exporting transaction must still be open."""
    if snapshot is None:
        return
    if not _SNAPSHOT_ID.fullmatch(snapshot):  # the id is spliced in: SET takes no parameter
        raise ValueError(f"not a snapshot id: {snapshot!r}")
    connection.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
    connection.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))

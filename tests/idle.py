"""Waiting for the desk to be idle, so a test can assert that something did not happen.

A fixed sleep before `assert nothing was sent` passes whether the system had time to misbehave or not. This
waits instead until every stored event was handled and every queued message was delivered, parked or
dropped (no inbox or outbox row is pending, claimed or not), and the given LINE runtimes have no call in
flight; whatever was going to happen has then happened, and the assertion that follows means something.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from sqlalchemy import func, select

from handlers.line.worker import LineRuntime
from storage.database import Database
from storage.models import InboxEvent, OutboxMessage
from tests.line.conftest import InProcessServer

PENDING = "pending"  # the one status of a row stored but not done (storage.inbox and storage.outbox)


def busy(db: Database) -> tuple[int, int]:
    """How many inbox events and outbox messages are still pending (claimed or waiting)."""
    with db.session() as session:
        events = session.scalar(select(func.count()).where(InboxEvent.status == PENDING))
        messages = session.scalar(select(func.count()).where(OutboxMessage.status == PENDING))
    return int(events or 0), int(messages or 0)


def wait_idle(
    db: Database, runtimes: Iterable[LineRuntime | None] = (), *, timeout: float = 10.0, quiet: float = 0.1
) -> None:
    """Returns once nothing is pending in the inbox or the outbox and no runtime is sending, and it stayed
    so for `quiet` seconds (the worker's bookkeeping after a call); fails after `timeout` naming what was
    still pending."""
    senders = [r for r in runtimes if r is not None]
    deadline = time.monotonic() + timeout
    idle_since: float | None = None
    while True:
        pending = busy(db)
        sending = sum(r.sending for r in senders)
        now = time.monotonic()
        if pending == (0, 0) and sending == 0:
            idle_since = idle_since if idle_since is not None else now
            if now - idle_since >= quiet:
                return
        else:
            idle_since = None
        assert now < deadline, (
            f"not idle after {timeout}s: {pending[0]} events and {pending[1]} messages pending, "
            f"{sending} calls in flight"
        )
        time.sleep(0.02)


def wait_servers_idle(*servers: InProcessServer, timeout: float = 10.0) -> None:
    """wait_idle for in-process servers sharing one database, counting the calls each has in flight."""
    wait_idle(servers[0].db, [server.app.state.line for server in servers], timeout=timeout)


def wait_idle_at(database_url: str, timeout: float = 10.0) -> None:
    """wait_idle for servers in other processes: the database is all there is to watch."""
    db = Database(database_url)
    try:
        wait_idle(db, timeout=timeout)
    finally:
        db.dispose()

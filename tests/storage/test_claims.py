"""Claims on PostgreSQL under a real interleaving: another process claims and commits between our read of
the candidates and our locking read. The row it took must not be taken again."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from storage.clock import SystemClock
from storage.contacts import get_or_create_contact
from storage.database import Database
from storage.inbox import NewEvent, claim_next_event, lock_user, record_failure, store_events
from storage.outbox import claim_due_messages, enqueue
from tests.conftest import DatabaseFactory

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def pg(fresh_database_url: DatabaseFactory) -> Iterator[Database]:
    url = fresh_database_url(migrated=True)
    db = Database(url)
    yield db
    db.dispose()


def interleave(db: Database, competitor: Callable[[], Any]) -> Callable[[], None]:
    """Runs `competitor` to completion in another thread just before this thread's next locking SELECT."""
    fired = threading.Event()
    me = threading.get_ident()

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FOR UPDATE" in statement and threading.get_ident() == me and not fired.is_set():
            fired.set()
            worker = threading.Thread(target=competitor)
            worker.start()
            worker.join(10)

    event.listen(db.engine, "before_cursor_execute", before)
    return lambda: event.remove(db.engine, "before_cursor_execute", before)


def test_an_outbox_row_leased_by_another_process_meanwhile_is_not_leased_again(pg: Database) -> None:
    now = SystemClock().now()
    with pg.session() as session:
        contact = get_or_create_contact(session=session, channel="line", external_id="Uclaims")
        session.flush()
        enqueue(
            session=session,
            channel="line",
            contact_id=contact.id,
            messages=[{"kind": "text", "text": "x"}],
            now=now,
            reply_token="t" * 32,
            reply_expires_at=now + timedelta(seconds=50),
        )
    theirs: list[int] = []

    def other_process() -> None:
        with pg.session() as session:
            theirs.extend(
                m.id
                for m in claim_due_messages(
                    session=session, channel="line", now=now, lease=timedelta(seconds=30), limit=8
                )
            )

    undo = interleave(pg, other_process)
    try:
        with pg.session() as session:
            mine = claim_due_messages(
                session=session, channel="line", now=now, lease=timedelta(seconds=30), limit=8
            )
    finally:
        undo()
    assert len(theirs) == 1
    assert mine == []


def test_an_inbox_event_put_off_by_another_process_meanwhile_waits_for_its_retry_time(pg: Database) -> None:
    now = SystemClock().now()
    with pg.session() as session:
        store_events(
            session=session,
            channel="line",
            received_at=now - timedelta(seconds=5),
            events=[NewEvent("01EVENT", "Uclaims", 1, {"type": "message"})],
        )
    with pg.session() as session:
        row = claim_next_event(session=session, channel="line", now=now, ready_before=now)
        assert row is not None
        event_id = row.id

    def other_process() -> None:
        with pg.session() as session:
            record_failure(
                session=session,
                event_id=event_id,
                now=now,
                error="Boom",
                retry_after=timedelta(minutes=1),
                max_attempts=5,
            )

    undo = interleave(pg, other_process)
    try:
        with pg.session() as session:
            again = claim_next_event(session=session, channel="line", now=now, ready_before=now)
    finally:
        undo()
    assert again is None


def test_one_users_events_are_handled_one_transaction_at_a_time(pg: Database) -> None:
    order: list[str] = []
    first_has_it = threading.Event()

    def other_process() -> None:
        first_has_it.wait(5)
        with pg.session() as session:
            lock_user(session=session, user_key="same-owner")
            order.append("second")

    worker = threading.Thread(target=other_process)
    worker.start()
    with pg.session() as session:
        lock_user(session=session, user_key="same-owner")
        first_has_it.set()
        time.sleep(0.3)  # the other transaction waits all this time
        order.append("first")
    worker.join(5)
    assert order == ["first", "second"]
    with pg.session() as session:  # another owner is never kept waiting
        lock_user(session=session, user_key="another-owner")

"""wait_idle returns only once nothing is pending, so the assertion of an absence that follows means something."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage.clock import FixedClock
from storage.contacts import get_or_create_contact
from storage.database import Database
from storage.inbox import NewEvent, mark_processed, store_events
from storage.models import InboxEvent
from storage.outbox import enqueue, mark_sent
from tests.idle import wait_idle


def test_an_empty_desk_is_idle(db: Database) -> None:
    wait_idle(db, timeout=2.0)


def test_a_pending_event_or_message_keeps_it_busy_until_it_is_done(db: Database, clock: FixedClock) -> None:
    with db.session() as session:
        store_events(
            session=session,
            channel="line",
            events=[NewEvent("e1", "U1", int(clock.now().timestamp() * 1000), {"type": "message"})],
            received_at=clock.now(),
        )
    with pytest.raises(AssertionError, match="1 events and 0 messages pending"):
        wait_idle(db, timeout=0.3)
    with db.session() as session:
        [event] = session.query(InboxEvent).all()
        mark_processed(event=event, now=clock.now())
        contact = get_or_create_contact(session=session, channel="line", external_id="U1")
        session.flush()
        row = enqueue(
            session=session,
            channel="line",
            contact_id=contact.id,
            messages=[{"type": "text", "text": "ご相談を承ります。"}],
            now=clock.now(),
            reply_token=None,
            reply_expires_at=clock.now() + timedelta(seconds=50),
        )
        session.flush()
        row_id = row.id
    with pytest.raises(AssertionError, match="0 events and 1 messages pending"):
        wait_idle(db, timeout=0.3)
    with db.session() as session:
        assert mark_sent(session=session, message_id=row_id, via="push", now=clock.now())
    wait_idle(db, timeout=2.0)

"""The inbox and outbox queues: one owner's backlog behind a failing item holds up nobody else."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from storage.clock import SystemClock
from storage.contacts import get_or_create_contact
from storage.database import Database
from storage.inbox import NewEvent, claim_next_event, record_failure, store_events
from storage.models import OutboxMessage
from storage.outbox import NewDelivery, claim_due_messages, enqueue, enqueue_many, mark_retry


def test_an_outbox_backlog_behind_a_message_in_backoff_does_not_block_other_contacts(db: Database) -> None:
    now = SystemClock().now()
    with db.session() as session:
        stuck = get_or_create_contact(session=session, channel="line", external_id="Ustuck")
        other = get_or_create_contact(session=session, channel="line", external_id="Uother")
        session.flush()
        rows = [
            enqueue(session=session, channel="line", contact_id=stuck.id, messages=[], now=now)
            for _ in range(41)
        ]
        waiting = enqueue(session=session, channel="line", contact_id=other.id, messages=[], now=now)
        session.flush()
        mark_retry(session=session, message_id=rows[0].id, retry_at=now + timedelta(minutes=5), error="503",
                   reply_uncertain=False)  # fmt: skip
    with db.session() as session:
        claimed = claim_due_messages(
            session=session, channel="line", now=now, lease=timedelta(seconds=30), limit=8
        )
    assert [m.id for m in claimed] == [waiting.id]


def test_an_inbox_backlog_behind_a_failing_event_does_not_block_other_users(db: Database) -> None:
    now = SystemClock().now()
    stuck = [NewEvent(f"01STUCK{i:03d}", "Ustuck", 1_700_000_000_000 + i, {"n": i}) for i in range(40)]
    with db.session() as session:
        store_events(session=session, channel="line", received_at=now - timedelta(seconds=5),
                     events=[*stuck, NewEvent("01OTHER", "Uother", 1_700_000_000_500, {})])  # fmt: skip
    with db.session() as session:
        first = claim_next_event(session=session, channel="line", now=now, ready_before=now)
        assert first is not None and first.event_id == "01STUCK000"
        failed_id = first.id
    with db.session() as session:
        record_failure(session=session, event_id=failed_id, now=now, error="Boom",
                       retry_after=timedelta(minutes=1), max_attempts=5)  # fmt: skip
    with db.session() as session:
        nxt = claim_next_event(session=session, channel="line", now=now, ready_before=now)
        assert nxt is not None and nxt.event_id == "01OTHER"


def test_rows_queued_together_each_carry_their_own_version_4_retry_key(db: Database) -> None:
    now = SystemClock().now()
    with db.session() as session:
        contact = get_or_create_contact(session=session, channel="line", external_id="Umany")
        session.flush()
        deliveries = [NewDelivery(contact_id=contact.id, messages=[{"type": "text", "text": "x"}])] * 300
        ids = enqueue_many(session=session, channel="line", deliveries=deliveries, now=now)
    with db.session() as session:
        keys = list(session.scalars(select(OutboxMessage.retry_key).where(OutboxMessage.id.in_(ids))))
    assert len(keys) == len(set(keys)) == 300
    assert {uuid.UUID(key).version for key in keys} == {4}
    assert {uuid.UUID(key).variant for key in keys} == {uuid.RFC_4122}

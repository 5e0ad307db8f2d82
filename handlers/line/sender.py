"""The LINE sender: queues neutral messages for LINE users, checked against LINE's limits, in the caller's
transaction. An answer to an event is queued with its reply token (replies are free); anything else is
pushed. The delivery (delivery.py) sends the rows; the interaction log counts them once it has."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from bot.messages import OutMessage
from bot.sending import Capacity, ToContact
from handlers.line.render import CAPACITY, check_messages
from storage.channels import Channel
from storage.clock import Clock
from storage.interactions import QueuedMessage, log_interaction, log_queued_messages, queue_interactions
from storage.models import Contact, Interaction, OutboxMessage
from storage.outbox import NewDelivery, enqueue, enqueue_many


def _batches(messages: Sequence[OutMessage], size: int) -> list[list[OutMessage]]:
    return [list(messages[i : i + size]) for i in range(0, len(messages), size)]


class LineSender:
    """Writes LINE's outbox rows: at most one call's worth of messages each, LINE's limits checked first."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    @property
    def channel(self) -> Channel:
        return Channel.LINE

    @property
    def capacity(self) -> Capacity:
        return CAPACITY

    def to_contact(
        self,
        *,
        session: Session,
        contact: Contact,
        messages: Sequence[OutMessage],
        reason: str,
        consultation_id: int | None = None,
    ) -> list[OutboxMessage]:
        """Queues a push of `messages` and logs them, to count once LINE has them."""
        now = self.clock.now()
        self._check(messages)
        logged = [
            log_interaction(
                session=session,
                at=now,
                channel=self.channel,
                direction="out",
                kind="text",
                text=message.text,
                contact_id=contact.id,
                consultation_id=consultation_id,
            )
            for message in messages
        ]
        return self._queue(session, contact, messages, logged, reason, consultation_id, now)

    def to_contacts(self, *, session: Session, items: Sequence[ToContact]) -> list[list[int]]:
        """What to_contact writes for each item, every item's rows and log rows in one multi-row INSERT
        each (thousands of reminders at once); the ids of each item's rows. All are checked first."""
        now = self.clock.now()
        split = [_batches(item.messages, CAPACITY.messages) for item in items]
        for batches in split:
            for batch in batches:
                check_messages(batch)
        deliveries = [
            NewDelivery(
                contact_id=item.contact_id,
                messages=[m.to_dict() for m in batch],
                reason=item.reason,
                consultation_id=item.consultation_id,
            )
            for item, batches in zip(items, split, strict=True)
            for batch in batches
        ]
        ids = enqueue_many(session=session, channel=self.channel, deliveries=deliveries, now=now)
        rows = iter(ids)
        queued = [[next(rows) for _ in batches] for batches in split]
        log_queued_messages(
            session=session,
            at=now,
            channel=self.channel,
            messages=[
                QueuedMessage(m.text, item.contact_id, item.consultation_id, row_id)
                for item, batches, row_ids in zip(items, split, queued, strict=True)
                for batch, row_id in zip(batches, row_ids, strict=True)
                for m in batch
            ],
        )
        return queued

    def reply(
        self,
        *,
        session: Session,
        contact: Contact,
        messages: Sequence[OutMessage],
        logged: Sequence[Interaction],
        reply_token: str | None,
        reply_expires_at: datetime | None,
        inbox_event_id: int | None,
        consultation_id: int | None = None,
    ) -> list[OutboxMessage]:
        """Queues the answer to an event (the engine logged it: `logged`, one row a message), its first
        rows with the event's reply token; what one reply cannot carry is pushed after it."""
        self._check(messages)
        return self._queue(
            session,
            contact,
            messages,
            logged,
            "reply",
            consultation_id,
            self.clock.now(),
            reply_token=reply_token,
            reply_expires_at=reply_expires_at,
            inbox_event_id=inbox_event_id,
        )

    def _check(self, messages: Sequence[OutMessage]) -> None:
        """MessageLimitError, before anything is written, for what LINE would refuse."""
        for batch in _batches(messages, CAPACITY.messages):
            check_messages(batch)

    def _queue(
        self,
        session: Session,
        contact: Contact,
        messages: Sequence[OutMessage],
        logged: Sequence[Interaction],
        reason: str,
        consultation_id: int | None,
        now: datetime,
        *,
        reply_token: str | None = None,
        reply_expires_at: datetime | None = None,
        inbox_event_id: int | None = None,
    ) -> list[OutboxMessage]:
        batches = _batches(messages, CAPACITY.messages)
        session.flush()  # the contact's id, and the log rows' ids
        rows: list[OutboxMessage] = []
        log_rows = list(logged)
        for index, batch in enumerate(batches):
            row = enqueue(
                session=session,
                channel=self.channel,
                contact_id=contact.id,
                messages=[m.to_dict() for m in batch],
                now=now,
                consultation_id=consultation_id,
                inbox_event_id=inbox_event_id,
                reply_token=reply_token if index == 0 else None,
                reply_expires_at=reply_expires_at if index == 0 and reply_token else None,
                reason=reason,
            )
            session.flush()
            start = index * CAPACITY.messages
            queue_interactions(session=session, rows=log_rows[start : start + len(batch)], outbox_id=row.id)
            rows.append(row)
        return rows

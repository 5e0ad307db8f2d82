"""The simulator's sender (demo mode): what would be pushed to an owner on LINE — a coordinator's 承認 or
お断り, a reminder — is queued in the outbox for a simulator owner, and the simulated phone collects it
(`GET /sim/api/inbox`, polled by the page). The page's poll is the delivery: each row goes to one poll
only, and its messages count as sent (the interaction log) once it has. Answers to what the owner does in
the simulator are not queued: they come back with the request, as before."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.messages import OutMessage
from bot.sending import Capacity
from handlers.line.render import CAPACITY, render_messages
from storage.channels import Channel
from storage.clock import Clock
from storage.interactions import log_interaction, queue_interactions
from storage.models import Contact, OutboxMessage
from storage.outbox import PENDING, enqueue, mark_sent

DELIVERED_VIA = "simulator"
INBOX_ROWS = 20  # what one poll collects at most


class SimulatorSender:
    """Queues messages for simulator owners, checked against LINE's limits (the phone mirrors LINE)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    @property
    def channel(self) -> Channel:
        return Channel.SIMULATOR

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
        """One outbox row of LINE's size per batch, and their log rows, counted once the phone has them."""
        now = self.clock.now()
        rows: list[OutboxMessage] = []
        for start in range(0, len(messages), CAPACITY.messages):
            batch = list(messages[start : start + CAPACITY.messages])
            render_messages(batch)  # MessageLimitError for what LINE would refuse, before anything is written
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
                for message in batch
            ]
            session.flush()
            row = enqueue(
                session=session,
                channel=self.channel,
                contact_id=contact.id,
                messages=[m.to_dict() for m in batch],
                now=now,
                consultation_id=consultation_id,
                reason=reason[:32],
            )
            session.flush()
            queue_interactions(session=session, rows=logged, outbox_id=row.id)
            rows.append(row)
        return rows


def collect(*, session: Session, contact_id: int, now: datetime) -> list[dict[str, Any]]:
    """The messages queued for this simulator owner, oldest first, each row marked sent as it is taken (a
    row another poll took first is not taken again)."""
    pending = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.channel == Channel.SIMULATOR.value,
            OutboxMessage.contact_id == contact_id,
            OutboxMessage.status == PENDING,
        )
        .order_by(OutboxMessage.id)
        .limit(INBOX_ROWS)
    ).all()
    messages: list[dict[str, Any]] = []
    for row in pending:
        payload = list((row.payload or {}).get("messages", []))
        if mark_sent(session=session, message_id=row.id, via=DELIVERED_VIA, now=now):
            messages.extend(payload)
    return messages

"""The interaction log: every message in and out; an outbound one counts as sent once it is delivered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from storage.bulk import json_rows
from storage.crypto import stored_values
from storage.models import Interaction


def log_interaction(
    *,
    session: Session,
    at: datetime,
    channel: str,
    direction: str,
    kind: str,
    text: str | None,
    contact_id: int | None,
    consultation_id: int | None = None,
    step: str | None = None,
    external_message_id: str | None = None,
    outbox_id: int | None = None,
) -> Interaction:
    """Writes one message to the interaction log. An outbound message is delivered as it is logged (shown
    with the answer of a request) unless it is queued: given its outbox row, it is delivered once that is."""
    delivered = direction == "out" and outbox_id is None
    row = Interaction(
        at=at,
        channel=channel,
        direction=direction,
        kind=kind,
        text=text,
        contact_id=contact_id,
        consultation_id=consultation_id,
        step=step,
        external_message_id=external_message_id,
        outbox_id=outbox_id,
        delivered_at=at if delivered else None,
    )
    session.add(row)
    return row


def queue_interactions(*, session: Session, rows: list[Interaction], outbox_id: int) -> None:
    """Ties logged outbound messages to the outbox row that carries them: not delivered until it is sent."""
    for row in rows:
        row.outbox_id = outbox_id
        row.delivered_at = None
    session.flush()


@dataclass(frozen=True)
class QueuedMessage:
    """An outbound message logged among many (log_queued_messages), carried by outbox row `outbox_id`."""

    text: str | None
    contact_id: int | None
    consultation_id: int | None
    outbox_id: int


_TABLE: Any = Interaction.__table__
_LOG_MANY = insert(_TABLE)
_LOG_MANY_PG = text(
    "INSERT INTO interaction (at, channel, direction, kind, text, contact_id, consultation_id, outbox_id) "
    "SELECT :at, :channel, 'out', 'text', u.body, u.contact_id, u.consultation_id, u.outbox_id "
    "FROM json_to_recordset(CAST(:rows AS json)) "
    "AS u(body text, contact_id integer, consultation_id integer, outbox_id integer)"
)


def log_queued_messages(
    *, session: Session, at: datetime, channel: str, messages: Sequence[QueuedMessage]
) -> None:
    """Logs what log_interaction and queue_interactions would of queued outbound text messages, in one
    statement (PostgreSQL: its values as one JSON parameter): not delivered until their outbox rows are sent."""
    if not messages:
        return
    if session.get_bind().dialect.name == "postgresql":
        texts = stored_values(_TABLE.c.text, [m.text for m in messages])
        params: dict[str, Any] = {
            "at": at.astimezone(UTC),
            "channel": channel,
            "rows": json_rows(
                {
                    "body": body,
                    "contact_id": m.contact_id,
                    "consultation_id": m.consultation_id,
                    "outbox_id": m.outbox_id,
                }
                for m, body in zip(messages, texts, strict=True)
            ),
        }
        session.execute(_LOG_MANY_PG, params)
        return
    rows = [
        {
            "at": at,
            "channel": channel,
            "direction": "out",
            "kind": "text",
            "text": m.text,
            "contact_id": m.contact_id,
            "consultation_id": m.consultation_id,
            "step": None,
            "external_message_id": None,
            "outbox_id": m.outbox_id,
            "delivered_at": None,
        }
        for m in messages
    ]
    session.execute(_LOG_MANY, rows)


_MARK_DELIVERED = (  # built once: it runs for every outbox row delivered
    update(Interaction)
    .where(Interaction.outbox_id == bindparam("row_id"), Interaction.delivered_at.is_(None))
    .values(delivered_at=bindparam("when"))
)


def mark_interactions_delivered(*, session: Session, outbox_id: int, at: datetime) -> int:
    """Records the delivery of what an outbox row carried (once: a later call changes nothing)."""
    result = session.execute(_MARK_DELIVERED, {"row_id": outbox_id, "when": at})
    return int(getattr(result, "rowcount", 0) or 0)


_MARK_MANY_DELIVERED_PG = text(
    "UPDATE interaction SET delivered_at = :at "
    "WHERE outbox_id = ANY(CAST(:ids AS integer[])) AND delivered_at IS NULL"
)


def mark_many_interactions_delivered(*, session: Session, outbox_ids: Sequence[int], at: datetime) -> None:
    """mark_interactions_delivered for many outbox rows, in one statement."""
    if not outbox_ids:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_MARK_MANY_DELIVERED_PG, {"ids": list(outbox_ids), "at": at.astimezone(UTC)})
        return
    session.connection().execute(
        update(_TABLE)
        .where(_TABLE.c.outbox_id.in_(list(outbox_ids)), _TABLE.c.delivered_at.is_(None))
        .values(delivered_at=at)
    )


def delivered_messages(
    *, session: Session, start: datetime, end: datetime, channel: str | None = None
) -> list[Interaction]:
    """The outbound messages delivered in [start, end) (a month's report), oldest first; a message still
    waiting or parked in the outbox is not among them."""
    query = select(Interaction).where(
        Interaction.direction == "out", Interaction.delivered_at >= start, Interaction.delivered_at < end
    )
    if channel is not None:
        query = query.where(Interaction.channel == channel)
    return list(session.scalars(query.order_by(Interaction.delivered_at, Interaction.id)))


def count_delivered_messages(*, session: Session, start: datetime, end: datetime) -> dict[str, int]:
    """How many outbound messages each channel delivered in [start, end)."""
    rows = session.execute(
        select(Interaction.channel, func.count())
        .where(
            Interaction.direction == "out",
            Interaction.delivered_at >= start,
            Interaction.delivered_at < end,
        )
        .group_by(Interaction.channel)
    )
    return {channel: int(count) for channel, count in rows.all()}


def list_interactions(*, session: Session, contact_id: int) -> list[Interaction]:
    return list(
        session.scalars(
            select(Interaction)
            .where(Interaction.contact_id == contact_id)
            .order_by(Interaction.at, Interaction.id)
        )
    )


def redact_interactions(*, session: Session, contact_id: int, from_id: int) -> int:
    """Removes the texts of a contact's messages from `from_id` on, keeping the rows (kind, direction,
    time) that reports count; returns how many rows had a text."""
    result = session.execute(
        update(Interaction)
        .where(Interaction.contact_id == contact_id, Interaction.id >= from_id, Interaction.text.is_not(None))
        .values(text=None)
        .returning(Interaction.id)
    )
    return len(result.all())

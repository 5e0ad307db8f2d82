"""The interaction log: every message in and out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

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
) -> Interaction:
    """Writes one message to the interaction log."""
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
    )
    session.add(row)
    return row


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

"""The interaction log: every message in and out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
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

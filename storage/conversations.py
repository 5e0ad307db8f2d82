"""Where each contact stands in a conversation, and forgetting one the owner declined or abandoned."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.inbox import purge_user_bodies
from storage.interactions import redact_interactions
from storage.models import Contact, Conversation, Interaction
from storage.outbox import empty_sent_payloads


def get_conversation(*, session: Session, contact_id: int) -> Conversation | None:
    return session.scalars(select(Conversation).where(Conversation.contact_id == contact_id)).first()


def delete_conversation(*, session: Session, contact_id: int) -> None:
    session.execute(delete(Conversation).where(Conversation.contact_id == contact_id))


def forget_conversation(
    *, session: Session, contact: Contact, conversation: Conversation, now: datetime
) -> None:
    """Deletes what the owner typed in the conversation and the conversation itself: its answers, the
    texts of its messages both ways (the rows stay, counted by the reports), the copies of the replies
    sent and the contact's raw webhook bodies. Holds are the caller's to release."""
    from_id = conversation.log_from_id
    if from_id is None:  # a conversation begun before its first message was recorded
        from_id = session.scalar(
            select(Interaction.id)
            .where(Interaction.contact_id == contact.id, Interaction.at >= conversation.started_at)
            .order_by(Interaction.id)
            .limit(1)
        )
    if from_id is not None:
        redact_interactions(session=session, contact_id=contact.id, from_id=from_id)
    empty_sent_payloads(session=session, contact_id=contact.id, since=conversation.started_at)
    if contact.external_id:
        purge_user_bodies(session=session, channel=contact.channel, user_id=contact.external_id, now=now)
    delete_conversation(session=session, contact_id=contact.id)

"""Where each contact stands in a conversation."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import Conversation


def get_conversation(*, session: Session, contact_id: int) -> Conversation | None:
    return session.scalars(select(Conversation).where(Conversation.contact_id == contact_id)).first()


def delete_conversation(*, session: Session, contact_id: int) -> None:
    session.execute(delete(Conversation).where(Conversation.contact_id == contact_id))

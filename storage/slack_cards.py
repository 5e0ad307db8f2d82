"""The coordinators' Slack cards: where each consultation's card was posted (`channel`, `ts`), so it is
updated in place ever after, and the append-only audit of who viewed a card's contact details."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.base import Base, utcnow


class SlackCard(Base):
    """A consultation's approval card in Slack, once Slack has accepted it."""

    __tablename__ = "slack_card"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), unique=True
    )
    channel: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    posted_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None]


class ContactView(Base):
    """One viewing of a consultation's contact details from its card (append-only: never changed)."""

    __tablename__ = "contact_view"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True
    )
    slack_user_id: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(default=utcnow)


def get_card(*, session: Session, consultation_id: int) -> SlackCard | None:
    return session.scalars(select(SlackCard).where(SlackCard.consultation_id == consultation_id)).first()


def record_card(*, session: Session, consultation_id: int, channel: str, ts: str, now: datetime) -> SlackCard:
    """Stores where the card is (the first post's place is kept: a card is posted once)."""
    card = get_card(session=session, consultation_id=consultation_id)
    if card is None:
        card = SlackCard(consultation_id=consultation_id, channel=channel, ts=ts, posted_at=now)
        session.add(card)
    else:
        card.updated_at = now
    session.flush()
    return card


def record_contact_view(*, session: Session, consultation_id: int, slack_user_id: str, now: datetime) -> None:
    session.add(ContactView(consultation_id=consultation_id, slack_user_id=slack_user_id, at=now))
    session.flush()


def contact_views(*, session: Session, consultation_id: int) -> list[ContactView]:
    query = select(ContactView).where(ContactView.consultation_id == consultation_id).order_by(ContactView.id)
    return list(session.scalars(query))


def card_at(*, session: Session, channel: str, ts: str) -> SlackCard | None:
    """The card posted at this place (a thread's parent: the conversation of its consultation)."""
    query = select(SlackCard).where(SlackCard.channel == channel, SlackCard.ts == ts)
    return session.scalars(query.limit(1)).first()

"""Slack Events API deliveries seen: one row per `event_id`, so a retry or a replay has one effect.

Slack retries an event it saw no quick 2xx for (`X-Slack-Retry-Num`), and a captured request stays valid
for its five signed minutes. The row is written before the ack; the first to write it handles the event.
What an event must change in the database is written in the same transaction (handlers/slack/events.py),
so it is never acknowledged without it. A delivery whose handler never finished (its process died before
the ack, so Slack delivers it again) is taken over by that retry once its claim lapses.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Integer, String, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.base import Base, utcnow

CLAIM_LEASE = timedelta(minutes=2)  # longer than any handler runs; shorter than Slack's last retry (5 min)


class SlackEvent(Base):
    """One Slack event, by Slack's `event_id`: who claimed it until when, and when it was handled."""

    __tablename__ = "slack_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(64))
    deliveries: Mapped[int] = mapped_column(Integer, default=1)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime]
    processed_at: Mapped[datetime | None]


def claim_slack_event(
    *, session: Session, event_id: str, event_type: str, now: datetime, lease: timedelta = CLAIM_LEASE
) -> bool:
    """True when this delivery is to handle the event: it is new, or its earlier claim lapsed unhandled."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = (
        insert(SlackEvent)
        .values(event_id=event_id, event_type=event_type[:64], received_at=now, claimed_until=now + lease)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(SlackEvent.id)
    )
    if session.execute(stmt).first() is not None:
        return True
    taken = session.execute(
        update(SlackEvent)
        .where(
            SlackEvent.event_id == event_id,
            SlackEvent.processed_at.is_(None),
            SlackEvent.claimed_until <= now,
        )
        .values(claimed_until=now + lease, deliveries=SlackEvent.deliveries + 1)
        .returning(SlackEvent.id)
    ).first()
    if taken is not None:
        return True
    session.execute(
        update(SlackEvent).where(SlackEvent.event_id == event_id).values(deliveries=SlackEvent.deliveries + 1)
    )
    return False


def finish_slack_event(*, session: Session, event_id: str, now: datetime) -> None:
    """Marks the event handled: later deliveries of it are copies, whatever their claim."""
    session.execute(
        update(SlackEvent)
        .where(SlackEvent.event_id == event_id, SlackEvent.processed_at.is_(None))
        .values(processed_at=now)
    )


def get_slack_event(*, session: Session, event_id: str) -> SlackEvent | None:
    return session.scalars(select(SlackEvent).where(SlackEvent.event_id == event_id)).first()


def purge_slack_events(*, session: Session, received_before: datetime) -> int:
    """Deletes the rows of events received before the given time (Slack retries within minutes)."""
    result = session.execute(delete(SlackEvent).where(SlackEvent.received_at < received_before))
    return int(getattr(result, "rowcount", 0) or 0)

"""Other times a coordinator proposed for a request: what was offered to the owner, and what came of it.

A proposal is answered once: the owner takes one of its times or asks again, or a newer proposal (or the
request's end) makes it stale; its token is what the owner's buttons carry, so an old button is known.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage import bookings as _bookings  # noqa: F401  (the booking table the foreign key names)
from storage.base import Base, utcnow

OPEN, ACCEPTED, ASKED_AGAIN, REPLACED, TAKEN = "open", "accepted", "asked_again", "replaced", "taken"


class TimeProposal(Base):
    """Times proposed to the owner for one booking (each a slot as scheduling.Slot.as_dict gives it)."""

    __tablename__ = "time_proposal"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(16), unique=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"))
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"))
    slots: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    proposed_by: Mapped[str] = mapped_column(String(32))
    source: Mapped[str | None] = mapped_column(String(64), unique=True)  # the Slack view submitted
    chosen: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]


def get_proposal_by_token(*, session: Session, token: str) -> TimeProposal | None:
    """The proposal whose buttons carry this token."""
    return session.scalars(select(TimeProposal).where(TimeProposal.token == token)).first()


def get_proposal_by_source(*, session: Session, source: str) -> TimeProposal | None:
    """The proposal made from this submission (a modal submitted twice proposes once)."""
    return session.scalars(select(TimeProposal).where(TimeProposal.source == source)).first()


def replace_open_proposals(*, session: Session, booking_id: int, now: datetime) -> int:
    """Marks the booking's open proposals replaced (their buttons stale); how many there were."""
    result = session.execute(
        update(TimeProposal)
        .where(TimeProposal.booking_id == booking_id, TimeProposal.status == OPEN)
        .values(status=REPLACED, answered_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def answer_proposal(
    *, session: Session, proposal_id: int, status: str, now: datetime, chosen: int | None = None
) -> bool:
    """Compare-and-set of an open proposal to its answer; False when it was answered (or replaced) already."""
    result = session.execute(
        update(TimeProposal)
        .where(TimeProposal.id == proposal_id, TimeProposal.status == OPEN)
        .values(status=status, answered_at=now, chosen=chosen)
        .returning(TimeProposal.id)
    )
    return result.first() is not None


def settle_proposal(*, session: Session, proposal_id: int, status: str) -> None:
    """Sets the outcome of a proposal already answered (a time taken meanwhile, the request decided)."""
    session.execute(update(TimeProposal).where(TimeProposal.id == proposal_id).values(status=status))

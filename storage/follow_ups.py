"""Follow-ups owed to owners, each one row so it happens exactly once whoever runs the sweep: the nudge of an
intake left unfinished (one per conversation) and the satisfaction survey after a consultation (one per
booking), with the owner's answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.base import Base, utcnow
from storage.bookings import Booking
from storage.crypto import EncryptedText
from storage.models import Conversation

# What became of a follow-up when the sweep came to it.
SENT = "sent"
UNREACHABLE = "unreachable"  # the owner blocked the account (unfollow): not pushed to
NO_CHANNEL = "no_channel"  # the owner's channel has no sender here (a web form without LINE)
TOOK_PLACE = ("confirmed", "done")  # a booking whose time has passed in these took place


class IntakeNudge(Base):
    """The one nudge of an unfinished intake: one per conversation (the contact and the conversation's
    token, which a restart keeps and a new conversation changes)."""

    __tablename__ = "intake_nudge"
    __table_args__ = (
        UniqueConstraint("contact_id", "conversation_token", name="uq_intake_nudge_conversation"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"))
    conversation_token: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    released_booking_id: Mapped[int | None] = mapped_column(Integer)  # the hold given back with it
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)  # by the wall clock (never back-dated)


class SatisfactionSurvey(Base):
    """The satisfaction survey of a booking that took place: sent once, answered once (a score of 1 to 5,
    then an optional comment, which is free text and so stored encrypted)."""

    __tablename__ = "satisfaction_survey"
    __table_args__ = (UniqueConstraint("booking_id", name="uq_satisfaction_survey_booking"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"))
    consultation_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime]
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    score: Mapped[int | None] = mapped_column(Integer)
    answered_at: Mapped[datetime | None]
    comment: Mapped[str | None] = mapped_column(EncryptedText)
    commented_at: Mapped[datetime | None]  # also set when the owner chose to skip the comment


def unnudged_intakes(
    *, session: Session, flow: str, idle_since: datetime, not_before: datetime, skip_steps: tuple[str, ...]
) -> list[int]:
    """The contacts whose `flow` conversation has been silent since before `idle_since` (but not since
    before `not_before`), at a step not in `skip_steps`, and has not been nudged."""
    nudged = select(IntakeNudge.id).where(
        IntakeNudge.contact_id == Conversation.contact_id,
        IntakeNudge.conversation_token == Conversation.token,
    )
    query = (
        select(Conversation.contact_id)
        .where(
            Conversation.flow == flow,
            Conversation.updated_at <= idle_since,
            Conversation.updated_at > not_before,
            Conversation.step.not_in(skip_steps),
            ~nudged.exists(),
        )
        .order_by(Conversation.contact_id)
    )
    return list(session.scalars(query))


def lock_conversation(*, session: Session, contact_id: int) -> Conversation | None:
    """The contact's conversation, read afresh and locked until the transaction ends (FOR UPDATE on
    PostgreSQL; SQLite's transactions here begin IMMEDIATE)."""
    query = (
        select(Conversation)
        .where(Conversation.contact_id == contact_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).first()


def was_nudged(*, session: Session, contact_id: int, token: str) -> bool:
    query = select(IntakeNudge.id).where(
        IntakeNudge.contact_id == contact_id, IntakeNudge.conversation_token == token
    )
    return session.scalars(query).first() is not None


def record_nudge(
    *,
    session: Session,
    contact_id: int,
    token: str,
    status: str,
    now: datetime,
    released_booking_id: int | None = None,
    outbox_message_id: int | None = None,
) -> IntakeNudge:
    nudge = IntakeNudge(
        contact_id=contact_id,
        conversation_token=token,
        status=status,
        released_booking_id=released_booking_id,
        outbox_message_id=outbox_message_id,
        created_at=now,
    )
    session.add(nudge)
    session.flush()
    return nudge


def bookings_without_survey(*, session: Session, ended_after: datetime, ended_by: datetime) -> list[Booking]:
    """The bookings that took place (confirmed or done) and ended in (ended_after, ended_by], with no
    survey row yet, oldest first."""
    surveyed = select(SatisfactionSurvey.id).where(SatisfactionSurvey.booking_id == Booking.id)
    query = (
        select(Booking)
        .where(
            Booking.status.in_(TOOK_PLACE),
            Booking.ends_at > ended_after,
            Booking.ends_at <= ended_by,
            Booking.consultation_id.is_not(None),
            ~surveyed.exists(),
        )
        .order_by(Booking.ends_at, Booking.id)
    )
    return list(session.scalars(query))


def settle_survey(
    *, session: Session, survey_id: int, status: str, outbox_message_id: int | None = None
) -> None:
    """Records what became of the survey when it came due (sent, and by which outbox row, or why not)."""
    session.execute(
        update(SatisfactionSurvey)
        .where(SatisfactionSurvey.id == survey_id)
        .values(status=status, outbox_message_id=outbox_message_id)
    )


def survey_of_booking(*, session: Session, booking_id: int) -> SatisfactionSurvey | None:
    query = (
        select(SatisfactionSurvey)
        .where(SatisfactionSurvey.booking_id == booking_id)
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).first()


def get_survey(*, session: Session, survey_id: int) -> SatisfactionSurvey | None:
    query = (
        select(SatisfactionSurvey)
        .where(SatisfactionSurvey.id == survey_id)
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).first()


def latest_score(*, session: Session, consultation_id: int) -> int | None:
    """The score of the consultation's latest answered survey (for the coordinators' card)."""
    query = (
        select(SatisfactionSurvey.score)
        .where(SatisfactionSurvey.consultation_id == consultation_id, SatisfactionSurvey.score.is_not(None))
        .order_by(SatisfactionSurvey.answered_at.desc(), SatisfactionSurvey.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def record_score(*, session: Session, survey_id: int, score: int, now: datetime) -> bool:
    """Stores the score, once (compare-and-set on an unanswered survey); False when it was answered already."""
    result = session.execute(
        update(SatisfactionSurvey)
        .where(SatisfactionSurvey.id == survey_id, SatisfactionSurvey.score.is_(None))
        .values(score=score, answered_at=now)
        .returning(SatisfactionSurvey.id)
    )
    return result.first() is not None


def record_comment(*, session: Session, survey_id: int, comment: str | None, now: datetime) -> bool:
    """Stores the comment (None: the owner skipped it), once; False when it was settled already."""
    survey = get_survey(session=session, survey_id=survey_id)
    if survey is None or survey.score is None or survey.commented_at is not None:
        return False
    result = session.execute(
        update(SatisfactionSurvey)
        .where(SatisfactionSurvey.id == survey_id, SatisfactionSurvey.commented_at.is_(None))
        .values(commented_at=now)
        .returning(SatisfactionSurvey.id)
    )
    if result.first() is None:
        return False
    survey.comment = comment  # through the ORM, so the type encrypts it
    survey.commented_at = now
    session.flush()
    return True

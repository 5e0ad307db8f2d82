"""Outcome records of consultations (対応記録), the owner's consent to the referrals they name, and which
bookings have been offered one.

Append-only: a record is never changed. A correction is a new row with the next `revision` of the same
booking, and the highest revision is the current one, so the history of a record is its rows. The
consent asked for a record's referrals is one row, written when it is asked; its answer is set once (a
compare-and-set from no answer), never changed afterwards. The summary and the next action are free text
a coordinator typed about someone's business: stored encrypted, like the intake's free-text answers.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage import bookings as _bookings  # noqa: F401  (the booking table the foreign keys name)
from storage.base import Base, utcnow
from storage.bookings import Booking
from storage.crypto import EncryptedText

# The values of bot.outcomes.Result (解決 / 継続支援 / 他機関紹介 / 情報提供のみ / 保留) and of a consent's answer
RESULTS = ("resolved", "continuing", "referred", "information", "on_hold")
ANSWERS = ("agree", "disagree")


def _values(values: tuple[str, ...]) -> str:
    return ", ".join(repr(v) for v in values)


class OutcomeRecord(Base):
    """One revision of the outcome of a booking's consultation, as the coordinator recorded it."""

    __tablename__ = "outcome_record"
    __table_args__ = (
        UniqueConstraint("booking_id", "revision", name="uq_outcome_record_booking_revision"),
        CheckConstraint(f"result IN ({_values(RESULTS)})", name="result"),
        CheckConstraint("minutes >= 0", name="minutes"),
        Index("ix_outcome_record_recorded", "recorded_at", "booking_id", "revision"),  # the report's month
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True
    )
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    method: Mapped[str] = mapped_column(String(16))  # a method id of the desk config
    minutes: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(EncryptedText)
    result: Mapped[str] = mapped_column(String(16))
    programmes: Mapped[list[str]] = mapped_column(JSON, default=list)  # programme ids of the config
    next_action: Mapped[str | None] = mapped_column(EncryptedText)
    next_action_on: Mapped[date | None] = mapped_column(Date)
    onsite: Mapped[bool] = mapped_column(Boolean, default=False)
    partners: Mapped[list[str]] = mapped_column(JSON, default=list)  # partner ids: referred if consented
    vendors: Mapped[list[str]] = mapped_column(JSON, default=list)  # IT vendors' trade names: likewise
    recorded_by: Mapped[str] = mapped_column(String(64))  # the Slack member id
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReferralConsent(Base):
    """The owner asked whether the desk may pass their details to the record's partners and vendors."""

    __tablename__ = "referral_consent"
    __table_args__ = (CheckConstraint(f"answer IN ({_values(ANSWERS)})", name="answer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outcome_id: Mapped[int] = mapped_column(ForeignKey("outcome_record.id", ondelete="CASCADE"), unique=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    asked: Mapped[bool] = mapped_column(Boolean, default=True)  # False: the owner's channel cannot be asked
    answer: Mapped[str | None] = mapped_column(String(8))
    answered_at: Mapped[datetime | None]


class OutcomeOffer(Base):
    """A booking whose time has passed and whose card was refreshed to offer 対応記録を入力 (once)."""

    __tablename__ = "outcome_offer"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"), unique=True)
    offered_at: Mapped[datetime] = mapped_column(default=utcnow)


def add_outcome_record(*, session: Session, **values: Any) -> OutcomeRecord | None:
    """Adds a record (the next revision given in `values`); None when that revision exists already (a
    second submission that raced this one)."""
    record = OutcomeRecord(**values)
    try:
        with session.begin_nested():
            session.add(record)
            session.flush()
    except IntegrityError:
        return None
    return record


def list_outcome_records(*, session: Session, consultation_id: int) -> list[OutcomeRecord]:
    """Every revision of the consultation's records, oldest first."""
    query = (
        select(OutcomeRecord)
        .where(OutcomeRecord.consultation_id == consultation_id)
        .order_by(OutcomeRecord.booking_id, OutcomeRecord.revision)
    )
    return list(session.scalars(query))


def current_outcome(*, session: Session, booking_id: int) -> OutcomeRecord | None:
    """The booking's latest revision, or None."""
    query = (
        select(OutcomeRecord)
        .where(OutcomeRecord.booking_id == booking_id)
        .order_by(OutcomeRecord.revision.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def add_consent(
    *, session: Session, outcome: OutcomeRecord, contact_id: int, asked: bool, now: datetime
) -> ReferralConsent:
    consent = ReferralConsent(
        outcome_id=outcome.id,
        consultation_id=outcome.consultation_id,
        contact_id=contact_id,
        asked=asked,
        asked_at=now,
    )
    session.add(consent)
    session.flush()
    return consent


def consent_for(*, session: Session, outcome_id: int) -> ReferralConsent | None:
    return session.scalars(select(ReferralConsent).where(ReferralConsent.outcome_id == outcome_id)).first()


def get_consent(*, session: Session, consent_id: int) -> ReferralConsent | None:
    return session.get(ReferralConsent, consent_id)


def answer_consent(*, session: Session, consent_id: int, answer: str, now: datetime) -> bool:
    """Sets the answer once: False (nothing written) when it was answered already."""
    done = session.execute(
        update(ReferralConsent)
        .where(ReferralConsent.id == consent_id, ReferralConsent.answer.is_(None))
        .values(answer=answer, answered_at=now)
        .returning(ReferralConsent.id)
    ).first()
    return done is not None


def bookings_awaiting_offer(*, session: Session, now: datetime) -> list[Booking]:
    """Confirmed bookings of a consultation whose time has ended and that were not offered a record yet."""
    offered = select(OutcomeOffer.booking_id)
    query = (
        select(Booking)
        .where(
            Booking.status == "confirmed",
            Booking.consultation_id.is_not(None),
            Booking.ends_at <= now,
            Booking.id.not_in(offered),
        )
        .order_by(Booking.ends_at, Booking.id)
    )
    return list(session.scalars(query))


def mark_offered(*, session: Session, booking_id: int, now: datetime) -> bool:
    """Marks the booking offered; False when it was already (another sweep was first)."""
    try:
        with session.begin_nested():
            session.add(OutcomeOffer(booking_id=booking_id, offered_at=now))
            session.flush()
    except IntegrityError:
        return False
    return True


def was_offered(*, session: Session, booking_id: int) -> bool:
    query = select(OutcomeOffer.id).where(OutcomeOffer.booking_id == booking_id)
    return session.scalars(query).first() is not None

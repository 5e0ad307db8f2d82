"""What the desk's own jobs have posted, so each is posted once whoever runs them and however often: one
row per (job, key) (a coordinator's digest of a day, a month's quota warning, a monthly summary), the LINE
quota readings, and which parked outbox rows have been reported to the desk."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.base import Base, utcnow
from storage.models import OutboxMessage
from storage.outbox import PARKED

DIGEST = "digest"  # key: YYYY-MM-DD:coordinator id
QUOTA_WARNING = "quota-warning"  # key: YYYY-MM
MONTHLY_SUMMARY = "monthly-summary"  # key: YYYY-MM (the month summarised)


class DeskPost(Base):
    """One post of a job, written in the transaction that queues it (its outbox row)."""

    __tablename__ = "desk_post"
    __table_args__ = (UniqueConstraint("job", "key", name="uq_desk_post_job_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)  # the wall clock, never `jobs run --at`


class QuotaReading(Base):
    """One daily reading of the LINE message quota: the month's limit (None: no limit) and its use."""

    __tablename__ = "line_quota_reading"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)  # the Japan-time month, YYYY-MM
    quota: Mapped[int | None] = mapped_column(Integer)
    used: Mapped[int] = mapped_column(Integer)
    read_at: Mapped[datetime] = mapped_column(default=utcnow)


class ParkedReport(Base):
    """A parked outbox row that was counted in a report to the desk (each is reported once)."""

    __tablename__ = "parked_report"

    outbox_message_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="CASCADE"), primary_key=True
    )
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)


def find_post(*, session: Session, job: str, key: str) -> DeskPost | None:
    return session.scalars(select(DeskPost).where(DeskPost.job == job, DeskPost.key == key)).first()


def claim_post(*, session: Session, job: str, key: str, now: datetime) -> DeskPost | None:
    """Takes the (job, key) for this transaction's post; None when it was posted already (by anyone, a
    concurrent run included: the unique key decides, and the loser's transaction writes nothing)."""
    if find_post(session=session, job=job, key=key) is not None:
        return None
    post = DeskPost(job=job, key=key, created_at=now)
    try:
        with session.begin_nested():
            session.add(post)
            session.flush()
    except IntegrityError:
        return None
    return post


def record_quota(
    *, session: Session, month: str, quota: int | None, used: int, now: datetime
) -> QuotaReading:
    reading = QuotaReading(month=month, quota=quota, used=used, read_at=now)
    session.add(reading)
    session.flush()
    return reading


def latest_quota(*, session: Session) -> QuotaReading | None:
    return session.scalars(select(QuotaReading).order_by(QuotaReading.id.desc()).limit(1)).first()


def unreported_parked(*, session: Session, limit: int = 1000) -> list[tuple[int, str]]:
    """(id, channel) of outbox rows parked (failed or rejected) and not yet reported, oldest first."""
    reported = select(ParkedReport.outbox_message_id).where(
        ParkedReport.outbox_message_id == OutboxMessage.id
    )
    query = (
        select(OutboxMessage.id, OutboxMessage.channel)
        .where(OutboxMessage.status.in_(PARKED), ~reported.exists())
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return [(row_id, channel) for row_id, channel in session.execute(query).all()]


def mark_reported(*, session: Session, outbox_ids: list[int], now: datetime) -> list[int]:
    """Records the rows as reported; returns those this run recorded (a row another run reported meanwhile
    is left out, so no row is counted twice)."""
    mine: list[int] = []
    for row_id in outbox_ids:
        try:
            with session.begin_nested():
                session.add(ParkedReport(outbox_message_id=row_id, reported_at=now))
                session.flush()
        except IntegrityError:
            continue
        mine.append(row_id)
    return mine

"""Holds and bookings of coordinators' time, and the race-free way to take a slot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    case,
    column,
    false,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage import models as _models  # noqa: F401  (the consultation table the foreign key names)
from storage.base import Base, UTCDateTime, utcnow

# The values of bot.lifecycle.BookingStatus, which alone changes them (tests compare the two and the
# migrated CHECK constraint). Active bookings take the coordinator's time; a hold lapses while held or
# requested (its hold_expires_at), never once confirmed.
BOOKING_STATUSES = ("held", "requested", "confirmed", "declined", "expired", "cancelled", "done", "no_show")
ACTIVE_STATUSES = ("held", "requested", "confirmed")
LAPSING_STATUSES = ("held", "requested")
_ACTIVE_SQL = "status IN ('held', 'requested', 'confirmed')"
OVERLAP_CONSTRAINT = "ex_booking_no_overlap"


class Booking(Base):
    """A coordinator's time taken for a consultation: a hold until confirmed, then a booking.

    starts_at/ends_at are the meeting; blocked_from/blocked_until are what it takes of the coordinator's
    day (travel before and after, and the buffer after), the range no two active bookings may share.
    """

    __tablename__ = "booking"

    id: Mapped[int] = mapped_column(primary_key=True)
    # A hold taken during the conversation belongs to the contact until the request is submitted.
    consultation_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    coordinator_id: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    blocked_from: Mapped[datetime]
    blocked_until: Mapped[datetime]
    method: Mapped[str] = mapped_column(String(16))
    place: Mapped[str | None] = mapped_column(String(500))
    meeting_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default="held", index=True)
    hold_expires_at: Mapped[datetime | None]
    external_uid: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint(f"status IN ({', '.join(repr(s) for s in BOOKING_STATUSES)})", name="status"),
        CheckConstraint("consultation_id IS NOT NULL OR contact_id IS NOT NULL", name="owner"),
        CheckConstraint(
            "starts_at < ends_at AND blocked_from <= starts_at AND ends_at <= blocked_until", name="span"
        ),
        Index("ix_booking_coordinator_blocked", "coordinator_id", "blocked_from"),
        ExcludeConstraint(
            (column("coordinator_id"), "="),
            (func.tstzrange(column("blocked_from"), column("blocked_until")), "&&"),
            using="gist",
            where=text(_ACTIVE_SQL),
            name=OVERLAP_CONSTRAINT,
        ).ddl_if(dialect="postgresql"),
    )


def _take_write_lock(session: Session, coordinator_id: str | None = None) -> None:
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        if coordinator_id is not None:
            # PostgreSQL: one writer per coordinator's calendar until the transaction ends. The exclusion
            # constraint alone lets concurrent inserts of overlapping ranges deadlock, and it does not
            # guard the day cap, which is a count.
            connection.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                {"key": f"madoguchi:booking:{coordinator_id}"},
            )
        return
    raw = connection.connection.dbapi_connection
    # An engine that already begins with BEGIN IMMEDIATE (storage.database) holds the lock; a plain
    # pysqlite engine has not begun at all until its first write, so the lock is taken here.
    if raw is not None and not raw.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _is_overlap(exc: IntegrityError) -> bool:
    diag = getattr(exc.orig, "diag", None)
    return getattr(diag, "constraint_name", None) == OVERLAP_CONSTRAINT or OVERLAP_CONSTRAINT in str(exc.orig)


@dataclass(frozen=True)
class DayCap:
    """At most `limit` active bookings for the coordinator starting in [day_start, day_end)."""

    day_start: datetime
    day_end: datetime
    limit: int


def lock_bookings(session: Session) -> None:
    """Takes the write lock under which a range is checked and taken, before the lapsed holds are expired
    and a hold is inserted (SQLite: the database's; PostgreSQL takes one per coordinator as it inserts)."""
    _take_write_lock(session)


def insert_hold_if_free(
    *,
    session: Session,
    consultation_id: int | None = None,
    contact_id: int | None = None,
    coordinator_id: str,
    method: str,
    starts_at: datetime,
    ends_at: datetime,
    blocked_from: datetime,
    blocked_until: datetime,
    hold_expires_at: datetime,
    now: datetime,
    place: str | None = None,
    meeting_url: str | None = None,
    day_cap: DayCap | None = None,
) -> Booking | None:
    """Inserts a hold of the range for the consultation (or, before it is submitted, the contact); None
    when the range is taken or the coordinator's day is full. It changes no other booking's status: the
    life cycle (bot.lifecycle) expires the lapsed holds and releases the owner's earlier one first."""
    if consultation_id is None and contact_id is None:
        raise ValueError("a hold needs a consultation or a contact")
    _take_write_lock(session, coordinator_id)
    clash = select(Booking.id).where(
        Booking.coordinator_id == coordinator_id,
        Booking.status.in_(ACTIVE_STATUSES),
        Booking.blocked_from < blocked_until,
        Booking.blocked_until > blocked_from,
    )
    if session.execute(clash.limit(1)).first() is not None:
        return None
    if day_cap is not None:
        same_day = select(func.count()).where(
            Booking.coordinator_id == coordinator_id,
            Booking.status.in_(ACTIVE_STATUSES),
            Booking.starts_at >= day_cap.day_start,
            Booking.starts_at < day_cap.day_end,
        )
        if (session.scalar(same_day) or 0) >= day_cap.limit:
            return None
    booking = Booking(
        consultation_id=consultation_id,
        contact_id=contact_id,
        coordinator_id=coordinator_id,
        method=method,
        starts_at=starts_at,
        ends_at=ends_at,
        blocked_from=blocked_from,
        blocked_until=blocked_until,
        hold_expires_at=hold_expires_at,
        place=place,
        meeting_url=meeting_url,
        status="held",
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(booking)
            session.flush()
    except IntegrityError as exc:
        if _is_overlap(exc):  # another transaction took an overlapping range first
            return None
        raise
    return booking


def move_booking_if_free(
    *,
    session: Session,
    booking_id: int,
    coordinator_id: str,
    starts_at: datetime,
    ends_at: datetime,
    blocked_from: datetime,
    blocked_until: datetime,
    now: datetime,
    day_cap: DayCap | None = None,
) -> bool:
    """Moves an active booking to another range, its status unchanged; False when that range is taken,
    the coordinator's day is full (given `day_cap`) or it is not active (the caller expires the lapsed
    holds first)."""
    _take_write_lock(session, coordinator_id)
    clash = select(Booking.id).where(
        Booking.id != booking_id,
        Booking.coordinator_id == coordinator_id,
        Booking.status.in_(ACTIVE_STATUSES),
        Booking.blocked_from < blocked_until,
        Booking.blocked_until > blocked_from,
    )
    if session.execute(clash.limit(1)).first() is not None:
        return False
    if day_cap is not None and (
        count_day_bookings(
            session=session, coordinator_id=coordinator_id, day_cap=day_cap, besides=booking_id
        )
        >= day_cap.limit
    ):
        return False
    try:
        with session.begin_nested():
            result = session.execute(
                update(Booking)
                .where(Booking.id == booking_id, Booking.status.in_(ACTIVE_STATUSES))
                .values(
                    coordinator_id=coordinator_id,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    blocked_from=blocked_from,
                    blocked_until=blocked_until,
                    updated_at=now,
                )
                .returning(Booking.id)
            )
            return result.first() is not None
    except IntegrityError as exc:
        if _is_overlap(exc):
            return False
        raise


def count_day_bookings(
    *, session: Session, coordinator_id: str, day_cap: DayCap, besides: int | None = None
) -> int:
    """The coordinator's active bookings starting in the cap's day (one booking left out, when given)."""
    query = select(func.count()).where(
        Booking.coordinator_id == coordinator_id,
        Booking.status.in_(ACTIVE_STATUSES),
        Booking.starts_at >= day_cap.day_start,
        Booking.starts_at < day_cap.day_end,
    )
    if besides is not None:
        query = query.where(Booking.id != besides)
    return int(session.scalar(query) or 0)


def change_booking_status(
    *,
    session: Session,
    booking_id: int,
    from_status: str,
    to_status: str,
    now: datetime,
    values: dict[str, Any] | None = None,
) -> bool:
    """Compare-and-set of a booking's status (with `values` written beside it); False when it was not in
    `from_status`. Only the life cycle (bot.lifecycle.transition_booking) calls this."""
    if to_status not in BOOKING_STATUSES:
        raise ValueError(f"unknown booking status {to_status!r}")
    changes: dict[str, Any] = {"status": to_status, "updated_at": now, **(values or {})}
    if to_status not in LAPSING_STATUSES:
        changes["hold_expires_at"] = None
    result = session.execute(
        update(Booking)
        .where(Booking.id == booking_id, Booking.status == from_status)
        .values(**changes)
        .returning(Booking.id)
    )
    return result.first() is not None


def lapsed_holds(*, session: Session, now: datetime, coordinator_id: str | None = None) -> list[Booking]:
    """The holds (held or requested) past their expiry, oldest first; of one coordinator when given."""
    query = select(Booking).where(Booking.status.in_(LAPSING_STATUSES), Booking.hold_expires_at <= now)
    if coordinator_id is not None:
        query = query.where(Booking.coordinator_id == coordinator_id)
    return list(session.scalars(query.order_by(Booking.id)))


def hold_expiry_until(until: datetime) -> Any:
    """The expiry `until`, or the meeting's start if sooner (a SQL expression for change_booking_status)."""
    return case((Booking.starts_at < _at(until), Booking.starts_at), else_=_at(until))


def set_booking_external_uid(*, session: Session, booking: Booking, external_uid: str | None) -> None:
    """Records the uid of the event written to the coordinator's calendar."""
    booking.external_uid = external_uid
    session.flush()


def get_booking(*, session: Session, booking_id: int) -> Booking | None:
    """The booking with this id."""
    return session.get(Booking, booking_id)


def get_active_booking(*, session: Session, consultation_id: int) -> Booking | None:
    """The consultation's active (held, requested or confirmed) booking, if it has one."""
    query = (
        select(Booking)
        .where(Booking.consultation_id == consultation_id, Booking.status.in_(ACTIVE_STATUSES))
        .order_by(Booking.id.desc())
    )
    return session.scalars(query.limit(1)).first()


def list_bookings_for_consultation(*, session: Session, consultation_id: int) -> list[Booking]:
    """Every booking of a consultation, oldest first (for its history)."""
    query = select(Booking).where(Booking.consultation_id == consultation_id).order_by(Booking.id)
    return list(session.scalars(query))


def list_bookings_for_coordinator(
    *,
    session: Session,
    coordinator_id: str,
    start: datetime,
    end: datetime,
    statuses: Sequence[str] = ACTIVE_STATUSES,
) -> list[Booking]:
    """The coordinator's bookings whose meeting overlaps [start, end), by start time."""
    query = (
        select(Booking)
        .where(
            Booking.coordinator_id == coordinator_id,
            Booking.status.in_(tuple(statuses)),
            Booking.starts_at < end,
            Booking.ends_at > start,
        )
        .order_by(Booking.starts_at, Booking.id)
    )
    return list(session.scalars(query))


def list_active_bookings(
    *, session: Session, start: datetime, end: datetime, now: datetime | None = None
) -> list[Booking]:
    """Every active booking whose blocked range overlaps [start, end), by coordinator and time; given
    `now`, holds past their time are left out even before the sweep marks them expired."""
    lapsed = (
        Booking.status.in_(LAPSING_STATUSES) & (Booking.hold_expires_at <= now)
        if now is not None
        else false()
    )
    query = (
        select(Booking)
        .where(
            Booking.status.in_(ACTIVE_STATUSES),
            ~lapsed,
            Booking.blocked_from < end,
            Booking.blocked_until > start,
        )
        .order_by(Booking.coordinator_id, Booking.blocked_from, Booking.id)
    )
    return list(session.scalars(query))


def _at(moment: datetime) -> Any:
    # A bare datetime inside CASE is bound without the column's type: SQLite would keep its local time.
    return literal(moment, UTCDateTime())


def extend_contact_hold(*, session: Session, contact_id: int, until: datetime, now: datetime) -> bool:
    """Moves the expiry of the contact's unsubmitted, unlapsed hold to `until` (or its start, if sooner)."""
    result = session.execute(
        update(Booking)
        .where(
            Booking.contact_id == contact_id,
            Booking.consultation_id.is_(None),
            Booking.status == "held",
            Booking.hold_expires_at > now,
        )
        .values(
            hold_expires_at=case((Booking.starts_at < _at(until), Booking.starts_at), else_=_at(until)),
            updated_at=now,
        )  # fmt: skip
        .returning(Booking.id)
    )
    return result.first() is not None


def get_contact_hold(*, session: Session, contact_id: int) -> Booking | None:
    """The contact's current hold that no consultation owns yet."""
    return session.scalars(
        select(Booking).where(
            Booking.contact_id == contact_id, Booking.consultation_id.is_(None), Booking.status == "held"
        )
    ).first()

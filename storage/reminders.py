"""Reminders of confirmed bookings: one row per (booking, kind), so each is sent, or recorded as not sent,
exactly once, whoever runs the sweep and however often."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    bindparam,
    case,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql import ColumnElement, Select

from storage.base import Base, utcnow
from storage.bookings import Booking
from storage.bulk import id_in, json_rows
from storage.models import Consultation, Contact

# What became of a reminder. Only `pending` is ever looked at again.
PENDING = "pending"
SENT = "sent"
SKIPPED = "skipped"  # a later reminder of the same booking was due at the same time and went instead
DROPPED = "dropped"  # the meeting had begun when it came due (after downtime): not sent late
COVERED = "covered"  # its time had passed when the booking was confirmed: the confirmation said it all
CANCELLED = "cancelled"  # the booking was no longer confirmed
UNREACHABLE = "unreachable"  # the owner blocked the account (unfollow): not pushed to
NO_CHANNEL = "no_channel"  # the owner's channel has no sender (a web form without LINE)
REMINDER_STATUSES = (PENDING, SENT, SKIPPED, DROPPED, COVERED, CANCELLED, UNREACHABLE, NO_CHANNEL)


class Reminder(Base):
    """A reminder owed to the owner of a booking: due at `due_at`, computed for the booking's start
    `for_starts_at` (a moved booking's reminders are re-timed before anything is sent)."""

    __tablename__ = "reminder"
    __table_args__ = (
        UniqueConstraint("booking_id", "kind", name="uq_reminder_booking_kind"),
        Index("ix_reminder_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    due_at: Mapped[datetime]
    for_starts_at: Mapped[datetime]
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]  # when it was sent or set aside, by the wall clock (never back-dated)


def arm_reminders(
    *, session: Session, booking_id: int, due: Mapping[str, datetime], starts_at: datetime, now: datetime
) -> list[Reminder]:
    """Owes the booking one reminder of each kind at its time; one whose time has already passed is
    recorded as covered (by what just happened: the confirmation)."""
    existing = {r.kind: r for r in session.scalars(select(Reminder).where(Reminder.booking_id == booking_id))}
    rows = []
    for kind, due_at in due.items():
        row = existing.get(kind) or Reminder(booking_id=booking_id, kind=kind, created_at=now)
        row.due_at, row.for_starts_at = due_at, starts_at
        row.status = PENDING if due_at > now else COVERED
        row.done_at = None if due_at > now else now
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def cancel_pending_reminders(*, session: Session, booking_id: int, now: datetime) -> int:
    """Sets aside what the booking was still owed (it is no longer confirmed)."""
    result = session.execute(
        update(Reminder)
        .where(Reminder.booking_id == booking_id, Reminder.status == PENDING)
        .values(status=CANCELLED, done_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def bookings_with_due_reminders(
    *, session: Session, now: datetime, limit: int = 500, after: int = 0
) -> list[int]:
    """The bookings owed a reminder now, or whose owed reminders were timed for another start (moved), in id
    order from after `after` (the last of the previous page)."""
    query = (
        select(Reminder.booking_id)
        .join(Booking, Booking.id == Reminder.booking_id)
        .where(
            Reminder.booking_id > after,
            Reminder.status == PENDING,
            or_(Reminder.due_at <= now, Reminder.for_starts_at != Booking.starts_at),
        )
        .group_by(Reminder.booking_id)
        .order_by(Reminder.booking_id)
        .limit(limit)
    )
    return list(session.scalars(query))


def lock_bookings(*, session: Session, booking_ids: list[int]) -> dict[int, Booking]:
    """The bookings, read afresh and locked in id order until the transaction ends (SELECT … FOR UPDATE
    on PostgreSQL; SQLite's transactions here begin IMMEDIATE, one writer at a time): the life cycle's
    changes to them wait. By id; one that no longer exists is absent."""
    query = (
        select(Booking)
        .where(Booking.id.in_(booking_ids))
        .order_by(Booking.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {b.id: b for b in session.scalars(query)}


def pending_reminders_of(*, session: Session, booking_ids: list[int]) -> dict[int, list[Reminder]]:
    """What each booking is still owed, read afresh, earliest first (call with the bookings locked)."""
    query = (
        select(Reminder)
        .where(Reminder.booking_id.in_(booking_ids), Reminder.status == PENDING)
        .order_by(Reminder.booking_id, Reminder.due_at)
        .execution_options(populate_existing=True)
    )
    owed: dict[int, list[Reminder]] = {}
    for reminder in session.scalars(query):
        owed.setdefault(reminder.booking_id, []).append(reminder)
    return owed


def reminders_of(*, session: Session, booking_id: int) -> dict[str, Reminder]:
    """Every reminder of the booking, by kind."""
    query = (
        select(Reminder).where(Reminder.booking_id == booking_id).execution_options(populate_existing=True)
    )
    return {r.kind: r for r in session.scalars(query)}


# The reminders job's own reads and writes: plain rows, no ORM objects (it settles thousands at once).


class DueBooking(NamedTuple):
    """A booking as the reminders job reads it, locked: its meeting, and its owner's contact (None: none)."""

    id: int
    status: str
    starts_at: datetime
    ends_at: datetime
    method: str
    place: str | None
    meeting_url: str | None
    consultation_id: int | None
    owner_id: int | None
    owner_channel: str | None
    owner_reachable: bool


class OwedReminder(NamedTuple):
    """A pending reminder as the reminders job reads it."""

    id: int
    booking_id: int
    kind: str
    due_at: datetime
    for_starts_at: datetime


class ReminderChange(NamedTuple):
    """What becomes of a reminder: settled (status and done_at), or only re-timed (still pending)."""

    id: int
    status: str
    done_at: datetime | None
    due_at: datetime
    for_starts_at: datetime
    outbox_message_id: int | None = None


_owner_id = case((Consultation.id.is_not(None), Consultation.contact_id), else_=Booking.contact_id).label(
    "owner_id"
)
_BOOKING_COLUMNS = (
    Booking.id,
    Booking.status,
    Booking.starts_at,
    Booking.ends_at,
    Booking.method,
    Booking.place,
    Booking.meeting_url,
    Booking.consultation_id,
)


def _lock_due(listed: ColumnElement[bool]) -> Select[Any]:
    return (
        select(*_BOOKING_COLUMNS, _owner_id, Contact.channel, Contact.reachable)
        .outerjoin(Consultation, Consultation.id == Booking.consultation_id)
        .outerjoin(Contact, Contact.id == _owner_id)
        .where(listed)
        .order_by(Booking.id)
        .with_for_update(of=Booking)
    )


def _lock_due_pg(listed: ColumnElement[bool]) -> Select[Any]:
    """The same on PostgreSQL, the owner looked up booking by booking (a LATERAL subquery with LIMIT is
    never turned into a join): for a few hundred bookings the planner would otherwise hash the whole
    consultation and contact tables at every call, five times the work of looking them up."""
    by_consultation = (
        select(Consultation.contact_id)
        .where(Consultation.id == Booking.consultation_id)
        .correlate(Booking)
        .scalar_subquery()
    )
    owner_id = case((Booking.consultation_id.is_not(None), by_consultation), else_=Booking.contact_id)
    owner = (
        select(Contact.id, Contact.channel, Contact.reachable)
        .where(Contact.id == owner_id)
        .limit(1)
        .lateral("owner")
    )
    return (
        select(*_BOOKING_COLUMNS, owner.c.id.label("owner_id"), owner.c.channel, owner.c.reachable)
        .select_from(Booking)
        .outerjoin(owner, true())
        .where(listed)
        .order_by(Booking.id)
        .with_for_update(of=Booking)
    )


def _owed(listed: ColumnElement[bool]) -> Select[int, int, str, datetime, datetime]:
    return (
        select(Reminder.id, Reminder.booking_id, Reminder.kind, Reminder.due_at, Reminder.for_starts_at)
        .where(listed, Reminder.status == PENDING)
        .order_by(Reminder.booking_id, Reminder.due_at)
    )


# By whether the database is PostgreSQL (its statements take the ids as one array).
_LOCK_DUE = {
    False: _lock_due(id_in(Booking.id, "ids", postgresql=False)),
    True: _lock_due_pg(id_in(Booking.id, "ids", postgresql=True)),
}
_OWED = {pg: _owed(id_in(Reminder.booking_id, "ids", postgresql=pg)) for pg in (False, True)}


def lock_due_bookings(
    *, session: Session, booking_ids: list[int]
) -> tuple[dict[int, DueBooking], dict[int, list[OwedReminder]]]:
    """The bookings, locked in id order as lock_bookings does, with their owners; and what each is still
    owed, earliest first, read under the lock. One that no longer exists is absent."""
    connection = session.connection()  # Core statements: plain rows, without the ORM's loading
    pg = connection.dialect.name == "postgresql"
    locked = connection.execute(_LOCK_DUE[pg], {"ids": booking_ids}).all()
    bookings = {row[0]: DueBooking._make(row) for row in locked}
    owed: dict[int, list[OwedReminder]] = {}
    for row in connection.execute(_OWED[pg], {"ids": booking_ids}).all():
        owed.setdefault(row[1], []).append(OwedReminder._make(row))
    return bookings, owed


_reminder: Any = Reminder.__table__
_CHANGE = (
    update(_reminder)
    .where(_reminder.c.id == bindparam("rid"))
    .values(
        status=bindparam("status"),
        done_at=bindparam("done_at"),
        due_at=bindparam("due_at"),
        for_starts_at=bindparam("for_starts_at"),
        outbox_message_id=bindparam("outbox_id"),
    )
)
# PostgreSQL: one statement, its values as one JSON parameter (a statement of thousands of parameters, or
# of arrays of thousands of values, costs the driver more to write than the server to run).
_CHANGE_PG = text(
    "UPDATE reminder SET status = u.status, done_at = u.done_at, due_at = u.due_at, "
    "for_starts_at = u.for_starts_at, outbox_message_id = u.outbox_id "
    "FROM json_to_recordset(CAST(:rows AS json)) AS u(rid integer, status varchar, done_at timestamptz, "
    "due_at timestamptz, for_starts_at timestamptz, outbox_id integer) WHERE reminder.id = u.rid"
)


def change_reminders(*, session: Session, changes: Sequence[ReminderChange]) -> None:
    """Writes what became of the reminders (call with their bookings locked), in one statement."""
    if not changes:
        return
    params: list[dict[str, Any]] = [
        {
            "rid": c.id,
            "status": c.status,
            "done_at": c.done_at,
            "due_at": c.due_at,
            "for_starts_at": c.for_starts_at,
            "outbox_id": c.outbox_message_id,
        }
        for c in changes
    ]
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_CHANGE_PG, {"rows": json_rows(params)})
        return
    session.execute(_CHANGE, params)

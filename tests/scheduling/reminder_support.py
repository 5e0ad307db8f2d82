"""Confirmed bookings of LINE owners, made through the life cycle, for the reminder tests."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update

from bot.lifecycle import BookingStatus, hold_slot, request_booking, transition_booking
from scheduling.slots import Slot
from storage.clock import FixedClock
from storage.contacts import get_or_create_contact
from storage.database import Database
from storage.models import Consultation


def line_owner(db: Database, consultation_id: int, user_id: str) -> int:
    """Makes the consultation's owner a LINE user (the contact's id)."""
    with db.session() as session:
        contact = get_or_create_contact(session=session, channel="line", external_id=user_id)
        session.flush()
        session.execute(
            update(Consultation).where(Consultation.id == consultation_id).values(contact_id=contact.id)
        )
        return contact.id


def confirmed_booking(
    db: Database,
    clock: FixedClock,
    consultation_id: int,
    starts_at: datetime,
    *,
    method: str = "online",
    meeting_url: str | None = None,
    place: str | None = None,
    coordinator: str = "a",
) -> int:
    """Holds the time, submits the request and confirms it, as the owner and a coordinator would."""
    ends_at = starts_at + timedelta(hours=1)
    slot = Slot(coordinator, method, starts_at, ends_at, starts_at, ends_at)
    with db.session() as session:
        booking = hold_slot(
            session=session,
            consultation_id=consultation_id,
            slot=slot,
            clock=clock,
            meeting_url=meeting_url,
            place=place,
        )
        assert booking is not None
        now = clock.now()
        assert request_booking(
            session=session,
            booking_id=booking.id,
            consultation_id=consultation_id,
            actor="owner",
            now=now,
            hold_until=now + timedelta(days=30),
        )
        assert transition_booking(
            session=session, booking_id=booking.id, to=BookingStatus.CONFIRMED, actor="coordinator-a", now=now
        )
        return booking.id

"""Holding a chosen slot and moving a booking (the rules they follow), and the booking's calendar copy;
the statuses they lead to are bot.lifecycle's."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from config.scheduling import SchedulingConfig
from scheduling.availability import jst_date, jst_midnight
from scheduling.calendars import CalendarService
from scheduling.providers import CalendarEvent
from scheduling.slots import Slot, booking_window
from storage.bookings import (
    Booking,
    DayCap,
    extend_contact_hold,
    insert_hold_if_free,
    list_bookings_for_coordinator,
    move_booking_if_free,
    set_booking_external_uid,
)
from storage.clock import Clock

__all__ = [
    "booking_event",
    "keep_contact_hold",
    "list_bookings_for_coordinator",
    "move_booking",
    "place_hold",
    "sync_booking_to_calendar",
]


def place_hold(
    *,
    session: Session,
    slot: Slot,
    clock: Clock,
    consultation_id: int | None = None,
    contact_id: int | None = None,
    place: str | None = None,
    meeting_url: str | None = None,
    config: SchedulingConfig | None = None,
) -> Booking | None:
    """Inserts a hold of the slot for the consultation, or for the contact before it is submitted (the
    life cycle, bot.lifecycle.hold_slot, expires lapsed holds and releases the earlier one first); None
    when someone else has it. Given the config, a slot offered a while ago is checked
    again against the rules: the minimum notice and the coordinator's daily cap."""
    now = clock.now()
    if slot.starts_at <= now:
        return None
    day_cap = None
    if config is not None:
        if slot.starts_at < booking_window(config, now)[0]:
            return None
        day = jst_date(slot.starts_at)
        coordinator = config.coordinator(slot.coordinator_id)
        limit = (coordinator.max_per_day if coordinator else None) or config.rules.max_per_day
        day_cap = DayCap(jst_midnight(day), jst_midnight(day + timedelta(days=1)), limit)
    minutes = config.rules.hold_expiry_minutes if config is not None else slot.hold_minutes
    expires = min(now + timedelta(minutes=minutes), slot.starts_at)
    return insert_hold_if_free(
        session=session,
        consultation_id=consultation_id,
        contact_id=contact_id,
        coordinator_id=slot.coordinator_id,
        method=slot.method,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        blocked_from=slot.blocked_from,
        blocked_until=slot.blocked_until,
        hold_expires_at=expires,
        now=now,
        place=place,
        meeting_url=meeting_url,
        day_cap=day_cap,
    )


def keep_contact_hold(*, session: Session, contact_id: int, minutes: int, clock: Clock) -> bool:
    """Keeps the contact's unsubmitted hold for `minutes` from now (the owner is still answering), never
    past the meeting's start; a hold already lapsed is not revived. False when there was none to keep."""
    now = clock.now()
    return extend_contact_hold(
        session=session, contact_id=contact_id, until=now + timedelta(minutes=minutes), now=now
    )


def day_cap_of(config: SchedulingConfig, coordinator_id: str, starts_at: datetime) -> DayCap:
    """The coordinator's daily cap (their own, or the desk's) on the Japanese day of `starts_at`."""
    day = jst_date(starts_at)
    coordinator = config.coordinator(coordinator_id)
    limit = (coordinator.max_per_day if coordinator else None) or config.rules.max_per_day
    return DayCap(jst_midnight(day), jst_midnight(day + timedelta(days=1)), limit)


def move_booking(
    *, session: Session, booking_id: int, slot: Slot, clock: Clock, day_cap: DayCap | None = None
) -> bool:
    """Moves an active booking to another slot, its status unchanged; False when it is taken (or, given
    `day_cap`, the coordinator's day is full)."""
    return move_booking_if_free(
        session=session,
        booking_id=booking_id,
        coordinator_id=slot.coordinator_id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        blocked_from=slot.blocked_from,
        blocked_until=slot.blocked_until,
        now=clock.now(),
        day_cap=day_cap,
    )


def booking_event(
    booking: Booking, *, summary: str, location: str = "", description: str = ""
) -> CalendarEvent:
    """The calendar event of a booking; the texts are the caller's (keep personal data out of them)."""
    return CalendarEvent(
        uid=booking.external_uid or f"madoguchi-booking-{booking.id}",
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        summary=summary,
        location=location or booking.place or "",
        description=description,
        url=booking.meeting_url or "",
    )


def sync_booking_to_calendar(
    *,
    session: Session,
    calendars: CalendarService,
    booking: Booking,
    summary: str,
    location: str = "",
    description: str = "",
    previous_coordinator_id: str | None = None,
) -> None:
    """Brings the coordinators' calendars in line with the booking: written or moved when confirmed, else
    removed. A booking reassigned to another coordinator (`previous_coordinator_id`) leaves the old
    coordinator's calendar first.

    Raises ProviderError when a calendar fails; the booking itself stays as it is.
    """
    if booking.external_uid and previous_coordinator_id and previous_coordinator_id != booking.coordinator_id:
        calendars.delete_booking(previous_coordinator_id, booking.external_uid)
        set_booking_external_uid(session=session, booking=booking, external_uid=None)
    if booking.status == "confirmed":
        event = booking_event(booking, summary=summary, location=location, description=description)
        if booking.external_uid:
            calendars.move_booking(booking.coordinator_id, event)
        else:
            uid = calendars.write_booking(booking.coordinator_id, event)
            set_booking_external_uid(session=session, booking=booking, external_uid=uid)
    elif booking.external_uid:
        calendars.delete_booking(booking.coordinator_id, booking.external_uid)
        set_booking_external_uid(session=session, booking=booking, external_uid=None)

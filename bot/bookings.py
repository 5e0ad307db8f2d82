"""An owner's requests and bookings as 予約確認 shows them: which are active, how they read, and the two
changes an owner makes (cancel, another time), both through the life cycle (bot/lifecycle.py).

Cancelling a booking withdraws its consultation too: the booking was what the owner asked for, and
DESIGN's life cycle names that case (withdrawn: the owner cancelled the request before it was closed),
so coordinators are not left with a request its owner has called off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot import texts
from bot.lifecycle import (
    BookingStatus,
    ConsultationStatus,
    TransitionResult,
    move_booking,
    transition_booking,
    transition_consultation,
)
from bot.readback import choice_label
from bot.sending import TO_CARD, TO_THREAD, NoSender, Notice, Outbound
from bot.slots import SlotBook
from config import DeskConfig
from scheduling import CalendarService, Slot
from scheduling.labels import label_day
from scheduling.propose import calendar_still_free
from storage.bookings import ACTIVE_STATUSES, LAPSING_STATUSES, Booking, get_booking
from storage.clock import JST, Clock
from storage.models import Consultation

OWNER = "owner"  # the actor the history names for the owner's own changes
WITHDRAWABLE = (ConsultationStatus.SUBMITTED, ConsultationStatus.IN_PROGRESS)
# The notices of the owner's own changes: the card shows the booking as it is now, the thread says what happened
OWNER_CANCELLED = "owner_cancelled"
OWNER_MOVED = "owner_moved"
THREAD_CANCELLED = "お客様が予約確認（LINE）からご予約を取り消しました：{when}"
THREAD_MOVED = "お客様が予約確認（LINE）から日時を変更しました：{old} → {new}"


def tell_desk(outbound: Outbound | None, session: Session, booking: Booking, kind: str, text: str) -> None:
    """Refreshes the booking's card and says in its thread what the owner did (when the desk has a channel)."""
    if outbound is None or outbound.coordinators is None or booking.consultation_id is None:
        return
    for to, words in ((TO_CARD, None), (TO_THREAD, text)):
        notice = Notice(kind, booking.consultation_id, booking_id=booking.id, to=to, text=words)
        try:
            outbound.to_coordinators(session=session, notice=notice)
        except NoSender:
            return


@dataclass
class OwnerBookings:
    """One owner's active requests and bookings, inside the current transaction."""

    session: Session
    desk: DeskConfig
    calendars: CalendarService
    clock: Clock
    contact_id: int
    outbound: Outbound | None = None  # the desk is told of the owner's changes through it

    def active(self) -> list[Booking]:
        """The owner's submitted requests with a time, and their bookings (held, requested or confirmed,
        not lapsed), soonest first."""
        now = self.clock.now()
        query = (
            select(Booking)
            .join(Consultation, Consultation.id == Booking.consultation_id)
            .where(
                Consultation.contact_id == self.contact_id,
                Booking.status.in_(ACTIVE_STATUSES),
                or_(
                    Booking.status.not_in(LAPSING_STATUSES),
                    Booking.hold_expires_at.is_(None),
                    Booking.hold_expires_at > now,
                ),
                Booking.ends_at > now,
            )
            .order_by(Booking.starts_at, Booking.id)
        )
        return list(self.session.scalars(query))

    def open_requests(self) -> list[Consultation]:
        """The owner's requests still open with no time booked (by phone, by e-mail, or a time to be agreed)."""
        booked = select(Booking.consultation_id).where(
            Booking.consultation_id.is_not(None), Booking.status.in_(ACTIVE_STATUSES)
        )
        query = (
            select(Consultation)
            .where(
                Consultation.contact_id == self.contact_id,
                Consultation.status.in_(WITHDRAWABLE),
                Consultation.id.not_in(booked),
            )
            .order_by(Consultation.submitted_at, Consultation.id)
        )
        return list(self.session.scalars(query))

    def get(self, booking_id: Any) -> Booking | None:
        """One of the owner's active bookings, or None (not theirs, or no longer active)."""
        return next((b for b in self.active() if b.id == booking_id), None)

    def consultation(self, booking: Booking) -> Consultation | None:
        return self.session.get(Consultation, booking.consultation_id) if booking.consultation_id else None

    def when(self, booking: Booking) -> str:
        """`12/3(木) 14:00〜15:00`, with 祝 on a public holiday (終日 for a whole-day visit)."""
        return booking_when(booking)

    def place(self, booking: Booking) -> str:
        """Where the meeting is, in words."""
        if booking.place:
            return booking.place
        consultation = self.consultation(booking)
        municipality = self.desk.municipality_by_code.get(
            consultation.municipality_code if consultation else ""
        )
        places = {
            "visit_desk": texts.PLACE_DESK.format(desk=self.desk.desk.name),
            "onsite": texts.PLACE_ONSITE.format(place=municipality.name if municipality else ""),
            "online": texts.PLACE_ONLINE,
        }
        return places.get(booking.method, "—")

    def describe(self, booking: Booking) -> str:
        """The booking as the owner reads it: date, method, place, status, reference."""
        consultation = self.consultation(booking)
        return texts.BOOKING_LINES.format(
            when=self.when(booking),
            method=choice_label(self.desk, "methods", booking.method) or "—",
            place=self.place(booking),
            status=texts.OWNER_BOOKING_STATUS.get(booking.status, "—"),
            reference=consultation.reference if consultation else "—",
        )

    def cancel(self, booking_id: int) -> TransitionResult:
        """Cancels the booking (its time is free again at once) and withdraws its consultation."""
        booking = get_booking(session=self.session, booking_id=booking_id)
        result = transition_booking(
            session=self.session,
            booking_id=booking_id,
            to=BookingStatus.CANCELLED,
            expected_from=[BookingStatus(s) for s in ACTIVE_STATUSES],
            actor=OWNER,
            reason="cancelled by the owner",
            now=self.clock.now(),
            calendars=self.calendars,
        )
        consultation = self.consultation(booking) if booking is not None else None
        if result and booking is not None:
            when = booking_when(booking)
            tell_desk(
                self.outbound, self.session, booking, OWNER_CANCELLED, THREAD_CANCELLED.format(when=when)
            )
        if result and consultation is not None and consultation.status in WITHDRAWABLE:
            transition_consultation(
                session=self.session,
                consultation_id=consultation.id,
                to=ConsultationStatus.WITHDRAWN,
                actor=OWNER,
                reason="booking cancelled by the owner",
                now=self.clock.now(),
            )
        return result

    def slot_answers(self, booking: Booking) -> dict[str, Any]:
        """What the slot step needs to propose other times for the booking: its method, category, place."""
        consultation = self.consultation(booking)
        return {
            "method": booking.method,
            "category": consultation.category if consultation else "other",
            "municipality": consultation.municipality_code if consultation else "",
        }

    def mover(self, booking: Booking) -> MovingSlotBook:
        """The slot step's book for moving this booking: taking a time moves it instead of holding anew."""
        return MovingSlotBook(
            self.session,
            self.desk,
            self.calendars,
            self.clock,
            self.contact_id,
            booking_id=booking.id,
            outbound=self.outbound,
        )


@dataclass
class MovingSlotBook(SlotBook):
    """A SlotBook whose `hold` moves one booking to the time chosen (its status unchanged)."""

    booking_id: int = 0
    outbound: Outbound | None = None

    def hold(self, slot: Slot) -> bool:
        config = self.desk.scheduling
        if not calendar_still_free(config=config, calendars=self.calendars, slot=slot, now=self.clock.now()):
            return False
        booking = get_booking(session=self.session, booking_id=self.booking_id)
        old = booking_when(booking) if booking is not None else ""
        moved = move_booking(
            session=self.session,
            booking_id=self.booking_id,
            slot=slot,
            clock=self.clock,
            actor=OWNER,
            calendars=self.calendars,
        )
        if moved and booking is not None:
            text = THREAD_MOVED.format(old=old, new=booking_when(booking))
            tell_desk(self.outbound, self.session, booking, OWNER_MOVED, text)
        return moved

    def release(self) -> None:
        """Nothing to give back: the booking keeps its time until it is moved."""

    def keep(self) -> None:
        """A booking does not lapse while the owner looks for another time."""


def booking_when(booking: Booking) -> str:
    """`12/3(木) 14:00〜15:00`, with 祝 on a public holiday (終日 for a whole-day visit)."""
    starts, ends = booking.starts_at.astimezone(JST), booking.ends_at.astimezone(JST)
    day = label_day(starts.date())
    if _whole_day(booking):
        return f"{day} {texts.WHOLE_DAY_SHORT}"
    return f"{day} {starts:%H:%M}〜{ends:%H:%M}"


def booking_slot(booking: Booking) -> Slot:
    """The time a booking takes, as the slot it was held from."""
    return Slot(
        coordinator_id=booking.coordinator_id,
        method=booking.method,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        blocked_from=booking.blocked_from,
        blocked_until=booking.blocked_until,
        whole_day=_whole_day(booking),
    )


def _whole_day(booking: Booking) -> bool:
    return (booking.ends_at - booking.starts_at).total_seconds() >= 6 * 3600


def moment_label(moment: datetime) -> str:
    """A moment as the list's button shows it: `12/3(木) 14:00`."""
    local = moment.astimezone(JST)
    return f"{label_day(local.date())} {local:%H:%M}"

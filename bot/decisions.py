"""A coordinator's decisions on a request (承認, お断り), made through the life cycle and told through the
sending seam: the owner on their own channel, the coordinators' card (bot/sending.py's Notice) refreshed,
all in the caller's transaction. Nothing here knows Slack or LINE."""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from bot import texts
from bot.bookings import booking_when
from bot.lifecycle import (
    BookingStatus,
    ConsultationStatus,
    TransitionResult,
    reassign_booking,
    transition_booking,
    transition_consultation,
)
from bot.messages import OutMessage
from bot.readback import choice_label
from bot.sending import NoSender, Notice, Outbound
from config import DeskConfig
from config.scheduling import Coordinator
from scheduling import CalendarService, Slot, SlotRequest
from scheduling.availability import jst_date, working_intervals
from scheduling.holds import day_cap_of
from scheduling.propose import calendar_still_free
from scheduling.slots import match_coordinators
from storage.bookings import Booking, count_day_bookings, get_booking
from storage.clock import Clock
from storage.models import Consultation

log = logging.getLogger(__name__)

# The kinds of notice the coordinators' card follows (each asks for the card as it is now)
REQUESTED = "booking_requested"
CONFIRMED = "booking_confirmed"
DECLINED = "booking_declined"
SUBMITTED = "consultation_submitted"  # a request without a time
REASSIGNED = "booking_reassigned"


def notify_coordinators(
    *, session: Session, outbound: Outbound, consultation_id: int, kind: str, booking_id: int | None = None
) -> None:
    """Queues a notice for the coordinators, when this process has a channel for them."""
    if outbound.coordinators is None:
        return
    notice = Notice(kind=kind, consultation_id=consultation_id, booking_id=booking_id)
    outbound.to_coordinators(session=session, notice=notice)


def meeting_place(desk: DeskConfig, booking: Booking, consultation: Consultation | None) -> str:
    """Where the meeting is, in the owner's words (an online meeting's URL when one is set)."""
    if booking.method == "online" and booking.meeting_url:
        return texts.ONLINE_URL.format(url=booking.meeting_url)
    if booking.place:
        return booking.place
    municipality = desk.municipality_by_code.get(consultation.municipality_code if consultation else "")
    places = {
        "visit_desk": texts.PLACE_DESK.format(desk=desk.desk.name),
        "onsite": texts.PLACE_ONSITE.format(place=municipality.name if municipality else ""),
        "online": texts.PLACE_ONLINE,
    }
    return places.get(booking.method, "—")


def confirmed_text(desk: DeskConfig, booking: Booking, consultation: Consultation | None) -> str:
    """What the owner reads once the booking is confirmed."""
    return texts.BOOKING_CONFIRMED_OWNER.format(
        when=booking_when(booking),
        method=choice_label(desk, "methods", booking.method) or "—",
        place=meeting_place(desk, booking, consultation),
        reference=consultation.reference if consultation else "—",
    )


def approve(
    *,
    session: Session,
    desk: DeskConfig,
    outbound: Outbound,
    booking_id: int,
    actor: str,
    now: datetime,
    calendars: CalendarService | None = None,
    tell_owner: bool = True,
) -> TransitionResult:
    """Confirms a requested booking (requested → confirmed: refused, writing nothing, when it is no
    longer requested: a second click, a replay, another coordinator first); tells the owner (unless the
    caller answers them itself, as the owner's own acceptance of a proposed time does) and refreshes the
    card."""
    result = transition_booking(
        session=session,
        booking_id=booking_id,
        to=BookingStatus.CONFIRMED,
        expected_from=BookingStatus.REQUESTED,
        actor=actor,
        reason="approved",
        now=now,
        calendars=calendars,
    )
    if not result:
        return result
    booking = get_booking(session=session, booking_id=booking_id)
    assert booking is not None and booking.consultation_id is not None  # a requested booking has both
    consultation = session.get(Consultation, booking.consultation_id)
    assert consultation is not None
    if tell_owner:
        _tell_owner(session, outbound, consultation, confirmed_text(desk, booking, consultation), CONFIRMED)
    notify_coordinators(
        session=session,
        outbound=outbound,
        consultation_id=consultation.id,
        kind=CONFIRMED,
        booking_id=booking_id,
    )
    return result


def decline(
    *,
    session: Session,
    desk: DeskConfig,
    outbound: Outbound,
    booking_id: int,
    actor: str,
    reason: str,
    note: str,
    now: datetime,
    calendars: CalendarService | None = None,
) -> TransitionResult:
    """Declines a requested booking (requested → declined: its time is free again at once) and closes the
    consultation; the owner gets a polite message (with the coordinator's `note`, if any) and the card is
    refreshed. `reason` is one of texts.DECLINE_REASONS (the history keeps that code, not the note)."""
    reason = reason if reason in texts.DECLINE_REASONS else "other"
    result = transition_booking(
        session=session,
        booking_id=booking_id,
        to=BookingStatus.DECLINED,
        expected_from=BookingStatus.REQUESTED,
        actor=actor,
        reason=reason,
        now=now,
        calendars=calendars,
    )
    if not result:
        return result
    booking = get_booking(session=session, booking_id=booking_id)
    assert booking is not None and booking.consultation_id is not None
    consultation = session.get(Consultation, booking.consultation_id)
    assert consultation is not None
    transition_consultation(
        session=session,
        consultation_id=consultation.id,
        to=ConsultationStatus.CLOSED,
        expected_from=ConsultationStatus.SUBMITTED,
        actor=actor,
        reason="declined",
        now=now,
    )
    text = texts.BOOKING_DECLINED_OWNER.format(
        reference=consultation.reference,
        reason=texts.DECLINE_REASONS[reason],
        when=booking_when(booking),
        phone=desk.desk.phone,
        hours=desk.desk.hours,
    )
    if note.strip():
        text += "\n\n" + texts.DECLINE_NOTE.format(note=note.strip())
    _tell_owner(session, outbound, consultation, text, DECLINED)
    notify_coordinators(
        session=session,
        outbound=outbound,
        consultation_id=consultation.id,
        kind=DECLINED,
        booking_id=booking_id,
    )
    return result


def _tell_owner(
    session: Session, outbound: Outbound, consultation: Consultation, text: str, reason: str
) -> None:
    try:
        outbound.to_contact(
            session=session,
            contact=consultation.contact,
            messages=[OutMessage(text)],
            reason=reason,
            consultation_id=consultation.id,
        )
    except NoSender:  # e.g. a web-form owner: the desk tells them by phone or mail
        log.info("consultation %s: the owner's channel has no sender; not told here", consultation.id)


class Reassigned(StrEnum):
    """What came of 担当を変更 (the owner is told of a move, the new coordinator named when the desk allows)."""

    MOVED = "moved"  # the booking is the new coordinator's
    DECIDED = "decided"  # no longer a request waiting for a decision
    NOT_TAKEN = "not_taken"  # the coordinator does not take this kind of request (or is the same one)
    BUSY = "busy"  # the held time is not free in the new coordinator's hours, calendar or bookings
    FULL = "full"  # the new coordinator's day already has as many bookings as their daily cap allows


def other_coordinators(desk: DeskConfig, consultation: Consultation, booking: Booking) -> list[Coordinator]:
    """The desk's other coordinators who take the request's category, method and place (matched as the
    slot finder matches them)."""
    municipality = desk.municipality_by_code.get(consultation.municipality_code or "")
    request = SlotRequest(
        method=booking.method,
        category=consultation.category or "other",
        region=municipality.region if municipality else "",
        municipality=municipality.code if municipality else "",
        now=booking.starts_at,
    )
    return [c for c in match_coordinators(desk.scheduling, request) if c.id != booking.coordinator_id]


def _at_work(desk: DeskConfig, coordinator: Coordinator, booking: Booking) -> bool:
    """Whether the meeting lies inside the coordinator's working hours (one of that day's intervals, or the
    whole working day)."""
    intervals = working_intervals(coordinator, jst_date(booking.starts_at), closures=desk.scheduling.closures)
    if not intervals:
        return False
    whole_day = booking.starts_at == intervals[0][0] and booking.ends_at == intervals[-1][1]
    return whole_day or any(s <= booking.starts_at and booking.ends_at <= e for s, e in intervals)


def reassign(
    *,
    session: Session,
    desk: DeskConfig,
    outbound: Outbound,
    booking_id: int,
    coordinator_id: str,
    actor: str,
    clock: Clock,
    calendars: CalendarService | None = None,
) -> Reassigned:
    """Gives a requested booking to another coordinator who takes the request, when its held time is free
    for them (their hours, their calendar, the desk's bookings); the card is refreshed. Otherwise nothing
    changes and the answer says why."""
    booking = get_booking(session=session, booking_id=booking_id)
    if booking is None or booking.status != BookingStatus.REQUESTED or booking.consultation_id is None:
        return Reassigned.DECIDED
    consultation = session.get(Consultation, booking.consultation_id)
    assert consultation is not None
    coordinator = next(
        (c for c in other_coordinators(desk, consultation, booking) if c.id == coordinator_id), None
    )
    if coordinator is None:
        return Reassigned.NOT_TAKEN
    slot = Slot(
        coordinator_id=coordinator.id,
        method=booking.method,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        blocked_from=booking.blocked_from,
        blocked_until=booking.blocked_until,
    )
    if not _at_work(desk, coordinator, booking):
        return Reassigned.BUSY
    day_cap = day_cap_of(desk.scheduling, coordinator.id, booking.starts_at)
    if count_day_bookings(session=session, coordinator_id=coordinator.id, day_cap=day_cap) >= day_cap.limit:
        return Reassigned.FULL
    now = clock.now()
    if calendars is not None and not calendar_still_free(
        config=desk.scheduling, calendars=calendars, slot=slot, now=now
    ):
        return Reassigned.BUSY
    moved = reassign_booking(
        session=session,
        booking_id=booking.id,
        coordinator_id=coordinator.id,
        clock=clock,
        actor=actor,
        calendars=calendars,
        day_cap=day_cap,
    )
    if not moved:
        return Reassigned.BUSY
    booking = get_booking(session=session, booking_id=booking_id)
    assert booking is not None
    if desk.desk.name_coordinators_to_owners:
        told = texts.REASSIGNED_OWNER_NAMED.format(
            reference=consultation.reference, name=coordinator.name, when=booking_when(booking)
        )
    else:
        told = texts.REASSIGNED_OWNER.format(reference=consultation.reference, when=booking_when(booking))
    _tell_owner(session, outbound, consultation, told, REASSIGNED)
    notify_coordinators(
        session=session,
        outbound=outbound,
        consultation_id=consultation.id,
        kind=REASSIGNED,
        booking_id=booking.id,
    )
    return Reassigned.MOVED

"""The one life cycle of bookings and consultations: their statuses, the legal changes, and what each
change does, in one place (as Netflix Dispatch keeps its case status changes in one dispatcher).

A booking:

    held ──► requested ──► confirmed ──► done / no_show
     │            │            │
     └► expired   ├► declined  └► cancelled
     └► cancelled ├► expired
                  └► cancelled

- held: a time the owner chose while answering; it lapses (`hold_expires_at`) unless submitted.
- requested: the consultation was submitted with it; a coordinator confirms or declines it, and it
  lapses after `submitted_hold_business_days` if nobody does.
- confirmed: the coordinator's; it is written to their calendar (and removed when it leaves).
- declined, expired, cancelled, done, no_show: final; the time is free again.
A change of time (move_booking) keeps the status.

A consultation (the desk's case):

- submitted: received; nobody has taken it up yet.
- in_progress: a coordinator has taken it up (its booking was confirmed, or the desk replied).
- closed: the desk is done with it (the meeting took place, or the question was answered).
- withdrawn: the owner cancelled the request before it was closed.
A closed consultation may be reopened (closed → in_progress).

Every status change goes through transition_booking or transition_consultation: in the caller's
transaction they compare-and-set the status (a stale or illegal change is refused, with its reason, and
nothing is written), add the consultation's history event, and run the change's effects, declared per
(from, to) in BOOKING_EFFECTS: the calendar write-back today; the outbox rows of the Slack, reminder and
privacy issues are added there with register_booking_effect.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot import texts
from config.scheduling import SchedulingConfig
from scheduling import CalendarService, ProviderError, Slot, place_hold, sync_booking_to_calendar
from scheduling.holds import move_booking as _move_booking
from storage.bookings import (
    Booking,
    DayCap,
    change_booking_status,
    hold_expiry_until,
    lapsed_holds,
    lock_bookings,
)
from storage.clock import Clock
from storage.models import Consultation, ConsultationEvent

log = logging.getLogger(__name__)


class BookingStatus(StrEnum):
    """A booking's status (DESIGN.md's contract); storage.bookings.BOOKING_STATUSES holds the same values."""

    HELD = "held"
    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    DONE = "done"
    NO_SHOW = "no_show"


class ConsultationStatus(StrEnum):
    """A consultation's status; storage.models.CONSULTATION_STATUSES holds the same values."""

    SUBMITTED = "submitted"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


B = BookingStatus
C = ConsultationStatus

BOOKING_TRANSITIONS: frozenset[tuple[BookingStatus, BookingStatus]] = frozenset(
    {
        (B.HELD, B.REQUESTED),
        (B.HELD, B.EXPIRED),
        (B.HELD, B.CANCELLED),
        (B.REQUESTED, B.CONFIRMED),
        (B.REQUESTED, B.DECLINED),
        (B.REQUESTED, B.EXPIRED),
        (B.REQUESTED, B.CANCELLED),
        (B.CONFIRMED, B.CANCELLED),
        (B.CONFIRMED, B.DONE),
        (B.CONFIRMED, B.NO_SHOW),
    }
)
CONSULTATION_TRANSITIONS: frozenset[tuple[ConsultationStatus, ConsultationStatus]] = frozenset(
    {
        (C.SUBMITTED, C.IN_PROGRESS),
        (C.SUBMITTED, C.CLOSED),
        (C.SUBMITTED, C.WITHDRAWN),
        (C.IN_PROGRESS, C.CLOSED),
        (C.IN_PROGRESS, C.WITHDRAWN),
        (C.CLOSED, C.IN_PROGRESS),
    }
)
SYSTEM = "system"  # the actor of changes nobody asked for (a hold lapsing)


class Refusal(StrEnum):
    """Why a change was refused."""

    MISSING = "missing"  # no such booking or consultation
    ILLEGAL = "illegal"  # the table has no such change from the current status (e.g. confirmed → confirmed)
    STALE = "stale"  # the status is no longer the one the caller saw (`expected_from`), or changed under it


@dataclass(frozen=True)
class TransitionResult:
    """What came of a change: done, or refused with a reason (and then nothing was written)."""

    ok: bool
    from_status: str | None
    to_status: str
    refusal: Refusal | None = None
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok


@dataclass(frozen=True)
class BookingChange:
    """A booking change just made, for its effects: the booking as it is now, inside the transaction."""

    session: Session
    booking: Booking
    from_status: BookingStatus
    to_status: BookingStatus
    actor: str
    reason: str
    now: datetime
    calendars: CalendarService | None
    history: list[ConsultationEvent] = field(default_factory=list)


BookingEffect = Callable[[BookingChange], None]


def sync_calendar(change: BookingChange) -> None:
    """The coordinator's calendar follows the booking: written when confirmed, removed when it leaves.
    A calendar that fails does not undo the change: the history says so, for the desk to redo by hand."""
    if change.calendars is None or change.booking.coordinator_id not in change.calendars.calendars:
        return
    booking = change.booking
    reference = _reference(change.session, booking.consultation_id)
    try:
        sync_booking_to_calendar(
            session=change.session,
            calendars=change.calendars,
            booking=booking,
            summary=texts.CALENDAR_SUMMARY.format(reference=reference),  # no personal data in a calendar
        )
    except ProviderError:
        log.warning("calendar write-back failed for booking %s", booking.id)
        _history(
            change.session, booking, "calendar_failed", change.actor, change.now, {"booking_id": booking.id}
        )


def take_up_consultation(change: BookingChange) -> None:
    """A confirmed booking means a coordinator has taken the consultation up."""
    if change.booking.consultation_id is not None:
        transition_consultation(
            session=change.session,
            consultation_id=change.booking.consultation_id,
            to=C.IN_PROGRESS,
            expected_from=C.SUBMITTED,
            actor=change.actor,
            reason="booking confirmed",
            now=change.now,
        )


# The effects of each change, in order. Other issues add theirs with register_booking_effect (an
# effect writes outbox rows with storage.outbox.enqueue, in the same transaction).
BOOKING_EFFECTS: dict[tuple[BookingStatus, BookingStatus], list[BookingEffect]] = {
    pair: [] for pair in BOOKING_TRANSITIONS
}
for _pair in BOOKING_TRANSITIONS:
    if B.CONFIRMED in _pair:  # into the calendar, or out of it
        BOOKING_EFFECTS[_pair].append(sync_calendar)
BOOKING_EFFECTS[(B.REQUESTED, B.CONFIRMED)].append(take_up_consultation)


def register_booking_effect(
    from_status: BookingStatus, to_status: BookingStatus, effect: BookingEffect
) -> None:
    """Adds an effect to a legal change (ValueError for an illegal one)."""
    if (from_status, to_status) not in BOOKING_TRANSITIONS:
        raise ValueError(f"{from_status} → {to_status} is not a booking transition")
    BOOKING_EFFECTS[(from_status, to_status)].append(effect)


def unregister_booking_effect(
    from_status: BookingStatus, to_status: BookingStatus, effect: BookingEffect
) -> None:
    """Removes an effect added with register_booking_effect."""
    BOOKING_EFFECTS[(from_status, to_status)].remove(effect)


# What follows a change of time (move_booking), with the booking as it is now (reminders re-time themselves).
MoveEffect = Callable[[Session, Booking, datetime], None]
MOVE_EFFECTS: list[MoveEffect] = []


def register_move_effect(effect: MoveEffect) -> None:
    """Adds an effect of a booking's change of time, run in the same transaction."""
    MOVE_EFFECTS.append(effect)


def unregister_move_effect(effect: MoveEffect) -> None:
    """Removes an effect added with register_move_effect."""
    MOVE_EFFECTS.remove(effect)


def _reference(session: Session, consultation_id: int | None) -> str:
    if consultation_id is None:
        return ""
    consultation = session.get(Consultation, consultation_id)
    return consultation.reference if consultation is not None else ""


def _history(
    session: Session, booking: Booking, kind: str, actor: str, now: datetime, detail: dict[str, Any]
) -> ConsultationEvent | None:
    if booking.consultation_id is None:  # a hold nobody has submitted yet has no history to write to
        return None
    event = ConsultationEvent(
        consultation_id=booking.consultation_id, kind=kind, actor=actor, at=now, detail=detail
    )
    session.add(event)
    session.flush()
    return event


def _fresh_booking(session: Session, booking_id: int) -> Booking | None:
    query = select(Booking).where(Booking.id == booking_id).execution_options(populate_existing=True)
    return session.scalars(query).first()


def transition_booking(
    *,
    session: Session,
    booking_id: int,
    to: BookingStatus,
    actor: str,
    now: datetime,
    expected_from: BookingStatus | Sequence[BookingStatus] | None = None,
    reason: str = "",
    calendars: CalendarService | None = None,
    values: dict[str, Any] | None = None,
) -> TransitionResult:
    """Changes the booking's status to `to`, if that is legal from its status (and its status is
    `expected_from`, when given: what the caller saw), writing `values` beside it; in the same
    transaction the consultation's history gets `booking_<to>` and the change's effects run. A refused
    change writes nothing."""
    to = BookingStatus(to)
    booking = _fresh_booking(session, booking_id)
    if booking is None:
        return TransitionResult(False, None, to, Refusal.MISSING, f"no booking {booking_id}")
    current = BookingStatus(booking.status)
    expected = (expected_from,) if isinstance(expected_from, str) else expected_from
    if expected is not None and current not in expected:
        return TransitionResult(
            False, current, to, Refusal.STALE, f"the booking is {current}, not {'/'.join(expected)}"
        )
    if (current, to) not in BOOKING_TRANSITIONS:
        return TransitionResult(
            False, current, to, Refusal.ILLEGAL, f"a {current} booking cannot become {to}"
        )
    if not change_booking_status(
        session=session, booking_id=booking_id, from_status=current, to_status=to, now=now, values=values
    ):
        return TransitionResult(
            False, current, to, Refusal.STALE, f"the booking was changed from {current} meanwhile"
        )
    session.refresh(booking)
    change = BookingChange(session, booking, current, to, actor, reason, now, calendars)
    detail = {"booking_id": booking.id, "from": str(current), "to": str(to)}
    if reason:
        detail["reason"] = reason
    _history(session, booking, f"booking_{to}", actor, now, detail)
    for effect in BOOKING_EFFECTS[(current, to)]:
        effect(change)
    return TransitionResult(True, current, to, reason=reason)


def transition_consultation(
    *,
    session: Session,
    consultation_id: int,
    to: ConsultationStatus,
    actor: str,
    now: datetime,
    expected_from: ConsultationStatus | None = None,
    reason: str = "",
) -> TransitionResult:
    """Changes the consultation's status, as transition_booking does a booking's, with its history event."""
    to = ConsultationStatus(to)
    consultation = session.scalars(
        select(Consultation)
        .where(Consultation.id == consultation_id)
        .execution_options(populate_existing=True)
    ).first()
    if consultation is None:
        return TransitionResult(False, None, to, Refusal.MISSING, f"no consultation {consultation_id}")
    current = ConsultationStatus(consultation.status)
    if expected_from is not None and current != expected_from:
        return TransitionResult(
            False, current, to, Refusal.STALE, f"the consultation is {current}, not {expected_from}"
        )
    if (current, to) not in CONSULTATION_TRANSITIONS:
        return TransitionResult(
            False, current, to, Refusal.ILLEGAL, f"a {current} consultation cannot become {to}"
        )
    done = session.execute(
        update(Consultation)
        .where(Consultation.id == consultation_id, Consultation.status == current)
        .values(status=to, updated_at=now)
        .returning(Consultation.id)
    ).first()
    if done is None:
        return TransitionResult(
            False, current, to, Refusal.STALE, f"the consultation was changed from {current} meanwhile"
        )
    session.refresh(consultation)
    detail = {"from": str(current), "to": str(to), **({"reason": reason} if reason else {})}
    session.add(
        ConsultationEvent(consultation_id=consultation_id, kind=str(to), actor=actor, at=now, detail=detail)
    )
    session.flush()
    return TransitionResult(True, current, to, reason=reason)


def expire_lapsed_holds(
    *,
    session: Session,
    now: datetime,
    coordinator_id: str | None = None,
    calendars: CalendarService | None = None,
) -> list[int]:
    """Expires every hold (held or requested) past its time, of one coordinator when given; the ids."""
    expired = []
    for booking in lapsed_holds(session=session, now=now, coordinator_id=coordinator_id):
        result = transition_booking(
            session=session,
            booking_id=booking.id,
            to=B.EXPIRED,
            expected_from=BookingStatus(booking.status),
            actor=SYSTEM,
            reason="hold lapsed",
            now=now,
            calendars=calendars,
        )
        if result:
            expired.append(booking.id)
    return expired


def expire_holds(session: Session, clock: Clock) -> list[int]:
    """The scheduler's sweep: expires every lapsed hold (scheduling.jobs.JobContext.expire_holds)."""
    return expire_lapsed_holds(session=session, now=clock.now())


class _NotTaken(Exception):
    pass


def hold_slot(
    *,
    session: Session,
    slot: Slot,
    clock: Clock,
    consultation_id: int | None = None,
    contact_id: int | None = None,
    place: str | None = None,
    meeting_url: str | None = None,
    config: SchedulingConfig | None = None,
    actor: str = SYSTEM,
) -> Booking | None:
    """Holds the slot for the consultation, or for the contact before it is submitted: the lapsed holds
    of the coordinator expire, the owner's earlier hold is cancelled, and the new one is `held`; None
    (and the earlier hold kept) when the slot is taken or no longer meets the rules."""
    now = clock.now()
    lock_bookings(session)
    expire_lapsed_holds(session=session, now=now, coordinator_id=slot.coordinator_id)
    if consultation_id is not None:
        own = select(Booking.id).where(
            Booking.consultation_id == consultation_id, Booking.status.in_((B.HELD, B.REQUESTED))
        )
    elif contact_id is not None:
        own = select(Booking.id).where(
            Booking.contact_id == contact_id, Booking.consultation_id.is_(None), Booking.status == B.HELD
        )
    else:
        raise ValueError("a hold needs a consultation or a contact")
    try:
        with session.begin_nested():
            for booking_id in session.scalars(own).all():
                transition_booking(
                    session=session,
                    booking_id=booking_id,
                    to=B.CANCELLED,
                    actor=actor,
                    reason="replaced",
                    now=now,
                )
            booking = place_hold(
                session=session,
                slot=slot,
                clock=clock,
                consultation_id=consultation_id,
                contact_id=contact_id,
                place=place,
                meeting_url=meeting_url,
                config=config,
            )
            if booking is None:
                raise _NotTaken
    except _NotTaken:
        return None
    _history(session, booking, "booking_held", actor, now, {"booking_id": booking.id, "to": str(B.HELD)})
    return booking


def request_booking(
    *,
    session: Session,
    booking_id: int,
    consultation_id: int,
    actor: str,
    now: datetime,
    hold_until: datetime,
) -> TransitionResult:
    """The owner submitted the consultation with this hold: held → requested, the consultation's now,
    held on while a coordinator decides until `hold_until` (or the meeting's start, if sooner)."""
    return transition_booking(
        session=session,
        booking_id=booking_id,
        to=B.REQUESTED,
        expected_from=B.HELD,
        actor=actor,
        reason="submitted",
        now=now,
        values={"consultation_id": consultation_id, "hold_expires_at": hold_expiry_until(hold_until)},
    )


def move_booking(
    *,
    session: Session,
    booking_id: int,
    slot: Slot,
    clock: Clock,
    actor: str = SYSTEM,
    calendars: CalendarService | None = None,
    event: str = "booking_moved",
    day_cap: DayCap | None = None,
) -> bool:
    """Moves an active booking to another slot, its status unchanged (a confirmed one moves in the
    coordinator's calendar too); False when the slot is taken. The history's `event` names the actor,
    and the coordinators when the slot is another coordinator's."""
    now = clock.now()
    booking = _fresh_booking(session, booking_id)
    if booking is None:
        return False
    previous = booking.coordinator_id
    lock_bookings(session)
    expire_lapsed_holds(session=session, now=now, coordinator_id=slot.coordinator_id, calendars=calendars)
    if not _move_booking(session=session, booking_id=booking_id, slot=slot, clock=clock, day_cap=day_cap):
        return False
    session.refresh(booking)
    detail: dict[str, Any] = {"booking_id": booking.id, "status": booking.status}
    if previous != booking.coordinator_id:
        detail.update({"from_coordinator": previous, "to_coordinator": booking.coordinator_id})
    _history(session, booking, event, actor, now, detail)
    for effect in MOVE_EFFECTS:
        effect(session, booking, now)
    if (
        calendars is not None
        and booking.status == B.CONFIRMED
        and booking.coordinator_id in calendars.calendars
    ):
        try:
            sync_booking_to_calendar(
                session=session,
                calendars=calendars,
                booking=booking,
                summary=texts.CALENDAR_SUMMARY.format(reference=_reference(session, booking.consultation_id)),
                previous_coordinator_id=previous,
            )
        except ProviderError:
            log.warning("calendar write-back failed for booking %s", booking.id)
    return True


def reassign_booking(
    *,
    session: Session,
    booking_id: int,
    coordinator_id: str,
    clock: Clock,
    actor: str,
    calendars: CalendarService | None = None,
    day_cap: DayCap | None = None,
) -> bool:
    """Gives an active booking to another coordinator at the same time (move_booking, its history event
    `booking_reassigned`); False when that coordinator's desk bookings clash with it (or, given
    `day_cap`, their day is full)."""
    booking = _fresh_booking(session, booking_id)
    if booking is None:
        return False
    slot = Slot(
        coordinator_id=coordinator_id,
        method=booking.method,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        blocked_from=booking.blocked_from,
        blocked_until=booking.blocked_until,
    )
    return move_booking(
        session=session,
        booking_id=booking_id,
        slot=slot,
        clock=clock,
        actor=actor,
        calendars=calendars,
        event="booking_reassigned",
        day_cap=day_cap,
    )

"""Holds and bookings: placing, refusing overlaps, releasing, expiring, moving, on SQLite and PostgreSQL
(the status changes through the life cycle, bot.lifecycle)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import cast

import pytest
from sqlalchemy import Engine, Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.lifecycle import BookingStatus, expire_holds, hold_slot, move_booking, transition_booking
from scheduling.holds import place_hold
from scheduling.slots import Slot
from storage.bookings import (
    Booking,
    get_active_booking,
    list_active_bookings,
    list_bookings_for_consultation,
    list_bookings_for_coordinator,
)
from storage.clock import FixedClock
from tests.scheduling.support import jst, make_config


def slot(
    hour: int, minute: int = 0, *, coordinator: str = "a", day: int = 3, minutes: int = 60, travel: int = 0
) -> Slot:
    start = jst(2026, 12, day, hour, minute)
    end = start + timedelta(minutes=minutes)
    return Slot(
        coordinator,
        "online",
        start,
        end,
        start - timedelta(minutes=travel),
        end + timedelta(minutes=travel + 15),
    )


def hold(
    sessions: sessionmaker[Session], consultation_id: int, chosen: Slot, clock: FixedClock
) -> Booking | None:
    with sessions() as session, session.begin():
        return hold_slot(session=session, consultation_id=consultation_id, slot=chosen, clock=clock)


def change(session: Session, booking_id: int, *path: BookingStatus, clock: FixedClock) -> bool:
    """Moves the booking along `path` through the life cycle; whether every step was taken."""
    return all(
        transition_booking(session=session, booking_id=booking_id, to=to, actor="test", now=clock.now())
        for to in path
    )


def statuses(sessions: sessionmaker[Session]) -> dict[int, str]:
    with sessions() as session:
        return {b.id: b.status for b in session.scalars(select(Booking).order_by(Booking.id))}


def test_a_hold_is_stored_with_its_expiry_in_utc(
    session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    booking = hold(session_factory, 1, slot(14), clock)
    assert booking is not None
    with session_factory() as session:
        stored = session.get(Booking, booking.id)
        assert stored is not None
        assert stored.status == "held"
        assert stored.starts_at == jst(2026, 12, 3, 14) and stored.starts_at.tzinfo is UTC
        assert stored.hold_expires_at == clock.now() + timedelta(minutes=45)
        assert (stored.method, stored.coordinator_id, stored.consultation_id) == ("online", "a", 1)


def test_a_hold_never_outlives_its_slot(session_factory: sessionmaker[Session]) -> None:
    clock = FixedClock(jst(2026, 12, 3, 13, 30))  # the hold's 45 minutes would run past the start
    booking = hold(session_factory, 1, slot(14), clock)
    assert booking is not None and booking.hold_expires_at == jst(2026, 12, 3, 14)
    assert hold(session_factory, 2, slot(8), clock) is None  # already begun


def test_overlaps_including_the_buffer_are_refused(
    session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    assert hold(session_factory, 1, slot(10), clock) is not None  # blocks 10:00-11:15
    assert hold(session_factory, 2, slot(10, 30), clock) is None
    assert hold(session_factory, 3, slot(11), clock) is None  # inside the buffer
    assert hold(session_factory, 4, slot(11, 15), clock) is not None
    assert hold(session_factory, 5, slot(9), clock) is None  # its own buffer runs into 10:00
    assert hold(session_factory, 6, slot(10, coordinator="b"), clock) is not None


def test_choosing_another_slot_releases_the_earlier_hold(
    session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    first = hold(session_factory, 1, slot(10), clock)
    second = hold(session_factory, 1, slot(10, 30), clock)  # overlaps only its own earlier hold
    assert first is not None and second is not None
    assert statuses(session_factory) == {first.id: "cancelled", second.id: "held"}
    with session_factory() as session:
        active = get_active_booking(session=session, consultation_id=1)
        assert active is not None and active.id == second.id
        assert [b.id for b in list_bookings_for_consultation(session=session, consultation_id=1)] == [
            first.id,
            second.id,
        ]


def test_a_refused_change_keeps_the_earlier_hold(
    session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    mine = hold(session_factory, 1, slot(10), clock)
    theirs = hold(session_factory, 2, slot(14), clock)
    assert mine is not None and theirs is not None
    assert hold(session_factory, 1, slot(14), clock) is None
    assert statuses(session_factory) == {mine.id: "held", theirs.id: "held"}


def test_release_frees_the_slot_once(session_factory: sessionmaker[Session], clock: FixedClock) -> None:
    booking = hold(session_factory, 1, slot(10), clock)
    assert booking is not None
    with session_factory() as session, session.begin():
        assert change(session, booking.id, BookingStatus.CANCELLED, clock=clock)
        assert not change(session, booking.id, BookingStatus.CANCELLED, clock=clock)
    assert hold(session_factory, 2, slot(10), clock) is not None


def test_expired_holds_free_their_slots(session_factory: sessionmaker[Session], clock: FixedClock) -> None:
    booking = hold(session_factory, 1, slot(10), clock)
    approved = hold(session_factory, 2, slot(14), clock)
    assert booking is not None and approved is not None
    with session_factory() as session, session.begin():
        assert change(session, approved.id, BookingStatus.REQUESTED, BookingStatus.CONFIRMED, clock=clock)
        assert expire_holds(session, clock) == []
    clock.advance(hours=24)
    with session_factory() as session, session.begin():
        assert expire_holds(session, clock) == [booking.id]
        assert expire_holds(session, clock) == []
    assert statuses(session_factory) == {booking.id: "expired", approved.id: "confirmed"}
    assert hold(session_factory, 3, slot(10), clock) is not None
    assert hold(session_factory, 4, slot(14), clock) is None


def test_a_lapsed_hold_frees_its_slot_before_any_sweep(
    session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    lapsed = hold(session_factory, 1, slot(10), clock)
    assert lapsed is not None
    clock.advance(hours=24)  # past the hold's time; no scheduler has run
    with session_factory() as session:
        assert (
            list_active_bookings(
                session=session, start=jst(2026, 12, 3), end=jst(2026, 12, 4), now=clock.now()
            )
            == []
        )
    taken = hold(session_factory, 2, slot(10), clock)
    assert taken is not None
    assert statuses(session_factory) == {lapsed.id: "expired", taken.id: "held"}


def test_approval_is_a_compare_and_set(session_factory: sessionmaker[Session], clock: FixedClock) -> None:
    booking = hold(session_factory, 1, slot(10), clock)
    assert booking is not None
    with session_factory() as session, session.begin():
        transition = partial(
            transition_booking, session=session, booking_id=booking.id, actor="test", now=clock.now()
        )
        assert transition(to=BookingStatus.REQUESTED)
        assert transition(to=BookingStatus.CONFIRMED, expected_from=BookingStatus.REQUESTED)
        assert not transition(to=BookingStatus.DECLINED, expected_from=BookingStatus.REQUESTED)
        stored = session.get(Booking, booking.id)
        assert stored is not None and stored.status == "confirmed" and stored.hold_expires_at is None
        with pytest.raises(ValueError):
            transition(to="maybe")  # type: ignore[arg-type]  # a str that is no status, on purpose


def test_declined_and_cancelled_bookings_do_not_block(
    session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    B = BookingStatus
    paths = ((B.REQUESTED, B.DECLINED), (B.CANCELLED,), (B.REQUESTED, B.CONFIRMED, B.DONE))
    for n, path in enumerate((*paths, (B.REQUESTED, B.CONFIRMED, B.NO_SHOW)), start=1):
        booking = hold(session_factory, n, slot(10), clock)
        assert booking is not None
        with session_factory() as session, session.begin():
            assert change(session, booking.id, *path, clock=clock)


def test_a_booking_moves_only_to_a_free_range(
    session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    mine = hold(session_factory, 1, slot(10), clock)
    theirs = hold(session_factory, 2, slot(14), clock)
    assert mine is not None and theirs is not None
    with session_factory() as session, session.begin():
        assert not move_booking(session=session, booking_id=mine.id, slot=slot(14, 30), clock=clock)
        assert move_booking(
            session=session, booking_id=mine.id, slot=slot(10, 30), clock=clock
        )  # overlaps itself only
        assert move_booking(session=session, booking_id=mine.id, slot=slot(16, day=4), clock=clock)
    with session_factory() as session:
        moved = session.get(Booking, mine.id)
        assert moved is not None and moved.starts_at == jst(2026, 12, 4, 16)
        day = list_bookings_for_coordinator(
            session=session, coordinator_id="a", start=jst(2026, 12, 3), end=jst(2026, 12, 4)
        )
        assert [b.id for b in day] == [theirs.id]


def test_travel_time_is_part_of_what_a_visit_blocks(
    session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    assert hold(session_factory, 1, slot(10, travel=60), clock) is not None  # blocks 09:00-12:15
    assert hold(session_factory, 2, slot(12), clock) is None
    assert hold(session_factory, 3, slot(8), clock) is None


def test_postgresql_refuses_overlaps_even_without_the_recheck(postgres_engine: Engine) -> None:
    row = {
        "consultation_id": 1,
        "coordinator_id": "a",
        "method": "online",
        "starts_at": jst(2026, 12, 3, 10),
        "ends_at": jst(2026, 12, 3, 11),
        "blocked_from": jst(2026, 12, 3, 10),
        "blocked_until": jst(2026, 12, 3, 11, 15),
        "status": "held",
        "created_at": datetime.now(UTC),
        "updated_at": datetime.now(UTC),
    }
    bookings = cast(Table, Booking.__table__)
    with postgres_engine.begin() as conn:
        conn.execute(insert(bookings), row)
        conn.execute(insert(bookings), {**row, "coordinator_id": "b"})
        conn.execute(insert(bookings), {**row, "status": "declined"})
    with pytest.raises(IntegrityError, match="ex_booking_no_overlap"), postgres_engine.begin() as conn:
        conn.execute(
            insert(bookings),
            {
                **row,
                "consultation_id": 2,
                "starts_at": jst(2026, 12, 3, 11),
                "ends_at": jst(2026, 12, 3, 11, 10),
            },
        )


def test_a_hold_for_an_unknown_consultation_is_an_error_not_a_taken_slot(
    session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    with pytest.raises(IntegrityError), session_factory() as session, session.begin():
        place_hold(session=session, consultation_id=999, slot=slot(10), clock=clock)


def test_a_slot_offered_a_while_ago_is_checked_again_against_the_daily_cap(
    session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    config = make_config(max_per_day=2)
    taken = []
    for n, hour in enumerate((9, 11, 13), start=1):
        with session_factory() as session, session.begin():
            taken.append(
                place_hold(session=session, consultation_id=n, slot=slot(hour), clock=clock, config=config)
            )
    assert [b is not None for b in taken] == [True, True, False]
    with session_factory() as session, session.begin():  # another day is another count
        assert place_hold(session=session, consultation_id=4, slot=slot(9, day=4), clock=clock, config=config)


def test_a_slot_offered_a_while_ago_is_checked_again_against_the_notice(
    session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    config = make_config()
    clock.set(jst(2026, 12, 3, 8, 30))  # the button for 12/3 09:00 was shown the day before
    with session_factory() as session, session.begin():
        assert (
            place_hold(session=session, consultation_id=1, slot=slot(9), clock=clock, config=config) is None
        )
        assert place_hold(session=session, consultation_id=1, slot=slot(9, day=4), clock=clock, config=config)

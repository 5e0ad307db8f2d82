"""Fifty owners pick the same slot at the same moment: exactly one holds it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from scheduling.holds import place_hold
from scheduling.slots import Slot
from storage.bookings import Booking, DayCap, insert_hold_if_free
from storage.clock import FixedClock
from tests.scheduling.support import jst, prepare_booking_tables

OWNERS = 50


def race(engine: Engine, slots: Callable[[int], Slot], clock: FixedClock) -> list[int | None]:
    return race_to(
        engine,
        lambda session, n: place_hold(session=session, consultation_id=n + 1, slot=slots(n), clock=clock),
    )


def race_to(engine: Engine, take: Callable[[Session, int], Booking | None]) -> list[int | None]:
    """Fifty owners call `take` at the same moment, each in a transaction of its own."""
    sessions = sessionmaker(engine, expire_on_commit=False)
    start = threading.Barrier(OWNERS)
    results: list[int | None] = [None] * OWNERS
    errors: list[BaseException] = []

    def owner(n: int) -> None:
        try:
            start.wait()
            with sessions() as session, session.begin():
                booking = take(session, n)
                if booking is not None:
                    session.flush()
                    results[n] = booking.id
        except BaseException as exc:  # noqa: BLE001 - collected and re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=owner, args=(n,)) for n in range(OWNERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors[0]
    return results


def active_count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(Booking).where(Booking.status == "held")) or 0


def same_slot(_: int) -> Slot:
    start = jst(2026, 12, 3, 14)
    return Slot("a", "online", start, start + timedelta(hours=1), start, start + timedelta(minutes=75))


def shifted_slot(n: int) -> Slot:
    start = jst(2026, 12, 3, 14) + timedelta(minutes=n % 5 * 10)
    return Slot("a", "online", start, start + timedelta(hours=1), start, start + timedelta(minutes=75))


@pytest.mark.slow
@pytest.mark.parametrize("slots", [same_slot, shifted_slot], ids=["same-slot", "overlapping-slots"])
def test_exactly_one_of_fifty_holds(
    any_engine: Engine, clock: FixedClock, slots: Callable[[int], Slot]
) -> None:
    results = race(any_engine, slots, clock)
    assert sum(r is not None for r in results) == 1
    assert active_count(any_engine) == 1


@pytest.mark.slow
def test_exactly_one_of_fifty_holds_on_a_plain_sqlite_engine(tmp_path: Path, clock: FixedClock) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'plain.db'}", connect_args={"timeout": 30})
    prepare_booking_tables(engine)
    try:
        results = race(engine, same_slot, clock)
        assert sum(r is not None for r in results) == 1
        assert active_count(engine) == 1
    finally:
        engine.dispose()


@pytest.mark.slow
def test_a_full_day_takes_one_of_fifty_holds_at_different_times(
    any_engine: Engine, clock: FixedClock
) -> None:
    """The coordinator's day cap is a count, which no constraint guards: fifty owners asking for fifty
    different times of a day that has room for one get one hold between them."""
    day = jst(2026, 12, 3, 0)
    cap = DayCap(day, day + timedelta(days=1), 1)

    def take(session: Session, n: int) -> Booking | None:
        start = jst(2026, 12, 3, 9) + timedelta(minutes=10 * n)
        return insert_hold_if_free(
            session=session,
            consultation_id=n + 1,
            coordinator_id="a",
            method="online",
            starts_at=start,
            ends_at=start + timedelta(minutes=5),
            blocked_from=start,
            blocked_until=start + timedelta(minutes=5),
            hold_expires_at=start,
            now=clock.now(),
            day_cap=cap,
        )

    results = race_to(any_engine, take)
    assert sum(r is not None for r in results) == 1
    assert active_count(any_engine) == 1

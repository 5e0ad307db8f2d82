"""The one life cycle: every legal change with its history, calendar and outbox effects; every illegal
one refused with nothing written; two coordinators approving at once, one wins; on SQLite and PostgreSQL,
on the migrated schema."""

from __future__ import annotations

import ast
import itertools
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot import texts
from bot.lifecycle import (
    BOOKING_TRANSITIONS,
    CONSULTATION_TRANSITIONS,
    BookingChange,
    BookingStatus,
    ConsultationStatus,
    Refusal,
    TransitionResult,
    hold_slot,
    register_booking_effect,
    transition_booking,
    transition_consultation,
    unregister_booking_effect,
)
from scheduling.calendars import CalendarService
from scheduling.slots import Slot
from storage.bookings import BOOKING_STATUSES, Booking
from storage.clock import FixedClock
from storage.models import CONSULTATION_STATUSES, Consultation, ConsultationEvent, OutboxMessage
from storage.outbox import enqueue
from tests.scheduling.support import RadicaleServer, free_port, jst, make_config
from tests.scheduling.test_propose import new_caldav_calendar

B = BookingStatus
C = ConsultationStatus
# How a booking reaches each status that has changes out of it, from held
PATH = {
    B.HELD: (),
    B.REQUESTED: (B.REQUESTED,),
    B.CONFIRMED: (B.REQUESTED, B.CONFIRMED),
    B.DECLINED: (B.REQUESTED, B.DECLINED),
    B.EXPIRED: (B.EXPIRED,),
    B.CANCELLED: (B.CANCELLED,),
    B.DONE: (B.REQUESTED, B.CONFIRMED, B.DONE),
    B.NO_SHOW: (B.REQUESTED, B.CONFIRMED, B.NO_SHOW),
}
ILLEGAL = sorted(set(itertools.product(B, B)) - BOOKING_TRANSITIONS)
ILLEGAL_CONSULTATION = sorted(set(itertools.product(C, C)) - CONSULTATION_TRANSITIONS)


def a_slot(hour: int = 10) -> Slot:
    start = jst(2026, 12, 3, hour)
    return Slot(
        "a", "online", start, start + timedelta(hours=1), start, start + timedelta(hours=1, minutes=15)
    )


def held(sessions: sessionmaker[Session], clock: FixedClock, consultation_id: int = 1) -> int:
    with sessions() as session, session.begin():
        booking = hold_slot(session=session, consultation_id=consultation_id, slot=a_slot(), clock=clock)
        assert booking is not None
        return booking.id


def change(
    session: Session,
    booking_id: int,
    to: BookingStatus,
    clock: FixedClock,
    calendars: CalendarService | None = None,
    **kwargs: object,
) -> TransitionResult:
    return transition_booking(
        session=session,
        booking_id=booking_id,
        to=to,
        actor="coordinator-a",
        now=clock.now(),
        calendars=calendars,
        **kwargs,  # type: ignore[arg-type]
    )


def at(
    sessions: sessionmaker[Session],
    status: BookingStatus,
    clock: FixedClock,
    calendars: CalendarService | None = None,
) -> int:
    booking_id = held(sessions, clock)
    with sessions() as session, session.begin():
        for to in PATH[status]:
            assert change(session, booking_id, to, clock, calendars)
    return booking_id


def snapshot(sessions: sessionmaker[Session], booking_id: int) -> tuple[object, ...]:
    with sessions() as session:
        booking = session.get(Booking, booking_id)
        assert booking is not None
        events = session.scalar(select(func.count()).select_from(ConsultationEvent))
        outbox = session.scalar(select(func.count()).select_from(OutboxMessage))
        consultation = session.get(Consultation, 1)
        assert consultation is not None
        return (booking.status, booking.hold_expires_at, booking.updated_at, booking.external_uid, events, outbox,
                consultation.status)  # fmt: skip


def history(sessions: sessionmaker[Session]) -> list[tuple[str, str, dict[str, object]]]:
    with sessions() as session:
        rows = session.scalars(select(ConsultationEvent).order_by(ConsultationEvent.id))
        return [(e.kind, e.actor, e.detail) for e in rows]


@pytest.fixture
def outbox_on_every_change() -> Iterator[None]:
    """An effect on every legal change that queues one message, as the Slack issue's effects will."""

    def notify(change: BookingChange) -> None:
        enqueue(
            session=change.session,
            channel="slack",
            contact_id=None,
            consultation_id=change.booking.consultation_id,
            messages=[{"type": "text", "text": f"{change.from_status}→{change.to_status}"}],
            now=change.now,
        )

    for pair in BOOKING_TRANSITIONS:
        register_booking_effect(*pair, notify)
    yield
    for pair in BOOKING_TRANSITIONS:
        unregister_booking_effect(*pair, notify)


def test_the_enums_the_storage_constants_the_labels_and_the_migrated_checks_agree(any_engine: Engine) -> None:
    assert set(BOOKING_STATUSES) == {s.value for s in B} and set(CONSULTATION_STATUSES) == {
        s.value for s in C
    }
    assert set(texts.BOOKING_STATUS_LABELS) == set(BOOKING_STATUSES)
    assert set(texts.CONSULTATION_STATUS_LABELS) == set(CONSULTATION_STATUSES)
    with any_engine.connect() as conn:
        if any_engine.dialect.name == "postgresql":
            checks = {
                name: definition
                for name, definition in conn.execute(
                    text("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'c'")
                )
            }
        else:
            checks = {}
            for (sql,) in conn.execute(text("SELECT sql FROM sqlite_master WHERE type = 'table'")):
                checks.update(re.findall(r"CONSTRAINT (ck_\w+) CHECK \((.*?\)\))", sql))

    def values(name: str) -> set[str]:
        return set(re.findall(r"'(\w+)'", checks[name]))

    assert values("ck_booking_status") == set(BOOKING_STATUSES)
    assert values("ck_consultation_status") == set(CONSULTATION_STATUSES)


@pytest.mark.parametrize(("before", "after"), sorted(BOOKING_TRANSITIONS))
def test_every_legal_change_writes_its_history_its_outbox_row_and_the_calendar(
    before: BookingStatus,
    after: BookingStatus,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    radicale: RadicaleServer,
    monkeypatch: pytest.MonkeyPatch,
    outbox_on_every_change: None,
) -> None:
    calendar = new_caldav_calendar(radicale, monkeypatch, "desk")
    calendars = CalendarService(make_config([{"id": "a", "name": "A", "calendar": calendar}]), clock=clock)
    booking_id = at(session_factory, before, clock, calendars)
    events_before = len(history(session_factory))
    with session_factory() as session, session.begin():
        result = change(session, booking_id, after, clock, calendars, expected_from=before, reason="test")
    assert result == TransitionResult(True, before, after, reason="test")
    written = history(session_factory)[events_before:]
    assert written[0] == (
        f"booking_{after}",
        "coordinator-a",
        {"booking_id": booking_id, "from": str(before), "to": str(after), "reason": "test"},
    )
    # a confirmed booking means a coordinator has taken the consultation up
    taken_up = (before, after) == (B.REQUESTED, B.CONFIRMED)
    assert [kind for kind, _, _ in written[1:]] == (["in_progress"] if taken_up else [])
    with session_factory() as session:
        booking = session.get(Booking, booking_id)
        assert booking is not None and booking.status == after
        consultation = session.get(Consultation, 1)
        assert consultation is not None and consultation.status == (
            "in_progress" if B.CONFIRMED in (*PATH[before], after) else "submitted"
        )
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [r.payload["messages"][0]["text"] for r in rows][-1] == f"{before}→{after}"
        assert len(rows) == len(PATH[before]) + 1  # one row per change
        assert (booking.external_uid is not None) == (after == B.CONFIRMED)
        assert (booking.hold_expires_at is not None) == (after in (B.HELD, B.REQUESTED))
    fresh = CalendarService(make_config([{"id": "a", "name": "A", "calendar": calendar}]), clock=clock)
    busy = fresh.busy(["a"], jst(2026, 12, 1), jst(2026, 12, 5))["a"]
    expected = [(a_slot().starts_at, a_slot().ends_at)] if after == B.CONFIRMED else []
    assert [(b.starts_at, b.ends_at) for b in busy.intervals] == expected


@pytest.mark.parametrize(("before", "after"), ILLEGAL)
def test_every_illegal_change_is_refused_and_writes_nothing(
    before: BookingStatus,
    after: BookingStatus,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    outbox_on_every_change: None,
) -> None:
    booking_id = at(session_factory, before, clock)
    kept = snapshot(session_factory, booking_id)
    clock.advance(minutes=5)
    with session_factory() as session, session.begin():
        result = change(session, booking_id, after, clock)
    assert not result and result.refusal == Refusal.ILLEGAL and result.from_status == before
    assert result.reason == f"a {before} booking cannot become {after}"
    assert snapshot(session_factory, booking_id) == kept


def test_a_second_approval_and_an_approval_after_a_cancellation_are_refused(
    session_factory: sessionmaker[Session],
    clock: FixedClock,
) -> None:
    approved = at(session_factory, B.CONFIRMED, clock)
    kept = snapshot(session_factory, approved)
    with session_factory() as session, session.begin():
        second = change(session, approved, B.CONFIRMED, clock, expected_from=B.REQUESTED)
    assert (second.refusal, second.reason) == (Refusal.STALE, "the booking is confirmed, not requested")
    assert snapshot(session_factory, approved) == kept

    with session_factory() as session, session.begin():
        cancelled = change(session, approved, B.CANCELLED, clock)
        assert cancelled
    with session_factory() as session, session.begin():
        late = change(session, approved, B.CONFIRMED, clock)
    assert (late.refusal, late.reason) == (Refusal.ILLEGAL, "a cancelled booking cannot become confirmed")
    with session_factory() as session, session.begin():
        assert change(session, 999, B.CONFIRMED, clock).refusal == Refusal.MISSING


def test_two_coordinators_approving_at_once_one_wins(
    session_factory: sessionmaker[Session],
    clock: FixedClock,
) -> None:
    booking_id = at(session_factory, B.REQUESTED, clock)
    events_before = len(history(session_factory))
    start = threading.Barrier(2)
    results: list[TransitionResult] = []

    def approve(actor: str) -> None:
        with session_factory() as session:
            seen = session.get(Booking, booking_id)
            assert seen is not None and seen.status == "requested"  # both saw it waiting
            session.rollback()
            start.wait(timeout=10)
            with session.begin():
                results.append(
                    transition_booking(
                        session=session,
                        booking_id=booking_id,
                        to=B.CONFIRMED,
                        expected_from=B.REQUESTED,
                        actor=actor,
                        now=clock.now(),
                    )
                )

    threads = [threading.Thread(target=approve, args=(f"coordinator-{n}",)) for n in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(r.ok for r in results) == [False, True]
    [lost] = [r for r in results if not r.ok]
    assert lost.refusal == Refusal.STALE
    kinds = [kind for kind, _, _ in history(session_factory)[events_before:]]
    assert kinds == ["booking_confirmed", "in_progress"]


def test_submission_takes_a_hold_to_requested_with_the_longer_expiry(
    session_factory: sessionmaker[Session],
    clock: FixedClock,
) -> None:
    from bot.lifecycle import request_booking

    with session_factory() as session, session.begin():
        booking = hold_slot(session=session, contact_id=1, slot=a_slot(), clock=clock)
        assert booking is not None and booking.consultation_id is None
        booking_id = booking.id
    with session_factory() as session, session.begin():
        until = clock.now() + timedelta(days=2)
        assert request_booking(
            session=session,
            booking_id=booking_id,
            consultation_id=1,
            actor="line",
            now=clock.now(),
            hold_until=until,
        )
        again = request_booking(
            session=session,
            booking_id=booking_id,
            consultation_id=2,
            actor="line",
            now=clock.now(),
            hold_until=until,
        )
        assert again.refusal == Refusal.STALE
    with session_factory() as session:
        stored = session.get(Booking, booking_id)
        assert stored is not None
        assert (stored.status, stored.consultation_id, stored.hold_expires_at) == ("requested", 1, until)
    assert [kind for kind, _, _ in history(session_factory)] == ["booking_requested"]


@pytest.mark.parametrize(("before", "after"), sorted(CONSULTATION_TRANSITIONS))
def test_every_legal_consultation_change_writes_its_history(
    before: ConsultationStatus,
    after: ConsultationStatus,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
) -> None:
    path = {C.SUBMITTED: (), C.IN_PROGRESS: (C.IN_PROGRESS,), C.CLOSED: (C.CLOSED,)}[before]
    with session_factory() as session, session.begin():
        for to in (*path, after):
            assert transition_consultation(
                session=session, consultation_id=1, to=to, actor="desk", now=clock.now()
            )
    with session_factory() as session:
        consultation = session.get(Consultation, 1)
        assert consultation is not None and consultation.status == after
    assert [kind for kind, _, _ in history(session_factory)] == [*path, after]


@pytest.mark.parametrize(("before", "after"), ILLEGAL_CONSULTATION)
def test_every_illegal_consultation_change_is_refused_and_writes_nothing(
    before: ConsultationStatus,
    after: ConsultationStatus,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
) -> None:
    path = {
        C.SUBMITTED: (),
        C.IN_PROGRESS: (C.IN_PROGRESS,),
        C.CLOSED: (C.CLOSED,),
        C.WITHDRAWN: (C.WITHDRAWN,),
    }
    with session_factory() as session, session.begin():
        for to in path[before]:
            assert transition_consultation(
                session=session, consultation_id=1, to=to, actor="desk", now=clock.now()
            )
    kept = history(session_factory)
    with session_factory() as session, session.begin():
        result = transition_consultation(
            session=session, consultation_id=1, to=after, actor="desk", now=clock.now()
        )
    assert not result and result.refusal == Refusal.ILLEGAL
    with session_factory() as session:
        consultation = session.get(Consultation, 1)
        assert consultation is not None and consultation.status == before
    assert history(session_factory) == kept


def test_every_status_change_goes_through_the_life_cycle() -> None:
    """Nothing below handlers/ (nor handlers/) writes a booking's or consultation's status but the life
    cycle: the compare-and-set is called from bot/lifecycle.py alone, and the only other status written
    is a new row's first (a hold is held, a consultation submitted)."""
    root = Path(__file__).resolve().parents[2]
    callers, writes = set(), set()
    for path in sorted(
        p
        for layer in ("bot", "handlers", "scheduling", "storage", "reporting")
        for p in (root / layer).rglob("*.py")
    ):
        if "migrations" in path.parts:
            continue
        name = str(path.relative_to(root))
        for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(function, ast.FunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Name) and node.id == "change_booking_status":
                    callers.add(name)
                if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Attribute) and t.attr == "status" for t in node.targets
                ):
                    writes.add((name, function.name))
                if (
                    isinstance(node, ast.Call)
                    and any(
                        isinstance(a, ast.Name) and a.id in ("Booking", "Consultation") for a in node.args
                    )
                    and getattr(node.func, "id", "") == "update"
                ):
                    writes.add((name, function.name))
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "id", "") in ("Booking", "Consultation")
                    and any(k.arg == "status" for k in node.keywords)
                ):
                    writes.add((name, function.name))
    assert callers == {"bot/lifecycle.py"}
    assert writes == {
        ("storage/bookings.py", "insert_hold_if_free"),  # a new hold, held
        ("storage/bookings.py", "change_booking_status"),  # the compare-and-set
        ("storage/bookings.py", "move_booking_if_free"),  # the time only, not the status
        ("storage/bookings.py", "extend_contact_hold"),  # the expiry only
        ("storage/consultations.py", "create_consultation"),  # a new consultation, submitted
        ("bot/lifecycle.py", "transition_consultation"),
        ("storage/inbox.py", "mark_processed"),  # other tables' statuses
        ("storage/inbox.py", "record_failure"),
        ("storage/reminders.py", "arm_reminders"),  # a reminder's own status
        ("scheduling/providers/cached.py", "__init__"),
        ("bot/demo_cases.py", "consult"),  # demo-data writes fictitious histories as rows, not transitions
    }


def test_a_calendar_that_fails_does_not_undo_the_approval_and_the_history_says_so(
    session_factory: sessionmaker[Session], clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MADOGUCHI_TEST_CALDAV_PASSWORD", "x")
    down = {
        "provider": "caldav",
        "url": f"http://127.0.0.1:{free_port()}/",  # nobody listens
        "username": "u",
        "password_env": "MADOGUCHI_TEST_CALDAV_PASSWORD",
        "calendar_path": "/u/desk/",
    }
    calendars = CalendarService(make_config([{"id": "a", "name": "A", "calendar": down}]), clock=clock)
    booking_id = at(session_factory, B.REQUESTED, clock)
    with session_factory() as session, session.begin():
        assert change(session, booking_id, B.CONFIRMED, clock, calendars)
    with session_factory() as session:
        booking = session.get(Booking, booking_id)
        assert booking is not None and booking.status == "confirmed" and booking.external_uid is None
    assert [kind for kind, _, _ in history(session_factory)][-3:] == [
        "booking_confirmed",
        "calendar_failed",
        "in_progress",
    ]

"""Proposing slots from calendars and desk bookings, holding one, and the booking's calendar copy."""

from __future__ import annotations

import uuid

import pytest
from caldav.davclient import DAVClient
from sqlalchemy.orm import Session, sessionmaker

from bot.lifecycle import BookingStatus, move_booking, transition_booking
from config import load_desk_config
from config.scheduling import SchedulingConfig
from scheduling.calendars import CalendarService
from scheduling.holds import place_hold, sync_booking_to_calendar
from scheduling.labels import label_slot
from scheduling.propose import calendar_still_free, propose_slots
from scheduling.slots import Proposal, SlotRequest
from storage.bookings import get_booking
from storage.clock import JST, FixedClock
from tests.scheduling.support import (
    RADICALE_PASSWORD,
    RADICALE_USER,
    FeedServer,
    RadicaleServer,
    ics_document,
    jst,
    make_config,
)


def request(
    clock: FixedClock, *, method: str = "online", category: str = "other", region: str = "kagoshima"
) -> SlotRequest:
    return SlotRequest(method=method, category=category, region=region, now=clock.now())


def propose(
    sessions: sessionmaker[Session],
    config: SchedulingConfig,
    calendars: CalendarService,
    clock: FixedClock,
    **fields: str,
) -> Proposal:
    with sessions() as session:
        return propose_slots(
            session=session, config=config, calendars=calendars, request=request(clock, **fields)
        )


def test_desk_bookings_and_feed_busy_times_are_both_respected(
    session_factory: sessionmaker[Session], clock: FixedClock, feed: FeedServer
) -> None:
    feed.body = ics_document(
        "UID:x\nDTSTAMP:20261101T000000Z\nDTSTART;TZID=Asia/Tokyo:20261126T090000\nDTEND;TZID=Asia/Tokyo:20261126T170000"
    )
    config = make_config(
        [{"id": "a", "name": "A", "calendar": {"provider": "ics", "url": feed.url}}], proposals=3
    )
    calendars = CalendarService(config, clock=clock)
    first = propose(session_factory, config, calendars, clock)
    assert [label_slot(s) for s in first.slots] == ["11/27(金) 09:00", "11/30(月) 09:00", "12/1(火) 09:00"]

    with session_factory() as session, session.begin():
        assert place_hold(session=session, consultation_id=1, slot=first.slots[0], clock=clock) is not None
    again = propose(session_factory, config, calendars, clock)
    assert [label_slot(s) for s in again.slots] == ["11/27(金) 10:30", "11/30(月) 09:00", "12/1(火) 09:00"]
    assert feed.requests == 1  # the second proposal was served from the cache


def test_a_taken_slot_is_refused_quietly_and_fresh_slots_follow(
    session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    config = make_config()
    calendars = CalendarService(config, clock=clock)
    offered = propose(session_factory, config, calendars, clock).slots
    with session_factory() as session, session.begin():
        assert place_hold(session=session, consultation_id=1, slot=offered[0], clock=clock) is not None
    with session_factory() as session, session.begin():
        assert place_hold(session=session, consultation_id=2, slot=offered[0], clock=clock) is None
    fresh = propose(session_factory, config, calendars, clock).slots
    assert offered[0] not in fresh
    with session_factory() as session, session.begin():
        assert place_hold(session=session, consultation_id=2, slot=fresh[0], clock=clock) is not None


def test_a_failed_calendar_without_cache_says_so(
    session_factory: sessionmaker[Session], clock: FixedClock, feed: FeedServer
) -> None:
    feed.status = 500
    config = make_config([{"id": "a", "name": "A", "calendar": {"provider": "ics", "url": feed.url}}])
    calendars = CalendarService(config, clock=clock)
    proposal = propose(session_factory, config, calendars, clock)
    assert (proposal.status, proposal.unavailable) == ("calendar_unavailable", ("a",))
    assert calendars.status()["status"] == "degraded"


def test_unscheduled_requests_read_no_calendar(
    session_factory: sessionmaker[Session], clock: FixedClock, feed: FeedServer
) -> None:
    config = make_config(
        [{"id": "a", "name": "A", "calendar": {"provider": "ics", "url": feed.url}}],
        remote_regions={"oshima": "online_only"},
    )
    calendars = CalendarService(config, clock=clock)
    assert propose(session_factory, config, calendars, clock, method="email").status == "not_scheduled"
    assert (
        propose(session_factory, config, calendars, clock, method="onsite", region="oshima").status
        == "online_only"
    )
    assert feed.requests == 0


@pytest.mark.parametrize(
    ("fields", "expected_first"),
    [
        ({"category": "ec_sales"}, "11/26(木) 10:00"),  # 例）鈴木: equal load, first by id
        ({"category": "manufacturing_dx", "method": "onsite", "region": "osumi"}, "11/26(木) 10:30"),
        ({"category": "manufacturing_dx", "method": "onsite", "region": "oshima"}, "11/26(木) 終日"),
    ],
)
def test_the_shipped_examples_propose_real_slots(
    session_factory: sessionmaker[Session], clock: FixedClock, fields: dict[str, str], expected_first: str
) -> None:
    config = load_desk_config().scheduling
    proposal = propose(session_factory, config, CalendarService(config, clock=clock), clock, **fields)
    assert proposal.status == "ok" and len(proposal.slots) == 5
    assert label_slot(proposal.slots[0]) == expected_first


def test_the_shipped_examples_offer_saturdays_and_holidays(session_factory: sessionmaker[Session]) -> None:
    config = load_desk_config().scheduling
    calendars = CalendarService(config, clock=FixedClock(jst(2026, 11, 17, 9)))
    saturday = propose(
        session_factory, config, calendars, FixedClock(jst(2026, 11, 17, 9)), category="web_sns"
    )
    assert "11/21(土) 10:00" in [label_slot(s) for s in saturday.slots]
    holiday = propose(
        session_factory, config, calendars, FixedClock(jst(2026, 11, 19, 9)), category="manufacturing_dx"
    )
    assert "11/23(月・祝) 09:00" in [label_slot(s) for s in holiday.slots]


def new_caldav_calendar(
    radicale: RadicaleServer, monkeypatch: pytest.MonkeyPatch, name: str
) -> dict[str, str]:
    """A new calendar on the Radicale server, as a coordinator's calendar settings."""
    monkeypatch.setenv("MADOGUCHI_TEST_CALDAV_PASSWORD", RADICALE_PASSWORD)
    cal_id = f"{name}-{uuid.uuid4().hex[:8]}"
    with DAVClient(url=radicale.url, username=RADICALE_USER, password=RADICALE_PASSWORD) as client:
        client.principal().make_calendar(name=name, cal_id=cal_id)
    return {
        "provider": "caldav",
        "url": radicale.url,
        "username": RADICALE_USER,
        "password_env": "MADOGUCHI_TEST_CALDAV_PASSWORD",
        "calendar_path": f"/{RADICALE_USER}/{cal_id}/",
    }


def test_an_approved_booking_is_written_moved_and_removed_in_caldav(
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    radicale: RadicaleServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dav = new_caldav_calendar(radicale, monkeypatch, "desk")
    config = make_config([{"id": "a", "name": "A", "calendar": dav}], busy_cache_refresh_seconds=3600)
    calendars = CalendarService(config, clock=clock)
    offered = propose(session_factory, config, calendars, clock).slots
    with session_factory() as session, session.begin():
        booking = place_hold(session=session, consultation_id=1, slot=offered[0], clock=clock)
        assert booking is not None
        for to in (BookingStatus.REQUESTED, BookingStatus.CONFIRMED):  # confirmed: written to the calendar
            assert transition_booking(
                session=session, booking_id=booking.id, to=to, actor="a", now=clock.now(), calendars=calendars
            )
        assert booking.external_uid == f"madoguchi-booking-{booking.id}"
    busy = calendars.busy(["a"], jst(2026, 11, 26), jst(2026, 12, 17))["a"]
    assert [(b.starts_at, b.ends_at) for b in busy.intervals] == [(offered[0].starts_at, offered[0].ends_at)]

    with session_factory() as session, session.begin():  # moved, and moved in the calendar
        assert move_booking(
            session=session, booking_id=booking.id, slot=offered[2], clock=clock, calendars=calendars
        )
    busy = calendars.busy(["a"], jst(2026, 11, 26), jst(2026, 12, 17))["a"]
    assert [b.starts_at for b in busy.intervals] == [offered[2].starts_at]

    with session_factory() as session, session.begin():
        assert transition_booking(
            session=session,
            booking_id=booking.id,
            to=BookingStatus.CANCELLED,
            actor="a",
            now=clock.now(),
            calendars=calendars,
        )
        cancelled = get_booking(session=session, booking_id=booking.id)
        assert cancelled is not None
        assert cancelled.external_uid is None
    assert calendars.busy(["a"], jst(2026, 11, 26), jst(2026, 12, 17))["a"].intervals == ()


def test_a_time_the_calendar_has_filled_since_it_was_offered_is_refused(
    session_factory: sessionmaker[Session], clock: FixedClock, feed: FeedServer
) -> None:
    feed.body = ics_document()
    config = make_config([{"id": "a", "name": "A", "calendar": {"provider": "ics", "url": feed.url}}])
    calendars = CalendarService(config, clock=clock)
    offered = propose(session_factory, config, calendars, clock).slots[0]
    assert calendar_still_free(config=config, calendars=calendars, slot=offered, now=clock.now())
    start = offered.starts_at.astimezone(JST).strftime("%Y%m%dT%H%M%S")
    end = offered.ends_at.astimezone(JST).strftime("%Y%m%dT%H%M%S")
    feed.body = ics_document(
        f"UID:new\nDTSTAMP:20261101T000000Z\nDTSTART;TZID=Asia/Tokyo:{start}\nDTEND;TZID=Asia/Tokyo:{end}"
    )
    clock.advance(minutes=10)  # past the cache's refresh: the calendar is read again
    assert not calendar_still_free(config=config, calendars=calendars, slot=offered, now=clock.now())
    feed.status = 500
    calendars = CalendarService(config, clock=clock)  # no cache, and the calendar fails: not refused
    assert calendar_still_free(config=config, calendars=calendars, slot=offered, now=clock.now())


def test_a_booking_reassigned_to_another_coordinator_leaves_the_first_calendar(
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    radicale: RadicaleServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    people = [
        {"id": p, "name": p.upper(), "calendar": new_caldav_calendar(radicale, monkeypatch, p)} for p in "ab"
    ]
    config = make_config(people)
    calendars = CalendarService(config, clock=clock)
    offered = propose(session_factory, config, calendars, clock).slots[0]
    with session_factory() as session, session.begin():
        booking = place_hold(session=session, consultation_id=1, slot=offered, clock=clock)
        assert booking is not None
        booking.status = "confirmed"
        sync_booking_to_calendar(session=session, calendars=calendars, booking=booking, summary="窓口相談")
        first = booking.coordinator_id
        other = "b" if first == "a" else "a"
        booking.coordinator_id = other  # reassigned, same time
        sync_booking_to_calendar(
            session=session,
            calendars=calendars,
            booking=booking,
            summary="窓口相談",
            previous_coordinator_id=first,
        )
    window = (jst(2026, 11, 26), jst(2026, 12, 17))
    assert calendars.busy([first], *window)[first].intervals == ()
    assert [b.starts_at for b in calendars.busy([other], *window)[other].intervals] == [offered.starts_at]

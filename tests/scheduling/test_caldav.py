"""CalDAV against a real Radicale server: busy times, recurrence, write-back, move, delete, failures."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest
from caldav.davclient import DAVClient

from config.scheduling import CalendarSettings, SchedulingConfig
from scheduling.calendars import CalendarService
from scheduling.providers import BusyInterval, CachedCalendar, CalDAVCalendar, CalendarEvent, ProviderError
from storage.clock import FixedClock
from tests.scheduling.support import (
    RADICALE_PASSWORD,
    RADICALE_SECOND_USER,
    RADICALE_USER,
    RadicaleServer,
    jst,
)

PASSWORD_ENV = "MADOGUCHI_TEST_CALDAV_PASSWORD"
WINDOW = (jst(2026, 11, 26), jst(2026, 12, 17))


@pytest.fixture
def password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, RADICALE_PASSWORD)


@pytest.fixture
def calendar_path(radicale: RadicaleServer) -> Iterator[str]:
    """A new, empty calendar of the test user; its path."""
    cal_id = f"work-{uuid.uuid4().hex[:8]}"
    with DAVClient(url=radicale.url, username=RADICALE_USER, password=RADICALE_PASSWORD) as client:
        client.principal().make_calendar(name="仕事", cal_id=cal_id)
    yield f"/{RADICALE_USER}/{cal_id}/"


def settings(server: RadicaleServer, path: str, **fields: object) -> CalendarSettings:
    values: dict[str, object] = {
        "provider": "caldav",
        "url": server.url,
        "username": RADICALE_USER,
        "password_env": PASSWORD_ENV,
        "calendar_path": path,
        "timeout_seconds": 5,
    }
    return CalendarSettings.model_validate(values | fields)


def put(server: RadicaleServer, path: str, *lines: str) -> None:
    """Stores one VEVENT (given as its content lines) in the calendar, as another client would."""
    body = "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//test//EN",
            "BEGIN:VEVENT",
            *lines,
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )
    with DAVClient(url=server.url, username=RADICALE_USER, password=RADICALE_PASSWORD) as client:
        client.calendar(url=server.url.rstrip("/") + path).save_event(body)


def stored_uids(server: RadicaleServer, path: str) -> list[str]:
    with DAVClient(url=server.url, username=RADICALE_USER, password=RADICALE_PASSWORD) as client:
        events = client.calendar(url=server.url.rstrip("/") + path).events()
        return sorted(str(e.icalendar_component["UID"]) for e in events)


def test_busy_times_of_timed_all_day_and_floating_events(
    radicale: RadicaleServer, calendar_path: str, password: None
) -> None:
    put(
        radicale,
        calendar_path,
        "UID:timed",
        "DTSTAMP:20261101T000000Z",
        "DTSTART;TZID=Asia/Tokyo:20261203T140000",
        "DTEND;TZID=Asia/Tokyo:20261203T153000",
        "SUMMARY:商談",
    )
    put(
        radicale,
        calendar_path,
        "UID:utc",
        "DTSTAMP:20261101T000000Z",
        "DTSTART:20261204T010000Z",
        "DTEND:20261204T020000Z",
    )
    put(
        radicale,
        calendar_path,
        "UID:allday",
        "DTSTAMP:20261101T000000Z",
        "DTSTART;VALUE=DATE:20261207",
        "DTEND;VALUE=DATE:20261208",
    )
    put(
        radicale,
        calendar_path,
        "UID:floating",
        "DTSTAMP:20261101T000000Z",
        "DTSTART:20261209T100000",
        "DURATION:PT1H",
    )
    put(
        radicale,
        calendar_path,
        "UID:free",
        "DTSTAMP:20261101T000000Z",
        "DTSTART:20261210T010000Z",
        "DTEND:20261210T020000Z",
        "TRANSP:TRANSPARENT",
    )
    put(
        radicale,
        calendar_path,
        "UID:cancelled",
        "DTSTAMP:20261101T000000Z",
        "DTSTART:20261211T010000Z",
        "DTEND:20261211T020000Z",
        "STATUS:CANCELLED",
    )
    put(
        radicale,
        calendar_path,
        "UID:outside",
        "DTSTAMP:20261101T000000Z",
        "DTSTART:20270110T010000Z",
        "DTEND:20270110T020000Z",
    )
    busy = CalDAVCalendar(settings(radicale, calendar_path)).fetch_busy(*WINDOW)
    assert busy == [
        BusyInterval(jst(2026, 12, 3, 14), jst(2026, 12, 3, 15, 30)),
        BusyInterval(jst(2026, 12, 4, 10), jst(2026, 12, 4, 11)),
        BusyInterval(jst(2026, 12, 7), jst(2026, 12, 8)),
        BusyInterval(jst(2026, 12, 9, 10), jst(2026, 12, 9, 11)),
    ]
    assert all(b.starts_at.tzinfo is UTC for b in busy)


def test_recurring_events_are_expanded_with_their_exceptions(
    radicale: RadicaleServer, calendar_path: str, password: None
) -> None:
    put(
        radicale,
        calendar_path,
        "UID:weekly",
        "DTSTAMP:20261101T000000Z",
        "DTSTART;TZID=Asia/Tokyo:20261102T100000",
        "DTEND;TZID=Asia/Tokyo:20261102T110000",
        "RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20261231T000000Z",
        "EXDATE;TZID=Asia/Tokyo:20261207T100000",
    )
    busy = CalDAVCalendar(settings(radicale, calendar_path)).fetch_busy(*WINDOW)
    assert [b.starts_at for b in busy] == [jst(2026, 11, 30, 10), jst(2026, 12, 14, 10)]


def test_a_booking_is_written_moved_and_deleted(
    radicale: RadicaleServer, calendar_path: str, password: None
) -> None:
    calendar = CalDAVCalendar(settings(radicale, calendar_path))
    event = CalendarEvent(
        uid="madoguchi-booking-7",
        starts_at=jst(2026, 12, 3, 14),
        ends_at=jst(2026, 12, 3, 15),
        summary="窓口相談 #7（オンライン）",
        url="https://meet.example.invalid/x",
    )
    assert calendar.write_event(event) == "madoguchi-booking-7"
    assert calendar.fetch_busy(*WINDOW) == [BusyInterval(jst(2026, 12, 3, 14), jst(2026, 12, 3, 15))]
    with DAVClient(url=radicale.url, username=RADICALE_USER, password=RADICALE_PASSWORD) as client:
        data = (
            client.calendar(url=radicale.url.rstrip("/") + calendar_path)
            .event_by_uid("madoguchi-booking-7")
            .data
        )
    assert "DTSTART;TZID=Asia/Tokyo:20261203T140000" in data and "BEGIN:VTIMEZONE" in data
    assert "窓口相談 #7" in data

    moved = CalendarEvent(
        uid=event.uid, starts_at=jst(2026, 12, 8, 10), ends_at=jst(2026, 12, 8, 11), summary=event.summary
    )
    calendar.move_event(moved)
    assert calendar.fetch_busy(*WINDOW) == [BusyInterval(jst(2026, 12, 8, 10), jst(2026, 12, 8, 11))]
    assert stored_uids(radicale, calendar_path) == ["madoguchi-booking-7"]

    calendar.delete_event(event.uid)
    assert calendar.fetch_busy(*WINDOW) == []
    calendar.delete_event(event.uid)  # already gone: not an error
    calendar.move_event(moved)  # gone, so written anew
    assert stored_uids(radicale, calendar_path) == ["madoguchi-booking-7"]


def test_the_first_calendar_of_the_account_is_found_without_a_path(
    radicale: RadicaleServer, password: None
) -> None:
    with DAVClient(url=radicale.url, username=RADICALE_SECOND_USER, password=RADICALE_PASSWORD) as client:
        calendars = client.principal().calendars()
        calendar = calendars[0] if calendars else client.principal().make_calendar(name="main", cal_id="main")
        calendar.save_event(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20261101T000000Z\r\n"
            "DTSTART:20261203T010000Z\r\nDTEND:20261203T020000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        )
    found = CalDAVCalendar(settings(radicale, "", username=RADICALE_SECOND_USER)).fetch_busy(*WINDOW)
    assert found == [BusyInterval(jst(2026, 12, 3, 10), jst(2026, 12, 3, 11))]


def test_wrong_credentials_are_a_provider_failure_and_the_cache_stands_in(
    radicale: RadicaleServer,
    calendar_path: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    put(
        radicale,
        calendar_path,
        "UID:a",
        "DTSTAMP:20261101T000000Z",
        "DTSTART:20261203T010000Z",
        "DTEND:20261203T020000Z",
    )
    clock = FixedClock(jst(2026, 11, 25, 10))
    cached = CachedCalendar(
        CalDAVCalendar(settings(radicale, calendar_path)),
        coordinator_id="c1",
        clock=clock,
        refresh_seconds=0,
        max_age_minutes=60,
    )
    monkeypatch.setenv(PASSWORD_ENV, "wrong-password")
    with pytest.raises(ProviderError, match="credentials"):
        cached.provider.fetch_busy(*WINDOW)
    failed = cached.busy(*WINDOW)
    assert (failed.source, failed.intervals, cached.status.state) == ("failed", (), "failed")

    monkeypatch.setenv(PASSWORD_ENV, RADICALE_PASSWORD)
    assert cached.busy(*WINDOW).source == "live"
    assert cached.status.state == "ok"
    monkeypatch.setenv(PASSWORD_ENV, "wrong-password")
    clock.advance(minutes=30)
    with caplog.at_level(logging.WARNING, logger="scheduling"):
        stale = cached.busy(*WINDOW)
    assert stale.source == "stale" and [b.starts_at for b in stale.intervals] == [jst(2026, 12, 3, 10)]
    assert cached.status.state == "stale" and cached.status.consecutive_failures == 1
    logged = caplog.text
    assert "c1" in logged and "credentials" in logged
    for secret in ("wrong-password", RADICALE_USER, radicale.url, str(radicale.port)):
        assert secret not in logged
    clock.advance(minutes=31)
    assert cached.busy(*WINDOW).source == "failed"


@pytest.fixture
def own_radicale(tmp_path: Path) -> Iterator[RadicaleServer]:
    server = RadicaleServer(tmp_path)
    server.start()
    yield server
    server.stop()


def test_a_server_outage_falls_back_to_the_cache_and_shows_in_the_status(
    own_radicale: RadicaleServer, password: None
) -> None:
    with DAVClient(url=own_radicale.url, username=RADICALE_USER, password=RADICALE_PASSWORD) as client:
        client.principal().make_calendar(name="work", cal_id="work")
    put(
        own_radicale,
        f"/{RADICALE_USER}/work/",
        "UID:a",
        "DTSTAMP:20261101T000000Z",
        "DTSTART:20261203T010000Z",
        "DTEND:20261203T020000Z",
    )
    clock = FixedClock(jst(2026, 11, 25, 10))
    config = SchedulingConfig.model_validate(
        {
            "coordinators": [
                {
                    "id": "dav",
                    "name": "D",
                    "calendar": settings(own_radicale, f"/{RADICALE_USER}/work/").model_dump(),
                },
                {"id": "local", "name": "L"},
            ],
            "rules": {"busy_cache_refresh_seconds": 0, "busy_cache_max_age_minutes": 120},
        }
    )
    service = CalendarService(config, clock=clock)
    assert service.busy(["dav", "local"], *WINDOW)["dav"].source == "live"
    own_radicale.stop()
    clock.advance(minutes=5)
    during = service.busy(["dav", "local"], *WINDOW)
    assert during["dav"].source == "stale" and len(during["dav"].intervals) == 1
    assert during["local"].source == "live"
    status = service.status()
    assert status["status"] == "degraded"
    calendars = status["calendars"]
    assert isinstance(calendars, dict)
    assert (
        calendars["dav"]["state"] == "stale"
        and calendars["dav"]["last_error"] == "CalDAV failed (ConnectionError)"
    )
    assert calendars["local"]["state"] == "ok"
    with pytest.raises(ProviderError):
        service.write_booking("dav", CalendarEvent("u", jst(2026, 12, 3, 14), jst(2026, 12, 3, 15), "x"))
    clock.advance(hours=3)
    assert service.busy(["dav"], *WINDOW)["dav"].failed
    assert service.calendar("dav").status.state == "failed"


def test_floating_events_at_the_edges_of_the_window_are_read_in_japan_time(
    radicale: RadicaleServer, calendar_path: str, password: None
) -> None:
    # 16:00 on the window's last day is 07:00 UTC the same day, but a server reads a floating 16:00 as
    # 16:00 UTC, past the window's end (12/17 00:00 JST = 12/16 15:00 UTC).
    put(radicale, calendar_path, "UID:late", "DTSTAMP:20261101T000000Z",
        "DTSTART:20261216T160000", "DTEND:20261216T170000")  # fmt: skip
    put(radicale, calendar_path, "UID:early", "DTSTAMP:20261101T000000Z",
        "DTSTART:20261126T090000", "DTEND:20261126T100000")  # fmt: skip
    put(radicale, calendar_path, "UID:outside", "DTSTAMP:20261101T000000Z",
        "DTSTART:20261217T090000", "DTEND:20261217T100000")  # fmt: skip
    busy = CalDAVCalendar(settings(radicale, calendar_path)).fetch_busy(*WINDOW)
    assert [(b.starts_at, b.ends_at) for b in busy] == [
        (jst(2026, 11, 26, 9), jst(2026, 11, 26, 10)),
        (jst(2026, 12, 16, 16), jst(2026, 12, 16, 17)),
    ]

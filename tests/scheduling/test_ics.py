"""A read-only iCalendar feed served by the test: busy times, recurrence, bad answers, outage."""

from __future__ import annotations

import httpx
import pytest

from config.scheduling import CalendarSettings
from scheduling.providers import BusyInterval, CachedCalendar, CalendarEvent, IcsFeedCalendar, ProviderError
from storage.clock import FixedClock
from tests.scheduling.support import FeedServer, ics_document, jst

WINDOW = (jst(2026, 11, 26), jst(2026, 12, 17))
WEEKLY = """
UID:weekly@example
DTSTAMP:20261101T000000Z
DTSTART;TZID=Asia/Tokyo:20261104T130000
DTEND;TZID=Asia/Tokyo:20261104T143000
RRULE:FREQ=WEEKLY;COUNT=7
"""
ALL_DAY = """
UID:trip@example
DTSTAMP:20261101T000000Z
DTSTART;VALUE=DATE:20261210
DTEND;VALUE=DATE:20261212
SUMMARY:出張
"""


def feed_calendar(url: str) -> IcsFeedCalendar:
    return IcsFeedCalendar(CalendarSettings(provider="ics", url=url, timeout_seconds=2))


def test_busy_times_from_the_feed(feed: FeedServer) -> None:
    feed.body = ics_document(WEEKLY, ALL_DAY)
    assert feed_calendar(feed.url).fetch_busy(*WINDOW) == [
        BusyInterval(jst(2026, 12, 2, 13), jst(2026, 12, 2, 14, 30)),
        BusyInterval(jst(2026, 12, 9, 13), jst(2026, 12, 9, 14, 30)),
        BusyInterval(jst(2026, 12, 10), jst(2026, 12, 12)),
        BusyInterval(jst(2026, 12, 16, 13), jst(2026, 12, 16, 14, 30)),
    ]


def test_a_floating_time_late_on_the_last_day_is_read_in_japan_time(feed: FeedServer) -> None:
    feed.body = ics_document(
        "UID:late\nDTSTAMP:20261101T000000Z\nDTSTART:20261216T160000\nDTEND:20261216T170000"
    )
    assert feed_calendar(feed.url).fetch_busy(*WINDOW) == [
        BusyInterval(jst(2026, 12, 16, 16), jst(2026, 12, 16, 17))
    ]


def test_utc_times_are_read_as_they_are(feed: FeedServer) -> None:
    feed.body = ics_document(
        "UID:g\nDTSTAMP:20261101T000000Z\nDTSTART:20261203T050000Z\nDTEND:20261203T060000Z"
    )
    assert feed_calendar(feed.url).fetch_busy(*WINDOW) == [
        BusyInterval(jst(2026, 12, 3, 14), jst(2026, 12, 3, 15))
    ]


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (404, b"not here", "HTTP 404"),
        (401, b"", "HTTP 401"),
        (200, b"<html>login</html>", "not valid iCalendar"),
        (
            200,
            b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:garbage\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            "could not be expanded",
        ),
    ],
)
def test_bad_answers_are_provider_failures(feed: FeedServer, status: int, body: bytes, message: str) -> None:
    feed.status, feed.body = status, body
    with pytest.raises(ProviderError, match=message):
        feed_calendar(feed.url).fetch_busy(*WINDOW)


def test_a_feed_takes_no_writes(feed: FeedServer) -> None:
    calendar = feed_calendar(feed.url)
    assert calendar.write_event(CalendarEvent("u", *WINDOW, "x")) is None
    calendar.move_event(CalendarEvent("u", *WINDOW, "x"))
    calendar.delete_event("u")
    assert feed.requests == 0


def test_the_cache_serves_recent_reads_and_stands_in_during_an_outage(feed: FeedServer) -> None:
    feed.body = ics_document(WEEKLY)
    clock = FixedClock(jst(2026, 11, 25, 10))
    cached = CachedCalendar(
        feed_calendar(feed.url), coordinator_id="c", clock=clock, refresh_seconds=300, max_age_minutes=60
    )
    assert cached.busy(*WINDOW).source == "live"
    assert cached.busy(*WINDOW).source == "cache" and feed.requests == 1
    narrower = cached.busy(jst(2026, 12, 1), jst(2026, 12, 5))
    assert narrower.source == "cache" and [b.starts_at for b in narrower.intervals] == [jst(2026, 12, 2, 13)]

    feed.stop()
    clock.advance(minutes=10)
    stale = cached.busy(*WINDOW)
    assert stale.source == "stale" and len(stale.intervals) == 3
    assert cached.status.as_dict()["state"] == "stale"
    assert cached.status.last_error == "feed unreachable (ConnectError)"
    wider = cached.busy(jst(2026, 11, 20), jst(2027, 1, 31))
    assert (wider.known_from, wider.known_until) == WINDOW
    clock.advance(minutes=60)
    assert cached.busy(*WINDOW).failed


def test_a_failed_calendar_is_not_asked_again_for_a_minute(feed: FeedServer) -> None:
    feed.status = 503
    clock = FixedClock(jst(2026, 11, 25, 10))
    cached = CachedCalendar(feed_calendar(feed.url), coordinator_id="c", clock=clock, refresh_seconds=300)
    assert cached.busy(*WINDOW).failed and feed.requests == 1
    clock.advance(seconds=30)
    assert cached.busy(*WINDOW).failed and feed.requests == 1  # answered at once, without the calendar
    feed.status, feed.body = 200, ics_document(WEEKLY)
    clock.advance(seconds=31)
    assert cached.busy(*WINDOW).source == "live" and feed.requests == 2
    assert cached.status.as_dict()["state"] == "ok"


def test_a_mock_transport_answers_like_a_feed() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"].startswith("Basic ")
        return httpx.Response(200, content=ics_document(ALL_DAY))

    settings = CalendarSettings(
        provider="ics",
        url="https://calendar.example.invalid/x.ics",
        username="u",
        password_env="MADOGUCHI_TEST_ICS_PASSWORD",
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MADOGUCHI_TEST_ICS_PASSWORD", "p")
        busy = IcsFeedCalendar(settings, transport=httpx.MockTransport(answer)).fetch_busy(*WINDOW)
    assert busy == [BusyInterval(jst(2026, 12, 10), jst(2026, 12, 12))]


class BrokenCalendar:
    kind = "ics"

    def fetch_busy(self, start: object, end: object) -> list[BusyInterval]:
        raise RuntimeError("a bug in a library")

    def write_event(self, event: CalendarEvent) -> str | None:
        raise RuntimeError("a bug in a library")

    def move_event(self, event: CalendarEvent) -> None:
        raise RuntimeError("a bug in a library")

    def delete_event(self, uid: str) -> None:
        raise RuntimeError("a bug in a library")


def test_an_unexpected_error_is_a_failure_not_a_crash() -> None:
    cached = CachedCalendar(BrokenCalendar(), coordinator_id="c", clock=FixedClock(jst(2026, 11, 25, 10)))
    assert cached.busy(*WINDOW).failed
    assert cached.status.last_error == "calendar failed (RuntimeError)"
    with pytest.raises(ProviderError, match="RuntimeError"):
        cached.write_event(CalendarEvent("u", *WINDOW, "x"))

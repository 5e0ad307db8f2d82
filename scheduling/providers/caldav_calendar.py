"""A coordinator's CalDAV calendar: busy times read (recurring events expanded), bookings written back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urljoin

from caldav.davclient import DAVClient
from caldav.lib import error as dav_error

from config.scheduling import CalendarSettings
from scheduling.providers.base import BusyInterval, CalendarEvent, ProviderError
from scheduling.providers.ical import busy_from_calendar, event_to_ical, parse_calendar


class CalDAVCalendar:
    """Talks to one CalDAV calendar (Radicale, Nextcloud, iCloud, ...) with the configured account."""

    kind = "caldav"

    def __init__(self, settings: CalendarSettings) -> None:
        self.settings = settings

    @contextmanager
    def _calendar(self) -> Iterator[Any]:
        try:
            with DAVClient(
                url=self.settings.url,
                username=self.settings.username or None,
                password=self.settings.password(),
                timeout=max(1, round(self.settings.timeout_seconds)),
            ) as client:
                if self.settings.calendar_path:
                    yield client.calendar(url=urljoin(self.settings.url, self.settings.calendar_path))
                else:
                    calendars = client.principal().calendars()
                    if not calendars:
                        raise ProviderError("the CalDAV account has no calendar")
                    yield calendars[0]
        except ProviderError:
            raise
        except dav_error.AuthorizationError as exc:
            raise ProviderError("CalDAV refused the credentials") from exc
        except Exception as exc:
            raise ProviderError(f"CalDAV failed ({type(exc).__name__})") from exc

    def fetch_busy(self, start: datetime, end: datetime) -> list[BusyInterval]:
        """Searches the window and expands each returned event's occurrences inside it."""
        with self._calendar() as calendar:
            # A day wider on both sides: a server reads floating (zone-less) times as UTC, nine hours off
            # Japan time; the exact window is applied below, in Japan time.
            found = calendar.search(event=True, start=start - timedelta(days=1), end=end + timedelta(days=1))
            documents = [parse_calendar(item.data) for item in found]
        busy: list[BusyInterval] = []
        for document in documents:
            busy.extend(busy_from_calendar(document, start, end))
        return sorted(busy, key=lambda b: (b.starts_at, b.ends_at))

    def write_event(self, event: CalendarEvent) -> str | None:
        """Creates the event with the booking's uid."""
        with self._calendar() as calendar:
            calendar.save_event(event_to_ical(event))
        return event.uid

    def move_event(self, event: CalendarEvent) -> None:
        """Rewrites the event with this uid at its new time, or creates it when it is gone."""
        with self._calendar() as calendar:
            try:
                existing = calendar.event_by_uid(event.uid)
            except dav_error.NotFoundError:
                calendar.save_event(event_to_ical(event))
                return
            existing.data = event_to_ical(event)
            existing.save()

    def delete_event(self, uid: str) -> None:
        """Deletes the event with this uid, if it is there."""
        with self._calendar() as calendar:
            try:
                existing = calendar.event_by_uid(uid)
            except dav_error.NotFoundError:
                return
            existing.delete()

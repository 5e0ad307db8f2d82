"""A read-only iCalendar feed (as Google Calendar and Outlook publish) for a coordinator's busy times."""

from __future__ import annotations

from datetime import datetime

import httpx

from config.scheduling import CalendarSettings
from scheduling.providers.base import BusyInterval, CalendarEvent, ProviderError
from scheduling.providers.ical import busy_from_calendar, parse_calendar


class IcsFeedCalendar:
    """Reads busy times from a feed URL with one GET; bookings are not written back."""

    kind = "ics"

    def __init__(self, settings: CalendarSettings, *, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self.transport = transport

    def fetch_busy(self, start: datetime, end: datetime) -> list[BusyInterval]:
        """Downloads the feed and expands the events that fall in the window."""
        password = self.settings.password()
        auth = (
            httpx.BasicAuth(self.settings.username, password) if self.settings.username and password else None
        )
        try:
            with httpx.Client(
                timeout=self.settings.timeout_seconds, transport=self.transport, follow_redirects=True
            ) as client:
                response = client.get(self.settings.url, auth=auth)
        except httpx.HTTPError as exc:
            raise ProviderError(f"feed unreachable ({type(exc).__name__})") from exc
        if response.status_code != 200:
            raise ProviderError(f"feed answered HTTP {response.status_code}")
        return busy_from_calendar(parse_calendar(response.content), start, end)

    def write_event(self, event: CalendarEvent) -> str | None:
        """A feed is read-only."""
        return None

    def move_event(self, event: CalendarEvent) -> None:
        """A feed is read-only."""

    def delete_event(self, uid: str) -> None:
        """A feed is read-only."""

"""The calendar port: what every calendar provider offers, and the shapes it exchanges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class ProviderError(Exception):
    """A calendar could not be read or written (network, authentication, malformed data)."""


@dataclass(frozen=True, slots=True)
class BusyInterval:
    """A time the coordinator is taken, as aware UTC datetimes."""

    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class CalendarEvent:
    """A confirmed booking as written to a coordinator's calendar; texts are the caller's choice."""

    uid: str
    starts_at: datetime
    ends_at: datetime
    summary: str
    location: str = ""
    description: str = ""
    url: str = ""


class CalendarProvider(Protocol):
    """One coordinator's calendar: busy times in a window, and the desk's bookings written back."""

    kind: str

    def fetch_busy(self, start: datetime, end: datetime) -> list[BusyInterval]:
        """The busy intervals overlapping [start, end); raises ProviderError when the calendar fails."""
        ...

    def write_event(self, event: CalendarEvent) -> str | None:
        """Writes the booking; returns the uid written, or None when this calendar takes no writes."""
        ...

    def move_event(self, event: CalendarEvent) -> None:
        """Moves a written booking (same uid) to its new time; writes it when it is missing."""
        ...

    def delete_event(self, uid: str) -> None:
        """Removes a written booking; a booking already gone is not an error."""
        ...

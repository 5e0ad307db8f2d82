"""The built-in calendar: availability comes from the configured hours, busy times from the desk's bookings."""

from __future__ import annotations

from datetime import datetime

from scheduling.providers.base import BusyInterval, CalendarEvent


class BuiltinCalendar:
    """Knows no outside busy times; the desk's own bookings are read from the database by the slot finder."""

    kind = "builtin"

    def fetch_busy(self, start: datetime, end: datetime) -> list[BusyInterval]:
        """Nothing outside the desk is busy."""
        return []

    def write_event(self, event: CalendarEvent) -> str | None:
        """The booking row is the record; nothing to write."""
        return None

    def move_event(self, event: CalendarEvent) -> None:
        """Nothing was written, so nothing moves."""

    def delete_event(self, uid: str) -> None:
        """Nothing was written, so nothing is removed."""

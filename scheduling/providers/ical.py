"""Reading busy times out of iCalendar data and writing a booking as iCalendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import icalendar
import recurring_ical_events

from scheduling.providers.base import BusyInterval, CalendarEvent, ProviderError
from storage.clock import JST

PRODID = "-//Madoguchi//Scheduling//JA"


def _as_utc(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        # A floating time has no zone of its own; the desk's calendars are in Japan.
        return (value if value.tzinfo else value.replace(tzinfo=JST)).astimezone(UTC)
    return datetime.combine(value, time(0), tzinfo=JST).astimezone(UTC)


def _occurrence_span(component: Any) -> tuple[datetime, datetime] | None:
    start_prop = component.get("DTSTART")
    if start_prop is None:
        return None
    start = start_prop.dt
    end_prop = component.get("DTEND")
    if end_prop is not None:
        end = end_prop.dt
    elif component.get("DURATION") is not None:
        end = start + component["DURATION"].dt
    else:
        end = start + timedelta(days=1) if not isinstance(start, datetime) else start
    return _as_utc(start), _as_utc(end)


def busy_from_calendar(calendar: icalendar.Calendar, start: datetime, end: datetime) -> list[BusyInterval]:
    """The busy occurrences of every event in [start, end), recurring ones expanded, sorted."""
    try:
        # Bounds in Japan time: the library reads a floating (zone-less) time in the zone of the bounds.
        occurrences = recurring_ical_events.of(calendar).between(start.astimezone(JST), end.astimezone(JST))
    except Exception as exc:
        raise ProviderError(f"calendar data could not be expanded ({type(exc).__name__})") from exc
    busy = []
    for component in occurrences:
        if str(component.get("TRANSP", "")).upper() == "TRANSPARENT":
            continue
        if str(component.get("STATUS", "")).upper() == "CANCELLED":
            continue
        span = _occurrence_span(component)
        if span and span[1] > start and span[0] < end:
            busy.append(BusyInterval(*span))
    return sorted(busy, key=lambda b: (b.starts_at, b.ends_at))


def parse_calendar(data: bytes | str) -> icalendar.Calendar:
    """Parses an iCalendar document; raises ProviderError when it is not one."""
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except Exception as exc:
        raise ProviderError(f"not valid iCalendar data ({type(exc).__name__})") from exc
    if not isinstance(calendar, icalendar.Calendar) or calendar.name != "VCALENDAR":
        raise ProviderError("not an iCalendar VCALENDAR")
    return calendar


def event_to_ical(event: CalendarEvent, *, stamp: datetime | None = None) -> str:
    """The booking as a VCALENDAR with its times in Asia/Tokyo and the matching VTIMEZONE."""
    vevent = icalendar.Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", stamp or datetime.now(UTC))
    vevent.add("dtstart", event.starts_at.astimezone(JST))
    vevent.add("dtend", event.ends_at.astimezone(JST))
    vevent.add("summary", event.summary)
    for key, value in (("location", event.location), ("description", event.description), ("url", event.url)):
        if value:
            vevent.add(key, value)
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add_component(vevent)
    calendar.add_missing_timezones()
    return calendar.to_ical().decode("utf-8")

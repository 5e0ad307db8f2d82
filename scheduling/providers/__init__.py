"""Calendar providers behind one port: builtin, CalDAV and read-only ICS feeds."""

from config.scheduling import CalendarSettings
from scheduling.providers.base import BusyInterval, CalendarEvent, CalendarProvider, ProviderError
from scheduling.providers.builtin import BuiltinCalendar
from scheduling.providers.cached import BusyResult, CachedCalendar, CalendarStatus
from scheduling.providers.caldav_calendar import CalDAVCalendar
from scheduling.providers.ics import IcsFeedCalendar


def make_provider(settings: CalendarSettings) -> CalendarProvider:
    """The provider a coordinator's calendar settings name."""
    if settings.provider == "caldav":
        return CalDAVCalendar(settings)
    if settings.provider == "ics":
        return IcsFeedCalendar(settings)
    return BuiltinCalendar()


__all__ = [
    "BuiltinCalendar",
    "BusyInterval",
    "BusyResult",
    "CachedCalendar",
    "CalDAVCalendar",
    "CalendarEvent",
    "CalendarProvider",
    "CalendarStatus",
    "IcsFeedCalendar",
    "ProviderError",
    "make_provider",
]

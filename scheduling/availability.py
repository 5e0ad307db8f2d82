"""When a coordinator works: weekly hours, date overrides, holidays and closures, as UTC intervals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

from config.scheduling import Closures, Coordinator, parse_hours
from scheduling.holidays import DEFAULT_CLOSURES, is_desk_closed, is_public_holiday
from storage.clock import JST

Interval = tuple[datetime, datetime]


def jst_date(moment: datetime) -> date:
    """The calendar date in Japan at an aware moment."""
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is needed")
    return moment.astimezone(JST).date()


def jst_midnight(day: date) -> datetime:
    """The start of a Japanese calendar day, in UTC."""
    return datetime.combine(day, time(0), tzinfo=JST).astimezone(UTC)


def _at(day: date, minutes: int) -> datetime:
    # 24:00 is the next day's midnight; combine() cannot express it.
    return (datetime.combine(day, time(0), tzinfo=JST) + timedelta(minutes=minutes)).astimezone(UTC)


def day_hours(
    coordinator: Coordinator, day: date, *, closures: Closures = DEFAULT_CLOSURES
) -> tuple[str, ...]:
    """The "HH:MM-HH:MM" ranges the coordinator works that day (empty when off)."""
    if is_desk_closed(day, closures=closures):
        return ()
    override = coordinator.overrides.get(day)
    if override is not None:
        return () if override == "closed" else override
    if is_public_holiday(day) and not coordinator.works_holidays:
        return ()
    return coordinator.hours.for_weekday(day.weekday())


def working_intervals(
    coordinator: Coordinator, day: date, *, closures: Closures = DEFAULT_CLOSURES
) -> list[Interval]:
    """The coordinator's working intervals on a Japanese calendar day, sorted, as aware UTC datetimes."""
    ranges = sorted(parse_hours(r) for r in day_hours(coordinator, day, closures=closures))
    return [(_at(day, start), _at(day, end)) for start, end in ranges]


def iter_days(first: date, last: date) -> Iterator[date]:
    """Every date from first to last, both included."""
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)

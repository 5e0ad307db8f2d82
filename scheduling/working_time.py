"""The desk's working time: a moment some working hours later, counted only in its weekly hours on its
business days (not weekends, public holidays or closures), in Japan time."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from config.scheduling import Closures, WeeklyHours, parse_hours
from scheduling.availability import Interval, _at, jst_date
from scheduling.holidays import DEFAULT_CLOSURES, add_business_days, is_business_day

SEARCH_DAYS = 400  # the longest a count may look ahead (a desk with no working hours never gets there)


def _day_intervals(hours: WeeklyHours, day: date, closures: Closures) -> list[Interval]:
    if not is_business_day(day, closures=closures):
        return []
    ranges = sorted(parse_hours(r) for r in hours.for_weekday(day.weekday()))
    return [(_at(day, start), _at(day, end)) for start, end in ranges]


def add_working_hours(
    start: datetime, hours: float, *, weekly: WeeklyHours, closures: Closures = DEFAULT_CLOSURES
) -> datetime:
    """The moment `hours` of working time after `start` (a start outside working time counts from the next
    opening); ValueError when the desk has no working time within SEARCH_DAYS."""
    left = timedelta(hours=hours)
    day = jst_date(start)
    for _ in range(SEARCH_DAYS):
        for opens, closes in _day_intervals(weekly, day, closures):
            begin = max(opens, start)
            if begin >= closes:
                continue
            if begin + left <= closes:
                return begin + left
            left -= closes - begin
        day += timedelta(days=1)
    raise ValueError("the desk has no working hours to count in")


def same_time_business_days_later(
    moment: datetime, days: int, *, closures: Closures = DEFAULT_CLOSURES
) -> datetime:
    """The same Japan clock time, `days` business days after the moment's day."""
    day = jst_date(moment)
    later = add_business_days(day, days, closures=closures)
    return moment + (_at(later, 0) - _at(day, 0))  # Japan keeps no summer time: whole days apart

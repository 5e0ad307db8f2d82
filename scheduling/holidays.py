"""The Japanese calendar as the desk sees it: public holidays, desk closures and business days."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import jpholiday

from config.scheduling import Closures

DEFAULT_CLOSURES = Closures()
_SEARCH_LIMIT_DAYS = 366


@lru_cache(maxsize=4096)
def holiday_name(day: date) -> str | None:
    """The name of the public holiday (振替休日 and 国民の休日 included) on this day, or None."""
    name = jpholiday.is_holiday_name(day)
    if not name:
        return None
    # jpholiday names a substitute holiday after the holiday it replaces ("憲法記念日 振替休日").
    return name.split()[-1]


def is_public_holiday(day: date) -> bool:
    """Whether the day is a Japanese public holiday."""
    return holiday_name(day) is not None


def _month_day(value: str) -> tuple[int, int]:
    month, day = value.split("-")
    return int(month), int(day)


def is_desk_closed(day: date, *, closures: Closures = DEFAULT_CLOSURES) -> bool:
    """Whether the whole desk is closed that day (year-end break or a listed date)."""
    if day in closures.dates:
        return True
    if closures.year_end is None:
        return False
    first, last = (_month_day(part) for part in closures.year_end)
    here = (day.month, day.day)
    if first <= last:
        return first <= here <= last
    return here >= first or here <= last


def is_business_day(day: date, *, closures: Closures = DEFAULT_CLOSURES) -> bool:
    """Whether the desk is open: a weekday that is neither a public holiday nor a closure."""
    return day.weekday() < 5 and not is_public_holiday(day) and not is_desk_closed(day, closures=closures)


def next_business_day(day: date, *, closures: Closures = DEFAULT_CLOSURES) -> date:
    """The first business day strictly after the given day."""
    return add_business_days(day, 1, closures=closures)


def add_business_days(day: date, count: int, *, closures: Closures = DEFAULT_CLOSURES) -> date:
    """The count-th business day after the day (the day itself when count is 0)."""
    current = day
    for _ in range(count):
        for _ in range(_SEARCH_LIMIT_DAYS):
            current += timedelta(days=1)
            if is_business_day(current, closures=closures):
                break
        else:
            raise ValueError("no business day within a year: check the desk closures")
    return current

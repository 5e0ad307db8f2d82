"""Time as the domain asks for it: a clock object, so tests can fix the time."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock for tests: stays where it is put, moves when told."""

    current: datetime = field(default_factory=lambda: datetime(2026, 11, 25, 1, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current = self.current + timedelta(**kwargs)

    def set(self, value: datetime) -> None:
        if value.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.current = value.astimezone(UTC)


_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The [start, end) of a Japan-time month given as YYYY-MM, as aware datetimes (what the admin API
    filters by and a monthly report counts); raises ValueError for anything else."""
    match = _MONTH.match(month)
    if not match:
        raise ValueError("month must be YYYY-MM")
    year, mon = int(match.group(1)), int(match.group(2))
    start = datetime(year, mon, 1, tzinfo=JST)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=JST)
    return start, end

"""Time as the domain asks for it: a clock object, so tests can fix the time."""

from __future__ import annotations

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

"""A calendar wrapped with a busy-time cache, failure fallback and a health status."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, TypeVar

from scheduling.providers.base import BusyInterval, CalendarEvent, CalendarProvider, ProviderError
from storage.clock import Clock

log = logging.getLogger(__name__)
T = TypeVar("T")

Source = Literal["live", "cache", "stale", "failed"]


@dataclass(frozen=True)
class BusyResult:
    """Busy intervals and the part of the asked window they are known for (empty when the calendar failed)."""

    intervals: tuple[BusyInterval, ...]
    known_from: datetime
    known_until: datetime
    source: Source

    @property
    def failed(self) -> bool:
        return self.source == "failed"


@dataclass
class CalendarStatus:
    """How a coordinator's calendar is doing, for /healthz: no personal data, only states and times."""

    provider: str
    state: Literal["ok", "stale", "failed", "unknown"] = "unknown"
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    last_error: str | None = None
    consecutive_failures: int = 0

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready view."""
        return {
            "provider": self.provider,
            "state": self.state,
            "last_success_at": self.last_success_at.isoformat() if self.last_success_at else None,
            "last_failure_at": self.last_failure_at.isoformat() if self.last_failure_at else None,
            "last_error": self.last_error,
            "consecutive_failures": self.consecutive_failures,
        }


@dataclass
class _Entry:
    fetched_at: datetime
    start: datetime
    end: datetime
    intervals: tuple[BusyInterval, ...] = field(default_factory=tuple)
    outdated: bool = False


class CachedCalendar:
    """Serves busy times from a recent fetch, refetches when old, and falls back to the cache on failure."""

    def __init__(
        self,
        provider: CalendarProvider,
        *,
        coordinator_id: str,
        clock: Clock,
        refresh_seconds: int = 300,
        max_age_minutes: int = 360,
    ) -> None:
        self.provider = provider
        self.coordinator_id = coordinator_id
        self.clock = clock
        self.refresh = timedelta(seconds=refresh_seconds)
        self.max_age = timedelta(minutes=max_age_minutes)
        self.status = CalendarStatus(provider=provider.kind)
        self._entry: _Entry | None = None
        self._lock = threading.Lock()
        self._retry_at: datetime | None = None  # after a failure, the calendar is not asked again before this
        self.retry_after_failure = min(self.refresh, timedelta(seconds=60))

    def busy(self, start: datetime, end: datetime) -> BusyResult:
        """Busy intervals overlapping [start, end): cached, live, the older cache on failure, or failed."""
        now = self.clock.now()
        with self._lock:
            entry = self._entry
        fresh = entry and not entry.outdated and now - entry.fetched_at <= self.refresh
        if entry and fresh and entry.start <= start and end <= entry.end:
            return self._from_entry(entry, start, end, "cache")
        if self._retry_at is not None and now < self._retry_at:
            # Failed a moment ago: not again yet. A calendar that hangs until its timeout would otherwise
            # hold up every conversation that asks, and on SQLite every writer waiting behind it.
            return self._fallback(start, end, now)
        try:
            intervals = tuple(self.provider.fetch_busy(start, end))
        except Exception as exc:
            # Whatever a calendar does wrong, the conversation goes on without it.
            failure = (
                exc
                if isinstance(exc, ProviderError)
                else ProviderError(f"calendar failed ({type(exc).__name__})")
            )
            return self._on_failure(failure, start, end, now)
        with self._lock:
            self._entry = _Entry(fetched_at=now, start=start, end=end, intervals=intervals)
            self._retry_at = None
            self._succeeded(now)
        return BusyResult(intervals=intervals, known_from=start, known_until=end, source="live")

    def _from_entry(self, entry: _Entry, start: datetime, end: datetime, source: Source) -> BusyResult:
        known_from, known_until = max(start, entry.start), min(end, entry.end)
        inside = tuple(b for b in entry.intervals if b.ends_at > known_from and b.starts_at < known_until)
        return BusyResult(intervals=inside, known_from=known_from, known_until=known_until, source=source)

    def _on_failure(self, exc: ProviderError, start: datetime, end: datetime, now: datetime) -> BusyResult:
        with self._lock:
            self._failed(exc, now)
            self._retry_at = now + self.retry_after_failure
        return self._fallback(start, end, now)

    def _fallback(self, start: datetime, end: datetime, now: datetime) -> BusyResult:
        with self._lock:
            entry = self._entry
        if entry and now - entry.fetched_at <= self.max_age and entry.start < end and start < entry.end:
            with self._lock:
                self.status.state = "stale"
            return self._from_entry(entry, start, end, "stale")
        return BusyResult(intervals=(), known_from=start, known_until=start, source="failed")

    def _succeeded(self, now: datetime) -> None:
        self.status.state = "ok"
        self.status.last_success_at = now
        self.status.consecutive_failures = 0

    def _failed(self, exc: Exception, now: datetime) -> None:
        self.status.state = "failed"
        self.status.last_failure_at = now
        self.status.last_error = str(exc) if isinstance(exc, ProviderError) else type(exc).__name__
        self.status.consecutive_failures += 1
        # The message is ours (no URL, account or event text); the cause is named by class only.
        log.warning(
            "calendar %s of coordinator %s failed: %s (cause %s)",
            self.provider.kind,
            self.coordinator_id,
            self.status.last_error,
            type(exc.__cause__).__name__ if exc.__cause__ else "-",
        )

    def _guarded(self, call: Callable[[], T]) -> T:
        try:
            result = call()
        except Exception as exc:
            failure = (
                exc
                if isinstance(exc, ProviderError)
                else ProviderError(f"calendar failed ({type(exc).__name__})")
            )
            with self._lock:
                self._failed(failure, self.clock.now())
            if failure is exc:
                raise
            raise failure from exc
        self.forget()
        return result

    def write_event(self, event: CalendarEvent) -> str | None:
        """Writes the booking to the calendar; a failure is recorded in the status and raised."""
        return self._guarded(lambda: self.provider.write_event(event))

    def move_event(self, event: CalendarEvent) -> None:
        """Moves the booking in the calendar; a failure is recorded in the status and raised."""
        self._guarded(lambda: self.provider.move_event(event))

    def delete_event(self, uid: str) -> None:
        """Removes the booking from the calendar; a failure is recorded in the status and raised."""
        self._guarded(lambda: self.provider.delete_event(uid))

    def forget(self) -> None:
        """Makes the next read go to the calendar (the desk wrote to it); the old read stays as a fallback."""
        with self._lock:
            if self._entry is not None:
                self._entry.outdated = True

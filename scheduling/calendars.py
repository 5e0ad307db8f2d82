"""Every coordinator's calendar behind its cache, read together, and their health for /healthz."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from config.scheduling import CalendarSettings, SchedulingConfig
from scheduling.providers import (
    BusyResult,
    CachedCalendar,
    CalendarEvent,
    CalendarProvider,
    make_provider,
)
from storage.clock import Clock

ProviderFactory = Callable[[CalendarSettings], CalendarProvider]
_MAX_PARALLEL = 8


class CalendarService:
    """The desk's calendars: busy times with cache and fallback, write-back, and a health summary."""

    def __init__(
        self, config: SchedulingConfig, *, clock: Clock, factory: ProviderFactory = make_provider
    ) -> None:
        rules = config.rules
        self.calendars = {
            c.id: CachedCalendar(
                factory(c.calendar),
                coordinator_id=c.id,
                clock=clock,
                refresh_seconds=rules.busy_cache_refresh_seconds,
                max_age_minutes=rules.busy_cache_max_age_minutes,
            )
            for c in config.coordinators
        }

    def calendar(self, coordinator_id: str) -> CachedCalendar:
        """The cached calendar of a coordinator; KeyError for an unknown id."""
        return self.calendars[coordinator_id]

    def busy(self, coordinator_ids: Sequence[str], start: datetime, end: datetime) -> dict[str, BusyResult]:
        """Busy times of several coordinators in [start, end), remote calendars read in parallel."""
        ids = [i for i in coordinator_ids if i in self.calendars]
        remote = [i for i in ids if self.calendars[i].provider.kind != "builtin"]
        results = {i: self.calendars[i].busy(start, end) for i in ids if i not in remote}
        if len(remote) <= 1:
            results.update({i: self.calendars[i].busy(start, end) for i in remote})
            return results
        with ThreadPoolExecutor(max_workers=min(len(remote), _MAX_PARALLEL)) as pool:
            fetched = pool.map(lambda i: self.calendars[i].busy(start, end), remote)
            results.update(zip(remote, fetched, strict=True))
        return results

    def write_booking(self, coordinator_id: str, event: CalendarEvent) -> str | None:
        """Writes a confirmed booking to the coordinator's calendar; the uid written, or None."""
        return self.calendars[coordinator_id].write_event(event)

    def move_booking(self, coordinator_id: str, event: CalendarEvent) -> None:
        """Moves a written booking to its new time."""
        self.calendars[coordinator_id].move_event(event)

    def delete_booking(self, coordinator_id: str, uid: str) -> None:
        """Removes a written booking from the coordinator's calendar."""
        self.calendars[coordinator_id].delete_event(uid)

    def status(self) -> dict[str, object]:
        """`{"status": "ok"|"degraded", "calendars": {coordinator id: state}}` for /healthz's detail."""
        states = {cid: cal.status.as_dict() for cid, cal in sorted(self.calendars.items())}
        degraded = any(s["state"] in ("stale", "failed") for s in states.values())
        return {"status": "degraded" if degraded else "ok", "calendars": states}

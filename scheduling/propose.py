"""Proposing slots for a request: calendars and desk bookings gathered, then the slot finder."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from config.scheduling import SchedulingConfig
from scheduling.availability import iter_days, jst_date, jst_midnight, working_intervals
from scheduling.calendars import CalendarService
from scheduling.slots import (
    HeldSpan,
    Occupancy,
    Proposal,
    Slot,
    SlotRequest,
    booking_window,
    find_slots,
    match_coordinators,
)
from storage.bookings import list_active_bookings


def propose_slots(
    *, session: Session, config: SchedulingConfig, calendars: CalendarService, request: SlotRequest
) -> Proposal:
    """The best free slots for the request, read from the coordinators' calendars and the desk's bookings."""
    rules = config.rules
    needs_no_calendar = request.method not in rules.duration_minutes or (
        request.method == "onsite"
        and rules.remote_policy(request.region, request.municipality) == "online_only"
    )
    coordinators = [] if needs_no_calendar else match_coordinators(config, request)
    if not coordinators:
        return find_slots(config=config, request=request, occupancy={})
    window_start, window_end = booking_window(config, request.now)
    # Whole Japanese days, so requests made during the same day share one cached fetch.
    fetch_from = jst_midnight(jst_date(window_start))
    busy = calendars.busy([c.id for c in coordinators], fetch_from, window_end)
    held: defaultdict[str, list[HeldSpan]] = defaultdict(list)
    margin = timedelta(days=1)
    for booking in list_active_bookings(
        session=session, start=fetch_from - margin, end=window_end + margin, now=request.now
    ):
        held[booking.coordinator_id].append(
            HeldSpan(
                starts_at=booking.starts_at,
                blocked_from=booking.blocked_from,
                blocked_until=booking.blocked_until,
            )
        )
    occupancy = {
        cid: Occupancy(
            busy=[(b.starts_at, b.ends_at) for b in result.intervals],
            bookings=held.get(cid, []),
            known_from=result.known_from,
            known_until=result.known_until,
            failed=result.failed,
        )
        for cid, result in busy.items()
    }
    return find_slots(config=config, request=request, occupancy=occupancy)


def calendar_still_free(
    *, config: SchedulingConfig, calendars: CalendarService, slot: Slot, now: datetime
) -> bool:
    """Whether the coordinator's calendar still leaves the slot free (read as proposals read it, so a
    recent read is reused); a calendar that cannot be read does not refuse it."""
    window_start, window_end = booking_window(config, now)
    fetch_from = jst_midnight(jst_date(window_start))
    result = calendars.busy([slot.coordinator_id], fetch_from, max(window_end, slot.blocked_until)).get(
        slot.coordinator_id
    )
    if result is None or result.failed:
        return True
    buffer = timedelta(minutes=config.rules.buffer_minutes)
    lo, hi = slot.blocked_from - buffer, slot.blocked_until
    return not any(b.starts_at < hi + buffer and b.ends_at > lo for b in result.intervals)


def methods_taken(*, config: SchedulingConfig, request: SlotRequest, methods: Sequence[str]) -> list[str]:
    """Of these methods, those that some coordinator takes for the request's category and region (matched
    as proposals match them; a visit where the desk meets online only is not one)."""
    remote = config.rules.remote_regions.get(request.region)
    return [
        method
        for method in methods
        if not (method == "onsite" and remote == "online_only")
        and match_coordinators(config, replace(request, method=method))
    ]


def first_working_moment(*, config: SchedulingConfig, request: SlotRequest) -> datetime | None:
    """The first moment of the booking window at which a coordinator taking the request is at work (where a
    date picker opens), or None when none is."""
    start, end = booking_window(config, request.now)
    coordinators = match_coordinators(config, request)
    for day in iter_days(jst_date(start), jst_date(end - timedelta(microseconds=1))):
        moments = [
            max(work_start, start)
            for coordinator in coordinators
            for work_start, work_end in working_intervals(coordinator, day, closures=config.closures)
            if work_end > start and work_start < end
        ]
        if moments:
            return min(moments)
    return None

"""The slot finder: the best free times of the right coordinators for a request, by interval arithmetic."""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property

from config.scheduling import Coordinator, SchedulingConfig
from scheduling.availability import iter_days, jst_date, jst_midnight, working_intervals
from scheduling.holidays import add_business_days
from scheduling.model import HeldSpan, Occupancy, Proposal, ProposalStatus, Slot, SlotRequest
from storage.clock import JST

__all__ = [
    "HeldSpan",
    "Occupancy",
    "Proposal",
    "ProposalStatus",
    "Slot",
    "SlotRequest",
    "booking_window",
    "find_slots",
    "list_day_slots",
    "match_coordinators",
    "slot_fits",
]


def booking_window(config: SchedulingConfig, now: datetime) -> tuple[datetime, datetime]:
    """The first and last moments a slot may take: from the minimum notice to the end of the horizon."""
    rules = config.rules
    today = jst_date(now)
    if rules.min_notice_business_days:
        start = jst_midnight(
            add_business_days(today, rules.min_notice_business_days, closures=config.closures)
        )
    else:
        start = now
    return start, jst_midnight(today + timedelta(days=rules.horizon_days + 1))


def match_coordinators(config: SchedulingConfig, request: SlotRequest) -> list[Coordinator]:
    """Coordinators taking the method, category and region; for meetings not held on site, any region if none does."""
    strict = [
        c
        for c in config.coordinators
        if c.takes(category=request.category, region=request.region, method=request.method)
    ]
    if strict or request.method == "onsite":
        return strict
    return [
        c
        for c in config.coordinators
        if c.takes(category=request.category, region=None, method=request.method)
    ]


@dataclass
class _Prepared:
    coordinator: Coordinator
    occupancy: Occupancy
    buffer: timedelta
    per_day: Counter[date]
    known_from: datetime
    known_until: datetime

    @cached_property
    def blocked(self) -> tuple[list[datetime], list[datetime]]:
        """The coordinator's merged busy ranges with buffers, as sorted starts and ends.

        Built on first use: most requests find their times with the least busy coordinator or two,
        so the others' calendars are never sorted.
        """
        padded = [(s - self.buffer, e + self.buffer) for s, e in self.occupancy.busy]
        # A booking's blocked range already has the buffer after it.
        padded += [(b.blocked_from - self.buffer, b.blocked_until) for b in self.occupancy.bookings]
        return _merge(padded)


@dataclass
class _Plan:
    config: SchedulingConfig
    method: str
    duration: timedelta
    travel: timedelta
    whole_day: bool
    window_start: datetime
    window_end: datetime
    alternative: str | None = None
    unavailable: tuple[str, ...] = ()
    prepared: list[_Prepared] = field(default_factory=list)


def _merge(intervals: list[tuple[datetime, datetime]]) -> tuple[list[datetime], list[datetime]]:
    intervals.sort()
    starts: list[datetime] = []
    ends: list[datetime] = []
    for start, end in intervals:
        if starts and start <= ends[-1]:
            if end > ends[-1]:
                ends[-1] = end
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


def _prepare(coordinator: Coordinator, occupancy: Occupancy, plan: _Plan) -> _Prepared:
    return _Prepared(
        coordinator=coordinator,
        occupancy=occupancy,
        buffer=timedelta(minutes=plan.config.rules.buffer_minutes),
        per_day=Counter(jst_date(b.starts_at) for b in occupancy.bookings),
        known_from=max(plan.window_start, occupancy.known_from or plan.window_start),
        known_until=min(plan.window_end, occupancy.known_until or plan.window_end),
    )


def _free(lo: datetime, hi: datetime, p: _Prepared) -> Iterator[tuple[datetime, datetime]]:
    starts, ends = p.blocked
    i = bisect_right(ends, lo)
    cursor = lo
    while i < len(starts) and starts[i] < hi:
        if starts[i] > cursor:
            yield cursor, starts[i]
        cursor = max(cursor, ends[i])
        i += 1
    if cursor < hi:
        yield cursor, hi


def _align_up(moment: datetime, step_minutes: int) -> datetime:
    local = moment.astimezone(JST)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    step = timedelta(minutes=step_minutes)
    steps = -((midnight - local) // step)
    return (midnight + steps * step).astimezone(moment.tzinfo)


def _day_candidates(p: _Prepared, day: date, plan: _Plan) -> Iterator[Slot]:
    rules = plan.config.rules
    cap = p.coordinator.max_per_day or rules.max_per_day
    if p.per_day[day] >= cap:
        return
    intervals = working_intervals(p.coordinator, day, closures=plan.config.closures)
    if not intervals:
        return
    buffer = timedelta(minutes=rules.buffer_minutes)

    def make(start: datetime, end: datetime, blocked_from: datetime, blocked_until: datetime) -> Slot:
        return Slot(
            coordinator_id=p.coordinator.id,
            method=plan.method,
            starts_at=start,
            ends_at=end,
            blocked_from=blocked_from,
            blocked_until=blocked_until,
            whole_day=plan.whole_day,
            hold_minutes=rules.hold_expiry_minutes,
        )

    if plan.whole_day:
        start, end = intervals[0][0], intervals[-1][1]
        fits = p.per_day[day] == 0 and p.known_from <= start and end <= p.known_until
        if fits and list(_free(start, end, p)) == [(start, end)]:
            yield make(start, end, start, end + buffer)
        return
    step = timedelta(minutes=rules.step_minutes)
    span_start, span_end = max(intervals[0][0], p.known_from), min(intervals[-1][1], p.known_until)
    if span_start >= span_end:
        return
    travel, duration = plan.travel, plan.duration
    # The meeting lies inside working hours; travel to and from it may use a break between them.
    for free_start, free_end in _free(span_start, span_end, p):
        for work_start, work_end in intervals:
            begin = _align_up(max(free_start + travel, work_start), rules.step_minutes)
            last = min(free_end - travel, work_end) - duration
            while begin <= last:
                yield make(begin, begin + duration, begin - travel, begin + duration + travel + buffer)
                begin += step


def _first_on_day(day: date, plan: _Plan) -> Slot | None:
    for p in plan.prepared:
        slot = next(_day_candidates(p, day, plan), None)
        if slot is not None:
            return slot
    return None


def _distinct_on_day(day: date, plan: _Plan) -> list[Slot]:
    best: dict[datetime, Slot] = {}
    for p in plan.prepared:
        for slot in _day_candidates(p, day, plan):
            best.setdefault(slot.starts_at, slot)
    return list(best.values())


def _spread_over_days(plan: _Plan, days: list[date], count: int) -> list[Slot]:
    chosen: dict[date, list[Slot]] = {}
    for day in days:
        slot = _first_on_day(day, plan)
        if slot is not None:
            chosen[day] = [slot]
            if len(chosen) == count:
                return [s for slots in chosen.values() for s in slots]
    pools = {day: _distinct_on_day(day, plan) for day in chosen}
    total = len(chosen)
    for gap in (timedelta(minutes=plan.config.rules.spread_minutes), timedelta(0)):
        added = True
        while added and total < count:
            added = False
            for day in sorted(pools):
                taken = chosen[day]
                extra = next(
                    (
                        s
                        for s in pools[day]
                        if all(
                            abs(s.starts_at - t.starts_at) >= gap and s.starts_at != t.starts_at
                            for t in taken
                        )
                    ),
                    None,
                )
                if extra is not None:
                    taken.append(extra)
                    total += 1
                    added = True
                    if total == count:
                        break
    return [s for slots in chosen.values() for s in slots]


def _nearest(plan: _Plan, days: list[date], around: datetime, count: int) -> list[Slot]:
    target = min(max(around, plan.window_start), plan.window_end)
    index = {day: i for i, day in enumerate(days)}
    centre = index.get(jst_date(target), 0 if target <= plan.window_start else len(days) - 1)
    found: dict[datetime, Slot] = {}
    for offset in range(len(days)):
        for i in sorted({centre - offset, centre + offset}):
            if 0 <= i < len(days):
                for slot in _distinct_on_day(days[i], plan):
                    found.setdefault(slot.starts_at, slot)
        distances = sorted(abs(s - target) for s in found)
        if len(distances) >= count and distances[count - 1] <= timedelta(days=offset):
            break
    ordered = sorted(found.values(), key=lambda s: (abs(s.starts_at - target), s.starts_at))
    return ordered[:count]


def _make_plan(
    config: SchedulingConfig, request: SlotRequest, occupancy: Mapping[str, Occupancy]
) -> _Plan | Proposal:
    rules = config.rules
    window_start, window_end = booking_window(config, request.now)
    minutes = rules.duration_minutes.get(request.method)
    policy = rules.remote_policy(request.region, request.municipality) if request.method == "onsite" else None
    alternative = "online" if policy else None
    if minutes is None:
        return Proposal(status="not_scheduled", window_start=window_start, window_end=window_end)
    coordinators = match_coordinators(config, request)
    refusal: ProposalStatus | None = None
    if policy == "online_only":
        refusal = "online_only"
    elif not coordinators:
        refusal = "no_coordinator"
    if refusal:
        return Proposal(
            status=refusal, alternative_method=alternative, window_start=window_start, window_end=window_end
        )
    travel = rules.travel_minutes.get(request.region, rules.default_travel_minutes)
    plan = _Plan(
        config=config,
        method=request.method,
        duration=timedelta(minutes=minutes),
        travel=timedelta(minutes=travel if request.method == "onsite" and not policy else 0),
        whole_day=policy == "whole_day",
        window_start=max(window_start, request.earliest or window_start),
        window_end=window_end,
        alternative=alternative,
    )
    empty = Occupancy()
    plan.unavailable = tuple(c.id for c in coordinators if occupancy.get(c.id, empty).failed)
    usable = [c for c in coordinators if c.id not in plan.unavailable]
    plan.prepared = sorted(
        (_prepare(c, occupancy.get(c.id, empty), plan) for c in usable),
        key=lambda p: (sum(p.per_day.values()), p.coordinator.id),
    )
    return plan


def find_slots(
    *, config: SchedulingConfig, request: SlotRequest, occupancy: Mapping[str, Occupancy]
) -> Proposal:
    """The best slots for the request given what each coordinator already has (pure: no I/O)."""
    plan = _make_plan(config, request, occupancy)
    if isinstance(plan, Proposal):
        return plan
    count = config.rules.proposals
    days = list(iter_days(jst_date(plan.window_start), jst_date(plan.window_end - timedelta(microseconds=1))))
    if request.around is not None:
        slots = _nearest(plan, days, request.around, count)
    else:
        slots = _spread_over_days(plan, days, count)
    slots.sort(key=lambda s: (s.starts_at, s.coordinator_id))
    if slots:
        status: ProposalStatus = "ok"
    else:
        status = "calendar_unavailable" if plan.unavailable else "no_slots"
    return Proposal(
        status=status,
        slots=tuple(slots),
        alternative_method=plan.alternative,
        window_start=booking_window(config, request.now)[0],
        window_end=plan.window_end,
        unavailable=plan.unavailable,
    )


def slot_fits(config: SchedulingConfig, slot: Slot, request: SlotRequest) -> bool:
    """Whether a slot chosen earlier still suits the request after an answer changed: the same method, a
    coordinator who takes the request, and (for a visit) the travel the new place needs."""
    if slot.method != request.method:
        return False
    if slot.coordinator_id not in {c.id for c in match_coordinators(config, request)}:
        return False
    if request.method != "onsite":
        return True
    rules = config.rules
    policy = rules.remote_policy(request.region, request.municipality)
    if policy == "online_only" or slot.whole_day != (policy == "whole_day"):
        return False
    travel = timedelta(minutes=rules.travel_minutes.get(request.region, rules.default_travel_minutes))
    return slot.whole_day or slot.starts_at - slot.blocked_from == travel


def list_day_slots(
    *, config: SchedulingConfig, request: SlotRequest, occupancy: Mapping[str, Occupancy], day: date
) -> list[Slot]:
    """Every free start on one Japanese day (the least busy coordinator for each), in time order."""
    plan = _make_plan(config, request, occupancy)
    if isinstance(plan, Proposal):
        return []
    return sorted(_distinct_on_day(day, plan), key=lambda s: s.starts_at)

# ruff: noqa: T201
"""Time to propose slots: the interval-arithmetic finder beside a naive minute-by-minute scan.

20 coordinators, a 90-day horizon, 5,000 busy events. Run: `.venv/bin/python benchmarks/slots.py`
(options: --requests N for the finder, --naive-requests N for the scan, --seed S).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

if __package__ in (None, "") and str(Path(__file__).resolve().parents[1]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config.scheduling import Coordinator, SchedulingConfig, parse_hours  # noqa: E402
from scheduling.availability import JST, iter_days, jst_date, jst_midnight, working_intervals  # noqa: E402
from scheduling.slots import (  # noqa: E402
    HeldSpan,
    Occupancy,
    Slot,
    SlotRequest,
    booking_window,
    find_slots,
    match_coordinators,
)

CATEGORIES = (
    "dx_strategy",
    "efficiency",
    "cloud_tools",
    "ec_sales",
    "web_sns",
    "security",
    "data_ai",
    "other",
)
REGIONS = ("kagoshima", "nansatsu", "hokusatsu", "aira_isa", "osumi")
HOURS = (
    {"mon": ["09:00-12:00", "13:00-17:00"], "tue": ["09:00-12:00", "13:00-17:00"], "wed": ["09:00-17:00"],
     "thu": ["09:00-12:00", "13:00-17:00"], "fri": ["09:00-12:00", "13:00-17:00"]},
    {"mon": [], "tue": ["10:00-12:00", "13:00-18:00"], "wed": ["10:00-18:00"], "thu": ["10:00-18:00"],
     "fri": ["10:00-18:00"], "sat": ["10:00-16:00"]},
    {"mon": ["08:30-12:00", "13:00-15:30"], "tue": ["08:30-15:30"], "wed": [], "thu": ["08:30-15:30"],
     "fri": ["08:30-15:30"], "sun": ["10:00-14:00"]},
)  # fmt: skip


def build_config(rng: random.Random, coordinators: int = 20, horizon_days: int = 90) -> SchedulingConfig:
    """Twenty coordinators of three working patterns, with varied categories and regions."""
    people = []
    for i in range(coordinators):
        people.append(
            {
                "id": f"c{i:02d}",
                "name": f"Coordinator {i}",
                "categories": ["*"] if i % 4 == 0 else rng.sample(CATEGORIES, 4),
                "regions": ["*"] if i % 3 == 0 else rng.sample(REGIONS, 3),
                "hours": HOURS[i % 3],
                "works_holidays": i % 5 == 0,
            }
        )
    return SchedulingConfig.model_validate({"coordinators": people, "rules": {"horizon_days": horizon_days}})


def build_occupancy(
    rng: random.Random, config: SchedulingConfig, start: date, days: int, events: int = 5000
) -> dict[str, Occupancy]:
    """Random busy events inside working days, and a few desk bookings, per coordinator."""
    busy: dict[str, list[tuple[datetime, datetime]]] = {c.id: [] for c in config.coordinators}
    held: dict[str, list[HeldSpan]] = {c.id: [] for c in config.coordinators}
    for n in range(events):
        coordinator = rng.choice(config.coordinators)
        day = start + timedelta(days=rng.randrange(days))
        begin = jst_midnight(day) + timedelta(minutes=rng.randrange(8 * 60, 18 * 60, 15))
        end = begin + timedelta(minutes=rng.choice((30, 45, 60, 90, 120, 180)))
        if n % 20 == 0:
            held[coordinator.id].append(HeldSpan(begin, begin, end + timedelta(minutes=15)))
        else:
            busy[coordinator.id].append((begin, end))
    return {cid: Occupancy(busy=busy[cid], bookings=held[cid]) for cid in busy}


def build_requests(rng: random.Random, count: int, first: datetime) -> list[SlotRequest]:
    """Requests of every scheduled method, at times spread over two weeks."""
    requests = []
    for _ in range(count):
        now = first + timedelta(minutes=rng.randrange(0, 14 * 24 * 60, 7))
        method = rng.choice(("online", "online", "visit_desk", "onsite", "phone"))
        requests.append(
            SlotRequest(method=method, category=rng.choice(CATEGORIES), region=rng.choice(REGIONS), now=now)
        )
    return requests


# --- the naive scan ----------------------------------------------------------------------------------


def _minute_grid(
    coordinator: Coordinator, occupancy: Occupancy, config: SchedulingConfig, first: date, days: int
) -> bytearray:
    """1 for every minute of the horizon inside a working day and not blocked, minute by minute."""
    origin = jst_midnight(first)
    total = days * 24 * 60
    grid = bytearray(total)
    for day in iter_days(first, first + timedelta(days=days - 1)):
        intervals = working_intervals(coordinator, day, closures=config.closures)
        if not intervals:
            continue
        # From the day's first working minute to its last: travel may use the breaks.
        first_minute = int((intervals[0][0] - origin).total_seconds()) // 60
        for minute in range(first_minute, int((intervals[-1][1] - origin).total_seconds()) // 60):
            grid[minute] = 1
    buffer = config.rules.buffer_minutes
    spans = [(s, e, True) for s, e in occupancy.busy]
    spans += [(b.blocked_from, b.blocked_until, False) for b in occupancy.bookings]
    for start, end, outside in spans:
        lo = int((start - origin).total_seconds()) // 60 - buffer
        hi = int((end - origin).total_seconds()) // 60 + (buffer if outside else 0)
        for minute in range(max(lo, 0), min(hi, total)):
            grid[minute] = 0
    return grid


def naive_day_candidates(
    grid: bytearray,
    coordinator: Coordinator,
    day: date,
    origin: datetime,
    window: tuple[datetime, datetime],
    duration: int,
    travel: int,
    config: SchedulingConfig,
    per_day: int,
) -> list[tuple[datetime, datetime]]:
    """Every step-aligned meeting start of the day whose block is free minute by minute."""
    cap = coordinator.max_per_day or config.rules.max_per_day
    if per_day >= cap:
        return []
    ranges = [parse_hours(r) for r in _hours(coordinator, day, config)]
    day_offset = int((jst_midnight(day) - origin).total_seconds()) // 60
    lo = int((window[0] - origin).total_seconds()) // 60
    hi = int((window[1] - origin).total_seconds()) // 60
    found = []
    for start_minute in range(0, 24 * 60, config.rules.step_minutes):
        begin = day_offset + start_minute - travel
        finish = day_offset + start_minute + duration + travel
        if begin < lo or finish > hi or begin < 0 or finish > len(grid):
            continue
        inside_one_range = any(s <= start_minute and start_minute + duration <= e for s, e in ranges)
        if inside_one_range and all(grid[m] for m in range(begin, finish)):
            start = origin + timedelta(minutes=day_offset + start_minute)
            found.append((start, start + timedelta(minutes=duration)))
    return found


def _hours(coordinator: Coordinator, day: date, config: SchedulingConfig) -> tuple[str, ...]:
    from scheduling.availability import day_hours

    return day_hours(coordinator, day, closures=config.closures)


def naive_propose(
    config: SchedulingConfig, request: SlotRequest, occupancy: dict[str, Occupancy]
) -> list[Slot]:
    """The same proposals (one per day, least busy first) found by scanning every minute of the horizon."""
    rules = config.rules
    window = booking_window(config, request.now)
    duration = rules.duration_minutes[request.method]
    travel = (
        rules.travel_minutes.get(request.region, rules.default_travel_minutes)
        if request.method == "onsite"
        else 0
    )
    first, last = jst_date(window[0]), jst_date(window[1] - timedelta(microseconds=1))
    days = (last - first).days + 1
    origin = jst_midnight(first)
    coordinators = sorted(
        match_coordinators(config, request), key=lambda c: (len(occupancy[c.id].bookings), c.id)
    )
    grids = {c.id: _minute_grid(c, occupancy[c.id], config, first, days) for c in coordinators}
    counts = {c.id: _per_day(occupancy[c.id].bookings) for c in coordinators}
    chosen: list[Slot] = []
    for day in iter_days(first, last):
        for c in coordinators:
            found = naive_day_candidates(
                grids[c.id], c, day, origin, window, duration, travel, config, counts[c.id].get(day, 0)
            )
            if found:
                start, end = found[0]
                blocked = (
                    start - timedelta(minutes=travel),
                    end + timedelta(minutes=travel + rules.buffer_minutes),
                )
                chosen.append(
                    Slot(c.id, request.method, start, end, *blocked, False, rules.hold_expiry_minutes)
                )
                break
        if len(chosen) == rules.proposals:
            break
    return chosen


def _per_day(bookings: Sequence[HeldSpan]) -> dict[date, int]:
    counts: dict[date, int] = {}
    for b in bookings:
        counts[jst_date(b.starts_at)] = counts.get(jst_date(b.starts_at), 0) + 1
    return counts


# --- the run -----------------------------------------------------------------------------------------


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--naive-requests", type=int, default=50)
    parser.add_argument("--seed", type=int, default=20261125)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    config = build_config(rng)
    first_now = datetime(2026, 11, 25, 10, 0, tzinfo=JST).astimezone(UTC)
    occupancy = build_occupancy(rng, config, jst_date(first_now), days=90 + 20)
    requests = build_requests(rng, args.requests, first_now)
    events = sum(len(o.busy) + len(o.bookings) for o in occupancy.values())

    fast: list[float] = []
    results = []
    for request in requests:
        began = time.perf_counter()
        results.append(find_slots(config=config, request=request, occupancy=occupancy))
        fast.append((time.perf_counter() - began) * 1000)
    naive: list[float] = []
    mismatches = 0
    for request, result in zip(requests[: args.naive_requests], results, strict=False):
        began = time.perf_counter()
        expected = naive_propose(config, request, occupancy)
        naive.append((time.perf_counter() - began) * 1000)
        mismatches += list(result.slots) != expected

    fast_median, fast_p99 = statistics.median(fast), _percentile(fast, 0.99)
    naive_median, naive_p99 = statistics.median(naive), _percentile(naive, 0.99)
    print(
        f"coordinators: {len(config.coordinators)}, horizon: {config.rules.horizon_days} days, busy events: {events}"
    )
    print(f"interval finder  ({len(fast)} requests): median {fast_median:8.2f} ms   p99 {fast_p99:8.2f} ms")
    print(
        f"minute-by-minute ({len(naive)} requests): median {naive_median:8.2f} ms   p99 {naive_p99:8.2f} ms"
    )
    print(f"speed-up: median {naive_median / fast_median:.0f}x, p99 {naive_p99 / fast_p99:.0f}x")
    print(f"same proposals as the scan: {len(naive) - mismatches}/{len(naive)}")
    print(
        "goal (p99 < 20 ms, and >= 10x at the median and at p99): "
        f"{'met' if fast_p99 < 20 and min(naive_median / fast_median, naive_p99 / fast_p99) >= 10 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()

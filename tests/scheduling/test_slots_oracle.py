"""The interval arithmetic agrees with a minute-by-minute scan on random calendars."""

from __future__ import annotations

import importlib.util
import random
import sys
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest

from config.scheduling import SchedulingConfig
from scheduling.availability import iter_days, jst_date, jst_midnight
from scheduling.slots import HeldSpan, Occupancy, SlotRequest, booking_window, find_slots, list_day_slots
from tests.scheduling.support import jst

HOUR_CHOICES: tuple[list[str], ...] = (
    [],
    ["09:00-17:00"],
    ["09:00-12:00", "13:00-17:00"],
    ["08:30-10:00", "10:00-11:45", "14:15-18:00"],
    ["10:00-15:00"],
    ["13:00-24:00"],
)


def load_benchmark() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "slots.py"
    spec = importlib.util.spec_from_file_location("benchmark_slots", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def naive() -> ModuleType:
    return load_benchmark()


def random_case(rng: random.Random) -> tuple[SchedulingConfig, SlotRequest, dict[str, Occupancy]]:
    hours = {day: rng.choice(HOUR_CHOICES) for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    config = SchedulingConfig.model_validate(
        {
            "coordinators": [{"id": "a", "name": "A", "hours": hours, "works_holidays": rng.random() < 0.5}],
            "rules": {
                "buffer_minutes": rng.choice((0, 10, 15)),
                "step_minutes": rng.choice((15, 30, 60)),
                "horizon_days": 14,
                "max_per_day": rng.choice((1, 2, 5)),
                "min_notice_business_days": rng.choice((0, 1, 2)),
            },
        }
    )
    now = jst(2026, 11, 16, 0, 0) + timedelta(minutes=rng.randrange(0, 30 * 24 * 60, 5))
    first = jst_date(now)
    busy, held = [], []
    for _ in range(rng.randrange(0, 60)):
        start = jst_midnight(first + timedelta(days=rng.randrange(0, 18))) + timedelta(
            minutes=rng.randrange(6 * 60, 22 * 60, 5)
        )
        end = start + timedelta(minutes=rng.randrange(5, 240, 5))
        if rng.random() < 0.15:
            held.append(HeldSpan(start, start - timedelta(minutes=30), end + timedelta(minutes=45)))
        else:
            busy.append((start, end))
    method = rng.choice(("online", "visit_desk", "phone", "onsite"))
    request = SlotRequest(
        method=method, category="other", region=rng.choice(("kagoshima", "osumi", "hokusatsu")), now=now
    )
    return config, request, {"a": Occupancy(busy=busy, bookings=held)}


@pytest.mark.parametrize("seed", range(60))
def test_every_free_start_matches_the_minute_scan(seed: int, naive: ModuleType) -> None:
    rng = random.Random(seed)
    config, request, occupancy = random_case(rng)
    coordinator = config.coordinators[0]
    rules = config.rules
    window = booking_window(config, request.now)
    first, last = jst_date(window[0]), jst_date(window[1] - timedelta(microseconds=1))
    days = (last - first).days + 1
    origin = jst_midnight(first)
    grid = naive._minute_grid(coordinator, occupancy["a"], config, first, days)
    counts = naive._per_day(occupancy["a"].bookings)
    travel = (
        rules.travel_minutes.get(request.region, rules.default_travel_minutes)
        if request.method == "onsite"
        else 0
    )
    for day in iter_days(first, last):
        fast = [
            (s.starts_at, s.ends_at)
            for s in list_day_slots(config=config, request=request, occupancy=occupancy, day=day)
        ]
        slow = naive.naive_day_candidates(
            grid,
            coordinator,
            day,
            origin,
            window,
            rules.duration_minutes[request.method],
            travel,
            config,
            counts.get(day, 0),
        )
        assert fast == slow, f"seed {seed}, {day}"


@pytest.mark.parametrize("seed", range(20))
def test_proposals_match_the_naive_proposals(seed: int, naive: ModuleType) -> None:
    rng = random.Random(1000 + seed)
    config = naive.build_config(rng, coordinators=6, horizon_days=30)
    start = jst(2026, 11, 25, 10)
    occupancy = naive.build_occupancy(rng, config, jst_date(start), days=40, events=400)
    for request in naive.build_requests(rng, 5, start):
        proposal = find_slots(config=config, request=request, occupancy=occupancy)
        expected = naive.naive_propose(config, request, occupancy)
        if len(expected) == config.rules.proposals:  # the naive scan knows only one slot a day
            assert list(proposal.slots) == expected

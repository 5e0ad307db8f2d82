"""The slot finder: notice, horizon, holidays, hours, buffers, travel, caps, fairness and order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from config.scheduling import SchedulingConfig
from scheduling.availability import JST
from scheduling.holidays import next_business_day
from scheduling.labels import label_slot
from scheduling.slots import HeldSpan, Occupancy, Proposal, Slot, SlotRequest, booking_window, find_slots
from tests.scheduling.support import jst, make_config

WEDNESDAY = jst(2026, 11, 25, 10, 0)


def propose(
    config: SchedulingConfig,
    *,
    now: datetime = WEDNESDAY,
    method: str = "online",
    category: str = "other",
    region: str = "kagoshima",
    occupancy: dict[str, Occupancy] | None = None,
    **request: Any,
) -> Proposal:
    slot_request = SlotRequest(method=method, category=category, region=region, now=now, **request)
    return find_slots(config=config, request=slot_request, occupancy=occupancy or {})


def labels(proposal: Proposal) -> list[str]:
    return [label_slot(s) for s in proposal.slots]


def test_five_slots_on_five_business_days_from_the_next_business_day() -> None:
    proposal = propose(make_config())
    assert proposal.status == "ok"
    assert labels(proposal) == [
        "11/26(木) 09:00",
        "11/27(金) 09:00",
        "11/30(月) 09:00",
        "12/1(火) 09:00",
        "12/2(水) 09:00",
    ]
    first = proposal.slots[0]
    assert (first.starts_at, first.ends_at) == (jst(2026, 11, 26, 9), jst(2026, 11, 26, 10))
    assert first.blocked_until == jst(2026, 11, 26, 10, 15)


def test_minimum_notice_across_a_weekend() -> None:
    friday_afternoon = jst(2026, 11, 27, 16, 0)
    assert labels(propose(make_config(), now=friday_afternoon))[0] == "11/30(月) 09:00"
    saturday = jst(2026, 11, 28, 11, 0)
    assert labels(propose(make_config(), now=saturday))[0] == "11/30(月) 09:00"


def test_minimum_notice_counts_desk_business_days_even_for_a_saturday_worker() -> None:
    config = make_config(
        [
            {
                "id": "s",
                "name": "S",
                "hours": {d: [] for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": ["10:00-12:00"]},
            }
        ]
    )
    proposal = propose(config, now=jst(2026, 11, 27, 9, 0))
    assert (
        labels(proposal)[0] == "12/5(土) 10:00"
    )  # not Saturday 11/28: the next business day is Monday 11/30


def test_minimum_notice_skips_a_monday_holiday() -> None:
    assert labels(propose(make_config(), now=jst(2026, 11, 20, 9, 0)))[0] == "11/24(火) 09:00"


def test_zero_notice_starts_after_now_on_a_step() -> None:
    proposal = propose(make_config(min_notice_business_days=0), now=jst(2026, 11, 25, 10, 7))
    assert labels(proposal)[0] == "11/25(水) 10:30"


def test_no_slot_on_an_unworked_holiday_and_the_holiday_label_for_who_works_it() -> None:
    thursday = jst(2026, 11, 19, 9, 0)
    days = [s.starts_at.date() for s in propose(make_config(), now=thursday).slots]
    assert jst(2026, 11, 23, 9).date() not in days
    assert labels(propose(make_config(), now=thursday))[:3] == [
        "11/20(金) 09:00",
        "11/24(火) 09:00",
        "11/25(水) 09:00",
    ]
    holiday_worker = make_config([{"id": "h", "name": "H", "works_holidays": True}])
    assert labels(propose(holiday_worker, now=thursday))[:2] == ["11/20(金) 09:00", "11/23(月・祝) 09:00"]


@pytest.mark.parametrize("day", [date(2026, 5, 6), date(2026, 9, 22)])
def test_no_slot_on_substitute_or_citizens_holidays(day: date) -> None:
    now = jst(day.year, day.month, day.day, 9) - timedelta(days=7)
    slots = propose(make_config(proposals=13), now=now).slots
    offered = {s.starts_at.astimezone(JST).date() for s in slots}
    assert day not in offered
    assert next_business_day(day) in offered


def test_the_year_end_closure_is_skipped_even_by_holiday_workers() -> None:
    config = make_config(
        [{"id": "h", "name": "H", "works_holidays": True, "hours": {"sat": ["09:00-12:00"]}}]
    )
    proposal = propose(config, now=jst(2026, 12, 24, 10))
    assert labels(proposal) == [
        "12/25(金) 09:00",
        "12/26(土) 09:00",
        "12/28(月) 09:00",
        "1/4(月) 09:00",
        "1/5(火) 09:00",
    ]


def test_the_horizon_is_the_last_day_offered() -> None:
    hours: dict[str, list[str]] = {d: [] for d in ("mon", "tue", "wed", "thu", "fri")}
    inside = make_config(
        [{"id": "a", "name": "A", "hours": hours, "overrides": {"2026-12-16": ["10:00-11:00"]}}]
    )
    assert labels(propose(inside)) == ["12/16(水) 10:00"]
    outside = make_config(
        [{"id": "a", "name": "A", "hours": hours, "overrides": {"2026-12-17": ["10:00-11:00"]}}]
    )
    assert propose(outside).status == "no_slots"
    window_start, window_end = booking_window(make_config(), WEDNESDAY)
    assert (window_start, window_end) == (jst(2026, 11, 26), jst(2026, 12, 17))


def busy_on(day: tuple[int, int, int], *spans: tuple[str, str]) -> Occupancy:
    def at(clock: str) -> datetime:
        hour, minute = (int(x) for x in clock.split(":"))
        return jst(*day, hour, minute)

    return Occupancy(busy=[(at(a), at(b)) for a, b in spans])


@pytest.mark.parametrize(
    ("busy", "first"),
    [
        ((), "09:00"),
        ((("09:00", "10:00"),), "10:30"),  # 10:00 + 15 min buffer, on the next half hour
        ((("09:00", "10:45"),), "11:00"),  # ends exactly at 12:00; the buffer may run into the break
        ((("09:00", "11:05"),), "13:00"),  # 11:30 would run past 12:00
        ((("09:00", "11:05"), ("13:50", "14:00")), "14:30"),  # 13:00 would end inside the buffer of 13:50
        ((("09:00", "12:00"), ("13:00", "16:00")), "16:15 none"),
    ],
)
def test_working_hour_edges_and_buffers(busy: tuple[tuple[str, str], ...], first: str) -> None:
    hours: dict[str, list[str]] = {d: [] for d in ("mon", "tue", "wed", "fri")} | {
        "thu": ["09:00-12:00", "13:00-17:00"]
    }
    config = make_config(
        [{"id": "a", "name": "A", "hours": hours}], horizon_days=1, min_notice_business_days=1
    )
    proposal = propose(config, occupancy={"a": busy_on((2026, 11, 26), *busy)})
    if first.endswith("none"):
        assert proposal.status == "no_slots"
    else:
        assert labels(proposal)[0] == f"11/26(木) {first}"


def test_no_buffer_allows_back_to_back() -> None:
    config = make_config(buffer_minutes=0)
    proposal = propose(config, occupancy={"a": busy_on((2026, 11, 26), ("09:00", "10:00"))})
    assert labels(proposal)[0] == "11/26(木) 10:00"


def test_an_onsite_visit_takes_travel_time_which_may_use_the_lunch_break() -> None:
    proposal = propose(make_config(), method="onsite", region="hokusatsu")  # 90 min meeting, 90 min each way
    first = proposal.slots[0]
    assert label_slot(first) == "11/26(木) 10:30"  # travel 09:00-10:30, back 12:00-13:30
    assert (first.blocked_from, first.ends_at, first.blocked_until) == (
        jst(2026, 11, 26, 9),
        jst(2026, 11, 26, 12),
        jst(2026, 11, 26, 13, 45),
    )
    nearby = propose(make_config(), method="onsite", region="kagoshima").slots[0]
    assert label_slot(nearby) == "11/26(木) 09:30"


def test_an_island_visit_takes_the_whole_day_and_online_is_offered_beside_it() -> None:
    config = make_config()
    proposal = propose(config, method="onsite", region="oshima")
    assert proposal.alternative_method == "online"
    first = proposal.slots[0]
    assert first.whole_day and label_slot(first) == "11/26(木) 終日"
    assert (first.starts_at, first.ends_at) == (jst(2026, 11, 26, 9), jst(2026, 11, 26, 17))
    busy_thursday = propose(
        config, method="onsite", region="kumage", occupancy={"a": busy_on((2026, 11, 26), ("16:00", "16:30"))}
    )
    assert label_slot(busy_thursday.slots[0]) == "11/27(金) 終日"


def test_online_only_regions_and_unscheduled_methods() -> None:
    config = make_config(remote_regions={"oshima": "online_only"})
    proposal = propose(config, method="onsite", region="oshima")
    assert (proposal.status, proposal.alternative_method, proposal.slots) == ("online_only", "online", ())
    assert propose(config, method="online", region="oshima").status == "ok"
    assert propose(config, method="email").status == "not_scheduled"
    phone = propose(config, method="phone").slots[0]
    assert phone.ends_at - phone.starts_at == timedelta(minutes=30)


def test_coordinators_are_matched_by_category_region_and_method() -> None:
    config = make_config(
        [
            {"id": "ec", "name": "EC", "categories": ["ec_sales"], "regions": ["*"], "methods": ["online"]},
            {"id": "osumi", "name": "O", "categories": ["*"], "regions": ["osumi"]},
            {
                "id": "desk",
                "name": "D",
                "categories": ["*"],
                "regions": ["kagoshima"],
                "methods": ["visit_desk"],
            },
        ]
    )
    assert {s.coordinator_id for s in propose(config, category="ec_sales", region="kagoshima").slots} == {
        "ec"
    }
    assert {s.coordinator_id for s in propose(config, category="security", region="osumi").slots} == {"osumi"}
    # Nobody takes security in kagoshima online; region is relaxed for meetings not held on site.
    assert {s.coordinator_id for s in propose(config, category="security", region="kagoshima").slots} == {
        "osumi"
    }
    assert (
        propose(config, method="onsite", category="security", region="kagoshima").status == "no_coordinator"
    )
    assert {s.coordinator_id for s in propose(config, method="visit_desk", region="kagoshima").slots} == {
        "desk"
    }


def test_at_most_k_appointments_per_coordinator_per_day() -> None:
    booked = HeldSpan(jst(2026, 11, 26, 9), jst(2026, 11, 26, 9), jst(2026, 11, 26, 10, 15))
    occupancy = {"a": Occupancy(bookings=[booked])}
    assert labels(propose(make_config(), occupancy=occupancy))[0] == "11/26(木) 10:30"
    assert labels(propose(make_config(max_per_day=1), occupancy=occupancy))[0] == "11/27(金) 09:00"
    per_coordinator = make_config([{"id": "a", "name": "A", "max_per_day": 1}])
    assert labels(propose(per_coordinator, occupancy=occupancy))[0] == "11/27(金) 09:00"


def test_the_least_busy_coordinator_comes_first_then_by_id() -> None:
    config = make_config([{"id": "b", "name": "B"}, {"id": "a", "name": "A"}])
    assert {s.coordinator_id for s in propose(config).slots} == {"a"}
    later = HeldSpan(jst(2026, 12, 10, 9), jst(2026, 12, 10, 9), jst(2026, 12, 10, 10, 15))
    busier_a = {"a": Occupancy(bookings=[later, later])}
    assert {s.coordinator_id for s in propose(config, occupancy=busier_a).slots} == {"b"}


def test_the_order_is_stable_and_independent_of_the_config_order() -> None:
    people = [{"id": f"c{i}", "name": str(i), "hours": {"mon": ["10:00-11:00"]}} for i in range(4)]
    first = propose(make_config(people))
    assert propose(make_config(people)) == first
    assert propose(make_config(list(reversed(people)))) == first
    assert [s.starts_at for s in first.slots] == sorted(s.starts_at for s in first.slots)


def test_when_few_days_are_free_more_times_are_offered_on_them_spread_out() -> None:
    hours: dict[str, list[str]] = {d: [] for d in ("mon", "tue", "wed", "thu", "fri")}
    overrides = {"2026-11-26": ["09:00-12:00", "13:00-17:00"], "2026-12-01": ["09:00-12:00"]}
    config = make_config([{"id": "a", "name": "A", "hours": hours, "overrides": overrides}])
    assert labels(propose(config)) == [
        "11/26(木) 09:00",
        "11/26(木) 11:00",
        "11/26(木) 13:00",
        "12/1(火) 09:00",
        "12/1(火) 11:00",
    ]


def test_around_a_chosen_time_the_nearest_slots_follow() -> None:
    proposal = propose(make_config(), around=jst(2026, 12, 3, 14, 10))
    assert labels(proposal) == [
        "12/3(木) 13:00",
        "12/3(木) 13:30",
        "12/3(木) 14:00",
        "12/3(木) 14:30",
        "12/3(木) 15:00",
    ]
    weekend = propose(make_config(proposals=2), around=jst(2026, 12, 5, 12, 0))
    assert labels(weekend) == ["12/4(金) 15:30", "12/4(金) 16:00"]  # Friday evening is nearer than Monday


def test_earliest_moves_the_start() -> None:
    assert labels(propose(make_config(), earliest=jst(2026, 12, 7, 10, 0)))[0] == "12/7(月) 10:00"


def test_a_failed_calendar_leaves_its_coordinator_out_and_says_so() -> None:
    config = make_config([{"id": "a", "name": "A"}, {"id": "b", "name": "B"}])
    one_failed = propose(config, occupancy={"a": Occupancy(failed=True)})
    assert {s.coordinator_id for s in one_failed.slots} == {"b"} and one_failed.unavailable == ("a",)
    all_failed = propose(config, occupancy={"a": Occupancy(failed=True), "b": Occupancy(failed=True)})
    assert (all_failed.status, all_failed.slots) == ("calendar_unavailable", ())


def test_slots_stay_inside_the_known_part_of_a_calendar() -> None:
    occupancy = {"a": Occupancy(known_from=jst(2026, 11, 26), known_until=jst(2026, 11, 28))}
    assert labels(propose(make_config(), occupancy=occupancy)) == [
        "11/26(木) 09:00",
        "11/26(木) 11:00",
        "11/26(木) 13:00",
        "11/27(金) 09:00",
        "11/27(金) 11:00",
    ]


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles", "Asia/Kolkata", "Australia/Lord_Howe"])
def test_the_same_slots_whatever_the_process_time_zone(zone: str, set_tz: Callable[[str], None]) -> None:
    expected = propose(make_config(), now=jst(2026, 11, 27, 23, 30))
    set_tz(zone)
    assert propose(make_config(), now=jst(2026, 11, 27, 23, 30)) == expected
    assert labels(expected)[0] == "11/30(月) 09:00"


def test_a_slot_round_trips_through_json_and_has_a_short_token() -> None:
    slot = propose(make_config()).slots[0]
    assert Slot.from_dict(slot.as_dict()) == slot
    assert slot.token == "a.202611260900.online"
    assert len(slot.token) < 100

"""Working intervals of a coordinator per day, in Japan time, whatever the server's time zone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from config import load_desk_config
from config.scheduling import Closures, Coordinator, SchedulingConfig
from scheduling.availability import jst_date, jst_midnight, working_intervals
from tests.scheduling.support import jst


def coordinator(**fields: object) -> Coordinator:
    return Coordinator.model_validate({"id": "a", "name": "A", **fields})


def test_weekday_hours_become_utc_intervals() -> None:
    intervals = working_intervals(coordinator(), date(2026, 12, 3))
    assert intervals == [
        (jst(2026, 12, 3, 9), jst(2026, 12, 3, 12)),
        (jst(2026, 12, 3, 13), jst(2026, 12, 3, 17)),
    ]
    assert intervals[0][0] == datetime(2026, 12, 3, 0, 0, tzinfo=UTC)
    assert all(start.tzinfo is UTC for start, _ in intervals)


def test_weekend_is_off_unless_worked() -> None:
    assert working_intervals(coordinator(), date(2026, 12, 5)) == []
    saturday = coordinator(hours={"sat": ["10:00-15:00"]})
    assert working_intervals(saturday, date(2026, 12, 5)) == [(jst(2026, 12, 5, 10), jst(2026, 12, 5, 15))]


def test_a_holiday_is_off_unless_the_coordinator_works_holidays() -> None:
    assert working_intervals(coordinator(), date(2026, 11, 23)) == []
    assert working_intervals(coordinator(), date(2026, 5, 6)) == []
    assert working_intervals(coordinator(), date(2026, 9, 22)) == []
    assert len(working_intervals(coordinator(works_holidays=True), date(2026, 11, 23))) == 2


def test_a_holiday_on_a_saturday_is_off_for_a_saturday_worker() -> None:
    saturday = coordinator(hours={"sat": ["10:00-15:00"]})
    assert working_intervals(saturday, date(2026, 10, 10)) != []  # an ordinary Saturday
    # 2028-04-29 (昭和の日) falls on a Saturday: no substitute day, and no work.
    assert working_intervals(saturday, date(2028, 4, 29)) == []
    assert working_intervals(coordinator(), date(2028, 5, 1)) != []


def test_overrides_add_and_remove_days_but_the_desk_closure_wins() -> None:
    c = coordinator(
        overrides={
            date(2026, 12, 6): ["10:00-12:00"],
            date(2026, 12, 3): "closed",
            date(2026, 12, 29): ["09:00-12:00"],
        }
    )
    assert working_intervals(c, date(2026, 12, 6)) == [(jst(2026, 12, 6, 10), jst(2026, 12, 6, 12))]
    assert working_intervals(c, date(2026, 12, 3)) == []
    assert working_intervals(c, date(2026, 12, 29)) == []
    assert working_intervals(c, date(2026, 12, 29), closures=Closures(year_end=None)) != []


def test_hours_may_end_at_midnight() -> None:
    c = coordinator(hours={"mon": ["18:00-24:00"]})
    assert working_intervals(c, date(2026, 11, 30)) == [(jst(2026, 11, 30, 18), jst(2026, 12, 1, 0))]


@pytest.mark.parametrize(
    "hours",
    [["9:00-12:00"], ["12:00-09:00"], ["09:00-25:00"], ["09:00-12:00", "11:00-13:00"], ["09:60-10:00"]],
)
def test_malformed_hours_are_refused(hours: list[str]) -> None:
    with pytest.raises(ValidationError):
        coordinator(hours={"mon": hours})


def test_a_secret_in_place_of_a_variable_name_is_refused() -> None:
    with pytest.raises(ValidationError, match="NAME of an environment variable"):
        coordinator(
            calendar={"provider": "caldav", "url": "https://dav.example.invalid/", "password_env": "hunter2"}
        )


def test_a_remote_calendar_needs_a_url() -> None:
    with pytest.raises(ValidationError, match="URL"):
        coordinator(calendar={"provider": "ics"})


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(ValidationError):
        SchedulingConfig.model_validate({"rules": {"horizon": 21}})


def test_the_shipped_config_has_three_example_coordinators_who_cover_saturdays_and_holidays() -> None:
    config = load_desk_config().scheduling
    assert len(config.coordinators) == 3
    assert all(c.example and c.name.startswith("例）") for c in config.coordinators)
    assert any(c.hours.sat for c in config.coordinators)
    assert any(c.works_holidays for c in config.coordinators)
    assert all(c.calendar.provider == "builtin" for c in config.coordinators)


def test_the_shipped_config_refers_to_the_desk_lists() -> None:
    from config import load_desk_config

    desk = load_desk_config()
    problems = load_desk_config().scheduling.check_references(
        region_ids={r.id for r in desk.regions},
        category_ids={c.id for c in desk.categories},
        method_ids={m.id for m in desk.methods},
    )
    assert problems == []


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles", "Asia/Kolkata", "Pacific/Chatham"])
def test_japan_time_whatever_the_process_time_zone(zone: str, set_tz: Callable[[str], None]) -> None:
    set_tz(zone)
    assert working_intervals(coordinator(), date(2026, 12, 3))[0][0] == datetime(
        2026, 12, 3, 0, 0, tzinfo=UTC
    )
    assert jst_midnight(date(2026, 12, 3)) == datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
    assert jst_date(datetime(2026, 12, 2, 15, 0, tzinfo=UTC)) == date(2026, 12, 3)
    assert jst_date(datetime(2026, 12, 2, 14, 59, tzinfo=UTC)) == date(2026, 12, 2)

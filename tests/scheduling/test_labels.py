"""Button labels of slots: date, weekday (and 祝), start, within LINE's 20 characters."""

from __future__ import annotations

from datetime import date, timedelta

from scheduling.labels import label_day, label_slot, label_slot_range
from scheduling.slots import Slot
from tests.scheduling.support import jst


def slot_at(*when: int, whole_day: bool = False, minutes: int = 60) -> Slot:
    start = jst(*when)
    return Slot(
        "a",
        "online",
        start,
        start + timedelta(minutes=minutes),
        start,
        start + timedelta(minutes=minutes),
        whole_day,
    )


def test_a_weekday_slot() -> None:
    assert label_slot(slot_at(2026, 12, 3, 14, 0)) == "12/3(木) 14:00"


def test_a_holiday_slot() -> None:
    assert label_slot(slot_at(2026, 11, 23, 10, 0)) == "11/23(月・祝) 10:00"
    assert label_day(date(2026, 5, 6)) == "5/6(水・祝)"
    assert label_day(date(2026, 9, 22)) == "9/22(火・祝)"


def test_the_label_is_in_japan_time_near_midnight() -> None:
    assert label_slot(slot_at(2026, 12, 4, 0, 30)) == "12/4(金) 00:30"


def test_whole_day_and_range_labels() -> None:
    assert label_slot(slot_at(2026, 12, 3, 9, 0, whole_day=True, minutes=480)) == "12/3(木) 終日"
    assert label_slot_range(slot_at(2026, 12, 3, 14, 0)) == "12/3(木) 14:00〜15:00"


def test_every_label_of_two_years_fits_a_button() -> None:
    day = date(2026, 1, 1)
    longest = 0
    while day < date(2028, 1, 1):
        longest = max(longest, len(label_slot(slot_at(day.year, day.month, day.day, 23, 30))))
        day += timedelta(days=1)
    assert longest <= 20
    assert longest == len("12/23(水・祝) 23:30")

"""Japanese public holidays, desk closures and business days for 2026 and 2027."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from config.scheduling import Closures
from scheduling.holidays import (
    add_business_days,
    holiday_name,
    is_business_day,
    is_desk_closed,
    is_public_holiday,
    next_business_day,
)

# The official list (domain notes, section 7.3), checked against the rules of 祝日法 第3条.
HOLIDAYS = {
    date(2026, 1, 1): "元日",
    date(2026, 1, 12): "成人の日",
    date(2026, 2, 11): "建国記念の日",
    date(2026, 2, 23): "天皇誕生日",
    date(2026, 3, 20): "春分の日",
    date(2026, 4, 29): "昭和の日",
    date(2026, 5, 3): "憲法記念日",
    date(2026, 5, 4): "みどりの日",
    date(2026, 5, 5): "こどもの日",
    date(2026, 5, 6): "振替休日",
    date(2026, 7, 20): "海の日",
    date(2026, 8, 11): "山の日",
    date(2026, 9, 21): "敬老の日",
    date(2026, 9, 22): "国民の休日",
    date(2026, 9, 23): "秋分の日",
    date(2026, 10, 12): "スポーツの日",
    date(2026, 11, 3): "文化の日",
    date(2026, 11, 23): "勤労感謝の日",
    date(2027, 1, 1): "元日",
    date(2027, 1, 11): "成人の日",
    date(2027, 2, 11): "建国記念の日",
    date(2027, 2, 23): "天皇誕生日",
    date(2027, 3, 21): "春分の日",
    date(2027, 3, 22): "振替休日",
    date(2027, 4, 29): "昭和の日",
    date(2027, 5, 3): "憲法記念日",
    date(2027, 5, 4): "みどりの日",
    date(2027, 5, 5): "こどもの日",
    date(2027, 7, 19): "海の日",
    date(2027, 8, 11): "山の日",
    date(2027, 9, 20): "敬老の日",
    date(2027, 9, 23): "秋分の日",
    date(2027, 10, 11): "スポーツの日",
    date(2027, 11, 3): "文化の日",
    date(2027, 11, 23): "勤労感謝の日",
}


def every_day(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def test_the_public_holidays_of_2026_and_2027_are_exactly_the_official_list() -> None:
    found = {
        day: holiday_name(day)
        for day in every_day(date(2026, 1, 1), date(2027, 12, 31))
        if is_public_holiday(day)
    }
    assert found == HOLIDAYS


def test_substitute_and_citizens_holidays_close_the_desk() -> None:
    assert holiday_name(date(2026, 5, 6)) == "振替休日"  # 憲法記念日 fell on a Sunday; 5/4 and 5/5 were taken
    assert date(2026, 5, 6).weekday() == 2
    assert holiday_name(date(2026, 9, 22)) == "国民の休日"  # between 敬老の日 and 秋分の日
    assert not is_business_day(date(2026, 5, 6))
    assert not is_business_day(date(2026, 9, 22))
    assert is_business_day(date(2026, 5, 7))
    assert is_business_day(date(2026, 9, 24))


def test_the_year_end_closure_runs_from_12_29_to_1_3() -> None:
    closed = [d for d in every_day(date(2026, 12, 25), date(2027, 1, 6)) if is_desk_closed(d)]
    assert closed == every_day(date(2026, 12, 29), date(2027, 1, 3))
    assert is_business_day(date(2026, 12, 28))  # Monday
    assert not is_business_day(date(2026, 12, 29))  # Tuesday, but closed
    assert not is_business_day(date(2026, 12, 30))
    assert is_business_day(date(2027, 1, 4))  # the desk reopens on Monday


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 27), date(2026, 11, 30)),  # Friday → Monday
        (date(2026, 11, 28), date(2026, 11, 30)),  # Saturday → Monday
        (date(2026, 11, 20), date(2026, 11, 24)),  # Friday before 勤労感謝の日 (Monday) → Tuesday
        (date(2026, 5, 1), date(2026, 5, 7)),  # Golden Week with its 振替休日
        (date(2026, 9, 18), date(2026, 9, 24)),  # Silver Week with its 国民の休日
        (date(2026, 12, 28), date(2027, 1, 4)),  # over the year-end closure
        (date(2027, 3, 19), date(2027, 3, 23)),  # 春分の日 on Sunday, 振替休日 on Monday
    ],
)
def test_next_business_day(day: date, expected: date) -> None:
    assert next_business_day(day) == expected


def test_weekends_are_not_business_days() -> None:
    assert [is_business_day(date(2026, 11, 30) + timedelta(days=i)) for i in range(7)] == [True] * 5 + [
        False
    ] * 2


def test_listed_closures_and_a_desk_without_year_end_break() -> None:
    closures = Closures(year_end=None, dates=(date(2026, 12, 2),))
    assert not is_business_day(date(2026, 12, 2), closures=closures)
    assert is_business_day(date(2026, 12, 29), closures=closures)
    assert next_business_day(date(2026, 12, 1), closures=closures) == date(2026, 12, 3)


def test_a_closure_inside_one_year() -> None:
    closures = Closures(year_end=("08-13", "08-16"))
    assert [
        is_desk_closed(d, closures=closures) for d in every_day(date(2026, 8, 12), date(2026, 8, 17))
    ] == [
        False,
        True,
        True,
        True,
        True,
        False,
    ]


def test_add_business_days() -> None:
    assert add_business_days(date(2026, 11, 25), 0) == date(2026, 11, 25)
    assert add_business_days(date(2026, 11, 25), 3) == date(2026, 11, 30)


def test_a_desk_closed_all_year_is_refused() -> None:
    closures = Closures(dates=tuple(every_day(date(2026, 1, 1), date(2027, 12, 31))))
    with pytest.raises(ValueError, match="no business day"):
        next_business_day(date(2026, 1, 1), closures=closures)

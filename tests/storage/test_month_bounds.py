"""A month is a Japan-time month: what the admin API filters by and a monthly report will count."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage.clock import month_bounds


def test_a_month_starts_and_ends_at_midnight_in_japan() -> None:
    start, end = month_bounds("2026-11")
    assert (start.astimezone(UTC), end.astimezone(UTC)) == (
        datetime(2026, 10, 31, 15, 0, tzinfo=UTC),
        datetime(2026, 11, 30, 15, 0, tzinfo=UTC),
    )


def test_december_ends_with_the_new_year() -> None:
    assert month_bounds("2026-12")[1].astimezone(UTC) == datetime(2026, 12, 31, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "26-01", "2026/01", ""])
def test_anything_but_yyyy_mm_is_refused(month: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        month_bounds(month)

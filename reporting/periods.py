"""The months a report covers, in Japan time: one month (with its fiscal year to date and the same month a
year before) or a fiscal year (April to March, beside the one before)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from storage.clock import JST

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def add_months(month: date, count: int) -> date:
    """The first day of the month `count` months after `month` (before, when negative)."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def fiscal_year_of(month: date) -> int:
    """The fiscal year (年度) a month belongs to: April 2026 to March 2027 is 2026."""
    return month.year if month.month >= 4 else month.year - 1


def month_start(month: date) -> datetime:
    """The month's first instant in Japan time, as an aware datetime."""
    return datetime(month.year, month.month, 1, tzinfo=JST)


def parse_month(value: str) -> date:
    """YYYY-MM as the month's first day; ValueError for anything else."""
    match = _MONTH.match(value)
    if not match:
        raise ValueError("month must be YYYY-MM")
    return date(int(match.group(1)), int(match.group(2)), 1)


@dataclass(frozen=True)
class Column:
    """One column of the summary: a title and the months (indexes into the report's months) it adds up."""

    key: str
    title: str
    months: tuple[int, ...]


@dataclass(frozen=True)
class ReportPeriod:
    """What a report covers: `months` are the consecutive months counted (oldest first); the columns and
    the trend pick from them. The first column is the report's own period."""

    kind: str  # "monthly" or "fiscal-year"
    title: str
    file_stem: str
    months: tuple[date, ...]
    columns: tuple[Column, ...]
    trend: tuple[int, ...]  # the twelve months of the trend chart

    @property
    def boundaries(self) -> list[datetime]:
        """Each month's first instant, and the instant after the last month."""
        return [month_start(m) for m in self.months] + [month_start(add_months(self.months[-1], 1))]

    @property
    def start(self) -> datetime:
        return self.boundaries[0]

    @property
    def end(self) -> datetime:
        return self.boundaries[-1]

    def column_bounds(self, column: Column) -> tuple[datetime, datetime]:
        """The [start, end) of a column (its months are consecutive)."""
        bounds = self.boundaries
        return bounds[column.months[0]], bounds[column.months[-1] + 1]

    @property
    def column_months(self) -> tuple[int, ...]:
        """The months some column adds up (the trend aside), oldest first."""
        return tuple(sorted({m for column in self.columns for m in column.months}))

    def spans(self, single: Iterable[int] = ()) -> tuple[tuple[int, int], ...]:
        """The fewest runs of months (first, last) that the columns add up from, each column a union of
        whole runs; the months of `single` each a run of its own (the trend's). What the summary counts
        with one query a run, not one a month."""
        alone = set(single)
        covered = set(self.column_months) | alone
        cuts = {m for column in self.columns for m in (column.months[0], column.months[-1] + 1)}
        cuts |= {m for s in alone for m in (s, s + 1)}
        runs: list[tuple[int, int]] = []
        for month in sorted(covered):
            if runs and month not in cuts and runs[-1][1] == month - 1:
                runs[-1] = (runs[-1][0], month)
            else:
                runs.append((month, month))
        return tuple(runs)

    def month_count(self, column: Column) -> int:
        return len(column.months)

    @property
    def main(self) -> Column:
        return self.columns[0]


def monthly_period(month: date) -> ReportPeriod:
    """One month, the fiscal year to that month, and the same month of the year before."""
    months = tuple(add_months(month, -12 + i) for i in range(13))  # a year before .. the month
    fy = fiscal_year_of(month)
    since_april = (month.month - 4) % 12  # months from April to the month
    return ReportPeriod(
        kind="monthly",
        title=f"{month.year}年{month.month}月 相談対応実績報告",
        file_stem=f"相談対応実績_{month.year}年{month.month:02d}月",
        months=months,
        columns=(
            Column("month", f"{month.year}年{month.month}月", (12,)),
            Column(
                "fytd",
                f"{fy}年度累計（4月〜{month.month}月）" if month.month != 4 else f"{fy}年度累計（4月）",
                tuple(range(12 - since_april, 13)),
            ),
            Column("previous", f"前年同月（{month.year - 1}年{month.month}月）", (0,)),
        ),
        trend=tuple(range(1, 13)),
    )


def fiscal_year_period(year: int) -> ReportPeriod:
    """A fiscal year, April to March, beside the fiscal year before it."""
    first = date(year - 1, 4, 1)
    months = tuple(add_months(first, i) for i in range(24))
    return ReportPeriod(
        kind="fiscal-year",
        title=f"{year}年度 相談対応実績報告（{year}年4月〜{year + 1}年3月）",
        file_stem=f"相談対応実績_{year}年度",
        months=months,
        columns=(
            Column("year", f"{year}年度", tuple(range(12, 24))),
            Column("previous", f"前年度（{year - 1}年度）", tuple(range(12))),
        ),
        trend=tuple(range(12, 24)),
    )

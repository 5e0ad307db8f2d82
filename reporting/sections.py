"""A summary's tables: a `Section` of `Line`s, one value per column of the period, and the way counts by
month and code (reporting.counts.MonthCounts) add up into one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from reporting import counts as q
from reporting.periods import Column, ReportPeriod

Value = int | float | None


@dataclass(frozen=True)
class Line:
    """One row of a summary table: a label and a value per column; `unit` says how to show it."""

    label: str
    values: tuple[Value, ...]
    unit: str = "件"  # 件, 者, 時間, %, 通, 点
    short: str = ""  # a short label for a chart's axis (the button label of a choice)


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    lines: tuple[Line, ...]
    note: str = ""


def column_sum(counts: q.MonthCounts, column: Column, codes: Iterable[object]) -> int:
    wanted = set(codes)
    return sum(n for m in column.months for code, n in counts.get(m, {}).items() if code in wanted)


def column_total(counts: q.MonthCounts, column: Column) -> int:
    return sum(sum(counts.get(m, {}).values()) for m in column.months)


def count_section(
    key: str,
    title: str,
    counts: q.MonthCounts,
    period: ReportPeriod,
    labels: Sequence[tuple[str, str, str]] | Sequence[tuple[str, str]],
    *,
    keep_zero: bool = True,
    unit: str = "件",
) -> Section:
    """A table of counts by code, in the order of `labels` (code, label[, short label]); codes stored but
    not listed (any more) follow under their stored code, so every row is counted somewhere."""
    listed = [row[0] for row in labels]
    seen = {code for month in counts.values() for code in month}
    extra = sorted((c for c in seen if c not in listed), key=lambda c: (c is None, c or ""))
    rows = [*labels, *((code, code if code is not None else "（未設定）") for code in extra)]
    lines = []
    for code, label, *short in rows:
        values = tuple(column_sum(counts, column, [code]) for column in period.columns)
        if keep_zero or any(values):
            lines.append(Line(label, values, unit, short[0] if short else label))
    return Section(key, title, tuple(lines))

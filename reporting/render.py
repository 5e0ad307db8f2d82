"""How a summary value reads in a table: the same rule for the PDF and the Slack text."""

from __future__ import annotations

from reporting.aggregate import Line, Value

NO_VALUE = "—"
EMPTY_NOTE = "データがありません（この期間の相談はありません）"


def shown(line: Line, value: Value) -> str:
    """A count with thousands separators, hours and scores with one decimal, a rate with %; no value as a dash."""
    if value is None:
        return NO_VALUE
    if line.unit == "%":
        return f"{value:.1f}%"
    if line.unit in ("時間", "点"):
        return f"{value:,.1f}"
    return f"{int(value):,}"


def unit_label(line: Line) -> str:
    return "" if line.unit == "%" else line.unit

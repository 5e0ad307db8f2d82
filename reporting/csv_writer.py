"""The detail list as CSV: one header row, then one row per consultation; UTF-8 with a BOM by default
(what Excel in Japan opens correctly), plain UTF-8 without it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date
from typing import BinaryIO

from reporting.detail import Cell, DetailColumn


def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, date):
        return cell.strftime("%Y/%m/%d")
    return str(cell)


def write_csv(
    out: BinaryIO, columns: Iterable[DetailColumn], rows: Iterable[tuple[Cell, ...]], *, bom: bool = True
) -> int:
    """Writes the rows, returns how many (the header not counted)."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig" if bom else "utf-8", newline="", write_through=True)
    try:
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow([c.title for c in columns])
        count = 0
        for row in rows:
            writer.writerow([_text(cell) for cell in row])
            count += 1
        text.flush()
    finally:
        text.detach()  # the caller owns `out`
    return count

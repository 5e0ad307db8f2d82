"""The report as xlsx: a summary sheet (集計表) and the detail sheet (相談対応実績一覧), ready to print on
A4 landscape, numbers as numbers and dates as Japanese dates. XlsxWriter in constant_memory mode: rows
go to disk as they are written (about twice as fast as openpyxl's write-only mode, measured).

The detail sheet's rows (a fiscal year's is about 50,000 rows of 27 cells) do not go through XlsxWriter's
generic cell path, which costs about 10 µs a cell (its row table, the cell tuple, the regular expressions
of its escaping, the attribute list of each <c>): `DetailRows` writes each row's XML into the worksheet's
constant_memory row file itself, the same bytes XlsxWriter's write_string/write_number/write_datetime/
write_blank write (tests/reporting/test_xlsx_rows.py compares the two sheets byte for byte, so an
XlsxWriter that wrote cells otherwise fails there), each distinct value of a column escaped once. It uses
XlsxWriter's worksheet internals (the row file `fh`, `_write_single_row`, `_check_dimensions`, its
escaping and date conversion), as of XlsxWriter 3.x.

The detail sheet is filled first and the summary sheet (the first sheet all the same) once the rows are
written: the summary may be counted meanwhile (reporting.build)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from reporting.aggregate import Summary
from reporting.detail import Cell, DetailColumn
from reporting.periods import ReportPeriod
from reporting.render import EMPTY_NOTE
from storage.clock import JST

SUMMARY_SHEET = "集計表"
DETAIL_SHEET = "相談対応実績一覧"
A4 = 9
JAPANESE_DATE = 'yyyy"年"m"月"d"日"'
NUMBER_FORMATS = {"%": '0.0"%"', "時間": "0.0", "点": "0.0"}


def _setup_print(sheet: Any, *, title: str) -> None:
    sheet.set_paper(A4)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)  # one page wide, as many long as needed
    sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    sheet.set_header(f"&L{title}")
    sheet.set_footer("&C&P / &N")


# A string XlsxWriter writes as it is: no XML escape, no control character nor _xHHHH_ to escape, no
# leading or trailing white space (xml:space="preserve"), not a rich string, short of its 32,767 limit.
_PLAIN = re.compile(r"^(?!\s)[^&<>_\x00-\x08\x0b-\x1f\ufffe\uffff]{0,16000}(?<!\s)\Z")


SEEN_AT_MOST = 2048


class DetailRows:
    """Writes rows of cells (str, int, date or None) into a constant_memory worksheet from row `first` on,
    the bytes XlsxWriter's own calls would write: a string with `text`, a number with `number`, a date
    (its serial number) with `day`, None as a blank cell with `text` (the border of the table)."""

    def __init__(self, sheet: Any, *, first: int, width: int, text: Any, number: Any, day: Any) -> None:
        if not sheet.constant_memory:
            raise ValueError("DetailRows writes into a constant_memory worksheet")
        sheet._write_single_row(first)  # what XlsxWriter holds of the rows above goes to the file first
        self.sheet = sheet
        self.first = first
        self.row = first
        self.width = width
        self.letters = [xl_col_to_name(i) for i in range(width)]
        self.formats = {"text": text, "number": number, "day": day}
        self.blank: str | None = None
        # Per column: a string's or a date's XML, by value; emptied when it grows past SEEN_AT_MOST (a
        # column of values each seen once, as the reference), so memory stays flat in the number of rows.
        self.seen: list[dict[Any, str]] = [{} for _ in range(width)]

    def _s(self, kind: str) -> str:
        """The cell's style attribute. Asked when first needed, as XlsxWriter does: the formats' indexes
        are numbered in the order of their first use."""
        return f' s="{self.formats[kind]._get_xf_index()}"'

    def _xml(self, cell: object) -> str:
        """A cell's XML after its reference (r="B2"), as XlsxWriter writes it."""
        sheet = self.sheet
        if isinstance(cell, date):
            return f"{self._s('day')}><v>{sheet._convert_date_time(cell):.16G}</v></c>"
        if isinstance(cell, int) and not isinstance(cell, bool):
            return f"{self._s('number')}><v>{cell:.16G}</v></c>"
        string = cell if isinstance(cell, str) else str(cell)
        if not _PLAIN.match(string):
            return self._careful_string(string)
        return f'{self._s("text")} t="inlineStr"><is><t>{string}</t></is></c>'

    def _careful_string(self, string: str) -> str:
        """XlsxWriter's own treatment of a string with something to escape (worksheet._write_string and
        _write_cell in constant_memory mode, xmlwriter._xml_inline_string)."""
        from xlsxwriter.utility import _preserve_whitespace, _utf16_len, _utf16_truncate

        sheet = self.sheet
        if len(string) > sheet.xls_strmax // 2 and _utf16_len(string) > sheet.xls_strmax:
            string = _utf16_truncate(string, sheet.xls_strmax)
        string = sheet._escape_control_characters(string)
        if string.startswith("<r>") and string.endswith("</r>"):
            return f'{self._s("text")} t="inlineStr"><is>{string}</is></c>'
        preserve = ' xml:space="preserve"' if _preserve_whitespace(string) else ""
        return f'{self._s("text")} t="inlineStr"><is><t{preserve}>{sheet._escape_data(string)}</t></is></c>'

    def write(self, cells: Iterable[Cell]) -> None:
        """The next row."""
        self.row += 1
        r = f'{self.row}"'
        parts = [f'<row r="{self.row}">']
        for letters, seen, cell in zip(self.letters, self.seen, cells, strict=True):
            if cell is None:
                if self.blank is None:
                    self.blank = f"{self._s('text')}/>"
                parts.append(f'<c r="{letters}{r}{self.blank}')
                continue
            kind = type(cell)
            if kind is str or kind is date:
                xml = seen.get(cell)
                if xml is None:
                    xml = self._xml(cell)
                    if len(seen) >= SEEN_AT_MOST:
                        seen.clear()
                    seen[cell] = xml
            else:
                xml = self._xml(cell)
            parts.append(f'<c r="{letters}{r}{xml}')
        parts.append("</row>")
        self.sheet.fh.write("".join(parts))

    def close(self) -> None:
        """The sheet's dimensions, as XlsxWriter keeps them when it writes the cells itself."""
        if self.row > self.first:
            self.sheet._check_dimensions(self.row - 1, 0)
            self.sheet._check_dimensions(self.row - 1, self.width - 1)


def write_xlsx(
    path: Path,
    period: ReportPeriod,
    summary_of: Callable[[], Summary],
    columns: tuple[DetailColumn, ...],
    rows: Iterable[tuple[Cell, ...]],
    *,
    progress: Callable[[int], None] | None = None,
) -> tuple[Summary, int]:
    """Writes the workbook to `path`: the detail rows first (into the second sheet), then the summary,
    asked for once they are written (it may be counted meanwhile); returns it and the number of rows."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    font = {"font_name": "游ゴシック", "font_size": 10}
    fmt = {
        "title": book.add_format({**font, "bold": True, "font_size": 14}),
        "section": book.add_format({**font, "bold": True, "font_size": 11}),
        "head": book.add_format(
            {**font, "bold": True, "bg_color": "#D9D9D9", "border": 1, "text_wrap": True, "valign": "top"}
        ),
        "label": book.add_format({**font, "border": 1}),
        "count": book.add_format({**font, "border": 1, "num_format": "#,##0"}),
        "date": book.add_format({**font, "border": 1, "num_format": JAPANESE_DATE}),
        "text": book.add_format({**font, "border": 1}),
        "plain": book.add_format(font),
        "note": book.add_format({**font, "italic": True, "font_color": "#404040"}),
        "empty": book.add_format({**font, "bold": True}),
    }
    unit_formats = {
        unit: book.add_format({**font, "border": 1, "num_format": number})
        for unit, number in NUMBER_FORMATS.items()
    }
    sheet = book.add_worksheet(SUMMARY_SHEET)  # the first sheet, filled once the rows are written
    detail = book.add_worksheet(DETAIL_SHEET)
    _setup_print(detail, title=f"{period.title} 相談対応実績一覧")
    detail.repeat_rows(0)
    detail.freeze_panes(1, 2)
    for i, wanted in enumerate(columns):
        detail.set_column(i, i, wanted.width)
    detail.set_row(0, 30)
    for i, wanted in enumerate(columns):
        detail.write(0, i, wanted.title, fmt["head"])
    count = 0
    stream = DetailRows(
        detail, first=1, width=len(columns), text=fmt["text"], number=fmt["count"], day=fmt["date"]
    )
    for count, cells in enumerate(rows, start=1):
        stream.write(cells)
        if progress is not None:
            progress(count)
    stream.close()
    if count == 0:
        detail.write(1, 0, EMPTY_NOTE, fmt["empty"])
    else:
        detail.autofilter(0, 0, count, len(columns) - 1)
    summary = summary_of()
    _write_summary(sheet, summary, fmt, unit_formats)
    book.close()
    return summary, count


def _write_summary(sheet: Any, summary: Summary, fmt: dict[str, Any], unit_formats: dict[str, Any]) -> None:
    """The summary sheet (集計表): each section's table, then the twelve months' counts."""
    period = summary.period
    _setup_print(sheet, title=period.title)
    sheet.set_column(0, 0, 44)
    sheet.set_column(1, len(summary.columns), 22)
    sheet.set_column(len(summary.columns) + 1, len(summary.columns) + 1, 8)
    made = summary.generated_at.astimezone(JST)
    sheet.write(0, 0, period.title, fmt["title"])
    sheet.write(1, 0, summary.desk_name, fmt["plain"])
    sheet.write(2, 0, f"作成日時: {made:%Y年%m月%d日 %H:%M}", fmt["plain"])
    row = 4
    if summary.empty:
        sheet.write(row, 0, EMPTY_NOTE, fmt["empty"])
        row += 2
    for section in summary.sections:
        sheet.write(row, 0, section.title, fmt["section"])
        row += 1
        sheet.write(row, 0, "項目", fmt["head"])
        for i, column in enumerate(summary.columns, start=1):
            sheet.write(row, i, column.title, fmt["head"])
        sheet.write(row, len(summary.columns) + 1, "単位", fmt["head"])
        row += 1
        for line in section.lines:
            sheet.write(row, 0, line.label, fmt["label"])
            number = unit_formats.get(line.unit, fmt["count"])
            for i, value in enumerate(line.values, start=1):
                if value is None:
                    sheet.write_blank(row, i, None, number)
                else:
                    sheet.write_number(row, i, value, number)
            sheet.write(row, len(summary.columns) + 1, line.unit, fmt["label"])
            row += 1
        if section.note:
            sheet.write(row, 0, f"※{section.note}", fmt["note"])
            row += 1
        row += 1
    sheet.write(row, 0, "月別の相談件数（12か月）", fmt["section"])
    row += 1
    sheet.write(row, 0, "月", fmt["head"])
    sheet.write(row, 1, "受付件数", fmt["head"])
    row += 1
    for label, count in summary.trend:
        sheet.write(row, 0, label, fmt["label"])
        sheet.write_number(row, 1, count, fmt["count"])
        row += 1

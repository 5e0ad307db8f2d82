"""The detail sheet's rows, written by reporting.xlsx_writer.DetailRows, are the bytes XlsxWriter's own
write_string/write_number/write_datetime/write_blank write (the way the report wrote them before), for
every kind of cell: what Excel and openpyxl read back cannot differ."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st

from reporting.detail import Cell
from reporting.xlsx_writer import SEEN_AT_MOST, DetailRows

ROWS: list[tuple[Cell, ...]] = [
    (1, "KG-000001", date(2026, 4, 1), "09:05", "LINE", "株式会社さつま製作所", "", None),
    (2, "KG-000002", date(1900, 2, 28), "23:59", "Webフォーム", "（個人事業主・屋号なし）", "○", 60),
    (
        3,
        'A&B <株> "quoted"',
        date(1900, 3, 1),
        " leading",
        "trailing ",
        "\u3000全角空白\u3000",
        "tab\there",
        0,
    ),
    (4, "line\nbreak", date(2027, 3, 31), "_x0041_ literal", "ctrl\x01char", "<r>rich-looking</r>", "\n", -5),
    (5, "非文字\ufffe\uffff", date(2026, 12, 31), "x" * 40_000, "𠮷野家" * 12_000, "a_b", "_", 10**17),
    (6, "KG-000001", date(2026, 4, 1), "09:05", "LINE", "株式会社さつま製作所", "", None),  # cached values
]
WIDTH = len(ROWS[0])


def _book(
    path: Path, rows: list[tuple[Cell, ...]], write_rows: Callable[[Any, dict[str, Any]], None]
) -> None:
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    fmt = {
        "head": book.add_format({"bold": True, "border": 1}),
        "text": book.add_format({"border": 1}),
        "count": book.add_format({"border": 1, "num_format": "#,##0"}),
        "date": book.add_format({"border": 1, "num_format": 'yyyy"年"m"月"d"日"'}),
    }
    sheet = book.add_worksheet("相談対応実績一覧")
    sheet.set_row(0, 30)
    for i in range(WIDTH):
        sheet.write(0, i, f"列{i}", fmt["head"])
    write_rows(sheet, fmt)
    sheet.autofilter(0, 0, len(rows), WIDTH - 1)
    book.close()


def _by_xlsxwriter(rows: list[tuple[Cell, ...]]) -> Callable[[Any, dict[str, Any]], None]:
    """The cell by cell path the report took before."""

    def write(sheet: Any, fmt: dict[str, Any]) -> None:
        for row, cells in enumerate(rows, start=1):
            for i, cell in enumerate(cells):
                if cell is None:
                    sheet.write_blank(row, i, None, fmt["text"])
                elif isinstance(cell, date):
                    sheet.write_datetime(row, i, cell, fmt["date"])
                elif isinstance(cell, int) and not isinstance(cell, bool):
                    sheet.write_number(row, i, cell, fmt["count"])
                else:
                    sheet.write_string(row, i, str(cell), fmt["text"])

    return write


def _by_detail_rows(rows: list[tuple[Cell, ...]]) -> Callable[[Any, dict[str, Any]], None]:
    def write(sheet: Any, fmt: dict[str, Any]) -> None:
        stream = DetailRows(
            sheet, first=1, width=WIDTH, text=fmt["text"], number=fmt["count"], day=fmt["date"]
        )
        for cells in rows:
            stream.write(cells)
        stream.close()

    return write


def _sheet_xml(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read("xl/worksheets/sheet1.xml")


def test_the_streamed_rows_are_the_bytes_xlsxwriter_writes(tmp_path: Path) -> None:
    _book(tmp_path / "generic.xlsx", ROWS, _by_xlsxwriter(ROWS))
    _book(tmp_path / "streamed.xlsx", ROWS, _by_detail_rows(ROWS))
    expected = _sheet_xml(tmp_path / "generic.xlsx")
    assert b'<dimension ref="A1:H7"/>' in expected and b'xml:space="preserve"' in expected
    assert _sheet_xml(tmp_path / "streamed.xlsx") == expected
    sheet = openpyxl.load_workbook(tmp_path / "streamed.xlsx")["相談対応実績一覧"]
    first = [cell.value for cell in sheet[2]]
    assert first[:3] == [1, "KG-000001", first[2]] and first[2].date() == date(2026, 4, 1)
    assert (
        sheet.cell(2, 3).number_format == 'yyyy"年"m"月"d"日"'
        and sheet.cell(2, 8).border.left.style == "thin"
    )
    assert sheet.cell(4, 2).value == 'A&B <株> "quoted"' and sheet.cell(4, 4).value == " leading"


def test_columns_of_values_each_seen_once_stream_the_same(tmp_path: Path) -> None:
    """More distinct values in a column than DetailRows keeps (the reference, the company's name)."""
    rows: list[tuple[Cell, ...]] = [
        (n, f"KG-{n:06d}", date(2026, 4, 1 + n % 28), f"会社{n}", "LINE", None, "初回", n % 7)
        for n in range(1, 2 * SEEN_AT_MOST + 100)
    ]
    _book(tmp_path / "generic.xlsx", rows, _by_xlsxwriter(rows))
    _book(tmp_path / "streamed.xlsx", rows, _by_detail_rows(rows))
    assert _sheet_xml(tmp_path / "streamed.xlsx") == _sheet_xml(tmp_path / "generic.xlsx")


cells = st.one_of(
    st.none(),
    st.integers(min_value=-(10**18), max_value=10**18),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)),
    st.text(max_size=12),
)


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.tuples(*[cells] * WIDTH), min_size=1, max_size=6))
def test_any_cells_stream_as_xlsxwriter_writes_them(
    tmp_path_factory: Any, rows: list[tuple[Cell, ...]]
) -> None:
    where = tmp_path_factory.mktemp("rows")
    _book(where / "generic.xlsx", rows, _by_xlsxwriter(rows))
    _book(where / "streamed.xlsx", rows, _by_detail_rows(rows))
    assert _sheet_xml(where / "streamed.xlsx") == _sheet_xml(where / "generic.xlsx")

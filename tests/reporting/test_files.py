"""The fixture month's files, read back as a reader would: the xlsx with openpyxl, the PDF with poppler's
pdftotext and pdffonts, the CSV with the csv module; their totals agree with the hand-computed ones."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import threading
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from config import DeskConfig
from reporting import build as build_module
from reporting.aggregate import Summary
from reporting.build import ReportFile, period_for_fiscal_year, period_for_month, write_report
from reporting.detail import SOLE_TRADER_HIDDEN
from storage.clock import JST
from storage.database import Database
from storage.slack_cards import ContactView
from tests.conftest import DatabaseFactory
from tests.reporting.fixture import (
    CONTACT_NAME,
    DESCRIPTION,
    DETAIL_RECORDS,
    EMAIL,
    EXPECTED,
    NOT_SHOWN,
    NOW,
    OWNER_NAME,
    PHONE,
    Builder,
    build_fixture_month,
)

PERSONAL = (CONTACT_NAME, PHONE, EMAIL, OWNER_NAME, DESCRIPTION)
RECORD_COLUMNS = ("対応結果", "紹介先", "紹介日", "紹介した支援制度")
POPPLER = [tool for tool in ("pdftotext", "pdffonts") if shutil.which(tool) is None]


def report(
    db: Database, desk: DeskConfig, tmp_path: Path, fmt: str, month: str = "2026-11", **kw: object
) -> ReportFile:
    out = tmp_path / f"report.{fmt}"
    return write_report(db=db, desk=desk, period=period_for_month(month), fmt=fmt, out=out, now=NOW, **kw)  # type: ignore[arg-type]


def xlsx_cells(path: Path) -> dict[str, list[tuple[object, ...]]]:
    book = openpyxl.load_workbook(path)
    return {
        sheet.title: [tuple(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets
    }


def summary_row(rows: list[tuple[object, ...]], label: str) -> tuple[object, ...]:
    return next(row[1:4] for row in rows if row[0] == label)


def day(value: object) -> date:
    """A date cell as openpyxl reads it (a datetime at midnight)."""
    assert isinstance(value, datetime), value
    return value.date()


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_poppler_is_installed() -> None:
    assert not POPPLER, f"install poppler-utils (make install does): {POPPLER} missing"


@pytest.mark.usefixtures("november")
def test_the_xlsx_has_the_totals_as_numbers_and_prints_on_a4_landscape(
    db: Database, desk: DeskConfig, tmp_path: Path
) -> None:
    made = report(db, desk, tmp_path, "xlsx")
    assert made.file_name == "相談対応実績_2026年11月.xlsx"
    sheets = xlsx_cells(made.path)
    assert list(sheets) == ["集計表", "相談対応実績一覧"]
    summary = sheets["集計表"]
    for label, expected in EXPECTED.items():
        assert summary_row(summary, label) == expected, label
    assert all(isinstance(v, int) for v in summary_row(summary, "受付件数"))
    detail = sheets["相談対応実績一覧"]
    header, *rows = detail
    assert header[:3] == ("No.", "受付番号", "受付日") and "担当者名" not in header
    assert [row[0] for row in rows] == [1, 2, 3]
    submitted = header.index("受付日")
    assert day(rows[0][submitted]) == date(2026, 11, 2)  # a date, not text
    assert rows[1][header.index("相談者（企業名・屋号）")] == SOLE_TRADER_HIDDEN
    assert [row[header.index("新規/継続")] for row in rows] == ["初回", "初回", "2回目"]
    assert rows[0][header.index("所要時間（分）")] == 60
    assert day(rows[0][header.index("対応日")]) == date(2026, 11, 5)
    assert day(rows[2][header.index("次回対応予定")]) == date(2026, 12, 10)
    records = [tuple(row[header.index(title)] for title in RECORD_COLUMNS) for row in rows]
    assert [(r, to, day(on) if on else None, p) for r, to, on, p in records] == list(DETAIL_RECORDS)
    book = openpyxl.load_workbook(made.path)
    sheet = book["相談対応実績一覧"]
    assert sheet.page_setup.orientation == "landscape" and str(sheet.page_setup.paperSize) == "9"
    assert sheet.print_title_rows == "$1:$1"
    assert sheet.freeze_panes == "C2"
    assert sheet.cell(2, submitted + 1).number_format == 'yyyy"年"m"月"d"日"'
    assert book["集計表"].page_setup.orientation == "landscape"
    assert not [v for rows_ in sheets.values() for row in rows_ for v in row if v in PERSONAL]


@pytest.mark.usefixtures("november")
def test_the_pdf_shows_the_totals_and_embeds_every_font(
    db: Database, desk: DeskConfig, tmp_path: Path
) -> None:
    made = report(db, desk, tmp_path, "pdf")
    assert made.path.read_bytes().startswith(b"%PDF-")
    text = pdf_text(made.path)
    assert "2026年11月 相談対応実績報告" in text
    labels = ("受付件数", "面談実施件数", "企業訪問の目標", "中央値", "送信（配信済み）", "対応記録の件数",
              "紹介件数（本人の同意あり）", "鹿児島県よろず支援拠点", "ITベンダー", "同意のない紹介（数えない）",
              "紹介した支援制度（延べ件数）", "ものづくり補助金", "小規模事業者持続化補助金")  # fmt: skip
    for label in labels:
        line = next(ln for ln in text.splitlines() if ln.split()[:1] == [label])
        values = EXPECTED[label]
        shown = [f"{v:.1f}" if isinstance(v, float) else ("—" if v is None else str(v)) for v in values]
        assert line.split()[1:4] == shown, line
    assert "20.0%" in text and "8.8" in text
    quota = next(ln for ln in text.splitlines() if ln.strip().startswith("無料枠の使用率"))
    assert quota.split()[1:4] == ["90.0%", "90.0%", "—"]
    assert "紹介先別（支援機関・ITベンダー）" in text and "紹介した支援制度" in text
    assert not [name for name in NOT_SHOWN if name in text]
    for chart in ("月別の相談件数（12か月）", "相談区分別（2026年11月）", "地域別（2026年11月）"):
        assert chart in text
    assert "データがありません" not in text
    assert not [p for p in PERSONAL if p in text]
    fonts = subprocess.run(["pdffonts", str(made.path)], check=True, capture_output=True, text=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all("IPAexGothic" in row for row in rows)
    assert all(row.split()[-5] == "yes" for row in rows)  # the "emb" column


@pytest.mark.usefixtures("november")
def test_the_csv_is_the_detail_with_a_bom_unless_told(db: Database, desk: DeskConfig, tmp_path: Path) -> None:
    made = report(db, desk, tmp_path, "csv")
    raw = made.path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header, *rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == EXPECTED["受付件数"][0] == made.detail_rows
    assert rows[0][header.index("受付日")] == "2026/11/02"
    assert rows[1][header.index("相談者（企業名・屋号）")] == SOLE_TRADER_HIDDEN
    assert [r[header.index("相談方法")] for r in rows] == ["訪問(現地)", "オンライン(Web会議)", "訪問(現地)"]
    records = [tuple(row[header.index(title)] for title in RECORD_COLUMNS) for row in rows]
    assert records == [
        tuple("" if v is None else v.strftime("%Y/%m/%d") if isinstance(v, date) else v for v in cells)
        for cells in DETAIL_RECORDS
    ]
    assert not [p for p in PERSONAL if p in raw.decode("utf-8-sig")]
    plain = report(db, desk, tmp_path, "csv", bom=False).path.read_bytes()
    assert not plain.startswith(b"\xef\xbb\xbf") and plain.decode("utf-8") == raw.decode("utf-8-sig")


@pytest.mark.usefixtures("november")
def test_the_internal_copy_has_the_personal_data_and_is_audited(
    db: Database, desk: DeskConfig, tmp_path: Path
) -> None:
    made = report(db, desk, tmp_path, "csv", include_personal=True, viewer="cli:desk")
    assert made.file_name == "相談対応実績_2026年11月_内部用.csv"
    header, *rows = list(csv.reader(io.StringIO(made.path.read_text(encoding="utf-8-sig"))))
    assert rows[0][header.index("担当者名")] == CONTACT_NAME
    assert rows[0][header.index("電話番号")] == PHONE and rows[0][header.index("メールアドレス")] == EMAIL
    assert rows[1][header.index("相談者（企業名・屋号）")] == OWNER_NAME
    assert rows[0][header.index("相談内容（概要）")] == DESCRIPTION
    with db.session() as session:
        views = session.scalars(select(ContactView).order_by(ContactView.consultation_id)).all()
        assert [(v.slack_user_id, v.at) for v in views] == [("cli:desk", NOW)] * 3
    sheets = xlsx_cells(report(db, desk, tmp_path, "xlsx", include_personal=True).path)
    assert CONTACT_NAME in {v for row in sheets["相談対応実績一覧"] for v in row}


def test_an_empty_month_gives_valid_files_that_say_so(db: Database, desk: DeskConfig, tmp_path: Path) -> None:
    assert "データがありません" in pdf_text(report(db, desk, tmp_path, "pdf", "2031-01").path)
    sheets = xlsx_cells(report(db, desk, tmp_path, "xlsx", "2031-01").path)
    assert any("データがありません" in str(row[0]) for row in sheets["集計表"])
    assert "データがありません" in str(sheets["相談対応実績一覧"][1][0])
    assert summary_row(sheets["集計表"], "受付件数") == (0, 0, 0)
    rows = list(
        csv.reader(io.StringIO(report(db, desk, tmp_path, "csv", "2031-01").path.read_text("utf-8-sig")))
    )
    assert len(rows) == 1 and rows[0][0] == "No."  # the header alone


@pytest.mark.usefixtures("november")
def test_the_fiscal_year_file_covers_april_to_march(db: Database, desk: DeskConfig, tmp_path: Path) -> None:
    out = tmp_path / "fy.xlsx"
    made = write_report(db=db, desk=desk, period=period_for_fiscal_year(2026), fmt="xlsx", out=out, now=NOW)
    assert made.file_name == "相談対応実績_2026年度.xlsx"
    sheets = xlsx_cells(out)
    assert summary_row(sheets["集計表"], "受付件数")[:2] == (6, 2)
    dates = [day(row[2]) for row in sheets["相談対応実績一覧"][1:]]
    assert len(dates) == 6 and min(dates) == date(2026, 4, 1) and max(dates) == date(2026, 12, 1)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_summary_counted_beside_the_rows_makes_the_same_file(
    fresh_database_url: DatabaseFactory, desk: DeskConfig, tmp_path: Path, fmt: str
) -> None:
    """On a database of its own the summary is counted on a second connection while the rows stream; on
    one connection (every session sharing it) after them: a reader sees the same file either way."""
    url = fresh_database_url(migrated=True)
    beside = Database(url)
    with beside.session() as session:
        build_fixture_month(session)
    assert not beside.sessions_share_one_connection
    made = {}
    for fy in (False, True):
        period = period_for_fiscal_year(2026) if fy else period_for_month("2026-11")
        made[("beside", fy)] = write_report(
            db=beside, desk=desk, period=period, fmt=fmt, out=tmp_path / f"beside{fy}.{fmt}", now=NOW
        )
    with beside.engine.connect() as connection:
        one = Database(url, engine=beside.engine)
        one.sessions = sessionmaker(bind=connection, expire_on_commit=False)
        assert one.sessions_share_one_connection
        for fy in (False, True):
            period = period_for_fiscal_year(2026) if fy else period_for_month("2026-11")
            made[("one", fy)] = write_report(
                db=one, desk=desk, period=period, fmt=fmt, out=tmp_path / f"one{fy}.{fmt}", now=NOW
            )
    beside.dispose()
    for fy in (False, True):
        a, b = made[("beside", fy)], made[("one", fy)]
        assert a.summary == b.summary and a.detail_rows == b.detail_rows == (6 if fy else 3)
        if fmt == "xlsx":
            assert xlsx_cells(a.path) == xlsx_cells(b.path)
            assert summary_row(xlsx_cells(a.path)["集計表"], "受付件数")[: 2 if fy else 3] == (
                (6, 2) if fy else EXPECTED["受付件数"]
            )
        else:
            assert a.path.read_bytes() == b.path.read_bytes()


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_consultation_arriving_while_the_report_is_built_is_in_neither_the_summary_nor_the_list(
    fresh_database_url: DatabaseFactory,
    desk: DeskConfig,
    tmp_path: Path,
    fmt: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The summary is counted on a second connection: it reads the same view as the list (PostgreSQL: the
    report's snapshot; SQLite: the report holds the write lock, so the newcomer waits for it), so its
    totals match the list's rows, and the newcomer is stored all the same."""
    url = fresh_database_url(migrated=True)
    db, newcomer_db = Database(url), Database(url)
    with db.session() as session:
        build_fixture_month(session)
    arrived: list[int] = []

    def arrive() -> None:
        with newcomer_db.session() as session:
            row = Builder(session).consultation("NEW", datetime(2026, 11, 20, 9, 0, tzinfo=JST))
            arrived.append(row.id)

    counted = build_module.build_summary

    def newcomer_then_count(**kwargs: Any) -> Summary:
        writer = threading.Thread(target=arrive)
        writer.start()
        if not db.is_sqlite:
            writer.join()  # committed before the summary counts
            assert arrived
        summary = counted(**kwargs)
        wait_for.append(writer)
        return summary

    wait_for: list[threading.Thread] = []
    monkeypatch.setattr(build_module, "build_summary", newcomer_then_count)
    try:
        made = report(db, desk, tmp_path, fmt)
        for writer in wait_for:
            writer.join(timeout=30)
        assert len(wait_for) == 1 and arrived  # the summary was counted beside the rows; the newcomer stored
        expected = EXPECTED["受付件数"][0]
        assert made.summary.total == made.detail_rows == expected
        if fmt == "csv":
            assert len(list(csv.reader(io.StringIO(made.path.read_text("utf-8-sig"))))) == expected + 1
        else:
            assert summary_row(xlsx_cells(made.path)["集計表"], "受付件数")[0] == expected
        assert report(db, desk, tmp_path, fmt).summary.total == expected + 1  # the next report has it
    finally:
        db.dispose()
        newcomer_db.dispose()

"""The summary's figures for the fixture month, worked out by hand (tests/reporting/fixture.py)."""

from __future__ import annotations

from datetime import date

import pytest

from config import DeskConfig
from reporting.aggregate import Summary, build_summary
from reporting.periods import fiscal_year_period, monthly_period
from storage.database import Database
from tests.reporting.fixture import EXPECTED, NOW


def summary_of(db: Database, desk: DeskConfig, month: date) -> Summary:
    with db.session() as session:
        return build_summary(session=session, desk=desk, period=monthly_period(month), now=NOW)


@pytest.mark.usefixtures("november")
def test_the_fixture_month_has_the_hand_computed_totals(db: Database, desk: DeskConfig) -> None:
    summary = summary_of(db, desk, date(2026, 11, 1))
    assert [c.title for c in summary.columns] == [
        "2026年11月",
        "2026年度累計（4月〜11月）",
        "前年同月（2025年11月）",
    ]
    found = {
        label: tuple(next(ln for s in summary.sections for ln in s.lines if ln.label == label).values)
        for label in EXPECTED
    }
    assert found == EXPECTED
    assert summary.value("method", "訪問(現地)") == 2
    assert summary.value("method", "オンライン(Web会議)") == 1
    assert summary.value("category", "補助金・助成金・支援制度の活用") == 1
    assert summary.value("region", "姶良・伊佐地域振興局") == 2
    assert summary.value("region", "鹿児島地域振興局") == 1
    assert summary.value("region", "鹿児島地域振興局", 1) == 2  # with 10/31
    assert summary.value("municipality", "霧島市") == 2
    assert [summary.value("municipality", "鹿屋市", i) for i in range(3)] == [0, 1, 1]  # 4/1 and 2025/11
    assert summary.value("municipality", "枕崎市") is None  # none in any column: left out
    assert summary.value("industry", "E 製造業") == 2
    assert summary.value("employee_band", "なし（代表者のみ）") == 1
    assert summary.value("dx_stage", "未着手") == 1
    assert summary.value("repeat", "相談者数（実数）") == 2
    assert dict(summary.trend)["11月"] == 3 and dict(summary.trend)["3月"] == 1
    assert [label for label, _ in summary.trend][0] == "12月" and len(summary.trend) == 12
    assert not summary.empty


@pytest.mark.usefixtures("november")
def test_every_breakdown_adds_up_to_the_consultations(db: Database, desk: DeskConfig) -> None:
    summary = summary_of(db, desk, date(2026, 11, 1))
    for key in ("method", "category", "industry", "region", "municipality", "employee_band", "dx_stage"):
        section = summary.section(key)
        assert section is not None
        for column in range(3):
            assert sum(ln.values[column] or 0 for ln in section.lines) == EXPECTED["受付件数"][column], key


@pytest.mark.usefixtures("november")
def test_the_fiscal_year_runs_april_to_march(db: Database, desk: DeskConfig) -> None:
    with db.session() as session:
        fy2026 = build_summary(session=session, desk=desk, period=fiscal_year_period(2026), now=NOW)
        fy2025 = build_summary(session=session, desk=desk, period=fiscal_year_period(2025), now=NOW)
    # FY2026: 4/1 00:05, 10/31, N1-N3, 12/1 00:10; FY2025 (its own column, and FY2026's previous): 2025/11, 3/31.
    assert fy2026.value("consultations", "受付件数") == 6
    assert fy2026.value("consultations", "受付件数", 1) == 2
    assert fy2025.value("consultations", "受付件数") == 2
    assert fy2026.value("meetings", "企業訪問の目標") == 60
    assert [label for label, _ in fy2026.trend] == [f"{m}月" for m in (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)]
    april = summary_of(db, desk, date(2026, 4, 1))
    march = summary_of(db, desk, date(2026, 3, 1))
    assert april.value("consultations", "受付件数", 1) == 1  # April's year to date is April alone
    assert march.value("consultations", "受付件数", 1) == 1 + 1  # FY2025: 2025/11 and 3/31
    assert april.columns[1].title == "2026年度累計（4月）"


def test_an_empty_month_is_empty_not_an_error(db: Database, desk: DeskConfig) -> None:
    summary = summary_of(db, desk, date(2031, 1, 1))
    assert summary.empty
    assert summary.value("response", "中央値") is None
    assert summary.value("meetings", "企業訪問の達成率") == 0.0

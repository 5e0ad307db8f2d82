"""The one aggregation every writer shows: the report's summary, counted in SQL for each run of months of the
period and added up per column (the month, the fiscal year to date, the same month a year before)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from config import DeskConfig
from config.desk import Choice
from reporting import counts as q
from reporting.periods import Column, ReportPeriod
from reporting.record_sections import RECORD_SECTIONS
from reporting.sections import Line, Section, Value, column_sum, column_total, count_section
from storage.models import Consultation

__all__ = ("Line", "Section", "Summary", "Value", "build_summary", "count_section")

STATUS_LINES = (
    ("closed", "対応完了"),
    ("in_progress", "対応中"),
    ("submitted", "受付済み（未対応）"),
    ("withdrawn", "取り下げ"),
)


@dataclass(frozen=True)
class Summary:
    desk_name: str
    period: ReportPeriod
    generated_at: datetime
    sections: tuple[Section, ...]
    trend: tuple[tuple[str, int], ...]  # (month label, consultations) for the twelve-month chart

    @property
    def columns(self) -> tuple[Column, ...]:
        return self.period.columns

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    def value(self, section: str, label: str, column: int = 0) -> Value:
        found = self.section(section)
        line = next((ln for ln in found.lines if ln.label == label), None) if found else None
        return line.values[column] if line else None

    @property
    def total(self) -> int:
        """Consultations received in the report's own period."""
        return int(self.value("consultations", "受付件数") or 0)

    @property
    def empty(self) -> bool:
        return self.total == 0


def _choices(choices: Iterable[Choice], *, with_id: bool = False) -> list[tuple[str, str, str]]:
    return [(c.id, f"{c.id} {c.name}" if with_id else c.name, c.label) for c in choices]


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600.0, 1)


def _percent(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100.0 * part / whole, 1)


def _quota_lines(session: Session, period: ReportPeriod) -> tuple[Line, ...]:
    """The LINE quota used in each column (the last reading of each month read, added up; none read: no
    value), those months' quota (none when one is unlimited) and the share used."""
    names = [f"{m:%Y-%m}" for m in period.months]
    readings = q.quota_readings(session, names)
    used: list[int | None] = []
    quotas: list[int | None] = []
    for column in period.columns:
        read = [readings[names[m]] for m in column.months if names[m] in readings]
        limited = bool(read) and all(quota is not None for _, quota in read)
        used.append(sum(u for u, _ in read) if read else None)
        quotas.append(sum(quota or 0 for _, quota in read) if limited else None)
    share = tuple(
        None if u is None or not quota else _percent(u, quota) for u, quota in zip(used, quotas, strict=True)
    )
    return (
        Line("無料枠の使用数（LINEの集計）", tuple(used), "通"),
        Line("無料枠（月間の上限）", tuple(quotas), "通"),
        Line("無料枠の使用率", share, "%"),
    )


def build_summary(*, session: Session, desk: DeskConfig, period: ReportPeriod, now: datetime) -> Summary:
    """Counts everything the summary shows, for every column of the period."""
    bounds = period.boundaries
    cols = period.columns
    counted = period.spans()  # the runs of months the columns add up
    by_status = q.consultations_by(session, Consultation.status, bounds, period.spans(single=period.trend))

    consultations = Section(
        "consultations",
        "相談件数",
        (
            Line("受付件数", tuple(column_total(by_status, c) for c in cols)),
            *(
                Line(label, tuple(column_sum(by_status, c, [code]) for c in cols))
                for code, label in STATUS_LINES
            ),
        ),
        note="状況は集計時点のもの",
    )
    repeat = q.consultations_by(session, q.repeat_flag(), bounds, counted)
    contacts = tuple(q.distinct_contacts(session, *period.column_bounds(c)) for c in cols)
    new_and_repeat = Section(
        "repeat",
        "新規・継続",
        (
            Line("新規（初回の相談）", tuple(column_sum(repeat, c, [0]) for c in cols)),
            Line("継続（2回目以降の相談）", tuple(column_sum(repeat, c, [1]) for c in cols)),
            Line("相談者数（実数）", contacts, "者"),
        ),
        note="同じ相談者（LINEアカウント・フォームの連絡先）からの2回目以降を継続とする",
    )

    regions = [(r.id, r.name) for r in desk.regions]
    municipalities = [(m.code, m.name) for m in desk.municipalities]
    breakdowns = [
        count_section(
            "method",
            "相談方法別",
            q.consultations_by(session, Consultation.method, bounds, counted),
            period,
            _choices(desk.methods),
        ),
        count_section(
            "category",
            "相談区分別（主たる区分）",
            q.consultations_by(session, Consultation.category, bounds, counted),
            period,
            _choices(desk.categories),
        ),
        count_section(
            "industry",
            "業種別（日本標準産業分類）",
            q.consultations_by(session, Consultation.industry, bounds, counted),
            period,
            _choices(desk.industries, with_id=True),
        ),
        count_section(
            "region",
            "地域別",
            q.consultations_by(session, Consultation.region, bounds, counted),
            period,
            regions,
        ),
        count_section(
            "municipality",
            "市町村別（相談のあった市町村）",
            q.consultations_by(session, Consultation.municipality_code, bounds, counted),
            period,
            municipalities,
            keep_zero=False,
        ),
        count_section(
            "employee_band",
            "従業員規模別",
            q.consultations_by(session, Consultation.employee_band, bounds, counted),
            period,
            _choices(desk.employee_bands),
        ),
        count_section(
            "dx_stage",
            "DXの取組状況別",
            q.consultations_by(session, Consultation.dx_stage, bounds, counted),
            period,
            _choices(desk.dx_stages),
        ),
    ]

    held = q.held_bookings_by_method(session, bounds, counted, now)
    target = desk.reporting.visit_target_per_month
    visits = tuple(column_sum(held, c, [q.VISIT_METHOD]) for c in cols)
    targets = tuple(target * period.month_count(c) for c in cols)
    meetings = Section(
        "meetings",
        "面談・企業訪問",
        (
            Line("面談実施件数", tuple(column_total(held, c) for c in cols)),
            Line("うち企業訪問（現地）", visits),
            Line("企業訪問の目標", targets),
            Line(
                "企業訪問の達成率", tuple(_percent(v, t) for v, t in zip(visits, targets, strict=True)), "%"
            ),
        ),
        note=f"目標は月{target}件。面談は実施済み（予定時刻を過ぎた確定済みを含む）",
    )

    waits = [q.response_seconds(session, *period.column_bounds(c)) for c in cols]
    response = Section(
        "response",
        "初動対応までの時間（受付からコーディネーターの最初の対応まで）",
        (
            Line("中央値", tuple(_hours(w[1]) for w in waits), "時間"),
            Line("90パーセンタイル", tuple(_hours(w[2]) for w in waits), "時間"),
            Line("対象件数", tuple(w[0] for w in waits)),
        ),
    )

    messages = q.line_messages(session, bounds, counted)
    line = Section(
        "line",
        "LINEメッセージ",
        (
            Line("受信", tuple(column_sum(messages, c, ["in"]) for c in cols), "通"),
            Line("送信（配信済み）", tuple(column_sum(messages, c, ["out", "push"]) for c in cols), "通"),
            Line(
                "うちプッシュ送信（無料枠の対象）",
                tuple(column_sum(messages, c, ["push"]) for c in cols),
                "通",
            ),
            *_quota_lines(session, period),
        ),
        note="送信は相手に届いたものだけを数える。無料枠の使用数はLINEの集計（月の最後の読み取り）",
    )

    records = [section for source in RECORD_SECTIONS if (section := source(session, desk, period))]
    trend = tuple((f"{period.months[m].month}月", sum(by_status.get(m, {}).values())) for m in period.trend)
    return Summary(
        desk_name=desk.desk.name,
        period=period,
        generated_at=now,
        sections=(consultations, new_and_repeat, *breakdowns, meetings, response, line, *records),
        trend=trend,
    )

"""The summary's sections from the records coordinators and owners leave after a consultation: one function
per source, each a `Section` over the period's columns (None leaves it out), so every writer shows it.

The outcome records count by their latest revision (a correction replaces what it corrects), in the month
that revision was recorded: 対応結果 by result, 紹介先別 by the partner institutions and IT vendors named,
counted only where the owner agreed to the referral (APPI Art. 27; the consent asked for that revision),
and 紹介した支援制度 by programme. 満足度 averages the surveys answered in the month. All counted in SQL, the
records' lists unpacked by the database (json_each on SQLite, json_array_elements_text on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Select, case, exists, func, select, true
from sqlalchemy.orm import Session, aliased

from config import DeskConfig
from reporting import counts as q
from reporting.periods import ReportPeriod
from reporting.sections import Line, Section, column_sum, column_total, count_section
from storage.follow_ups import SatisfactionSurvey
from storage.outcomes import OutcomeRecord, ReferralConsent

RESULT_LABELS = (
    ("resolved", "解決"),
    ("continuing", "継続支援"),
    ("referred", "他機関紹介"),
    ("information", "情報提供のみ"),
    ("on_hold", "保留"),
)
AGREED = "agree"
REFERRALS_TOTAL = "紹介件数（本人の同意あり）"
VENDORS = "ITベンダー"
UNCONSENTED = "同意のない紹介（数えない）"
PROGRAMMES_TOTAL = "紹介した支援制度（延べ件数）"


def is_current() -> ColumnElement[bool]:
    """The outcome record is its booking's latest revision."""
    later = aliased(OutcomeRecord)
    return ~exists().where(
        later.booking_id == OutcomeRecord.booking_id, later.revision > OutcomeRecord.revision
    )


def list_items(session: Session, column: Any) -> Any:
    """The elements of a JSON list column as a table (one row per element, its `value`), joined to the
    column's own row."""
    if session.get_bind().dialect.name == "postgresql":
        return func.json_array_elements_text(column).table_valued("value", joins_implicitly=True)
    return func.json_each(column).table_valued("value", joins_implicitly=True)


def referral_counts(session: Session, column: Any, period: ReportPeriod) -> q.MonthCounts:
    """The referrals of the current records by month: one per element of `column` (partner ids or vendor
    names), by the element where the owner agreed, under None where they did not (yet)."""
    item = list_items(session, column)
    agreed = ReferralConsent.answer == AGREED
    inner = (
        select(case((agreed, item.c.value), else_=None).label("code"))
        .select_from(OutcomeRecord)
        .outerjoin(ReferralConsent, ReferralConsent.outcome_id == OutcomeRecord.id)
        .join(item, true())
        .where(is_current())
    )
    return _by_month(session, inner, period)


def programme_counts(session: Session, period: ReportPeriod) -> q.MonthCounts:
    """The programmes the current records introduced, by month and programme id."""
    item = list_items(session, OutcomeRecord.programmes)
    inner = (
        select(item.c.value.label("code")).select_from(OutcomeRecord).join(item, true()).where(is_current())
    )
    return _by_month(session, inner, period)


def _by_month(session: Session, inner: Select[*tuple[Any, ...]], period: ReportPeriod) -> q.MonthCounts:
    return q.grouped(session, inner, OutcomeRecord.recorded_at, period.boundaries, period.spans())


def outcomes_section(session: Session, desk: DeskConfig, period: ReportPeriod) -> Section | None:
    """対応結果: the outcome records (their latest revision) by result, by the month they were recorded."""
    inner = select(OutcomeRecord.result.label("code")).where(is_current())
    counts = _by_month(session, inner, period)
    by_result = count_section("outcomes", "", counts, period, RESULT_LABELS)
    total = Line("対応記録の件数", tuple(column_total(counts, c) for c in period.columns))
    return Section(
        "outcomes",
        "対応結果（対応記録）",
        (total, *by_result.lines),
        note="記録された月に数える（訂正は最新のもの）",
    )


def referrals_section(session: Session, desk: DeskConfig, period: ReportPeriod) -> Section | None:
    """紹介先別: the partner institutions (the desk's list) and the IT vendors the current records name,
    counted where the owner agreed; those without consent beside, not counted."""
    cols = period.columns
    partners = referral_counts(session, OutcomeRecord.partners, period)
    vendors = referral_counts(session, OutcomeRecord.vendors, period)
    unconsented = tuple(column_sum(partners, c, [None]) + column_sum(vendors, c, [None]) for c in cols)
    for counts in (partners, vendors):
        for month in counts.values():
            month.pop(None, None)
    labels = [(p.id, p.name) for p in desk.outcomes.partners]
    by_partner = count_section("referrals", "", partners, period, labels, keep_zero=False)
    vendor_line = Line(VENDORS, tuple(column_total(vendors, c) for c in cols))
    total = tuple(column_total(partners, c) + column_total(vendors, c) for c in cols)
    return Section(
        "referrals",
        "紹介先別（支援機関・ITベンダー）",
        (Line(REFERRALS_TOTAL, total), *by_partner.lines, vendor_line, Line(UNCONSENTED, unconsented)),
        note="紹介先ごとに1件。本人が同意した紹介だけを数える（対応記録の最新のものを、記録された月に）",
    )


def programmes_section(session: Session, desk: DeskConfig, period: ReportPeriod) -> Section | None:
    """紹介した支援制度: the programmes the current records introduced, by programme (the desk's list)."""
    counts = programme_counts(session, period)
    labels = [(p.id, p.name) for p in desk.outcomes.programmes]
    by_programme = count_section("programmes", "", counts, period, labels)
    total = Line(PROGRAMMES_TOTAL, tuple(column_total(counts, c) for c in period.columns))
    return Section(
        "programmes",
        "紹介した支援制度",
        (total, *by_programme.lines),
        note="制度ごとに1件（対応記録の最新のものを、記録された月に）",
    )


def satisfaction_section(session: Session, desk: DeskConfig, period: ReportPeriod) -> Section | None:
    """満足度: the average score (1 to 5) and the number of answers, by the month they were answered."""
    answered = []
    for column in period.columns:
        start, end = period.column_bounds(column)
        query = select(func.avg(SatisfactionSurvey.score), func.count(SatisfactionSurvey.score)).where(
            SatisfactionSurvey.answered_at >= start,
            SatisfactionSurvey.answered_at < end,
            SatisfactionSurvey.score.is_not(None),
        )
        average, count = session.execute(query).one()
        answered.append((None if average is None else round(float(average), 1), int(count)))
    return Section(
        "satisfaction",
        "満足度（相談後のアンケート、5段階）",
        (
            Line("平均", tuple(a for a, _ in answered), "点"),
            Line("回答数", tuple(n for _, n in answered)),
        ),
    )


RecordSource = Callable[[Session, DeskConfig, ReportPeriod], Section | None]
RECORD_SECTIONS: tuple[RecordSource, ...] = (
    outcomes_section,
    referrals_section,
    programmes_section,
    satisfaction_section,
)

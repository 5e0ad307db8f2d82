"""The summary's sections from the records coordinators and owners leave after a consultation: one function
per source, each a `Section` over the period's columns (None leaves it out), so every writer shows it.

対応結果 counts the current revision of each outcome record by the month it was recorded; 満足度 averages the
surveys answered in the month. Still to come: 紹介先別 (referrals with the owner's consent) and 紹介した支援制度
(by programme), from the same records' lists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from config import DeskConfig
from reporting.periods import ReportPeriod
from storage.follow_ups import SatisfactionSurvey
from storage.outcomes import OutcomeRecord

RESULT_LABELS = (
    ("resolved", "解決"),
    ("continuing", "継続支援"),
    ("referred", "他機関紹介"),
    ("information", "情報提供のみ"),
    ("on_hold", "保留"),
)

if TYPE_CHECKING:
    from reporting.aggregate import Section


def outcomes_section(session: Session, desk: DeskConfig, period: ReportPeriod) -> Section | None:
    """対応結果: the outcome records (their latest revision) by result, by the month they were recorded."""
    from reporting.aggregate import Line, Section

    later = aliased(OutcomeRecord)
    newer = select(later.id).where(
        later.booking_id == OutcomeRecord.booking_id, later.revision > OutcomeRecord.revision
    )
    lines = []
    columns = []
    for column in period.columns:
        start, end = period.column_bounds(column)
        query = (
            select(OutcomeRecord.result, func.count())
            .where(OutcomeRecord.recorded_at >= start, OutcomeRecord.recorded_at < end, ~newer.exists())
            .group_by(OutcomeRecord.result)
        )
        columns.append({str(result): int(n) for result, n in session.execute(query).all()})
    lines.append(Line("対応記録の件数", tuple(sum(c.values()) for c in columns)))
    lines += [Line(label, tuple(c.get(code, 0) for c in columns)) for code, label in RESULT_LABELS]
    return Section(
        "outcomes", "対応結果（対応記録）", tuple(lines), note="記録された月に数える（訂正は最新のもの）"
    )


def referrals_section(session: Session, desk: DeskConfig, period: ReportPeriod) -> Section | None:
    """紹介先別: not recorded yet."""
    return None


def programmes_section(session: Session, desk: DeskConfig, period: ReportPeriod) -> Section | None:
    """紹介した支援制度: not recorded yet."""
    return None


def satisfaction_section(session: Session, desk: DeskConfig, period: ReportPeriod) -> Section | None:
    """満足度: the average score (1 to 5) and the number of answers, by the month they were answered."""
    from reporting.aggregate import Line, Section

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


PENDING_SOURCES = (outcomes_section, referrals_section, programmes_section, satisfaction_section)

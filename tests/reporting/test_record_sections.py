"""The summary's 対応結果 and 満足度: from the outcome records (their latest revision) and the surveys answered,
each counted in the month it happened."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from config import DeskConfig
from reporting.aggregate import build_summary
from reporting.periods import monthly_period
from storage.bookings import Booking
from storage.clock import JST
from storage.database import Database
from storage.follow_ups import SatisfactionSurvey
from storage.outcomes import OutcomeRecord
from tests.reporting.fixture import NOW


def at(day: int, hour: int = 15) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=JST)


def test_outcomes_count_the_latest_revision_and_surveys_average_the_answers(
    db: Database, desk: DeskConfig, november: dict[str, int]
) -> None:
    with db.session() as session:
        bookings = {b.consultation_id: b for b in session.scalars(select(Booking).order_by(Booking.id))}
        first, second, third = (bookings[november[name]] for name in sorted(november)[:3])

        def record(booking: Booking, revision: int, result: str, when: datetime) -> None:
            session.add(
                OutcomeRecord(
                    consultation_id=booking.consultation_id,
                    booking_id=booking.id,
                    revision=revision,
                    method="onsite",
                    minutes=60,
                    summary="相談内容の要約",
                    result=result,
                    recorded_by="U0EXYAMADA",
                    recorded_at=when,
                )
            )

        record(first, 1, "continuing", at(5))
        record(first, 2, "resolved", at(6))  # a correction: only this one counts
        record(second, 1, "referred", at(21))
        for booking, score, answered in ((first, 5, at(6)), (second, 2, at(24)), (third, None, None)):
            session.add(
                SatisfactionSurvey(
                    booking_id=booking.id,
                    consultation_id=booking.consultation_id,
                    status="sent",
                    due_at=at(6) - timedelta(hours=5),
                    score=score,
                    answered_at=answered,
                )
            )
        session.flush()
        summary = build_summary(session=session, desk=desk, period=monthly_period(date(2026, 11, 1)), now=NOW)
    assert summary.value("outcomes", "対応記録の件数") == 2
    assert summary.value("outcomes", "解決") == 1 and summary.value("outcomes", "継続支援") == 0
    assert summary.value("outcomes", "他機関紹介") == 1
    assert summary.value("outcomes", "対応記録の件数", 2) == 0  # November 2025: none
    assert summary.value("satisfaction", "平均") == 3.5
    assert summary.value("satisfaction", "回答数") == 2
    assert summary.value("satisfaction", "平均", 2) is None

"""The summary's sections from the records: 対応結果, 紹介先別 and 紹介した支援制度 from the outcome records
(their latest revision, in the month it was recorded; a referral only once the owner agreed), 満足度 from
the surveys answered. The fixture month's own figures are in tests/reporting/fixture.py's EXPECTED."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from config import DeskConfig
from reporting.aggregate import Summary, build_summary
from reporting.periods import monthly_period
from storage.bookings import Booking
from storage.clock import JST
from storage.database import Database
from storage.follow_ups import SatisfactionSurvey
from storage.outcomes import ReferralConsent
from tests.reporting.fixture import NOT_SHOWN, NOW, Builder


def at(day: int, hour: int = 15) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=JST)


def november_summary(session: Session, desk: DeskConfig) -> Summary:
    return build_summary(session=session, desk=desk, period=monthly_period(date(2026, 11, 1)), now=NOW)


def bookings_of(session: Session, november: dict[str, int]) -> list[Booking]:
    bookings = {b.consultation_id: b for b in session.scalars(select(Booking).order_by(Booking.id))}
    return [bookings[november[name]] for name in ("N1", "N2", "N3")]


def test_the_referrals_add_up_and_a_corrected_partner_is_not_shown(
    db: Database, desk: DeskConfig, november: dict[str, int]
) -> None:
    with db.session() as session:
        summary = november_summary(session, desk)
    referrals = summary.section("referrals")
    assert referrals is not None
    for column in range(3):
        named = [ln.values[column] or 0 for ln in referrals.lines[1:-1]]  # partners and the vendors
        assert sum(named) == referrals.lines[0].values[column]
    for partner in NOT_SHOWN:
        assert summary.value("referrals", partner) is None
    programmes = summary.section("programmes")
    assert programmes is not None and len(programmes.lines) == 1 + len(desk.outcomes.programmes)


def test_a_correction_and_a_late_agreement_move_the_counts(
    db: Database, desk: DeskConfig, november: dict[str, int]
) -> None:
    with db.session() as session:
        _, second, _ = bookings_of(session, november)
        # N2's record corrected on 11/25: the owner now agrees to KISC alone, and no programme.
        Builder(session).record(
            second, at(25), "referred", revision=2, partners=("kisc",), answer="agree", answered_at=at(26)
        )
        # E's referral (November 2025) answered only now: counted in the month its record was recorded.
        session.execute(
            update(ReferralConsent).where(ReferralConsent.answer.is_(None)).values(answer="agree")
        )
        session.flush()
        summary = november_summary(session, desk)
    assert summary.value("referrals", "紹介件数（本人の同意あり）") == 4
    assert summary.value("referrals", "かごしま産業支援センター（KISC）") == 1
    assert summary.value("referrals", "同意のない紹介（数えない）") == 0
    assert [summary.value("referrals", "ITベンダー", i) for i in range(3)] == [1, 1, 1]
    assert summary.value("programmes", "紹介した支援制度（延べ件数）") == 2
    assert summary.value("programmes", "デジタル化・AI導入補助金（旧 IT導入補助金）") == 1
    assert summary.value("outcomes", "対応記録の件数") == 2  # still one per booking


def test_an_id_no_longer_listed_is_counted_under_its_code(
    db: Database, desk: DeskConfig, november: dict[str, int]
) -> None:
    with db.session() as session:
        _, _, third = bookings_of(session, november)
        Builder(session).record(
            third, at(28), "continuing", programmes=("retired_programme",), partners=("old_partner",),
            answer="agree", answered_at=at(29),
        )  # fmt: skip
        summary = november_summary(session, desk)
    assert summary.value("programmes", "retired_programme") == 1
    assert summary.value("referrals", "old_partner") == 1
    assert summary.value("referrals", "紹介件数（本人の同意あり）") == 4


def test_surveys_average_the_answers_of_the_month(
    db: Database, desk: DeskConfig, november: dict[str, int]
) -> None:
    with db.session() as session:
        first, second, third = bookings_of(session, november)
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
        summary = november_summary(session, desk)
    assert summary.value("satisfaction", "平均") == 3.5
    assert summary.value("satisfaction", "回答数") == 2
    assert summary.value("satisfaction", "平均", 2) is None

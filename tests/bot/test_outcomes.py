"""bot.outcomes with an injected clock: the card is offered a record once per booking whose time has
ended, a record waits for the end of the meeting, and an owner who cannot be asked on their channel is
not counted as referred."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot import decisions, texts
from bot.engine import IntakeEngine
from bot.outcomes import OutcomeForm, Recorded, consent_status, offer_outcome_records, record_outcome
from bot.sending import Outbound
from config import DeskConfig
from handlers.slack.sender import SlackCoordinatorSender
from storage.bookings import Booking
from storage.clock import FixedClock
from storage.database import Database
from storage.models import Consultation, OutboxMessage
from storage.outcomes import consent_for, current_outcome
from tests.bot.chat import Chat
from tests.bot.test_intake_flow import to_summary

FORM = OutcomeForm(
    method="online", minutes=60, summary="クラウド会計の導入を助言", result="referred", partners=("yorozu",)
)


def confirmed_booking(desk: DeskConfig, clock: FixedClock, db: Database, outbound: Outbound) -> int:
    chat = Chat(IntakeEngine(desk, clock), db, user="U-outcome")
    to_summary(chat)
    chat.tap(texts.SUBMIT)
    with db.session() as session:
        booking = session.scalars(select(Booking)).one()
        assert decisions.approve(
            session=session,
            desk=desk,
            outbound=outbound,
            booking_id=booking.id,
            actor="U0SUZUKI",
            now=clock.now(),
        )
        return booking.id


def offers(db: Database) -> int:
    with db.session() as session:
        query = select(func.count()).where(OutboxMessage.reason == "outcome_offered")
        return int(session.scalar(query) or 0)


def test_a_booking_is_offered_its_record_once_after_its_end(
    desk: DeskConfig, clock: FixedClock, db: Database
) -> None:
    outbound = Outbound(coordinators=SlackCoordinatorSender(clock))
    booking_id = confirmed_booking(desk, clock, db, outbound)
    with db.session() as session:
        ends_at = session.get(Booking, booking_id).ends_at  # type: ignore[union-attr]
        assert offer_outcome_records(session, outbound, ends_at - timedelta(minutes=1)) == 0
        assert offer_outcome_records(session, outbound, ends_at) == 1
        assert offer_outcome_records(session, outbound, ends_at + timedelta(days=1)) == 0
    assert offers(db) == 1


def test_a_record_waits_for_the_meeting_and_an_owner_who_cannot_be_asked_is_not_referred(
    desk: DeskConfig, clock: FixedClock, db: Database
) -> None:
    outbound = Outbound(coordinators=SlackCoordinatorSender(clock))
    booking_id = confirmed_booking(desk, clock, db, outbound)
    with db.session() as session:
        booking = session.get(Booking, booking_id)
        assert booking is not None
        early = record_outcome(
            session=session,
            desk=desk,
            outbound=outbound,
            booking_id=booking_id,
            form=FORM,
            actor="U0SUZUKI",
            now=booking.starts_at,
        )
        assert early.status is Recorded.NOT_YET
        done = record_outcome(
            session=session,
            desk=desk,
            outbound=outbound,
            booking_id=booking_id,
            form=FORM,
            actor="U0SUZUKI",
            now=booking.ends_at,
        )
        assert done.status is Recorded.RECORDED and done.asked_owner is False  # a simulator owner
        record = current_outcome(session=session, booking_id=booking_id)
        assert record is not None and record.partners == ["yorozu"]
        assert consent_status(consent_for(session=session, outcome_id=record.id)) == "not_asked"
        consultation = session.get(Consultation, booking.consultation_id)
        assert consultation is not None and consultation.status == "closed"  # 他機関紹介 ends the case
        bad = record_outcome(
            session=session,
            desk=desk,
            outbound=outbound,
            booking_id=booking_id,
            form=OutcomeForm(method="fax", minutes=0, summary=" ", result="maybe"),
            actor="U0SUZUKI",
            now=booking.ends_at,
        )
        assert set(bad.problems) == {"method", "minutes", "summary", "result"}

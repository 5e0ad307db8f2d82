"""bot.outcomes with an injected clock: the card is offered a record once per booking whose time has
ended, a record waits for the end of the meeting, and an owner who cannot be asked on their channel is
not counted as referred."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import func, select

from bot import decisions, outcome_texts, texts
from bot.engine import IntakeEngine
from bot.outcomes import (
    CONSENT_STEP,
    OutcomeForm,
    Recorded,
    answer_referral,
    consent_status,
    offer_outcome_records,
    record_outcome,
    revise_outcome,
)
from bot.postback import Postback
from bot.sending import Outbound
from config import DeskConfig
from handlers.slack.sender import SlackCoordinatorSender
from storage.bookings import Booking
from storage.clock import FixedClock
from storage.database import Database
from storage.models import Consultation, OutboxMessage
from storage.outcomes import consent_for, current_outcome, list_outcome_records
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


def test_a_correction_is_a_new_revision_and_an_answer_to_the_earlier_question_is_stale(
    desk: DeskConfig, clock: FixedClock, db: Database
) -> None:
    outbound = Outbound(coordinators=SlackCoordinatorSender(clock))
    booking_id = confirmed_booking(desk, clock, db, outbound)
    with db.session() as session:
        booking = session.get(Booking, booking_id)
        assert booking is not None
        first = record_outcome(
            session=session,
            desk=desk,
            outbound=outbound,
            booking_id=booking_id,
            form=FORM,
            actor="U0SUZUKI",
            now=booking.ends_at,
        )
        corrected = replace(FORM, minutes=45, partners=("kisc",))
        second = revise_outcome(
            session=session,
            desk=desk,
            outbound=outbound,
            booking_id=booking_id,
            form=corrected,
            actor="U0SUZUKI",
            now=booking.ends_at + timedelta(hours=1),
        )
        assert first.record_id is not None and second.record_id is not None
        revisions = list_outcome_records(session=session, consultation_id=booking.consultation_id or 0)
        assert [(r.revision, r.minutes, r.partners) for r in revisions] == [
            (1, 60, ["yorozu"]),
            (2, 45, ["kisc"]),
        ]
        contact = session.get(Consultation, booking.consultation_id).contact  # type: ignore[union-attr]
        old = consent_for(session=session, outcome_id=first.record_id)
        assert old is not None
        answer = answer_referral(
            session=session,
            desk=desk,
            outbound=outbound,
            contact=contact,
            postback=Postback(f"r{old.id}", CONSENT_STEP, "agree"),
            now=booking.ends_at + timedelta(hours=2),
        )
        assert answer.reply == outcome_texts.CONSENT_STALE
        session.refresh(old)
        assert old.answer is None

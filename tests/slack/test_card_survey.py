"""The owner's satisfaction score on the coordinators' card: answering the survey enqueues a card refresh
(`survey_answered`), and the card, updated in place through the stand-in, reads 満足度 4/5; the answer and the
comment are said in the card's thread."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.engine import IntakeEngine
from bot.lifecycle import BookingStatus, transition_booking
from bot.messages import Inbound
from bot.sending import Outbound
from bot.survey_flow import score_buttons
from config import DeskConfig
from handlers.line.sender import LineSender
from handlers.slack.client import posting_client
from handlers.slack.delivery import SlackDelivery
from handlers.slack.sender import SlackCoordinatorSender
from storage import follow_ups as store
from storage.bookings import Booking
from storage.channels import Channel
from storage.clock import FixedClock
from storage.database import Database
from storage.models import Consultation, OutboxMessage
from tests.bot.chat import Chat
from tests.conftest import make_settings
from tests.owner import Owner
from tests.slack.standin import BOT_TOKEN, INTAKE_CHANNEL, SlackStandIn


@pytest.fixture
def engine(desk: DeskConfig, clock: FixedClock) -> IntakeEngine:
    outbound = Outbound(senders={Channel.LINE: LineSender(clock)}, coordinators=SlackCoordinatorSender(clock))
    return IntakeEngine(desk, clock, outbound=outbound)


@pytest.fixture
def delivery(
    db: Database, slack: SlackStandIn, clock: FixedClock, desk: DeskConfig, tmp_path: Path
) -> Iterator[SlackDelivery]:
    settings = make_settings(db.url, tmp_path, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_BASE_URL=slack.api_url)
    yield SlackDelivery(
        db=db,
        client=posting_client(settings),
        clock=clock,
        desk=desk,
        channel=INTAKE_CHANNEL,
        tuning=settings.line_tuning,
        post_interval=0,
    )


def card_text(message: dict[str, object]) -> str:
    return repr(message["blocks"])


def test_a_survey_answer_refreshes_the_card_with_the_score(
    engine: IntakeEngine, db: Database, delivery: SlackDelivery, slack: SlackStandIn, clock: FixedClock
) -> None:
    chat = Chat(engine, db, user="U-survey-owner")
    Owner(chat).answer_until(None)
    assert "受け付けました" in chat.text
    with db.session() as session:
        consultation = session.scalars(select(Consultation)).one()
        booking = session.scalars(select(Booking)).one()
        assert transition_booking(
            session=session,
            booking_id=booking.id,
            to=BookingStatus.CONFIRMED,
            actor="coordinator",
            now=clock.now(),
        )
        survey = store.SatisfactionSurvey(
            booking_id=booking.id,
            consultation_id=consultation.id,
            contact_id=consultation.contact_id,
            status=store.SENT,
            due_at=booking.ends_at + timedelta(days=1),
        )
        session.add(survey)
        session.flush()
        survey_id = survey.id
    while delivery.run_once():
        pass
    [message] = slack.messages(INTAKE_CHANNEL)
    assert "満足度" not in card_text(message)

    chat.send(Inbound.tapped(score_buttons(survey_id)[1]))  # 4 満足
    with db.session() as session:
        notices = session.scalars(
            select(OutboxMessage).where(OutboxMessage.reason == "survey_answered")
        ).all()
        assert [n.consultation_id for n in notices] == [consultation.id, consultation.id]
    while delivery.run_once():
        pass
    [message] = slack.messages(INTAKE_CHANNEL)  # the same card, updated in place
    assert "満足度 4/5" in card_text(message)
    # and the answer is said in the card's thread, then the comment as the owner wrote it
    chat.say("とても分かりやすかったです")
    while delivery.run_once():
        pass
    assert [m["text"] for m in slack.thread(INTAKE_CHANNEL, message["ts"])] == [
        "アンケートのご回答：満足度 4/5",
        "アンケートのコメント：とても分かりやすかったです",
    ]
    assert slack.calls("chat.update")[-1].args["ts"] == message["ts"]

"""The approval card: written with the submission, delivered through the outbox to the intake channel by the
real slack_sdk against the stand-in, its place stored, updated in place, and posted once even when the answer
of its post was lost or the process died before recording it."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot import texts
from bot.engine import IntakeEngine
from bot.sending import Notice, Outbound
from config import DeskConfig
from handlers.slack.cards import CONTACT, parse_value
from handlers.slack.delivery import SlackDelivery
from handlers.slack.pacing import POST_INTERVAL, Pacer
from storage.bookings import Booking
from storage.channels import Channel
from storage.clock import FixedClock
from storage.database import Database
from storage.models import Consultation, OutboxMessage
from storage.outbox import SENT
from storage.slack_cards import SlackCard
from tests.bot.chat import Chat
from tests.owner import Owner
from tests.slack.standin import INTAKE_CHANNEL, SlackStandIn

PHONE = "099-123-4567"
EMAIL = "owner@example.jp"
VALUE = re.compile(r"^c\d+(:b\d+)?$")


def submitted(engine: IntakeEngine, db: Database, user: str = "U-card-owner") -> Chat:
    chat = Chat(engine, db, user=user)
    Owner(chat).answer_until(None, contact=f"{PHONE} {EMAIL}")
    assert "受け付けました" in chat.text
    return chat


def rows(db: Database) -> list[OutboxMessage]:
    with db.session() as session:
        query = select(OutboxMessage).where(OutboxMessage.channel == Channel.SLACK).order_by(OutboxMessage.id)
        return list(session.scalars(query))


def the_consultation(db: Database) -> tuple[Consultation, Booking]:
    with db.session() as session:
        consultation = session.scalars(select(Consultation)).one()
        booking = session.scalars(select(Booking).where(Booking.consultation_id == consultation.id)).one()
        return consultation, booking


def card_text(message: dict[str, object]) -> str:
    return repr(message["blocks"]) + str(message["text"])


def test_the_owner_hears_the_time_is_provisional_and_the_card_is_written_with_the_request(
    engine: IntakeEngine, db: Database
) -> None:
    chat = submitted(engine, db)
    assert "仮のご予約" in chat.text and "確定し、このLINEでお知らせします" in chat.text
    assert "2営業日以内" not in chat.text
    consultation, booking = the_consultation(db)
    [row] = rows(db)
    assert row.consultation_id == consultation.id and row.contact_id is None
    assert row.payload["messages"] == [
        {
            "kind": "booking_requested",
            "consultation_id": consultation.id,
            "booking_id": booking.id,
            "detail": {},
            "to": "card",
            "text": None,
        }
    ]


def test_the_card_reaches_the_intake_channel_with_the_request_and_without_the_contact_details(
    engine: IntakeEngine, db: Database, delivery: SlackDelivery, slack: SlackStandIn, desk: DeskConfig
) -> None:
    submitted(engine, db)
    consultation, booking = the_consultation(db)
    assert delivery.run_once()
    [message] = slack.messages(INTAKE_CHANNEL)
    shown = card_text(message)
    assert consultation.reference in shown and message["text"]
    coordinator = next(c for c in desk.scheduling.coordinators if c.id == booking.coordinator_id)
    assert f"<@{coordinator.slack_user_id}>" in shown
    assert consultation.description in shown  # the request in the owner's words
    assert re.search(r"\d{1,2}/\d{1,2}\([月火水木金土日](・祝)?\) \d{2}:\d{2}〜\d{2}:\d{2}", shown)
    assert PHONE not in shown and EMAIL not in shown
    assert message["metadata"] == {
        "event_type": "madoguchi_card",
        "event_payload": {"consultation_id": consultation.id},
    }
    buttons = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["text"]["text"] for b in buttons] == [
        "承認",
        "別の日時を提案",
        "担当を変更",
        "お断り",
        "連絡先を見る",
    ]
    assert all(VALUE.match(b["value"]) for b in buttons)
    assert parse_value(buttons[0]["value"]) == (consultation.id, booking.id)
    assert parse_value(next(b for b in buttons if b["action_id"] == CONTACT)["value"]) == (
        consultation.id,
        None,
    )
    with db.session() as session:
        card = session.scalars(select(SlackCard)).one()
        assert (card.channel, card.ts) == (INTAKE_CHANNEL, message["ts"])
    assert [r.status for r in rows(db)] == [SENT]


def test_a_second_notice_updates_the_card_in_place(
    engine: IntakeEngine, db: Database, delivery: SlackDelivery, slack: SlackStandIn, outbound: Outbound
) -> None:
    submitted(engine, db)
    consultation, _ = the_consultation(db)
    delivery.run_once()
    with db.session() as session:
        outbound.to_coordinators(
            session=session,
            notice=Notice("booking_moved", consultation.id),
        )
    assert delivery.run_once()
    assert len(slack.messages(INTAKE_CHANNEL)) == 1
    [update] = slack.calls("chat.update")
    assert update.ok and update.args["ts"] == slack.messages(INTAKE_CHANNEL)[0]["ts"]


def test_a_post_whose_answer_was_lost_is_adopted_not_posted_again(
    engine: IntakeEngine, db: Database, delivery: SlackDelivery, slack: SlackStandIn, clock: FixedClock
) -> None:
    submitted(engine, db)
    slack.drop(method="chat.postMessage", accept_first=True)  # Slack posted it; its answer never came
    assert delivery.run_once()
    assert len(slack.messages(INTAKE_CHANNEL)) == 1 and rows(db)[0].status != SENT
    clock.advance(seconds=3)  # the lease of the attempt that lost its answer runs out
    assert delivery.run_once()
    [message] = slack.messages(INTAKE_CHANNEL)
    assert len(slack.calls("chat.postMessage")) == 1 and slack.calls("conversations.history")
    with db.session() as session:
        assert session.scalars(select(SlackCard)).one().ts == message["ts"]
    [row] = rows(db)
    assert row.status == SENT and row.delivered_via == "adopted"


def test_a_crash_between_posting_and_recording_posts_one_card(
    engine: IntakeEngine, db: Database, delivery: SlackDelivery, slack: SlackStandIn, clock: FixedClock
) -> None:
    submitted(engine, db)
    consultation, _ = the_consultation(db)
    [due] = delivery.claim()
    rendered = delivery._render(consultation.id)
    assert rendered is not None
    delivery.show(consultation.id, rendered[0], rendered[1], retried=False)  # posted; then the process dies
    assert len(slack.messages(INTAKE_CHANNEL)) == 1
    assert not delivery.run_once()  # the row is still leased to the dead process
    clock.advance(seconds=3)
    assert delivery.run_once()
    assert len(slack.messages(INTAKE_CHANNEL)) == 1 and len(slack.calls("chat.postMessage")) == 1
    [row] = rows(db)
    assert row.id == due.id and row.status == SENT and row.delivered_via == "adopted"


def test_an_outage_holds_the_cards_until_slack_is_back_then_posts_them_in_order(
    engine: IntakeEngine, db: Database, delivery: SlackDelivery, slack: SlackStandIn, clock: FixedClock
) -> None:
    slack.begin_outage(503)
    submitted(engine, db, user="U-first")
    submitted(engine, db, user="U-second")
    assert delivery.run_once() and delivery.run_once()
    assert slack.messages(INTAKE_CHANNEL) == []
    slack.end_outage()
    clock.advance(seconds=60)
    while delivery.run_once():
        pass
    with db.session() as session:
        references = [c.reference for c in session.scalars(select(Consultation).order_by(Consultation.id))]
    posted = [m["text"] for m in slack.messages(INTAKE_CHANNEL)]
    assert len(posted) == 2 and all(ref in text for ref, text in zip(references, posted, strict=True))
    assert len(slack.calls("chat.postMessage")) == 4  # two refused during the outage, two accepted
    assert {r.status for r in rows(db)} == {SENT}


def test_a_channel_the_app_is_not_in_parks_the_card_as_rejected(
    engine: IntakeEngine, db: Database, delivery: SlackDelivery, slack: SlackStandIn
) -> None:
    slack.add_channel("C0NOTIN001", "elsewhere", member=False)
    delivery.channel = "C0NOTIN001"
    submitted(engine, db)
    delivery.run_once()
    [row] = rows(db)
    assert row.status == "rejected" and "not_in_channel" in (row.last_error or "")
    assert texts.SUBMITTED_HELD  # the owner's words do not depend on Slack


def test_posts_to_the_channel_are_paced_and_a_429_is_waited_out(
    engine: IntakeEngine, db: Database, delivery: SlackDelivery, slack: SlackStandIn
) -> None:
    slack.pace_posts(1.0)  # Slack's one post a second to a channel: a second post within it is 429
    delivery.pacer = Pacer(POST_INTERVAL)
    submitted(engine, db, user="U-first")
    submitted(engine, db, user="U-second")
    slack.rate_limit(1, method="chat.postMessage", retry_after=1)
    while delivery.run_once():
        pass
    assert len(slack.messages(INTAKE_CHANNEL)) == 2
    posts = slack.calls("chat.postMessage")
    assert [c.status for c in posts] == [429, 200, 200]  # the 429 was the stand-in's fault, not a pace breach
    assert posts[1].at - posts[0].at >= 0.9 and posts[2].at - posts[1].at >= 0.9


def test_a_long_outage_never_gives_a_card_up_and_slacks_return_brings_them_all_forward(
    engine: IntakeEngine, db: Database, delivery: SlackDelivery, slack: SlackStandIn, clock: FixedClock
) -> None:
    slack.begin_outage(503)
    submitted(engine, db, user="U-first")
    submitted(engine, db, user="U-second")
    for _ in range(delivery.tuning.max_attempts + 2):
        clock.advance(seconds=delivery.tuning.retry_cap * 2)
        while delivery.run_once():
            pass
    assert {r.status for r in rows(db)} == {"pending"} and slack.messages(INTAKE_CHANNEL) == []
    slack.end_outage()
    clock.advance(seconds=delivery.tuning.retry_cap * 2)
    while delivery.run_once():
        pass
    assert {r.status for r in rows(db)} == {SENT} and len(slack.messages(INTAKE_CHANNEL)) == 2

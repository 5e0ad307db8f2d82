"""The coordinators' messages other than the card: a reply in the card's thread, a post to the desk's channel,
a direct message to one coordinator, each posted once through the outbox by the real slack_sdk against the
stand-in, rendered when delivered, and never posted twice when an answer was lost."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.engine import IntakeEngine
from bot.sending import TO_DESK, TO_THREAD, Notice, Outbound, to_coordinator
from config import DeskConfig
from handlers.slack.delivery import SlackDelivery
from storage.clock import FixedClock
from storage.database import Database
from storage.models import Consultation
from storage.outbox import SENT, SKIPPED
from tests.slack.standin import INTAKE_CHANNEL, SlackStandIn
from tests.slack.test_cards import rows, submitted


def notify(db: Database, outbound: Outbound, notice: Notice) -> None:
    with db.session() as session:
        outbound.to_coordinators(session=session, notice=notice)


def consultation_id(db: Database) -> int:
    with db.session() as session:
        return session.scalars(select(Consultation.id)).one()


def drain(delivery: SlackDelivery) -> None:
    while delivery.run_once():
        pass


def test_a_thread_message_is_posted_under_the_card_as_written_and_escaped(
    engine: IntakeEngine, db: Database, delivery: SlackDelivery, slack: SlackStandIn, outbound: Outbound
) -> None:
    submitted(engine, db)
    cid = consultation_id(db)
    notify(db, outbound, Notice("owner_message", cid, to=TO_THREAD, text="駐車場はありますか <!channel>"))
    drain(delivery)
    [card] = slack.messages(INTAKE_CHANNEL)
    [reply] = slack.thread(INTAKE_CHANNEL, card["ts"])
    assert reply["text"] == "駐車場はありますか &lt;!channel&gt;"
    assert reply["metadata"]["event_type"] == "madoguchi_message"
    assert len(slack.messages(INTAKE_CHANNEL)) == 1  # in the thread, not beside the card
    assert [r.status for r in rows(db)] == [SENT, SENT]


def test_a_thread_message_waits_for_its_card(
    engine: IntakeEngine,
    db: Database,
    delivery: SlackDelivery,
    slack: SlackStandIn,
    outbound: Outbound,
    clock: FixedClock,
) -> None:
    submitted(engine, db)
    cid = consultation_id(db)
    notify(db, outbound, Notice("owner_message", cid, to=TO_THREAD, text="よろしくお願いします"))
    slack.fail(503, method="chat.postMessage")  # the card's first post fails; the thread message comes up
    assert delivery.run_once() and delivery.run_once()
    assert slack.messages(INTAKE_CHANNEL) == []
    assert "not posted yet" in (rows(db)[1].last_error or "")
    clock.advance(seconds=120)
    drain(delivery)
    [card] = slack.messages(INTAKE_CHANNEL)
    assert [m["text"] for m in slack.thread(INTAKE_CHANNEL, card["ts"])] == ["よろしくお願いします"]


def test_a_desk_post_and_a_direct_message_go_where_they_are_addressed(
    db: Database, delivery: SlackDelivery, slack: SlackStandIn, outbound: Outbound, desk: DeskConfig
) -> None:
    coordinator = next(c for c in desk.scheduling.coordinators if c.slack_user_id)
    notify(db, outbound, Notice("announcement", to=TO_DESK, text="今月のまとめです"))
    notify(db, outbound, Notice("digest", to=to_coordinator(coordinator.id), text="本日の予定は2件です"))
    drain(delivery)
    assert [m["text"] for m in slack.messages(INTAKE_CHANNEL)] == ["今月のまとめです"]
    [dm] = [c for c in slack.calls("chat.postMessage") if c.args["channel"] == coordinator.slack_user_id]
    assert dm.ok and dm.args["text"] == "本日の予定は2件です"
    assert [r.status for r in rows(db)] == [SENT, SENT]


def test_a_message_whose_answer_was_lost_is_found_in_the_thread_not_posted_again(
    engine: IntakeEngine,
    db: Database,
    delivery: SlackDelivery,
    slack: SlackStandIn,
    outbound: Outbound,
    clock: FixedClock,
) -> None:
    submitted(engine, db)
    delivery.run_once()
    notify(db, outbound, Notice("owner_message", consultation_id(db), to=TO_THREAD, text="一度だけ"))
    slack.drop(method="chat.postMessage", accept_first=True)
    assert delivery.run_once()
    clock.advance(seconds=3)
    drain(delivery)
    [card] = slack.messages(INTAKE_CHANNEL)
    assert [m["text"] for m in slack.thread(INTAKE_CHANNEL, card["ts"])] == ["一度だけ"]
    assert rows(db)[1].status == SENT and rows(db)[1].delivered_via == "adopted"


def test_a_notice_with_nowhere_to_go_or_nothing_to_say_is_skipped(
    db: Database, delivery: SlackDelivery, slack: SlackStandIn, outbound: Outbound
) -> None:
    notify(db, outbound, Notice("digest", to=to_coordinator("nobody"), text="届きません"))
    notify(db, outbound, Notice("announcement", to=TO_DESK))
    drain(delivery)
    assert slack.calls("chat.postMessage") == []
    assert [r.status for r in rows(db)] == [SKIPPED, SKIPPED]


def test_a_card_or_thread_notice_needs_its_consultation() -> None:
    with pytest.raises(ValueError):
        Notice("owner_message", to=TO_THREAD, text="x")
    with pytest.raises(ValueError):
        Notice("digest", to="somewhere")

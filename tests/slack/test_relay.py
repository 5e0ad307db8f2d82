"""The thread is the conversation, end to end: a signed LINE intake, its card in the Slack stand-in, what the
owner writes on LINE afterwards in the card's thread (told once that it reached the desk), a coordinator's
reply in the thread (a signed Events API delivery) on the owner's LINE, memo: kept in Slack, an edit or a
deletion not passed on (said once), and a member who may not act told so ephemerally."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from bot import relay as bot_relay
from bot import texts as bot_texts
from bot.bookings import booking_when
from bot.relay import EDIT_NOT_PASSED_ON, RELAYED
from config import DeskConfig
from config.desk import DEFAULT_CONFIG_PATH
from handlers.slack.cards import APPROVE
from handlers.slack.relay import NOT_YOURS
from storage.models import Interaction
from tests.line.conftest import InProcessServer
from tests.line.standin import LineStandIn
from tests.slack import test_card_actions as cards
from tests.slack.appserver import SlackSender, new_event_id
from tests.slack.standin import INTAKE_CHANNEL, MANAGER, SlackStandIn
from tests.slack.test_card_actions import Desk, assigned

# The fixtures of the card tests: a server, the LINE stand-in, an owner who sent a request and its card.
desk_app, line, sender = cards.desk_app, cards.line, cards.sender
STRANGER = "U0COORD001"  # a member of the workspace who is no coordinator of the desk


def thread(desk_app: Desk) -> list[dict[str, Any]]:
    return desk_app.slack.thread(INTAKE_CHANNEL, desk_app.card["ts"])


def app_replies(desk_app: Desk) -> list[str]:
    return [
        m["text"] for m in thread(desk_app) if m.get("user") not in (MANAGER, STRANGER) and m.get("bot_id")
    ]


def owner_writes(desk_app: Desk, event: dict[str, Any], count: int) -> None:
    assert desk_app.owner.post(event).status_code == 200
    desk_app.slack.wait_for(lambda: len(app_replies(desk_app)) >= count, what="the thread message")


def coordinator_writes(desk_app: Desk, user: str, text: str, **extra: Any) -> str:
    ts = desk_app.slack.post_as_user(INTAKE_CHANNEL, user, text, thread_ts=desk_app.card["ts"])
    event = {
        "type": "message",
        "channel": INTAKE_CHANNEL,
        "channel_type": "channel",
        "user": user,
        "text": text,
        "ts": ts,
        "thread_ts": desk_app.card["ts"],
        "event_ts": ts,
        **extra,
    }
    assert desk_app.sender.event(event, event_id=new_event_id()).status_code == 200
    return ts


def from_desk(desk_app: Desk) -> list[str]:
    return desk_app.owner_heard("担当者より】")


def logged(desk_app: Desk) -> list[Interaction]:
    with desk_app.server.db.session() as session:
        return list(session.scalars(select(Interaction).order_by(Interaction.id)))


def test_what_the_owner_writes_after_the_request_reaches_the_thread_and_they_are_told_once(
    desk_app: Desk,
) -> None:
    owner = desk_app.owner
    owner_writes(desk_app, owner.text("駐車場はありますか？"), 1)
    owner_writes(
        desk_app,
        owner.event("message", message={"type": "sticker", "id": "s1", "packageId": "1", "stickerId": "2"}),
        2,
    )
    owner_writes(
        desk_app,
        owner.event("message", message={"type": "image", "id": "i1", "contentProvider": {"type": "line"}}),
        3,
    )
    assert app_replies(desk_app) == ["駐車場はありますか？", "（スタンプ）", "（画像が送られました）"]
    assert len(desk_app.slack.messages(INTAKE_CHANNEL)) == 1  # in the thread, not beside the card
    desk_app.line.wait_for_deliveries(owner.user_id, 1)
    time.sleep(0.5)
    assert len(desk_app.owner_heard(RELAYED.split("。")[0])) == 1  # told once, not three times
    inbound = [i for i in logged(desk_app) if i.direction == "in" and i.consultation_id is not None]
    assert [i.text for i in inbound][-3:] == ["駐車場はありますか？", "[sticker]", "[image]"]


def test_a_coordinators_reply_in_the_thread_reaches_the_owner_and_memo_stays_in_slack(
    desk_app: Desk, desk: DeskConfig
) -> None:
    mine, _ = assigned(desk, desk_app.booking())
    coordinator_writes(desk_app, mine, "メモ：午後に電話する")
    coordinator_writes(desk_app, mine, "memo: internal")
    coordinator_writes(desk_app, mine, "ご連絡ありがとうございます。駐車場は2台分ございます。")
    desk_app.slack.wait_for(lambda: from_desk(desk_app), what="the reply on LINE")
    time.sleep(0.5)
    [said] = from_desk(desk_app)
    assert "駐車場は2台分ございます" in said and "メモ" not in said and "internal" not in said
    out = [i for i in logged(desk_app) if i.direction == "out" and i.text and "駐車場は2台分" in i.text]
    assert len(out) == 1 and out[0].consultation_id is not None and out[0].delivered_at is not None
    assert desk_app.slack.ephemerals(mine) == []


def test_a_reply_whose_queueing_fails_is_refused_so_slack_delivers_it_again_and_it_arrives_once(
    desk_app: Desk, desk: DeskConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reply is queued for the owner before Slack is answered: when that fails (the database, a bug),
    Slack is answered 503 rather than 200, so it delivers the event again, and the owner gets it once."""
    mine, _ = assigned(desk, desk_app.booking())
    text = "明日の件、資料をお送りします。"
    ts = desk_app.slack.post_as_user(INTAKE_CHANNEL, mine, text, thread_ts=desk_app.card["ts"])
    event = {"type": "message", "channel": INTAKE_CHANNEL, "channel_type": "channel", "user": mine,
             "text": text, "ts": ts, "thread_ts": desk_app.card["ts"], "event_ts": ts}  # fmt: skip
    event_id = new_event_id()
    queue = bot_relay.relay_to_owner
    failures = iter([RuntimeError("the database went away")])

    def fails_once(**kwargs: Any) -> bool:
        for failure in failures:
            raise failure
        return queue(**kwargs)

    monkeypatch.setattr(bot_relay, "relay_to_owner", fails_once)
    assert desk_app.sender.event(event, event_id=event_id).status_code == 503
    assert desk_app.sender.event(event, event_id=event_id, retry=1).status_code == 200
    assert desk_app.sender.event(event, event_id=event_id, retry=2).status_code == 200  # a copy: dropped
    desk_app.slack.wait_for(lambda: from_desk(desk_app), what="the reply on LINE")
    time.sleep(0.5)
    assert len([said for said in from_desk(desk_app) if "資料をお送りします" in said]) == 1


def with_approver(tmp_path: Path) -> str:
    """A copy of the shipped desk config whose approver is MANAGER; its path."""
    raw = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    raw["slack"] = {"approvers": [MANAGER]}
    config = tmp_path / "desk.yaml"
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return str(config)


@pytest.fixture
def approver_app(
    slack_servers: Callable[..., InProcessServer],
    slack: SlackStandIn,
    line: LineStandIn,
    sender: Callable[[str], SlackSender],
    tmp_path: Path,
) -> Desk:
    server = slack_servers(LINE_API_BASE_URL=line.url, MADOGUCHI_CONFIG=with_approver(tmp_path))
    return Desk(server, slack, line, sender(server.url))


def test_an_approver_may_reply_a_member_who_may_not_act_is_told_and_nothing_is_sent(
    approver_app: Desk,
) -> None:
    desk_app = approver_app
    coordinator_writes(desk_app, STRANGER, "こんにちは")
    notes = desk_app.note_to(STRANGER)
    assert notes == [NOT_YOURS]
    coordinator_writes(desk_app, MANAGER, "承認者から失礼します。")
    desk_app.slack.wait_for(lambda: from_desk(desk_app), what="the approver's reply")
    assert ["承認者から失礼します" in t for t in from_desk(desk_app)] == [True]


def test_an_edit_or_a_deletion_is_not_passed_on_and_the_thread_says_so_once(
    desk_app: Desk, desk: DeskConfig
) -> None:
    mine, _ = assigned(desk, desk_app.booking())
    ts = coordinator_writes(desk_app, mine, "明日伺います")
    desk_app.slack.wait_for(lambda: from_desk(desk_app), what="the reply")
    card_ts = desk_app.card["ts"]
    original = {"type": "message", "user": mine, "text": "明日伺います", "ts": ts, "thread_ts": card_ts}
    for subtype, extra in (
        (
            "message_changed",
            {"message": {**original, "text": "明後日伺います"}, "previous_message": original},
        ),
        ("message_deleted", {"previous_message": original, "deleted_ts": ts}),
    ):
        event = {
            "type": "message",
            "subtype": subtype,
            "channel": INTAKE_CHANNEL,
            "ts": f"{time.time():.6f}",
            **extra,
        }
        assert desk_app.sender.event(event, event_id="Ev" + uuid.uuid4().hex[:10]).status_code == 200
    desk_app.slack.wait_for(lambda: EDIT_NOT_PASSED_ON in app_replies(desk_app), what="the note")
    time.sleep(0.5)
    assert app_replies(desk_app).count(EDIT_NOT_PASSED_ON) == 1
    assert len(from_desk(desk_app)) == 1  # the owner got the first words only
    assert "明後日" not in repr(desk_app.line.deliveries_to(desk_app.owner.user_id))


def in_thread_text(desk_app: Desk, words: str) -> list[str]:
    return [t for t in app_replies(desk_app) if words in t]


def test_a_cancellation_from_bookings_shows_on_the_card_and_in_the_thread(
    desk_app: Desk, desk: DeskConfig
) -> None:
    mine, _ = assigned(desk, desk_app.booking())
    desk_app.click(mine, APPROVE)
    desk_app.slack.wait_for(lambda: desk_app.owner_heard("ご予約が確定しました"), what="the confirmation")
    owner = desk_app.owner
    shown = owner.say(bot_texts.MENU_BOOKINGS)
    asked = owner.tap(shown, bot_texts.BOOKING_CANCEL)
    done = owner.tap(asked, bot_texts.BOOKING_CANCEL_YES)
    assert "キャンセルしました" in "".join(done.texts)
    desk_app.slack.wait_for(
        lambda: in_thread_text(desk_app, "ご予約を取り消しました"), what="the thread note"
    )
    desk_app.slack.wait_for(
        lambda: "キャンセルされました" in repr(desk_app.slack.messages(INTAKE_CHANNEL)[0]["blocks"]),
        what="the card refreshed",
    )
    [note] = in_thread_text(desk_app, "ご予約を取り消しました")
    assert booking_when(desk_app.booking()) in note
    assert desk_app.booking().status == "cancelled"
    [card] = desk_app.slack.messages(INTAKE_CHANNEL)
    assert card["ts"] == desk_app.card["ts"] and APPROVE not in repr(card["blocks"])


def test_a_change_of_time_from_bookings_shows_in_the_thread(desk_app: Desk) -> None:
    before = booking_when(desk_app.booking())
    owner = desk_app.owner
    shown = owner.say(bot_texts.MENU_BOOKINGS)
    offered = owner.tap(shown, bot_texts.BOOKING_MOVE)
    labels = [
        item["action"]["label"]
        for m in offered.messages
        for item in (m.get("quickReply") or {}).get("items", [])
        if item["action"]["type"] == "postback"
    ]
    moved = owner.tap(offered, labels[0])
    assert bot_texts.BOOKING_MOVED in "".join(moved.texts)
    after = booking_when(desk_app.booking())
    desk_app.slack.wait_for(lambda: in_thread_text(desk_app, "日時を変更しました"), what="the thread note")
    [note] = in_thread_text(desk_app, "日時を変更しました")
    assert before in note and after in note and before != after

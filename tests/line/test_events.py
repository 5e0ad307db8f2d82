"""LINE events through the webhook: follow, unfollow, unsend, every message kind, and a whole intake."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import httpx
from sqlalchemy import select

from bot import texts
from bot.intake import Step
from storage.contacts import find_contact
from storage.database import Database
from storage.inbox import purge_raw_bodies
from storage.models import InboxEvent, Interaction
from tests.idle import wait_servers_idle
from tests.line.conftest import ADMIN, InProcessServer, LineUser
from tests.line.standin import Delivery, LineStandIn
from tests.owner import LineChannel, Owner


def interactions(db: Database) -> list[Interaction]:
    with db.session() as session:
        return list(session.scalars(select(Interaction).order_by(Interaction.id)))


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_follow_greets_with_what_the_desk_does_and_how_to_start(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    server = start_server()
    user = LineUser(server.url, standin)
    greeting = user.send(user.event("follow", follow={"isUnblocked": False}))
    assert "友だち追加ありがとうございます" in greeting.texts[0]
    labels = [i["action"]["label"] for i in greeting.messages[0]["quickReply"]["items"]]
    assert labels == [texts.START_BUTTON]
    consent = user.tap(greeting, texts.START_BUTTON)
    assert "個人情報" in consent.texts[0]


def test_unfollow_marks_the_contact_unreachable_and_follow_again_reachable(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    server = start_server()
    user = LineUser(server.url, standin)
    user.say("こんにちは")

    def reachable() -> bool | None:
        with server.db.session() as session:
            contact = find_contact(session=session, channel="line", external_id=user.user_id)
            return None if contact is None else contact.reachable

    user.post(user.event("unfollow", reply=False))
    wait_until(lambda: reachable() is False)
    user.send(user.event("follow", follow={"isUnblocked": True}))
    assert reachable() is True


def test_unsend_removes_the_text_from_the_log_and_the_raw_event(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    server = start_server()
    user = LineUser(server.url, standin)
    user.say("相談したい")  # mid-conversation: the engine reads and writes before the message is logged
    event = user.text("090-1234-5678 は間違いです")
    message_id = event["message"]["id"]
    user.send(event)
    user.post(user.event("unsend", reply=False, unsend={"messageId": message_id}))

    def unsent() -> bool:
        rows = [r for r in interactions(server.db) if r.external_message_id == message_id]
        return len(rows) == 1 and rows[0].text is None

    wait_until(unsent)
    assert all("090-1234-5678" not in (r.text or "") for r in interactions(server.db))
    with server.db.session() as session:
        bodies = [e.body for e in session.scalars(select(InboxEvent))]
    assert all("090-1234-5678" not in str(body) for body in bodies)
    assert any(body.get("message", {}).get("id") == message_id for body in bodies)


def test_stickers_images_and_locations_get_a_polite_re_prompt(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    server = start_server()
    user = LineUser(server.url, standin)
    consent = user.say("相談したい")
    for message in (
        {"type": "sticker", "id": "1", "packageId": "446", "stickerId": "1988"},
        {"type": "image", "id": "2", "contentProvider": {"type": "line"}},
        {
            "type": "location",
            "id": "3",
            "title": "霧島市役所",
            "address": "鹿児島県霧島市",
            "latitude": 31.74,
            "longitude": 130.76,
        },
        {"type": "somethingNew", "id": "4"},
    ):
        answer = user.send(user.event("message", message=message))
        # The consent question is answered by its two buttons: a short line and the buttons, not the notice again.
        assert answer.texts == [f"{texts.NON_TEXT_BUTTONS}\n{texts.CONSENT_AGAIN}"]
        [reply] = answer.messages
        labels = [item["action"]["label"] for item in reply["quickReply"]["items"]]
        assert labels == [texts.CONSENT_YES, texts.CONSENT_NO] and consent.texts[0] not in answer.texts
    kinds = [r.kind for r in interactions(server.db) if r.direction == "in"]
    assert kinds == ["text", "sticker", "image", "location", "file"]


def test_old_raw_bodies_are_purged_but_their_ids_still_stop_replays(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    server = start_server()
    user = LineUser(server.url, standin)
    event = user.text("相談したい")
    user.send(event)
    now = server.services.clock.now()
    with server.db.session() as session:
        assert purge_raw_bodies(session=session, older_than=now + timedelta(seconds=1), now=now) == 1
    with server.db.session() as session:
        [row] = session.scalars(select(InboxEvent)).all()
        assert row.body == {} and row.purged_at is not None
    assert user.post(event).status_code == 200
    wait_servers_idle(server)
    assert len(standin.deliveries_to(user.user_id)) == 1


def labels_of(delivery: Delivery) -> list[str]:
    return [
        i["action"]["label"] for m in delivery.messages for i in (m.get("quickReply") or {}).get("items", [])
    ]


def test_a_whole_intake_through_the_webhook_ends_in_the_admin_api(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    server = start_server()
    user = LineUser(server.url, standin)
    last = user.send(user.event("follow", follow={"isUnblocked": False}))
    line = LineChannel(user, user.tap(last, texts.START_BUTTON))
    owner = Owner(line)
    owner.walk_to(Step.COMPANY_KIND)
    assert texts.ASK_COMPANY_KIND in line.last.texts[-1]
    owner.walk_to(Step.COMPANY)
    assert texts.ASK_COMPANY in line.last.texts[-1]
    owner.walk_to(Step.CATEGORY, company="株式会社さつま製作所", municipality="国分", employees="6〜20人")
    line.tap(labels_of(line.last)[1])
    owner.walk_to(
        Step.CONTACT,
        description="紙の受発注をやめて、在庫と一緒に管理したいです。😀",
        slot=texts.DECIDE_LATER,  # times offered; picking one is tests/line/test_slots.py
    )
    last = line.last
    assert "電話番号" in "\n".join(last.texts)
    last = user.say("099-123-4567 hanako@example.jp")
    assert "ご入力内容をご確認ください" in "\n".join(last.texts)
    done = user.tap(last, texts.SUBMIT)
    assert "受け付けました" in done.texts[0]
    answer = httpx.get(f"{server.url}/api/consultations", headers={"Authorization": f"Bearer {ADMIN}"})
    assert answer.status_code == 200
    [item] = answer.json()["items"]
    assert (item["company_name"], item["municipality"], item["municipality_code"]) == (
        "株式会社さつま製作所",
        "霧島市",
        "46218",
    )
    assert item["channel"] == "line" and item["status"] == "submitted"
    assert item["reference"] in done.texts[0]
    assert all(d.kind == "reply" for d in standin.deliveries_to(user.user_id))
    assert httpx.get(f"{server.url}/api/consultations").status_code == 401

"""承認 and 連絡先を見る from the card, end to end: a signed LINE intake, the card posted by the server to the
Slack stand-in, signed button clicks over HTTP, the card updated in place and the owner told on LINE once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from bot import texts as bot_texts
from config import DeskConfig
from config.desk import DEFAULT_CONFIG_PATH
from handlers.slack import texts
from handlers.slack.cards import APPROVE, CONTACT, DECLINE
from storage.bookings import Booking
from storage.models import ConsultationEvent, OutboxMessage
from storage.slack_cards import ContactView, card_at
from tests.line.conftest import InProcessServer, LineUser
from tests.line.standin import LineStandIn
from tests.owner import LineChannel, Owner
from tests.slack.appserver import SlackSender
from tests.slack.signing import interaction_body
from tests.slack.standin import INTAKE_CHANNEL, MANAGER, SlackStandIn

PHONE = "099-123-4567"
CONFIRMED_WORDS = "ご予約が確定しました"


@pytest.fixture
def line() -> Iterator[LineStandIn]:
    server = LineStandIn().start()
    yield server
    server.close()


@pytest.fixture
def sender() -> Iterator[Callable[[str], SlackSender]]:
    made: list[SlackSender] = []

    def make(url: str) -> SlackSender:
        made.append(SlackSender(url))
        return made[-1]

    yield make
    for one in made:
        one.close()


class Desk:
    """A server with Slack and LINE, an owner who submitted a request, and its card in the intake channel."""

    def __init__(
        self, server: InProcessServer, slack: SlackStandIn, line: LineStandIn, sender: SlackSender
    ) -> None:
        self.server, self.slack, self.line, self.sender = server, slack, line, sender
        self.owner = LineUser(server.url, line)
        channel = LineChannel(self.owner)
        Owner(channel).answer_until(None, contact=f"{PHONE} owner@example.jp")
        self.submitted_text = "\n".join(channel.last.texts)
        slack.wait_for(lambda: slack.messages(INTAKE_CHANNEL), what="the card")
        [self.card] = slack.messages(INTAKE_CHANNEL)
        # The delivery records where the card is just after Slack accepts it: a coordinator sees the card
        # only then, and a reply in its thread or a click on it a moment earlier would find no card.
        slack.wait_for(self._card_recorded, what="the card's place recorded")

    def _card_recorded(self) -> bool:
        with self.server.db.session() as session:
            return card_at(session=session, channel=INTAKE_CHANNEL, ts=self.card["ts"]) is not None

    def booking(self) -> Booking:
        with self.server.db.session() as session:
            return session.scalars(select(Booking)).one()

    def click(self, user: str, action_id: str, *, body: bytes | None = None) -> bytes:
        button = next(
            e
            for b in self.card["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if e["action_id"] == action_id
        )
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "team_id": "T0KAGOSHIMA"},
            "api_app_id": "A0MADOGUCHI",
            "token": "legacy-verification-token",
            "container": {"type": "message", "message_ts": self.card["ts"], "channel_id": INTAKE_CHANNEL},
            "trigger_id": self.slack.issue_trigger_id(user),
            "team": {"id": "T0KAGOSHIMA", "domain": "madoguchi-test"},
            "channel": {"id": INTAKE_CHANNEL, "name": "madoguchi-intake"},
            "message": self.card,
            "response_url": self.slack.issue_response_url(INTAKE_CHANNEL, user, message_ts=self.card["ts"]),
            "actions": [{**button, "block_id": "card", "action_ts": f"{time.time():.6f}"}],
        }
        sent = body or interaction_body(payload)
        response = self.sender.post(sent, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 200
        return sent

    def note_to(self, user: str, count: int = 1) -> list[str]:
        self.slack.wait_for(lambda: len(self.slack.ephemerals(user)) >= count, what=f"a note to {user}")
        return [e.text for e in self.slack.ephemerals(user)]

    def owner_heard(self, words: str) -> list[str]:
        return [t for d in self.line.deliveries_to(self.owner.user_id) for t in d.texts if words in t]


@pytest.fixture
def desk_app(
    slack_servers: Callable[..., InProcessServer],
    slack: SlackStandIn,
    line: LineStandIn,
    sender: Callable[[str], SlackSender],
) -> Desk:
    server = slack_servers(LINE_API_BASE_URL=line.url)
    return Desk(server, slack, line, sender(server.url))


def assigned(desk: DeskConfig, booking: Booking) -> tuple[str, str]:
    """The Slack ids of the booking's coordinator and of another coordinator."""
    ids = {c.id: c.slack_user_id for c in desk.scheduling.coordinators}
    mine = ids[booking.coordinator_id]
    return mine, next(v for k, v in ids.items() if k != booking.coordinator_id and v)


def test_the_owner_is_told_the_time_is_provisional_until_the_desk_confirms(desk_app: Desk) -> None:
    assert "仮のご予約" in desk_app.submitted_text and "2営業日以内" not in desk_app.submitted_text
    assert PHONE not in repr(desk_app.card["blocks"])


def test_the_assigned_coordinator_approves_the_card_updates_and_the_owner_is_told_once(
    desk_app: Desk, desk: DeskConfig
) -> None:
    mine, _ = assigned(desk, desk_app.booking())
    desk_app.click(mine, APPROVE)
    slack = desk_app.slack
    slack.wait_for(
        lambda: "承認しました" in repr(slack.messages(INTAKE_CHANNEL)[0]["blocks"]), what="the update"
    )
    [card] = slack.messages(INTAKE_CHANNEL)
    assert card["ts"] == desk_app.card["ts"] and f"<@{mine}>" in repr(card["blocks"])
    ids = [e["action_id"] for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert ids == [CONTACT]  # the decision's buttons are gone
    slack.wait_for(lambda: desk_app.owner_heard(CONFIRMED_WORDS), what="the owner told on LINE")
    [told] = desk_app.owner_heard(CONFIRMED_WORDS)
    booking = desk_app.booking()
    assert booking.status == "confirmed"
    assert "予約確認" in told and bot_texts.PLACE_ONLINE.split("（")[0] in told
    assert any(day in told for day in "月火水木金土日")


def test_a_second_click_and_a_replay_have_one_effect(desk_app: Desk, desk: DeskConfig) -> None:
    mine, _ = assigned(desk, desk_app.booking())
    first = desk_app.click(mine, APPROVE)
    desk_app.slack.wait_for(lambda: desk_app.owner_heard(CONFIRMED_WORDS), what="the owner told")
    desk_app.click(mine, APPROVE)
    desk_app.click(mine, APPROVE, body=first)  # the same signed request, replayed
    notes = desk_app.note_to(mine, 2)
    assert all("すでに対応済み" in n and "確定" in n for n in notes)
    time.sleep(0.5)  # time for a wrongly repeated effect to be delivered
    assert len(desk_app.owner_heard(CONFIRMED_WORDS)) == 1
    with desk_app.server.db.session() as session:
        kinds = list(session.scalars(select(ConsultationEvent.kind)))
        assert kinds.count("booking_confirmed") == 1
        told = session.scalars(select(OutboxMessage).where(OutboxMessage.reason == "booking_confirmed"))
        assert len(list(told)) == 2  # one to the owner (LINE), one card refresh (Slack)


def test_two_clicks_at_once_confirm_once(desk_app: Desk, desk: DeskConfig) -> None:
    mine, _ = assigned(desk, desk_app.booking())
    clicks = [threading.Thread(target=desk_app.click, args=(mine, APPROVE)) for _ in range(2)]
    for click in clicks:
        click.start()
    for click in clicks:
        click.join()
    desk_app.note_to(mine, 1)
    desk_app.slack.wait_for(lambda: desk_app.owner_heard(CONFIRMED_WORDS), what="the owner told")
    time.sleep(0.5)
    assert len(desk_app.owner_heard(CONFIRMED_WORDS)) == 1
    assert len(desk_app.slack.ephemerals(mine)) == 1


def test_someone_else_gets_a_note_and_nothing_changes(desk_app: Desk, desk: DeskConfig) -> None:
    _, other = assigned(desk, desk_app.booking())
    desk_app.click(other, APPROVE)
    assert desk_app.note_to(other) == [texts.NOT_YOURS]
    desk_app.click(other, CONTACT)
    assert desk_app.note_to(other, 2)[1] == texts.NOT_YOURS
    assert desk_app.booking().status == "requested"
    assert desk_app.slack.calls("chat.update") == [] and desk_app.owner_heard(CONFIRMED_WORDS) == []
    with desk_app.server.db.session() as session:
        assert list(session.scalars(select(ContactView))) == []


def test_the_contact_details_are_shown_to_the_coordinator_alone_and_each_viewing_is_recorded(
    desk_app: Desk, desk: DeskConfig
) -> None:
    mine, _ = assigned(desk, desk_app.booking())
    desk_app.click(mine, CONTACT)
    desk_app.click(mine, CONTACT)
    notes = desk_app.note_to(mine, 2)
    assert all(PHONE in n for n in notes)
    assert all(PHONE not in repr(m) for m in desk_app.slack.messages(INTAKE_CHANNEL))
    with desk_app.server.db.session() as session:
        views = list(session.scalars(select(ContactView)))
    assert [v.slack_user_id for v in views] == [mine, mine]


def submit_modal(desk_app: Desk, user: str, reason: str, note: str) -> None:
    [modal] = desk_app.slack.open_modals(user)
    shown = modal.as_slack()
    shown["state"] = {
        "values": {
            "reason": {"reason_choice": {"type": "static_select", "selected_option": {"value": reason}}},
            "note": {"note_text": {"type": "plain_text_input", "value": note}},
        }
    }
    payload = {
        "type": "view_submission",
        "team": {"id": "T0KAGOSHIMA", "domain": "madoguchi-test"},
        "user": {"id": user, "username": user.lower(), "team_id": "T0KAGOSHIMA"},
        "api_app_id": "A0MADOGUCHI",
        "token": "legacy-verification-token",
        "trigger_id": desk_app.slack.issue_trigger_id(user),
        "view": shown,
    }
    response = desk_app.sender.post(
        interaction_body(payload), content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200


def test_declining_asks_the_reason_tells_the_owner_politely_and_frees_the_time(
    desk_app: Desk, desk: DeskConfig
) -> None:
    booking = desk_app.booking()
    mine, other = assigned(desk, booking)
    desk_app.click(mine, DECLINE)
    desk_app.slack.wait_for(lambda: desk_app.slack.open_modals(mine), what="the modal")
    [modal] = desk_app.slack.open_modals(mine)
    assert modal.view["title"]["text"] == "お断り"
    submit_modal(desk_app, mine, "scope", "お電話でもご説明します。")
    assert desk_app.note_to(mine) == [texts.DECLINED]
    desk_app.slack.wait_for(lambda: desk_app.owner_heard("誠に申し訳ございません"), what="the owner told")
    [told] = desk_app.owner_heard("誠に申し訳ございません")
    assert bot_texts.DECLINE_REASONS["scope"] in told and "お電話でもご説明します。" in told
    assert desk_app.booking().status == "declined"  # no longer active: the time is free for others
    slack = desk_app.slack
    slack.wait_for(
        lambda: "お断りしました" in repr(slack.messages(INTAKE_CHANNEL)[0]["blocks"]), what="the update"
    )
    with desk_app.server.db.session() as session:
        details = [
            e.detail for e in session.scalars(select(ConsultationEvent)) if e.kind == "booking_declined"
        ]
    assert details == [{"booking_id": booking.id, "from": "requested", "to": "declined", "reason": "scope"}]
    desk_app.click(other, DECLINE)  # someone else may open the modal, but submitting it changes nothing
    desk_app.slack.wait_for(lambda: desk_app.slack.open_modals(other), what="the other's modal")
    submit_modal(desk_app, other, "time", "")
    assert desk_app.note_to(other) == [texts.NOT_YOURS]


def test_an_approver_may_approve_any_request(
    slack_servers: Callable[..., InProcessServer],
    slack: SlackStandIn,
    line: LineStandIn,
    sender: Callable[[str], SlackSender],
    tmp_path: Path,
) -> None:
    raw = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    raw["slack"] = {"approvers": [MANAGER]}
    config = tmp_path / "desk.yaml"
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    server = slack_servers(LINE_API_BASE_URL=line.url, MADOGUCHI_CONFIG=str(config))
    desk_app = Desk(server, slack, line, sender(server.url))
    desk_app.click(MANAGER, APPROVE)
    slack.wait_for(lambda: desk_app.owner_heard(CONFIRMED_WORDS), what="the owner told")
    assert desk_app.booking().status == "confirmed"
    slack.wait_for(
        lambda: f"<@{MANAGER}>" in repr(slack.messages(INTAKE_CHANNEL)[0]["blocks"]),
        what="the card names who",
    )

"""The simulator's whole loop over HTTP, through Slack's own handlers: 別の日時を提案 with its modal (checkboxes)
and the owner's pick on the phone; the card's thread both ways (a memo: stays); 対応記録を入力 with a
referral, the owner's consent asked on the phone and shown on the card."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot import outcome_texts as bot_outcome_texts
from bot import relay
from bot import texts as bot_texts
from bot.engine import IntakeEngine
from bot.outcomes import offer_outcome_records
from config import DeskConfig
from handlers.app import create_app
from handlers.services import Services, build_outbound
from handlers.slack import outcome, outcome_texts, retime, texts
from storage.bookings import Booking
from storage.clock import FixedClock
from storage.database import Database
from tests.conftest import make_settings
from tests.web.test_simulator import Phone, complete_intake
from tests.web.test_simulator_desk import all_text, buttons, cards, click, inbox


@pytest.fixture
def client(
    database_url: str, db: Database, desk: DeskConfig, clock: FixedClock, var_dir: Path
) -> Iterator[TestClient]:
    """The demo app with one set of senders for the engine and the handlers, as `madoguchi serve` builds it."""
    settings = make_settings(database_url, var_dir)
    outbound = build_outbound(clock, settings)
    engine = IntakeEngine(desk, clock, outbound=outbound)
    services = Services(settings=settings, desk=desk, db=db, clock=clock, engine=engine, outbound=outbound)
    with TestClient(create_app(services)) as test_client:
        yield test_client


def submit(
    client: TestClient, callback_id: str, modal: dict[str, Any], values: dict[str, Any]
) -> dict[str, Any]:
    response = client.post(
        "/sim/api/desk/view",
        json={"callback_id": callback_id, "private_metadata": modal["private_metadata"], "values": values},
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def reply(client: TestClient, consultation_id: int, text: str) -> dict[str, Any]:
    response = client.post("/sim/api/desk/reply", json={"consultation_id": consultation_id, "text": text})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_another_time_proposed_with_the_checkbox_modal_is_accepted_on_the_phone(client: TestClient) -> None:
    phone = Phone(client)
    complete_intake(phone)
    [card] = cards(client)
    modal = click(client, buttons(card)["別の日時を提案"])["modal"]
    assert modal["callback_id"] == retime.RETIME_VIEW
    [slots] = [b for b in modal["blocks"] if b.get("block_id") == retime.SLOTS_BLOCK]
    assert slots["element"]["type"] == "checkboxes" and slots["element"]["options"]

    nothing = submit(client, retime.RETIME_VIEW, modal, {})
    assert nothing == {"note": None, "errors": {retime.FREE_BLOCK: texts.RETIME_NOTHING_CHOSEN}}
    assert inbox(client) == []

    first = slots["element"]["options"][0]
    ticked = {retime.SLOTS_BLOCK: {retime.SLOTS_ACTION: {"selected_options": [{"value": first["value"]}]}}}
    assert submit(client, retime.RETIME_VIEW, modal, ticked) == {"note": texts.RETIME_SENT, "errors": None}
    response = client.post("/sim/api/inbox")
    [proposal] = response.json()["messages"]
    assert "別の日時のご提案" in proposal["text"]
    labels = [a["label"] for a in proposal["actions"]]
    assert labels[-1] == bot_texts.PROPOSAL_AGAIN and len(labels) == 2
    [proposed] = cards(client)
    assert "別の日時を提案しました" in all_text(proposed)

    phone.replies = [proposal]
    phone.tap(labels[0])
    assert "ご予約が確定しました" in phone.text
    [confirmed] = cards(client)
    assert "ご本人が提案の日時を選びました" in all_text(confirmed) and "（確定）" in all_text(confirmed)
    assert list(buttons(confirmed)) == ["連絡先を見る"]


def test_the_thread_carries_the_owners_words_and_the_coordinators_reply_but_not_a_memo(
    client: TestClient, desk: DeskConfig
) -> None:
    phone = Phone(client)
    complete_intake(phone)
    [card] = cards(client)
    assert card["thread"] == []

    phone.say("駐車場はありますか？")
    assert phone.text == relay.RELAYED  # told once that it reached the desk
    phone.say("車で伺います。")
    assert phone.replies == []
    [card] = cards(client)
    assert [m["text"] for m in card["thread"]] == ["駐車場はありますか？", "車で伺います。"]
    assert all(m["user"] is None for m in card["thread"])  # posted by the app, as in Slack

    assert reply(client, card["id"], "はい、2台分ございます。") == {"note": None}
    assert reply(client, card["id"], "memo: 駐車場を予約しておく") == {"note": None}
    assert inbox(client) == [
        relay.FROM_DESK.format(desk=desk.desk.short_name, text="はい、2台分ございます。")
    ]
    [card] = cards(client)
    thread = card["thread"]
    assert [m["text"] for m in thread[2:]] == ["はい、2台分ございます。", "memo: 駐車場を予約しておく"]
    assert thread[2]["user"] and thread[2]["user"] == thread[3]["user"]  # the demo's coordinator
    assert (
        client.post("/sim/api/desk/reply", json={"consultation_id": card["id"], "text": " "}).status_code
        == 422
    )

    client.cookies.clear()
    Phone(client).start()  # another browser can neither read nor write the thread
    assert cards(client) == []
    assert (
        client.post("/sim/api/desk/reply", json={"consultation_id": card["id"], "text": "x"}).status_code
        == 404
    )


def test_the_outcome_with_a_referral_asks_the_owner_and_the_card_shows_the_consent(
    client: TestClient, db: Database, clock: FixedClock, desk: DeskConfig
) -> None:
    phone = Phone(client)
    complete_intake(phone)
    [card] = cards(client)
    assert click(client, buttons(card)["承認"])["note"] is None
    inbox(client)
    with db.session() as session:
        booking = session.get(Booking, int(buttons(card)["承認"]["value"].split(":b")[1]))
        assert booking is not None
        clock.set(booking.ends_at + timedelta(minutes=5))
        outbound = cast(FastAPI, client.app).state.services.outbound  # the app create_app made
        assert offer_outcome_records(session, outbound, clock.now()) == 1
    [card] = cards(client)
    modal = click(client, buttons(card)[outcome_texts.BUTTON_OUTCOME])["modal"]
    assert modal["callback_id"] == outcome.OUTCOME_VIEW
    kinds = {b["block_id"]: b["element"]["type"] for b in modal["blocks"] if b["type"] == "input"}
    assert kinds["onsite"] == "radio_buttons" and kinds["partners"] == "multi_static_select"

    values: dict[str, Any] = {
        outcome.METHOD[0]: {outcome.METHOD[1]: {"selected_option": {"value": desk.methods[0].id}}},
        outcome.MINUTES[0]: {outcome.MINUTES[1]: {"value": "abc"}},
        outcome.SUMMARY[0]: {outcome.SUMMARY[1]: {"value": "受発注の流れを整理しました。"}},
        outcome.RESULT[0]: {outcome.RESULT[1]: {"selected_option": {"value": "referred"}}},
        outcome.ONSITE[0]: {outcome.ONSITE[1]: {"selected_option": {"value": "no"}}},
        outcome.PARTNERS[0]: {
            outcome.PARTNERS[1]: {"selected_options": [{"value": desk.outcomes.partners[0].id}]}
        },
    }
    refused = submit(client, outcome.OUTCOME_VIEW, modal, values)
    assert refused["errors"] == {outcome.MINUTES[0]: outcome_texts.PROBLEMS["minutes"]}
    values[outcome.MINUTES[0]] = {outcome.MINUTES[1]: {"value": "60"}}
    recorded = submit(client, outcome.OUTCOME_VIEW, modal, values)
    assert recorded == {"note": outcome_texts.RECORDED + "\n" + outcome_texts.ASKED_OWNER, "errors": None}

    question = client.post("/sim/api/inbox").json()["messages"]
    assert desk.outcomes.partners[0].name in question[-1]["text"]
    [card] = cards(client)
    assert outcome_texts.CONSENT_STATES["asked"] in all_text(card)
    phone.replies = question
    phone.tap(bot_outcome_texts.CONSENT_AGREE)
    assert phone.text == bot_outcome_texts.CONSENT_AGREED
    [card] = cards(client)
    assert outcome_texts.CONSENT_STATES["agree"] in all_text(card)

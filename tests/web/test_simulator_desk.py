"""The simulator's coordinator pane over HTTP: the Slack card of the visitor's request, its buttons acting
through Slack's own handlers as the demo's coordinator, and the owner's phone collecting what LINE would get."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from bot import texts as bot_texts
from config import DeskConfig
from handlers.slack import texts
from handlers.slack.actions import DECLINE_VIEW, NOTE_ACTION, NOTE_BLOCK, REASON_ACTION, REASON_BLOCK
from handlers.slack.cards import APPROVE, PROPOSE
from handlers.slack.reassign import PICK_ACTION, PICK_BLOCK, REASSIGN_VIEW
from handlers.web.sim_desk import NOT_HERE
from tests.owner import Owner
from tests.web.test_simulator import Phone, complete_intake


def cards(client: TestClient) -> list[dict[str, Any]]:
    response = client.get("/sim/api/desk")
    assert response.status_code == 200
    return list(response.json()["cards"])


def buttons(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    [actions] = [b for b in card["blocks"] if b["type"] == "actions"]
    return {e["text"]["text"]: e for e in actions["elements"]}


def click(client: TestClient, button: dict[str, Any]) -> dict[str, Any]:
    response = client.post(
        "/sim/api/desk/action", json={"action_id": button["action_id"], "value": button["value"]}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def inbox(client: TestClient) -> list[str]:
    response = client.post("/sim/api/inbox")
    assert response.status_code == 200
    return [m["text"] for m in response.json()["messages"]]


def all_text(card: dict[str, Any]) -> str:
    return str(card["blocks"])


def test_approve_on_the_card_confirms_and_the_phone_gets_the_confirmation_once(client: TestClient) -> None:
    phone = Phone(client)
    last = complete_intake(phone)
    [card] = cards(client)
    assert card["id"] == last["consultation_id"]
    assert "霧島テスト製作所" in all_text(card) and "紙の注文書をやめて" in all_text(card)
    assert "099-123-4567" not in all_text(card)  # contact details stay behind 連絡先を見る
    assert list(buttons(card)) == ["承認", "別の日時を提案", "担当を変更", "お断り", "連絡先を見る"]
    assert inbox(client) == []

    answer = click(client, buttons(card)["承認"])
    assert answer == {"note": None, "modal": None}  # the card itself shows the decision
    [told] = inbox(client)
    assert told.startswith("ご予約が確定しました。") and card["reference"] in told
    assert inbox(client) == []  # once

    [decided] = cards(client)
    assert "✅ 承認しました" in all_text(decided) and "（確定）" in all_text(decided)
    assert list(buttons(decided)) == ["連絡先を見る"]
    again = click(client, buttons(card)["承認"])  # a second click of the old card changes nothing
    assert again["note"] == texts.ALREADY_DECIDED.format(status=bot_texts.BOOKING_STATUS_LABELS["confirmed"])
    assert inbox(client) == []

    # The chat restored after a reload has the confirmation, once
    history = [m["text"] for m in client.get("/sim/api/history").json()["messages"]]
    assert history.count(told) == 1


def test_decline_opens_slacks_modal_and_the_phone_gets_the_polite_message(client: TestClient) -> None:
    complete_intake(Phone(client))
    [card] = cards(client)
    answer = click(client, buttons(card)["お断り"])
    modal = answer["modal"]
    assert modal["callback_id"] == DECLINE_VIEW and modal["title"]["text"] == texts.DECLINE_TITLE
    labels = [b["label"]["text"] for b in modal["blocks"]]
    assert labels == [texts.DECLINE_REASON_LABEL, texts.DECLINE_NOTE_LABEL]
    values = {
        REASON_BLOCK: {REASON_ACTION: {"selected_option": {"value": "scope"}}},
        NOTE_BLOCK: {NOTE_ACTION: {"value": "よろず支援拠点もご検討ください。"}},
    }
    submitted = client.post(
        "/sim/api/desk/view",
        json={"callback_id": DECLINE_VIEW, "private_metadata": modal["private_metadata"], "values": values},
    )
    assert submitted.status_code == 200 and submitted.json()["note"] == texts.DECLINED
    [told] = inbox(client)
    assert (
        bot_texts.DECLINE_REASONS["scope"] in told and "担当者より：よろず支援拠点もご検討ください。" in told
    )
    [decided] = cards(client)
    assert "お断りしました" in all_text(decided) and list(buttons(decided)) == ["連絡先を見る"]


def test_a_button_without_a_handler_here_says_to_try_it_in_slack(client: TestClient) -> None:
    complete_intake(Phone(client))
    [card] = cards(client)
    assert buttons(card)["別の日時を提案"]["action_id"] == PROPOSE
    unknown = {"action_id": "card_not_in_the_demo", "value": buttons(card)["承認"]["value"]}
    assert click(client, unknown) == {"note": NOT_HERE, "modal": None}


def test_another_visitor_sees_no_card_and_cannot_act_on_it(client: TestClient) -> None:
    complete_intake(Phone(client))
    [card] = cards(client)
    approve = buttons(card)["承認"]
    client.cookies.clear()
    Phone(client).start()  # a second browser
    assert cards(client) == []
    refused = client.post("/sim/api/desk/action", json={"action_id": APPROVE, "value": approve["value"]})
    assert refused.status_code == 404
    view = client.post(
        "/sim/api/desk/view",
        json={"callback_id": DECLINE_VIEW, "private_metadata": approve["value"] + "|", "values": {}},
    )
    assert view.status_code == 404
    assert inbox(client) == []


def test_reassign_picks_another_coordinator_in_slacks_modal_and_the_card_mentions_them(
    client: TestClient, desk: DeskConfig
) -> None:
    phone = Phone(client)
    phone.start()
    # A request in Kagoshima city on DX strategy: more than one coordinator of the example desk takes it
    Owner(phone).answer_until(None, municipality="鹿児島市")
    assert "受け付けました" in phone.text
    [card] = cards(client)
    modal = click(client, buttons(card)["担当を変更"])["modal"]
    assert modal["callback_id"] == REASSIGN_VIEW and modal["title"]["text"] == texts.REASSIGN_TITLE
    [pick] = [b for b in modal["blocks"] if b["type"] == "input"]
    chosen = pick["element"]["options"][0]
    values = {PICK_BLOCK: {PICK_ACTION: {"selected_option": {"value": chosen["value"]}}}}
    submitted = client.post(
        "/sim/api/desk/view",
        json={"callback_id": REASSIGN_VIEW, "private_metadata": modal["private_metadata"], "values": values},
    )
    new = desk.scheduling.coordinator(chosen["value"])
    assert new is not None
    assert submitted.json()["note"] == texts.REASSIGNED.format(who=new.name)
    [moved] = cards(client)
    assert f"<@{new.slack_user_id}>" in all_text(moved) and "担当を変更しました" in all_text(moved)
    # The pane now acts as the new coordinator: 承認 is theirs
    assert click(client, buttons(moved)["承認"])["note"] is None
    told = inbox(client)  # the owner heard of the new person in charge, then of the confirmation
    assert "担当者が変わりました" in told[0] and told[-1].startswith("ご予約が確定しました。")

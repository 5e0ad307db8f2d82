"""The Slack stand-in refuses, through the real slack_sdk client, what Slack refuses, with Slack's error, and
accepts the same thing at the limit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.slack.standin import COORDINATORS, INTAKE_CHANNEL, SlackStandIn

COORDINATOR = next(iter(COORDINATORS))
Blocks = Callable[[int], list[dict[str, Any]]]


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def actions(**button: Any) -> list[dict[str, Any]]:
    return [
        {
            "type": "actions",
            "elements": [{"type": "button", "text": plain("承認"), "action_id": "a", **button}],
        }
    ]


# What grows, its limit, and where Slack says the problem is.
MESSAGE_LIMITS: dict[str, tuple[Blocks, int, str]] = {
    "blocks in a message": (lambda n: [{"type": "divider"}] * n, 50, "/blocks"),
    "section text": (lambda n: [{"type": "section", "text": mrkdwn("相" * n)}], 3000, "/blocks/0/text/text"),
    "section fields": (lambda n: [{"type": "section", "fields": [mrkdwn("欄")] * n}], 10, "/blocks/0/fields"),
    "section field text": (
        lambda n: [{"type": "section", "fields": [mrkdwn("欄" * n)]}],
        2000,
        "/blocks/0/fields/0/text",
    ),
    "header text": (lambda n: [{"type": "header", "text": plain("見" * n)}], 150, "/blocks/0/text/text"),
    "button text": (lambda n: actions(text=plain("押" * n)), 75, "/blocks/0/elements/0/text/text"),
    "action_id": (lambda n: actions(action_id="a" * n), 255, "/blocks/0/elements/0/action_id"),
    "button value": (lambda n: actions(value="9" * n), 2000, "/blocks/0/elements/0/value"),
    "block_id": (lambda n: [{"type": "divider", "block_id": "b" * n}], 255, "/blocks/0/block_id"),
}


@pytest.mark.parametrize("what", MESSAGE_LIMITS)
def test_a_message_at_the_limit_is_posted_and_one_past_it_is_invalid_blocks(
    slack: SlackStandIn, slack_client: WebClient, what: str
) -> None:
    blocks, limit, pointer = MESSAGE_LIMITS[what]

    posted = slack_client.chat_postMessage(channel=INTAKE_CHANNEL, text="相談の申込み", blocks=blocks(limit))
    with pytest.raises(SlackApiError) as refused:
        slack_client.chat_postMessage(channel=INTAKE_CHANNEL, text="相談の申込み", blocks=blocks(limit + 1))

    assert refused.value.response["error"] == "invalid_blocks"
    assert any(
        f"[json-pointer:{pointer}]" in m for m in refused.value.response["response_metadata"]["messages"]
    )
    assert [m["blocks"] for m in slack.messages()] == [blocks(limit)]
    assert slack.message(INTAKE_CHANNEL, posted["ts"])["text"] == "相談の申込み"


def test_chat_update_is_held_to_the_same_block_limits(slack: SlackStandIn, slack_client: WebClient) -> None:
    card = slack_client.chat_postMessage(channel=INTAKE_CHANNEL, text="申込み", blocks=actions())

    with pytest.raises(SlackApiError) as refused:
        slack_client.chat_update(
            channel=INTAKE_CHANNEL, ts=card["ts"], text="承認済み", blocks=actions(text=plain("押" * 76))
        )

    assert refused.value.response["error"] == "invalid_blocks"
    assert slack.message(INTAKE_CHANNEL, card["ts"])["blocks"] == actions()


def test_text_is_truncated_past_40000_characters_with_slacks_warning(
    slack: SlackStandIn, slack_client: WebClient
) -> None:
    whole = slack_client.chat_postMessage(channel=INTAKE_CHANNEL, text="字" * 40_000)
    cut = slack_client.chat_postMessage(channel=INTAKE_CHANNEL, text="字" * 40_000 + "尾")

    assert "warning" not in whole.data
    assert cut["warning"] == "message_truncated"
    assert cut["response_metadata"]["warnings"] == ["message_truncated"]
    assert [m["text"] for m in slack.messages()] == ["字" * 40_000, "字" * 40_000]


def test_an_update_past_40000_characters_is_msg_too_long(
    slack: SlackStandIn, slack_client: WebClient
) -> None:
    card = slack_client.chat_postMessage(channel=INTAKE_CHANNEL, text="申込み")

    slack_client.chat_update(channel=INTAKE_CHANNEL, ts=card["ts"], text="字" * 40_000)
    with pytest.raises(SlackApiError) as refused:
        slack_client.chat_update(channel=INTAKE_CHANNEL, ts=card["ts"], text="字" * 40_001)

    assert refused.value.response["error"] == "msg_too_long"
    assert slack.message(INTAKE_CHANNEL, card["ts"])["text"] == "字" * 40_000


def modal(**fields: Any) -> dict[str, Any]:
    return {"type": "modal", "title": plain("日時の提案"), "blocks": [], **fields}


VIEW_LIMITS: dict[str, tuple[Callable[[int], dict[str, Any]], int, str]] = {
    "modal title": (lambda n: modal(title=plain("題" * n)), 24, "/view/title/text"),
    "submit": (lambda n: modal(submit=plain("送" * n)), 24, "/view/submit/text"),
    "close": (lambda n: modal(close=plain("閉" * n)), 24, "/view/close/text"),
    "blocks in a modal": (lambda n: modal(blocks=[{"type": "divider"}] * n), 100, "/view/blocks"),
    "section text in a modal": (
        lambda n: modal(blocks=[{"type": "section", "text": mrkdwn("相" * n)}]),
        3000,
        "/view/blocks/0/text/text",
    ),
}


@pytest.mark.parametrize("what", VIEW_LIMITS)
def test_a_modal_at_the_limit_opens_and_one_past_it_is_invalid_arguments(
    slack: SlackStandIn, slack_client: WebClient, what: str
) -> None:
    view, limit, pointer = VIEW_LIMITS[what]

    slack_client.views_open(trigger_id=slack.issue_trigger_id(COORDINATOR), view=view(limit))
    with pytest.raises(SlackApiError) as refused:
        slack_client.views_open(trigger_id=slack.issue_trigger_id(COORDINATOR), view=view(limit + 1))

    assert refused.value.response["error"] == "invalid_arguments"
    assert any(
        f"[json-pointer:{pointer}]" in m for m in refused.value.response["response_metadata"]["messages"]
    )
    assert [v.view for v in slack.open_modals(COORDINATOR)] == [view(limit)]


def test_a_home_tab_holds_100_blocks_and_not_101(slack: SlackStandIn, slack_client: WebClient) -> None:
    home = {"type": "home", "blocks": [{"type": "divider"}] * 100}

    slack_client.views_publish(user_id=COORDINATOR, view=home)
    with pytest.raises(SlackApiError) as refused:
        slack_client.views_publish(user_id=COORDINATOR, view={**home, "blocks": [{"type": "divider"}] * 101})

    assert refused.value.response["error"] == "invalid_arguments"
    published = slack.home(COORDINATOR)
    assert published is not None and len(published.view["blocks"]) == 100


def test_a_modal_with_an_input_needs_a_submit_button(slack: SlackStandIn, slack_client: WebClient) -> None:
    reason = {
        "type": "input",
        "block_id": "reason",
        "label": plain("お断りの理由"),
        "element": {"type": "plain_text_input", "action_id": "text", "multiline": True},
    }

    with pytest.raises(SlackApiError) as refused:
        slack_client.views_open(trigger_id=slack.issue_trigger_id(COORDINATOR), view=modal(blocks=[reason]))
    slack_client.views_open(
        trigger_id=slack.issue_trigger_id(COORDINATOR), view=modal(blocks=[reason], submit=plain("送信"))
    )

    assert refused.value.response["error"] == "invalid_arguments"
    assert [v.view["submit"] for v in slack.open_modals(COORDINATOR)] == [plain("送信")]


def test_an_input_block_in_a_message_and_duplicate_ids_are_invalid_blocks(slack_client: WebClient) -> None:
    field = {"type": "input", "label": plain("理由"), "element": {"type": "plain_text_input"}}
    same_block_id = [{"type": "divider", "block_id": "same"}, {"type": "divider", "block_id": "same"}]
    button = actions()[0]["elements"][0]
    same_action_id = [{"type": "actions", "elements": [button, {**button, "text": plain("お断り")}]}]

    for blocks in ([field], same_block_id, same_action_id):
        with pytest.raises(SlackApiError) as refused:
            slack_client.chat_postMessage(channel=INTAKE_CHANNEL, text="申込み", blocks=blocks)
        assert refused.value.response["error"] == "invalid_blocks"

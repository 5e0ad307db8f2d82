"""The signing helper signs as Slack does (slack_sdk's own verifier agrees), and a bolt app given a client on
the stand-in answers a signed slash command through it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from typing import Any

from slack_bolt import Ack, App, BoltRequest
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltRequest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tests.slack.signing import (
    SIGNING_SECRET,
    command_body,
    event_body,
    interaction_body,
    signed_headers,
)
from tests.slack.standin import BOT_TOKEN, COORDINATORS, INTAKE_CHANNEL, SlackStandIn

COORDINATOR = next(iter(COORDINATORS))
VERIFIER = SignatureVerifier(SIGNING_SECRET)


def bolt_headers(body: bytes, secret: str = SIGNING_SECRET) -> dict[str, str | Sequence[str]]:
    return dict(signed_headers(body, secret=secret))


def test_slack_sdks_verifier_accepts_what_the_helper_signs() -> None:
    bodies = [
        event_body({"type": "message", "text": "承知しました"}, event_id="Ev0001"),
        interaction_body({"type": "block_actions", "actions": [{"action_id": "approve", "value": "42"}]}),
        command_body("/madoguchi", "today", user_id=COORDINATOR, channel_id=INTAKE_CHANNEL),
    ]

    assert [VERIFIER.is_valid_request(body, signed_headers(body)) for body in bodies] == [True, True, True]
    assert json.loads(bodies[0])["event_id"] == "Ev0001"


def test_a_changed_body_another_secret_or_a_stale_timestamp_is_refused() -> None:
    body = command_body("/madoguchi", "today", user_id=COORDINATOR, channel_id=INTAKE_CHANNEL)
    now = int(time.time())

    assert VERIFIER.is_valid_request(body, signed_headers(body, timestamp=now - 240)) is True
    assert VERIFIER.is_valid_request(body, signed_headers(body, timestamp=now - 360)) is False
    assert VERIFIER.is_valid_request(body + b"&x=1", signed_headers(body)) is False
    assert VERIFIER.is_valid_request(body, signed_headers(body, secret="another-secret")) is False


def test_a_bolt_app_answers_a_signed_command_through_the_standin(slack: SlackStandIn) -> None:
    app = App(
        signing_secret=SIGNING_SECRET,
        token=BOT_TOKEN,
        client=WebClient(token=BOT_TOKEN, base_url=slack.api_url),
        token_verification_enabled=False,
        process_before_response=True,
    )

    @app.command("/madoguchi")
    def today(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.chat_postEphemeral(
            channel=body["channel_id"], user=body["user_id"], text="本日の予定はありません"
        )

    body = command_body("/madoguchi", "today", user_id=COORDINATOR, channel_id=INTAKE_CHANNEL)
    forged = app.dispatch(BoltRequest(body=body.decode(), headers=bolt_headers(body, "forged")))
    signed = app.dispatch(BoltRequest(body=body.decode(), headers=bolt_headers(body)))

    assert (forged.status, signed.status) == (401, 200)
    assert [c.method for c in slack.calls()] == ["auth.test", "chat.postEphemeral"]
    assert [(e.user, e.text) for e in slack.ephemerals()] == [(COORDINATOR, "本日の予定はありません")]


def test_an_async_bolt_app_opens_a_modal_on_the_standin(slack: SlackStandIn) -> None:
    trigger = slack.issue_trigger_id(COORDINATOR)
    view = {"type": "modal", "title": {"type": "plain_text", "text": "日時の提案"}, "blocks": []}
    click = {
        "type": "block_actions",
        "user": {"id": COORDINATOR},
        "team": {"id": "T0KAGOSHIMA"},
        "trigger_id": trigger,
        "actions": [{"action_id": "propose", "block_id": "card", "type": "button", "value": "42"}],
    }

    async def click_propose() -> int:
        app = AsyncApp(
            signing_secret=SIGNING_SECRET,
            token=BOT_TOKEN,
            client=AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url),
            process_before_response=True,
        )

        @app.action("propose")
        async def propose(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
            await ack()
            await client.views_open(trigger_id=body["trigger_id"], view=view)

        body = interaction_body(click)
        response = await app.async_dispatch(AsyncBoltRequest(body=body.decode(), headers=bolt_headers(body)))
        return response.status

    assert asyncio.run(click_propose()) == 200
    assert [v.view["title"]["text"] for v in slack.open_modals(COORDINATOR)] == ["日時の提案"]

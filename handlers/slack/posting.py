"""The delivery's two writes to a channel: a paced chat.postMessage (a card, a notice or the monthly post, the
outbox row's or the consultation's id in its metadata) and the chat.update that shows a card as it stands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.web import SlackResponse

from handlers.slack.cards import Card
from handlers.slack.pacing import Pacer


@dataclass(frozen=True)
class Posted:
    channel: str
    ts: str
    via: str  # posted, updated, adopted


def post_message(
    client: WebClient,
    pacer: Pacer,
    channel: str,
    text: str,
    blocks: Any,
    metadata: Any,
    thread_ts: str | None = None,
) -> SlackResponse:
    """One message, paced to the channel's posting limit, with the outbox id in its metadata."""
    with pacer.post(channel):
        return client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            text=text,
            blocks=blocks,
            metadata=metadata,
            unfurl_links=False,
            unfurl_media=False,
        )


def update_card(client: WebClient, where: tuple[str, str], card: Card) -> None:
    """Shows the card as it stands in its message (channel, ts)."""
    client.chat_update(
        channel=where[0], ts=where[1], text=card.text, blocks=card.blocks, metadata=card.metadata
    )

"""Finding in Slack what an earlier attempt posted without recording it (Slack has no idempotency key): a card
by the consultation id in its metadata, in the channel's recent history; a message by its outbox row's id,
in its thread or channel."""

from __future__ import annotations

from slack_sdk import WebClient

from handlers.slack.cards import METADATA_TYPE
from handlers.slack.notices import Place, posted_from

HISTORY_PAGES = 3  # pages of 200 messages searched for a card posted before


def find_card(client: WebClient, channel: str, consultation_id: int) -> str | None:
    """The `ts` of this consultation's card in the channel's recent history, if it is there."""
    cursor: str | None = None
    for _ in range(HISTORY_PAGES):
        page = client.conversations_history(
            channel=channel, limit=200, include_all_metadata=True, cursor=cursor
        )
        for message in page.get("messages") or []:
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if (
                metadata.get("event_type") == METADATA_TYPE
                and payload.get("consultation_id") == consultation_id
            ):
                return str(message["ts"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return None
    return None


def find_message(client: WebClient, place: Place, outbox_id: int) -> str | None:
    """The `ts` of a message posted from this row before, in its thread or its channel's recent history."""
    if place.thread_ts is not None:
        page = client.conversations_replies(
            channel=place.channel, ts=place.thread_ts, limit=200, include_all_metadata=True
        )
    else:
        page = client.conversations_history(channel=place.channel, limit=200, include_all_metadata=True)
    for message in page.get("messages") or []:
        if posted_from(message, outbox_id):
            return str(message["ts"])
    return None

"""A coordinator's reply in a card's thread reaches the owner (bot/relay.py): the Events API's `message`
event (subscription `message.channels`), handled once per event_id after the ack.

What is relayed: a person's message in the thread of a card, from one who may act on its request (the
assigned coordinator or an approver); anyone else gets an ephemeral note and nothing is sent. A message
starting with `memo:` or `メモ:` stays in Slack. Bots' messages (the app's own too) are ignored; an edit or
a deletion of a message is not passed on, and the thread is told so once. What reaches the owner is
queued before Slack is answered (handlers/slack/events.py), so a failure there is delivered again by
Slack, not lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.orm import Session

from bot import relay
from config.slack import may_act
from handlers.services import Services
from handlers.slack.events import STORED, on_event
from storage.bookings import Booking, get_active_booking
from storage.slack_cards import card_at

log = logging.getLogger(__name__)
CHANGES = ("message_changed", "message_deleted")  # not passed on; said once in the thread
NOT_YOURS = "このスレッドからお客様にメッセージを送れるのは、担当のコーディネーターと承認者です。（送信されていません）"
NOT_SENT = "お客様にLINEでお送りできませんでした（ブロックされているか、LINE以外の受付です）。お電話などでご連絡ください。"


@dataclass(frozen=True)
class ThreadMessage:
    """A message in a thread, as the relay needs it."""

    channel: str
    thread_ts: str
    user: str
    text: str


def _by_person(message: dict[str, Any]) -> bool:
    return bool(message.get("user")) and not message.get("bot_id") and not message.get("app_id")


def in_thread(event: dict[str, Any]) -> ThreadMessage | None:
    """A person's new reply in a thread (not the thread's parent), or None."""
    if event.get("subtype") not in (None, "thread_broadcast", "file_share") or not _by_person(event):
        return None
    thread_ts, ts = event.get("thread_ts"), event.get("ts")
    channel = event.get("channel")
    if not isinstance(thread_ts, str) or not isinstance(channel, str) or thread_ts == ts:
        return None
    return ThreadMessage(channel, thread_ts, str(event["user"]), str(event.get("text") or ""))


def changed_in_thread(event: dict[str, Any]) -> tuple[str, str] | None:
    """The (channel, thread ts) of a person's thread reply that was edited or deleted, or None."""
    if event.get("subtype") not in CHANGES:
        return None
    before = event.get("previous_message") or {}
    after = event.get("message") or {}
    original = before or after
    if not isinstance(original, dict) or not _by_person(original):
        return None
    if event.get("subtype") == "message_changed" and after.get("text") == before.get("text"):
        return None  # an unfurl or a reply count changed, not the words
    thread_ts, channel = original.get("thread_ts"), event.get("channel")
    if not isinstance(thread_ts, str) or not isinstance(channel, str) or thread_ts == original.get("ts"):
        return None
    return channel, thread_ts


def relay_reply(session: Session, services: Services, message: ThreadMessage) -> str | None:
    """Sends the reply to the owner when its writer may; the ephemeral note for them otherwise (None:
    sent, or nothing to do)."""
    if relay.is_memo(message.text) or not message.text.strip():
        return None
    card = card_at(session=session, channel=message.channel, ts=message.thread_ts)
    if card is None:
        return None
    return reply_to_owner(session, services, card.consultation_id, message.user, message.text)


def reply_to_owner(
    session: Session, services: Services, consultation_id: int, user: str, text: str
) -> str | None:
    """Sends a reply written in the thread of the consultation's card to its owner, when `user` may; the
    note for them otherwise (None: sent, or a memo or nothing to send). The simulator's pane calls it too."""
    if relay.is_memo(text) or not text.strip():
        return None
    booking: Booking | None = get_active_booking(session=session, consultation_id=consultation_id)
    if not may_act(services.desk, user, booking):
        return NOT_YOURS
    sent = relay.relay_to_owner(
        session=session,
        outbound=services.outbound,
        consultation_id=consultation_id,
        text=text,
        desk_name=services.desk.desk.short_name,
    )
    if not sent:
        return NOT_SENT
    log.info("a coordinator's reply relayed to the owner of consultation %s", consultation_id)
    return None


def note_change(session: Session, services: Services, channel: str, thread_ts: str) -> None:
    card = card_at(session=session, channel=channel, ts=thread_ts)
    if card is not None:
        relay.note_edits_not_passed_on(
            session=session,
            outbound=services.outbound,
            consultation_id=card.consultation_id,
            now=services.clock.now(),
        )


@dataclass(frozen=True)
class Relayed:
    """What the message event did in the database: the ephemeral note its writer is owed, if any."""

    note: str | None = None
    message: ThreadMessage | None = None


def store_message(session: Session, services: Services, event: dict[str, Any]) -> Relayed:
    """The message event's effect, in the transaction that claims it: a reply queued for the owner, or
    the thread told once that an edit is not passed on."""
    changed = changed_in_thread(event)
    if changed is not None:
        note_change(session, services, *changed)
        return Relayed()
    message = in_thread(event)
    if message is None:
        return Relayed()
    return Relayed(relay_reply(session, services, message), message)


def register(app: AsyncApp, services: Services) -> list[str]:
    """Registers the thread relay; returns the events registered."""

    async def on_message(event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient) -> None:
        done: Relayed | None = context.get(STORED)
        if done is not None and done.note and done.message is not None:
            message = done.message
            await client.chat_postEphemeral(
                channel=message.channel, user=message.user, text=done.note, thread_ts=message.thread_ts
            )

    on_event(app, services, "message", on_message, durable=store_message)
    return ["message"]

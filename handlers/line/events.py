"""LINE webhook events (as stored, raw JSON) to the engine's neutral inbound messages and their effects."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from bot.engine import IntakeEngine, Turn
from bot.messages import Inbound
from storage.channels import Channel
from storage.contacts import find_contact, get_or_create_contact
from storage.inbox import redact_unsent_message
from storage.models import Contact

CHANNEL = Channel.LINE
MEDIA_KINDS = ("image", "video", "audio", "file", "sticker")
MAX_TIMESTAMP = 2**53  # LINE's are milliseconds since 1970; anything larger is not a time


@dataclass(frozen=True)
class LineEvent:
    """The parts of one LINE event the desk uses."""

    type: str
    user_id: str | None
    reply_token: str | None
    timestamp: int
    message_id: str | None = None
    inbound: Inbound | None = None
    unsent_message_id: str | None = None
    active: bool = True  # false for "standby" events, which another channel answers


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _coordinate(value: Any) -> str:
    """A latitude or longitude as text; "" for anything but a finite number (a JSON true is not one)."""
    if type(value) not in (int, float) or not math.isfinite(value):
        return ""
    return str(value)


def timestamp_of(raw: dict[str, Any]) -> int:
    """The event's time in LINE's milliseconds; 0 (unknown) for anything but a whole number in range.

    Strictly an int: Python's bool is one (true would be stored as 1, and PostgreSQL refuses it in a
    BIGINT), a float or a numeric string is not LINE's.
    """
    value = raw.get("timestamp")
    return value if type(value) is int and 0 < value < MAX_TIMESTAMP else 0


def to_inbound(raw: dict[str, Any]) -> Inbound | None:
    """The neutral inbound message of a message or postback event, None for other events."""
    if raw.get("type") == "postback":
        postback = _obj(raw.get("postback"))
        params = _obj(postback.get("params"))
        texts = {k: v for k, v in params.items() if isinstance(v, str)}  # LINE's are all strings
        return Inbound("postback", data=_text(postback.get("data")), params=texts)
    if raw.get("type") != "message" or not isinstance(raw.get("message"), dict):
        return None
    message = raw["message"]
    kind = _text(message.get("type"))
    message_id = _text(message.get("id"))[:64] or None
    if kind == "text":
        return Inbound("text", text=_text(message.get("text")), message_id=message_id)
    if kind == "location":
        place = {k: _text(message.get(k)) for k in ("title", "address")}
        place |= {k: _coordinate(message.get(k)) for k in ("latitude", "longitude")}
        return Inbound("location", params={k: v for k, v in place.items() if v}, message_id=message_id)
    return Inbound(kind if kind in MEDIA_KINDS else "file", message_id=message_id)


def read_event(raw: dict[str, Any]) -> LineEvent:
    """Reads a stored event; unknown types and fields are tolerated, never an error."""
    source = _obj(raw.get("source"))
    user_id = _text(source.get("userId")) if source.get("type") == "user" else ""
    message = _obj(raw.get("message"))
    unsend = _obj(raw.get("unsend"))
    return LineEvent(
        type=_text(raw.get("type")),
        user_id=user_id or None,
        reply_token=_text(raw.get("replyToken")) or None,
        timestamp=timestamp_of(raw),
        message_id=_text(message.get("id")) or None,
        inbound=to_inbound(raw),
        unsent_message_id=_text(unsend.get("messageId")) or None,
        active=raw.get("mode", "active") != "standby",
    )


@dataclass
class Effect:
    """What handling one event produced: the replies to send and to whom."""

    contact: Contact | None = None
    turn: Turn | None = None


def apply_event(*, session: Session, engine: IntakeEngine, event: LineEvent) -> Effect:
    """Gives one event its effect inside the caller's transaction."""
    if not event.user_id or not event.active:
        return Effect()
    if event.type == "follow":
        contact = get_or_create_contact(session=session, channel=CHANNEL, external_id=event.user_id)
        contact.reachable = True
        return Effect(contact, engine.greet(session=session, contact=contact, channel=CHANNEL))
    if event.type == "unfollow":
        found = find_contact(session=session, channel=CHANNEL, external_id=event.user_id)
        if found is not None:
            found.reachable = False
        return Effect(found)
    if event.type == "unsend" and event.unsent_message_id:
        found = find_contact(session=session, channel=CHANNEL, external_id=event.user_id)
        session.flush()
        redact_unsent_message(
            session=session,
            channel=CHANNEL,
            user_id=event.user_id,
            contact_id=found.id if found else None,
            message_id=event.unsent_message_id,
        )
        return Effect(found)
    if event.inbound is None:
        return Effect()
    contact = get_or_create_contact(session=session, channel=CHANNEL, external_id=event.user_id)
    contact.reachable = True  # a message means the owner follows the account (again)
    turn = engine.handle(session=session, contact=contact, inbound=event.inbound, channel=CHANNEL)
    return Effect(contact, turn)

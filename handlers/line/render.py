"""Neutral messages to LINE messages (linebot.v3), refused here when LINE would refuse them.

The one copy of LINE's message limits: the LINE sender checks what it queues with them, the delivery
renders with them, and `CAPACITY` tells the conversation how many buttons a LINE message shows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from linebot.v3.messaging import (
    DatetimePickerAction,
    PostbackAction,
    QuickReply,
    QuickReplyItem,
    TextMessage,
)

from bot.messages import Button, DatePicker, MessageLimitError, OutMessage
from bot.sending import Capacity

MAX_MESSAGES = 5
MAX_QUICK_REPLIES = 13
MAX_LABEL = 20
MAX_TEXT = 5000
MAX_DATA = 300
MAX_DISPLAY_TEXT = 300
CAPACITY = Capacity(buttons=MAX_QUICK_REPLIES, messages=MAX_MESSAGES, text=MAX_TEXT)
_PICKER_VALUE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")


def _label(label: str) -> str:
    if not 1 <= len(label) <= MAX_LABEL:
        raise MessageLimitError(f"LINE action labels are 1 to {MAX_LABEL} characters")
    return label


def _data(data: str) -> str:
    if len(data) > MAX_DATA:
        raise MessageLimitError(f"LINE postback data is at most {MAX_DATA} characters")
    return data


def _picker_value(value: str | None) -> str | None:
    if value is not None and not _PICKER_VALUE.match(value):
        raise MessageLimitError("datetime picker values are YYYY-MM-DDTHH:mm")
    return value


def render_action(action: Button | DatePicker) -> PostbackAction | DatetimePickerAction:
    """A quick-reply action: a postback button, or a date-and-time picker."""
    if isinstance(action, DatePicker):
        return DatetimePickerAction(
            label=_label(action.label),
            data=_data(action.data),
            mode="datetime",
            initial=_picker_value(action.initial),
            min=_picker_value(action.min),
            max=_picker_value(action.max),
        )
    shown = action.shown
    if len(shown) > MAX_DISPLAY_TEXT:
        raise MessageLimitError(f"LINE display texts are at most {MAX_DISPLAY_TEXT} characters")
    return PostbackAction(label=_label(action.label), data=_data(action.data), display_text=shown)


def check_message(message: OutMessage) -> None:
    """MessageLimitError for what LINE would refuse of a message, without building it (thousands at once)."""
    if not 1 <= len(message.text) <= MAX_TEXT:
        raise MessageLimitError(f"LINE texts are 1 to {MAX_TEXT} characters")
    if len(message.actions) > MAX_QUICK_REPLIES:
        raise MessageLimitError(f"LINE allows at most {MAX_QUICK_REPLIES} quick replies")
    for action in message.actions:
        _label(action.label)
        _data(action.data)
        if isinstance(action, DatePicker):
            for value in (action.initial, action.min, action.max):
                _picker_value(value)
        elif len(action.shown) > MAX_DISPLAY_TEXT:
            raise MessageLimitError(f"LINE display texts are at most {MAX_DISPLAY_TEXT} characters")


def check_messages(messages: Sequence[OutMessage]) -> None:
    """MessageLimitError for what LINE would refuse of one reply or push (render_messages checks the same)."""
    if not 1 <= len(messages) <= MAX_MESSAGES:
        raise MessageLimitError(f"a LINE reply or push carries 1 to {MAX_MESSAGES} messages")
    for message in messages:
        check_message(message)


def render_message(message: OutMessage) -> TextMessage:
    """A text message, with its actions as quick replies."""
    check_message(message)
    quick_reply = None
    if message.actions:
        quick_reply = QuickReply(items=[QuickReplyItem(action=render_action(a)) for a in message.actions])
    return TextMessage(text=message.text, quick_reply=quick_reply)


def render_messages(messages: Sequence[OutMessage | dict[str, Any]]) -> list[TextMessage]:
    """The LINE messages of one reply or push (outbox rows hold the neutral messages as dicts)."""
    if not 1 <= len(messages) <= MAX_MESSAGES:
        raise MessageLimitError(f"a LINE reply or push carries 1 to {MAX_MESSAGES} messages")
    return [render_message(m if isinstance(m, OutMessage) else OutMessage.from_dict(m)) for m in messages]

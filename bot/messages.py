"""The channel-neutral messages the engine returns and the events it receives.

LINE's limits are checked here, where messages are built, so nothing LINE would refuse is ever queued.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_MESSAGES_PER_REPLY = 5
MAX_QUICK_REPLIES = 13
MAX_LABEL = 20
MAX_TEXT = 5000
MAX_DATA = 300


class MessageLimitError(ValueError):
    """A message would break a platform limit."""


def _check_action(label: str, data: str) -> None:
    if not label or len(label) > MAX_LABEL:
        raise MessageLimitError(f"button label must be 1 to {MAX_LABEL} characters: {label!r}")
    if len(data) > MAX_DATA:
        raise MessageLimitError(f"postback data over {MAX_DATA} characters")


@dataclass(frozen=True)
class Button:
    """A quick-reply button: a short label, the postback data it sends, the text shown as the owner's."""

    label: str
    data: str
    display: str | None = None

    def __post_init__(self) -> None:
        _check_action(self.label, self.data)
        if self.display is not None and len(self.display) > 300:
            raise MessageLimitError("display text over 300 characters")

    @property
    def shown(self) -> str:
        return self.display or self.label


@dataclass(frozen=True)
class DatePicker:
    """A button that opens a date-and-time picker; values are local (Asia/Tokyo) `YYYY-MM-DDTHH:mm`."""

    label: str
    data: str
    initial: str | None = None
    min: str | None = None
    max: str | None = None

    def __post_init__(self) -> None:
        _check_action(self.label, self.data)


Action = Button | DatePicker


@dataclass(frozen=True)
class OutMessage:
    """One text message with optional quick-reply actions."""

    text: str
    actions: tuple[Action, ...] = ()

    def __post_init__(self) -> None:
        if not self.text or len(self.text) > MAX_TEXT:
            raise MessageLimitError(f"text must be 1 to {MAX_TEXT} characters")
        if len(self.actions) > MAX_QUICK_REPLIES:
            raise MessageLimitError(f"at most {MAX_QUICK_REPLIES} quick replies, got {len(self.actions)}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, for the outbox and the browser simulator."""
        actions: list[dict[str, Any]] = []
        for a in self.actions:
            if isinstance(a, Button):
                actions.append({"type": "button", "label": a.label, "data": a.data, "display": a.shown})
            else:
                actions.append(
                    {
                        "type": "datetime",
                        "label": a.label,
                        "data": a.data,
                        "initial": a.initial,
                        "min": a.min,
                        "max": a.max,
                    }
                )
        return {"text": self.text, "actions": actions}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> OutMessage:
        actions: list[Action] = []
        for a in raw.get("actions", []):
            if a["type"] == "button":
                actions.append(Button(a["label"], a["data"], a.get("display")))
            else:
                actions.append(
                    DatePicker(a["label"], a["data"], a.get("initial"), a.get("min"), a.get("max"))
                )
        return cls(raw["text"], tuple(actions))


def check_reply(messages: list[OutMessage]) -> list[OutMessage]:
    """Returns the messages if one reply may carry them."""
    if len(messages) > MAX_MESSAGES_PER_REPLY:
        raise MessageLimitError(f"at most {MAX_MESSAGES_PER_REPLY} messages a reply, got {len(messages)}")
    return messages


@dataclass(frozen=True)
class Inbound:
    """What the owner sent, whatever the channel.

    kind: text, postback, sticker, image, video, audio, file, location, follow.
    """

    kind: str
    text: str = ""
    data: str = ""
    params: dict[str, str] = field(default_factory=dict)
    message_id: str | None = None  # the channel's id of the message (LINE's), so an unsent one can be removed

    @classmethod
    def typed(cls, text: str) -> Inbound:
        return cls("text", text=text)

    @classmethod
    def tapped(cls, button: Button) -> Inbound:
        return cls("postback", text=button.shown, data=button.data)

    def log_text(self) -> str:
        """What the interaction log keeps of this message."""
        if self.kind in ("text", "postback"):
            return self.text or self.data
        if self.params:
            return " ".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        return f"[{self.kind}]"

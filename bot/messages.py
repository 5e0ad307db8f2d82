"""The channel-neutral messages the engine returns and the events it receives.

Only neutral sanity is checked here (a text says something, a button has a short label: the desk's own
rule, config.desk.BUTTON_LABEL_MAX). What a platform would refuse is each channel's renderer's to check, when
the message is queued for it (handlers/line/render.py for LINE); how many buttons fit is the channel's
`Capacity` (bot/sending.py), which the steps page by.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from config.desk import BUTTON_LABEL_MAX


class MessageLimitError(ValueError):
    """A message would break a limit: the desk's own, or its channel's."""


def _check_action(label: str) -> None:
    if not label or len(label) > BUTTON_LABEL_MAX:
        raise MessageLimitError(f"button label must be 1 to {BUTTON_LABEL_MAX} characters: {label!r}")


@dataclass(frozen=True)
class Button:
    """A quick-reply button: a short label, the postback data it sends, the text shown as the owner's."""

    label: str
    data: str
    display: str | None = None

    def __post_init__(self) -> None:
        _check_action(self.label)

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
        _check_action(self.label)


Action = Button | DatePicker


@dataclass(frozen=True)
class OutMessage:
    """One text message with optional quick-reply actions."""

    text: str
    actions: tuple[Action, ...] = ()

    def __post_init__(self) -> None:
        if not self.text:
            raise MessageLimitError("a message says something: its text is empty")

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

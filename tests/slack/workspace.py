"""The workspace the Slack stand-in keeps: channels and their messages, threads, ephemeral messages, users
and DMs, and the chat.* and conversations.* methods over them, answering as Slack does.

Each method takes the call's arguments (already decoded from JSON, a form or the query string) and returns
Slack's answer, or raises `SlackError` with Slack's `error`. Views and files are in `surfaces.py`.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any

from tests.slack.blockkit import message_blocks

TEAM_ID = "T0KAGOSHIMA"
BOT_USER = "U0MADOGUCHI"
BOT_ID = "B0MADOGUCHI"
APP_ID = "A0MADOGUCHI"
WORKSPACE_URL = "https://madoguchi-test.slack.com/"
TEXT_LIMIT = 40_000
_TRUNCATED = (
    "[WARN] Your message was truncated but still posted. The `text` field accepts up to 40,000 characters."
)


class SlackError(Exception):
    """Slack's `ok: false` answer: `error`, and anything Slack adds (`response_metadata`, `errors`)."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra

    def answer(self) -> dict[str, Any]:
        return {"ok": False, "error": self.error, **self.extra}


def invalid(error: str, problems: list[str]) -> SlackError:
    """`invalid_blocks` or `invalid_arguments` with Slack's messages (`[ERROR] … [json-pointer:…]`)."""
    return SlackError(
        error,
        errors=[p.removeprefix("[ERROR] ") for p in problems],
        response_metadata={"messages": problems},
    )


@dataclass
class Message:
    channel: str
    ts: str
    user: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    metadata: dict[str, Any] | None = None
    files: list[dict[str, Any]] | None = None
    by_app: bool = True
    broadcast: bool = False
    edited_ts: str | None = None
    replies: list[str] = field(default_factory=list)  # a parent's replies, oldest first
    deleted: bool = False

    def as_slack(self, workspace: Workspace, *, metadata: bool = True) -> dict[str, Any]:
        """The message as conversations.history and conversations.replies show it."""
        shown: dict[str, Any] = {"type": "message", "ts": self.ts, "user": self.user, "text": self.text}
        if self.deleted:
            shown.update(subtype="tombstone", text="This message was deleted.", user="USLACKBOT")
        if self.by_app:
            shown.update(bot_id=BOT_ID, app_id=APP_ID, team=TEAM_ID)
        if self.blocks and not self.deleted:
            shown["blocks"] = self.blocks
        if self.files:
            shown.update(files=self.files, upload=True)
        if self.broadcast:
            shown["subtype"] = "thread_broadcast"
        if self.thread_ts is not None:
            shown["thread_ts"] = self.thread_ts
            parent = workspace.channels[self.channel].messages.get(self.thread_ts)
            if parent is not None:  # a reply to a ts Slack never had shows in no thread
                shown["parent_user_id"] = parent.user
        elif self.replies:
            replies = [workspace.message(self.channel, ts) for ts in self.replies]
            users = list(dict.fromkeys(r.user for r in replies))
            shown.update(
                thread_ts=self.ts,
                reply_count=len(replies),
                reply_users=users,
                reply_users_count=len(users),
                latest_reply=self.replies[-1],
            )
        if self.edited_ts is not None:
            shown["edited"] = {"user": self.user, "ts": self.edited_ts}
        if self.metadata is not None and not self.deleted:
            # Without include_all_metadata Slack names the event type but leaves out the payload.
            shown["metadata"] = self.metadata if metadata else {"event_type": self.metadata["event_type"]}
        return shown


@dataclass
class Ephemeral:
    """A message only `user` sees: never in history, recorded apart."""

    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]] | None
    thread_ts: str | None
    message_ts: str


@dataclass
class Channel:
    id: str
    name: str
    messages: dict[str, Message] = field(default_factory=dict)  # ts -> message, in posting order
    im_user: str | None = None
    member: bool = True  # the app is in the channel (else posting and reading it is not_in_channel)


def flag(value: Any) -> bool:
    """A boolean argument as the SDK sends it: true, 1, "1" or "true"."""
    return value is True or value == 1 or str(value).lower() in ("1", "true")


def structured(args: dict[str, Any], name: str, error: str) -> Any:
    """An argument that is JSON (sent as a string in a form, as itself in a JSON body)."""
    value = args.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise SlackError(error) from None
    return value


def _cursor(ts: str) -> str:
    return base64.b64encode(f"next_ts:{ts}".encode()).decode()


def _from_cursor(cursor: str) -> str:
    try:
        decoded = base64.b64decode(cursor, validate=True).decode()
    except ValueError:
        raise SlackError("invalid_cursor") from None
    if not re.fullmatch(r"next_ts:\d+\.\d{6}", decoded):
        raise SlackError("invalid_cursor")
    return decoded.removeprefix("next_ts:")


def _window(args: dict[str, Any]) -> tuple[float, float, bool]:
    try:
        oldest = float(args.get("oldest") or 0)
        latest = float(args.get("latest") or "inf")
    except ValueError:
        raise SlackError("invalid_ts_oldest" if "oldest" in args else "invalid_ts_latest") from None
    return oldest, latest, flag(args.get("inclusive"))


def _in_window(ts: str, window: tuple[float, float, bool]) -> bool:
    oldest, latest, inclusive = window
    value = float(ts)
    return (oldest <= value <= latest) if inclusive else (oldest < value < latest)


def _limit(args: dict[str, Any], default: int, most: int) -> int:
    try:
        limit = int(args.get("limit") or default)
    except ValueError:
        raise SlackError("invalid_limit") from None
    return max(1, min(limit, most))


class Workspace:
    """Channels, users and messages; one lock outside guards it all."""

    def __init__(self, clock_us: Any) -> None:
        self._clock_us = clock_us  # () -> int microseconds, the source of message timestamps
        self._last_us = 0
        self.channels: dict[str, Channel] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.ephemerals: list[Ephemeral] = []

    def next_ts(self) -> str:
        """A message timestamp as Slack writes it ("1700000000.000100"), unique and increasing."""
        self._last_us = max(self._last_us + 1, self._clock_us())
        return f"{self._last_us // 1_000_000}.{self._last_us % 1_000_000:06d}"

    # Look-ups
    def channel(self, ref: Any) -> Channel:
        """A channel by id, by name (with or without #), or a user id's DM with the app."""
        if isinstance(ref, str):
            if ref in self.channels:
                return self.channels[ref]
            if ref in self.users:
                return self.open_im(ref)
            for channel in self.channels.values():
                if channel.name == ref.removeprefix("#") and channel.im_user is None:
                    return channel
        raise SlackError("channel_not_found")

    def joined(self, ref: Any) -> Channel:
        """A channel the app may post to and read."""
        channel = self.channel(ref)
        if not channel.member:
            raise SlackError("not_in_channel")
        return channel

    def message(self, channel: str, ts: Any) -> Message:
        found = self.channels[channel].messages.get(ts) if isinstance(ts, str) else None
        if found is None:
            raise SlackError("message_not_found")
        return found

    def open_im(self, user: str) -> Channel:
        for channel in self.channels.values():
            if channel.im_user == user:
                return channel
        im = Channel(id="D" + user.removeprefix("U"), name=user, im_user=user)
        self.channels[im.id] = im
        return im

    # Posting
    def _content(self, args: dict[str, Any], *, required: bool) -> tuple[str | None, list[Any] | None]:
        blocks = structured(args, "blocks", "invalid_blocks_format")
        if blocks is not None:
            if not isinstance(blocks, list):
                raise SlackError("invalid_blocks_format")
            problems = message_blocks(blocks)
            if problems:
                raise invalid("invalid_blocks", problems)
        text = args.get("text", args.get("markdown_text"))  # markdown_text stands for text
        if text is not None and not isinstance(text, str):
            text = str(text)
        if required and not text and not blocks and not args.get("attachments"):
            raise SlackError("no_text")
        return text, blocks or None

    @staticmethod
    def _metadata(args: dict[str, Any]) -> dict[str, Any] | None:
        metadata = structured(args, "metadata", "invalid_metadata_format")
        if metadata is None:
            return None
        if not (
            isinstance(metadata, dict)
            and isinstance(metadata.get("event_type"), str)
            and metadata["event_type"]
            and isinstance(metadata.get("event_payload"), dict)
        ):
            raise SlackError("invalid_metadata_format")
        return {"event_type": metadata["event_type"], "event_payload": metadata["event_payload"]}

    def add(self, channel: Channel, message: Message) -> Message:
        channel.messages[message.ts] = message
        if message.thread_ts is not None:
            parent = channel.messages.get(message.thread_ts)
            if parent is not None and parent.thread_ts is not None:  # a reply to a reply joins the thread
                message.thread_ts = parent.thread_ts
                parent = channel.messages[parent.thread_ts]
            if parent is not None:
                parent.replies.append(message.ts)
        return message

    def post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.joined(args.get("channel"))
        text, blocks = self._content(args, required=True)
        metadata = self._metadata(args)
        answer: dict[str, Any] = {"ok": True, "channel": channel.id}
        if text is not None and len(text) > TEXT_LIMIT:
            text = text[:TEXT_LIMIT]
            answer.update(warning="message_truncated")
            answer["response_metadata"] = {"warnings": ["message_truncated"], "messages": [_TRUNCATED]}
        thread_ts = args.get("thread_ts") or None
        message = self.add(
            channel,
            Message(
                channel=channel.id,
                ts=self.next_ts(),
                user=BOT_USER,
                text=text or "",
                blocks=blocks,
                thread_ts=thread_ts,
                metadata=metadata,
                broadcast=bool(thread_ts) and flag(args.get("reply_broadcast")),
            ),
        )
        answer.update(ts=message.ts, message=message.as_slack(self))
        return answer

    def update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.channel(args.get("channel"))
        message = self.message(channel.id, args.get("ts"))
        if not message.by_app or message.deleted:
            raise SlackError("cant_update_message")
        text, blocks = self._content(args, required=False)
        if text is None and blocks is None and "blocks" not in args and not args.get("attachments"):
            raise SlackError("no_text")
        if text is not None and len(text) > TEXT_LIMIT:
            raise SlackError("msg_too_long")
        metadata = self._metadata(args)
        if text is not None:
            message.text = text
        if "blocks" in args:  # an empty array removes them; leaving the argument out keeps them
            message.blocks = blocks
        if metadata is not None:
            message.metadata = metadata
        message.edited_ts = self.next_ts()
        shown = message.as_slack(self)
        return {"ok": True, "channel": channel.id, "ts": message.ts, "text": message.text, "message": shown}

    def delete(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.channel(args.get("channel"))
        message = self.message(channel.id, args.get("ts"))
        if not message.by_app:
            raise SlackError("cant_delete_message")
        if message.deleted:
            raise SlackError("message_not_found")
        if message.replies:  # a parent with replies stays as a tombstone, as in Slack
            message.deleted = True
        else:
            del channel.messages[message.ts]
            if message.thread_ts is not None and message.thread_ts in channel.messages:
                channel.messages[message.thread_ts].replies.remove(message.ts)
        return {"ok": True, "channel": channel.id, "ts": message.ts}

    def post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.channel(args.get("channel"))
        user = args.get("user")
        if user not in self.users:
            raise SlackError("user_not_in_channel")
        text, blocks = self._content(args, required=True)
        ephemeral = Ephemeral(
            channel.id, user, (text or "")[:TEXT_LIMIT], blocks, args.get("thread_ts"), self.next_ts()
        )
        self.ephemerals.append(ephemeral)
        return {"ok": True, "message_ts": ephemeral.message_ts}

    def permalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.channel(args.get("channel"))
        message = self.message(channel.id, args.get("message_ts"))
        link = f"{WORKSPACE_URL}archives/{channel.id}/p{message.ts.replace('.', '')}"
        if message.thread_ts is not None:
            link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
        return {"ok": True, "channel": channel.id, "permalink": link}

    # Reading
    def history(self, args: dict[str, Any]) -> dict[str, Any]:
        """Top-level messages (and thread broadcasts), newest first, paged by cursor."""
        channel = self.joined(args.get("channel"))
        window = _window(args)
        shown = [
            m
            for m in sorted(channel.messages.values(), key=lambda m: float(m.ts), reverse=True)
            if (m.thread_ts is None or m.broadcast) and _in_window(m.ts, window)
        ]
        if args.get("cursor"):
            start = float(_from_cursor(args["cursor"]))
            shown = [m for m in shown if float(m.ts) <= start]
        return self._page(shown, _limit(args, 100, 999), flag(args.get("include_all_metadata")), pins=True)

    def replies(self, args: dict[str, Any]) -> dict[str, Any]:
        """A thread, the parent first, then its replies oldest first; `ts` may name any of them."""
        channel = self.joined(args.get("channel"))
        ts = args.get("ts")
        if not isinstance(ts, str) or ts not in channel.messages:
            raise SlackError("thread_not_found")
        parent = channel.messages[ts]
        if parent.thread_ts is not None and parent.thread_ts in channel.messages:
            parent = channel.messages[parent.thread_ts]
        window = _window(args)
        replies = [channel.messages[r] for r in parent.replies if _in_window(r, window)]
        if args.get("cursor"):
            start = float(_from_cursor(args["cursor"]))
            shown = [m for m in replies if float(m.ts) >= start]
        else:
            shown = [parent, *replies]
        return self._page(shown, _limit(args, 1000, 1000), flag(args.get("include_all_metadata")))

    def _page(
        self, shown: list[Message], limit: int, metadata: bool, *, pins: bool = False
    ) -> dict[str, Any]:
        page, rest = shown[:limit], shown[limit:]
        answer: dict[str, Any] = {
            "ok": True,
            "messages": [m.as_slack(self, metadata=metadata) for m in page],
            "has_more": bool(rest),
            "response_metadata": {"next_cursor": _cursor(rest[0].ts) if rest else ""},
        }
        if pins:
            answer["pin_count"] = 0
        return answer

    # People
    def user_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(args.get("user"))  # type: ignore[arg-type]
        if user is None:
            raise SlackError("user_not_found")
        return {"ok": True, "user": user}

    def open_conversation(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("channel"):
            return {"ok": True, "channel": {"id": self.channel(args["channel"]).id}}
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if not users:
            raise SlackError("users_list_not_supplied")
        if any(u not in self.users for u in users):
            raise SlackError("user_not_found")
        if len(users) > 1:
            raise SlackError("not_supported", detail="the stand-in opens DMs with one user only")
        already = any(c.im_user == users[0] for c in self.channels.values())
        im = self.open_im(users[0])
        return {"ok": True, "no_op": already, "already_open": already, "channel": {"id": im.id}}

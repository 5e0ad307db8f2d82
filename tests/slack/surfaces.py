"""Views (modals and the App Home tab) and file uploads, kept by the Slack stand-in as Slack keeps them.

A trigger_id opens one modal (views.open) or pushes one view (views.push, at most 3 in a stack), once, within
3 seconds of the interaction that gave it; views.update needs the view's id (and its hash, when given);
views.publish sets a user's home tab. Files follow Slack's external upload: files.getUploadURLExternal hands
out an upload URL on the stand-in (for a file of at most 1 GB), exactly the bytes declared are POSTed there,
files.completeUploadExternal shares them (a message with the files, in the channel or a thread).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from tests.slack.blockkit import view_problems
from tests.slack.workspace import (
    APP_ID,
    BOT_ID,
    BOT_USER,
    TEAM_ID,
    Message,
    SlackError,
    Workspace,
    invalid,
    structured,
)

TRIGGER_TTL = 3.0
STACK_LIMIT = 3
MAX_FILE_BYTES = 1024**3  # Slack takes files up to 1 GB


@dataclass
class View:
    """A view Slack holds: what was sent, and the ids and hash Slack gives it."""

    id: str
    user: str
    view: dict[str, Any]
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    closed: bool = False

    def as_slack(self) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "id": self.id,
            "team_id": TEAM_ID,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "clear_on_close": False,
            "notify_on_close": False,
            **self.view,
            "state": {"values": {}},
            "hash": self.hash,
            "root_view_id": self.root_view_id,
            "previous_view_id": self.previous_view_id,
        }
        return shown


@dataclass
class Upload:
    """A file on its way in: declared by files.getUploadURLExternal, its bytes POSTed, then shared."""

    id: str
    filename: str
    length: int
    alt_txt: str | None = None
    data: bytes | None = None
    title: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    completed: bool = False


@dataclass
class Surfaces:
    """Triggers, views and uploads of one stand-in."""

    workspace: Workspace
    triggers: dict[str, tuple[str, float]] = field(default_factory=dict)  # trigger id -> user, expiry
    exchanged: set[str] = field(default_factory=set)
    views: dict[str, View] = field(default_factory=dict)  # every view ever opened or published
    stacks: dict[str, list[str]] = field(default_factory=dict)  # user -> the modal's views, root first
    homes: dict[str, str] = field(default_factory=dict)  # user -> their home view's id
    uploads: dict[str, Upload] = field(default_factory=dict)

    def issue_trigger(self, user: str, ttl: float = TRIGGER_TTL) -> str:
        trigger = f"{int(time.time())}.{secrets.randbelow(10**10)}.{secrets.token_hex(16)}"
        self.triggers[trigger] = (user, time.monotonic() + ttl)
        return trigger

    def _exchange(self, trigger: Any) -> str:
        """The user a trigger_id was issued for; it is spent."""
        if not trigger:
            raise SlackError(
                "invalid_arguments", response_metadata={"messages": ["[ERROR] missing trigger_id"]}
            )
        if trigger in self.exchanged:
            raise SlackError("exchanged_trigger_id")
        if trigger not in self.triggers:
            raise SlackError("invalid_trigger_id")
        user, expiry = self.triggers[trigger]
        if time.monotonic() > expiry:
            raise SlackError("expired_trigger_id")
        self.exchanged.add(trigger)
        return user

    def _checked(self, args: dict[str, Any], kind: str) -> dict[str, Any]:
        view = structured(args, "view", "invalid_arguments")
        problems = view_problems(view)
        if not problems and view.get("type") != kind:
            problems = [f"[ERROR] must be {kind} here [json-pointer:/view/type]"]
        if problems:
            raise invalid("invalid_arguments", problems)
        return dict(view)

    def _new(self, user: str, view: dict[str, Any], root: str | None, previous: str | None) -> View:
        view_id = "V" + secrets.token_hex(5).upper()
        made = View(
            view_id, user, view, f"{time.time():.6f}.{secrets.token_hex(4)}", root or view_id, previous
        )
        self.views[view_id] = made
        return made

    def open(self, args: dict[str, Any]) -> dict[str, Any]:
        view = self._checked(args, "modal")
        user = self._exchange(args.get("trigger_id"))
        for old in self.stacks.get(user, []):  # a new modal replaces whatever the user had open
            self.views[old].closed = True
        opened = self._new(user, view, None, None)
        self.stacks[user] = [opened.id]
        return {"ok": True, "view": opened.as_slack()}

    def push(self, args: dict[str, Any]) -> dict[str, Any]:
        view = self._checked(args, "modal")
        user = self._exchange(args.get("trigger_id"))
        stack = self.stacks.setdefault(user, [])
        if len(stack) >= STACK_LIMIT:
            raise SlackError("push_limit_reached")
        pushed = self._new(user, view, stack[0] if stack else None, stack[-1] if stack else None)
        stack.append(pushed.id)
        return {"ok": True, "view": pushed.as_slack()}

    def update(self, args: dict[str, Any]) -> dict[str, Any]:
        view = self._checked(args, "modal")
        target = self.views.get(args.get("view_id") or "")
        if target is None and args.get("external_id"):
            target = next(
                (v for v in self.views.values() if v.view.get("external_id") == args["external_id"]), None
            )
        if target is None or target.closed:
            raise SlackError("not_found")
        if args.get("hash") and args["hash"] != target.hash:
            raise SlackError("hash_conflict")
        target.view = view
        target.hash = f"{time.time():.6f}.{secrets.token_hex(4)}"
        return {"ok": True, "view": target.as_slack()}

    def publish(self, args: dict[str, Any]) -> dict[str, Any]:
        view = self._checked(args, "home")
        user = args.get("user_id")
        if user not in self.workspace.users:
            raise SlackError("invalid_arguments", response_metadata={"messages": ["[ERROR] invalid user_id"]})
        home = self.views.get(self.homes.get(user, ""))
        if home is not None and args.get("hash") and args["hash"] != home.hash:
            raise SlackError("hash_conflict")
        published = self._new(user, view, None, None)
        self.homes[user] = published.id
        return {"ok": True, "view": published.as_slack()}

    def close_modals(self, user: str) -> None:
        """The user closed (or submitted and cleared) their modal."""
        for view_id in self.stacks.pop(user, []):
            self.views[view_id].closed = True

    # Files
    def upload_url(self, args: dict[str, Any], base_url: str) -> dict[str, Any]:
        filename = args.get("filename")
        try:
            length = int(args.get("length"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            length = 0
        if not filename or length < 1:
            raise SlackError("invalid_arguments")
        if length > MAX_FILE_BYTES:
            raise SlackError("file_too_large")
        file_id = "F" + secrets.token_hex(5).upper()
        self.uploads[file_id] = Upload(file_id, filename, length, args.get("alt_txt"))
        return {"ok": True, "upload_url": f"{base_url}/upload/v1/{file_id}", "file_id": file_id}

    def receive(self, file_id: str, data: bytes) -> bool:
        """The bytes POSTed to an upload URL; False for a URL the stand-in never handed out."""
        upload = self.uploads.get(file_id)
        if upload is None or upload.completed or len(data) != upload.length:
            return False  # (the upload URL takes exactly the bytes declared)
        upload.data = data
        return True

    def complete(self, args: dict[str, Any]) -> dict[str, Any]:
        files = structured(args, "files", "invalid_arguments")
        if not isinstance(files, list) or not files or not all(isinstance(f, dict) for f in files):
            raise SlackError("invalid_arguments")
        uploads = [self.uploads.get(f.get("id", "")) for f in files]
        if any(u is None or u.data is None or u.completed for u in uploads):
            raise SlackError("file_not_found")
        channel = self.workspace.channel(args["channel_id"]) if args.get("channel_id") else None
        shown = []
        for upload, given in zip(uploads, files, strict=True):
            assert upload is not None and upload.data is not None
            upload.title = given.get("title") or upload.filename
            upload.completed = True
            upload.channel = channel.id if channel else None
            upload.thread_ts = args.get("thread_ts")
            upload.initial_comment = args.get("initial_comment")
            shown.append(_file_object(upload))
        if channel is not None:
            self.workspace.add(
                channel,
                Message(
                    channel=channel.id,
                    ts=self.workspace.next_ts(),
                    user=BOT_USER,
                    text=args.get("initial_comment") or "",
                    thread_ts=args.get("thread_ts"),
                    files=shown,
                ),
            )
        return {"ok": True, "files": shown}


def _file_object(upload: Upload) -> dict[str, Any]:
    assert upload.data is not None
    return {
        "id": upload.id,
        "name": upload.filename,
        "title": upload.title,
        "size": len(upload.data),
        "user": BOT_USER,
        "channels": [upload.channel] if upload.channel else [],
        "alt_txt": upload.alt_txt,
        "url_private": f"https://files.slack.com/files-pri/{TEAM_ID}-{upload.id}/{upload.filename}",
    }

"""Response URLs, where an app answers a slash command or an interaction after acknowledging it (bolt's
`respond`): each takes JSON (`text`, `blocks`, `response_type`, `replace_original`, `delete_original`) at
most 5 times within 30 minutes, as Slack documents. An ephemeral answer (the default) is recorded with the
ephemeral messages; `in_channel` posts to the channel; `replace_original` and `delete_original` act on the
message the interaction came from.

Slack documents the limits, not the exact refusals: this stand-in answers `used_url` and `expired_url`
(404), and `invalid_blocks` or `no_text` (400), as JSON `{"ok": false, "error": …}`.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from tests.slack.blockkit import message_blocks
from tests.slack.workspace import BOT_USER, Ephemeral, Message, Workspace

USES = 5
LIFETIME = 30 * 60.0


@dataclass
class ResponseUrl:
    id: str
    channel: str
    user: str
    message_ts: str | None
    expiry: float
    bodies: list[dict[str, Any]] = field(default_factory=list)  # what was accepted, in order


@dataclass
class ResponseUrls:
    workspace: Workspace
    urls: dict[str, ResponseUrl] = field(default_factory=dict)

    def issue(self, channel: str, user: str, message_ts: str | None, lifetime: float = LIFETIME) -> str:
        url_id = secrets.token_hex(12)
        self.urls[url_id] = ResponseUrl(url_id, channel, user, message_ts, time.monotonic() + lifetime)
        return url_id

    def post(self, url_id: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        """Slack's status and answer for a POST to a response URL."""
        url = self.urls.get(url_id)
        if url is None or time.monotonic() > url.expiry:
            return 404, {"ok": False, "error": "expired_url"}
        if len(url.bodies) >= USES:
            return 404, {"ok": False, "error": "used_url"}
        try:
            body = json.loads(raw)
        except ValueError:
            return 400, {"ok": False, "error": "invalid_payload"}
        if not isinstance(body, dict):
            return 400, {"ok": False, "error": "invalid_payload"}
        blocks = body.get("blocks")
        if blocks is not None and (not isinstance(blocks, list) or message_blocks(blocks)):
            return 400, {"ok": False, "error": "invalid_blocks"}
        if not body.get("delete_original") and not body.get("text") and not blocks:
            return 400, {"ok": False, "error": "no_text"}
        url.bodies.append(body)
        self._apply(url, body)
        return 200, {"ok": True}

    def _apply(self, url: ResponseUrl, body: dict[str, Any]) -> None:
        channel = self.workspace.channel(url.channel)
        original = channel.messages.get(url.message_ts or "")
        text, blocks = str(body.get("text") or ""), body.get("blocks") or None
        if body.get("delete_original") and original is not None:
            del channel.messages[original.ts]
        elif body.get("replace_original") and original is not None:
            original.text, original.blocks = text, blocks
            original.edited_ts = self.workspace.next_ts()
        elif body.get("response_type") == "in_channel":
            message = Message(channel.id, self.workspace.next_ts(), BOT_USER, text, blocks=blocks)
            self.workspace.add(channel, message)
        else:
            ts = self.workspace.next_ts()
            self.workspace.ephemerals.append(Ephemeral(channel.id, url.user, text, blocks, None, ts))

"""Signs requests as Slack signs what it sends to an app (events, interactivity, slash commands).

`X-Slack-Signature` is `v0=` and the hex HMAC-SHA256 of `v0:{timestamp}:{raw body}` keyed with the app's
signing secret; `X-Slack-Request-Timestamp` is the Unix time in seconds. Slack's SDKs refuse a timestamp
more than 5 minutes off. The bodies are built as Slack builds them: events as JSON, interactivity as a
form with one `payload` field holding JSON, slash commands as a plain form.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

SIGNING_SECRET = "test-slack-signing-secret-0123456789"


def signature(body: bytes, timestamp: int | str, secret: str = SIGNING_SECRET) -> str:
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    body: bytes,
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    content_type: str | None = None,
) -> dict[str, str]:
    """The headers Slack sends with `body`: its signature and timestamp (now unless given)."""
    stamp = int(time.time()) if timestamp is None else timestamp
    headers = {"X-Slack-Request-Timestamp": str(stamp), "X-Slack-Signature": signature(body, stamp, secret)}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return headers


def event_body(event: dict[str, Any], *, event_id: str, team_id: str = "T0KAGOSHIMA") -> bytes:
    """An Events API delivery (`event_callback`) as Slack posts it: JSON."""
    envelope = {
        "token": "legacy-verification-token",
        "team_id": team_id,
        "api_app_id": "A0MADOGUCHI",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
    }
    return json.dumps(envelope, ensure_ascii=False).encode()


def interaction_body(payload: dict[str, Any]) -> bytes:
    """A button click, view submission or shortcut as Slack posts it: a form whose `payload` is JSON."""
    return urlencode({"payload": json.dumps(payload, ensure_ascii=False)}).encode()


def command_body(command: str, text: str, *, user_id: str, channel_id: str, trigger_id: str = "") -> bytes:
    """A slash command as Slack posts it: a plain form."""
    fields = {
        "command": command,
        "text": text,
        "user_id": user_id,
        "channel_id": channel_id,
        "team_id": "T0KAGOSHIMA",
        "trigger_id": trigger_id,
        "response_url": "https://hooks.slack.com/commands/T0KAGOSHIMA/1/test",
    }
    return urlencode(fields).encode()

"""The real app with Slack configured, under uvicorn in a thread, and a Slack workspace that signs what it
sends to `POST /slack/events` (events, slash commands) as Slack does."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx

from tests.conftest import TEST_KEY
from tests.line.conftest import FAST, InProcessServer
from tests.line.standin import TOKEN as LINE_TOKEN
from tests.slack.signing import SIGNING_SECRET, command_body, event_body, signed_headers
from tests.slack.standin import BOT_TOKEN, INTAKE_CHANNEL, SlackStandIn

LINE_SECRET = "test-channel-secret-0123456789ab"


def slack_env(
    database_url: str, slack_api_url: str, var_dir: str, *, line_api_url: str = "http://127.0.0.1:9"
) -> dict[str, str]:
    """A server's environment: LINE and Slack credentials, the two stand-ins, the PII key, fast retries."""
    return {
        "DATABASE_URL": database_url,
        "MADOGUCHI_DEMO": "0",
        "LINE_CHANNEL_SECRET": LINE_SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": LINE_TOKEN,
        "LINE_API_BASE_URL": line_api_url,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_BASE_URL": slack_api_url,
        "SLACK_INTAKE_CHANNEL": INTAKE_CHANNEL,
        "MADOGUCHI_PII_KEY": TEST_KEY,
        "MADOGUCHI_ADMIN_TOKEN": "test-admin-token",
        "MADOGUCHI_VAR_DIR": var_dir,
        **FAST,
    }


class SlackSender:
    """Slack's side of the request URL: signed deliveries to one server."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = httpx.Client(timeout=10)

    def close(self) -> None:
        self.client.close()

    def post(
        self,
        body: bytes,
        *,
        content_type: str,
        timestamp: int | None = None,
        secret: str = SIGNING_SECRET,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = {**signed_headers(body, secret=secret, timestamp=timestamp, content_type=content_type)}
        sent.update(headers or {})
        return self.client.post(f"{self.url}/slack/events", content=body, headers=sent)

    def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None, **kw: Any
    ) -> httpx.Response:
        """Delivers an event (again, with `retry`: Slack's X-Slack-Retry-Num and its reason)."""
        body = event_body(event, event_id=event_id or new_event_id())
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
        return self.post(body, content_type="application/json", headers=headers, **kw)

    def command(self, text: str, *, user_id: str, command: str = "/madoguchi") -> httpx.Response:
        body = command_body(command, text, user_id=user_id, channel_id=INTAKE_CHANNEL)
        return self.post(body, content_type="application/x-www-form-urlencoded")


def new_event_id() -> str:
    return "Ev" + uuid.uuid4().hex[:10].upper()


def home_opened(user: str) -> dict[str, Any]:
    """The app_home_opened event of a member opening the app's Home tab."""
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": "D0" + user[1:9],
        "tab": "home",
        "event_ts": f"{time.time():.6f}",
    }


def members(slack: SlackStandIn, count: int) -> list[str]:
    """Adds `count` members to the stand-in's workspace; returns their ids."""
    ids = [f"U0MEMBER{n:02d}" for n in range(count)]
    for n, user_id in enumerate(ids):
        slack.add_user(user_id, f"会員 {n}")
    return ids


def url_verification(challenge: str) -> bytes:
    return json.dumps({"token": "legacy", "challenge": challenge, "type": "url_verification"}).encode()


def start_server(env: dict[str, str]) -> InProcessServer:
    return InProcessServer(env).start()

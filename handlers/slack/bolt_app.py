"""The desk's Slack app: a bolt AsyncApp in HTTP mode behind `POST /slack/events` (events, interactivity
and slash commands on one URL).

bolt verifies each request's signature on the raw body and refuses one more than 5 minutes old (401). It
makes no call at start-up, nor `auth.test` on the first request: the bot token is the one of the settings.
Listeners run on the event loop after the ack, and the Web API client is asynchronous, so a slow Slack
never holds up a LINE webhook answered by the same process.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult

from handlers.services import Services
from handlers.slack import actions, commands, home, outcome, reassign, relay, retime
from handlers.slack.client import async_web_client
from handlers.slack.events import ClaimEvents

log = logging.getLogger(__name__)
ROUTE = "/slack/events"
MAX_AGE = 300  # seconds a signed request stays valid (Slack's and bolt's five minutes)
MAX_BODY = 1_000_000  # Slack's payloads are a few kilobytes; a modal's state a few dozen


@dataclass
class SlackApp:
    """The bolt app and what it answers to (the app manifest must ask for exactly these)."""

    bolt: AsyncApp
    signing_secret: str
    events: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)


def build_slack_app(services: Services) -> SlackApp:
    """The bolt app for the configured signing secret and bot token, with its listeners registered."""
    settings = services.settings
    if not (settings.slack_signing_secret and settings.slack_bot_token):
        raise ValueError("Slack needs SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN")
    bot_token = settings.slack_bot_token.get_secret_value()

    async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        # One workspace, one bot token: nothing to look up, so no auth.test call on the first request.
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=bot_token)

    bolt = AsyncApp(
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        client=async_web_client(settings),
        authorize=authorize,
        logger=logging.getLogger("handlers.slack.bolt"),
        ssl_check_enabled=True,
        url_verification_enabled=True,
    )

    @bolt.error
    async def quiet_errors(error: Exception, body: dict[str, Any]) -> None:
        # The exception's message can quote what someone wrote: log what failed, never what it says.
        kind = body.get("type") or body.get("command") or "request"
        log.error("Slack %s failed: %s", kind, type(error).__name__)

    bolt.middleware(ClaimEvents(services))
    app = SlackApp(bolt=bolt, signing_secret=settings.slack_signing_secret.get_secret_value())
    app.commands += commands.register(bolt, services)
    app.events += home.register(bolt, services)
    app.events += relay.register(bolt, services)
    app.actions += actions.register(bolt, services)
    app.actions += reassign.register(bolt, services)
    app.actions += outcome.register(bolt, services)
    app.actions += retime.register(bolt, services)
    return app


def well_formed(body: bytes, content_type: str) -> bool:
    """Whether the body is one Slack sends: UTF-8, and a JSON object (an event callback with its event
    and event_id), a form whose `payload` is a JSON object, or a plain form (a slash command)."""
    try:
        text = body.decode("utf-8")
        if content_type.split(";", 1)[0].strip().lower() == "application/json":
            payload = json.loads(text)
        else:
            form = parse_qs(text, keep_blank_values=True)
            if "payload" not in form:
                return True
            payload = json.loads(form["payload"][0])
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False
    if not isinstance(payload, dict):
        return False
    if payload.get("type") == "event_callback":
        return isinstance(payload.get("event"), dict) and isinstance(payload.get("event_id"), str)
    return True


def signed(secret: str, body: bytes, timestamp: str | None, signature: str | None) -> bool:
    """Whether `signature` is Slack's for these raw bytes (`v0=` hex HMAC-SHA256 of `v0:{timestamp}:{body}`)
    and the timestamp is within five minutes of now, compared in constant time."""
    if not timestamp or not signature or not timestamp.isascii() or not timestamp.isdigit():
        return False
    if abs(time.time() - int(timestamp)) > MAX_AGE:
        return False
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    expected = "v0=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace"))


def build_router(slack: SlackApp) -> APIRouter:
    """`POST /slack/events`, handed to bolt."""
    router = APIRouter()
    handler = AsyncSlackRequestHandler(slack.bolt)

    @router.post(ROUTE)
    async def slack_events(request: Request) -> Response:
        """Verifies, acknowledges and dispatches a Slack request."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:
            return JSONResponse(
                {"detail": "body too large"}, status_code=413, headers={"Connection": "close"}
            )
        body = await request.body()
        # The raw bytes are checked here (bolt checks them again, decoded): unsigned, forged or more than
        # five minutes off is 401; then what bolt would answer 500 to (and Slack retry) is 400.
        headers = request.headers
        if not signed(
            slack.signing_secret,
            body,
            headers.get("x-slack-request-timestamp"),
            headers.get("x-slack-signature"),
        ):
            return JSONResponse({"detail": "invalid request"}, status_code=401)
        if not well_formed(body, request.headers.get("content-type", "")):
            return JSONResponse({"detail": "invalid body"}, status_code=400)
        return await handler.handle(request)

    return router

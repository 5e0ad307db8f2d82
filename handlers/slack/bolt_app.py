"""The desk's Slack app: a bolt AsyncApp in HTTP mode behind `POST /slack/events` (events, interactivity
and slash commands on one URL).

bolt verifies each request's signature on the raw body and refuses one more than 5 minutes old (401). It
makes no call at start-up, nor `auth.test` on the first request: the bot token is the one of the settings.
Listeners run on the event loop after the ack, and the Web API client is asynchronous, so a slow Slack
never holds up a LINE webhook answered by the same process.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult

from handlers.services import Services
from handlers.slack import commands, home
from handlers.slack.client import async_web_client
from handlers.slack.events import ClaimEvents

log = logging.getLogger(__name__)
ROUTE = "/slack/events"
MAX_BODY = 1_000_000  # Slack's payloads are a few kilobytes; a modal's state a few dozen


@dataclass
class SlackApp:
    """The bolt app and what it answers to (the app manifest must ask for exactly these)."""

    bolt: AsyncApp
    events: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)


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
    app = SlackApp(bolt=bolt)
    app.commands += commands.register(bolt)
    app.events += home.register(bolt, services)
    return app


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
        return await handler.handle(request)

    return router

"""Slack Events API deliveries handled once: each `event_id` is claimed in the database before the ack,
so a retry (`X-Slack-Retry-Num`) or a replay of a handled event is acknowledged and dropped."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncApp, AsyncBoltContext, AsyncBoltRequest
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_sdk.web.async_client import AsyncWebClient

from handlers.services import Services
from storage.slack_events import claim_slack_event, finish_slack_event

log = logging.getLogger(__name__)
CLAIMED = "madoguchi_claimed_event_id"  # the context key that tells a listener its delivery is the one
CLAIM_DEADLINE = 2.0  # seconds: Slack counts no answer within 3 s as a failure

EventHandler = Callable[[dict[str, Any], AsyncBoltContext, AsyncWebClient], Awaitable[None]]


def _is_own(body: dict[str, Any]) -> bool:
    """Whether the event is about a message this app posted (its cards, its thread replies)."""
    event = body.get("event") or {}
    app_id = body.get("api_app_id")
    own = event.get("app_id") or (event.get("bot_profile") or {}).get("app_id")
    return bool(app_id) and own == app_id


class ClaimEvents(AsyncMiddleware):
    """Claims an event delivery's `event_id`; a copy of one claimed elsewhere is answered 200 and dropped.

    The claim is committed before the ack (off the event loop). When the database does not answer in
    time the delivery is refused with 503, so Slack delivers it again rather than losing it.
    """

    def __init__(self, services: Services) -> None:
        self.services = services

    async def async_process(
        self, *, req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        body = req.body
        event_id = body.get("event_id")
        if body.get("type") != "event_callback" or not isinstance(event_id, str) or not event_id:
            return await next()
        if _is_own(body):
            return BoltResponse(status=200, body="")
        event_type = str((body.get("event") or {}).get("type") or "?")
        retry = req.headers.get("x-slack-retry-num", [None])[0]
        try:
            with anyio.fail_after(CLAIM_DEADLINE):
                claimed = await anyio.to_thread.run_sync(
                    self._claim, event_id, event_type, abandon_on_cancel=True
                )
        except Exception as exc:  # noqa: BLE001 - answered 503: Slack delivers the event again
            log.error("could not claim Slack event %s: %s", event_type, type(exc).__name__)
            return BoltResponse(status=503, body="")
        if not claimed:
            log.info("Slack event %s %s delivered again (retry %s): dropped", event_type, event_id, retry)
            return BoltResponse(status=200, body="")
        req.context[CLAIMED] = event_id
        return await next()

    def _claim(self, event_id: str, event_type: str) -> bool:
        with self.services.db.session() as session:
            return claim_slack_event(
                session=session, event_id=event_id, event_type=event_type, now=self.services.clock.now()
            )


def on_event(app: AsyncApp, services: Services, event_type: str, handler: EventHandler) -> None:
    """Registers the handler of one event type: it runs after the ack, once per event_id, and the event
    is marked handled when it returns (a handler that raised leaves its claim to lapse, so a later
    delivery of the event is handled again)."""

    async def listener(body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
        event_id = context.get(CLAIMED)
        if not event_id:
            return
        await handler(event, context, context.client)

        def finish() -> None:
            with services.db.session() as session:
                finish_slack_event(session=session, event_id=event_id, now=services.clock.now())

        await anyio.to_thread.run_sync(finish)

    listener.__name__ = f"on_{event_type}"
    app.event(event_type)(listener)

"""Slack Events API deliveries handled once: each `event_id` is claimed in the database before the ack,
so a retry (`X-Slack-Retry-Num`) or a replay of a handled event is acknowledged and dropped.

Slack delivers an event again only when it got no 2xx, so what an event must change in the database (a
coordinator's reply queued for the owner) is written in the claim's own transaction, before the ack: if it
fails, nothing is claimed and Slack is answered 503 and delivers it again. Only what may be lost (a call to
Slack itself, such as an ephemeral note) runs after the ack."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncApp, AsyncBoltContext, AsyncBoltRequest
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.orm import Session

from handlers.services import Services
from storage.slack_events import claim_slack_event, finish_slack_event

log = logging.getLogger(__name__)
CLAIMED = "madoguchi_claimed_event_id"  # the context key that tells a listener its delivery is the one
STORED = "madoguchi_stored_outcome"  # the context key of what the event's durable part returned
CLAIM_DEADLINE = 2.0  # seconds: Slack counts no answer within 3 s as a failure

EventHandler = Callable[[dict[str, Any], AsyncBoltContext, AsyncWebClient], Awaitable[None]]
# What an event changes in the database, run in the transaction that claims it (before the ack): what it
# returns reaches the handler as context[STORED].
Durable = Callable[[Session, Services, dict[str, Any]], Any]
_DURABLE: dict[str, Durable] = {}  # by event type


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
        given = body.get("event")
        event: dict[str, Any] = given if isinstance(given, dict) else {}
        try:
            with anyio.fail_after(CLAIM_DEADLINE):
                claimed, stored = await anyio.to_thread.run_sync(
                    self._claim, event_id, event_type, event, abandon_on_cancel=True
                )
        except Exception as exc:  # noqa: BLE001 - answered 503: Slack delivers the event again
            log.error("could not claim Slack event %s: %s", event_type, type(exc).__name__)
            return BoltResponse(status=503, body="")
        if not claimed:
            log.info("Slack event %s %s delivered again (retry %s): dropped", event_type, event_id, retry)
            return BoltResponse(status=200, body="")
        req.context[CLAIMED] = event_id
        req.context[STORED] = stored
        return await next()

    def _claim(self, event_id: str, event_type: str, event: dict[str, Any]) -> tuple[bool, Any]:
        """Claims the event and, when it has a durable part, runs it and marks the event handled, all in
        one transaction; whether this delivery is the one, and what the durable part returned."""
        durable = _DURABLE.get(event_type)
        with self.services.db.session() as session:
            now = self.services.clock.now()
            claimed = claim_slack_event(session=session, event_id=event_id, event_type=event_type, now=now)
            if not claimed or durable is None:
                return claimed, None
            stored = durable(session, self.services, event)
            finish_slack_event(session=session, event_id=event_id, now=now)
            return True, stored


def on_event(
    app: AsyncApp,
    services: Services,
    event_type: str,
    handler: EventHandler,
    *,
    durable: Durable | None = None,
) -> None:
    """Registers the handler of one event type: it runs after the ack, once per event_id. With `durable`,
    that runs first, before the ack, in the claim's transaction (see the module's text), and the handler
    gets what it returned as context[STORED]. Without it, the event is marked handled when the handler
    returns (one that raised leaves its claim to lapse, and Slack delivers it again only if it had no ack)."""
    if durable is not None:
        _DURABLE[event_type] = durable

    async def listener(body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
        event_id = context.get(CLAIMED)
        if not event_id:
            return
        await handler(event, context, context.client)
        if durable is not None:
            return  # marked handled with its durable part

        def finish() -> None:
            with services.db.session() as session:
                finish_slack_event(session=session, event_id=event_id, now=services.clock.now())

        await anyio.to_thread.run_sync(finish)

    listener.__name__ = f"on_{event_type}"
    app.event(event_type)(listener)

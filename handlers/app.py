"""The FastAPI application factory."""

from __future__ import annotations

import gc
import logging
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from apscheduler.schedulers.base import BaseScheduler
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from handlers.line.webhook import build_router as build_line_router
from handlers.line.worker import LineRuntime, build_line_runtime
from handlers.services import Services, build_services
from handlers.settings import Settings
from handlers.slack.bolt_app import SlackApp, build_slack_app
from handlers.slack.bolt_app import build_router as build_slack_router
from handlers.slack.delivery import SlackRuntime, build_slack_runtime
from handlers.web import admin, form, simulator
from storage.channels import Channel
from storage.database import Database
from storage.inbox import count_events
from storage.outbox import count_messages

log = logging.getLogger(__name__)


class QuietErrors:
    """Answers 500 to an unexpected error and logs where it happened, never what it says: an exception's
    message can quote what an owner wrote (Starlette's own handler would log it in full, and raise it on)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception as exc:
            frames = "".join(traceback.format_tb(exc.__traceback__)[-3:])
            log.error("unhandled %s on %s\n%s", type(exc).__name__, scope.get("path", "?"), frames)
            if not started:
                await JSONResponse({"detail": "internal error"}, status_code=500)(scope, receive, send)


def line_queue_counts(db: Database) -> dict[str, int]:
    """What waits in the LINE inbox and outbox, and what was parked there after its last attempt."""
    with db.session() as session:
        return {
            "inbox_pending": count_events(session=session, channel=Channel.LINE),
            "inbox_failed": count_events(session=session, channel=Channel.LINE, status="failed"),
            "outbox_pending": count_messages(session=session, channel=Channel.LINE),
            "outbox_failed": count_messages(session=session, channel=Channel.LINE, status="failed"),
            "outbox_skipped": count_messages(session=session, channel=Channel.LINE, status="skipped"),
            "outbox_rejected": count_messages(session=session, channel=Channel.LINE, status="rejected"),
        }


def start_up_lines(settings: Settings, *, host: str, port: int) -> list[str]:
    """What `madoguchi serve` says it serves, and in demo mode how to use, stop and reset it; the admin
    token itself is never logged (the curl line reads it from its file)."""
    base = settings.public_url if settings.madoguchi_public_url else f"http://{host}:{port}"
    if settings.demo:
        lines = [
            f"demo mode: the simulator (an owner's LINE chat beside a coordinator's Slack pane) at {base}/, "
            f"the web form at {base}/form"
        ]
    else:
        lines = [f"the web form at {base}/form, the LINE webhook at {base}/line/webhook"]
        if settings.slack_configured:
            lines.append(
                f"the Slack request URL (events, interactivity, slash commands): {base}/slack/events"
            )
    if settings.admin_token_file is not None:
        lines.append(
            f'admin API: curl -H "Authorization: Bearer $(cat {settings.admin_token_file})" '
            f"{base}/api/consultations"
        )
    elif settings.madoguchi_admin_token:
        lines.append(f"admin API at {base}/api/consultations (bearer MADOGUCHI_ADMIN_TOKEN)")
    else:
        lines.append("admin API closed: MADOGUCHI_ADMIN_TOKEN is not set")
    if settings.demo:
        lines.append(f"demo mode: stop with Ctrl-C; to start afresh, {settings.demo_reset_hint()}")
    return lines


def create_app(
    services: Services | None = None, *, scheduler: BaseScheduler | None = None, drain: bool = True
) -> FastAPI:
    """The web application: health, admin API, web form and, in demo mode, the simulator; it runs the
    scheduler given (not started yet) for as long as it serves, and drains the LINE inbox and outbox
    unless told to leave that to `madoguchi worker`."""
    svc = services or build_services()
    svc.settings.open_demo_admin_api()
    line: LineRuntime | None = build_line_runtime(svc) if svc.line_api is not None else None
    # Without both Slack credentials there is no /slack/events route at all (a request to it gets 404).
    slack: SlackApp | None = build_slack_app(svc) if svc.settings.slack_configured else None
    cards: SlackRuntime | None = build_slack_runtime(svc) if drain else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if line is not None:
            line.start(drain=drain)
        if cards is not None:
            cards.start()
        if scheduler is not None:
            scheduler.start()
        # What start-up loaded stays for good: keeping it out of the collector's scans keeps full
        # collections short, and with them the pauses that every webhook ack in flight would wait out.
        gc.freeze()
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            if line is not None:
                await anyio.to_thread.run_sync(line.stop)
            if cards is not None:
                await anyio.to_thread.run_sync(cards.stop)

    app = FastAPI(title="Madoguchi", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.services = svc
    app.state.line = line
    app.state.slack = slack
    app.state.slack_cards = cards

    @app.get("/healthz")
    def healthz(detail: bool = False) -> JSONResponse:
        """200 while the database answers; `?detail=1` adds each calendar's state (a failing calendar is
        degraded service, not a failed check: owners are then told a coordinator will send times)."""
        ok = svc.db.ping()
        body: dict[str, object] = {"status": "ok" if ok else "error", "database": "ok" if ok else "error"}
        if detail:
            calendars = svc.engine.calendars.status()
            body["calendars"] = calendars["status"]
            detail_body: dict[str, object] = {"calendars": calendars["calendars"]}
            if ok:
                detail_body["line"] = line_queue_counts(svc.db)
            body["detail"] = detail_body
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": "invalid request"}, status_code=422)

    app.add_middleware(QuietErrors)

    if line is not None and svc.settings.line_channel_secret is not None:
        app.include_router(
            build_line_router(
                channel_secret=svc.settings.line_channel_secret.get_secret_value(), writer=line.writer
            )
        )
    if slack is not None:
        app.include_router(build_slack_router(slack))
    app.include_router(admin.router)
    app.include_router(form.router)
    if svc.settings.demo:
        app.include_router(simulator.router)
    return app

"""The browser simulator (demo mode): an owner's LINE chat in the browser, driving the same engine.

Beside the phone, the coordinator's pane shows the Slack card of each request and acts on it
(handlers/web/sim_desk.py); what LINE would push to the owner meanwhile (a decision, a reminder) is
collected by the phone from the outbox (handlers/web/sim_sender.py).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import FileResponse, HTMLResponse
from jinja2 import Environment, FileSystemLoader
from pydantic import BaseModel, Field, field_validator

from bot import texts
from bot.messages import Inbound, OutMessage
from handlers.services import Services
from handlers.web import sim_desk
from handlers.web.admin import services
from handlers.web.sim_sender import collect
from storage.channels import Channel
from storage.clock import JST
from storage.contacts import find_contact, get_or_create_contact
from storage.interactions import list_interactions

CHANNEL = Channel.SIMULATOR
COOKIE = "madoguchi_sim"
HISTORY_LENGTH = 30
MAX_PARAMS = 4

WEB = Path(__file__).parent
STATIC = WEB / "static"
STATIC_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
PAGE_SECURITY = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

ServicesDep = Annotated[Services, Depends(services)]
_pages = Environment(loader=FileSystemLoader(WEB / "templates"), autoescape=True)

router = APIRouter()
router.include_router(sim_desk.router)


class SimMessage(BaseModel):
    """What the simulated phone sends: typed text, a tapped button's data, or a picker's value."""

    kind: str = Field("text", pattern="^(text|postback|sticker|image)$")
    text: str = Field("", max_length=5000)
    data: str = Field("", max_length=300)
    params: dict[str, str] = Field(default_factory=dict)

    @field_validator("text", "data")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        return value.replace("\x00", "")  # PostgreSQL refuses NUL in text; no keyboard types it

    @field_validator("params")
    @classmethod
    def _few_short_params(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > MAX_PARAMS or any(len(k) > 20 or len(v) > 40 for k, v in value.items()):
            raise ValueError("params: at most 4 short entries")
        return value


def _visitor(request: Request, response: Response) -> str:
    visitor = _known_visitor(request)
    if visitor is None:
        visitor = secrets.token_urlsafe(16)
        response.set_cookie(
            COOKIE,
            visitor,
            httponly=True,
            samesite="lax",
            max_age=60 * 60 * 24 * 30,
            secure=request.url.scheme == "https",
        )
    return visitor


def _known_visitor(request: Request) -> str | None:
    visitor = request.cookies.get(COOKIE)
    return visitor if visitor and len(visitor) <= 64 else None


@router.get("/", response_class=HTMLResponse)
def simulator_page(svc: ServicesDep) -> HTMLResponse:
    """The simulated phone and the coordinator's pane."""
    desk = svc.desk.desk
    html = _pages.get_template("simulator.html").render(desk=desk, menu=texts.MENU_ITEMS)
    return HTMLResponse(html, headers={**PAGE_SECURITY, "Cache-Control": "no-cache"})


@router.get("/static/{name}")
def static_file(name: str) -> FileResponse:
    """The simulator's CSS and JavaScript (package data, found next to this module)."""
    path = STATIC / name
    if (
        "/" in name
        or "\\" in name
        or name.startswith(".")
        or path.suffix not in STATIC_TYPES
        or not path.is_file()
    ):
        raise HTTPException(status_code=404, detail="not found")
    return FileResponse(
        path,
        media_type=STATIC_TYPES[path.suffix],
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


@router.post("/sim/api/start")
def start(request: Request, response: Response, svc: ServicesDep) -> dict[str, Any]:
    """Greets a new visitor, as LINE's follow event would."""
    visitor = _visitor(request, response)
    with svc.db.session() as session:
        contact = get_or_create_contact(session=session, channel=CHANNEL, external_id=visitor)
        turn = svc.engine.greet(session=session, contact=contact, channel=CHANNEL)
        return {"messages": [m.to_dict() for m in turn.replies]}


@router.post("/sim/api/message")
def message(body: SimMessage, request: Request, response: Response, svc: ServicesDep) -> dict[str, Any]:
    """One message from the simulated phone; answers with the bot's replies."""
    visitor = _visitor(request, response)
    inbound = Inbound(body.kind, text=body.text, data=body.data, params=body.params)
    with svc.db.session() as session:
        contact = get_or_create_contact(session=session, channel=CHANNEL, external_id=visitor)
        turn = svc.engine.handle(session=session, contact=contact, inbound=inbound, channel=CHANNEL)
        return {"messages": [m.to_dict() for m in turn.replies], "consultation_id": turn.consultation_id}


@router.get("/sim/api/history")
def history(request: Request, svc: ServicesDep) -> dict[str, Any]:
    """This visitor's latest messages in order, and the quick replies that are open now, to restore the chat."""
    visitor = _known_visitor(request)
    if visitor is None:
        return {"messages": [], "actions": []}
    with svc.db.session() as session:
        contact = find_contact(session=session, channel=CHANNEL, external_id=visitor)
        if contact is None:
            return {"messages": [], "actions": []}
        # Messages whose text was deleted (a conversation declined or cancelled, an unsent message) stay
        # out of the chat: only the fact that they were sent is kept. One still queued comes by the inbox.
        rows = [
            r
            for r in list_interactions(session=session, contact_id=contact.id)
            if r.text is not None and not (r.direction == "out" and r.delivered_at is None)
        ]
        rows = rows[-HISTORY_LENGTH:]
        messages = [
            {
                "direction": r.direction,
                "kind": r.kind,
                "text": r.text,
                "time": r.at.astimezone(JST).strftime("%H:%M"),
            }
            for r in rows
        ]
        actions: list[dict[str, Any]] = []
        if rows and rows[-1].direction == "out" and rows[-1].consultation_id is None:
            open_actions = svc.engine.open_actions(session=session, contact=contact)
            if open_actions:
                actions = OutMessage(texts.START_BUTTON, open_actions).to_dict()["actions"]
        return {"messages": messages, "actions": actions}


@router.post("/sim/api/inbox")
def inbox(request: Request, svc: ServicesDep) -> dict[str, Any]:
    """What was pushed to this visitor since the last poll (a coordinator's decision, a reminder), as LINE
    would show it; each message once."""
    visitor = _known_visitor(request)
    if visitor is None:
        return {"messages": []}
    with svc.db.session() as session:
        contact = find_contact(session=session, channel=CHANNEL, external_id=visitor)
        if contact is None:
            return {"messages": []}
        return {"messages": collect(session=session, contact_id=contact.id, now=svc.clock.now())}

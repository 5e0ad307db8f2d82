"""The browser simulator (demo mode): an owner's LINE chat in the browser, driving the same engine."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from bot.messages import Inbound
from handlers.services import Services
from handlers.web.admin import services
from storage.contacts import get_or_create_contact

CHANNEL = "simulator"
COOKIE = "madoguchi_sim"
TEMPLATE = Path(__file__).parent / "templates" / "simulator.html"

router = APIRouter()


class SimMessage(BaseModel):
    """What the simulated phone sends: typed text, a tapped button's data, or a picker's value."""

    kind: str = Field("text", pattern="^(text|postback|sticker|image)$")
    text: str = Field("", max_length=5000)
    data: str = Field("", max_length=300)
    params: dict[str, str] = Field(default_factory=dict)


def _visitor(request: Request, response: Response) -> str:
    visitor = request.cookies.get(COOKIE)
    if not visitor or len(visitor) > 64:
        visitor = secrets.token_urlsafe(16)
        response.set_cookie(COOKIE, visitor, httponly=True, samesite="lax", max_age=60 * 60 * 24 * 30)
    return visitor


@router.get("/", response_class=HTMLResponse)
def simulator_page(svc: Services = Depends(services)) -> HTMLResponse:
    html = TEMPLATE.read_text(encoding="utf-8").replace("{{desk_name}}", svc.desk.desk.name)
    return HTMLResponse(html)


@router.post("/sim/api/start")
def start(request: Request, response: Response, svc: Services = Depends(services)) -> dict[str, Any]:
    """Greets a new visitor, as LINE's follow event would."""
    visitor = _visitor(request, response)
    with svc.db.session() as session:
        contact = get_or_create_contact(session=session, channel=CHANNEL, external_id=visitor)
        turn = svc.engine.greet(session=session, contact=contact, channel=CHANNEL)
        return {"messages": [m.to_dict() for m in turn.replies]}


@router.post("/sim/api/message")
def message(body: SimMessage, request: Request, response: Response,
            svc: Services = Depends(services)) -> dict[str, Any]:
    """One message from the simulated phone; answers with the bot's replies."""
    visitor = _visitor(request, response)
    inbound = Inbound(body.kind, text=body.text, data=body.data, params=body.params)
    with svc.db.session() as session:
        contact = get_or_create_contact(session=session, channel=CHANNEL, external_id=visitor)
        turn = svc.engine.handle(session=session, contact=contact, inbound=inbound, channel=CHANNEL)
        return {"messages": [m.to_dict() for m in turn.replies], "consultation_id": turn.consultation_id}

"""The admin API: consultations as JSON for the desk's other systems (bearer MADOGUCHI_ADMIN_TOKEN)."""

from __future__ import annotations

import hmac
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from bot.fields import FIELDS, PERSONAL_EXTRA
from bot.submission import clear_values
from config import DeskConfig
from handlers.services import Services
from handlers.web.outcome_items import outcome_items
from storage.bookings import list_bookings_for_consultation
from storage.clock import JST, month_bounds
from storage.consultations import (
    ConsultationView,
    get_consultation_view,
    list_consultation_events,
    list_consultation_views,
)

router = APIRouter(prefix="/api")
# The personal (encrypted) fields the list shows: none. Only these are decrypted for the list, so a row
# written under a key that is no longer configured is listed like any other.
LIST_PERSONAL_FIELDS: tuple[str, ...] = ()


def services(request: Request) -> Services:
    return request.app.state.services


def require_admin(request: Request, svc: Services = Depends(services)) -> None:
    """401 unless the bearer token matches MADOGUCHI_ADMIN_TOKEN (and always 401 when none is set)."""
    configured = svc.settings.madoguchi_admin_token
    given = request.headers.get("authorization", "")
    scheme, _, token = given.partition(" ")
    if (
        not configured
        or scheme.lower() != "bearer"
        or not token
        or not hmac.compare_digest(token.encode(), configured.get_secret_value().encode())
    ):
        raise HTTPException(status_code=401, detail="unauthorized", headers={"WWW-Authenticate": "Bearer"})


def consultation_item(desk: DeskConfig, view: ConsultationView) -> dict[str, Any]:
    """The clear fields of a consultation (as the field registry shows them), its personal fields asked for,
    and `undecryptable`: the names of those that do not decrypt with the configured keys (shown as null)."""
    c = view.consultation
    return {
        "id": c.id,
        "reference": c.reference,
        "status": c.status,
        "channel": c.channel,
        "submitted_at": c.submitted_at.astimezone(JST).isoformat(),
        **FIELDS.admin(desk, clear_values(c), personal=False),
        **view.personal,
        "undecryptable": list(view.undecryptable),
    }


@router.get("/consultations", dependencies=[Depends(require_admin)])
def consultations(month: str | None = Query(None), svc: Services = Depends(services)) -> dict[str, Any]:
    """The consultations sorted by submission time, optionally those of one Japan-time month."""
    bounds: tuple[datetime | None, datetime | None] = (None, None)
    if month is not None:
        try:
            bounds = month_bounds(month)
        except ValueError as exc:
            raise HTTPException(status_code=422, detail="month must be YYYY-MM") from exc
    with svc.db.session() as session:
        views = list_consultation_views(
            session=session,
            personal=LIST_PERSONAL_FIELDS,
            submitted_from=bounds[0],
            submitted_before=bounds[1],
        )
        return {"items": [consultation_item(svc.desk, view) for view in views]}


@router.get("/consultations/{consultation_id}", dependencies=[Depends(require_admin)])
def consultation_detail(consultation_id: int, svc: Services = Depends(services)) -> dict[str, Any]:
    """One consultation with its answers, booking, history and outcome records."""
    with svc.db.session() as session:
        view = get_consultation_view(session=session, consultation_id=consultation_id)
        if view is None:
            raise HTTPException(status_code=404, detail="not found")
        c = view.consultation
        item = consultation_item(svc.desk, ConsultationView(c, {}, ()))
        personal = {k: v for k, v in view.personal.items() if k != PERSONAL_EXTRA}
        item["answers"] = {
            "company_name": c.company_name,
            **personal,
            **FIELDS.admin(svc.desk, view.personal, personal=True),  # those without a column of their own
            "notice_version": c.notice_version,
        }
        item["undecryptable"] = list(view.undecryptable)
        item["bookings"] = [
            {
                "id": b.id,
                "status": b.status,
                "coordinator_id": b.coordinator_id,
                "method": b.method,
                "starts_at": b.starts_at.astimezone(JST).isoformat(),
                "ends_at": b.ends_at.astimezone(JST).isoformat(),
                "place": b.place,
                "meeting_url": b.meeting_url,
                "hold_expires_at": b.hold_expires_at.astimezone(JST).isoformat()
                if b.hold_expires_at
                else None,
            }
            for b in list_bookings_for_consultation(session=session, consultation_id=c.id)
        ]
        item["history"] = [
            {"kind": e.kind, "actor": e.actor, "at": e.at.astimezone(JST).isoformat(), "detail": e.detail}
            for e in list_consultation_events(session=session, consultation_id=c.id)
        ]
        item["outcomes"] = outcome_items(session, c.id)
        return item


def content_disposition(file_name: str, fallback: str) -> str:
    """An attachment named in Japanese (RFC 6266 `filename*`), with an ASCII name for old clients."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name)}"


@router.get("/reports/monthly", dependencies=[Depends(require_admin)])
def monthly_report(
    month: str = Query(...), format: str = Query("xlsx"), svc: Services = Depends(services)
) -> FileResponse:
    """The month's report for the prefecture (no personal data), as the CLI writes it."""
    from reporting.build import CONTENT_TYPES, period_for_month, write_report

    if format not in CONTENT_TYPES:
        raise HTTPException(status_code=422, detail="format must be xlsx, pdf or csv")
    try:
        period = period_for_month(month)
    except ValueError as exc:
        raise HTTPException(status_code=422, detail="month must be YYYY-MM") from exc
    handle, name = tempfile.mkstemp(prefix="madoguchi-report-", suffix=f".{format}")
    os.close(handle)
    path = Path(name)
    try:
        made = write_report(
            db=svc.db, desk=svc.desk, period=period, fmt=format, out=path, now=svc.clock.now()
        )
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return FileResponse(
        path,
        media_type=CONTENT_TYPES[format],
        headers={"Content-Disposition": content_disposition(made.file_name, f"report-{month}.{format}")},
        background=BackgroundTask(path.unlink, missing_ok=True),
    )

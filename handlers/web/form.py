"""The web intake form for businesses that do not use LINE: the chat's questions, checks and consent.

POST /form is protected by a double-submit token (a random value in a cookie and in a hidden field);
a valid form becomes a consultation through the same `submit_intake` as the chat.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader
from starlette.concurrency import run_in_threadpool

from bot import texts
from bot.intake import summary_lines
from bot.normalize import is_emoji_only
from bot.submission import submit_intake
from bot.validation import (
    COMPANY_MAX,
    CONTACT_NAME_MAX,
    DESCRIPTION_MAX,
    check_text,
    normalize_email,
    normalize_phone,
)
from config import DeskConfig
from handlers.services import Services
from handlers.web.admin import services
from storage.consultations import record_consent
from storage.contacts import create_anonymous_contact
from storage.interactions import log_interaction

log = logging.getLogger(__name__)

CHANNEL = "web"
CSRF_COOKIE = "madoguchi_form"
CSRF_FIELD = "csrf_token"
CSRF_COOKIE_AGE = 60 * 60 * 24  # a day: long enough to write a description without losing it
MAX_BODY = 64 * 1024  # the longest honest form is about 15 KB of URL-encoded Japanese
MAX_FIELDS = 40
PHONE_MAX = 30
EMAIL_MAX = 254
SHORT_MAX = 64  # select and radio values
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# The fields in the order of the form, with how much of each is kept for showing it again (checks see all).
_FIELD_LIMITS = {
    "company_kind": SHORT_MAX,
    "company_name": COMPANY_MAX * 2,
    "contact_name": CONTACT_NAME_MAX * 2,
    "industry": SHORT_MAX,
    "employees": SHORT_MAX,
    "municipality": SHORT_MAX,
    "category": SHORT_MAX,
    "category2": SHORT_MAX,
    "description": DESCRIPTION_MAX * 2,
    "dx_stage": SHORT_MAX,
    "method": SHORT_MAX,
    "phone": PHONE_MAX * 2,
    "email": EMAIL_MAX,
    "consent": SHORT_MAX,
    "notice_version": SHORT_MAX,
}

# Every sentence the form says, in one place for review.
MESSAGES = {
    "company_kind": "会社名または屋号があるか（「法人・屋号あり」か「個人で屋号なし」か）をお選びください。",
    "company_name": "会社名または屋号（なければお名前）を入力してください。",
    "contact_name": "ご担当者のお名前を入力してください。",
    "industry": "業種を一覧から選んでください。",
    "municipality": "事業所の所在地（市町村）を一覧から選んでください。",
    "employees": "従業員数を一覧から選んでください。",
    "category": "ご相談の分野を一覧から選んでください。",
    "category2": "2つ目の分野は一覧から選ぶか、「特になし」のままにしてください。",
    "category2_same": "2つ目の分野には、1つ目と違う分野を選んでください。",
    "description": "ご相談したい内容を入力してください。",
    "dx_stage": "デジタル化の取り組み状況を選んでください。",
    "method": "ご希望の相談方法を選んでください。",
    "phone": "電話番号の形式をご確認ください（例：099-123-4567）。",
    "email": "メールアドレスの形式をご確認ください（例：info@example.jp）。",
    "contact_missing": "電話番号かメールアドレスを、少なくとも一つ入力してください。",
    "emoji_only": "文字で入力してください。",
    "consent": "個人情報の取り扱いをお読みいただき、同意いただける場合はチェックを入れてください。",
    "notice_changed": "個人情報の取り扱いが更新されました。内容をご確認のうえ、あらためて同意してください。",
    "summary": "入力内容に確認が必要な項目があります。各項目の赤い説明をご確認ください。",
}
ERROR_PAGES = {
    "csrf": (
        "送信を確認できませんでした",
        "お手数ですが、フォームを開き直して、もう一度入力してください。\n"
        "「受け付けました」の画面が表示されていた場合は、お申し込みはすでに完了しています。",
    ),
    "too_large": (
        "入力内容が長すぎます",
        "お手数ですが、ご相談内容を短くして、フォームからもう一度送信してください。",
    ),
    "format": (
        "送信の形式が正しくありません",
        "お手数ですが、フォームを開き直して、もう一度送信してください。",
    ),
}

_pages = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True)

router = APIRouter()
ServicesDep = Annotated[Services, Depends(services)]


class _BadForm(Exception):
    """The request is not a form we can read; the argument names the error page."""


@dataclass
class FormCheck:
    """The outcome of checking a submitted form: the answers for submit_intake, or errors by field."""

    values: dict[str, str]
    answers: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


@router.get("/form", response_class=HTMLResponse)
def show_form(request: Request, svc: ServicesDep) -> HTMLResponse:
    """The empty form, with a fresh (or the visitor's current) CSRF token."""
    token = _cookie_token(request) or secrets.token_urlsafe(32)
    return _form_page(request, svc.desk, token=token, values={}, errors={}, status=200)


@router.post("/form", response_class=HTMLResponse)
async def submit_form(request: Request, svc: ServicesDep) -> HTMLResponse:
    """Checks the token and the answers; stores the consultation or shows the form again with messages."""
    try:
        raw = await _read_form(request)
    except _BadForm as exc:
        return _error_page(svc.desk, str(exc), status=413 if str(exc) == "too_large" else 400)
    cookie_token = _cookie_token(request)
    field_token = raw.get(CSRF_FIELD, "")
    if not cookie_token or not hmac.compare_digest(cookie_token.encode(), field_token.encode()):
        return _error_page(svc.desk, "csrf", status=400)

    check = check_form(svc.desk, raw)
    if check.errors:
        return _form_page(
            request, svc.desk, token=cookie_token, values=check.values, errors=check.errors, status=400
        )
    reference, message = await run_in_threadpool(_store, svc, check.answers)
    log.info("web form: consultation %s submitted", reference)
    nonce = _nonce()
    html = _pages.get_template("form.html").render(
        page="thanks", desk=svc.desk.desk, reference=reference, message=message, nonce=nonce
    )
    response = _html(html, 200, nonce)
    # a new token, so that sending the same page again (reload, back button) is refused, not stored twice
    _set_token_cookie(request, response, secrets.token_urlsafe(32))
    return response


def check_form(desk: DeskConfig, raw: dict[str, str]) -> FormCheck:
    """Validates the submitted fields as the chat does; keeps every value for showing the form again."""
    full = {key: _clean(raw.get(key, "")) for key in _FIELD_LIMITS}
    values = {key: value[: _FIELD_LIMITS[key]] for key, value in full.items()}
    check = FormCheck(values)
    errors, answers = check.errors, check.answers

    for key, limit in (
        ("company_name", COMPANY_MAX),
        ("contact_name", CONTACT_NAME_MAX),
        ("description", DESCRIPTION_MAX),
    ):
        value = full[key].strip()
        if not value:
            errors[key] = MESSAGES[key]
        elif is_emoji_only(value):
            errors[key] = MESSAGES["emoji_only"]
        elif error := check_text(full[key], limit):
            errors[key] = error
        else:
            answers[key] = value

    if values["company_kind"] in ("company", "sole_trader"):
        answers["sole_trader"] = values["company_kind"] == "sole_trader"  # then the name is personal data
    else:
        errors["company_kind"] = MESSAGES["company_kind"]

    for key, kind in (
        ("industry", "industries"),
        ("employees", "employee_bands"),
        ("category", "categories"),
        ("dx_stage", "dx_stages"),
        ("method", "methods"),
    ):
        if desk.choice(kind, values[key]) is None:
            errors[key] = MESSAGES[key]
        else:
            answers[key] = values[key]

    if values["municipality"] in desk.municipality_by_code:
        answers["municipality"] = values["municipality"]
    else:
        errors["municipality"] = MESSAGES["municipality"]

    second = values["category2"]
    if second in ("", "none"):
        answers["category2"] = None
    elif desk.choice("categories", second) is None:
        errors["category2"] = MESSAGES["category2"]
    elif second == values["category"]:
        errors["category2"] = MESSAGES["category2_same"]
    else:
        answers["category2"] = second

    phone_text, email_text = full["phone"].strip(), full["email"].strip()
    phone = normalize_phone(phone_text) if phone_text else None
    email = normalize_email(email_text) if email_text else None
    if phone_text and phone is None:
        errors["phone"] = MESSAGES["phone"]
    if email_text and email is None:
        errors["email"] = MESSAGES["email"]
    if not phone_text and not email_text:
        errors["phone"] = MESSAGES["contact_missing"]
    answers["phone"], answers["email"] = phone, email

    if values["notice_version"] != desk.privacy_notice.version:
        errors["consent"] = MESSAGES["notice_changed"]
        values["consent"] = ""
    elif values["consent"] != "yes":
        errors["consent"] = MESSAGES["consent"]
    answers["_consented"] = desk.privacy_notice.version
    check.errors = {key: errors[key] for key in _FIELD_LIMITS if key in errors}  # in the order of the form
    return check


def _store(svc: Services, answers: dict[str, Any]) -> tuple[str, str]:
    """Records the consent and the consultation with its interaction log; returns the reference and reply."""
    desk = svc.desk
    now = svc.clock.now()
    with svc.db.session() as session:
        contact = create_anonymous_contact(session=session, channel=CHANNEL)
        record_consent(
            session=session,
            contact_id=contact.id,
            notice_version=desk.privacy_notice.version,
            accepted=True,
            at=now,
        )
        inbound = log_interaction(
            session=session,
            at=now,
            channel=CHANNEL,
            direction="in",
            kind="form",
            text=summary_lines(desk, answers, tuple(texts.SUMMARY_LABELS)),
            contact_id=contact.id,
        )
        consultation = submit_intake(
            session=session, desk=desk, contact=contact, channel=CHANNEL, answers=answers, clock=svc.clock
        )
        inbound.consultation_id = consultation.id
        how = {"phone": texts.HOW_BY_PHONE, "email": texts.HOW_BY_EMAIL}.get(
            answers["method"], texts.HOW_EITHER
        )
        message = texts.SUBMITTED.format(
            reference=consultation.reference, how=how, phone=desk.desk.phone, hours=desk.desk.hours
        )
        log_interaction(
            session=session,
            at=now,
            channel=CHANNEL,
            direction="out",
            kind="text",
            text=message,
            contact_id=contact.id,
            consultation_id=consultation.id,
        )
        return consultation.reference, message


def _clean(value: str) -> str:
    """A submitted value with line breaks as "\\n" (as the browser counted them) and no control characters."""
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


async def _read_form(request: Request) -> dict[str, str]:
    """The URL-encoded fields of the body (the first value of each), refusing bodies over MAX_BODY."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise _BadForm("format")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise _BadForm("too_large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise _BadForm("too_large")
    try:
        pairs = parse_qsl(
            body.decode("utf-8", errors="replace"), keep_blank_values=True, max_num_fields=MAX_FIELDS
        )
    except ValueError as exc:
        raise _BadForm("format") from exc
    fields: dict[str, str] = {}
    for key, value in pairs:
        fields.setdefault(key, value)
    return fields


def _cookie_token(request: Request) -> str | None:
    token = request.cookies.get(CSRF_COOKIE, "")
    return token if _TOKEN.match(token) else None


def _set_token_cookie(request: Request, response: HTMLResponse, token: str) -> None:
    response.set_cookie(
        CSRF_COOKIE,
        token,
        max_age=CSRF_COOKIE_AGE,
        path="/form",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def _nonce() -> str:
    return secrets.token_urlsafe(16)


def _html(html: str, status: int, nonce: str | None = None) -> HTMLResponse:
    policy = (
        "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    if nonce:
        policy += f"; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'"
    return HTMLResponse(
        html,
        status_code=status,
        headers={
            "Content-Security-Policy": policy,
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
        },
    )


def _form_page(
    request: Request,
    desk: DeskConfig,
    *,
    token: str,
    values: dict[str, str],
    errors: dict[str, str],
    status: int,
) -> HTMLResponse:
    nonce = _nonce()
    areas = [(area, [m for m in desk.municipalities if m.area == area.id]) for area in desk.areas]
    html = _pages.get_template("form.html").render(
        page="form",
        desk=desk.desk,
        config=desk,
        areas=areas,
        values=values,
        errors=errors,
        summary=MESSAGES["summary"] if errors else "",
        token=token,
        csrf_field=CSRF_FIELD,
        nonce=nonce,
        limits={
            "company_name": COMPANY_MAX,
            "contact_name": CONTACT_NAME_MAX,
            "description": DESCRIPTION_MAX,
            "phone": PHONE_MAX,
            "email": EMAIL_MAX,
        },
    )
    response = _html(html, status, nonce)
    _set_token_cookie(request, response, token)
    return response


def _error_page(desk: DeskConfig, kind: str, *, status: int) -> HTMLResponse:
    nonce = _nonce()
    title, body = ERROR_PAGES[kind]
    html = _pages.get_template("form.html").render(
        page="error", title=title, message=body, nonce=nonce, desk=desk.desk
    )
    return _html(html, status, nonce)

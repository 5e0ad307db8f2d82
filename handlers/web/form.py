"""The web intake form for businesses that do not use LINE: the chat's questions, checks, consent and times.

It works without JavaScript, in two pages when a meeting needs a time: first the answers, then the
coordinators' free times for them (the same SlotBook as the chat's slot step), 日程は相談して決めたい, and a
search around another day. The answers travel as hidden fields and are checked again on every post; the
chosen time is looked up again among the free ones and held on submit, as the chat holds a tapped time.
GET /favicon.ico (the desk's mark) lives here too, as every page that links it can reach this router.

POST /form is protected by a double-submit token (a random value in a cookie and in a hidden field);
a valid form becomes a consultation through the same `submit_intake` as the chat.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse
from jinja2 import Environment, FileSystemLoader
from starlette.concurrency import run_in_threadpool

from bot import texts
from bot.normalize import clean_text, is_emoji_only
from bot.readback import describe_answer, summary_lines
from bot.slots import SlotBook
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
from handlers.web.form_times import (
    TIMES_TEXTS,
    find_free_slot,
    parse_choice,
    parse_search_day,
    propose_times,
    thanks_lines,
    times_view,
)
from scheduling import Slot
from storage.channels import Channel
from storage.consultations import record_consent
from storage.contacts import create_anonymous_contact
from storage.interactions import log_interaction

log = logging.getLogger(__name__)

CHANNEL = Channel.WEB
CSRF_COOKIE = "madoguchi_form"
CSRF_FIELD = "csrf_token"
CSRF_COOKIE_AGE = 60 * 60 * 24  # a day: long enough to write a description without losing it
MAX_BODY = 64 * 1024  # the longest honest form is about 15 KB of URL-encoded Japanese
MAX_FIELDS = 40
PHONE_MAX = 30
EMAIL_MAX = 254
SHORT_MAX = 64  # select and radio values
FAVICON = Path(__file__).parent / "static" / "favicon.svg"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# The fields in the order of the form, with how much of each is kept for showing it again (checks see all).
# These are also the answers the times page carries as hidden fields.
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

# Each field's name as its label shows it: the form's labels and every error line use these.
FIELD_NAMES = {
    "company_kind": "会社名・屋号の有無",
    "company_name": "会社名・屋号（屋号なしの場合は事業主のお名前）",
    "contact_name": "ご担当者のお名前",
    "industry": "業種",
    "employees": "従業員数",
    "municipality": "事業所の所在地",
    "category": "ご相談の分野",
    "category2": "ほかに関係する分野",
    "description": "ご相談したい内容",
    "dx_stage": "デジタル化の取り組み状況",
    "method": "ご希望の相談方法",
    "phone": "電話番号",
    "email": "メールアドレス",
    "consent": "個人情報の取り扱い",
    "slot": "ご希望の日時",
    "around": "ほかの日から探す",
}

# Every sentence the form says, in one place for review. An error is shown as 「field name：message」.
MESSAGES = {
    "company_kind": "「法人・屋号あり」か「個人で屋号なし」をお選びください。",
    "company_name": "会社名・屋号、またはお名前をご入力ください。",
    "contact_name": "ご担当者のお名前をご入力ください。",
    "industry": "一覧からお選びください。",
    "municipality": "市町村を一覧からお選びください。",
    "employees": "一覧からお選びください。",
    "category": "一覧からお選びください。",
    "category2": "一覧からお選びください（なければ「特になし」のままで結構です）。",
    "category2_same": "1つ目の分野とは違う分野をお選びください。",
    "description": "ご相談したい内容をご入力ください。",
    "dx_stage": "近いものを一つお選びください。",
    "method": "ご希望の方法を一つお選びください。",
    "phone": "形式をご確認ください（例：099-123-4567）。",
    "email": "形式をご確認ください（例：info@example.jp）。",
    "contact_missing": "電話番号かメールアドレスを、少なくとも一つご入力ください。",
    "emoji_only": "文字でご入力ください。",
    "consent": "内容をお読みいただき、同意いただける場合はチェックをお入れください。",
    "notice_changed": "内容が更新されました。ご確認のうえ、あらためて同意をお願いします。",
    "summary": "入力内容に確認が必要な項目があります。",
}
ERROR_PAGES = {
    "csrf": (
        "送信を確認できませんでした",
        "お手数ですが、フォームを開き直して、もう一度ご入力ください。\n"
        "「受け付けました」の画面が表示されていた場合は、お申し込みはすでに完了しています。",
    ),
    "too_large": (
        "入力内容が長すぎます",
        "お手数ですが、ご相談内容を短くして、フォームからもう一度お送りください。",
    ),
    "format": (
        "送信の形式が正しくありません",
        "お手数ですが、フォームを開き直して、もう一度お送りください。",
    ),
}

_pages = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True)

router = APIRouter()
ServicesDep = Annotated[Services, Depends(services)]


class _BadForm(Exception):
    """The request is not a form we can read; the argument names the error page."""


class _SlotTaken(Exception):
    """The chosen time is no longer free (someone took it, or it no longer meets the rules)."""


@dataclass
class FormCheck:
    """The outcome of checking a submitted form: the answers for submit_intake, or errors by field."""

    values: dict[str, str]
    answers: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Stored:
    """A submitted consultation as the thanks page shows it."""

    reference: str
    message: str
    slot: Slot | None
    slot_later: bool


@router.get("/form", response_class=HTMLResponse)
def show_form(request: Request, svc: ServicesDep) -> HTMLResponse:
    """The empty form, with a fresh (or the visitor's current) CSRF token."""
    token = _cookie_token(request) or secrets.token_urlsafe(32)
    return _form_page(request, svc.desk, token=token, values={}, errors={}, status=200)


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    """The desk's mark (a window, 窓口), for the form's and the simulator's browser tabs."""
    return FileResponse(
        FAVICON,
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


@router.post("/form", response_class=HTMLResponse)
async def submit_form(request: Request, svc: ServicesDep) -> HTMLResponse:
    """Checks the token and the answers; then offers times for a meeting, holds the one chosen and stores the
    consultation, or shows the page again with messages."""
    try:
        raw = await _read_form(request)
    except _BadForm as exc:
        return _error_page(svc.desk, str(exc), status=413 if str(exc) == "too_large" else 400)
    cookie_token = _cookie_token(request)
    field_token = raw.get(CSRF_FIELD, "")
    if not cookie_token or not hmac.compare_digest(cookie_token.encode(), field_token.encode()):
        return _error_page(svc.desk, "csrf", status=400)

    check = check_form(svc.desk, raw)
    action = raw.get("action", "")
    if check.errors or action == "edit":
        return _form_page(
            request,
            svc.desk,
            token=cookie_token,
            values=check.values,
            errors=check.errors,
            status=400 if check.errors else 200,
        )
    wants_slot = check.answers["method"] in svc.desk.scheduling.rules.slot_methods
    on_times_page = raw.get("stage") == "times"
    chosen: datetime | None = None
    if wants_slot:
        if not on_times_page:
            return await _times_page(request, svc, cookie_token, check)
        if action == "online":
            check.values["method"] = check.answers["method"] = "online"
            return await _times_page(request, svc, cookie_token, check)
        if action == "search":
            around = parse_search_day(raw.get("around", ""))
            if around is None:
                errors = {"around": TIMES_TEXTS["around"]}
                return await _times_page(request, svc, cookie_token, check, errors=errors, status=400)
            return await _times_page(request, svc, cookie_token, check, around=around)
        try:
            chosen = parse_choice(raw.get("slot", ""))
        except ValueError:
            errors = {"slot": TIMES_TEXTS["slot"].format(later=texts.DECIDE_LATER)}
            return await _times_page(request, svc, cookie_token, check, errors=errors, status=400)
    try:
        stored = await run_in_threadpool(_store, svc, check.answers, chosen)
    except _SlotTaken:
        return await _times_page(
            request, svc, cookie_token, check, errors={"slot": texts.SLOT_TAKEN}, status=409
        )
    log.info("web form: consultation %s submitted", stored.reference)
    held, notes = thanks_lines(stored.slot, stored.slot_later)
    nonce = _nonce()
    html = _pages.get_template("form.html").render(
        page="thanks",
        desk=svc.desk.desk,
        reference=stored.reference,
        # the page shows the reference once, large; the message keeps it for the log and the chat's wording
        message="\n".join(line for line in stored.message.splitlines() if stored.reference not in line),
        held=held,
        notes=notes,
        nonce=nonce,
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
        value = clean_text(full[key]).strip()
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


def _store(svc: Services, answers: dict[str, Any], chosen: datetime | None) -> Stored:
    """Holds the chosen time (raising _SlotTaken, with nothing stored, when it is no longer free), records
    the consent and the consultation with its interaction log, and gives the hold to the consultation."""
    desk = svc.desk
    now = svc.clock.now()
    with svc.db.session() as session:
        contact = create_anonymous_contact(session=session, channel=CHANNEL)
        book = SlotBook(session, desk, svc.engine.calendars, svc.clock, contact.id)
        slot: Slot | None = None
        answers = dict(answers)
        if book.wants_slot(answers):
            if chosen is None:
                answers["slot_later"] = True
            else:
                slot = find_free_slot(book, answers, chosen)
                if slot is None or not book.hold(slot):
                    raise _SlotTaken  # leaves the transaction: the contact and the hold are rolled back
                answers["slot"] = slot.as_dict()
        record_consent(
            session=session,
            contact_id=contact.id,
            notice_version=desk.privacy_notice.version,
            accepted=True,
            at=now,
        )
        keys = tuple(k for k in texts.SUMMARY_LABELS if k != "slot" or book.wants_slot(answers))
        inbound = log_interaction(
            session=session,
            at=now,
            channel=CHANNEL,
            direction="in",
            kind="form",
            text=summary_lines(desk, answers, keys),
            contact_id=contact.id,
        )
        consultation = submit_intake(
            session=session, desk=desk, contact=contact, channel=CHANNEL, answers=answers, clock=svc.clock
        )
        inbound.consultation_id = consultation.id
        if slot is not None:
            book.attach(consultation.id)
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
        return Stored(consultation.reference, message, slot, bool(answers.get("slot_later")))


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
    """The answers page, empty or as sent (with the errors by field)."""
    nonce = _nonce()
    areas = [(area, [m for m in desk.municipalities if m.area == area.id]) for area in desk.areas]
    html = _pages.get_template("form.html").render(
        page="form",
        desk=desk.desk,
        config=desk,
        areas=areas,
        values=values,
        errors=errors,
        names=FIELD_NAMES,
        summary=MESSAGES["summary"] if errors else "",
        next_note=TIMES_TEXTS["next_note"],
        slot_methods=list(desk.scheduling.rules.slot_methods),
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


async def _times_page(
    request: Request,
    svc: Services,
    token: str,
    check: FormCheck,
    *,
    around: datetime | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The second page: the free times for the answers (or why there are none), 日程は相談して決めたい, a
    search around another day, and the answers carried along (shown, and in hidden fields)."""
    desk = svc.desk
    proposal = await run_in_threadpool(propose_times, svc, check.answers, around)
    view = times_view(desk, proposal, check.answers, around)
    nonce = _nonce()
    html = _pages.get_template("form.html").render(
        page="times",
        desk=desk.desk,
        names=FIELD_NAMES,
        errors=errors or {},
        summary=MESSAGES["summary"] if errors else "",
        view=view,
        later_checked=view.later_checked and not errors,
        answered=[
            (label, describe_answer(desk, check.answers, key))
            for key, label in texts.SUMMARY_LABELS.items()
            if key != "slot"
        ],
        carried=[(key, check.values[key]) for key in _FIELD_LIMITS],
        token=token,
        csrf_field=CSRF_FIELD,
        nonce=nonce,
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

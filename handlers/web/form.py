"""The web intake form for businesses that do not use LINE: the chat's questions, checks, consent and times.

It works without JavaScript, in two pages when a meeting needs a time: first the answers, then the
coordinators' free times for them (the same SlotBook as the chat's slot step), 日程は相談して決めたい, and a
search around another day. The answers travel as hidden fields and are checked again on every post; the
chosen time is looked up again among the free ones and held on submit, as the chat holds a tapped time.
GET /favicon.ico (the desk's mark) lives here too, as every page that links it can reach this router.

POST /form is protected by a double-submit token (a random value in a cookie and in a hidden field);
a valid form becomes a consultation through the same `submit_intake` as the chat. The token is also the
form's identity: the transaction that stores the consultation claims it first (storage/form_submissions.py),
so the same form posted twice, at once or later, stores one consultation and answers both posts with its
thanks page; after that the cookie gets a new token, and the form opened again is a new one.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse
from jinja2 import Environment, FileSystemLoader
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from bot import texts
from bot.bookings import booking_slot
from bot.field_kinds import SHORT_MAX, Control, Meeting
from bot.fields import FIELDS, label
from bot.lifecycle import BookingStatus
from bot.readback import describe_answer, summary_lines
from bot.slots import SlotBook
from bot.submission import announce_submission, submit_intake, submitted_reply
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
from storage.bookings import get_active_booking
from storage.channels import Channel
from storage.consultations import record_consent
from storage.contacts import create_anonymous_contact
from storage.form_submissions import (
    claim_form_token,
    find_form_consultation,
    follows,
    record_form_consultation,
    token_after,
)
from storage.interactions import log_interaction
from storage.models import Consultation

log = logging.getLogger(__name__)

CHANNEL = Channel.WEB
CSRF_COOKIE = "madoguchi_form"
CSRF_FIELD = "csrf_token"
CSRF_COOKIE_AGE = 60 * 60 * 24  # a day: long enough to write a description without losing it
MAX_BODY = 64 * 1024  # the longest honest form is about 15 KB of URL-encoded Japanese
SPARE_FIELDS = 25  # beyond the questions' inputs: consent, the token, the stage, the action, the time, …
FAVICON = Path(__file__).parent / "static" / "favicon.svg"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

NOT_FIELDS = ("consent", "notice_version")  # the form's inputs that are no question of the registry


class _Live(Mapping[str, str]):
    """A table read from the field registry each time (a test may add a question)."""

    def __init__(self, pick: int, extra: dict[str, str]) -> None:
        self._pick, self._extra = pick, extra

    def _table(self) -> dict[str, str]:
        own = {name: pair[self._pick] for f in FIELDS.on_form() for name, pair in f.kind.inputs(f).items()}
        return {**own, **self._extra}

    def __getitem__(self, key: str) -> str:
        return self._table()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())


# Each input's name as its label shows it: the form's labels and every error line use these (bot/fields.py).
FIELD_NAMES: Mapping[str, str] = _Live(
    0, {"consent": "個人情報の取り扱い", "slot": "ご希望の日時", "around": "ほかの日から探す"}
)

# Every sentence the form says besides the fields' own (bot/fields.py). An error is shown as 「name：message」.
MESSAGES: Mapping[str, str] = _Live(
    1,
    {
        "category2_same": texts.FORM_SAME_CHOICE,
        "contact_missing": texts.CONTACT_MISSING,
        "emoji_only": texts.FORM_EMOJI_ONLY,
        "consent": "内容をお読みいただき、同意いただける場合はチェックをお入れください。",
        "notice_changed": "内容が更新されました。ご確認のうえ、あらためて同意をお願いします。",
        "summary": "入力内容に確認が必要な項目があります。",
    },
)
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
    again: bool = False  # stored by an earlier post of the same form (the same token)


@router.get("/form", response_class=HTMLResponse)
def show_form(request: Request, svc: ServicesDep) -> HTMLResponse:
    """The empty form, with the visitor's current CSRF token, or a fresh one when there is none or the
    current one has been sent already (its answer may have been lost): a new form is a new request."""
    token = _cookie_token(request)
    if token is not None:
        with svc.db.session() as session:
            if find_form_consultation(session=session, token=token) is not None:
                token = None
    token = token or secrets.token_urlsafe(32)
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
        if cookie_token and _TOKEN.match(field_token) and follows(cookie_token, field_token):
            stored = await run_in_threadpool(_stored_again, svc, field_token)
            if stored is not None:  # the form was sent, and the browser got the token after it
                return _thanks_page(request, svc, field_token, stored)
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
        stored = await run_in_threadpool(_store, svc, cookie_token, check.answers, chosen)
    except _SlotTaken:
        return await _times_page(
            request, svc, cookie_token, check, errors={"slot": texts.SLOT_TAKEN}, status=409
        )
    return _thanks_page(request, svc, cookie_token, stored)


def _thanks_page(request: Request, svc: Services, token: str, stored: Stored) -> HTMLResponse:
    """The consultation's reference and what happens next; the cookie gets the token after the form's."""
    if stored.again:
        log.info("web form: consultation %s sent again, its thanks page shown again", stored.reference)
    else:
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
    # a new token: the next form this browser opens is a new request (this one sent again, its thanks)
    _set_token_cookie(request, response, token_after(token))
    return response


@dataclass(frozen=True)
class _Row:
    controls: list[Control]

    @property
    def pair(self) -> bool:
        return len(self.controls) > 1


@dataclass(frozen=True)
class _Section:
    heading: str
    help: str
    rows: list[_Row]


def form_sections(desk: DeskConfig) -> list[_Section]:
    """The form's cards, rows and inputs, from the registry: a field `beside` another joins its row."""
    sections: list[_Section] = []
    rows: dict[str, _Row] = {}
    for f in FIELDS.on_form():
        if f.form.section or not sections:
            sections.append(_Section(f.form.section, f.form.section_help, []))
        controls = f.kind.controls(desk, f)
        if f.form.beside in rows:
            rows[f.form.beside].controls.extend(controls)
            continue
        rows[f.key] = _Row(list(controls))
        sections[-1].rows.append(rows[f.key])
    return sections


def form_controls(desk: DeskConfig) -> list[Control]:
    """Every input of the form, in its order."""
    return [c for section in form_sections(desk) for row in section.rows for c in row.controls]


def check_form(desk: DeskConfig, raw: dict[str, str]) -> FormCheck:
    """Validates the submitted fields as the chat does; keeps every value for showing the form again."""
    controls = form_controls(desk)
    keep = {**{c.name: c.keep for c in controls}, **dict.fromkeys(NOT_FIELDS, SHORT_MAX)}
    full = {key: _clean(raw.get(key, "")) for key in keep}
    values = {key: value[: keep[key]] for key, value in full.items()}
    check = FormCheck(values)
    errors, answers = check.errors, check.answers
    for f in FIELDS.on_form():
        errors.update(f.kind.check_form(desk, f, full, answers))

    if values["notice_version"] != desk.privacy_notice.version:
        errors["consent"] = MESSAGES["notice_changed"]
        values["consent"] = ""
    elif values["consent"] != "yes":
        errors["consent"] = MESSAGES["consent"]
    answers["_consented"] = desk.privacy_notice.version
    check.errors = {key: errors[key] for key in keep if key in errors}  # in the order of the form
    return check


def _summary_keys(book: SlotBook, answers: dict[str, Any]) -> tuple[str, ...]:
    return tuple(
        f.key for f in FIELDS.summary() if not isinstance(f.kind, Meeting) or book.wants_slot(answers)
    )


def _store(svc: Services, token: str, answers: dict[str, Any], chosen: datetime | None) -> Stored:
    """Claims the form's token (or finds the consultation an earlier post of it stored, and stores
    nothing), holds the chosen time (raising _SlotTaken, with nothing stored, when it is no longer free),
    records the consent and the consultation with its interaction log, and gives the hold to the
    consultation."""
    desk = svc.desk
    now = svc.clock.now()
    with svc.db.session() as session:
        # first, so that a second post of the form waits here for the first and takes no time of its own
        earlier = claim_form_token(session=session, token=token, now=now)
        if earlier is not None:
            return _stored_before(session, desk, earlier)
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
        inbound = log_interaction(
            session=session,
            at=now,
            channel=CHANNEL,
            direction="in",
            kind="form",
            text=summary_lines(desk, answers, _summary_keys(book, answers)),
            contact_id=contact.id,
        )
        consultation = submit_intake(
            session=session, desk=desk, contact=contact, channel=CHANNEL, answers=answers, clock=svc.clock
        )
        inbound.consultation_id = consultation.id
        record_form_consultation(session=session, token=token, consultation_id=consultation.id)
        if slot is not None:
            book.attach(consultation.id)
        booking = announce_submission(session=session, outbound=svc.outbound, consultation=consultation)
        message = submitted_reply(desk, consultation, booking)
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


def _stored_again(svc: Services, token: str) -> Stored | None:
    """The thanks page of the consultation the form of this token stored, if it did."""
    with svc.db.session() as session:
        consultation_id = find_form_consultation(session=session, token=token)
        return None if consultation_id is None else _stored_before(session, svc.desk, consultation_id)


def _stored_before(session: Session, desk: DeskConfig, consultation_id: int) -> Stored:
    """The thanks page of a consultation stored by an earlier post of the form, as its booking is now (the
    post's own page, unless a coordinator has acted meanwhile). Nothing is logged: no new message came."""
    consultation = session.get(Consultation, consultation_id)
    assert consultation is not None  # the claim's row goes with its consultation
    booking = get_active_booking(session=session, consultation_id=consultation.id)
    held = booking is not None and booking.status in (BookingStatus.HELD, BookingStatus.REQUESTED)
    return Stored(
        consultation.reference,
        submitted_reply(desk, consultation, booking),
        booking_slot(booking) if booking is not None and held else None,
        booking is None and consultation.method in desk.scheduling.rules.slot_methods,
        again=True,
    )


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
            body.decode("utf-8", errors="replace"), keep_blank_values=True, max_num_fields=_max_fields()
        )
    except ValueError as exc:
        raise _BadForm("format") from exc
    fields: dict[str, str] = {}
    for key, value in pairs:
        fields.setdefault(key, value)
    return fields


def _max_fields() -> int:
    """How many fields an honest form sends at most: one per input of the registry's questions, and the rest."""
    return len(FIELD_NAMES) + SPARE_FIELDS


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
    sections = form_sections(desk)
    html = _pages.get_template("form.html").render(
        page="form",
        desk=desk.desk,
        config=desk,
        sections=sections,
        values=values,
        errors=errors,
        names=FIELD_NAMES,
        summary=MESSAGES["summary"] if errors else "",
        slot_methods=list(desk.scheduling.rules.slot_methods),
        token=token,
        csrf_field=CSRF_FIELD,
        nonce=nonce,
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
            (label(f, check.answers), describe_answer(desk, check.answers, f.key))
            for f in FIELDS.summary()
            if not isinstance(f.kind, Meeting)
        ],
        carried=[(key, check.values[key]) for key in check.values],
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

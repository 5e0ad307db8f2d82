"""The outcome of a consultation (対応記録): recorded by its coordinator once the meeting's time has passed,
through the life cycle (confirmed → done) in one transaction with the record, and the referrals it names
put to the owner first.

A referral to a partner institution or an IT vendor provides the owner's data to a third party (APPI Art.
27): recording one asks the owner on their channel (同意する / 同意しない, postback data
`r<consent id>|referral|agree`), and the referral counts as made only once they agree. The engine hands
those postbacks to answer_referral whatever conversation the owner is in. Records are append-only
(storage/outcomes.py); the card follows each step through the coordinators' notices. Nothing here knows
Slack or LINE.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from bot import outcome_texts as texts
from bot.decisions import notify_coordinators
from bot.lifecycle import BookingStatus, ConsultationStatus, transition_booking, transition_consultation
from bot.messages import Button, OutMessage
from bot.postback import Postback, encode
from bot.sending import NoSender, Outbound
from config import DeskConfig
from storage import outcomes as store
from storage.bookings import Booking, get_booking
from storage.models import Consultation, Contact

log = logging.getLogger(__name__)

CONSENT_STEP = "referral"  # the postback step of the consent question, answered outside any flow
# The kinds of notice the card follows
OFFERED = "outcome_offered"
RECORDED = "outcome_recorded"
ANSWERED = "referral_answered"

SUMMARY_MAX = 2000
NEXT_ACTION_MAX = 500
VENDOR_MAX = 100  # characters of one vendor's name
VENDORS_MAX = 10
MINUTES_MAX = 24 * 60
CLOSING_RESULTS = frozenset({"resolved", "referred", "information"})  # the desk is done with the case


class Result(StrEnum):
    """What came of the consultation (storage.outcomes.RESULTS holds the same values)."""

    RESOLVED = "resolved"  # 解決
    CONTINUING = "continuing"  # 継続支援
    REFERRED = "referred"  # 他機関紹介
    INFORMATION = "information"  # 情報提供のみ
    ON_HOLD = "on_hold"  # 保留


@dataclass(frozen=True)
class OutcomeForm:
    """What the coordinator entered."""

    method: str
    minutes: int
    summary: str
    result: str
    programmes: tuple[str, ...] = ()
    next_action: str = ""
    next_action_on: date | None = None
    onsite: bool = False
    partners: tuple[str, ...] = ()
    vendors: tuple[str, ...] = ()


def form_problems(desk: DeskConfig, form: OutcomeForm) -> dict[str, str]:
    """What is wrong with the form, by field name (empty: it can be recorded)."""
    problems: dict[str, str] = {}
    if desk.choice("methods", form.method) is None:
        problems["method"] = "method"
    if not 1 <= form.minutes <= MINUTES_MAX:
        problems["minutes"] = "minutes"
    if not form.summary.strip() or len(form.summary) > SUMMARY_MAX:
        problems["summary"] = "summary"
    if form.result not in set(Result):
        problems["result"] = "result"
    if any(desk.outcomes.programme(p) is None for p in form.programmes):
        problems["programmes"] = "programmes"
    if any(desk.outcomes.partner(p) is None for p in form.partners):
        problems["partners"] = "partners"
    if len(form.vendors) > VENDORS_MAX or any(not v or len(v) > VENDOR_MAX for v in form.vendors):
        problems["vendors"] = "vendors"
    if len(form.next_action) > NEXT_ACTION_MAX:
        problems["next_action"] = "next_action"
    return problems


def split_vendors(text: str) -> tuple[str, ...]:
    """The vendors' names typed one a line or separated by 、 or commas."""
    for separator in ("、", ",", "，"):
        text = text.replace(separator, "\n")
    return tuple(dict.fromkeys(name.strip() for name in text.splitlines() if name.strip()))


class Recorded(StrEnum):
    """What came of submitting a record."""

    RECORDED = "recorded"
    ALREADY = "already"  # the booking has its record already (a second submission, a replay)
    NOT_YET = "not_yet"  # the meeting's time has not passed
    NOT_CONFIRMED = "not_confirmed"  # the booking did not take place as a confirmed one
    INVALID = "invalid"


@dataclass(frozen=True)
class RecordResult:
    status: Recorded
    record_id: int | None = None
    asked_owner: bool = False
    problems: dict[str, str] = field(default_factory=dict)


def may_record(booking: Booking, now: datetime) -> Recorded | None:
    """Why this booking cannot get its record now (None: it can)."""
    if booking.status == BookingStatus.DONE:
        return Recorded.ALREADY
    if booking.status != BookingStatus.CONFIRMED or booking.consultation_id is None:
        return Recorded.NOT_CONFIRMED
    if booking.ends_at > now:
        return Recorded.NOT_YET
    return None


def record_outcome(
    *,
    session: Session,
    desk: DeskConfig,
    outbound: Outbound,
    booking_id: int,
    form: OutcomeForm,
    actor: str,
    now: datetime,
) -> RecordResult:
    """Stores the record of a confirmed booking whose time has passed, the booking done (once: the life
    cycle's compare-and-set refuses a second submission), the consultation closed when the result ends
    the case; asks the owner about any referral; refreshes the card."""
    problems = form_problems(desk, form)
    if problems:
        return RecordResult(Recorded.INVALID, problems=problems)
    booking = get_booking(session=session, booking_id=booking_id)
    if booking is None:
        return RecordResult(Recorded.NOT_CONFIRMED)
    refused = may_record(booking, now)
    if refused is not None:
        return RecordResult(refused)
    consultation_id = booking.consultation_id
    assert consultation_id is not None
    done = transition_booking(
        session=session,
        booking_id=booking_id,
        to=BookingStatus.DONE,
        expected_from=BookingStatus.CONFIRMED,
        actor=actor,
        reason="outcome recorded",
        now=now,
    )
    if not done:
        return RecordResult(Recorded.ALREADY)
    record = store.add_outcome_record(
        session=session,
        consultation_id=consultation_id,
        booking_id=booking_id,
        revision=1,
        method=form.method,
        minutes=form.minutes,
        summary=form.summary.strip(),
        result=form.result,
        programmes=list(form.programmes),
        next_action=form.next_action.strip() or None,
        next_action_on=form.next_action_on,
        onsite=form.onsite,
        partners=list(form.partners),
        vendors=list(form.vendors),
        recorded_by=actor,
        recorded_at=now,
    )
    if record is None:  # cannot happen after the compare-and-set, but never two first revisions
        raise RuntimeError(f"booking {booking_id} has a record already")
    if form.result in CLOSING_RESULTS:
        transition_consultation(
            session=session,
            consultation_id=consultation_id,
            to=ConsultationStatus.CLOSED,
            expected_from=ConsultationStatus.IN_PROGRESS,
            actor=actor,
            reason=f"outcome {form.result}",
            now=now,
        )
    asked = False
    if form.partners or form.vendors:
        asked = _ask_consent(session, desk, outbound, record, now)
    notify_coordinators(
        session=session,
        outbound=outbound,
        consultation_id=consultation_id,
        kind=RECORDED,
        booking_id=booking_id,
    )
    return RecordResult(Recorded.RECORDED, record_id=record.id, asked_owner=asked)


def revise_outcome(
    *,
    session: Session,
    desk: DeskConfig,
    outbound: Outbound,
    booking_id: int,
    form: OutcomeForm,
    actor: str,
    now: datetime,
) -> RecordResult:
    """Corrects a booking's record: a new revision beside the earlier ones (which stay, unchanged); its
    referrals are put to the owner again, and an answer to an earlier question is then stale."""
    problems = form_problems(desk, form)
    if problems:
        return RecordResult(Recorded.INVALID, problems=problems)
    previous = store.current_outcome(session=session, booking_id=booking_id)
    if previous is None:
        return RecordResult(Recorded.NOT_CONFIRMED)
    record = store.add_outcome_record(
        session=session,
        consultation_id=previous.consultation_id,
        booking_id=booking_id,
        revision=previous.revision + 1,
        method=form.method,
        minutes=form.minutes,
        summary=form.summary.strip(),
        result=form.result,
        programmes=list(form.programmes),
        next_action=form.next_action.strip() or None,
        next_action_on=form.next_action_on,
        onsite=form.onsite,
        partners=list(form.partners),
        vendors=list(form.vendors),
        recorded_by=actor,
        recorded_at=now,
    )
    if record is None:  # another correction took this revision first
        return RecordResult(Recorded.ALREADY)
    asked = bool(form.partners or form.vendors) and _ask_consent(session, desk, outbound, record, now)
    notify_coordinators(
        session=session,
        outbound=outbound,
        consultation_id=record.consultation_id,
        kind=RECORDED,
        booking_id=booking_id,
    )
    return RecordResult(Recorded.RECORDED, record_id=record.id, asked_owner=asked)


def referral_targets(desk: DeskConfig, record: store.OutcomeRecord) -> list[str]:
    """The names of the record's partners and vendors, as the owner and the card read them."""
    partners = [desk.outcomes.partner(p) for p in record.partners]
    return [p.name for p in partners if p is not None] + list(record.vendors)


def consent_data(consent_id: int, answer: str) -> str:
    return encode(f"r{consent_id}", CONSENT_STEP, answer)


def _ask_consent(
    session: Session, desk: DeskConfig, outbound: Outbound, record: store.OutcomeRecord, now: datetime
) -> bool:
    """Writes the consent row and queues the question to the owner; False when their channel cannot be
    asked here (the desk asks them by phone or mail, and the card says so)."""
    consultation = session.get(Consultation, record.consultation_id)
    assert consultation is not None
    consent = store.add_consent(
        session=session, outcome=record, contact_id=consultation.contact_id, asked=True, now=now
    )
    targets = "\n".join(texts.CONSENT_TARGET.format(name=n) for n in referral_targets(desk, record))
    question = OutMessage(
        texts.CONSENT_QUESTION.format(reference=consultation.reference, targets=targets),
        (
            Button(texts.CONSENT_AGREE, consent_data(consent.id, "agree"), display=texts.CONSENT_AGREE),
            Button(
                texts.CONSENT_DISAGREE, consent_data(consent.id, "disagree"), display=texts.CONSENT_DISAGREE
            ),
        ),
    )
    try:
        outbound.to_contact(
            session=session,
            contact=consultation.contact,
            messages=[question],
            reason="referral_consent",
            consultation_id=consultation.id,
        )
    except NoSender:
        consent.asked = False
        session.flush()
        log.info(
            "consultation %s: the owner's channel has no sender; consent not asked here", consultation.id
        )
        return False
    return True


def is_consent_postback(postback: Postback | None) -> bool:
    return postback is not None and postback.step == CONSENT_STEP


@dataclass(frozen=True)
class ConsentAnswer:
    """What the owner is told, and the consultation it is about (None: not found)."""

    reply: str
    consultation_id: int | None = None


def answer_referral(
    *,
    session: Session,
    desk: DeskConfig,
    outbound: Outbound,
    contact: Contact,
    postback: Postback,
    now: datetime,
) -> ConsentAnswer:
    """Records the owner's answer to a consent question, once; a repeated, stale or unknown answer changes
    nothing and is told so. The card is refreshed with the answer."""
    phone = desk.desk.phone
    consent_id = int(postback.token[1:]) if postback.token[1:].isdigit() else None
    consent = store.get_consent(session=session, consent_id=consent_id) if consent_id else None
    answer = postback.value if postback.value in texts.ANSWER_LABELS else None
    if consent is None or consent.contact_id != contact.id or answer is None:
        return ConsentAnswer(texts.CONSENT_UNKNOWN.format(phone=phone))
    record = session.get(store.OutcomeRecord, consent.outcome_id)
    current = store.current_outcome(session=session, booking_id=record.booking_id) if record else None
    if record is None or current is None or current.id != record.id:
        return ConsentAnswer(texts.CONSENT_STALE, consent.consultation_id)
    if consent.answer is not None or not store.answer_consent(
        session=session, consent_id=consent.id, answer=answer, now=now
    ):
        session.refresh(consent)
        given = texts.ANSWER_LABELS.get(consent.answer or "", "")
        return ConsentAnswer(texts.CONSENT_ALREADY.format(answer=given, phone=phone), consent.consultation_id)
    session.refresh(consent)
    notify_coordinators(
        session=session,
        outbound=outbound,
        consultation_id=consent.consultation_id,
        kind=ANSWERED,
        booking_id=record.booking_id,
    )
    reply = texts.CONSENT_AGREED if answer == "agree" else texts.CONSENT_DISAGREED
    return ConsentAnswer(reply, consent.consultation_id)


def offer_outcome_records(session: Session, outbound: Outbound, now: datetime) -> int:
    """Refreshes the card of each confirmed booking whose time has ended, once per booking, so that it
    offers 対応記録を入力 (the follow-ups job calls this); how many were offered."""
    offered = 0
    for booking in store.bookings_awaiting_offer(session=session, now=now):
        if not store.mark_offered(session=session, booking_id=booking.id, now=now):
            continue
        assert booking.consultation_id is not None
        notify_coordinators(
            session=session,
            outbound=outbound,
            consultation_id=booking.consultation_id,
            kind=OFFERED,
            booking_id=booking.id,
        )
        offered += 1
    return offered


def consent_status(consent: store.ReferralConsent | None) -> str:
    """`none` (no referral), `not_asked`, `asked`, `agree` or `disagree`."""
    if consent is None:
        return "none"
    if consent.answer:
        return consent.answer
    return "asked" if consent.asked else "not_asked"

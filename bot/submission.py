"""Turning a finished intake into a stored consultation, for every channel (chat and web form), and the
"受け付けました" reply both send."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from bot import texts
from bot.bookings import booking_when
from bot.decisions import REQUESTED, SUBMITTED, notify_coordinators
from bot.fields import EXTRA, FIELDS, PERSONAL_EXTRA, IncompleteIntake, label
from bot.lifecycle import BookingStatus
from bot.sending import Outbound
from config import DeskConfig
from storage.bookings import Booking, get_active_booking
from storage.channels import Channel
from storage.clock import JST, Clock
from storage.consultations import create_consultation, latest_consultation
from storage.models import Consultation, Contact

__all__ = [
    "IncompleteIntake",
    "announce_submission",
    "clear_values",
    "consultation_fields",
    "consultation_lines",
    "previous_answers",
    "stored_values",
    "submit_intake",
    "submitted_reply",
]


def consultation_fields(desk: DeskConfig, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The consultation's columns from the intake answers (IncompleteIntake names the missing ones)."""
    return {
        **FIELDS.stored(desk, answers),
        "notice_version": answers.get("_consented") or desk.privacy_notice.version,
    }


def submit_intake(
    *,
    session: Session,
    desk: DeskConfig,
    contact: Contact,
    channel: str,
    answers: Mapping[str, Any],
    clock: Clock,
) -> Consultation:
    """Stores the consultation as submitted, with its company and history."""
    now = clock.now()
    return create_consultation(
        session=session,
        contact=contact,
        channel=channel,
        fields=consultation_fields(desk, answers),
        submitted_at=now,
        reference_prefix=now.astimezone(JST).strftime("%Y%m"),
    )


def announce_submission(
    *, session: Session, outbound: Outbound, consultation: Consultation
) -> Booking | None:
    """Tells the coordinators of the request just stored (its card is written in this transaction), once its
    hold (if any) is the consultation's; returns that booking."""
    booking = get_active_booking(session=session, consultation_id=consultation.id)
    notify_coordinators(
        session=session,
        outbound=outbound,
        consultation_id=consultation.id,
        kind=REQUESTED if booking is not None else SUBMITTED,
        booking_id=booking.id if booking is not None else None,
    )
    return booking


def submitted_reply(desk: DeskConfig, consultation: Consultation, booking: Booking | None = None) -> str:
    """What the owner is told once the consultation is stored: its reference, and the time held for them
    (provisional until a coordinator confirms it) or how the desk gets back."""
    if booking is not None and booking.status in (BookingStatus.HELD, BookingStatus.REQUESTED):
        by_contact = consultation.channel == Channel.WEB  # the form's owners have no chat to hear back in
        return texts.SUBMITTED_HELD.format(
            reference=consultation.reference,
            notify=texts.NOTIFY_BY_CONTACT if by_contact else texts.NOTIFY_BY_LINE,
            when=booking_when(booking),
            phone=desk.desk.phone,
            hours=desk.desk.hours,
        )
    how = {"phone": texts.HOW_BY_PHONE, "email": texts.HOW_BY_EMAIL}.get(
        consultation.method, texts.HOW_EITHER
    )
    return texts.SUBMITTED.format(
        reference=consultation.reference, how=how, phone=desk.desk.phone, hours=desk.desk.hours
    )


def stored_values(consultation: Consultation) -> dict[str, Any]:
    """A consultation's stored values as the registry reads them: the fields' columns (decrypted: for a
    loaded consultation), with extra and personal_extra."""
    values = {column: getattr(consultation, column) for column in FIELDS.columns()}
    values[EXTRA] = consultation.extra
    values[PERSONAL_EXTRA] = consultation.personal_extra
    return values


def consultation_lines(
    desk: DeskConfig,
    consultation: Consultation,
    *,
    personal: bool = False,
    leave_out: frozenset[str] = frozenset(),
) -> list[tuple[str, str]]:
    """A stored consultation's answers as (label, words) in the registry's order, for a card or a report; the
    personal ones only when asked for (reading them needs the consultation's encrypted columns), without
    the fields whose keys are in `leave_out`."""
    readable = [
        f for f in FIELDS if f.kind.slots(f) and (personal or not f.personal) and f.key not in leave_out
    ]
    values = stored_values(consultation) if personal else clear_values(consultation)
    answers = FIELDS.answers_from(values, readable)
    return [(label(f, answers), f.kind.describe(desk, f, answers) or "—") for f in readable if f.summary]


def clear_values(consultation: Consultation) -> dict[str, Any]:
    """A consultation's stored values that are not personal data: its encrypted columns need not be loaded."""
    personal = set(FIELDS.personal_columns())
    values = {c: getattr(consultation, c) for c in FIELDS.columns() if c not in personal}
    values[EXTRA] = consultation.extra
    return values


def previous_answers(*, session: Session, contact_id: int) -> dict[str, Any] | None:
    """The company answers of the contact's last consultation, for a returning owner to reuse."""
    last = latest_consultation(session=session, contact_id=contact_id)
    if last is None:
        return None
    return FIELDS.answers_from(stored_values(last), FIELDS.reusable())

"""The outcome's part of the approval card: the button 対応記録を入力 once the booking's time has passed
(bot.outcomes.offer_outcome_records marked it), and what was recorded, with the owner's answer about the
referrals. The summary and the next action stay off the card: they are for the record and the report."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot import outcomes
from bot.lifecycle import BookingStatus
from bot.outcome_texts import RESULT_LABELS
from config import DeskConfig
from handlers.slack import outcome_texts as texts
from storage import outcomes as store
from storage.bookings import Booking

OUTCOME = "card_outcome"  # the button's action_id; its value is the card's `c<id>:b<id>`


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _method_name(desk: DeskConfig, method: str) -> str:
    choice = desk.choice("methods", method)
    return choice.name if choice is not None else method


def outcome_button(session: Session, booking: Booking, value: str) -> dict[str, Any] | None:
    """対応記録を入力, for a confirmed booking offered a record."""
    if booking.status != BookingStatus.CONFIRMED or not store.was_offered(
        session=session, booking_id=booking.id
    ):
        return None
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": texts.BUTTON_OUTCOME},
        "action_id": OUTCOME,
        "value": value,
        "style": "primary",
    }


def outcome_blocks(session: Session, desk: DeskConfig, booking: Booking) -> list[dict[str, Any]]:
    """The booking's current record as the card shows it (nothing before one is recorded)."""
    record = store.current_outcome(session=session, booking_id=booking.id)
    if record is None:
        return []
    lines = [
        texts.RECORD_LINE.format(
            result=RESULT_LABELS.get(record.result, record.result),
            method=_escape(_method_name(desk, record.method)),
            minutes=record.minutes,
            onsite=texts.ONSITE if record.onsite else "",
        )
    ]
    programmes = [desk.outcomes.programme(p) for p in record.programmes]
    names = [p.name for p in programmes if p is not None]
    if names:
        lines.append(texts.PROGRAMMES_LINE.format(names=_escape("、".join(names))))
    if record.next_action_on is not None or record.next_action:
        when = f"{record.next_action_on:%Y/%m/%d}" if record.next_action_on else texts.NEXT_UNDATED
        lines.append(texts.NEXT_LINE.format(when=when))
    targets = outcomes.referral_targets(desk, record)
    if targets:
        consent = store.consent_for(session=session, outcome_id=record.id)
        status = outcomes.consent_status(consent)
        lines.append(
            texts.REFERRALS_LINE.format(
                names=_escape("、".join(targets)), consent=texts.CONSENT_STATES.get(status, status)
            )
        )
    text = "\n".join(lines)[:3000]
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]

"""The approval card: a consultation as coordinators see it in Slack (Block Kit, within its limits, with the
top-level `text` Slack shows in notifications), rendered from what is stored now.

What the owner wrote is on the card; how to reach them is not: 連絡先を見る shows it to the one who asks,
ephemerally, and each viewing is recorded (storage.slack_cards.ContactView). Button values carry ids only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import proposals
from bot.bookings import booking_when
from bot.lifecycle import BookingStatus
from bot.submission import consultation_lines
from config import DeskConfig
from handlers.slack import outcome_card, outcome_texts, texts
from scheduling.labels import label_moment
from storage.bookings import Booking, list_bookings_for_consultation
from storage.clock import JST
from storage.follow_ups import latest_score
from storage.models import Consultation, ConsultationEvent

METADATA_TYPE = "madoguchi_card"  # the message metadata that names the consultation a card is of
CONTACT_KEYS = frozenset({"contact_name", "contact"})  # behind 連絡先を見る, never on the card
LEFT_OUT = CONTACT_KEYS | {"slot"}  # the held time is shown from the booking itself
SECTION_MAX = 3000
HEADER_MAX = 150
TEXT_MAX = 2000  # the notification text: well under Slack's 40,000

# The card's actions (action_id); their values are `c<consultation id>` or `c<id>:b<booking id>`
APPROVE, PROPOSE, REASSIGN, DECLINE, CONTACT = (
    "card_approve",
    "card_propose",
    "card_reassign",
    "card_decline",
    "card_contact",
)
DECISIONS = {
    "booking_confirmed": texts.DECIDED_CONFIRMED,
    "booking_declined": texts.DECIDED_DECLINED,
    "booking_cancelled": texts.DECIDED_CANCELLED,
    "booking_expired": texts.DECIDED_EXPIRED,
    "booking_done": outcome_texts.DECIDED_DONE,
}


@dataclass(frozen=True)
class Card:
    text: str
    blocks: list[dict[str, Any]]
    metadata: dict[str, Any]


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: what someone typed cannot mention a channel or forge a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def button_value(consultation_id: int, booking_id: int | None = None) -> str:
    return f"c{consultation_id}" + (f":b{booking_id}" if booking_id is not None else "")


def parse_value(value: str) -> tuple[int | None, int | None]:
    """(consultation id, booking id) of a button's value; None for what is not there or not a number."""
    consultation_id = booking_id = None
    for part in (value or "").split(":"):
        if part[:1] in ("c", "b") and part[1:].isdigit():
            if part[0] == "c":
                consultation_id = int(part[1:])
            else:
                booking_id = int(part[1:])
    return consultation_id, booking_id


def metadata_of(consultation_id: int) -> dict[str, Any]:
    return {"event_type": METADATA_TYPE, "event_payload": {"consultation_id": consultation_id}}


def coordinator_mention(desk: DeskConfig, coordinator_id: str | None) -> str:
    """`<@U…>` for a coordinator with a Slack id, else their name."""
    coordinator = next((c for c in desk.scheduling.coordinators if c.id == coordinator_id), None)
    if coordinator is None:
        return texts.NOBODY
    return f"<@{coordinator.slack_user_id}>" if coordinator.slack_user_id else escape(coordinator.name)


def _booking(session: Session, consultation_id: int) -> Booking | None:
    """The consultation's booking the card is about: the last one (active or not)."""
    bookings = list_bookings_for_consultation(session=session, consultation_id=consultation_id)
    return bookings[-1] if bookings else None


def _decision(session: Session, consultation_id: int, booking: Booking) -> str | None:
    kind = f"booking_{booking.status}"
    if kind not in DECISIONS:
        return None
    event = session.scalars(
        select(ConsultationEvent)
        .where(ConsultationEvent.consultation_id == consultation_id, ConsultationEvent.kind == kind)
        .order_by(ConsultationEvent.id.desc())
        .limit(1)
    ).first()
    if event is None:
        return DECISIONS[kind].format(who=texts.NOBODY, at="")
    who = (
        f"<@{event.actor}>"
        if event.actor.startswith(("U", "W"))
        else texts.ACTORS.get(event.actor, event.actor)
    )
    return DECISIONS[kind].format(who=who, at=f"{event.at.astimezone(JST):%m/%d %H:%M}")


def _reassigned(session: Session, desk: DeskConfig, consultation_id: int, booking: Booking) -> str | None:
    """The last change of coordinator of the booking, as the card shows it."""
    events = session.scalars(
        select(ConsultationEvent)
        .where(
            ConsultationEvent.consultation_id == consultation_id,
            ConsultationEvent.kind == "booking_reassigned",
        )
        .order_by(ConsultationEvent.id.desc())
    )
    event = next((e for e in events if (e.detail or {}).get("booking_id") == booking.id), None)
    if event is None:
        return None
    detail = event.detail or {}
    return texts.DECIDED_REASSIGNED.format(
        who=f"<@{event.actor}>" if event.actor.startswith(("U", "W")) else escape(event.actor),
        at=f"{event.at.astimezone(JST):%m/%d %H:%M}",
        old=coordinator_mention(desk, detail.get("from_coordinator")),
        new=coordinator_mention(desk, detail.get("to_coordinator")),
    )


def _proposal_steps(session: Session, consultation_id: int, booking: Booking) -> list[str]:
    """Each step of the booking's proposals of other times (proposed, accepted, asked again, taken)."""
    events = session.scalars(
        select(ConsultationEvent)
        .where(
            ConsultationEvent.consultation_id == consultation_id,
            ConsultationEvent.kind.in_(proposals.STEPS),
        )
        .order_by(ConsultationEvent.id)
    )
    lines = []
    for event in events:
        detail = event.detail or {}
        if detail.get("booking_id") != booking.id:
            continue
        at = f"{event.at.astimezone(JST):%m/%d %H:%M}"
        if event.kind == proposals.PROPOSED:
            times = "、".join(
                label_moment(datetime.fromisoformat(t))
                for t in detail.get("times") or []
                if isinstance(t, str)
            )
            who = f"<@{event.actor}>" if event.actor.startswith(("U", "W")) else escape(event.actor)
            lines.append(texts.STEP_PROPOSED.format(who=who, at=at, times=times))
        elif event.kind == proposals.PROPOSAL_ASKED_AGAIN:
            lines.append(texts.STEP_ASKED_AGAIN.format(at=at))
        else:
            time = detail.get("time")
            shown = label_moment(datetime.fromisoformat(time)) if isinstance(time, str) else ""
            step = texts.STEP_ACCEPTED if event.kind == proposals.PROPOSAL_ACCEPTED else texts.STEP_TAKEN
            lines.append(step.format(time=shown, at=at))
    return lines[-10:]  # the latest steps, well inside a section's 3,000 characters


def render_card(session: Session, desk: DeskConfig, consultation: Consultation) -> Card:
    """The consultation's card as it stands: the request, the held time, who is suggested, what was decided."""
    booking = _booking(session, consultation.id)
    coordinator_id = booking.coordinator_id if booking is not None else None
    lines = consultation_lines(desk, consultation, personal=True, leave_out=LEFT_OUT)
    title = texts.CARD_TITLE.format(reference=consultation.reference)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(title, HEADER_MAX)}},
    ]
    for label, words in lines:
        text = f"*{escape(label)}*\n{escape(words)}"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, SECTION_MAX)}})
    when = booking_when(booking) if booking is not None else texts.NO_TIME
    status = texts.BOOKING_STATES.get(booking.status, "") if booking is not None else ""
    blocks.append(
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*{texts.HELD_TIME}*\n{when}{status}"},
                {
                    "type": "mrkdwn",
                    "text": f"*{texts.SUGGESTED}*\n{coordinator_mention(desk, coordinator_id)}",
                },
            ],
        }
    )
    reassigned = _reassigned(session, desk, consultation.id, booking) if booking is not None else None
    if reassigned:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": reassigned}})
    steps = _proposal_steps(session, consultation.id, booking) if booking is not None else []
    if steps:
        text = _cut("\n".join(steps), SECTION_MAX)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    decided = _decision(session, consultation.id, booking) if booking is not None else None
    if decided:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": decided}})
    if booking is not None:
        blocks.extend(outcome_card.outcome_blocks(session, desk, booking))
    score = latest_score(session=session, consultation_id=consultation.id)
    if score is not None:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": texts.SURVEY_SCORE.format(score=score)}}
        )
    booking_id = booking.id if booking is not None else None
    value = button_value(consultation.id, booking_id)
    buttons: list[dict[str, Any]] = []
    if booking is not None and booking.status == BookingStatus.REQUESTED:
        buttons = [
            _button(texts.BUTTON_APPROVE, APPROVE, value, style="primary"),
            _button(texts.BUTTON_PROPOSE, PROPOSE, value),
            _button(texts.BUTTON_REASSIGN, REASSIGN, value),
            _button(texts.BUTTON_DECLINE, DECLINE, value, style="danger"),
        ]
    record_button = outcome_card.outcome_button(session, booking, value) if booking is not None else None
    if record_button is not None:
        buttons.append(record_button)
    buttons.append(_button(texts.BUTTON_CONTACT, CONTACT, button_value(consultation.id)))
    blocks.append({"type": "actions", "block_id": f"card_{consultation.id}", "elements": buttons})
    blocks.append(
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": texts.CARD_REFERENCE.format(reference=consultation.reference)}
            ],
        }
    )
    text = texts.CARD_TEXT.format(reference=consultation.reference, when=when)
    if decided:
        text += " " + texts.CARD_TEXT_DECIDED
    return Card(text=_cut(text, TEXT_MAX), blocks=blocks, metadata=metadata_of(consultation.id))


def _button(text: str, action_id: str, value: str, *, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def contact_text(desk: DeskConfig, consultation: Consultation) -> str:
    """The contact details, for the one who asked (ephemeral)."""
    lines = [
        (label, words)
        for label, words in consultation_lines(desk, consultation, personal=True)
        if label in _contact_labels(desk, consultation)
    ]
    body = "\n".join(f"*{escape(label)}*：{escape(words)}" for label, words in lines)
    return _cut(texts.CONTACT_SHOWN.format(reference=consultation.reference, lines=body), SECTION_MAX)


def _contact_labels(desk: DeskConfig, consultation: Consultation) -> set[str]:
    every = {label for label, _ in consultation_lines(desk, consultation, personal=True)}
    others = {
        label for label, _ in consultation_lines(desk, consultation, personal=True, leave_out=CONTACT_KEYS)
    }
    return every - others

"""The card's buttons: acknowledged at once, then acted on off the event loop, through the life cycle.

承認 confirms the booking (bot.decisions.approve), お断り opens a modal for the reason and declines it
(bot.decisions.decline): the owner is told on LINE and the card is refreshed,
both through the outbox, in the transaction of the change. Whoever may not act on the request, and a
click that comes too late (a second click, a replay, another coordinator first), changes nothing and
gets an ephemeral note. 担当を変更 is handlers/slack/reassign.py's, 別の日時を提案 handlers/slack/retime.py's. 連絡先を見る shows the contact details to the one who asked, and records it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import anyio
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.orm import Session

from bot import decisions
from bot.texts import BOOKING_STATUS_LABELS
from config.slack import may_act
from handlers.services import Services
from handlers.slack import texts
from handlers.slack.cards import APPROVE, CONTACT, DECLINE, contact_text, parse_value
from storage.bookings import Booking, get_active_booking, get_booking
from storage.models import Consultation
from storage.slack_cards import record_contact_view

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Click:
    """A button click, as the listeners need it."""

    user: str
    channel: str | None
    value: str


def read_click(body: dict[str, Any]) -> Click:
    action = (body.get("actions") or [{}])[0]
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    return Click(
        user=str((body.get("user") or {}).get("id") or ""),
        channel=channel,
        value=str(action.get("value") or ""),
    )


def clicked_booking(session: Session, services: Services, click: Click) -> Booking | str:
    """The booking of the card clicked, when the one who clicked may act on it; otherwise the note for them."""
    _, booking_id = parse_value(click.value)
    booking = get_booking(session=session, booking_id=booking_id) if booking_id is not None else None
    if booking is None:
        return texts.GONE
    if not may_act(services.desk, click.user, booking):
        return texts.NOT_YOURS
    return booking


def approve(services: Services, click: Click) -> str | None:
    """Confirms the clicked request; the note for the clicker (None: the card itself shows the decision)."""
    with services.db.session() as session:
        booking = clicked_booking(session, services, click)
        if isinstance(booking, str):
            return booking
        booking_id = booking.id
        result = decisions.approve(
            session=session,
            desk=services.desk,
            outbound=services.outbound,
            booking_id=booking.id,
            actor=click.user,
            now=services.clock.now(),
            calendars=services.engine.calendars,
        )
        if not result:
            status = BOOKING_STATUS_LABELS.get(str(result.from_status), str(result.from_status))
            return texts.ALREADY_DECIDED.format(status=status)
    log.info("booking %s confirmed from Slack", booking_id)
    return None


def show_contact(services: Services, click: Click) -> str:
    """The contact details for one who may act on the request, the viewing recorded; a note otherwise."""
    consultation_id, _ = parse_value(click.value)
    with services.db.session() as session:
        consultation = session.get(Consultation, consultation_id) if consultation_id is not None else None
        if consultation is None:
            return texts.GONE
        booking = get_active_booking(session=session, consultation_id=consultation.id)
        if not may_act(services.desk, click.user, booking):
            return texts.NOT_YOURS
        record_contact_view(
            session=session,
            consultation_id=consultation.id,
            slack_user_id=click.user,
            now=services.clock.now(),
        )
        return contact_text(services.desk, consultation)


DECLINE_VIEW = "card_decline_view"
REASON_BLOCK, REASON_ACTION, NOTE_BLOCK, NOTE_ACTION = "reason", "reason_choice", "note", "note_text"
NOTE_MAX = 500


def decline_modal(click: Click) -> dict[str, Any]:
    """The お断り modal: the reason (a choice) and a word for the owner (optional); the card's ids travel in
    private_metadata, with the channel the note goes to."""
    options = [
        {"text": {"type": "plain_text", "text": label}, "value": code}
        for code, label in texts.DECLINE_REASONS.items()
    ]
    return {
        "type": "modal",
        "callback_id": DECLINE_VIEW,
        "private_metadata": f"{click.value}|{click.channel or ''}",
        "title": {"type": "plain_text", "text": texts.DECLINE_TITLE},
        "submit": {"type": "plain_text", "text": texts.DECLINE_SUBMIT},
        "close": {"type": "plain_text", "text": texts.DECLINE_CLOSE},
        "blocks": [
            {
                "type": "input",
                "block_id": REASON_BLOCK,
                "label": {"type": "plain_text", "text": texts.DECLINE_REASON_LABEL},
                "element": {
                    "type": "static_select",
                    "action_id": REASON_ACTION,
                    "options": options,
                    "initial_option": options[0],
                },
            },
            {
                "type": "input",
                "block_id": NOTE_BLOCK,
                "optional": True,
                "label": {"type": "plain_text", "text": texts.DECLINE_NOTE_LABEL},
                "element": {
                    "type": "plain_text_input",
                    "action_id": NOTE_ACTION,
                    "multiline": True,
                    "max_length": NOTE_MAX,
                },
            },
        ],
    }


def read_decline(body: dict[str, Any]) -> tuple[Click, str, str]:
    """The click the modal was opened from, the reason chosen and the note typed."""
    view = body.get("view") or {}
    value, _, channel = str(view.get("private_metadata") or "").partition("|")
    values = (view.get("state") or {}).get("values") or {}
    chosen = ((values.get(REASON_BLOCK) or {}).get(REASON_ACTION) or {}).get("selected_option") or {}
    note = ((values.get(NOTE_BLOCK) or {}).get(NOTE_ACTION) or {}).get("value") or ""
    user = str((body.get("user") or {}).get("id") or "")
    return (
        Click(user=user, channel=channel or None, value=value),
        str(chosen.get("value") or ""),
        note[:NOTE_MAX],
    )


def decline(services: Services, click: Click, reason: str, note: str) -> str:
    """Declines the request the modal was opened from; the note for the one who submitted it."""
    with services.db.session() as session:
        booking = clicked_booking(session, services, click)
        if isinstance(booking, str):
            return booking
        booking_id = booking.id
        result = decisions.decline(
            session=session,
            desk=services.desk,
            outbound=services.outbound,
            booking_id=booking.id,
            actor=click.user,
            reason=reason,
            note=note,
            now=services.clock.now(),
            calendars=services.engine.calendars,
        )
        if not result:
            status = BOOKING_STATUS_LABELS.get(str(result.from_status), str(result.from_status))
            return texts.ALREADY_DECIDED.format(status=status)
    log.info("booking %s declined from Slack", booking_id)
    return texts.DECLINED


async def tell(client: AsyncWebClient, click: Click, text: str | None) -> None:
    if text and click.channel and click.user:
        await client.chat_postEphemeral(channel=click.channel, user=click.user, text=text)


def register(app: AsyncApp, services: Services) -> list[str]:
    """Registers the card's buttons; returns their action ids."""

    @app.action(APPROVE)
    async def on_approve(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        click = read_click(body)
        note = await anyio.to_thread.run_sync(approve, services, click)
        await tell(client, click, note)

    @app.action(CONTACT)
    async def on_contact(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        click = read_click(body)
        await tell(client, click, await anyio.to_thread.run_sync(show_contact, services, click))

    @app.action(DECLINE)
    async def on_decline(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        click = read_click(
            body
        )  # the modal first: its trigger_id lasts 3 s; who may act is checked on submit
        await client.views_open(trigger_id=body["trigger_id"], view=decline_modal(click))

    @app.view(DECLINE_VIEW)
    async def on_decline_submitted(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        click, reason, note = read_decline(body)
        result = await anyio.to_thread.run_sync(decline, services, click, reason, note)
        await tell(client, click, result)

    return [APPROVE, CONTACT, DECLINE, DECLINE_VIEW]

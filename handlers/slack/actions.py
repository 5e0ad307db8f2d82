"""The card's buttons: acknowledged at once, then acted on off the event loop, through the life cycle.

承認 confirms the booking (bot.decisions.approve): the owner is told on LINE and the card is refreshed,
both through the outbox, in the transaction of the change. Whoever may not act on the request, and a
click that comes too late (a second click, a replay, another coordinator first), changes nothing and
gets an ephemeral note. 連絡先を見る shows the contact details to the one who asked, and records it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import anyio
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import decisions
from bot.texts import BOOKING_STATUS_LABELS
from config.slack import may_act
from handlers.services import Services
from handlers.slack import texts
from handlers.slack.cards import APPROVE, CONTACT, DECLINE, PROPOSE, REASSIGN, contact_text, parse_value
from storage.bookings import get_active_booking, get_booking
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


def approve(services: Services, click: Click) -> str | None:
    """Confirms the clicked request; the note for the clicker (None: the card itself shows the decision)."""
    _, booking_id = parse_value(click.value)
    with services.db.session() as session:
        booking = get_booking(session=session, booking_id=booking_id) if booking_id is not None else None
        if booking is None:
            return texts.GONE
        if not may_act(services.desk, click.user, booking):
            return texts.NOT_YOURS
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


async def _tell(client: AsyncWebClient, click: Click, text: str | None) -> None:
    if text and click.channel and click.user:
        await client.chat_postEphemeral(channel=click.channel, user=click.user, text=text)


def register(app: AsyncApp, services: Services) -> list[str]:
    """Registers the card's buttons; returns their action ids."""

    @app.action(APPROVE)
    async def on_approve(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        click = read_click(body)
        note = await anyio.to_thread.run_sync(approve, services, click)
        await _tell(client, click, note)

    @app.action(CONTACT)
    async def on_contact(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        click = read_click(body)
        await _tell(client, click, await anyio.to_thread.run_sync(show_contact, services, click))

    async def not_yet(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await _tell(client, read_click(body), texts.NOT_YET)

    for action_id in (PROPOSE, REASSIGN, DECLINE):
        app.action(action_id)(not_yet)
    return [APPROVE, CONTACT, PROPOSE, REASSIGN, DECLINE]

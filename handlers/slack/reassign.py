"""担当を変更 from the card: a modal opened at once (the trigger_id lasts 3 s), then filled with the desk's
other coordinators who take the request; on submit the booking moves to the one chosen when its held
time is free for them (bot.decisions.reassign), and the card is refreshed through the outbox. Whoever
may not act on the request changes nothing and gets an ephemeral note.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import decisions
from bot.bookings import booking_when
from bot.texts import BOOKING_STATUS_LABELS
from handlers.services import Services
from handlers.slack import texts
from handlers.slack.actions import Click, clicked_booking, read_click, tell
from handlers.slack.cards import REASSIGN, escape, parse_value
from handlers.slack.retime import offer_retime
from storage.bookings import get_booking
from storage.models import Consultation

log = logging.getLogger(__name__)

REASSIGN_VIEW = "card_reassign_view"
PICK_BLOCK, PICK_ACTION = "coordinator", "coordinator_choice"
OPTIONS_MAX = 100  # a static_select's options


def _modal(click: Click, blocks: list[dict[str, Any]], *, submit: bool) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": REASSIGN_VIEW,
        "private_metadata": f"{click.value}|{click.channel or ''}",
        "title": {"type": "plain_text", "text": texts.REASSIGN_TITLE},
        "close": {"type": "plain_text", "text": texts.DECLINE_CLOSE},
        "blocks": blocks,
    }
    if submit:
        view["submit"] = {"type": "plain_text", "text": texts.REASSIGN_SUBMIT}
    return view


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def loading_modal(click: Click) -> dict[str, Any]:
    """What opens at once, before the database is read."""
    return _modal(click, [_section(texts.REASSIGN_LOADING)], submit=False)


def choices_modal(services: Services, click: Click) -> dict[str, Any]:
    """The modal with the coordinators to choose from (or why there are none)."""
    _, booking_id = parse_value(click.value)
    with services.db.session() as session:
        booking = get_booking(session=session, booking_id=booking_id) if booking_id is not None else None
        consultation = (
            session.get(Consultation, booking.consultation_id)
            if booking is not None and booking.consultation_id is not None
            else None
        )
        if booking is None or consultation is None:
            return _modal(click, [_section(texts.GONE)], submit=False)
        others = decisions.other_coordinators(services.desk, consultation, booking)
        intro = texts.REASSIGN_INTRO.format(reference=consultation.reference, when=booking_when(booking))
    if not others:
        return _modal(click, [_section(intro), _section(texts.REASSIGN_NOBODY)], submit=False)
    options = [
        {"text": {"type": "plain_text", "text": c.name[:75]}, "value": c.id} for c in others[:OPTIONS_MAX]
    ]
    pick = {
        "type": "input",
        "block_id": PICK_BLOCK,
        "label": {"type": "plain_text", "text": texts.REASSIGN_LABEL},
        "element": {"type": "static_select", "action_id": PICK_ACTION, "options": options},
    }
    return _modal(click, [_section(intro), pick], submit=True)


def read_choice(body: dict[str, Any]) -> tuple[Click, str]:
    """The click the modal was opened from, and the coordinator chosen."""
    view = body.get("view") or {}
    value, _, channel = str(view.get("private_metadata") or "").partition("|")
    values = (view.get("state") or {}).get("values") or {}
    chosen = ((values.get(PICK_BLOCK) or {}).get(PICK_ACTION) or {}).get("selected_option") or {}
    user = str((body.get("user") or {}).get("id") or "")
    return Click(user=user, channel=channel or None, value=value), str(chosen.get("value") or "")


def reassign(services: Services, click: Click, coordinator_id: str) -> tuple[str, bool]:
    """Gives the request to the coordinator chosen; the note for the one who submitted the modal, and
    whether 別の日時を提案 goes with it (the time is not free for the one chosen)."""
    coordinator = services.desk.scheduling.coordinator(coordinator_id)
    who = escape(coordinator.name) if coordinator is not None else texts.NOBODY
    with services.db.session() as session:
        booking = clicked_booking(session, services, click)
        if isinstance(booking, str):
            return booking, False
        booking_id = booking.id
        when, status = booking_when(booking), str(booking.status)
        result = decisions.reassign(
            session=session,
            desk=services.desk,
            outbound=services.outbound,
            booking_id=booking.id,
            coordinator_id=coordinator_id,
            actor=click.user,
            clock=services.clock,
            calendars=services.engine.calendars,
        )
    if result is decisions.Reassigned.DECIDED:
        return texts.ALREADY_DECIDED.format(status=BOOKING_STATUS_LABELS.get(status, status)), False
    if result is decisions.Reassigned.NOT_TAKEN:
        return texts.REASSIGN_NOT_TAKEN.format(who=who), False
    if result is decisions.Reassigned.FULL:
        return texts.REASSIGN_FULL.format(who=who, day=when.split(" ")[0]), True
    if result is decisions.Reassigned.BUSY:
        return texts.REASSIGN_BUSY.format(who=who, when=when), True
    log.info("booking %s reassigned from Slack", booking_id)
    return texts.REASSIGNED.format(who=who), False


def register(app: AsyncApp, services: Services) -> list[str]:
    """Registers 担当を変更 and its modal; returns their ids."""

    @app.action(REASSIGN)
    async def on_reassign(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        click = read_click(body)
        # The modal first: its trigger_id lasts 3 s; the choices follow, and who may act is checked on submit
        opened = await client.views_open(trigger_id=body["trigger_id"], view=loading_modal(click))
        view = opened.get("view") or {}
        filled = await anyio.to_thread.run_sync(choices_modal, services, click)
        await client.views_update(view_id=view["id"], hash=view.get("hash"), view=filled)

    @app.view(REASSIGN_VIEW)
    async def on_reassign_submitted(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        click, coordinator_id = read_choice(body)
        note, offer = await anyio.to_thread.run_sync(reassign, services, click, coordinator_id)
        if offer:  # the time went to someone else: another time is one click away
            await offer_retime(client, click, note)
        else:
            await tell(client, click, note)

    return [REASSIGN, REASSIGN_VIEW]

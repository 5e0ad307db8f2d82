"""別の日時を提案 from the card: a modal opened at once (the trigger_id lasts 3 s), then filled with the assigned
coordinator's free slots (the slot finder's, as many as one LINE message to the owner can offer) and a
free date and time; on submit the owner gets the times on LINE (bot.proposals), through the outbox. Whoever
may not act on the request changes nothing and gets an ephemeral note. Also the ephemeral offer of the
button, for a coordinator whose time was just taken by another request.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import anyio
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import proposals
from bot.bookings import booking_when
from handlers.services import Services
from handlers.slack import texts
from handlers.slack.actions import Click, clicked_booking, read_click
from handlers.slack.cards import PROPOSE, parse_value
from scheduling import Slot
from scheduling.labels import label_slot_range
from storage.bookings import get_booking
from storage.models import Consultation

log = logging.getLogger(__name__)

RETIME_VIEW = "card_retime_view"
SLOTS_BLOCK, SLOTS_ACTION = "slots", "slot_choice"
FREE_BLOCK, FREE_ACTION = "free", "free_time"


def _modal(click: Click, blocks: list[dict[str, Any]], *, submit: bool) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": RETIME_VIEW,
        "private_metadata": f"{click.value}|{click.channel or ''}",
        "title": {"type": "plain_text", "text": texts.RETIME_TITLE},
        "close": {"type": "plain_text", "text": texts.DECLINE_CLOSE},
        "blocks": blocks,
    }
    if submit:
        view["submit"] = {"type": "plain_text", "text": texts.RETIME_SUBMIT}
    return view


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _slot_value(slot: Slot) -> str:
    """A slot as an option's value (at most 150 characters): its four moments, in seconds."""
    moments = (slot.starts_at, slot.ends_at, slot.blocked_from, slot.blocked_until)
    return ".".join(str(int(m.timestamp())) for m in moments)


def _slot_of(value: str, coordinator_id: str, method: str) -> Slot | None:
    parts = value.split(".")
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        return None
    starts, ends, blocked_from, blocked_until = (datetime.fromtimestamp(int(p), UTC) for p in parts)
    if not (blocked_from <= starts < ends <= blocked_until):
        return None
    return Slot(coordinator_id, method, starts, ends, blocked_from, blocked_until)


def loading_modal(click: Click) -> dict[str, Any]:
    """What opens at once, before the database and the calendars are read."""
    return _modal(click, [_section(texts.RETIME_LOADING)], submit=False)


def slots_modal(services: Services, click: Click) -> dict[str, Any]:
    """The modal with the coordinator's free slots to tick and a date and time to type."""
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
        count = proposals.offer_count(services.outbound, consultation.contact.channel)
        slots = proposals.free_slots(
            session=session,
            desk=services.desk,
            calendars=services.engine.calendars,
            clock=services.clock,
            booking=booking,
            consultation=consultation,
            count=min(count, 10),  # a checkboxes element shows at most 10 options
        )
        intro = texts.RETIME_INTRO.format(reference=consultation.reference, when=booking_when(booking))
    blocks = [_section(intro)]
    if slots:
        options = [
            {"text": {"type": "plain_text", "text": label_slot_range(s)}, "value": _slot_value(s)}
            for s in slots
        ]
        blocks.append(
            {
                "type": "input",
                "block_id": SLOTS_BLOCK,
                "optional": True,
                "label": {"type": "plain_text", "text": texts.RETIME_SLOTS_LABEL.format(count=count)},
                "element": {"type": "checkboxes", "action_id": SLOTS_ACTION, "options": options},
            }
        )
    else:
        blocks.append(_section(texts.RETIME_NO_SLOTS))
    blocks.append(
        {
            "type": "input",
            "block_id": FREE_BLOCK,
            "optional": True,
            "label": {"type": "plain_text", "text": texts.RETIME_FREE_LABEL},
            "element": {"type": "datetimepicker", "action_id": FREE_ACTION},
        }
    )
    return _modal(click, blocks, submit=True)


def read_submission(body: dict[str, Any]) -> tuple[Click, list[str], int | None, str]:
    """The click the modal was opened from, the slots ticked, the moment typed (epoch seconds), the view id."""
    view = body.get("view") or {}
    value, _, channel = str(view.get("private_metadata") or "").partition("|")
    values = (view.get("state") or {}).get("values") or {}
    ticked = ((values.get(SLOTS_BLOCK) or {}).get(SLOTS_ACTION) or {}).get("selected_options") or []
    typed = ((values.get(FREE_BLOCK) or {}).get(FREE_ACTION) or {}).get("selected_date_time")
    user = str((body.get("user") or {}).get("id") or "")
    return (
        Click(user=user, channel=channel or None, value=value),
        [str(o.get("value") or "") for o in ticked if isinstance(o, dict)],
        int(typed) if isinstance(typed, int | str) and str(typed).isdigit() else None,
        str(view.get("id") or ""),
    )


def submission_errors(services: Services, ticked: list[str], typed: int | None) -> dict[str, str]:
    """The modal's errors, by block id (empty: the times may be sent)."""
    if not ticked and typed is None:
        return {FREE_BLOCK: texts.RETIME_NOTHING_CHOSEN}
    if typed is not None and typed <= services.clock.now().timestamp():
        return {FREE_BLOCK: texts.RETIME_PAST}
    return {}


def propose(services: Services, click: Click, ticked: list[str], typed: int | None, view_id: str) -> str:
    """Sends the owner the times chosen; the note for the one who submitted the modal."""
    with services.db.session() as session:
        booking = clicked_booking(session, services, click)
        if isinstance(booking, str):
            return booking
        slots = [s for v in ticked if (s := _slot_of(v, booking.coordinator_id, booking.method))]
        if typed is not None:
            slots.append(proposals.typed_slot(booking, datetime.fromtimestamp(typed, UTC)))
        booking_id = booking.id
        result = proposals.propose_times(
            session=session,
            desk=services.desk,
            outbound=services.outbound,
            booking_id=booking.id,
            slots=slots,
            actor=click.user,
            now=services.clock.now(),
            source=f"view:{view_id}" if view_id else None,
        )
    if result is proposals.Proposed.SENT:
        log.info("booking %s: other times proposed from Slack", booking_id)
    return {
        proposals.Proposed.SENT: texts.RETIME_SENT,
        proposals.Proposed.ALREADY: texts.RETIME_ALREADY,
        proposals.Proposed.DECIDED: texts.ALREADY_DECIDED.format(status="承認待ちではありません"),
        proposals.Proposed.NO_TIMES: texts.RETIME_NO_TIMES,
        proposals.Proposed.NO_CHANNEL: texts.RETIME_NO_CHANNEL,
    }[result]


async def offer_retime(client: AsyncWebClient, click: Click, text: str) -> None:
    """An ephemeral note with 別の日時を提案 under it (the card's ids in its value)."""
    if not (click.channel and click.user):
        return
    blocks = [
        _section(text),
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": texts.BUTTON_PROPOSE},
                    "action_id": PROPOSE,
                    "value": click.value,
                }
            ],
        },
    ]
    await client.chat_postEphemeral(channel=click.channel, user=click.user, text=text, blocks=blocks)


def register(app: AsyncApp, services: Services) -> list[str]:
    """Registers 別の日時を提案 and its modal; returns their ids."""

    @app.action(PROPOSE)
    async def on_propose(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        click = read_click(body)
        # The modal first: its trigger_id lasts 3 s; the slots follow, and who may act is checked on submit
        opened = await client.views_open(trigger_id=body["trigger_id"], view=loading_modal(click))
        view = opened.get("view") or {}
        filled = await anyio.to_thread.run_sync(slots_modal, services, click)
        await client.views_update(view_id=view["id"], hash=view.get("hash"), view=filled)

    @app.view(RETIME_VIEW)
    async def on_propose_submitted(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        click, ticked, typed, view_id = read_submission(body)
        errors = submission_errors(services, ticked, typed)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        note = await anyio.to_thread.run_sync(propose, services, click, ticked, typed, view_id)
        if click.channel and click.user:
            await client.chat_postEphemeral(channel=click.channel, user=click.user, text=note)

    return [PROPOSE, RETIME_VIEW]

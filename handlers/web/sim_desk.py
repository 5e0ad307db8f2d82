"""The simulator's coordinator pane (demo mode): the Slack card itself, and its buttons acting through
Slack's own handlers, so the whole loop can be tried with no Slack account.

The pane shows the cards of this browser's own requests (the demo is public: nobody sees another visitor's),
as handlers/slack/cards.py renders them for Slack — the Block Kit blocks, drawn in the page by
static/simulator.js. A click is answered as Slack's listener answers it (handlers/slack/actions.py,
reassign.py, retime.py, outcome.py): a note for the clicker, or a modal (Block Kit too) whose submission
goes to the same code, its errors shown under the fields as Slack shows them. Under each card is its
thread (handlers/web/sim_thread.py): what the owner wrote after submission, and what the coordinator types
there, relayed to the owner by handlers/slack/relay.py. The clicker is the demo's coordinator: the
request's assigned coordinator (their `slack_user_id` in the desk config), or else the desk's first
approver. A button with no handler here gets a note saying to try it in Slack; `ACTIONS` and `VIEWS` are
where handlers plug in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from config import DeskConfig
from handlers.services import Services
from handlers.slack import actions, outcome, reassign, retime
from handlers.slack.actions import Click
from handlers.slack.cards import APPROVE, CONTACT, DECLINE, PROPOSE, REASSIGN, parse_value, render_card
from handlers.slack.outcome_card import OUTCOME
from handlers.slack.relay import reply_to_owner
from handlers.web.admin import services
from handlers.web.sim_thread import thread_of, write_reply
from storage.bookings import get_booking, list_bookings_for_consultation
from storage.channels import Channel
from storage.contacts import find_contact
from storage.models import Consultation

CARDS_SHOWN = 10
COOKIE = "madoguchi_sim"  # the simulator's visitor (handlers/web/simulator.py)
NOT_HERE = "この操作は、デモではまだお試しいただけません。Slackでお試しください。"
APPROVER_NAME = "承認者"

ServicesDep = Annotated[Services, Depends(services)]
router = APIRouter()


@dataclass(frozen=True)
class Answer:
    """What a click or a submission shows: a note for the clicker (Slack's ephemeral message), a modal to
    fill in, or the errors of the modal submitted (by block id; the modal stays open), as Slack's would."""

    note: str | None = None
    modal: dict[str, Any] | None = None
    errors: dict[str, str] | None = None


# A button's handler (by action_id) and a modal's (by callback_id, given a Slack-shaped view_submission body)
ActionHandler = Callable[[Services, Click], Answer]
ViewHandler = Callable[[Services, dict[str, Any]], Answer]


def _propose(svc: Services, body: dict[str, Any]) -> Answer:
    """別の日時を提案's modal submitted: checked and sent as handlers/slack/retime.py's listener does."""
    click, ticked, typed, view_id = retime.read_submission(body)
    errors = retime.submission_errors(svc, ticked, typed)
    if errors:
        return Answer(errors=errors)
    return Answer(note=retime.propose(svc, click, ticked, typed, view_id))


def _record_outcome(svc: Services, body: dict[str, Any]) -> Answer:
    """対応記録を入力's modal submitted: checked and stored as handlers/slack/outcome.py's listener does."""
    click, form = outcome.read_outcome(body)
    errors = outcome.field_errors(svc.desk, form)
    if errors or form is None:
        return Answer(errors=errors)
    return Answer(note=outcome.record(svc, click, form))


ACTIONS: dict[str, ActionHandler] = {
    APPROVE: lambda svc, click: Answer(note=actions.approve(svc, click)),
    PROPOSE: lambda svc, click: Answer(modal=retime.slots_modal(svc, click)),
    DECLINE: lambda svc, click: Answer(modal=actions.decline_modal(click)),
    REASSIGN: lambda svc, click: Answer(modal=reassign.choices_modal(svc, click)),
    CONTACT: lambda svc, click: Answer(note=actions.show_contact(svc, click)),
    OUTCOME: lambda svc, click: Answer(modal=outcome.outcome_modal(svc.desk, click)),
}
VIEWS: dict[str, ViewHandler] = {
    actions.DECLINE_VIEW: lambda svc, body: Answer(note=actions.decline(svc, *actions.read_decline(body))),
    reassign.REASSIGN_VIEW: lambda svc, body: Answer(
        note=reassign.reassign(svc, *reassign.read_choice(body))[0]
    ),
    retime.RETIME_VIEW: _propose,
    outcome.OUTCOME_VIEW: _record_outcome,
}


class ActionIn(BaseModel):
    action_id: str = Field(max_length=255)
    value: str = Field("", max_length=2000)


class ViewIn(BaseModel):
    callback_id: str = Field(max_length=255)
    private_metadata: str = Field("", max_length=3000)
    # As Slack sends a modal's state: block_id → action_id → {"value": …}, {"selected_option": {"value": …}},
    # {"selected_options": [...]}, {"selected_date": …}, {"selected_date_time": epoch seconds}
    values: dict[str, dict[str, dict[str, Any]]] = Field(default_factory=dict, max_length=20)


class ReplyIn(BaseModel):
    """A message typed in a card's thread in the pane."""

    consultation_id: int
    text: str = Field(max_length=4000)


def _visitor_contact_id(request: Request, session: Session) -> int | None:
    visitor = request.cookies.get(COOKIE)
    if not visitor or len(visitor) > 64:
        return None
    contact = find_contact(session=session, channel=Channel.SIMULATOR, external_id=visitor)
    return contact.id if contact is not None else None


def people(desk: DeskConfig) -> dict[str, str]:
    """The names the card's mentions (<@U…>) are shown with."""
    names = {c.slack_user_id: c.name for c in desk.scheduling.coordinators if c.slack_user_id}
    for approver in desk.slack.approvers:
        names.setdefault(approver, APPROVER_NAME)
    return names


def demo_actor(desk: DeskConfig, coordinator_id: str | None) -> str:
    """Who clicks in the demo: the assigned coordinator's Slack member id, or the first approver's."""
    coordinator = desk.scheduling.coordinator(coordinator_id) if coordinator_id else None
    if coordinator is not None and coordinator.slack_user_id:
        return coordinator.slack_user_id
    return desk.slack.approvers[0] if desk.slack.approvers else ""


def _own_click(request: Request, svc: Services, value: str) -> Click:
    """The click on one of this visitor's cards, made by the demo's coordinator (404 for anyone else's)."""
    consultation_id, booking_id = parse_value(value)
    with svc.db.session() as session:
        contact_id = _visitor_contact_id(request, session)
        consultation = session.get(Consultation, consultation_id) if consultation_id is not None else None
        if contact_id is None or consultation is None or consultation.contact_id != contact_id:
            raise HTTPException(status_code=404, detail="not found")
        booking = get_booking(session=session, booking_id=booking_id) if booking_id is not None else None
        if booking is None:
            bookings = list_bookings_for_consultation(session=session, consultation_id=consultation.id)
            booking = bookings[-1] if bookings else None
        coordinator_id = booking.coordinator_id if booking is not None else None
    return Click(user=demo_actor(svc.desk, coordinator_id), channel=None, value=value)


@router.get("/sim/api/desk")
def desk_cards(request: Request, svc: ServicesDep) -> dict[str, Any]:
    """This visitor's requests as the coordinators' cards (oldest first, as in a channel), and the names of
    the people the cards mention."""
    with svc.db.session() as session:
        contact_id = _visitor_contact_id(request, session)
        cards: list[dict[str, Any]] = []
        if contact_id is not None:
            consultations = session.scalars(
                select(Consultation)
                .where(Consultation.contact_id == contact_id)
                .order_by(Consultation.submitted_at.desc(), Consultation.id.desc())
                .limit(CARDS_SHOWN)
            ).all()
            for consultation in reversed(consultations):
                card = render_card(session, svc.desk, consultation)
                shown = {"id": consultation.id, "reference": consultation.reference}
                thread = thread_of(session=session, desk=svc.desk, consultation_id=consultation.id)
                cards.append({**shown, "text": card.text, "blocks": card.blocks, "thread": thread})
    return {"cards": cards, "people": people(svc.desk)}


@router.post("/sim/api/desk/action")
def desk_action(body: ActionIn, request: Request, svc: ServicesDep) -> dict[str, Any]:
    """A button of a card clicked: what Slack's listener would answer."""
    click = _own_click(request, svc, body.value)
    handler = ACTIONS.get(body.action_id)
    answer = handler(svc, click) if handler is not None else Answer(note=NOT_HERE)
    return {"note": answer.note, "modal": answer.modal}


@router.post("/sim/api/desk/view")
def desk_view(body: ViewIn, request: Request, svc: ServicesDep) -> dict[str, Any]:
    """A modal submitted: handled as Slack's view_submission, the clicker's note returned."""
    value = body.private_metadata.partition("|")[0]
    click = _own_click(request, svc, value)
    handler = VIEWS.get(body.callback_id)
    if handler is None:
        return {"note": NOT_HERE, "errors": None}
    submission = {
        "user": {"id": click.user},
        "view": {
            "callback_id": body.callback_id,
            "private_metadata": body.private_metadata,
            "state": {"values": body.values},
        },
    }
    answer = handler(svc, submission)
    return {"note": answer.note, "errors": answer.errors}


@router.post("/sim/api/desk/reply")
def desk_reply(body: ReplyIn, request: Request, svc: ServicesDep) -> dict[str, Any]:
    """A message typed in a card's thread by the demo's coordinator: kept in the thread, and relayed to the
    owner by Slack's own code (a `memo:` stays in the thread); the note for the writer, as Slack's ephemeral."""
    text = body.text.replace("\x00", "")
    if not text.strip():
        raise HTTPException(status_code=422, detail="empty message")
    click = _own_click(request, svc, f"c{body.consultation_id}")
    with svc.db.session() as session:
        write_reply(
            session=session, clock=svc.clock, consultation_id=body.consultation_id, user=click.user, text=text
        )
        note = reply_to_owner(session, svc, body.consultation_id, click.user, text)
    return {"note": note}

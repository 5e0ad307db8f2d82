"""The card's thread in the simulator's coordinator pane (demo mode): the conversation Slack would hold.

In demo mode with no Slack set up, the coordinators' notices (bot/sending.py) are written here: each is one
outbox row of the simulator with no contact, marked sent at once (nothing delivers it: the pane reads it
back), so bot/relay.py passes what the owner writes after submission to the desk as it would to Slack.
(With Slack set up too, they go to Slack, and the pane's thread has only what was typed in the pane.) What a coordinator types in the pane's thread is kept the same way (Slack keeps
it in Slack), then relayed to the owner by Slack's own code (handlers/slack/relay.py): a `memo:` stays.
The thread is rendered by Slack's renderer of notices (handlers/slack/notices.py), as mrkdwn.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.sending import TO_THREAD, Notice
from config import DeskConfig
from handlers.slack.cards import escape
from handlers.slack.notices import render_notice
from storage.channels import Channel
from storage.clock import JST, Clock
from storage.models import OutboxMessage
from storage.outbox import enqueue, mark_sent

DELIVERED_VIA = "simulator_desk"
PANE_REPLY = "pane_reply"  # the Notice kind of what a coordinator typed in the pane's thread
THREAD_SHOWN = 50  # the latest messages of a thread the pane shows


def _record(session: Session, clock: Clock, notice: Notice) -> OutboxMessage:
    now = clock.now()
    row = enqueue(
        session=session,
        channel=Channel.SIMULATOR,
        contact_id=None,  # the desk's, not an owner's: the phone's inbox never collects it
        messages=[notice.to_dict()],
        now=now,
        consultation_id=notice.consultation_id,
        reason=notice.kind[:32],
    )
    session.flush()
    mark_sent(session=session, message_id=row.id, via=DELIVERED_VIA, now=now)
    return row


class SimulatorDeskSender:
    """The coordinators' sender of demo mode without Slack: keeps each notice for the pane."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    @property
    def channel(self) -> Channel:
        return Channel.SIMULATOR

    def to_coordinators(self, *, session: Session, notice: Notice) -> list[OutboxMessage]:
        return [_record(session, self.clock, notice)]


def write_reply(*, session: Session, clock: Clock, consultation_id: int, user: str, text: str) -> None:
    """A coordinator's message in the pane's thread, kept as Slack keeps one posted in a thread."""
    notice = Notice(PANE_REPLY, consultation_id, to=TO_THREAD, text=text, detail={"user": user})
    _record(session, clock, notice)


def thread_of(*, session: Session, desk: DeskConfig, consultation_id: int) -> list[dict[str, Any]]:
    """The thread of a consultation's card, oldest first: who wrote each message (a Slack member id, or
    None for the app), its mrkdwn and its time."""
    rows = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.channel == Channel.SIMULATOR.value,
            OutboxMessage.contact_id.is_(None),
            OutboxMessage.consultation_id == consultation_id,
        )
        .order_by(OutboxMessage.id.desc())
        .limit(4 * THREAD_SHOWN)
    ).all()
    shown: list[dict[str, Any]] = []
    for row in reversed(rows):
        for data in (row.payload or {}).get("messages", []):
            notice = Notice.from_dict(data)
            if notice.to != TO_THREAD:
                continue
            time = row.created_at.astimezone(JST).strftime("%H:%M")
            if notice.kind == PANE_REPLY:
                user = str(notice.detail.get("user") or "")
                shown.append({"user": user, "text": escape(notice.text or ""), "time": time})
                continue
            message = render_notice(session, desk, notice)
            if message is not None:
                shown.append({"user": None, "text": message.text, "time": time})
    return shown[-THREAD_SHOWN:]

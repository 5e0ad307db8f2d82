"""The coordinators' notices that are messages rather than the card (bot/sending.py's TO_THREAD, TO_DESK and
to_coordinator addresses): what each kind says in Slack, and where it goes.

Each kind has a renderer here, from what is stored when it is delivered; a kind with none shows the words
the notice carries (an owner's message, a comment), escaped so that what someone typed cannot mention a
channel or forge a link. A notice with nothing to show is skipped, not sent empty.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from bot.sending import TO_DESK, TO_THREAD, Notice, coordinator_of
from config import DeskConfig
from handlers.slack.cards import TEXT_MAX, escape
from handlers.slack.job_notices import JOB_RENDERERS
from storage.models import Consultation
from storage.slack_cards import get_card

ESCALATION_ASSIGNEE = (
    "{who} 受付番号 {reference} のご相談は、受付から{hours}時間（営業時間）対応がないままです。"
    "カードのボタンで、承認・別の日時の提案・担当の変更・お断りのいずれかをお願いします。"
)
ESCALATION_APPROVERS = (
    "{approvers} 受付番号 {reference} のご相談は、担当（{who}）に確認をお願いしたあとも対応がないままです。"
    "ご確認のうえ、担当の変更などをお願いします。"
)
ESCALATION_NOBODY = "担当未定"
MESSAGE_TYPE = "madoguchi_message"  # the metadata that names the outbox row a message was posted from


@dataclass(frozen=True)
class SlackMessage:
    """One chat.postMessage: the notification text, and blocks when the text alone does not do."""

    text: str
    blocks: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class Place:
    """Where a message goes: a channel (or a user id, for a direct message), and the thread within it."""

    channel: str
    thread_ts: str | None = None
    searchable: bool = True  # whether its history can be read back (channels:history; not a DM)


Renderer = Callable[[Session, DeskConfig, Notice], SlackMessage | None]


def _as_written(session: Session, desk: DeskConfig, notice: Notice) -> SlackMessage | None:
    return SlackMessage(text=escape(notice.text)[:TEXT_MAX]) if notice.text else None


def _mention(desk: DeskConfig, coordinator_id: str | None) -> str:
    coordinator = desk.scheduling.coordinator(coordinator_id) if coordinator_id else None
    if coordinator is None:
        return ESCALATION_NOBODY
    return f"<@{coordinator.slack_user_id}>" if coordinator.slack_user_id else escape(coordinator.name)


def _reference(session: Session, notice: Notice) -> str:
    consultation = session.get(Consultation, notice.consultation_id) if notice.consultation_id else None
    return consultation.reference if consultation is not None else "—"


def _escalation_assignee(session: Session, desk: DeskConfig, notice: Notice) -> SlackMessage:
    hours = f"{desk.escalations.remind_after_working_hours:g}"
    who = _mention(desk, notice.detail.get("coordinator_id"))
    text = ESCALATION_ASSIGNEE.format(who=who, reference=_reference(session, notice), hours=hours)
    return SlackMessage(text=text)


def _escalation_approvers(session: Session, desk: DeskConfig, notice: Notice) -> SlackMessage:
    approvers = " ".join(f"<@{a}>" for a in desk.slack.approvers)
    text = ESCALATION_APPROVERS.format(
        approvers=approvers,
        reference=_reference(session, notice),
        who=_mention(desk, notice.detail.get("coordinator_id")),
    )
    return SlackMessage(text=text)


# Each kind's renderer; kinds not named here show the words they carry.
RENDERERS: Mapping[str, Renderer] = {
    **JOB_RENDERERS,
    "escalation_assignee": _escalation_assignee,
    "escalation_approvers": _escalation_approvers,
}


def render_notice(session: Session, desk: DeskConfig, notice: Notice) -> SlackMessage | None:
    """What the notice says in Slack, or None when it has nothing to show."""
    return RENDERERS.get(notice.kind, _as_written)(session, desk, notice)


class NoPlace(LookupError):
    """The notice cannot go anywhere yet (its card is not posted) or ever (no such coordinator in Slack)."""

    def __init__(self, reason: str, *, for_now: bool) -> None:
        super().__init__(reason)
        self.for_now = for_now


def place_of(session: Session, desk: DeskConfig, notice: Notice, intake_channel: str) -> Place:
    """Where the notice goes: the card's thread, the intake channel, or a coordinator's direct messages."""
    if notice.to == TO_THREAD:
        card = get_card(session=session, consultation_id=int(notice.consultation_id or 0))
        if card is None:
            raise NoPlace("its card is not posted yet", for_now=True)
        return Place(card.channel, thread_ts=card.ts)
    if notice.to == TO_DESK:
        return Place(intake_channel)
    coordinator_id = coordinator_of(notice.to)
    coordinator = desk.scheduling.coordinator(coordinator_id) if coordinator_id else None
    if coordinator is None or not coordinator.slack_user_id:
        raise NoPlace("the coordinator has no Slack user id", for_now=False)
    # chat.postMessage to a user id lands in the app's Messages tab (the app's DM), with chat:write alone.
    return Place(coordinator.slack_user_id, searchable=False)


def message_metadata(outbox_id: int) -> dict[str, Any]:
    return {"event_type": MESSAGE_TYPE, "event_payload": {"outbox_id": outbox_id}}


def posted_from(message: Mapping[str, Any], outbox_id: int) -> bool:
    """Whether a message found in Slack was posted from this outbox row."""
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return metadata.get("event_type") == MESSAGE_TYPE and payload.get("outbox_id") == outbox_id

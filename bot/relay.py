"""The thread is the conversation: once a request is sent, what the owner writes reaches the desk (in Slack:
the card's thread), and what a coordinator writes there reaches the owner on their own channel.

Both ways go through the sending seam (bot/sending.py) in the caller's transaction, so each message is
delivered once by the outbox and is in the interaction log. Nothing here knows Slack or LINE.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.messages import Inbound, OutMessage
from bot.sending import TO_THREAD, NoSender, Notice, Outbound
from storage.models import Consultation, ConsultationEvent, Contact

OWNER_MESSAGE = "owner_message"  # the Notice kind of what the owner wrote after the request was sent
EDIT_NOTE = "relay_edit_note"  # the Notice kind of the one note that edits and deletions stay in Slack
TOLD = "owner_told_relayed"  # history: the owner was told their messages reach the desk (once)
EDIT_NOTED = "relay_edit_noted"  # history: the thread was told edits are not passed on (once)
DESK_REASON = "desk_message"  # the outbox reason of a coordinator's message to the owner
OPEN_STATUSES = ("submitted", "in_progress")  # a consultation the desk is still answering
MEMO_PREFIXES = ("memo:", "メモ:")  # compared after NFKC (full-width colon, full-width letters)

# What the owner reads
RELAYED = (
    "メッセージは担当者に届いています。担当者からのお返事は、このLINEでお送りします。"
    "\n（以降のメッセージも同じように担当者に届きます）"
)
FROM_DESK = "【{desk} 担当者より】\n{text}"
# What a message that is not text reads as, in the thread
NOTES = {
    "sticker": "（スタンプ）",
    "image": "（画像が送られました）",
    "video": "（動画が送られました）",
    "audio": "（音声メッセージが送られました）",
    "file": "（ファイルが送られました）",
    "location": "（位置情報が送られました）",
}
# What the thread reads when a coordinator edits or deletes a message already sent
EDIT_NOT_PASSED_ON = (
    "お知らせ：スレッドでの編集・削除は、お客様のLINEには反映されません。"
    "訂正が必要なときは、あらためてこのスレッドに書き込んでください。"
)


def open_consultation(*, session: Session, contact_id: int) -> Consultation | None:
    """The owner's latest consultation the desk is still answering (submitted or in progress)."""
    query = (
        select(Consultation)
        .where(Consultation.contact_id == contact_id, Consultation.status.in_(OPEN_STATUSES))
        .order_by(Consultation.submitted_at.desc(), Consultation.id.desc())
    )
    return session.scalars(query.limit(1)).first()


def owner_note(inbound: Inbound) -> str | None:
    """What the thread shows of the owner's message: its text, or a short note for a sticker or an image;
    None for what is not a message (a button, a follow)."""
    if inbound.kind == "text":
        return inbound.text.strip() or None
    return NOTES.get(inbound.kind)


def is_memo(text: str) -> bool:
    """Whether a coordinator's message is a note for the desk (`memo:`, `メモ:`), kept in Slack."""
    start = unicodedata.normalize("NFKC", text.lstrip()[:8]).lower()
    return start.startswith(MEMO_PREFIXES)


def _once(session: Session, consultation_id: int, kind: str, now: datetime) -> bool:
    """Records `kind` in the consultation's history unless it is there; whether it was recorded now."""
    query = select(ConsultationEvent.id).where(
        ConsultationEvent.consultation_id == consultation_id, ConsultationEvent.kind == kind
    )
    if session.scalars(query.limit(1)).first() is not None:
        return False
    session.add(
        ConsultationEvent(consultation_id=consultation_id, kind=kind, actor="system", at=now, detail={})
    )
    session.flush()
    return True


def relay_from_owner(
    *, session: Session, outbound: Outbound, contact: Contact, inbound: Inbound, now: datetime
) -> tuple[int, list[OutMessage]] | None:
    """Passes what the owner wrote to the thread of their latest open consultation; the consultation and
    what the owner is told (the first time only). None when there is nothing to pass on or nowhere to."""
    note = owner_note(inbound)
    if note is None or outbound.coordinators is None:
        return None
    consultation = open_consultation(session=session, contact_id=contact.id)
    if consultation is None:
        return None
    notice = Notice(OWNER_MESSAGE, consultation.id, to=TO_THREAD, text=note, detail={"kind": inbound.kind})
    try:
        outbound.to_coordinators(session=session, notice=notice)
    except NoSender:
        return None
    told = _once(session, consultation.id, TOLD, now)
    return consultation.id, [OutMessage(RELAYED)] if told else []


def relay_to_owner(
    *, session: Session, outbound: Outbound, consultation_id: int, text: str, desk_name: str
) -> bool:
    """Queues a coordinator's message for the owner of the consultation, on the owner's channel (logged
    with the consultation); False when there is nobody to send it to."""
    consultation = session.get(Consultation, consultation_id)
    words = text.strip()
    if consultation is None or not words:
        return False
    contact = session.get(Contact, consultation.contact_id)
    if contact is None or not contact.reachable:
        return False
    room = outbound.capacity_of(contact.channel).text - len(FROM_DESK.format(desk=desk_name, text=""))
    message = OutMessage(FROM_DESK.format(desk=desk_name, text=words[: max(room, 1)]))
    try:
        outbound.to_contact(
            session=session,
            contact=contact,
            messages=[message],
            reason=DESK_REASON,
            consultation_id=consultation.id,
        )
    except NoSender:
        return False
    return True


def note_edits_not_passed_on(
    *, session: Session, outbound: Outbound, consultation_id: int, now: datetime
) -> bool:
    """Says once in the consultation's thread that edits and deletions do not reach the owner."""
    if outbound.coordinators is None or not _once(session, consultation_id, EDIT_NOTED, now):
        return False
    notice = Notice(EDIT_NOTE, consultation_id, to=TO_THREAD, text=EDIT_NOT_PASSED_ON)
    outbound.to_coordinators(session=session, notice=notice)
    return True

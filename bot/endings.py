"""How conversations end: submitted (the consultation stored), forgotten (cancelled or the notice declined:
what the owner typed is deleted), or finished (予約確認 done: nothing to keep). Each marks the state ended
and says what the owner reads; the engine then removes the conversation."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from bot import submission, texts
from bot.flow import ConversationState, Flow, ask
from bot.intake import Step
from bot.messages import Button, OutMessage
from bot.postback import encode
from bot.sending import Outbound
from bot.steps import Ctx
from bot.submission import submit_intake
from config import DeskConfig
from scheduling import Slot
from storage.bookings import Booking
from storage.clock import Clock
from storage.consultations import record_consent
from storage.conversations import forget_conversation
from storage.models import Consultation, Contact, Conversation, Interaction

MENU = "menu"  # the postback step of buttons that are not part of a conversation


@dataclass
class Turn:
    """The engine's answer to one inbound message."""

    replies: list[OutMessage]
    consultation_id: int | None = None
    events: list[str] = field(default_factory=list)  # e.g. "submitted", for the channels to act on
    logged: list[Interaction] = field(default_factory=list)  # the replies' log rows, for a sender to queue


def start_button() -> Button:
    """相談を申し込む, a button that belongs to no conversation (it starts one)."""
    return Button(texts.START_BUTTON, encode("-", MENU, "start"), display=texts.START_BUTTON)


def submitted_reply(
    desk: DeskConfig, consultation: Consultation, booking: Booking | None = None
) -> OutMessage:
    """The one 「受け付けました」 reply (its words: bot.submission), with a button to start another request."""
    return OutMessage(submission.submitted_reply(desk, consultation, booking), (start_button(),))


def record_answer_to_notice(
    *, session: Session, desk: DeskConfig, contact: Contact, clock: Clock, accepted: bool
) -> None:
    """Records that the owner accepted (or declined) the privacy notice in force."""
    record_consent(
        session=session,
        contact_id=contact.id,
        accepted=accepted,
        at=clock.now(),
        notice_version=desk.privacy_notice.version,
    )


def forget(
    *, session: Session, contact: Contact, state: ConversationState, ctx: Ctx, clock: Clock, text: str
) -> Turn:
    """Ends the conversation and deletes what the owner typed in it, as the reply then says."""
    if ctx.slots is not None:
        ctx.slots.release()  # the time held for the owner goes back to the others at once
    where = Conversation(log_from_id=state.log_from_id, started_at=state.started_at)  # not added
    forget_conversation(session=session, contact=contact, conversation=where, now=clock.now())
    state.ended = state.removed = True
    # "forgotten": the channel empties the raw event of this very message too.
    return Turn([OutMessage(text, (start_button(),))], events=["forgotten"])


def decline(
    *, session: Session, desk: DeskConfig, contact: Contact, state: ConversationState, ctx: Ctx, clock: Clock
) -> Turn:
    """The notice declined: that fact is recorded, and everything else of the conversation forgotten."""
    record_answer_to_notice(session=session, desk=desk, contact=contact, clock=clock, accepted=False)
    info = desk.desk
    text = texts.CONSENT_DECLINED.format(desk=info.name, phone=info.phone, hours=info.hours)
    return forget(session=session, contact=contact, state=state, ctx=ctx, clock=clock, text=text)


def submit(
    *,
    session: Session,
    flow: Flow,
    contact: Contact,
    state: ConversationState,
    ctx: Ctx,
    clock: Clock,
    channel: str,
    outbound: Outbound | None = None,
) -> Turn:
    """Stores the consultation (its hold becomes a request); a time that lapsed meanwhile is asked again."""
    answers = state.answers
    book = ctx.slots
    slot = answers.get("slot")
    wanted = bool(slot) and book is not None and book.wants_slot(answers)
    if wanted and book is not None and slot and not book.ensure_hold(Slot.from_dict(slot)):
        answers.pop("slot", None)
        state.go(Step.SLOT, editing=True)
        ctx.step = state.step
        return Turn([OutMessage(texts.SLOT_LAPSED), *ask(flow, ctx)])
    # The notice version consented to travels to the consultation with the answers.
    fields = {**answers, "_consented": state.flags.get("consented")}
    consultation = submit_intake(
        session=session, desk=ctx.desk, contact=contact, channel=channel, answers=fields, clock=clock
    )
    if wanted and book is not None:
        book.attach(consultation.id)
    state.ended = True
    booking = submission.announce_submission(
        session=session, outbound=outbound or Outbound(), consultation=consultation
    )
    reply = submitted_reply(ctx.desk, consultation, booking)
    return Turn([reply], consultation_id=consultation.id, events=["submitted"])


def finish(*, state: ConversationState | None, replies: list[OutMessage]) -> Turn:
    """A flow with nothing to store is done (the engine returns to a parked flow before this); the last
    reply offers 相談を申し込む."""
    if state is not None:
        state.ended = True
    if replies and not replies[-1].actions:
        replies = [*replies[:-1], OutMessage(replies[-1].text, (start_button(),))]
    return Turn(replies)

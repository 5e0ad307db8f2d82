"""The conversation engine: takes one inbound message from any channel and returns the replies.

What every step shares lives here: the commands that work anywhere (やめる, 戻る, 最初から, ヘルプ), stale
buttons, stickers and images, the 24-hour resume offer, edit mode, and the interaction log. The
questions themselves are in bot/intake.py.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from bot import texts
from bot.intake import FLOW, STEPS, Step, next_step
from bot.messages import Action, Button, Inbound, OutMessage
from bot.normalize import clean_text, has_visible, normalize
from bot.postback import decode, encode
from bot.sending import Outbound
from bot.slots import SlotBook
from bot.steps import Advance, Answer, Consented, Ctx, Decline, EditField, Stay, Submit
from bot.submission import previous_answers, submit_intake
from config import DeskConfig
from scheduling import CalendarService, Slot
from storage.clock import Clock
from storage.consultations import has_consent, record_consent
from storage.conversations import delete_conversation, forget_conversation, get_conversation
from storage.interactions import log_interaction
from storage.models import Contact, Conversation, Interaction

RESUME_AFTER = timedelta(hours=24)
MENU = "menu"  # the postback step of buttons that are not part of a conversation

COMMANDS = {
    "cancel": (
        "やめる", "キャンセル", "中止", "ちゅうし", "やめます", "中止する",
        "やめたい", "やめて", "やめておく", "やめておきます", "やめとく", "やめときます", "辞める", "止める",
        "止めます", "止めたい", "申し込みをやめる", "申込をやめる", "申し込みをやめたい",
        "キャンセルする", "キャンセルします", "キャンセルしたい", "キャンセルで", "キャンセルお願いします",
        "中止します", "中止したい", "中止で", "取り消し", "取消", "とりけし", "取り消す", "取り消したい",
    ),
    "back": (
        "戻る", "もどる", "戻って", "一つ戻る", "戻りたい", "戻ります", "戻してください", "ひとつ戻る",
        "1つ戻る", "前の質問", "前の質問に戻る",
    ),
    "restart": (
        "最初から", "さいしょから", "はじめから", "最初からやり直す", "初めから", "始めから", "最初からやり直したい",
        "最初からお願いします", "やり直す", "やりなおす", "やり直したい", "やり直し", "やりなおし", "入力し直す",
    ),
    "help": ("ヘルプ", "help", "へるぷ", "使い方", "つかいかた", "使いかた", "操作方法"),
    # What the menu under the chat sends (texts.MENU_ITEMS), answered wherever the owner is
    "inquiry": (texts.MENU_INQUIRY, "問い合わせ", "お問合せ", "問合せ", "お問い合せ", "連絡先", "窓口の連絡先"),
    "bookings": (texts.MENU_BOOKINGS, "予約の確認", "予約を確認", "予約を確認したい", "予約状況"),
    "start": (texts.START_BUTTON, texts.MENU_CONSULT),
}  # fmt: skip
_COMMAND_BY_TEXT = {normalize(word): name for name, words in COMMANDS.items() for word in words}
# The questions asked before going on (the postback step, and its yes and no labels).
CONFIRMATIONS = {
    "cancel": (texts.CANCEL_YES, texts.CANCEL_NO),
    "resume": (texts.RESUME_YES, texts.RESUME_NO),
}
_START_WORDS = ("相談", "申し込", "申込", "予約")


@dataclass
class Turn:
    """The engine's answer to one inbound message."""

    replies: list[OutMessage]
    consultation_id: int | None = None
    events: list[str] = field(default_factory=list)  # e.g. "submitted", for the channels to act on
    logged: list[Interaction] = field(default_factory=list)  # the replies' log rows, for a sender to queue


def _command(inbound: Inbound) -> str | None:
    if inbound.kind != "text":
        return None
    return _COMMAND_BY_TEXT.get(normalize(inbound.text))


class IntakeEngine:
    """Runs the intake conversation for one contact at a time, inside the caller's transaction."""

    def __init__(
        self,
        desk: DeskConfig,
        clock: Clock,
        calendars: CalendarService | None = None,
        outbound: Outbound | None = None,
    ) -> None:
        self.desk = desk
        self.clock = clock
        self.calendars = calendars or CalendarService(desk.scheduling, clock=clock)
        self.outbound = outbound or Outbound()  # the channels' senders, and what their messages carry

    # Entry points
    def handle(self, *, session: Session, contact: Contact, inbound: Inbound, channel: str) -> Turn:
        """Logs the message, moves the conversation on, logs and returns the replies."""
        now = self.clock.now()
        conversation = get_conversation(session=session, contact_id=contact.id)
        step = conversation.step if conversation else None
        logged = log_interaction(
            session=session,
            at=now,
            channel=channel,
            direction="in",
            kind=inbound.kind,
            text=inbound.log_text(),
            contact_id=contact.id,
            step=step,
            external_message_id=inbound.message_id,
        )
        turn = self._respond(session, contact, conversation, inbound, channel, logged)
        self._log_replies(session, contact, channel, turn)
        return turn

    def greet(self, *, session: Session, contact: Contact, channel: str) -> Turn:
        """The greeting for a new friend (LINE follow) or a new simulator visitor."""
        turn = Turn([OutMessage(texts.FOLLOW.format(desk=self.desk.desk.name), (self._start_button(),))])
        self._log_replies(session, contact, channel, turn)
        return turn

    # The conversation
    def _respond(
        self,
        session: Session,
        contact: Contact,
        conversation: Conversation | None,
        inbound: Inbound,
        channel: str,
        logged: Interaction,
    ) -> Turn:
        postback = decode(inbound.data) if inbound.kind == "postback" else None
        if conversation is None:
            return self._idle(session, contact, inbound, postback, logged)

        ctx = self._ctx(session, contact, conversation)
        turn = self._continue(session, contact, conversation, ctx, inbound, postback, channel)
        state = inspect(conversation)
        if state.persistent or state.pending:  # not ended (submitted, cancelled, declined) by this turn
            conversation.answers = dict(ctx.answers)  # a new object, so the change is saved
        return turn

    def _continue(
        self,
        session: Session,
        contact: Contact,
        conversation: Conversation,
        ctx: Ctx,
        inbound: Inbound,
        postback: Any,
        channel: str,
    ) -> Turn:
        now = self.clock.now()
        idle_for = now - conversation.updated_at
        conversation.updated_at = now
        if ctx.slots is not None and ctx.answers.get("slot"):
            ctx.slots.keep()  # the owner is still answering: the time chosen stays theirs a while longer

        if conversation.pending == "resume":
            return self._answer_resume(session, contact, conversation, ctx, inbound)
        if idle_for > RESUME_AFTER and conversation.step != Step.CONSENT:
            conversation.pending = "resume"
            return Turn([OutMessage(texts.RESUME, self._confirmation_buttons(conversation, "resume"))])
        if conversation.pending == "cancel":
            return self._answer_cancel(session, contact, conversation, ctx, inbound)

        command = _command(inbound)
        if command:
            return self._run_command(session, contact, conversation, ctx, command)

        spec = STEPS[Step(conversation.step)]
        value: str | None = None
        if postback is not None:
            if postback.token != conversation.token:
                if postback.step == MENU:
                    return Turn(self._ask(ctx))
                return Turn(spec.again(ctx, texts.OLD_CONVERSATION))
            if postback.step != conversation.step:
                return Turn(spec.again(ctx, texts.STALE_BUTTON))
            value = postback.value
        elif inbound.kind != "text":
            return Turn(spec.unusable(ctx, non_text=True))
        elif not has_visible(inbound.text):
            return Turn(spec.unusable(ctx, non_text=False))

        text = clean_text(inbound.text) if postback is None else inbound.text
        result = spec.answer(ctx, Answer(text, value, inbound))
        conversation.answers = dict(ctx.answers)
        match result:
            case Stay(replies=replies):
                return Turn(replies)
            case Advance(replies=replies):
                return Turn(replies + self._move_on(conversation, ctx))
            case EditField(step=target):
                return Turn(
                    self._go(conversation, ctx, target, editing=target not in (Step.SUMMARY, Step.EDIT))
                )
            case Consented():
                record_consent(
                    session=session,
                    contact_id=contact.id,
                    accepted=True,
                    at=self.clock.now(),
                    notice_version=self.desk.privacy_notice.version,
                )
                return Turn(self._move_on(conversation, ctx))
            case Decline():
                return self._decline(session, contact, conversation, ctx)
            case Submit():
                return self._submit(session, contact, conversation, channel, ctx)
        raise AssertionError(f"unknown step result {result!r}")

    def _idle(
        self, session: Session, contact: Contact, inbound: Inbound, postback: Any, logged: Interaction
    ) -> Turn:
        menu_command = _command(inbound)
        if menu_command in ("inquiry", "bookings"):  # (予約確認 holds a start word: not an intake)
            return Turn([OutMessage(self._menu_answer(menu_command), (self._start_button(),))])
        wants_intake = (postback is not None and postback.step == MENU and postback.value == "start") or (
            inbound.kind == "text" and any(word in inbound.text for word in _START_WORDS)
        )
        if wants_intake:
            return self._start(session, contact, logged)
        if postback is not None and postback.step == Step.SUMMARY:
            return Turn([OutMessage(texts.ALREADY_SUBMITTED, (self._start_button(),))])
        if postback is not None and postback.step != MENU:
            return Turn(
                [
                    OutMessage(
                        texts.OLD_CONVERSATION + "\n" + texts.GREETING.format(desk=self.desk.desk.name),
                        (self._start_button(),),
                    )
                ]
            )
        return Turn([OutMessage(texts.GREETING.format(desk=self.desk.desk.name), (self._start_button(),))])

    def _start(self, session: Session, contact: Contact, logged: Interaction) -> Turn:
        session.flush()  # the id of the message that starts it: the conversation's log begins there
        conversation = Conversation(
            log_from_id=logged.id,
            contact_id=contact.id,
            flow=FLOW,
            step=Step.CONSENT,
            answers={},
            history=[],
            token=secrets.token_hex(4),
            started_at=self.clock.now(),
            updated_at=self.clock.now(),
        )
        session.add(conversation)
        ctx = self._ctx(session, contact, conversation)
        if has_consent(
            session=session, contact_id=contact.id, notice_version=self.desk.privacy_notice.version
        ):
            ctx.answers["_consented"] = self.desk.privacy_notice.version
            conversation.answers = dict(ctx.answers)
            return Turn(self._move_on(conversation, ctx, remember=False))
        return Turn(self._ask(ctx))

    def _move_on(self, conversation: Conversation, ctx: Ctx, remember: bool = True) -> list[OutMessage]:
        current = Step(conversation.step)
        if conversation.editing:
            follow = STEPS[current].then_while_editing
            if follow is not None and not STEPS[follow].when(ctx):
                follow = None
            target = follow if follow else Step.SUMMARY
            return self._go(conversation, ctx, target, editing=follow is not None, remember=False)
        return self._go(conversation, ctx, next_step(ctx, current), remember=remember)

    def _go(
        self,
        conversation: Conversation,
        ctx: Ctx,
        target: str,
        *,
        editing: bool = False,
        remember: bool = True,
    ) -> list[OutMessage]:
        if remember and conversation.step != target:
            conversation.history = [*conversation.history, conversation.step]
        conversation.step = target
        conversation.editing = editing
        ctx.step = target
        return self._ask(ctx)

    def _ask(self, ctx: Ctx) -> list[OutMessage]:
        return STEPS[ctx.step].ask(ctx, 0)

    # Commands that work anywhere
    def _run_command(
        self, session: Session, contact: Contact, conversation: Conversation, ctx: Ctx, command: str
    ) -> Turn:
        if command == "help":
            return Turn(
                [
                    OutMessage(texts.HELP.format(phone=self.desk.desk.phone, hours=self.desk.desk.hours)),
                    *self._ask(ctx),
                ]
            )
        if command in ("inquiry", "bookings", "start"):
            return Turn([OutMessage(self._menu_answer(command)), *self._ask(ctx)])
        if command == "cancel":
            conversation.pending = "cancel"
            return Turn(
                [OutMessage(texts.CONFIRM_CANCEL, self._confirmation_buttons(conversation, "cancel"))]
            )
        if command == "restart":
            return Turn([OutMessage(texts.RESTARTED), *self._restart(conversation, ctx)])
        history = [s for s in conversation.history if s not in (Step.EDIT, Step.CONSENT)]
        if not history:
            return Turn([OutMessage(texts.CANNOT_GO_BACK), *self._ask(ctx)])
        previous = Step(history[-1])
        conversation.history = history[:-1]
        return Turn(self._go(conversation, ctx, previous, remember=False))

    def _menu_answer(self, command: str | None) -> str:
        desk = self.desk.desk
        if command == "inquiry":
            lines = [texts.INQUIRY.format(desk=desk.name, phone=desk.phone, hours=desk.hours)]
            return "\n".join(lines + ([texts.INQUIRY_EMAIL.format(email=desk.email)] if desk.email else []))
        if command == "bookings":
            return texts.BOOKINGS_SOON.format(phone=desk.phone, hours=desk.hours)
        return texts.INTAKE_UNDER_WAY

    def _restart(self, conversation: Conversation, ctx: Ctx) -> list[OutMessage]:
        if ctx.slots is not None:
            ctx.slots.release()
        kept = {k: v for k, v in ctx.answers.items() if k == "_consented"}
        ctx.answers.clear()
        ctx.answers.update(kept)
        conversation.answers = dict(kept)
        conversation.history = []
        conversation.pending = None
        conversation.step = Step.CONSENT
        if kept:
            return self._go(conversation, ctx, next_step(ctx, Step.CONSENT), remember=False)
        return self._go(conversation, ctx, Step.CONSENT, remember=False)

    def _confirmation(
        self,
        conversation: Conversation,
        inbound: Inbound,
        step: str,
        yes: tuple[str, ...],
        no: tuple[str, ...],
    ) -> str | None:
        postback = decode(inbound.data) if inbound.kind == "postback" else None
        if postback is not None and postback.token == conversation.token and postback.step == step:
            return postback.value
        said = normalize(inbound.text) if inbound.kind == "text" else ""
        if said and said in {normalize(w) for w in yes}:
            return "yes"
        if said and said in {normalize(w) for w in no}:
            return "no"
        return None

    def _answer_cancel(
        self, session: Session, contact: Contact, conversation: Conversation, ctx: Ctx, inbound: Inbound
    ) -> Turn:
        said = self._confirmation(
            conversation,
            inbound,
            "cancel",
            (texts.CANCEL_YES, "はい", *COMMANDS["cancel"]),
            (texts.CANCEL_NO, "いいえ", "続ける"),
        )
        if said == "yes":
            return self._forget(session, contact, conversation, ctx, texts.CANCELLED)
        conversation.pending = None  # いいえ, or anything else: the conversation goes on
        return Turn([OutMessage(texts.NOT_CANCELLED), *self._ask(ctx)])

    def _answer_resume(
        self, session: Session, contact: Contact, conversation: Conversation, ctx: Ctx, inbound: Inbound
    ) -> Turn:
        said = self._confirmation(
            conversation,
            inbound,
            "resume",
            (texts.RESUME_YES, "はい", "続きから"),
            (texts.RESUME_NO, *COMMANDS["restart"]),
        )
        if said is None:
            return Turn(
                [OutMessage(texts.CHOOSE_FROM_BUTTONS, self._confirmation_buttons(conversation, "resume"))]
            )
        conversation.pending = None
        if said == "no":
            return Turn(self._restart(conversation, ctx))
        return Turn(self._ask(ctx))

    # Endings
    def _decline(self, session: Session, contact: Contact, conversation: Conversation, ctx: Ctx) -> Turn:
        record_consent(
            session=session,
            contact_id=contact.id,
            notice_version=self.desk.privacy_notice.version,
            accepted=False,
            at=self.clock.now(),
        )
        desk = self.desk.desk
        text = texts.CONSENT_DECLINED.format(desk=desk.name, phone=desk.phone, hours=desk.hours)
        return self._forget(session, contact, conversation, ctx, text)

    def _forget(
        self, session: Session, contact: Contact, conversation: Conversation, ctx: Ctx, text: str
    ) -> Turn:
        """Ends the conversation and deletes what the owner typed in it, as the reply then says."""
        if ctx.slots is not None:
            ctx.slots.release()  # the time held for the owner goes back to the others at once
        forget_conversation(session=session, contact=contact, conversation=conversation, now=self.clock.now())
        # "forgotten": the channel empties the raw event of this very message too.
        return Turn([OutMessage(text, (self._start_button(),))], events=["forgotten"])

    def _submit(
        self, session: Session, contact: Contact, conversation: Conversation, channel: str, ctx: Ctx
    ) -> Turn:
        slot = conversation.answers.get("slot")
        book = ctx.slots
        if (
            slot
            and book is not None
            and book.wants_slot(conversation.answers)
            and not book.ensure_hold(Slot.from_dict(slot))
        ):
            conversation.answers = {k: v for k, v in conversation.answers.items() if k != "slot"}
            ctx.answers = dict(conversation.answers)
            return Turn(
                [OutMessage(texts.SLOT_LAPSED), *self._go(conversation, ctx, Step.SLOT, editing=True)]
            )
        consultation = submit_intake(
            session=session,
            desk=self.desk,
            contact=contact,
            channel=channel,
            answers=conversation.answers,
            clock=self.clock,
        )
        if slot and book is not None and book.wants_slot(conversation.answers):
            book.attach(consultation.id)
        delete_conversation(session=session, contact_id=contact.id)
        answers = conversation.answers
        how = (
            texts.HOW_BY_PHONE
            if answers.get("method") == "phone"
            else texts.HOW_BY_EMAIL
            if answers.get("method") == "email"
            else texts.HOW_EITHER
        )
        desk = self.desk.desk
        text = texts.SUBMITTED.format(
            reference=consultation.reference, how=how, phone=desk.phone, hours=desk.hours
        )
        # Another request can start from the confirmation itself.
        return Turn(
            [OutMessage(text, (self._start_button(),))], consultation_id=consultation.id, events=["submitted"]
        )

    def open_actions(self, *, session: Session, contact: Contact) -> tuple[Action, ...]:
        """The buttons of the question the conversation waits on (its first page), to restore a chat view."""
        conversation = get_conversation(session=session, contact_id=contact.id)
        if conversation is None:
            return (self._start_button(),)
        if conversation.pending in CONFIRMATIONS:
            return self._confirmation_buttons(conversation, conversation.pending)
        try:
            ctx = self._ctx(session, contact, conversation)
        except ValueError:  # a step this version no longer has
            return ()
        asked = self._ask(ctx)
        return asked[-1].actions if asked else ()

    # Helpers
    def _ctx(self, session: Session, contact: Contact, conversation: Conversation) -> Ctx:
        return Ctx(
            self.desk,
            conversation.token,
            Step(conversation.step),
            dict(conversation.answers or {}),
            previous_answers(session=session, contact_id=contact.id),
            SlotBook(session, self.desk, self.calendars, self.clock, contact.id),
            buttons=self.outbound.capacity_of(contact.channel).buttons,
        )

    def _confirmation_buttons(self, conversation: Conversation, kind: str) -> tuple[Button, ...]:
        yes, no = CONFIRMATIONS[kind]
        return (self._button(conversation, kind, yes, "yes"), self._button(conversation, kind, no, "no"))

    def _button(self, conversation: Conversation, step: str, label: str, value: str) -> Button:
        return Button(label, encode(conversation.token, step, value), display=label)

    def _start_button(self) -> Button:
        return Button(texts.START_BUTTON, encode("-", MENU, "start"), display=texts.START_BUTTON)

    def _log_replies(self, session: Session, contact: Contact, channel: str, turn: Turn) -> None:
        """Logs the replies as delivered with the answer; a channel that queues them (LINE) hands
        `turn.logged` to its sender, which counts them once they are sent."""
        now = self.clock.now()
        for message in turn.replies:
            turn.logged.append(
                log_interaction(
                    session=session,
                    at=now,
                    channel=channel,
                    direction="out",
                    kind="text",
                    text=message.text,
                    contact_id=contact.id,
                    consultation_id=turn.consultation_id,
                )
            )

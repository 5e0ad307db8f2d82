"""The conversation engine: takes one inbound message from any channel and returns the replies.

It runs whichever flow the conversation names (bot/flows.py): it loads the conversation's state once, lets
the current step (or a command, bot/commands.py) answer with a result, carries that result out (move on,
go to a step, enter another flow, end: bot/endings.py), saves the state once and logs both ways. What is
common to every flow lives here: stale buttons, stickers and images, the 24-hour resume offer, edit mode.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy.orm import Session

from bot import endings, outcomes, relay, texts
from bot.bookings import OwnerBookings
from bot.commands import COMMANDS, CONFIRM_RESUME, CONFIRMATIONS, command_of, menu_answer, run_command
from bot.endings import MENU, Turn, start_button
from bot.flow import ConversationState, Flow, ask
from bot.flows import FLOWS, FLOWS_BY_POSTBACK, OUT_OF_FLOW, get_flow
from bot.messages import Action, Inbound, OutMessage
from bot.normalize import clean_text, has_visible
from bot.postback import Postback, decode
from bot.sending import Outbound
from bot.slots import SlotBook
from bot.steps import (
    Advance,
    Answer,
    Back,
    Consented,
    Ctx,
    Decline,
    EditField,
    Enter,
    Finish,
    Forget,
    Goto,
    Restart,
    Result,
    Return,
    Stay,
    Submit,
)
from bot.submission import previous_answers
from bot.surveys import SurveyBook
from config import DeskConfig
from scheduling import CalendarService
from storage.clock import Clock
from storage.conversations import delete_conversation, get_conversation
from storage.interactions import log_interaction
from storage.models import Contact, Interaction

__all__ = ["COMMANDS", "MENU", "IntakeEngine", "Turn"]

RESUME_AFTER = timedelta(hours=24)


@dataclass
class _Turn:
    """One inbound message being answered: who, where, and the conversation's state (None: no flow)."""

    session: Session
    contact: Contact
    channel: str
    logged: Interaction
    state: ConversationState | None


class IntakeEngine:
    """Runs the conversations (the intake, 予約確認) of one contact at a time, in the caller's transaction."""

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
        """Logs the message, moves the conversation on, saves it, logs and returns the replies."""
        row = get_conversation(session=session, contact_id=contact.id)
        state = ConversationState.load(row) if row is not None else None
        logged = log_interaction(
            session=session,
            at=self.clock.now(),
            channel=channel,
            direction="in",
            kind=inbound.kind,
            text=inbound.log_text(),
            contact_id=contact.id,
            step=state.step if state else None,
            external_message_id=inbound.message_id,
        )
        run = _Turn(session, contact, channel, logged, state)
        postback = decode(inbound.data) if inbound.kind == "postback" else None
        pushed = FLOWS_BY_POSTBACK.get(postback.token) if postback is not None else None
        if outcomes.is_consent_postback(postback):  # a referral's consent: answered whatever the flow
            assert postback is not None
            turn = self._referral(run, postback)
        elif pushed is not None and postback is not None:  # a button of a message the desk pushed (a survey)
            turn = self._from_pushed(run, pushed, postback)
        elif postback is not None and postback.step in OUT_OF_FLOW:  # e.g. a proposal of other times
            replies = OUT_OF_FLOW[postback.step](
                session=session,
                desk=self.desk,
                clock=self.clock,
                calendars=self.calendars,
                outbound=self.outbound,
                contact=contact,
                postback=postback,
            )
            turn = Turn(replies)
        elif state is None:
            turn = self._idle(run, inbound, postback)
        else:
            turn = self._continue(run, inbound, postback)
        if run.state is not None:  # the one write of the conversation this turn
            if run.state.ended:
                if not run.state.removed:
                    delete_conversation(session=session, contact_id=contact.id)
            else:
                session.add(run.state.save(row, contact.id))
        self._log_replies(session, contact, channel, turn)
        return turn

    def greet(self, *, session: Session, contact: Contact, channel: str) -> Turn:
        """The greeting for a new friend (LINE follow) or a new simulator visitor."""
        turn = Turn([OutMessage(texts.FOLLOW.format(desk=self.desk.desk.name), (start_button(),))])
        self._log_replies(session, contact, channel, turn)
        return turn

    def open_actions(self, *, session: Session, contact: Contact) -> tuple[Action, ...]:
        """The buttons of the question the conversation waits on (its first page), to restore a chat view."""
        row = get_conversation(session=session, contact_id=contact.id)
        if row is None:
            return (start_button(),)
        state = ConversationState.load(row)
        flow = get_flow(state.flow)
        if flow is None or flow.spec(state.step) is None:  # a flow or step this version no longer has
            return ()
        asked = ask(flow, self._ctx(session, contact, state))
        return asked[-1].actions if asked else ()

    def _referral(self, run: _Turn, postback: Postback) -> Turn:
        """The owner's answer to a referral's consent question (bot/outcomes.py); the conversation they
        may be in stays where it is."""
        answered = outcomes.answer_referral(
            session=run.session,
            desk=self.desk,
            outbound=self.outbound,
            contact=run.contact,
            postback=postback,
            now=self.clock.now(),
        )
        return Turn([OutMessage(answered.reply)], consultation_id=answered.consultation_id)

    # No flow yet
    def _idle(self, run: _Turn, inbound: Inbound, postback: Postback | None) -> Turn:
        command = command_of(inbound)
        if postback is not None and postback.step == MENU:
            command = postback.value
        if command == "inquiry":
            return Turn([OutMessage(menu_answer(self.desk, command), (start_button(),))])
        if command is None and postback is None:  # after a request is sent, what the owner writes
            relayed = self._relay(run, inbound)
            if relayed is not None:
                return relayed
        for flow in FLOWS.values():
            words = inbound.kind == "text" and any(word in inbound.text for word in flow.entry_words)
            if command == flow.entry_command or words:
                return self._start(run, flow)
        greeting = texts.GREETING.format(desk=self.desk.desk.name)
        submitted = {f.last for f in FLOWS.values() if f.ending == "submit"}  # the intake's summary
        if postback is not None and postback.step in submitted:
            return Turn([OutMessage(texts.ALREADY_SUBMITTED, (start_button(),))])
        if postback is not None:
            return Turn([OutMessage(texts.OLD_CONVERSATION + "\n" + greeting, (start_button(),))])
        return Turn([OutMessage(greeting, (start_button(),))])

    def _relay(self, run: _Turn, inbound: Inbound) -> Turn | None:
        """Passes the owner's message to the desk (bot/relay.py) when a request of theirs is open."""
        relayed = relay.relay_from_owner(
            session=run.session,
            outbound=self.outbound,
            contact=run.contact,
            inbound=inbound,
            now=self.clock.now(),
        )
        if relayed is None:
            return None
        consultation_id, replies = relayed
        run.logged.consultation_id = consultation_id
        return Turn(replies, consultation_id=consultation_id, events=["relayed"])

    def _start(self, run: _Turn, flow: Flow) -> Turn:
        run.session.flush()  # the id of the message that starts it: the conversation's log begins there
        state = ConversationState.new(flow, now=self.clock.now(), log_from_id=run.logged.id)
        ctx = self._ctx(run.session, run.contact, state)
        begun = flow.begin(ctx) if flow.begin else flow.first
        if not isinstance(begun, str):  # nothing to do (予約確認 with nothing booked): no conversation
            replies = begun.replies if isinstance(begun, Finish | Stay) else []
            return endings.finish(state=None, replies=list(replies))
        run.state = state
        state.step = ctx.step = begun
        return Turn(ask(flow, ctx))

    def _from_pushed(self, run: _Turn, flow: Flow, postback: Postback) -> Turn:
        """Enters the flow a pushed message's button belongs to, wherever the owner is: its `begin` reads
        the button (flags["entry"]); a flow that keeps the place parks the one the owner is in. When the
        button leads nowhere (answered already), its answer and the owner's current question again."""
        entry = {"step": postback.step, "value": postback.value}
        state = run.state
        if state is None:
            run.session.flush()
            fresh = ConversationState.new(flow, now=self.clock.now(), log_from_id=run.logged.id)
            fresh.flags["entry"] = entry
            ctx = self._ctx(run.session, run.contact, fresh)
            begun = flow.begin(ctx) if flow.begin else flow.first
            if not isinstance(begun, str):
                replies = begun.replies if isinstance(begun, Finish | Stay) else []
                return endings.finish(state=None, replies=list(replies))
            run.state = fresh
            fresh.step = ctx.step = begun
            return Turn(ask(flow, ctx))
        probe = ConversationState(flow.name, flow.first, state.token, flags={"entry": entry})
        begun = flow.begin(self._ctx(run.session, run.contact, probe)) if flow.begin else flow.first
        current = get_flow(state.flow)
        if not isinstance(begun, str):
            said = list(begun.replies) if isinstance(begun, Finish | Stay) else []
            if current is None or current.spec(state.step) is None:
                return Turn(said)
            return Turn(said + self._ask_at(current, state, self._ctx(run.session, run.contact, state)))
        state.updated_at = self.clock.now()
        if state.flow == flow.name:  # another answer of the same kind: it takes the flow's place
            state.history, state.editing = [], False
            state.flags = {k: v for k, v in state.flags.items() if k == "parked"}
        elif flow.keeps_place and current is not None:
            if state.parked_flow:  # 予約確認 over the intake: the intake is what to come back to
                state.unpark()
            state.park(flow)
        else:
            state.enter(flow)
        state.flags.update(probe.flags)
        state.step = begun
        return Turn(self._ask_at(flow, state, self._ctx(run.session, run.contact, state)))

    # Inside a flow
    def _continue(self, run: _Turn, inbound: Inbound, postback: Postback | None) -> Turn:
        state = run.state
        assert state is not None
        flow = get_flow(state.flow)
        spec = flow.spec(state.step) if flow is not None else None
        if flow is None or spec is None:  # left by an older version: end it, politely
            state.ended = True
            return Turn([OutMessage(texts.FLOW_GONE, (start_button(),))])
        now = self.clock.now()
        idle_for = now - state.updated_at if state.updated_at else timedelta(0)
        state.updated_at = now
        ctx = self._ctx(run.session, run.contact, state)
        if ctx.slots is not None and state.answers.get("slot"):
            ctx.slots.keep()  # the owner is still answering: the time chosen stays theirs a while longer
        if (
            flow.resumable
            and idle_for > RESUME_AFTER
            and state.step not in (*flow.no_resume_at, CONFIRM_RESUME)
        ):
            return self._apply(run, flow, ctx, Goto(CONFIRM_RESUME))

        command = command_of(inbound) if spec.takes_commands else None
        if postback is not None and postback.step == MENU and spec.takes_commands:
            command = postback.value  # a menu button (相談を申し込む) tapped inside a flow
        if command is not None:
            question = ask(flow, ctx)
            result = flow.on_command(command, ctx, question) if flow.on_command else None
            return self._apply(run, flow, ctx, result or run_command(command, ctx, question))

        value: str | None = None
        if postback is not None:
            if postback.token != state.token:
                return Turn(spec.again(ctx, texts.OLD_CONVERSATION))
            if postback.step != state.step:
                return Turn(spec.again(ctx, texts.STALE_BUTTON))
            value = postback.value
        elif inbound.kind != "text":
            return Turn(spec.unusable(ctx, non_text=True))
        elif not has_visible(inbound.text):
            return Turn(spec.unusable(ctx, non_text=False))
        text = clean_text(inbound.text) if postback is None else inbound.text
        return self._apply(run, flow, ctx, spec.answer(ctx, Answer(text, value, inbound)))

    def _apply(self, run: _Turn, flow: Flow, ctx: Ctx, result: Result) -> Turn:
        """Carries out what a step or a command answered."""
        state = run.state
        assert state is not None
        match result:
            case Stay(replies=replies):
                return Turn(replies)
            case Advance(replies=replies):
                return Turn(replies + self._move_on(flow, state, ctx))
            case Consented():
                endings.record_answer_to_notice(
                    session=run.session, desk=self.desk, contact=run.contact, clock=self.clock, accepted=True
                )
                return Turn(self._move_on(flow, state, ctx))
            case EditField(step=target):
                spec = flow.spec(target)
                state.go(target, editing=spec is not None and spec.field is not None)
                return Turn(self._ask_at(flow, state, ctx))
            case Goto(step=target, replies=replies):
                state.interrupt(target) if target in CONFIRMATIONS else state.go(target)
                return Turn(replies + self._ask_at(flow, state, ctx))
            case Return(replies=replies):
                state.resume()
                return Turn(replies + self._ask_at(flow, state, ctx))
            case Back():
                state.flags.pop("return_to", None)
                if state.back(flow.back_skips) is None:
                    return Turn([OutMessage(texts.CANNOT_GO_BACK), *self._ask_at(flow, state, ctx)])
                return Turn(self._ask_at(flow, state, ctx))
            case Restart(replies=replies):
                if ctx.slots is not None:
                    ctx.slots.release()
                state.restart(flow)
                return Turn(replies + self._begin_again(run, flow, state))
            case Forget(text=text):
                return endings.forget(
                    session=run.session,
                    contact=run.contact,
                    state=state,
                    ctx=ctx,
                    clock=self.clock,
                    text=text,
                )
            case Decline():
                return endings.decline(
                    session=run.session,
                    desk=self.desk,
                    contact=run.contact,
                    state=state,
                    ctx=ctx,
                    clock=self.clock,
                )
            case Submit() if flow.ending == "submit":
                return endings.submit(
                    session=run.session,
                    flow=flow,
                    contact=run.contact,
                    state=state,
                    ctx=ctx,
                    clock=self.clock,
                    channel=run.channel,
                    outbound=self.outbound,
                )
            case Finish() | Submit():
                return self._finish(run, flow, state, result)
            case Enter(flow=name, replies=replies):
                return self._enter(run, flow, state, name, replies)
        raise AssertionError(f"unknown step result {result!r}")

    def _finish(self, run: _Turn, flow: Flow, state: ConversationState, result: Finish | Submit) -> Turn:
        replies = list(result.replies) if isinstance(result, Finish) else []
        if state.unpark():  # back to the flow it interrupted, where the owner was
            back = get_flow(state.flow)
            assert back is not None
            notice = [OutMessage(back.welcome_back)] if back.welcome_back else []
            return Turn(
                replies + notice + self._ask_at(back, state, self._ctx(run.session, run.contact, state))
            )
        if not replies and flow.closing:
            replies = [OutMessage(flow.closing)]
        return endings.finish(state=state, replies=replies)

    def _enter(
        self, run: _Turn, flow: Flow, state: ConversationState, name: str, replies: list[OutMessage]
    ) -> Turn:
        target = get_flow(name)
        if target is None:
            return Turn(replies + self._ask_at(flow, state, self._ctx(run.session, run.contact, state)))
        if name == state.flow:  # entered again from inside: it starts over (what it parked stays parked)
            state.history, state.editing = [], False
            return Turn(replies + self._begin_again(run, flow, state))
        if name == state.parked_flow:  # 相談する inside 予約確認: the parked intake goes on
            return self._finish(run, flow, state, Finish(replies))
        fresh = ConversationState(target.name, target.first, state.token, flags={"from": state.flow})
        probe = self._ctx(run.session, run.contact, fresh)
        begun = target.begin(probe) if target.begin else target.first
        if not isinstance(begun, str):  # nothing there (予約確認, nothing booked): the question again
            said = begun.replies if isinstance(begun, Finish) else []
            return Turn(
                replies + said + self._ask_at(flow, state, self._ctx(run.session, run.contact, state))
            )
        probe.flags.pop("from", None)
        if target.keeps_place and not state.parked_flow:
            state.park(target)
        else:
            state.enter(target)
            run.session.flush()
            state.log_from_id = run.logged.id  # forgetting the new flow redacts from here
        state.flags.update(probe.flags)
        state.step = begun
        return Turn(replies + self._ask_at(target, state, self._ctx(run.session, run.contact, state)))

    # Moving on
    def _move_on(self, flow: Flow, state: ConversationState, ctx: Ctx) -> list[OutMessage]:
        if state.editing:
            spec = flow.spec(state.step)
            follow = spec.then_while_editing if spec is not None else None
            follow_spec = flow.spec(follow) if follow else None
            if follow_spec is None or not follow_spec.when(replace(ctx, step=str(follow))):
                follow = None
            state.go(follow or flow.last, editing=follow is not None, remember=False)
        else:
            state.go(flow.next_step(ctx, state.step))
        return self._ask_at(flow, state, ctx)

    def _begin_again(self, run: _Turn, flow: Flow, state: ConversationState) -> list[OutMessage]:
        ctx = self._ctx(run.session, run.contact, state)
        begun = flow.begin(ctx) if flow.begin else flow.first
        if not isinstance(begun, str):  # nothing there any more (the last booking went meanwhile)
            return self._apply(run, flow, ctx, begun).replies
        state.step = begun
        return self._ask_at(flow, state, ctx)

    def _ask_at(self, flow: Flow, state: ConversationState, ctx: Ctx) -> list[OutMessage]:
        ctx.step = state.step
        return ask(flow, ctx)

    # Helpers
    def _ctx(self, session: Session, contact: Contact, state: ConversationState) -> Ctx:
        """What the steps see: the state's own answers and flags (changed in place), and the owner's books."""
        return Ctx(
            self.desk,
            state.token,
            state.step,
            state.answers,
            previous_answers(session=session, contact_id=contact.id),
            SlotBook(session, self.desk, self.calendars, self.clock, contact.id),
            flags=state.flags,
            bookings=OwnerBookings(session, self.desk, self.calendars, self.clock, contact.id, self.outbound),
            buttons=self.outbound.capacity_of(contact.channel).buttons,
            surveys=SurveyBook(session, self.clock, self.outbound, contact.id),
        )

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

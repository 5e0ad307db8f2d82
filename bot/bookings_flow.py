"""予約確認: an owner sees their requests and bookings, cancels one or moves it to another time.

    (予約確認, from anywhere) ─► bookings (the list; skipped for one) ─► booking (one, described)
                                                                          ├─ キャンセルする ─► cancel_booking ─► done
                                                                          ├─ 日時を変更したい ─► move (the slot step) ─► booking
                                                                          └─ 戻る ─► the list, or done
    With nothing booked, it says so (naming the requests still open without a time) and offers 相談を申し込む. Entered in the middle of the intake, it keeps
    the intake's place: leaving it (done, 戻る, 相談する) returns to the question the owner was at.

The flow keeps only ids and offered times in its flags; what it shows is read afresh each turn.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session

from bot import proposals, texts
from bot.bookings import moment_label
from bot.messages import Action, Button, OutMessage
from bot.normalize import normalize
from bot.postback import Postback, encode
from bot.sending import Outbound
from bot.slot_step import answer_slot, ask_slot
from bot.steps import Advance, Answer, Ctx, Enter, Finish, Goto, Result, Stay, StepSpec, match_label
from config import DeskConfig
from scheduling import CalendarService
from storage.bookings import Booking
from storage.clock import Clock
from storage.models import Contact

FLOW = "bookings"
LIST = "bookings"
VIEW = "booking"
CANCEL = "cancel_booking"
MOVE = "move"
MAX_LISTED = 11


def _active(ctx: Ctx) -> list[Booking]:
    assert ctx.bookings is not None
    return ctx.bookings.active()[:MAX_LISTED]


def _chosen(ctx: Ctx) -> Booking | None:
    assert ctx.bookings is not None
    return ctx.bookings.get(ctx.flags.get("booking"))


def begin(ctx: Ctx) -> str | Result:
    """The list, or straight the one booking; with none, a Finish that says so."""
    assert ctx.bookings is not None
    active = _active(ctx)
    if not active:
        requests = [c.reference for c in ctx.bookings.open_requests()]
        said = (
            texts.REQUESTS_WITHOUT_TIME.format(references="、".join(requests))
            if requests
            else texts.NO_BOOKINGS
        )
        desk = ctx.desk.desk
        if ctx.flags.get("from"):  # asked in the middle of another flow, which goes on
            return Finish([OutMessage(f"{said}\n{texts.INTAKE_GOES_ON}")])
        more = texts.BOOKINGS_ELSEWHERE.format(phone=desk.phone, hours=desk.hours)
        return Finish([OutMessage(f"{said}\n{more}")])
    if len(active) == 1:
        ctx.flags["booking"] = active[0].id
        return VIEW
    return LIST


def _leave(ctx: Ctx) -> Result:
    """Back from one booking: to the list when there are several, otherwise out of 予約確認."""
    return Goto(LIST) if len(_active(ctx)) > 1 else Finish()


def _gone(ctx: Ctx) -> list[OutMessage]:
    return [OutMessage(texts.BOOKING_GONE, (ctx.button(texts.BOOKINGS_BACK, "back"),))]


# The list
def _ask_list(ctx: Ctx, page: int = 0) -> list[OutMessage]:
    assert ctx.bookings is not None
    active = _active(ctx)
    lines = "\n".join(
        f"・{ctx.bookings.when(b)}（{texts.OWNER_BOOKING_STATUS.get(b.status, '')}）" for b in active
    )
    buttons: list[Action] = [ctx.button(moment_label(b.starts_at), f"id:{b.id}") for b in active]
    buttons.append(ctx.button(texts.BOOKINGS_DONE, "done"))
    return [OutMessage(texts.BOOKINGS_LIST.format(count=len(active), lines=lines), tuple(buttons))]


def _answer_list(ctx: Ctx, reply: Answer) -> Result:
    active = _active(ctx)
    value = reply.value
    if reply.typed:
        said = normalize(reply.text)
        value = next((f"id:{b.id}" for b in active if normalize(moment_label(b.starts_at)) == said), None)
        value = value or ("done" if said == normalize(texts.BOOKINGS_DONE) else None)
    if value == "done":
        return Finish()
    chosen = next((b for b in active if value == f"id:{b.id}"), None)
    if chosen is None:
        return Stay([OutMessage(texts.CHOOSE_FROM_BUTTONS), *_ask_list(ctx)])
    ctx.flags["booking"] = chosen.id
    return Goto(VIEW)


# One booking
def _ask_view(ctx: Ctx, page: int = 0) -> list[OutMessage]:
    assert ctx.bookings is not None
    booking = _chosen(ctx)
    if booking is None:
        return _gone(ctx)
    actions = (
        ctx.button(texts.BOOKING_CANCEL, "cancel"),
        ctx.button(texts.BOOKING_MOVE, "move"),
        ctx.button(texts.BOOKINGS_BACK, "back"),
    )
    return [OutMessage(texts.BOOKING_VIEW.format(lines=ctx.bookings.describe(booking)), actions)]


def _answer_view(ctx: Ctx, reply: Answer) -> Result:
    said = reply.value or match_label(
        reply.text,
        {
            "cancel": (texts.BOOKING_CANCEL,),
            "move": (texts.BOOKING_MOVE, "日時を変更", "日時変更", "変更したい", "変更"),
            "back": (texts.BOOKINGS_BACK,),
        },
    )
    if said == "back" or (said and _chosen(ctx) is None):
        return _leave(ctx)
    if said == "cancel":
        return Goto(CANCEL)
    if said == "move":
        return Goto(MOVE)
    return Stay([OutMessage(texts.CHOOSE_FROM_BUTTONS), *_ask_view(ctx)])


# Cancelling it
def _ask_cancel(ctx: Ctx, page: int = 0) -> list[OutMessage]:
    assert ctx.bookings is not None
    booking = _chosen(ctx)
    if booking is None:
        return _gone(ctx)
    text = texts.CONFIRM_BOOKING_CANCEL.format(when=ctx.bookings.when(booking))
    return [
        OutMessage(
            text, (ctx.button(texts.BOOKING_CANCEL_YES, "yes"), ctx.button(texts.BOOKING_CANCEL_NO, "no"))
        )
    ]


def _answer_cancel(ctx: Ctx, reply: Answer) -> Result:
    assert ctx.bookings is not None
    said = reply.value or match_label(
        reply.text,
        {
            "yes": (texts.BOOKING_CANCEL_YES, "はい", "キャンセル", "キャンセルします"),
            "no": (texts.BOOKING_CANCEL_NO, "いいえ", "戻る", "やめる"),
        },
    )
    booking = _chosen(ctx)
    if booking is None:
        return Finish([OutMessage(texts.BOOKING_GONE)])
    if said == "no":
        return Goto(VIEW, [OutMessage(texts.BOOKING_NOT_CANCELLED)])
    if said != "yes":
        return Stay([OutMessage(texts.CHOOSE_FROM_BUTTONS), *_ask_cancel(ctx)])
    when = ctx.bookings.when(booking)
    if not ctx.bookings.cancel(booking.id):  # declined or changed meanwhile
        return Finish([OutMessage(texts.BOOKING_GONE)])
    ctx.flags.pop("booking", None)
    return Finish([OutMessage(texts.BOOKING_CANCELLED.format(when=when))])


# Another time: the intake's slot step, with a book that moves the booking instead of holding anew
def _mover(ctx: Ctx, booking: Booking) -> Ctx:
    assert ctx.bookings is not None
    return replace(ctx, answers=ctx.bookings.slot_answers(booking), slots=ctx.bookings.mover(booking))


def _keep_button(ctx: Ctx, messages: list[OutMessage]) -> list[OutMessage]:
    """The slot step's 日程は相談して決めたい reads 変更しない here; switching the method is not offered."""
    later = encode(ctx.token, MOVE, "later")
    shown: list[OutMessage] = []
    for message in messages:
        actions: list[Action] = []
        for action in message.actions:
            value = action.data.rsplit("|", 1)[-1]
            if action.data == later:
                action = Button(texts.KEEP_TIME, later, display=texts.KEEP_TIME)
            elif value == "online" or value.startswith("method:"):
                continue
            actions.append(action)
        shown.append(replace(message, actions=tuple(actions)))
    return shown


def _ask_move(ctx: Ctx, page: int = 0) -> list[OutMessage]:
    assert ctx.bookings is not None
    booking = _chosen(ctx)
    if booking is None:
        return _gone(ctx)
    now = OutMessage(texts.ASK_NEW_TIME.format(when=ctx.bookings.when(booking)))
    return [now, *_keep_button(ctx, ask_slot(_mover(ctx, booking)))]


def _answer_move(ctx: Ctx, reply: Answer) -> Result:
    booking = _chosen(ctx)
    if booking is None:
        return Finish([OutMessage(texts.BOOKING_GONE)])
    value = reply.value
    if value == "later" or (reply.typed and normalize(reply.text) == normalize(texts.KEEP_TIME)):
        return Goto(VIEW, [OutMessage(texts.BOOKING_NOT_MOVED)])
    if value is not None and (value == "online" or value.startswith("method:")):
        return Stay(_ask_move(ctx))
    mover = _mover(ctx, booking)
    result = answer_slot(mover, reply)
    if isinstance(result, Advance):
        ctx.flags.pop("offered", None)
        return Goto(VIEW, [OutMessage(texts.BOOKING_MOVED)])
    assert isinstance(result, Stay)
    return Stay(_keep_button(ctx, result.replies))


def on_command(command: str, ctx: Ctx, ask: list[OutMessage]) -> Result | None:
    """What the commands mean here: キャンセル on a booking is cancelling it; 戻る goes up a level; 相談する
    goes to the intake (the parked one, where it was); None: as everywhere."""
    if command == "cancel" and ctx.step == VIEW:
        return Goto(CANCEL) if _chosen(ctx) is not None else _leave(ctx)
    if command in ("cancel", "back"):
        if ctx.step == MOVE:
            return Goto(VIEW, [OutMessage(texts.BOOKING_NOT_MOVED)])
        if ctx.step == CANCEL:
            return Goto(VIEW, [OutMessage(texts.BOOKING_NOT_CANCELLED)])
        return _leave(ctx) if ctx.step == VIEW else Finish()
    if command in ("bookings", "restart"):
        return Enter(FLOW)
    if command == "start":
        return Enter("intake")
    return None


def answer_proposal(
    *,
    session: Session,
    desk: DeskConfig,
    clock: Clock,
    calendars: CalendarService,
    outbound: Outbound,
    contact: Contact,
    postback: Postback,
) -> list[OutMessage]:
    """A tap on a proposal of other times (sent from Slack, outside any conversation), wherever the owner
    is: the conversation they are in, if any, stays where it was."""
    return proposals.answer_owner(
        session=session,
        desk=desk,
        clock=clock,
        calendars=calendars,
        outbound=outbound,
        contact_id=contact.id,
        token=postback.token,
        value=postback.value,
    )


STEPS: dict[str, StepSpec] = {
    LIST: StepSpec(_ask_list, _answer_list),
    VIEW: StepSpec(_ask_view, _answer_view),
    CANCEL: StepSpec(_ask_cancel, _answer_cancel),
    MOVE: StepSpec(_ask_move, _answer_move, answered_by="buttons"),
}

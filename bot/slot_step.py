"""The intake's slot step: a coordinator's free times as buttons, the date picker, and the hold.

It applies when the owner wants to meet (in person, on site or online): it offers times from
bot/slots.py's SlotBook, holds the one chosen, and, when no coordinator takes the method for the
category and place, offers the methods some coordinator does take.
"""

from __future__ import annotations

from typing import Any

from bot import texts
from bot.messages import Action, Button, DatePicker, OutMessage
from bot.normalize import match_choice, normalize
from bot.postback import encode
from bot.readback import choice_label
from bot.slots import parse_picker_value, picker_value
from bot.steps import Advance, Answer, Ctx, Result, Stay
from scheduling import Proposal, Slot, label_slot


def slot_applies(ctx: Ctx) -> bool:
    return ctx.slots is not None and ctx.slots.wants_slot(ctx.answers)


def slot_due(ctx: Ctx) -> bool:
    """A meeting whose time is not chosen yet, or whose chosen time no longer suits the answers."""
    if not slot_applies(ctx) or ctx.answers.get("slot_later"):
        return False
    chosen = ctx.answers.get("slot")
    assert ctx.slots is not None
    return not chosen or not ctx.slots.fits(Slot.from_dict(chosen), ctx.answers)


def _slot_prompt(ctx: Ctx, around: Any = None) -> list[OutMessage]:
    """The free times as buttons, or why there are none; remembers what was offered."""
    assert ctx.slots is not None
    ctx.flags.pop("methods", None)  # offered again below when no coordinator takes the method
    proposal: Proposal = ctx.slots.propose(ctx.answers, around)
    later = ctx.button(texts.DECIDE_LATER, "later")
    picker: list[Action] = []
    if proposal.window_start and proposal.window_end:
        # It opens at the moment asked about, or at the first working hour (not at midnight, which a tap on
        # 決定 would ask for); LINE refuses an initial value outside min and max.
        opens = around or ctx.slots.picker_opens(ctx.answers) or proposal.window_start
        picker = [
            DatePicker(
                texts.OTHER_TIME,
                encode(ctx.token, ctx.step, "picker"),
                initial=picker_value(min(max(opens, proposal.window_start), proposal.window_end)),
                min=picker_value(proposal.window_start),
                max=picker_value(proposal.window_end),
            )
        ]
    island_online = (ctx.button(texts.SWITCH_TO_ONLINE, "online"), later)
    if proposal.status == "online_only":
        return [OutMessage(texts.ISLAND_ONLINE, island_online)]
    if proposal.status == "no_coordinator" and proposal.alternative_method is None:
        return _no_coordinator_prompt(ctx, later)
    if proposal.status == "ok" and proposal.slots:
        offered = proposal.slots[:11]
        ctx.flags["offered"] = {s.token: s.as_dict() for s in offered}
        minutes = ctx.desk.scheduling.rules.duration_minutes.get(ctx.answers["method"], 60)
        if around is not None:
            text = texts.SLOTS_AROUND.format(moment=f"{around:%-m/%-d %H:%M}")
        elif offered[0].whole_day:
            text = texts.ASK_SLOT_WHOLE_DAY
        else:
            text = texts.ASK_SLOT.format(minutes=minutes)
        buttons = [ctx.button(label_slot(s), f"pick:{s.token}") for s in offered]
        return [OutMessage(text, (*buttons, *picker, later))]
    if around is not None:
        return [OutMessage(texts.NO_SLOTS_AROUND.format(moment=f"{around:%-m/%-d %H:%M}"), (*picker, later))]
    if proposal.alternative_method == "online":  # no island visit to offer: online is, at once
        return [OutMessage(texts.ISLAND_ONLINE, island_online)]
    reason = texts.CALENDAR_UNAVAILABLE if proposal.status == "calendar_unavailable" else texts.NO_SLOTS
    # The picker helps only when coordinators are there but the next days are full.
    return [
        OutMessage(
            reason, (ctx.button(texts.NEXT, "later"), *(picker if proposal.status == "no_slots" else ()))
        )
    ]


def _no_coordinator_prompt(ctx: Ctx, later: Button) -> list[OutMessage]:
    """Says that no coordinator takes this method for the category (and place), and offers what exists."""
    assert ctx.slots is not None
    desk, answers = ctx.desk, ctx.answers
    category = choice_label(desk, "categories", answers.get("category") or "other")
    if answers["method"] == "onsite":
        place = desk.municipality_by_code.get(answers.get("municipality") or "")
        text = texts.NO_COORDINATOR_VISIT.format(place=place.name if place else "", category=category)
    else:
        method = desk.choice("methods", answers["method"])
        text = texts.NO_COORDINATOR_METHOD.format(method=method.name if method else "", category=category)
    others = ctx.slots.other_methods(answers)
    ctx.flags["methods"] = others
    buttons = [ctx.button(choice_label(desk, "methods", m), f"method:{m}") for m in others]
    follow = texts.NO_COORDINATOR_OTHERS if others else texts.NO_COORDINATOR_LATER
    return [OutMessage(f"{text}\n{follow}", (*buttons, later))]


def _switch_method(ctx: Ctx, method: str) -> Result:
    """Takes another method offered when none takes the first: its times, or on to the contact step."""
    assert ctx.slots is not None
    ctx.answers["method"] = method
    ctx.flags.pop("methods", None)
    if slot_applies(ctx):
        return Stay(_slot_prompt(ctx))
    ctx.slots.release()
    ctx.flags.pop("offered", None)
    for key in ("slot", "slot_later"):
        ctx.answers.pop(key, None)
    return Advance()


def ask_slot(ctx: Ctx, page: int = 0) -> list[OutMessage]:
    chosen = ctx.answers.get("slot")
    if chosen and ctx.slots is not None and not ctx.slots.fits(Slot.from_dict(chosen), ctx.answers):
        return [OutMessage(texts.SLOT_REVIEW), *_slot_prompt(ctx)]
    return _slot_prompt(ctx)


def _take_slot(ctx: Ctx, slot: Slot) -> Result:
    assert ctx.slots is not None
    if not ctx.slots.hold(slot):
        return Stay([OutMessage(texts.SLOT_TAKEN), *_slot_prompt(ctx)])
    ctx.answers["slot"] = slot.as_dict()
    ctx.answers.pop("slot_later", None)
    ctx.flags.pop("offered", None)
    return Advance()


def answer_slot(ctx: Ctx, reply: Answer) -> Result:
    assert ctx.slots is not None
    offered: dict[str, dict[str, Any]] = ctx.flags.get("offered") or {}
    methods: list[str] = ctx.flags.get("methods") or []
    value = reply.value
    if value is None:  # typed: one of the offered labels, an offered method, or "later"
        said = normalize(reply.text)
        value = next(
            (f"pick:{t}" for t, d in offered.items() if normalize(label_slot(Slot.from_dict(d))) == said),
            "later" if said and said in {normalize(texts.DECIDE_LATER), normalize(texts.NEXT)} else None,
        )
        method = match_choice(reply.text, [m for m in ctx.desk.methods if m.id in methods])
        if value is None and method is not None:
            value = f"method:{method.id}"
    if value == "later":
        ctx.slots.release()
        ctx.answers.pop("slot", None)
        ctx.flags.pop("methods", None)
        ctx.answers["slot_later"] = True
        return Advance()
    if value and value.startswith("method:") and value[7:] in methods:
        return _switch_method(ctx, value[7:])
    if value == "online":
        ctx.answers["method"] = "online"
        return Stay(_slot_prompt(ctx))
    if value == "picker":
        params = reply.inbound.params if reply.inbound else {}
        around = parse_picker_value(params.get("datetime") or params.get("date") or "")
        if around is None:
            return Stay([OutMessage(texts.PICKER_INVALID), *_slot_prompt(ctx)])
        return Stay(_slot_prompt(ctx, around))
    if value and value.startswith("pick:") and value[5:] in offered:
        return _take_slot(ctx, Slot.from_dict(offered[value[5:]]))
    notice = texts.STALE_BUTTON if value else texts.CHOOSE_FROM_BUTTONS
    return Stay([OutMessage(notice), *_slot_prompt(ctx)])

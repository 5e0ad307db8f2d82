"""The intake conversation: from 「相談したい」 to a complete consultation request.

The whole flow is the table `STEPS` at the bottom of this file, in the order the owner meets the
questions; docs/intake.md has its diagram. Each step has an `ask` (the question and its buttons) and
an `answer` (validate, store, and say whether to move on). The engine (bot/engine.py) does what is
common to every step: commands (戻る, やめる, …), stale buttons, non-text messages, edit mode, history.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Literal

from bot import texts
from bot.messages import Action, Button, DatePicker, Inbound, OutMessage
from bot.normalize import clean_text, is_emoji_only, match_choice, normalize
from bot.places import Ambiguous, Found, NotFound, OutsidePrefecture, resolve_place
from bot.postback import encode
from bot.slots import SlotBook, parse_picker_value, picker_value
from bot.validation import COMPANY_MAX, CONTACT_NAME_MAX, DESCRIPTION_MAX, check_text, parse_contact
from config import Choice, DeskConfig
from scheduling import Proposal, Slot, label_slot, label_slot_range

FLOW = "intake"
PAGE_SIZE = 11  # leaves room for the page buttons inside LINE's 13 quick replies


class Step(StrEnum):
    CONSENT = "consent"
    REUSE = "reuse"
    COMPANY_KIND = "company_kind"
    COMPANY = "company"
    CONTACT_NAME = "contact_name"
    INDUSTRY = "industry"
    MUNICIPALITY = "municipality"
    EMPLOYEES = "employees"
    CATEGORY = "category"
    CATEGORY2 = "category2"
    DESCRIPTION = "description"
    DX_STAGE = "dx_stage"
    METHOD = "method"
    SLOT = "slot"
    CONTACT = "contact"
    SUMMARY = "summary"
    EDIT = "edit"


@dataclass
class Ctx:
    """What a step sees: the desk, the answers so far and how to label its buttons."""

    desk: DeskConfig
    token: str
    step: Step
    answers: dict[str, Any]
    previous: dict[str, Any] | None = None  # the owner's last consultation, for reuse
    slots: SlotBook | None = None  # coordinators' free times and holds, for meetings

    def button(self, label: str, value: str, step: Step | None = None) -> Button:
        return Button(label, encode(self.token, str(step or self.step), value), display=label)


# What an answer does
@dataclass
class Advance:
    """The answer is stored; move to the next step."""

    replies: list[OutMessage] = field(default_factory=list)


@dataclass
class Stay:
    """Stay on this step and say this (a re-prompt, another page of buttons, a follow-up question)."""

    replies: list[OutMessage]


@dataclass
class Consented:
    """The owner accepted the privacy notice: record it, then move on."""


@dataclass
class Decline:
    """The owner declined the privacy notice: end, keeping nothing but that fact."""


@dataclass
class EditField:
    """Go to one question and come back to the summary."""

    step: Step


@dataclass
class Submit:
    """Store the consultation."""


Result = Advance | Stay | Consented | Decline | EditField | Submit


@dataclass(frozen=True)
class Answer:
    """An inbound message as a step sees it: typed text, or the value of one of its own buttons."""

    text: str = ""
    value: str | None = None
    inbound: Inbound | None = None

    @property
    def typed(self) -> bool:
        return self.value is None


def _choices(desk: DeskConfig, kind: str) -> Sequence[Choice]:
    return getattr(desk, kind)


def _label(desk: DeskConfig, kind: str, choice_id: str | None) -> str:
    found = desk.choice(kind, choice_id) if choice_id else None
    return found.label if found else ""


def _paged(
    ctx: Ctx,
    choices: Sequence[Choice],
    page: int,
    more_label: str,
    exclude: str | None = None,
    extra: Sequence[Action] = (),
) -> tuple[Action, ...]:
    items = [c for c in choices if c.id != exclude]
    room = PAGE_SIZE - len(extra)
    pages = [items[i : i + room] for i in range(0, len(items), room)] or [[]]
    page = max(0, min(page, len(pages) - 1))
    actions: list[Action] = [*extra, *(ctx.button(c.label, f"id:{c.id}") for c in pages[page])]
    if page > 0:
        actions.append(ctx.button(texts.PREV_PAGE, f"page:{page - 1}"))
    if page < len(pages) - 1:
        actions.append(ctx.button(more_label, f"page:{page + 1}"))
    return tuple(actions)


def _with_current(ctx: Ctx, text: str, field_name: str) -> str:
    current = describe_answer(ctx.desk, ctx.answers, field_name)
    return f"{text}\n{texts.CURRENT_ANSWER.format(answer=current)}" if current else text


# Step kinds
AnsweredBy = Literal["text", "buttons", "either"]
# What a message the step cannot use (a sticker, an image, nothing visible) is answered with.
UNUSABLE = {
    "text": (texts.NON_TEXT_TYPED, texts.EMPTY),
    "buttons": (texts.NON_TEXT_BUTTONS, texts.CHOOSE_FROM_BUTTONS),
    "either": (texts.NON_TEXT, texts.TYPE_OR_CHOOSE),
}


@dataclass(frozen=True)
class StepSpec:
    ask: Callable[[Ctx, int], list[OutMessage]]
    answer: Callable[[Ctx, Answer], Result]
    field: str | None = None  # the answer this step fills (for 戻る and the summary's edit list)
    when: Callable[[Ctx], bool] = lambda ctx: True
    then_while_editing: Step | None = None  # a step that must follow this one even when editing
    answered_by: AnsweredBy = "buttons"  # typed text, a button, or either (what to ask for after a sticker)
    # The question again after an answer it could not use, led by `notice` (default: notice, then the question).
    reask: Callable[[Ctx, str], list[OutMessage]] | None = None

    def again(self, ctx: Ctx, notice: str) -> list[OutMessage]:
        """The notice and the question again, as short as the step allows."""
        if self.reask is not None:
            return self.reask(ctx, notice)
        return [OutMessage(notice), *self.ask(ctx, 0)]

    def unusable(self, ctx: Ctx, *, non_text: bool) -> list[OutMessage]:
        """The answer to a sticker or image (non_text), or to a text with nothing visible in it."""
        sticker, blank = UNUSABLE[self.answered_by]
        return self.again(ctx, sticker if non_text else blank)


def text_step(field_name: str, prompt: str, limit: int) -> StepSpec:
    """A free-text question with a length limit."""

    def ask(ctx: Ctx, page: int = 0) -> list[OutMessage]:
        return [OutMessage(_with_current(ctx, prompt.format(limit=f"{limit:,}"), field_name))]

    def answer(ctx: Ctx, reply: Answer) -> Result:
        if reply.value is not None or is_emoji_only(reply.text):
            return Stay([OutMessage(texts.NON_TEXT_TYPED), *ask(ctx)])
        error = check_text(reply.text, limit)
        if error:
            return Stay([OutMessage(error)])
        ctx.answers[field_name] = clean_text(reply.text)
        return Advance()

    return StepSpec(ask, answer, field=field_name, answered_by="text")


# What owners type for "none" (特になし) where a question offers it.
NONE_WORDS = {
    normalize(word)
    for word in (
        "なし", "無し", "ない", "無い", "特になし", "とくになし", "特に無し", "特にない", "とくにない", "特に無い",
        "ありません", "特にありません", "とくにありません", "なしで", "特になしで", "ないです",
    )
}  # fmt: skip


def choice_step(
    field_name: str,
    kind: str,
    prompt: str,
    more_prompt: str = "",
    more_label: str = "",
    exclude: Callable[[Ctx], str | None] = lambda ctx: None,
    none_label: str | None = None,
) -> StepSpec:
    """A question answered by one of the desk's choices, paged when there are more than fit."""

    def ask(ctx: Ctx, page: int = 0) -> list[OutMessage]:
        extra = [ctx.button(none_label, "none")] if none_label else []
        actions = _paged(ctx, _choices(ctx.desk, kind), page, more_label, exclude(ctx), extra)
        text = more_prompt if page and more_prompt else prompt
        return [OutMessage(_with_current(ctx, text, field_name), actions)]

    def answer(ctx: Ctx, reply: Answer) -> Result:
        options = [c for c in _choices(ctx.desk, kind) if c.id != exclude(ctx)]
        chosen: Choice | None = None
        if reply.value is not None:
            if reply.value.startswith("page:"):
                return Stay(ask(ctx, int(reply.value.removeprefix("page:") or 0)))
            if reply.value == "none" and none_label:
                ctx.answers[field_name] = None
                return Advance()
            chosen = next((c for c in options if f"id:{c.id}" == reply.value), None)
        else:
            if none_label and normalize(reply.text) in NONE_WORDS | {normalize(none_label)}:
                ctx.answers[field_name] = None
                return Advance()
            chosen = match_choice(reply.text, options)
        if chosen is None:
            notice = (
                texts.NOT_A_CHOICE.format(text=reply.text[:30]) if reply.typed else texts.CHOOSE_FROM_BUTTONS
            )
            return Stay([OutMessage(notice), *ask(ctx, 0)])
        ctx.answers[field_name] = chosen.id
        return Advance()

    return StepSpec(ask, answer, field=field_name)


def yes_no_step(
    prompt: Callable[[Ctx], str],
    yes: str,
    no: str,
    on_yes: Callable[[Ctx], Result],
    on_no: Callable[[Ctx], Result],
) -> StepSpec:
    """A question with two buttons; typed text is matched to their labels."""

    def ask(ctx: Ctx, page: int = 0) -> list[OutMessage]:
        return [OutMessage(prompt(ctx), (ctx.button(yes, "yes"), ctx.button(no, "no")))]

    def answer(ctx: Ctx, reply: Answer) -> Result:
        said = reply.value or _match_label(reply.text, {"yes": (yes, "はい", "同意"), "no": (no, "いいえ")})
        if said == "yes":
            return on_yes(ctx)
        if said == "no":
            return on_no(ctx)
        return Stay([OutMessage(texts.CHOOSE_FROM_BUTTONS), *ask(ctx, 0)])

    return StepSpec(ask, answer)


def _match_label(text: str, options: dict[str, Sequence[str]]) -> str | None:
    said = normalize(text)
    for value, labels in options.items():
        if said and any(said == normalize(label) for label in labels):
            return value
    return None


# The steps with their own logic
def _consent_buttons(ctx: Ctx) -> tuple[Action, ...]:
    return (ctx.button(texts.CONSENT_YES, "yes"), ctx.button(texts.CONSENT_NO, "no"))


def _ask_consent(ctx: Ctx, page: int = 0) -> list[OutMessage]:
    notice = texts.CONSENT.format(notice=ctx.desk.privacy_notice.text)
    return [OutMessage(notice, _consent_buttons(ctx))]


def _reask_consent(ctx: Ctx, notice: str) -> list[OutMessage]:
    """A short line and the two buttons: the notice itself was just shown."""
    return [OutMessage(f"{notice}\n{texts.CONSENT_AGAIN}", _consent_buttons(ctx))]


def _answer_consent(ctx: Ctx, reply: Answer) -> Result:
    said = reply.value or _match_label(
        reply.text,
        {
            "yes": (texts.CONSENT_YES, "はい", "同意します", "同意", "同意しました"),
            "no": (texts.CONSENT_NO, "いいえ", "同意しません", "同意できません", "しない"),
        },
    )
    if said == "yes":
        ctx.answers["_consented"] = ctx.desk.privacy_notice.version
        return Consented()
    if said == "no":
        return Decline()
    return Stay(_reask_consent(ctx, texts.CHOOSE_FROM_BUTTONS))


REUSED_FIELDS = ("sole_trader", "company_name", "contact_name", "industry", "municipality", "employees")


def _reuse_summary(ctx: Ctx) -> str:
    previous = ctx.previous or {}
    shown = tuple(k for k in REUSED_FIELDS if k in texts.SUMMARY_LABELS)
    return texts.REUSE.format(summary=summary_lines(ctx.desk, previous, shown))


# The business's name: a company or trade name (business data, in clear) or, for a sole trader without
# a trade name, the owner's own name (personal data, stored encrypted). Both are the answer
# "company_name"; "sole_trader" says which it is.
_KIND_WORDS: dict[str, Sequence[str]] = {
    "company": (texts.COMPANY_KIND_COMPANY, "法人", "会社", "屋号あり", "あり", "ある", "あります", "はい"),
    "sole": (
        texts.COMPANY_KIND_SOLE,
        "個人",
        "個人事業主",
        "屋号なし",
        "なし",
        "ない",
        "ありません",
        "いいえ",
    ),
}


def _ask_company_kind(ctx: Ctx, page: int = 0) -> list[OutMessage]:
    actions = (ctx.button(texts.COMPANY_KIND_COMPANY, "company"), ctx.button(texts.COMPANY_KIND_SOLE, "sole"))
    return [OutMessage(_with_current(ctx, texts.ASK_COMPANY_KIND, "sole_trader"), actions)]


def _answer_company_kind(ctx: Ctx, reply: Answer) -> Result:
    said = reply.value if reply.value in _KIND_WORDS else _match_label(reply.text, _KIND_WORDS)
    if said is None:
        notice = texts.NOT_A_CHOICE.format(text=reply.text[:30]) if reply.typed else texts.CHOOSE_FROM_BUTTONS
        return Stay([OutMessage(notice), *_ask_company_kind(ctx)])
    sole = said == "sole"
    if ctx.answers.get("sole_trader") is not None and ctx.answers["sole_trader"] != sole:
        ctx.answers.pop("company_name", None)  # a trade name is no owner's name, nor the other way round
    ctx.answers["sole_trader"] = sole
    return Advance()


_COMPANY_NAME = text_step("company_name", texts.ASK_COMPANY, COMPANY_MAX)
_OWNER_NAME = text_step("company_name", texts.ASK_OWNER_NAME, CONTACT_NAME_MAX)


def _name_step(ctx: Ctx) -> StepSpec:
    return _OWNER_NAME if ctx.answers.get("sole_trader") else _COMPANY_NAME


def _ask_company(ctx: Ctx, page: int = 0) -> list[OutMessage]:
    return _name_step(ctx).ask(ctx, page)


def _answer_company(ctx: Ctx, reply: Answer) -> Result:
    return _name_step(ctx).answer(ctx, reply)


_CONTACT_NAME = text_step("contact_name", texts.ASK_CONTACT_NAME, CONTACT_NAME_MAX)
_CONTACT_NAME_SOLE = text_step("contact_name", texts.ASK_CONTACT_NAME_SOLE, CONTACT_NAME_MAX)


def _ask_contact_name(ctx: Ctx, page: int = 0) -> list[OutMessage]:
    if not ctx.answers.get("sole_trader"):
        return _CONTACT_NAME.ask(ctx, page)
    [question] = _CONTACT_NAME_SOLE.ask(ctx, page)
    return [replace(question, actions=(ctx.button(texts.SAME_AS_OWNER, "same"),))]


def _answer_contact_name(ctx: Ctx, reply: Answer) -> Result:
    if not ctx.answers.get("sole_trader"):
        return _CONTACT_NAME.answer(ctx, reply)
    if reply.value == "same" or (reply.typed and _match_label(reply.text, {"same": (texts.SAME_AS_OWNER,)})):
        ctx.answers["contact_name"] = ctx.answers.get("company_name")
        return Advance()
    result = _CONTACT_NAME_SOLE.answer(ctx, reply)
    if isinstance(result, Stay) and result.replies:  # the re-prompt keeps the button
        last = replace(result.replies[-1], actions=(ctx.button(texts.SAME_AS_OWNER, "same"),))
        return Stay([*result.replies[:-1], last])
    return result


def _reuse(ctx: Ctx) -> Result:
    for key in REUSED_FIELDS:
        ctx.answers[key] = (ctx.previous or {}).get(key)
    ctx.answers["_reused"] = True
    return Advance()


def _ask_municipality(ctx: Ctx, page: int = 0) -> list[OutMessage]:
    areas = tuple(ctx.button(a.label, f"area:{a.id}") for a in ctx.desk.areas)
    return [OutMessage(_with_current(ctx, texts.ASK_MUNICIPALITY, "municipality"), areas)]


def _municipality_buttons(ctx: Ctx, codes: Sequence[str]) -> list[Action]:
    return [ctx.button(ctx.desk.municipality_by_code[c].name, f"muni:{c}") for c in codes]


def _answer_municipality(ctx: Ctx, reply: Answer) -> Result:
    desk = ctx.desk
    value = reply.value
    if value is not None:
        if value.startswith("muni:") and value[5:] in desk.municipality_by_code:
            ctx.answers["municipality"] = value[5:]
            return Advance()
        if value.startswith("area:"):
            area = next((a for a in desk.areas if a.id == value[5:]), None)
            if area:
                codes = [m.code for m in desk.municipalities if m.area == area.id]
                actions = [*_municipality_buttons(ctx, codes), ctx.button(texts.CHOOSE_AREA_AGAIN, "areas")]
                return Stay(
                    [OutMessage(texts.ASK_MUNICIPALITY_IN_AREA.format(area=area.name), tuple(actions))]
                )
        if value == "outside":
            return Stay(
                [
                    OutMessage(
                        texts.OUTSIDE_PREFECTURE.format(prefecture=desk.desk.prefecture),
                        _ask_municipality(ctx)[0].actions,
                    )
                ]
            )
        return Stay(_ask_municipality(ctx))
    if is_emoji_only(reply.text):
        return Stay([OutMessage(texts.NON_TEXT), *_ask_municipality(ctx)])
    place = resolve_place(reply.text, desk)
    match place:
        case Found(municipality=m, typed_as=typed):
            ctx.answers["municipality"] = m.code
            # Say how a former town, a district or a reading was taken: 「国分 → 霧島市 としてお受けしました」.
            taken = [OutMessage(texts.PLACE_TAKEN_AS.format(typed=typed, name=m.name))] if typed else []
            return Advance(taken)
        case Ambiguous(name=name, options=options, outside=outside):
            actions = _municipality_buttons(ctx, [m.code for m in options])
            if outside:
                actions.append(ctx.button(texts.OUTSIDE_OPTION.format(name=outside)[:20], "outside"))
            return Stay([OutMessage(texts.ASK_AMBIGUOUS.format(name=name), tuple(actions))])
        case OutsidePrefecture():
            return Stay(
                [
                    OutMessage(
                        texts.OUTSIDE_PREFECTURE.format(prefecture=desk.desk.prefecture),
                        _ask_municipality(ctx)[0].actions,
                    )
                ]
            )
        case NotFound():
            return Stay(
                [
                    OutMessage(
                        texts.PLACE_NOT_FOUND.format(text=reply.text[:30]), _ask_municipality(ctx)[0].actions
                    )
                ]
            )
    return Stay(_ask_municipality(ctx))


def _slot_applies(ctx: Ctx) -> bool:
    return ctx.slots is not None and ctx.slots.wants_slot(ctx.answers)


def _slot_due(ctx: Ctx) -> bool:
    """A meeting whose time is not chosen yet, or whose chosen time no longer suits the answers."""
    if not _slot_applies(ctx) or ctx.answers.get("slot_later"):
        return False
    chosen = ctx.answers.get("slot")
    assert ctx.slots is not None
    return not chosen or not ctx.slots.fits(Slot.from_dict(chosen), ctx.answers)


def _answer_method(ctx: Ctx, reply: Answer) -> Result:
    result = _METHOD.answer(ctx, reply)
    if isinstance(result, Advance) and not _slot_applies(ctx) and ctx.slots is not None:
        ctx.slots.release()
        ctx.answers.pop("slot", None)
        ctx.answers.pop("slot_later", None)
    return result


def _slot_prompt(ctx: Ctx, around: Any = None) -> list[OutMessage]:
    """The free times as buttons, or why there are none; remembers what was offered."""
    assert ctx.slots is not None
    ctx.answers.pop("_methods", None)  # offered again below when no coordinator takes the method
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
                encode(ctx.token, str(Step.SLOT), "picker"),
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
        ctx.answers["_offered"] = {s.token: s.as_dict() for s in offered}
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
    category = _label(desk, "categories", answers.get("category") or "other")
    if answers["method"] == "onsite":
        place = desk.municipality_by_code.get(answers.get("municipality") or "")
        text = texts.NO_COORDINATOR_VISIT.format(place=place.name if place else "", category=category)
    else:
        method = desk.choice("methods", answers["method"])
        text = texts.NO_COORDINATOR_METHOD.format(method=method.name if method else "", category=category)
    others = ctx.slots.other_methods(answers)
    answers["_methods"] = others
    buttons = [ctx.button(_label(desk, "methods", m), f"method:{m}") for m in others]
    follow = texts.NO_COORDINATOR_OTHERS if others else texts.NO_COORDINATOR_LATER
    return [OutMessage(f"{text}\n{follow}", (*buttons, later))]


def _switch_method(ctx: Ctx, method: str) -> Result:
    """Takes another method offered when none takes the first: its times, or on to the contact step."""
    assert ctx.slots is not None
    ctx.answers["method"] = method
    ctx.answers.pop("_methods", None)
    if _slot_applies(ctx):
        return Stay(_slot_prompt(ctx))
    ctx.slots.release()
    for key in ("slot", "slot_later", "_offered"):
        ctx.answers.pop(key, None)
    return Advance()


def _ask_slot(ctx: Ctx, page: int = 0) -> list[OutMessage]:
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
    ctx.answers.pop("_offered", None)
    return Advance()


def _answer_slot(ctx: Ctx, reply: Answer) -> Result:
    assert ctx.slots is not None
    offered: dict[str, dict[str, Any]] = ctx.answers.get("_offered") or {}
    methods: list[str] = ctx.answers.get("_methods") or []
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
        ctx.answers.pop("_methods", None)
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


def _ask_contact(ctx: Ctx, page: int = 0) -> list[OutMessage]:
    return [OutMessage(_with_current(ctx, texts.ASK_CONTACT, "contact"))]


def _answer_contact(ctx: Ctx, reply: Answer) -> Result:
    if reply.value is not None or not reply.text.strip():
        return Stay([OutMessage(texts.CONTACT_MISSING)])
    parsed = parse_contact(reply.text)
    if isinstance(parsed, str):
        return Stay([OutMessage(parsed)])
    ctx.answers["phone"], ctx.answers["email"] = parsed.phone, parsed.email
    return Advance()


def _ask_summary(ctx: Ctx, page: int = 0) -> list[OutMessage]:
    keys = tuple(k for k in texts.SUMMARY_LABELS if k != "slot" or _slot_applies(ctx))
    summary = summary_lines(ctx.desk, ctx.answers, keys)
    actions = (ctx.button(texts.SUBMIT, "submit"), ctx.button(texts.EDIT, "edit"))
    return [OutMessage(texts.SUMMARY.format(summary=summary), actions)]


def _answer_summary(ctx: Ctx, reply: Answer) -> Result:
    said = reply.value or _match_label(
        reply.text,
        {"submit": (texts.SUBMIT, "送信", "送信する", "はい"), "edit": (texts.EDIT, "修正", "修正する")},
    )
    if said == "submit":
        return Submit()
    if said == "edit":
        return EditField(Step.EDIT)
    return Stay([OutMessage(texts.CHOOSE_FROM_BUTTONS), *_ask_summary(ctx)])


def _editable(ctx: Ctx) -> list[tuple[str, Step]]:
    by_field: dict[str, Step] = {}
    for step, spec in STEPS.items():
        if spec.field and spec.field in texts.EDIT_LABELS and (step != Step.SLOT or _slot_applies(ctx)):
            by_field.setdefault(spec.field, step)
    labels = {**texts.EDIT_LABELS}
    if ctx.answers.get("sole_trader"):
        labels["company_name"] = texts.SOLE_TRADER_EDIT_LABEL
    return [(labels[f], by_field[f]) for f in texts.EDIT_LABELS if f in by_field]


def _ask_edit(ctx: Ctx, page: int = 0) -> list[OutMessage]:
    actions = [ctx.button(label, f"step:{step}") for label, step in _editable(ctx)]
    actions.append(ctx.button(texts.BACK_TO_SUMMARY, "summary"))
    return [OutMessage(texts.ASK_EDIT_FIELD, tuple(actions))]


def _answer_edit(ctx: Ctx, reply: Answer) -> Result:
    fields = _editable(ctx)
    if reply.value == "summary" or (
        reply.typed and _match_label(reply.text, {"s": (texts.BACK_TO_SUMMARY,)})
    ):
        return EditField(Step.SUMMARY)
    if reply.value and reply.value.startswith("step:"):
        target = next((step for _, step in fields if f"step:{step}" == reply.value), None)
        if target:
            return EditField(target)
    if reply.typed:
        target = next((step for label, step in fields if normalize(label) == normalize(reply.text)), None)
        if target:
            return EditField(target)
    return Stay([OutMessage(texts.CHOOSE_FROM_BUTTONS), *_ask_edit(ctx)])


_METHOD = choice_step("method", "methods", texts.ASK_METHOD)


def _has_previous(ctx: Ctx) -> bool:
    return bool(ctx.previous) and not ctx.answers.get("_reused")


def _not_reused(ctx: Ctx) -> bool:
    return not ctx.answers.get("_reused")


def _never(ctx: Ctx) -> bool:
    return False


# The intake conversation, in the order the owner meets it.
STEPS: dict[Step, StepSpec] = {
    Step.CONSENT: StepSpec(_ask_consent, _answer_consent, reask=_reask_consent),
    Step.REUSE: replace(
        yes_no_step(
            _reuse_summary, texts.REUSE_YES, texts.REUSE_NO, on_yes=_reuse, on_no=lambda ctx: Advance()
        ),
        when=_has_previous,
    ),
    Step.COMPANY_KIND: StepSpec(
        _ask_company_kind,
        _answer_company_kind,
        field="company_name",  # the summary's 会社名・屋号 is edited from here: the kind, then the name
        when=_not_reused,
        then_while_editing=Step.COMPANY,
    ),
    Step.COMPANY: StepSpec(
        _ask_company, _answer_company, field="company_name", when=_not_reused, answered_by="text"
    ),
    Step.CONTACT_NAME: StepSpec(
        _ask_contact_name, _answer_contact_name, field="contact_name", when=_not_reused, answered_by="text"
    ),
    Step.INDUSTRY: replace(
        choice_step("industry", "industries", texts.ASK_INDUSTRY, texts.ASK_INDUSTRY_MORE, texts.NEXT_PAGE),
        when=_not_reused,
    ),
    Step.MUNICIPALITY: StepSpec(
        _ask_municipality,
        _answer_municipality,
        field="municipality",
        when=_not_reused,
        then_while_editing=Step.SLOT,  # a visit's travel and coordinator depend on the place
        answered_by="either",
    ),
    Step.EMPLOYEES: replace(
        choice_step("employees", "employee_bands", texts.ASK_EMPLOYEES), when=_not_reused
    ),
    Step.CATEGORY: replace(
        choice_step(
            "category", "categories", texts.ASK_CATEGORY, texts.ASK_CATEGORY_MORE, texts.NEXT_PAGE_CATEGORY
        ),
        then_while_editing=Step.CATEGORY2,
    ),
    Step.CATEGORY2: replace(
        choice_step(
            "category2",
            "categories",
            texts.ASK_CATEGORY2,
            texts.ASK_CATEGORY2,
            texts.NEXT_PAGE_CATEGORY,
            exclude=lambda ctx: ctx.answers.get("category"),
            none_label=texts.NO_SECOND,
        ),
        then_while_editing=Step.SLOT,  # reached after the category: its coordinator may not take the new one
    ),
    Step.DESCRIPTION: text_step("description", texts.ASK_DESCRIPTION, DESCRIPTION_MAX),
    Step.DX_STAGE: choice_step("dx_stage", "dx_stages", texts.ASK_DX_STAGE),
    Step.METHOD: StepSpec(_METHOD.ask, _answer_method, field="method", then_while_editing=Step.SLOT),
    Step.SLOT: StepSpec(_ask_slot, _answer_slot, field="slot", when=_slot_due),
    Step.CONTACT: StepSpec(_ask_contact, _answer_contact, field="contact", answered_by="text"),
    Step.SUMMARY: StepSpec(_ask_summary, _answer_summary),
    Step.EDIT: StepSpec(_ask_edit, _answer_edit, when=_never),  # reached only from the summary
}
ORDER: list[Step] = list(STEPS)


def next_step(ctx: Ctx, after: Step) -> Step:
    """The step that follows `after`, skipping those that do not apply."""
    for step in ORDER[ORDER.index(after) + 1 :]:
        if STEPS[step].when(Ctx(ctx.desk, ctx.token, step, ctx.answers, ctx.previous, ctx.slots)):
            return step
    return Step.SUMMARY


# How answers read back to the owner
def describe_answer(desk: DeskConfig, answers: dict[str, Any], key: str) -> str:
    """One answer as the owner would read it, or '' when it is not given yet."""
    value = answers.get(key)
    match key:
        case "sole_trader":
            if value is None:
                return ""
            return texts.COMPANY_KIND_SOLE if value else texts.COMPANY_KIND_COMPANY
        case "industry":
            return _label(desk, "industries", value)
        case "municipality":
            m = desk.municipality_by_code.get(value or "")
            return m.name if m else ""
        case "employees":
            return _label(desk, "employee_bands", value)
        case "category":
            second = answers.get("category2")
            extra = texts.SUMMARY_SECOND.format(name=_label(desk, "categories", second)) if second else ""
            return _label(desk, "categories", value) + extra if value else ""
        case "category2":
            return _label(desk, "categories", value)
        case "dx_stage":
            return _label(desk, "dx_stages", value)
        case "method":
            return _label(desk, "methods", value)
        case "contact":
            return " / ".join(v for v in (answers.get("phone"), answers.get("email")) if v)
        case "slot":
            if value:
                return label_slot_range(Slot.from_dict(value))
            return texts.SLOT_LATER_SUMMARY if answers.get("slot_later") else ""
        case _:
            return str(value) if value else ""


def summary_lines(desk: DeskConfig, answers: dict[str, Any], keys: Sequence[str]) -> str:
    """The answers as 「label：value」 lines."""
    labels = {**texts.SUMMARY_LABELS}
    if answers.get("sole_trader"):
        labels["company_name"] = texts.SOLE_TRADER_LABEL
    return "\n".join(f"{labels[k]}：{describe_answer(desk, answers, k) or '—'}" for k in keys)

"""The intake conversation: from 「相談したい」 to a complete consultation request.

The whole flow is the table `STEPS` at the bottom of this file, in the order the owner meets the
questions; docs/intake.md has its diagram. The kinds of step (free text, a choice, yes/no) and what a step
answers are in bot/steps.py, the slot step in bot/slot_step.py, how answers read back in bot/readback.py.
The engine (bot/engine.py) does what is common to every step: commands (戻る, やめる, …), stale buttons,
non-text messages, edit mode, history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from enum import StrEnum

from bot import texts
from bot.messages import Action, OutMessage
from bot.normalize import is_emoji_only, normalize
from bot.places import Ambiguous, Found, NotFound, OutsidePrefecture, resolve_place
from bot.readback import summary_lines
from bot.slot_step import answer_slot, ask_slot, slot_applies, slot_due
from bot.steps import (
    Advance,
    Answer,
    Consented,
    Ctx,
    Decline,
    EditField,
    Result,
    Stay,
    StepSpec,
    Submit,
    choice_step,
    match_label,
    text_step,
    with_current,
    yes_no_step,
)
from bot.validation import COMPANY_MAX, CONTACT_NAME_MAX, DESCRIPTION_MAX, parse_contact

FLOW = "intake"


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
    said = reply.value or match_label(
        reply.text,
        {
            "yes": (texts.CONSENT_YES, "はい", "同意します", "同意", "同意しました"),
            "no": (texts.CONSENT_NO, "いいえ", "同意しません", "同意できません", "しない"),
        },
    )
    if said == "yes":
        ctx.flags["consented"] = ctx.desk.privacy_notice.version
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
    return [OutMessage(with_current(ctx, texts.ASK_COMPANY_KIND, "sole_trader"), actions)]


def _answer_company_kind(ctx: Ctx, reply: Answer) -> Result:
    said = reply.value if reply.value in _KIND_WORDS else match_label(reply.text, _KIND_WORDS)
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
    if reply.value == "same" or (reply.typed and match_label(reply.text, {"same": (texts.SAME_AS_OWNER,)})):
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
    ctx.flags["reused"] = True
    return Advance()


def _ask_municipality(ctx: Ctx, page: int = 0) -> list[OutMessage]:
    areas = tuple(ctx.button(a.label, f"area:{a.id}") for a in ctx.desk.areas)
    return [OutMessage(with_current(ctx, texts.ASK_MUNICIPALITY, "municipality"), areas)]


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


def _answer_method(ctx: Ctx, reply: Answer) -> Result:
    result = _METHOD.answer(ctx, reply)
    if isinstance(result, Advance) and not slot_applies(ctx) and ctx.slots is not None:
        ctx.slots.release()
        ctx.answers.pop("slot", None)
        ctx.answers.pop("slot_later", None)
    return result


def _ask_contact(ctx: Ctx, page: int = 0) -> list[OutMessage]:
    return [OutMessage(with_current(ctx, texts.ASK_CONTACT, "contact"))]


def _answer_contact(ctx: Ctx, reply: Answer) -> Result:
    if reply.value is not None or not reply.text.strip():
        return Stay([OutMessage(texts.CONTACT_MISSING)])
    parsed = parse_contact(reply.text)
    if isinstance(parsed, str):
        return Stay([OutMessage(parsed)])
    ctx.answers["phone"], ctx.answers["email"] = parsed.phone, parsed.email
    return Advance()


def _ask_summary(ctx: Ctx, page: int = 0) -> list[OutMessage]:
    keys = tuple(k for k in texts.SUMMARY_LABELS if k != "slot" or slot_applies(ctx))
    summary = summary_lines(ctx.desk, ctx.answers, keys)
    actions = (ctx.button(texts.SUBMIT, "submit"), ctx.button(texts.EDIT, "edit"))
    return [OutMessage(texts.SUMMARY.format(summary=summary), actions)]


def _answer_summary(ctx: Ctx, reply: Answer) -> Result:
    said = reply.value or match_label(
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
        if spec.field and spec.field in texts.EDIT_LABELS and (step != Step.SLOT or slot_applies(ctx)):
            by_field.setdefault(spec.field, Step(step))
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
    if reply.value == "summary" or (reply.typed and match_label(reply.text, {"s": (texts.BACK_TO_SUMMARY,)})):
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
    return bool(ctx.previous) and not ctx.flags.get("reused")


def _not_reused(ctx: Ctx) -> bool:
    return not ctx.flags.get("reused")


def _never(ctx: Ctx) -> bool:
    return False


# The intake conversation, in the order the owner meets it.
STEPS: dict[str, StepSpec] = {
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
    Step.SLOT: StepSpec(ask_slot, answer_slot, field="slot", when=slot_due),
    Step.CONTACT: StepSpec(_ask_contact, _answer_contact, field="contact", answered_by="text"),
    Step.SUMMARY: StepSpec(_ask_summary, _answer_summary),
    Step.EDIT: StepSpec(_ask_edit, _answer_edit, when=_never),  # reached only from the summary
}
ORDER: list[Step] = [Step(name) for name in STEPS]


def next_step(ctx: Ctx, after: Step) -> Step:
    """The step that follows `after`, skipping those that do not apply."""
    for step in ORDER[ORDER.index(after) + 1 :]:
        if STEPS[step].when(replace(ctx, step=step)):
            return step
    return Step.SUMMARY

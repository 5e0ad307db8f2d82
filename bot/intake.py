"""The intake conversation: from 「相談したい」 to a complete consultation request.

The whole flow is the table `STEPS` at the bottom of this file, in the order the owner meets the
questions: built from the field registry (bot/fields.py), a plain field's step from its kind
(bot/field_steps.py), the others declared here; docs/intake.md has its diagram. The kinds of step (free
text, a choice, yes/no) and what a step answers are in bot/steps.py, the place step in bot/place_step.py,
the slot step in bot/slot_step.py, how answers read back in bot/readback.py.
The engine (bot/engine.py) does what is common to every step: commands (戻る, やめる, …), stale buttons,
non-text messages, edit mode, history.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from enum import StrEnum

from bot import texts
from bot.field_kinds import Meeting
from bot.field_steps import step_for
from bot.fields import FIELDS, label
from bot.messages import Action, OutMessage
from bot.normalize import normalize
from bot.place_step import answer_municipality, ask_municipality
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
    match_label,
    text_step,
    with_current,
    yes_no_step,
)
from bot.validation import CONTACT_NAME_MAX, parse_contact

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


def _reuse_summary(ctx: Ctx) -> str:
    previous = ctx.previous or {}
    shown = tuple(f.key for f in FIELDS.reusable() if f.summary)
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


_OWNER_NAME = text_step("company_name", texts.ASK_OWNER_NAME, CONTACT_NAME_MAX)


def _name_step(ctx: Ctx) -> StepSpec:
    if ctx.answers.get("sole_trader"):
        return _OWNER_NAME
    return text_step("company_name", texts.ASK_COMPANY, FIELDS["company_name"].limit or 0)


def _ask_company(ctx: Ctx, page: int = 0) -> list[OutMessage]:
    return _name_step(ctx).ask(ctx, page)


def _answer_company(ctx: Ctx, reply: Answer) -> Result:
    return _name_step(ctx).answer(ctx, reply)


_CONTACT_NAME = text_step("contact_name", texts.ASK_CONTACT_NAME, FIELDS["contact_name"].limit or 0)
_CONTACT_NAME_SOLE = text_step("contact_name", texts.ASK_CONTACT_NAME_SOLE, FIELDS["contact_name"].limit or 0)


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
    ctx.answers.update(ctx.previous or {})  # the reusable fields' answers (bot/submission.previous_answers)
    ctx.flags["reused"] = True
    return Advance()


def _method() -> StepSpec:
    return step_for(FIELDS["method"])


def _ask_method(ctx: Ctx, page: int = 0) -> list[OutMessage]:
    return _method().ask(ctx, page)


def _answer_method(ctx: Ctx, reply: Answer) -> Result:
    result = _method().answer(ctx, reply)
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
    summary = summary_lines(ctx.desk, ctx.answers, summary_keys(ctx))
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


def summary_keys(ctx: Ctx) -> tuple[str, ...]:
    """The fields the summary reads back (a meeting's time only when the owner wants to meet)."""
    return tuple(f.key for f in FIELDS.summary() if not isinstance(f.kind, Meeting) or slot_applies(ctx))


def _editable(ctx: Ctx) -> list[tuple[str, str]]:
    by_field: dict[str, str] = {}
    for step, spec in STEPS.items():
        if spec.field and (step != Step.SLOT or slot_applies(ctx)):
            by_field.setdefault(spec.field, step)
    return [
        (label(f, ctx.answers, edit=True), by_field[f.key]) for f in FIELDS.summary() if f.key in by_field
    ]


def _ask_edit(ctx: Ctx, page: int = 0) -> list[OutMessage]:
    """The answers to change as buttons, paged when there are more than fit beside 確認画面に戻る."""
    items = [ctx.button(label, f"step:{step}") for label, step in _editable(ctx)]
    alone = ctx.buttons - 1  # beside 確認画面に戻る; with pages, 前へ and 次へ too
    room = alone if len(items) <= alone else max(alone - 2, 1)
    pages = [items[i : i + room] for i in range(0, len(items), room)] or [[]]
    page = max(0, min(page, len(pages) - 1))
    actions = [*pages[page], ctx.button(texts.BACK_TO_SUMMARY, "summary")]
    if page > 0:
        actions.append(ctx.button(texts.PREV_PAGE, f"page:{page - 1}"))
    if page < len(pages) - 1:
        actions.append(ctx.button(texts.EDIT_MORE, f"page:{page + 1}"))
    return [OutMessage(texts.ASK_EDIT_FIELD, tuple(actions))]


def _answer_edit(ctx: Ctx, reply: Answer) -> Result:
    fields = _editable(ctx)
    if reply.value == "summary" or (reply.typed and match_label(reply.text, {"s": (texts.BACK_TO_SUMMARY,)})):
        return EditField(Step.SUMMARY)
    if reply.value and reply.value.startswith("page:"):
        return Stay(_ask_edit(ctx, int(reply.value.removeprefix("page:") or 0)))
    if reply.value and reply.value.startswith("step:"):
        target = next((step for _, step in fields if f"step:{step}" == reply.value), None)
        if target:
            return EditField(target)
    if reply.typed:
        target = next((step for label, step in fields if normalize(label) == normalize(reply.text)), None)
        if target:
            return EditField(target)
    return Stay([OutMessage(texts.CHOOSE_FROM_BUTTONS), *_ask_edit(ctx)])


def _has_previous(ctx: Ctx) -> bool:
    return bool(ctx.previous) and not ctx.flags.get("reused")


def _not_reused(ctx: Ctx) -> bool:
    return not ctx.flags.get("reused")


def _never(ctx: Ctx) -> bool:
    return False


# The steps of the fields that need logic of their own, by field key; every other field's step is built
# from its kind (bot/field_steps.py).
def _own_steps() -> dict[str, dict[str, StepSpec]]:
    return {
        "sole_trader": {
            Step.COMPANY_KIND: StepSpec(
                _ask_company_kind,
                _answer_company_kind,
                field="company_name",  # the summary's 会社名・屋号 is edited from here: the kind, then the name
                when=_not_reused,
                then_while_editing=Step.COMPANY,
            )
        },
        "company_name": {
            Step.COMPANY: StepSpec(
                _ask_company, _answer_company, field="company_name", when=_not_reused, answered_by="text"
            )
        },
        "contact_name": {
            Step.CONTACT_NAME: StepSpec(
                _ask_contact_name,
                _answer_contact_name,
                field="contact_name",
                when=_not_reused,
                answered_by="text",
            )
        },
        "municipality": {
            Step.MUNICIPALITY: StepSpec(
                ask_municipality,
                answer_municipality,
                field="municipality",
                when=_not_reused,
                then_while_editing=Step.SLOT,  # a visit's travel and coordinator depend on the place
                answered_by="either",
            )
        },
        "method": {
            Step.METHOD: StepSpec(
                _ask_method,
                _answer_method,
                field="method",
                then_while_editing=Step.SLOT,
            )
        },
        "slot": {Step.SLOT: StepSpec(ask_slot, answer_slot, field="slot", when=slot_due)},
        "contact": {
            Step.CONTACT: StepSpec(_ask_contact, _answer_contact, field="contact", answered_by="text")
        },
    }


# A step that must follow a plain field's even when editing it.
_FOLLOWS: dict[str, str] = {
    Step.CATEGORY: Step.CATEGORY2,
    Step.CATEGORY2: Step.SLOT,  # reached after the category: its coordinator may not take the new one
}


def build_steps() -> dict[str, StepSpec]:
    """The intake conversation, in the order the owner meets it."""
    steps: dict[str, StepSpec] = {
        Step.CONSENT: StepSpec(_ask_consent, _answer_consent, reask=_reask_consent),
        Step.REUSE: replace(
            yes_no_step(
                _reuse_summary, texts.REUSE_YES, texts.REUSE_NO, on_yes=_reuse, on_no=lambda ctx: Advance()
            ),
            when=_has_previous,
        ),
    }
    own = _own_steps()
    for f in FIELDS:
        if f.key in own:
            steps.update(own[f.key])
            continue
        spec = step_for(f)
        if f.reusable:
            spec = replace(spec, when=_not_reused)
        if f.key in _FOLLOWS:
            spec = replace(spec, then_while_editing=_FOLLOWS[f.key])
        steps[f.key] = spec
    steps[Step.SUMMARY] = StepSpec(_ask_summary, _answer_summary)
    steps[Step.EDIT] = StepSpec(_ask_edit, _answer_edit, when=_never)  # reached only from the summary
    return steps


class _Steps(Mapping[str, StepSpec]):
    """The intake's steps, built again when the field registry changes (a test adds a question)."""

    def __init__(self) -> None:
        self._built: dict[str, StepSpec] = {}
        self._version = -1

    def _table(self) -> dict[str, StepSpec]:
        if self._version != FIELDS.version:
            self._built, self._version = build_steps(), FIELDS.version
        return self._built

    def __getitem__(self, step: str) -> StepSpec:
        return self._table()[step]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())


STEPS: Mapping[str, StepSpec] = _Steps()


def next_step(ctx: Ctx, after: str) -> str:
    """The step that follows `after`, skipping those that do not apply."""
    order = list(STEPS)
    for step in order[order.index(after) + 1 :]:
        if STEPS[step].when(replace(ctx, step=step)):
            return step
    return Step.SUMMARY

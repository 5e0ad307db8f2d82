"""The kinds of step a conversation is made of, and what a step sees and answers.

A step has an `ask` (the question and its buttons) and an `answer` (validate, store, and say what to do
next: one of the results below). The kinds shared by every flow are here: free text with a limit, one of
the desk's choices (paged), and a yes/no question. The intake's own steps are in bot/intake.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from bot import texts
from bot.messages import Action, Button, Inbound, OutMessage
from bot.normalize import clean_text, is_emoji_only, match_choice, normalize
from bot.postback import encode
from bot.readback import choices_of, describe_answer
from bot.sending import Capacity
from bot.slots import SlotBook
from bot.validation import check_text
from config import Choice, DeskConfig

if TYPE_CHECKING:
    from bot.bookings import OwnerBookings
    from bot.surveys import SurveyBook

PAGE_BUTTONS = 2  # a page of choices keeps room for 前へ and 次へ among the channel's buttons


@dataclass
class Ctx:
    """What a step sees: the desk, the answers so far, the flow's flags and how to label its buttons."""

    desk: DeskConfig
    token: str
    step: str  # the step's name in its flow
    answers: dict[str, Any]
    previous: dict[str, Any] | None = None  # the owner's last consultation, for reuse
    slots: SlotBook | None = None  # coordinators' free times and holds, for meetings
    flags: dict[str, Any] = field(default_factory=dict)  # the flow's control flags (no personal data)
    bookings: OwnerBookings | None = None  # the owner's requests and bookings (予約確認)
    buttons: int = Capacity().buttons  # how many buttons one message shows on the owner's channel
    surveys: SurveyBook | None = None  # the owner's satisfaction surveys (bot/survey_flow.py)

    def button(self, label: str, value: str, step: str | None = None) -> Button:
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

    step: str  # the step's name in its flow


@dataclass
class Submit:
    """Store the consultation."""


@dataclass
class Goto:
    """Go to another step of the flow (remembered for 戻る), saying `replies` before its question."""

    step: str
    replies: list[OutMessage] = field(default_factory=list)


@dataclass
class Back:
    """Go back one question (戻る)."""


@dataclass
class Return:
    """Leave a confirmation (やめる?, 続きから?) for the question it interrupted, asked again."""

    replies: list[OutMessage] = field(default_factory=list)


@dataclass
class Restart:
    """Start the flow over from its first step, keeping only its lasting flags (consent)."""

    replies: list[OutMessage] = field(default_factory=list)


@dataclass
class Forget:
    """End the flow and delete what the owner typed in it, then say `text`."""

    text: str


@dataclass
class Finish:
    """The flow is done: back to the flow it interrupted (its question asked again), or to no flow."""

    replies: list[OutMessage] = field(default_factory=list)


@dataclass
class Enter:
    """Start another flow (予約確認 from anywhere); one that keeps the place parks the current one."""

    flow: str
    replies: list[OutMessage] = field(default_factory=list)


Result = (
    Advance
    | Stay
    | Consented
    | Decline
    | EditField
    | Submit
    | Goto
    | Back
    | Return
    | Restart
    | Forget
    | Finish
    | Enter
)


@dataclass(frozen=True)
class Answer:
    """An inbound message as a step sees it: typed text, or the value of one of its own buttons."""

    text: str = ""
    value: str | None = None
    inbound: Inbound | None = None

    @property
    def typed(self) -> bool:
        return self.value is None


def _paged(
    ctx: Ctx,
    choices: Sequence[Choice],
    page: int,
    more_label: str,
    exclude: str | None = None,
    extra: Sequence[Action] = (),
) -> tuple[Action, ...]:
    items = [c for c in choices if c.id != exclude]
    room = max(ctx.buttons - PAGE_BUTTONS - len(extra), 1)
    pages = [items[i : i + room] for i in range(0, len(items), room)] or [[]]
    page = max(0, min(page, len(pages) - 1))
    actions: list[Action] = [*extra, *(ctx.button(c.label, f"id:{c.id}") for c in pages[page])]
    if page > 0:
        actions.append(ctx.button(texts.PREV_PAGE, f"page:{page - 1}"))
    if page < len(pages) - 1:
        actions.append(ctx.button(more_label, f"page:{page + 1}"))
    return tuple(actions)


def with_current(ctx: Ctx, text: str, field_name: str) -> str:
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
    then_while_editing: str | None = None  # a step that must follow this one even when editing
    answered_by: AnsweredBy = "buttons"  # typed text, a button, or either (what to ask for after a sticker)
    # The question again after an answer it could not use, led by `notice` (default: notice, then the question).
    reask: Callable[[Ctx, str], list[OutMessage]] | None = None
    takes_commands: bool = True  # False: a confirmation, which takes やめる and 最初から as its answers
    own_words: frozenset[str] = frozenset()  # typed texts (normalized) the step answers before the commands

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
        return [OutMessage(with_current(ctx, prompt.format(limit=f"{limit:,}"), field_name))]

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
        actions = _paged(ctx, choices_of(ctx.desk, kind), page, more_label, exclude(ctx), extra)
        text = more_prompt if page and more_prompt else prompt
        return [OutMessage(with_current(ctx, text, field_name), actions)]

    def answer(ctx: Ctx, reply: Answer) -> Result:
        options = [c for c in choices_of(ctx.desk, kind) if c.id != exclude(ctx)]
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
        said = reply.value or match_label(reply.text, {"yes": (yes, "はい", "同意"), "no": (no, "いいえ")})
        if said == "yes":
            return on_yes(ctx)
        if said == "no":
            return on_no(ctx)
        return Stay([OutMessage(texts.CHOOSE_FROM_BUTTONS), *ask(ctx, 0)])

    return StepSpec(ask, answer)


def match_label(text: str, options: dict[str, Sequence[str]]) -> str | None:
    said = normalize(text)
    for value, labels in options.items():
        if said and any(said == normalize(label) for label in labels):
            return value
    return None

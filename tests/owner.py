"""One scripted owner for every test walk-through of the intake.

The owner answers whatever question the bot is asking now, from one table of default answers keyed by step.
It recognises the step from the replies: a button's postback data is `<token>|<step>|<value>` (bot/postback.py);
a free-text question with no buttons is recognised by its text (bot/texts.py). A test says
`owner.walk_to(Step.SLOT, method="オンライン（Zoom等）", municipality="鹿屋")`. A question of the field registry
(bot/fields.py) that the table does not know is answered by its field's kind (a text's sample, a choice's first
button) and recognised by its prompt, so a question added to the registry needs no change here; a question moved
needs none either. Only a question with a step of its own needs a row in `ANSWERS` (and, without buttons, in
`TYPED_QUESTIONS`; for the terminal, which shows no postback data, in `ASKED_AS`).

The same script drives any channel through a small adapter that can say a text, tap a button by its label and
show the replies of the last turn: the engine's chat driver (tests/bot/chat.py `Chat.shown`), the LINE stand-in
user (`LineChannel`), the simulator's phone (tests/web/test_simulator.py `Phone.shown`) and the terminal chat
(`TerminalChannel`, which asks for each line, so the owner's `moves` are drawn one by one).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot import texts
from bot.field_kinds import Text
from bot.fields import FIELDS
from bot.intake import STEPS as INTAKE_STEPS
from bot.intake import Step
from bot.postback import decode

START = "相談したい"  # what an owner types to begin
FIRST = object()  # an answer that taps the first button the question offers, whatever its label


@dataclass(frozen=True)
class Shown:
    """What the owner sees after the last turn: the reply texts and the buttons (label, postback data)."""

    texts: tuple[str, ...]
    buttons: tuple[tuple[str, str], ...]
    data_shown: bool = (
        True  # False where the channel shows no postback data (the terminal's numbered buttons)
    )


class Conversant(Protocol):
    """A channel as the owner uses it."""

    def say(self, text: str) -> object: ...

    def tap(self, label: str) -> object: ...

    def shown(self) -> Shown: ...


# The default answer to each question, in the order the intake asks them. A string is a button's label (tapped
# when the question shows it, typed otherwise) or a text to type; FIRST taps the first button.
ANSWERS: dict[str, Any] = {
    Step.CONSENT: texts.CONSENT_YES,
    Step.REUSE: texts.REUSE_NO,
    Step.COMPANY_KIND: texts.COMPANY_KIND_COMPANY,
    Step.COMPANY: "さつま商店",
    Step.CONTACT_NAME: "薩摩 花子",
    Step.INDUSTRY: "製造業",
    Step.MUNICIPALITY: "霧島市",
    Step.EMPLOYEES: "1〜5人",
    Step.CATEGORY: FIRST,
    Step.CATEGORY2: "特になし",
    Step.DESCRIPTION: "受発注をデジタル化したい",
    Step.DX_STAGE: "検討中",
    Step.METHOD: "オンライン（Zoom等）",
    Step.SLOT: FIRST,
    Step.CONTACT: "0991234567",
    Step.SUMMARY: texts.SUBMIT,
}

# How a question without buttons is recognised: the start of its text.
TYPED_QUESTIONS: dict[str, tuple[str, ...]] = {
    Step.COMPANY: (texts.ASK_COMPANY, texts.ASK_OWNER_NAME),
    Step.CONTACT_NAME: (texts.ASK_CONTACT_NAME, texts.ASK_CONTACT_NAME_SOLE),
    Step.DESCRIPTION: (texts.ASK_DESCRIPTION.split("{")[0],),
    Step.CONTACT: (texts.ASK_CONTACT,),
}

# Where the channel shows no postback data (the terminal), every question is recognised by its text.
ASKED_AS: dict[str, tuple[str, ...]] = {
    **TYPED_QUESTIONS,
    Step.CONSENT: (texts.CONSENT.split("{")[0],),
    Step.REUSE: (texts.REUSE.split("{")[0],),
    Step.COMPANY_KIND: (texts.ASK_COMPANY_KIND,),
    Step.INDUSTRY: (texts.ASK_INDUSTRY, texts.ASK_INDUSTRY_MORE),
    Step.MUNICIPALITY: (texts.ASK_MUNICIPALITY,),
    Step.EMPLOYEES: (texts.ASK_EMPLOYEES,),
    Step.CATEGORY: (texts.ASK_CATEGORY, texts.ASK_CATEGORY_MORE),
    Step.CATEGORY2: (texts.ASK_CATEGORY2,),
    Step.DX_STAGE: (texts.ASK_DX_STAGE,),
    Step.METHOD: (texts.ASK_METHOD,),
    Step.SLOT: (texts.ASK_SLOT.split("{")[0], texts.ASK_SLOT_WHOLE_DAY),
    Step.SUMMARY: (texts.SUMMARY.split("{")[0],),
}


class _Steps:
    """The intake's step names, read from the flow each time (a test may add a question to the registry)."""

    def __contains__(self, step: object) -> bool:
        return step in INTAKE_STEPS

    def __getitem__(self, step: str) -> str:
        return next(s for s in INTAKE_STEPS if s == step)

    def __iter__(self) -> Iterator[str]:
        return iter(INTAKE_STEPS)


STEPS = _Steps()


def _field_questions(*, typed_only: bool) -> dict[str, tuple[str, ...]]:
    """The questions of registry fields whose step is built from the field, by the start of their prompt."""
    return {
        f.key: (f.prompt.split("{")[0],)
        for f in FIELDS
        if f.prompt and f.key in INTAKE_STEPS and (type(f.kind) is Text or not typed_only)
    }


def typed_questions() -> dict[str, tuple[str, ...]]:
    return {**_field_questions(typed_only=True), **TYPED_QUESTIONS}


def asked_as() -> dict[str, tuple[str, ...]]:
    return {**_field_questions(typed_only=False), **ASKED_AS}


def by_kind(step: str) -> Any:
    """The answer to a registry question the table does not know, from its field's kind."""
    field = FIELDS.get(step)
    if field is None or step in ANSWERS or step not in INTAKE_STEPS:
        return None
    return FIRST if field.kind.sample is None else field.kind.sample


def current_step(shown: Shown) -> str | None:
    """The question the bot is asking now, or None when the replies ask none this script knows."""
    for _, data in reversed(shown.buttons):
        postback = decode(data)
        if postback is not None and postback.step in STEPS:
            return STEPS[postback.step]
    if not shown.data_shown:  # the question printed last
        screen = "\n" + "\n".join(shown.texts)
        where = {
            step: max(screen.rfind("\n" + start) for start in starts) for step, starts in asked_as().items()
        }
        last = max(where, key=lambda step: where[step])
        return last if where[last] >= 0 else None
    for text in reversed(shown.texts):
        for step, starts in typed_questions().items():
            if any(text.startswith(start) for start in starts):
                return step
    return None


class NoAnswer(AssertionError):
    """The owner met a question the script has no answer for, or could not get past one."""


@dataclass
class Owner:
    """A scripted owner talking through one channel."""

    channel: Conversant
    answers: Mapping[str, Any] = field(default_factory=lambda: dict(ANSWERS))
    started: bool = False
    path: list[str] = field(default_factory=list)  # the questions met, in order (a re-ask counts once)

    def step(self) -> str | None:
        return current_step(self.channel.shown())

    def move(self, step: str, value: Any) -> tuple[str, str]:
        """How `value` answers the question of `step`: ("tap", a button's label) or ("say", a text)."""
        labels = [label for label, _ in self.channel.shown().buttons]
        if value is FIRST:
            if not labels:
                raise NoAnswer(f"step {step}: the script taps the first button, but there is none")
            return "tap", labels[0]
        if value in labels:
            return "tap", value
        return "say", str(value)

    def walk_to(self, target: str, **overrides: Any) -> None:
        """Answers every question (from the table, or `overrides` keyed by step name) until `target` is asked."""
        self.answer_until(target, **overrides)

    def answer_until(self, target: str | None, **overrides: Any) -> None:
        """Like walk_to; with target None, answers until the bot asks nothing this script knows (submitted)."""
        for kind, text in self.moves(target, **overrides):
            self.channel.tap(text) if kind == "tap" else self.channel.say(text)

    def moves(self, target: str | None, **overrides: Any) -> Iterator[tuple[str, str]]:
        """The owner's moves up to `target`, each decided from what the channel shows when it is asked for
        (for a channel that asks the owner, like the terminal, rather than being told)."""
        unknown = {k for k in overrides if k not in STEPS}
        assert not unknown, f"no such step: {sorted(unknown)}"
        script: dict[str, Any] = {**self.answers, **{STEPS[k]: v for k, v in overrides.items()}}
        if not self.started and self.step() is None:
            yield "say", START
        self.started = True
        tries: dict[str, int] = {}
        answered: str | None = None
        for _ in range(60):
            shown = self.channel.shown()
            step = current_step(shown)
            if step is not None and (not self.path or self.path[-1] != step):
                self.path.append(step)
            if step == target:
                return
            if step is None:
                if target is None:
                    return
                if answered is not None:  # an error with no question again (a typed answer refused)
                    raise NoAnswer(
                        f"step {answered}: the answer {script[answered]!r} did not move on: {shown.texts}"
                    )
                raise NoAnswer(
                    f"waiting for step {target}, the bot asks nothing the script knows: {shown.texts}"
                )
            if step not in script and by_kind(step) is not None:
                script[step] = by_kind(step)
            if step not in script:
                raise NoAnswer(f"the scripted owner has no answer for step {step}: {shown.texts}")
            tries[step] = tries.get(step, 0) + 1
            if tries[step] > 3:
                raise NoAnswer(f"step {step}: the answer {script[step]!r} did not move on: {shown.texts}")
            yield self.move(step, script[step])
            answered = step
        raise NoAnswer(f"step {target} was not reached")


# Adapters
@dataclass
class LineChannel:
    """The LINE stand-in user (tests/line/conftest.py LineUser) as the owner uses it."""

    user: Any  # LineUser; typed loosely so that tests/ modules need not import each other's conftest
    last: Any = None  # the Delivery of the last turn

    def say(self, text: str) -> object:
        self.last = self.user.say(text)
        return self.last

    def tap(self, label: str) -> object:
        self.last = self.user.tap(self.last, label)
        return self.last

    def shown(self) -> Shown:
        if self.last is None:
            return Shown((), ())
        messages = self.last.messages
        actions = [item["action"] for m in messages for item in (m.get("quickReply") or {}).get("items", [])]
        return Shown(
            tuple(m.get("text", "") for m in messages),
            tuple((a["label"], a.get("data", "")) for a in actions if "label" in a),
        )


class TerminalChannel:
    """`madoguchi chat` (handlers/terminal_chat.py) as the owner uses it. The terminal asks for each line, so
    the owner's moves are drawn one by one (`lines`), each decided from the screen printed since the last;
    a button is typed as its number."""

    BUTTON = re.compile(r"^  \[(\d+)\] (.*)$", re.MULTILINE)

    def __init__(self) -> None:
        self.screen = ""  # what the terminal printed since the owner's last line

    def shown(self) -> Shown:
        buttons = tuple((m[2], "") for m in self.BUTTON.finditer(self.screen))
        return Shown((self.screen,), buttons, data_shown=False)

    def lines(self, owner: Owner, target: str | None, **overrides: Any) -> Iterator[str]:
        for kind, text in owner.moves(target, **overrides):
            if kind == "say":
                yield text
                continue
            found = [m[1] for m in self.BUTTON.finditer(self.screen) if m[2] == text]
            assert found, f"no button {text!r} in:\n{self.screen}"
            yield found[-1]

    def say(self, text: str) -> object:
        raise AssertionError("the terminal asks for each line: draw them from TerminalChannel.lines")

    tap = say

"""What a flow is (a value: its steps, the words that enter it, its ending), where a contact stands in one
(a plain state, loaded once per turn and saved once), and moving between a flow's steps.

The engine (bot/engine.py) runs whichever flow the state names; the flows are in bot/flows.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from bot.messages import OutMessage
from bot.steps import Ctx, Result, StepSpec
from storage.models import Conversation

# Flags that outlive a restart (最初から): the consent given in this conversation.
LASTING_FLAGS = ("consented",)
# The control flags older versions kept inside the answers, under these keys.
LEGACY_FLAGS = {"_consented": "consented", "_reused": "reused", "_offered": "offered", "_methods": "methods"}


@dataclass(frozen=True)
class Flow:
    """One conversation the owner can have with the desk."""

    name: str
    steps: Mapping[str, StepSpec]  # in the order the owner meets them
    first: str  # the step it starts at
    last: str  # where it goes when no step is left to ask (the intake: its summary)
    entry_command: str = ""  # the command (bot/commands.py) that enters it from anywhere
    entry_words: tuple[str, ...] = ()  # words that, inside a message of an owner in no flow, enter it
    ending: str = "finish"  # what a Submit does: "submit" stores the consultation, "finish" leaves
    keeps_place: bool = False  # entered in the middle of another flow, it parks that one and returns to it
    resumable: bool = False  # after a day of silence, asks whether to go on or start over
    no_resume_at: tuple[str, ...] = ()  # steps where silence needs no such question (the notice itself)
    back_skips: tuple[str, ...] = ()  # steps 戻る does not return to
    # How the flow begins: the step to ask first (e.g. past the notice when consent is on file), or a
    # result instead (予約確認 with nothing booked: a Finish that says so).
    begin: Callable[[Ctx], str | Result] | None = None
    # What the commands mean in this flow where it differs from everywhere (None: as everywhere).
    on_command: Callable[[str, Ctx, list[OutMessage]], Result | None] | None = None
    closing: str = ""  # said when the flow finishes with nothing else to say
    welcome_back: str = ""  # said when the owner comes back to it from a flow that parked it

    def spec(self, step: str) -> StepSpec | None:
        return self.steps.get(step)

    def next_step(self, ctx: Ctx, after: str) -> str:
        """The step that follows `after`, skipping those that do not apply."""
        order = list(self.steps)
        start = order.index(after) + 1 if after in order else len(order)
        for step in order[start:]:
            if self.steps[step].when(replace(ctx, step=step)):
                return step
        return self.last


@dataclass
class ConversationState:
    """Where one contact stands: a plain copy of their Conversation row, changed during a turn and saved once."""

    flow: str
    step: str
    token: str
    answers: dict[str, Any] = field(default_factory=dict)
    flags: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    editing: bool = False
    started_at: datetime | None = None
    updated_at: datetime | None = None
    log_from_id: int | None = None
    ended: bool = False  # the conversation is over (submitted, finished, forgotten): its row goes
    removed: bool = False  # its row is gone already (forgetting it deleted it)

    @classmethod
    def new(cls, flow: Flow, *, now: datetime, log_from_id: int | None) -> ConversationState:
        return cls(
            flow.name,
            flow.first,
            secrets.token_hex(4),
            started_at=now,
            updated_at=now,
            log_from_id=log_from_id,
        )

    @classmethod
    def load(cls, row: Conversation) -> ConversationState:
        """The state of a stored conversation; rows of older versions (flags inside the answers, a
        confirmation in `pending`) read as today's."""
        answers = dict(row.answers or {})
        flags = dict(row.flags or {})
        for old, new in LEGACY_FLAGS.items():
            if old in answers:
                flags.setdefault(new, answers.pop(old))
        step = row.step
        if row.pending in ("cancel", "resume"):  # the confirmation was an overlay on the step
            flags.setdefault("return_to", step)
            step = row.pending
        return cls(
            row.flow,
            step,
            row.token,
            answers,
            flags,
            list(row.history or []),
            bool(row.editing),
            row.started_at,
            row.updated_at,
            row.log_from_id,
        )

    def save(self, row: Conversation | None, contact_id: int) -> Conversation:
        """Writes the state into its row (a new one when there is none): the turn's one write."""
        if row is None:
            row = Conversation(contact_id=contact_id)
        row.flow, row.step, row.token = self.flow, self.step, self.token
        row.answers = dict(self.answers)  # new objects, so that the change is seen and saved
        row.flags = dict(self.flags)
        row.history = list(self.history)
        row.editing = self.editing
        row.pending = None
        row.log_from_id = self.log_from_id
        if self.started_at is not None:
            row.started_at = self.started_at
        if self.updated_at is not None:
            row.updated_at = self.updated_at
        return row

    # Moving between steps
    def go(self, target: str, *, editing: bool = False, remember: bool = True) -> None:
        """Moves to `target`, remembering the step left for 戻る."""
        if remember and self.step != target:
            self.history = [*self.history, self.step]
        self.step = target
        self.editing = editing

    def back(self, skips: Sequence[str]) -> str | None:
        """Moves one question back (the steps in `skips` passed over); None when there is none."""
        history = [s for s in self.history if s not in skips]
        if not history:
            return None
        self.history = history[:-1]
        self.step, self.editing = history[-1], False
        return self.step

    def interrupt(self, confirmation: str) -> None:
        """Asks a confirmation (やめる? 続きから?) over the current question, which it returns to."""
        if "return_to" not in self.flags:
            self.flags["return_to"] = self.step
        self.step = confirmation

    def resume(self) -> None:
        """Back from a confirmation to the question it interrupted."""
        self.step = self.flags.pop("return_to", self.step)

    def restart(self, flow: Flow) -> None:
        """Back to the flow's start: the answers and the history go, the lasting flags stay."""
        self.answers.clear()
        self.flags = {k: v for k, v in self.flags.items() if k in LASTING_FLAGS or k == "parked"}
        self.history, self.editing, self.step = [], False, flow.first

    # Flows inside flows
    def park(self, into: Flow) -> None:
        """Enters `into`, keeping the current flow's place to return to (its answers stay where they are)."""
        parked = {"flow": self.flow, "step": self.step, "history": self.history, "editing": self.editing}
        parked["flags"] = {k: v for k, v in self.flags.items() if k != "parked"}
        self.flow, self.step, self.history, self.editing = into.name, into.first, [], False
        self.flags = {"parked": parked}

    def enter(self, into: Flow) -> None:
        """Enters `into` in place of the current flow (nothing to come back to)."""
        self.flow, self.step, self.history, self.editing = into.name, into.first, [], False
        self.answers.clear()
        self.flags = {}

    def unpark(self) -> bool:
        """Back to the flow that was parked, where it was; False when none was."""
        parked = self.flags.get("parked")
        if not parked:
            return False
        self.flow, self.step = parked["flow"], parked["step"]
        self.history, self.editing = list(parked["history"]), bool(parked["editing"])
        self.flags = dict(parked["flags"])
        return True

    @property
    def parked_flow(self) -> str | None:
        parked = self.flags.get("parked")
        return str(parked["flow"]) if parked else None


def ask(flow: Flow, ctx: Ctx) -> list[OutMessage]:
    """The question of the step the context is at."""
    spec = flow.spec(ctx.step)
    return spec.ask(ctx, 0) if spec is not None else []
